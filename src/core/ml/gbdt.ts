/**
 * Histogram-based gradient-boosted decision trees for binary classification (logistic loss), in
 * the manner of LightGBM and scikit-learn's HistGradientBoostingClassifier, checked against the
 * latter on shared fixtures (test/core/ml/gbdt.test.ts, test/fixtures/gbdt/make.py).
 *
 * Sources:
 * - J. H. Friedman, "Greedy function approximation: a gradient boosting machine", Annals of
 *   Statistics 29(5), 2001: boosting as gradient descent in function space; with second-order
 *   (Newton) steps each leaf's value is -G / (H + λ), G and H the sums of the loss's first and
 *   second derivatives over the leaf's rows (the L2 term λ as in Chen & Guestrin, XGBoost, 2016).
 * - G. Ke et al., "LightGBM: a highly efficient gradient boosting decision tree", NeurIPS 2017:
 *   features binned once into at most 255 quantile bins, split finding over per-node histograms
 *   of (G, H, count), a child's histogram as its parent's minus its sibling's (only the smaller
 *   child is built from rows), and leaf-wise (best-first) growth up to a number of leaves.
 * - Split gain (XGBoost eq. 7 without its ½ and γ, as scikit-learn computes it):
 *     gain = G_L²/(H_L + λ) + G_R²/(H_R + λ) - G²/(H + λ)
 *   a split is taken only when gain > 0 and both sides hold >= minSamplesLeaf rows and a hessian
 *   sum >= minHessian.
 * - Missing values (NaN) get their own bin; each split tries them on both sides and keeps the
 *   better (LightGBM's and scikit-learn's learned default direction). A feature with no NaN in
 *   training sends NaN to the child that had more rows.
 * - Bin edges as scikit-learn's `_find_binning_thresholds`: with at most maxBins distinct values,
 *   the midpoints between consecutive ones; otherwise the 'midpoint' percentiles at
 *   100·k/maxBins, k = 1..maxBins-1, over a seeded sample of at most `binSample` rows. A value x
 *   falls in the first bin whose edge e has x <= e.
 *
 * The model stores raw thresholds (x <= threshold goes left), so scoring needs no bins. It is
 * deterministic given the data and `seed` (the seed draws the bin sample and, when enabled, the
 * row and feature subsamples). Memory for n rows × d features, besides X: 2·n·s bytes of bins
 * (s = d rounded up to a multiple of 4; the rows and a scratch for partitions), 8·n of scores,
 * 16·n of gradients and hessians (float32, with their scratch), 8·n of row indices, and one
 * 256·3·8·d-byte histogram per open leaf: about 90 MB for 10^6 × 25 (measured peak RSS of
 * bench/train.ts, data included: under 300 MB).
 */
import { seededRng, type Rng } from '../kernel/rng.js';

/** Training parameters; every one has a default (`DEFAULT_GBDT_PARAMS`). */
export interface GbdtParams {
  /** Boosting rounds (trees). */
  rounds: number;
  /** Shrinkage applied to every leaf value. */
  learningRate: number;
  /** Leaves per tree (leaf-wise growth stops there); >= 2. */
  maxLeaves: number;
  /** Edges from the root to the deepest leaf; 0 = no limit. */
  maxDepth: number;
  /** Rows (unweighted) each leaf must hold. */
  minSamplesLeaf: number;
  /** L2 regularisation λ of leaf values. */
  l2: number;
  /** Bins for non-missing values per feature, 2..255 (one more bin holds NaN). */
  maxBins: number;
  /** Hessian sum each child must hold (scikit-learn's min_hessian_to_split). */
  minHessian: number;
  /** Fraction of rows drawn (without replacement, seeded) for each tree; 1 = all. */
  subsample: number;
  /** Fraction of features drawn (seeded) for each tree; 1 = all. */
  colsample: number;
  /** Rows sampled (seeded) to find the bin edges when there are more. */
  binSample: number;
  /** Seed of every random draw. */
  seed: number;
}

/**
 * Defaults chosen for the read-next ranker (about 25 features, 10^5..10^6 impressions, ~5% clicks):
 * 200 rounds at rate 0.1 (LightGBM's usual pairing; ranking quality flattens around there on the
 * simulated logs; an upper bound where the training use case stops early, app/training.ts), 31 leaves (LightGBM's and scikit-learn's default), depth at most 8 (a guard
 * against long chains on small data; 31 leaves rarely need more), 20 rows per leaf, λ = 1 (steadies
 * leaves made mostly of non-clicks, whose hessians are small), 255 bins, no subsampling.
 */
export const DEFAULT_GBDT_PARAMS: Readonly<GbdtParams> = Object.freeze({
  rounds: 200,
  learningRate: 0.1,
  maxLeaves: 31,
  maxDepth: 8,
  minSamplesLeaf: 20,
  l2: 1,
  maxBins: 255,
  minHessian: 1e-3,
  subsample: 1,
  colsample: 1,
  binSample: 200_000,
  seed: 1,
});

/** One tree in flat arrays, node 0 the root; a leaf has feature -1 and left = right = -1. */
export interface GbdtTree {
  feature: number[];
  /** Raw value: x <= threshold goes left (NaN goes by missingLeft). */
  threshold: number[];
  left: number[];
  right: number[];
  /** Leaf value (learning rate included) on leaves; the would-be leaf value on inner nodes. */
  value: number[];
  missingLeft: boolean[];
  /** Split gain (0 on leaves): feature importance. */
  gain: number[];
  /** Training rows that reached the node. */
  count: number[];
}

/** A trained model: plain JSON (JSON.stringify / JSON.parse round-trips it exactly). */
export interface GbdtModel {
  format: 'readnext-gbdt';
  version: 1;
  /** Number of features a row must have. */
  d: number;
  /** Initial raw score: the log-odds of the (weighted) click rate. */
  baseScore: number;
  params: GbdtParams;
  /** Bin edges per feature (for inspection; scoring uses the thresholds). */
  binEdges?: number[][];
  trees: GbdtTree[];
  /** Figures of the last round: training log loss and, when a validation set was given, its log loss. */
  metrics?: { trainLogLoss: number; validLogLoss?: number; bestRound?: number };
}

export interface GbdtData {
  /** Row-major n × d; NaN = missing. Values must be finite or NaN. */
  X: Float32Array;
  n: number;
  d: number;
  /** 1 = positive (click), 0 = negative. */
  y: Uint8Array;
  /** Optional non-negative sample weights (e.g. inverse propensity of the position). */
  w?: Float32Array;
}

/** Losses after a round, computed only when read (each is a pass over its rows). */
export interface GbdtProgress {
  /** Mean (unweighted) log loss on the training rows. */
  readonly trainLogLoss: number;
  /** Mean log loss on the validation rows, when a validation set was given. */
  readonly validLogLoss?: number;
}

export interface GbdtTrainOptions {
  /** Called after each round (1-based), synchronously; `info` computes the losses when read. */
  onProgress?(round: number, rounds: number, info: GbdtProgress): void;
  /** Scored after every round, for its log loss (and early stopping when asked). */
  valid?: { X: Float32Array; n: number; d: number; y: Uint8Array };
  /**
   * Stop when the validation log loss has not improved by more than `tolerance` (default 1e-7) for
   * `rounds` rounds, and keep the trees up to the best round (scikit-learn's HistGradientBoosting
   * early stopping on the loss: n_iter_no_change, tol; LightGBM's early_stopping_round). Needs `valid`.
   */
  earlyStopping?: { rounds: number; tolerance?: number };
}

/** NaN's bin: the last one of 256, whatever maxBins is. */
const MISSING_BIN = 255;
/** Histogram slots per feature, each (G, H, count). */
const SLOTS = 256;
/** Threshold of a split that sends every non-missing value left (JSON cannot hold Infinity). */
const ALL_LEFT = Number.MAX_VALUE;

/** `params` filled with defaults and validated; throws a RangeError naming a bad one. */
export function resolveGbdtParams(params: Partial<GbdtParams> = {}): GbdtParams {
  const p: GbdtParams = { ...DEFAULT_GBDT_PARAMS };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) (p as unknown as Record<string, number>)[k] = v;
  const check = (name: keyof GbdtParams, ok: boolean, what: string): void => {
    if (!ok || !Number.isFinite(p[name])) throw new RangeError(`gbdt: ${name} must be ${what}, got ${p[name]}`);
  };
  check('rounds', Number.isInteger(p.rounds) && p.rounds >= 0, 'an integer >= 0');
  check('learningRate', p.learningRate > 0, '> 0');
  check('maxLeaves', Number.isInteger(p.maxLeaves) && p.maxLeaves >= 2, 'an integer >= 2');
  check('maxDepth', Number.isInteger(p.maxDepth) && p.maxDepth >= 0, 'an integer >= 0');
  check('minSamplesLeaf', Number.isInteger(p.minSamplesLeaf) && p.minSamplesLeaf >= 1, 'an integer >= 1');
  check('l2', p.l2 >= 0, '>= 0');
  check('maxBins', Number.isInteger(p.maxBins) && p.maxBins >= 2 && p.maxBins <= 255, 'an integer in [2, 255]');
  check('minHessian', p.minHessian >= 0, '>= 0');
  check('subsample', p.subsample > 0 && p.subsample <= 1, 'in (0, 1]');
  check('colsample', p.colsample > 0 && p.colsample <= 1, 'in (0, 1]');
  check('binSample', Number.isInteger(p.binSample) && p.binSample >= 2, 'an integer >= 2');
  check('seed', Number.isInteger(p.seed), 'an integer');
  return p;
}

// ---- binning

/** Bin edges of one feature from its sampled non-missing values, sorted ascending (see the header). */
function edgesOf(sorted: Float64Array, maxBins: number): Float64Array {
  const m = sorted.length;
  let distinct = 0;
  for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  if (distinct <= maxBins) {
    const out = new Float64Array(Math.max(0, distinct - 1));
    let k = 0;
    for (let i = 1; i < m; i++) if (sorted[i] !== sorted[i - 1]) out[k++] = (sorted[i - 1]! + sorted[i]!) * 0.5;
    return out;
  }
  // numpy.percentile(method='midpoint') at linspace(0, 100, maxBins + 1)[1:-1]
  const step = 100 / maxBins;
  const raw: number[] = [];
  for (let k = 1; k < maxBins; k++) {
    const pos = ((k * step) / 100) * (m - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const v = (sorted[lo]! + sorted[hi]!) * 0.5;
    if (raw.length === 0 || v > raw[raw.length - 1]!) raw.push(v);
  }
  return Float64Array.from(raw);
}

/** First bin whose edge is >= x (x not NaN). */
function binOf(edges: Float64Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Up to `k` distinct row indices from [0, n), seeded (a partial Fisher-Yates shuffle), ascending. */
function sampleRows(n: number, k: number, rng: Rng): Int32Array {
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  if (k >= n) return all;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = all[i]!;
    all[i] = all[j]!;
    all[j] = t;
  }
  return all.subarray(0, k).sort();
}

interface Binned {
  /** Row i's bins at [i·stride, i·stride + d); stride = d rounded up to a multiple of 4. */
  bins: Uint8Array;
  stride: number;
  edges: Float64Array[];
  /** Non-missing bins per feature (edges.length + 1). */
  nonMissing: Int32Array;
  hasMissing: Uint8Array;
}

function binFeatures(X: Float32Array, n: number, d: number, p: GbdtParams, rng: Rng): Binned {
  const sample = sampleRows(n, p.binSample, rng);
  const edges: Float64Array[] = [];
  const nonMissing = new Int32Array(d);
  const hasMissing = new Uint8Array(d);
  const values = new Float64Array(sample.length);
  for (let f = 0; f < d; f++) {
    let m = 0;
    for (let s = 0; s < sample.length; s++) {
      const v = X[sample[s]! * d + f]!;
      if (v === v) values[m++] = v;
    }
    const e = edgesOf(values.subarray(0, m).sort(), p.maxBins);
    edges.push(e);
    nonMissing[f] = e.length + 1;
  }
  // A value's bin through a table per feature indexed by the top 16 bits of its float32 pattern made
  // monotone (sign, exponent, 7 bits of mantissa): the table holds the bin of the cell's smallest
  // value, and a few comparisons with the edges finish it. Row by row, as X and bins are row-major.
  const tables = new Uint8Array(d << 16);
  const probe = new Float32Array(1);
  const probeBits = new Uint32Array(probe.buffer);
  for (let c = 0; c < 1 << 16; c++) {
    const key = c << 16;
    probeBits[0] = key < 0 ? key ^ 0x80000000 : ~key;
    const lowest = probe[0]!;
    for (let f = 0; f < d; f++) tables[(f << 16) | c] = lowest !== lowest ? 0 : binOf(edges[f]!, lowest);
  }
  const bits = new Uint32Array(X.buffer, X.byteOffset, n * d);
  const stride = (d + 3) & ~3;
  const bins = new Uint8Array(n * stride);
  for (let i = 0, o = 0; i < n; i++) {
    const base = i * stride;
    for (let f = 0; f < d; f++, o++) {
      const v = X[o]!;
      if (v !== v) {
        bins[base + f] = MISSING_BIN;
        hasMissing[f] = 1;
        continue;
      }
      const u = bits[o]!;
      const key = u >= 0x80000000 ? ~u >>> 0 : u | 0x80000000;
      const e = edges[f]!;
      let b = tables[(f << 16) | (key >>> 16)]!;
      while (b < e.length && v > e[b]!) b++;
      bins[base + f] = b;
    }
  }
  return { bins, stride, edges, nonMissing, hasMissing };
}

// ---- histograms and splits

/**
 * hist[(f·256 + bin)·3 + {0,1,2}] = Σ g, Σ h, count over the rows at positions [start, end). The
 * hot loop of training: flat typed arrays only, no calls, and the node's rows lie next to each
 * other in memory (the partition moves them), so it streams.
 */
function buildHistogram(
  hist: Float64Array,
  bins: Uint8Array,
  stride: number,
  d: number,
  g: Float32Array,
  h: Float32Array,
  start: number,
  end: number,
): void {
  hist.fill(0);
  for (let i = start, base = start * stride; i < end; i++, base += stride) {
    const gi = g[i]!;
    const hi = h[i]!;
    for (let f = 0, o = 0; f < d; f++, o += SLOTS) {
      const k = (o + bins[base + f]!) * 3;
      hist[k] = hist[k]! + gi;
      hist[k + 1] = hist[k + 1]! + hi;
      hist[k + 2] = hist[k + 2]! + 1;
    }
  }
}

/** parent -= child, slot by slot: the parent's buffer becomes the sibling's histogram. */
function subtractHistogram(parent: Float64Array, child: Float64Array): void {
  for (let k = 0; k < parent.length; k++) parent[k] = parent[k]! - child[k]!;
}

interface Split {
  gain: number;
  feature: number;
  /** Bins <= bin go left. */
  bin: number;
  missingLeft: boolean;
  gl: number;
  hl: number;
  cl: number;
}

interface SplitContext {
  d: number;
  nonMissing: Int32Array;
  hasMissing: Uint8Array;
  minSamplesLeaf: number;
  minHessian: number;
  l2: number;
}

/**
 * The best split of a node with sums (G, H, C) over its histogram, or undefined when none has gain
 * > 0. Per feature, bins are scanned left to right with NaN on the right, then (if the feature has
 * NaN) right to left with NaN on the left; the first strictly best split wins (scikit-learn's order).
 */
function bestSplit(hist: Float64Array, G: number, H: number, C: number, allowed: Uint8Array, c: SplitContext): Split | undefined {
  const { minSamplesLeaf: msl, minHessian: mh, l2 } = c;
  const parentTerm = (G * G) / (H + l2);
  let best: Split | undefined;
  let bestGain = 0;
  for (let f = 0; f < c.d; f++) {
    if (allowed[f] === 0) continue;
    const o = f * SLOTS * 3;
    const nb = c.nonMissing[f]!;
    const missing = c.hasMissing[f] === 1;
    // left to right, NaN right; with NaN, the last bin too (all values left, NaN right)
    let gl = 0;
    let hl = 0;
    let cl = 0;
    const last = missing ? nb : nb - 1;
    for (let b = 0; b < last; b++) {
      const k = o + b * 3;
      gl += hist[k]!;
      hl += hist[k + 1]!;
      cl += hist[k + 2]!;
      const cr = C - cl;
      if (cl < msl) continue;
      if (cr < msl) break;
      const hr = H - hl;
      if (hl < mh || hr < mh) continue;
      const gr = G - gl;
      const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentTerm;
      if (gain > bestGain) {
        bestGain = gain;
        best = { gain, feature: f, bin: b, missingLeft: false, gl, hl, cl };
      }
    }
    if (!missing) continue;
    // right to left, NaN left: split after bin b - 1
    let gr = 0;
    let hr = 0;
    let cr = 0;
    for (let b = nb - 1; b >= 1; b--) {
      const k = o + b * 3;
      gr += hist[k]!;
      hr += hist[k + 1]!;
      cr += hist[k + 2]!;
      const cl2 = C - cr;
      if (cr < msl) continue;
      if (cl2 < msl) break;
      const hl2 = H - hr;
      if (hl2 < mh || hr < mh) continue;
      const gl2 = G - gr;
      const gain = (gl2 * gl2) / (hl2 + l2) + (gr * gr) / (hr + l2) - parentTerm;
      if (gain > bestGain) {
        bestGain = gain;
        best = { gain, feature: f, bin: b - 1, missingLeft: true, gl: gl2, hl: hl2, cl: cl2 };
      }
    }
  }
  return best;
}

/** Newton step of a leaf, as scikit-learn computes it (the 1e-15 keeps λ = 0 finite). */
const leafValue = (G: number, H: number, l2: number, rate: number): number => (-G / (H + l2 + 1e-15)) * rate;

// ---- growing one tree

interface OpenLeaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array | undefined;
  split: Split | undefined;
}

/**
 * Training state. Rows are kept in "positions": position i holds row idx[i], its bins at
 * bins[i·stride ..] (words[i·stride/4 ..] as 32-bit words) and its g[i], h[i]. Every node's rows
 * occupy a range of positions; a split moves them (a stable partition), so building a histogram
 * reads memory in order, as LightGBM's and scikit-learn's ordered gradients do. The order carries
 * over from round to round.
 */
interface Grower {
  bins: Uint8Array;
  words: Uint32Array;
  stride: number;
  binned: Binned;
  d: number;
  g: Float32Array;
  h: Float32Array;
  idx: Int32Array;
  sWords: Uint32Array;
  sG: Float32Array;
  sH: Float32Array;
  sIdx: Int32Array;
  pool: Float64Array[];
  ctx: SplitContext;
  p: GbdtParams;
}

function takeHist(gr: Grower): Float64Array {
  return gr.pool.pop() ?? new Float64Array(gr.d * SLOTS * 3);
}

/**
 * Stable partition of the positions [start, end) by the split: the left rows first, then the right
 * ones, each in their previous order; bins, g, h and idx move together. Returns the first right
 * position.
 */
function partition(gr: Grower, start: number, end: number, s: Split): number {
  return partitionBy(gr, start, end, s.feature, s.bin, s.missingLeft, undefined);
}

/** partition's loop; with `keep`, rows go left where keep[position] = 1 instead (subsampling). */
function partitionBy(
  gr: Grower,
  start: number,
  end: number,
  f: number,
  bin: number,
  nanLeft: boolean,
  keep: Uint8Array | undefined,
): number {
  const { bins, words, g, h, idx, sWords, sG, sH, sIdx } = gr;
  const stride = gr.stride;
  const w = stride >>> 2;
  let l = start;
  let r = 0;
  for (let i = start; i < end; i++) {
    let left: boolean;
    if (keep) left = keep[i] === 1;
    else {
      const b = bins[i * stride + f]!;
      left = b === MISSING_BIN ? nanLeft : b <= bin;
    }
    if (left) {
      if (l !== i) {
        for (let k = 0, a = l * w, c = i * w; k < w; k++) words[a + k] = words[c + k]!;
        g[l] = g[i]!;
        h[l] = h[i]!;
        idx[l] = idx[i]!;
      }
      l++;
    } else {
      for (let k = 0, a = r * w, c = i * w; k < w; k++) sWords[a + k] = words[c + k]!;
      sG[r] = g[i]!;
      sH[r] = h[i]!;
      sIdx[r] = idx[i]!;
      r++;
    }
  }
  words.set(sWords.subarray(0, r * w), l * w);
  g.set(sG.subarray(0, r), l);
  h.set(sH.subarray(0, r), l);
  idx.set(sIdx.subarray(0, r), l);
  return l;
}

/** Leaf-wise growth of one tree over positions [0, m); each leaf ends up with a range of positions. */
function growTree(gr: Grower, m: number, allowed: Uint8Array): { tree: GbdtTree; binThreshold: number[]; leaves: OpenLeaf[] } {
  const { p, ctx } = gr;
  const tree: GbdtTree = { feature: [], threshold: [], left: [], right: [], value: [], missingLeft: [], gain: [], count: [] };
  const binThreshold: number[] = [];
  const addNode = (G: number, H: number, count: number): number => {
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(leafValue(G, H, p.l2, p.learningRate));
    tree.missingLeft.push(false);
    tree.gain.push(0);
    tree.count.push(count);
    binThreshold.push(0);
    return tree.feature.length - 1;
  };
  const splittable = (depth: number, count: number, H: number): boolean =>
    (p.maxDepth === 0 || depth < p.maxDepth) && count >= 2 * p.minSamplesLeaf && H >= 2 * p.minHessian;

  let G = 0;
  let H = 0;
  for (let i = 0; i < m; i++) {
    G += gr.g[i]!;
    H += gr.h[i]!;
  }
  const root: OpenLeaf = { node: addNode(G, H, m), start: 0, end: m, depth: 0, g: G, h: H, hist: undefined, split: undefined };
  const leaves: OpenLeaf[] = [root];
  if (splittable(0, m, H)) {
    root.hist = takeHist(gr);
    buildHistogram(root.hist, gr.bins, gr.stride, gr.d, gr.g, gr.h, 0, m);
    root.split = bestSplit(root.hist, G, H, m, allowed, ctx);
  }
  while (leaves.length < p.maxLeaves) {
    // 1. the open leaf with the largest gain (first one on ties)
    let bi = -1;
    for (let i = 0; i < leaves.length; i++) {
      const s = leaves[i]!.split;
      if (s && (bi < 0 || s.gain > leaves[bi]!.split!.gain)) bi = i;
    }
    if (bi < 0) break;
    const leaf = leaves[bi]!;
    const s = leaf.split!;
    // 2. partition its rows and record the split
    const mid = partition(gr, leaf.start, leaf.end, s);
    const nl = mid - leaf.start;
    const nr = leaf.end - mid;
    const gR = leaf.g - s.gl;
    const hR = leaf.h - s.hl;
    const ln = addNode(s.gl, s.hl, nl);
    const rn = addNode(gR, hR, nr);
    const node = leaf.node;
    tree.feature[node] = s.feature;
    const edges = gr.binned.edges[s.feature]!;
    tree.threshold[node] = s.bin < edges.length ? edges[s.bin]! : ALL_LEFT;
    binThreshold[node] = s.bin;
    tree.left[node] = ln;
    tree.right[node] = rn;
    tree.missingLeft[node] = gr.binned.hasMissing[s.feature] === 1 ? s.missingLeft : nl > nr;
    tree.gain[node] = s.gain;
    const depth = leaf.depth + 1;
    const left: OpenLeaf = { node: ln, start: leaf.start, end: mid, depth, g: s.gl, h: s.hl, hist: undefined, split: undefined };
    const right: OpenLeaf = { node: rn, start: mid, end: leaf.end, depth, g: gR, h: hR, hist: undefined, split: undefined };
    leaves[bi] = left;
    leaves.push(right);
    // 3. children's histograms: the smaller one from its rows, the larger = parent - smaller
    const parentHist = leaf.hist!;
    leaf.hist = undefined;
    const canL = leaves.length < p.maxLeaves && splittable(depth, nl, s.hl);
    const canR = leaves.length < p.maxLeaves && splittable(depth, nr, hR);
    if (canL || canR) {
      const [small, large] = nl <= nr ? [left, right] : [right, left];
      small.hist = takeHist(gr);
      buildHistogram(small.hist, gr.bins, gr.stride, gr.d, gr.g, gr.h, small.start, small.end);
      subtractHistogram(parentHist, small.hist);
      large.hist = parentHist;
      if (canL) left.split = bestSplit(left.hist!, left.g, left.h, nl, allowed, ctx);
      if (canR) right.split = bestSplit(right.hist!, right.g, right.h, nr, allowed, ctx);
      for (const c of [left, right]) {
        if (!c.split && c.hist) {
          gr.pool.push(c.hist);
          c.hist = undefined;
        }
      }
    } else gr.pool.push(parentHist);
  }
  for (const l of leaves) {
    if (l.hist) gr.pool.push(l.hist);
    l.hist = undefined;
  }
  return { tree, binThreshold, leaves };
}

// ---- training

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function meanLogLoss(raw: Float64Array, y: Uint8Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const z = raw[i]!;
    // log(1 + e^z) - y z, computed without overflow
    s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - (y[i] === 1 ? z : 0);
  }
  return n === 0 ? NaN : s / n;
}

/**
 * Trains a binary GBDT with logistic loss: raw score F(x) = baseScore + Σ trees, P(y=1|x) = σ(F).
 * Each round: g = w(σ(F) - y), h = w σ(F)(1 - σ(F)) per row (float32, as scikit-learn), one tree
 * grown leaf-wise on (g, h) histograms, F += its leaf values.
 *
 * @example
 * const model = trainGbdt({ X, n, d, y }, { rounds: 100, seed: 7 });
 * const p = predictProba(model, X, 0); // first row
 */
export function trainGbdt(data: GbdtData, params: Partial<GbdtParams> = {}, opts: GbdtTrainOptions = {}): GbdtModel {
  const p = resolveGbdtParams(params);
  const { X, n, d, y, w } = data;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1)
    throw new RangeError(`gbdt: n and d must be integers >= 1, got ${n}, ${d}`);
  if (X.length < n * d) throw new RangeError(`gbdt: X holds ${X.length} values, fewer than n·d = ${n * d}`);
  if (y.length < n) throw new RangeError(`gbdt: y holds ${y.length} labels, fewer than n = ${n}`);
  if (w && w.length < n) throw new RangeError(`gbdt: w holds ${w.length} weights, fewer than n = ${n}`);
  const valid = opts.valid;
  if (valid && (valid.d !== d || valid.X.length < valid.n * d)) throw new RangeError(`gbdt: the validation set must have d = ${d}`);
  const stop = opts.earlyStopping;
  if (stop && (!valid || valid.n < 1 || !(Number.isInteger(stop.rounds) && stop.rounds >= 1)))
    throw new RangeError('gbdt: early stopping needs a validation set and rounds >= 1');
  const rng = seededRng(p.seed);

  // 1. bins, once
  const binned = binFeatures(X, n, d, p, rng);

  // 2. base score: log-odds of the weighted positive rate
  let sw = 0;
  let swy = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    sw += wi;
    if (y[i] === 1) swy += wi;
  }
  if (!(sw > 0)) throw new RangeError('gbdt: the weights sum to 0');
  const rate = Math.min(1 - 1e-15, Math.max(1e-15, swy / sw));
  const baseScore = Math.log(rate / (1 - rate));

  const raw = new Float64Array(n).fill(baseScore);
  const g = new Float32Array(n);
  const h = new Float32Array(n);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const gr: Grower = {
    bins: binned.bins,
    words: new Uint32Array(binned.bins.buffer, binned.bins.byteOffset, binned.bins.length >>> 2),
    stride: binned.stride,
    binned,
    d,
    g,
    h,
    idx,
    sWords: new Uint32Array(binned.bins.length >>> 2),
    sG: new Float32Array(n),
    sH: new Float32Array(n),
    sIdx: new Int32Array(n),
    pool: [],
    ctx: {
      d,
      nonMissing: binned.nonMissing,
      hasMissing: binned.hasMissing,
      minSamplesLeaf: p.minSamplesLeaf,
      minHessian: p.minHessian,
      l2: p.l2,
    },
    p,
  };
  const validRaw = valid ? new Float64Array(valid.n).fill(baseScore) : undefined;
  const allowed = new Uint8Array(d).fill(1);
  const keep = p.subsample < 1 ? new Uint8Array(n) : undefined;
  const keepRow = p.subsample < 1 ? new Uint8Array(n) : undefined;
  const trees: GbdtTree[] = [];
  const info: GbdtProgress = {
    get trainLogLoss() {
      return meanLogLoss(raw, y, n);
    },
    get validLogLoss() {
      return valid && validRaw ? meanLogLoss(validRaw, valid.y, valid.n) : undefined;
    },
  };

  let bestLoss = Infinity;
  let bestRound = 0;
  let bestTrainLoss = NaN;
  for (let round = 1; round <= p.rounds; round++) {
    // 3. gradients and hessians of the logistic loss at the current scores
    for (let i = 0; i < n; i++) {
      const row = idx[i]!;
      const pr = sigmoid(raw[row]!);
      const wi = w ? w[row]! : 1;
      g[i] = wi * (pr - (y[row] === 1 ? 1 : 0));
      h[i] = wi * pr * (1 - pr);
    }
    // 4. rows and features of this tree (seeded draws only when subsampling)
    let m = n;
    if (keep && keepRow) {
      // draws in row order, so the sample does not depend on the positions
      for (let i = 0; i < n; i++) keepRow[i] = rng.next() < p.subsample ? 1 : 0;
      for (let i = 0; i < n; i++) keep[i] = keepRow[idx[i]!]!;
      m = partitionBy(gr, 0, n, 0, 0, false, keep);
    }
    if (p.colsample < 1) {
      const k = Math.max(1, Math.round(p.colsample * d));
      allowed.fill(0);
      const chosen = sampleRows(d, k, rng);
      for (const f of chosen) allowed[f] = 1;
    }
    // 5. the tree, then every row's score
    const { tree, binThreshold, leaves } = growTree(gr, m, allowed);
    trees.push(tree);
    for (const l of leaves) {
      const v = tree.value[l.node]!;
      for (let i = l.start; i < l.end; i++) {
        const r = idx[i]!;
        raw[r] = raw[r]! + v;
      }
    }
    for (let i = m; i < n; i++) raw[idx[i]!] = raw[idx[i]!]! + binnedTreeValue(tree, binThreshold, gr.bins, i * gr.stride);
    if (valid && validRaw) {
      for (let r = 0; r < valid.n; r++) validRaw[r] = validRaw[r]! + treeValue(tree, valid.X, r * d);
    }
    opts.onProgress?.(round, p.rounds, info);
    if (stop) {
      const loss = info.validLogLoss!;
      if (loss < bestLoss - (stop.tolerance ?? 1e-7)) {
        bestLoss = loss;
        bestRound = round;
        bestTrainLoss = info.trainLogLoss;
      } else if (round - bestRound >= stop.rounds) break;
    }
  }
  // Back to the best round (its losses were recorded when it was reached).
  if (stop) trees.length = bestRound;
  const metrics: GbdtModel['metrics'] = { trainLogLoss: stop ? bestTrainLoss : info.trainLogLoss };
  if (valid) metrics.validLogLoss = stop ? bestLoss : info.validLogLoss;
  if (stop) metrics.bestRound = bestRound;
  return {
    format: 'readnext-gbdt',
    version: 1,
    d,
    baseScore,
    params: p,
    binEdges: binned.edges.map((e) => Array.from(e)),
    trees,
    metrics,
  };
}

function binnedTreeValue(tree: GbdtTree, binThreshold: number[], bins: Uint8Array, offset: number): number {
  let node = 0;
  for (;;) {
    const f = tree.feature[node]!;
    if (f < 0) return tree.value[node]!;
    const b = bins[offset + f]!;
    const goLeft = b === MISSING_BIN ? tree.missingLeft[node]! : b <= binThreshold[node]!;
    node = goLeft ? tree.left[node]! : tree.right[node]!;
  }
}

function treeValue(tree: GbdtTree, x: ArrayLike<number>, offset: number): number {
  let node = 0;
  for (;;) {
    const f = tree.feature[node]!;
    if (f < 0) return tree.value[node]!;
    const v = x[offset + f]!;
    const goLeft = v !== v ? tree.missingLeft[node]! : v <= tree.threshold[node]!;
    node = goLeft ? tree.left[node]! : tree.right[node]!;
  }
}

// ---- scoring

/**
 * A model compiled to typed arrays: scoring allocates nothing.
 *
 * @example
 * const s = compileModel(model);
 * const raw = s.predictRawBatch(X, n, new Float64Array(n));
 * // a cascade: every row's first 20 trees, then the rest for rows 3 and 7 only (their sums equal raw's)
 * const part = new Float64Array(n).fill(s.baseScore);
 * s.addTrees(X, null, n, part, 0, 20);
 * s.addTrees(X, [3, 7], 2, part, 20, s.trees);
 */
export interface GbdtScorer {
  readonly d: number;
  /** The model's initial raw score (every row's sum starts from it). */
  readonly baseScore: number;
  /** Number of trees. */
  readonly trees: number;
  /** Raw score (log-odds) of the row x[offset .. offset + d). */
  predictRaw(x: ArrayLike<number>, offset?: number): number;
  /** P(y = 1) of the row x[offset .. offset + d). */
  predictProba(x: ArrayLike<number>, offset?: number): number;
  /** Raw scores of n rows of the row-major X into out. */
  predictRawBatch(X: ArrayLike<number>, n: number, out: Float64Array): Float64Array;
  /**
   * Adds the values of trees [from, to) to out[r] for the rows r = rows[0 .. m) of the row-major X
   * (rows null: r = 0 .. m−1). Starting from out[r] = baseScore and adding consecutive tree ranges
   * up to `trees` gives predictRaw's sum exactly (same terms, same order).
   */
  addTrees(X: ArrayLike<number>, rows: ArrayLike<number> | null, m: number, out: Float64Array, from: number, to: number): Float64Array;
}

/**
 * A model compiled to typed arrays: scoring allocates nothing. All trees' nodes sit in one set of
 * arrays, tree after tree, each tree breadth-first with the two children of a node side by side
 * (right = left + 1), so a step is `child + (x > threshold)` with no unpredictable branch, and one
 * tree (~60 nodes) stays in cache while a batch of rows walks it. A missing value (NaN) goes to
 * the side the tree recorded. Every row sums base + tree 0 + tree 1 + ... in tree order, whichever
 * method computes it, so batch, cascade and single-row scores are the same doubles
 * (test/core/ml/gbdt.test.ts).
 *
 * Batches (addTrees) walk four rows through a tree in lockstep: a walk is a chain of dependent
 * loads (node -> feature -> x -> child), so one row at a time waits on memory at every step, and
 * four independent chains let the CPU overlap them (measured 1.7x on 57 rows x 34 trees of depth
 * 6-8). Lockstep needs a fixed number of steps per tree: in the `step*` copies of the arrays a leaf
 * is its own child (feature 0, threshold +Infinity, NaN to the left: every step stays put), so
 * `depth` steps end every row on its leaf, the same leaf as the plain walk.
 */
class CompiledGbdt implements GbdtScorer {
  readonly d: number;
  readonly baseScore: number;
  readonly trees: number;
  private readonly roots: Int32Array;
  /** Split feature; -1 on leaves. */
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  /** The left child (the right one is next to it). */
  private readonly child: Int32Array;
  /** 0 when NaN goes left, 1 when it goes right. */
  private readonly missingStep: Uint8Array;
  /** Leaf values. */
  private readonly value: Float64Array;
  /** The lockstep walk's copies: a leaf is its own child and never moves (see the class comment). */
  private readonly stepFeature: Int32Array;
  private readonly stepThreshold: Float64Array;
  private readonly stepChild: Int32Array;
  private readonly stepMissing: Uint8Array;
  /** Per tree, the edges from its root to its deepest leaf. */
  private readonly depth: Int32Array;

  constructor(model: GbdtModel) {
    checkModel(model);
    this.d = model.d;
    this.baseScore = model.baseScore;
    this.trees = model.trees.length;
    const total = model.trees.reduce((s, t) => s + t.feature.length, 0);
    this.roots = new Int32Array(this.trees);
    this.feature = new Int32Array(total);
    this.threshold = new Float64Array(total);
    this.child = new Int32Array(total);
    this.missingStep = new Uint8Array(total);
    this.value = new Float64Array(total);
    let at = 0;
    model.trees.forEach((t, ti) => {
      // Breadth-first: a node's place, then its children's two places side by side.
      const place = new Int32Array(t.feature.length);
      const queue = [0];
      place[0] = at;
      let next = at + 1;
      for (let q = 0; q < queue.length; q++) {
        const i = queue[q]!;
        if (t.feature[i]! < 0) continue;
        place[t.left[i]!] = next++;
        place[t.right[i]!] = next++;
        queue.push(t.left[i]!, t.right[i]!);
      }
      this.roots[ti] = at;
      for (const i of queue) {
        const k = place[i]!;
        const f = t.feature[i]!;
        this.feature[k] = f;
        this.threshold[k] = t.threshold[i]!;
        this.child[k] = f < 0 ? -1 : place[t.left[i]!]!;
        this.missingStep[k] = t.missingLeft[i] ? 0 : 1;
        this.value[k] = t.value[i]!;
      }
      at = next;
    });
    this.stepFeature = Int32Array.from(this.feature);
    this.stepThreshold = Float64Array.from(this.threshold);
    this.stepChild = Int32Array.from(this.child);
    this.stepMissing = Uint8Array.from(this.missingStep);
    this.depth = new Int32Array(this.trees);
    const level = new Int32Array(total);
    for (let ti = 0; ti < this.trees; ti++) {
      const end = ti + 1 < this.trees ? this.roots[ti + 1]! : total;
      let deepest = 0;
      // Breadth-first: a parent comes before its children.
      for (let k = this.roots[ti]!; k < end; k++) {
        if (this.feature[k]! >= 0) {
          level[this.child[k]!] = level[this.child[k]! + 1] = level[k]! + 1;
          deepest = Math.max(deepest, level[k]! + 1);
        } else {
          this.stepFeature[k] = 0;
          this.stepThreshold[k] = Infinity;
          this.stepChild[k] = k;
          this.stepMissing[k] = 0;
        }
      }
      this.depth[ti] = deepest;
    }
  }

  predictRaw(x: ArrayLike<number>, offset = 0): number {
    const { roots, feature, threshold, child, missingStep, value } = this;
    let s = this.baseScore;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        const v = x[offset + f]!;
        node = child[node]! + (v !== v ? missingStep[node]! : +(v > threshold[node]!));
        f = feature[node]!;
      }
      s += value[node]!;
    }
    return s;
  }

  predictProba(x: ArrayLike<number>, offset = 0): number {
    return sigmoid(this.predictRaw(x, offset));
  }

  predictRawBatch(X: ArrayLike<number>, n: number, out: Float64Array): Float64Array {
    out.fill(this.baseScore, 0, n);
    return this.addTrees(X, null, n, out, 0, this.trees);
  }

  addTrees(X: ArrayLike<number>, rows: ArrayLike<number> | null, m: number, out: Float64Array, from: number, to: number): Float64Array {
    const { roots, depth, value, d } = this;
    const F = this.stepFeature;
    const T = this.stepThreshold;
    const C = this.stepChild;
    const M = this.stepMissing;
    const end = Math.min(to, roots.length);
    // Trees outside, rows inside: one tree's nodes stay in cache while every row walks it.
    for (let t = Math.max(0, from); t < end; t++) {
      const root = roots[t]!;
      const steps = depth[t]!;
      let j = 0;
      for (; j + 4 <= m; j += 4) {
        const r0 = rows === null ? j : rows[j]!;
        const r1 = rows === null ? j + 1 : rows[j + 1]!;
        const r2 = rows === null ? j + 2 : rows[j + 2]!;
        const r3 = rows === null ? j + 3 : rows[j + 3]!;
        const o0 = r0 * d;
        const o1 = r1 * d;
        const o2 = r2 * d;
        const o3 = r3 * d;
        let n0 = root;
        let n1 = root;
        let n2 = root;
        let n3 = root;
        for (let k = 0; k < steps; k++) {
          const v0 = X[o0 + F[n0]!]!;
          const v1 = X[o1 + F[n1]!]!;
          const v2 = X[o2 + F[n2]!]!;
          const v3 = X[o3 + F[n3]!]!;
          n0 = C[n0]! + (v0 !== v0 ? M[n0]! : +(v0 > T[n0]!));
          n1 = C[n1]! + (v1 !== v1 ? M[n1]! : +(v1 > T[n1]!));
          n2 = C[n2]! + (v2 !== v2 ? M[n2]! : +(v2 > T[n2]!));
          n3 = C[n3]! + (v3 !== v3 ? M[n3]! : +(v3 > T[n3]!));
        }
        out[r0]! += value[n0]!;
        out[r1]! += value[n1]!;
        out[r2]! += value[n2]!;
        out[r3]! += value[n3]!;
      }
      for (; j < m; j++) {
        const r = rows === null ? j : rows[j]!;
        const o = r * d;
        let node = root;
        for (let k = 0; k < steps; k++) {
          const v = X[o + F[node]!]!;
          node = C[node]! + (v !== v ? M[node]! : +(v > T[node]!));
        }
        out[r]! += value[node]!;
      }
    }
    return out;
  }
}

/** Throws a RangeError when `model` is not a readnext-gbdt v1 model with consistent trees. */
function checkModel(model: GbdtModel): void {
  if (model.format !== 'readnext-gbdt' || model.version !== 1)
    throw new RangeError(`gbdt: not a readnext-gbdt v1 model (${model.format} ${model.version})`);
  model.trees.forEach((t, ti) => {
    const len = t.feature.length;
    if (len === 0 || [t.threshold, t.left, t.right, t.value, t.missingLeft].some((a) => a.length !== len)) {
      throw new RangeError(`gbdt: tree ${ti} has arrays of different lengths`);
    }
    for (let i = 0; i < len; i++) {
      const f = t.feature[i]!;
      if (f >= model.d) throw new RangeError(`gbdt: tree ${ti} node ${i} splits on feature ${f} >= d`);
      // children come after their parent, so every walk ends
      if (f >= 0 && !(t.left[i]! > i && t.left[i]! < len && t.right[i]! > i && t.right[i]! < len)) {
        throw new RangeError(`gbdt: tree ${ti} node ${i} has bad children`);
      }
    }
  });
}

/**
 * Compiles a model (validated) into flat typed arrays for fast scoring.
 *
 * @example
 * const scorer = compileModel(model);
 * const raw = scorer.predictRaw(features, 0);
 */
export function compileModel(model: GbdtModel): GbdtScorer {
  return new CompiledGbdt(model);
}

const compiled = new WeakMap<GbdtModel, GbdtScorer>();

function scorerOf(model: GbdtModel): GbdtScorer {
  let s = compiled.get(model);
  if (!s) {
    s = compileModel(model);
    compiled.set(model, s);
  }
  return s;
}

/**
 * Raw score (log-odds) of the row x[offset .. offset + d). Compiles the model on first use and
 * keeps the result for that object, so treat a model as immutable once scored.
 */
export function predictRaw(model: GbdtModel, x: ArrayLike<number>, offset = 0): number {
  return scorerOf(model).predictRaw(x, offset);
}

/** P(y = 1) of the row x[offset .. offset + d); see predictRaw. */
export function predictProba(model: GbdtModel, x: ArrayLike<number>, offset = 0): number {
  return sigmoid(scorerOf(model).predictRaw(x, offset));
}

/** Total split gain per feature over all trees, normalised to sum to 1 (all zeros for stumps-free models). */
export function featureImportance(model: GbdtModel): number[] {
  const out = new Array<number>(model.d).fill(0);
  for (const t of model.trees) for (let i = 0; i < t.feature.length; i++) if (t.feature[i]! >= 0) out[t.feature[i]!]! += t.gain[i]!;
  const total = out.reduce((a, b) => a + b, 0);
  return total > 0 ? out.map((v) => v / total) : out;
}
