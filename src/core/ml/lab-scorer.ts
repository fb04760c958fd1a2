/**
 * The learned ranker as an offline-lab scorer (`readnext eval --recommender model[:CONFIG]`): the
 * same FeatureState and GBDT as `readnext train` and the `model` kind, fitted on the lab's train log.
 *
 * How a log becomes the feature state (as the heuristics' scorer does, core/lab/heuristic.ts):
 * 1. an article enters the catalog when it first appears in the log (history or candidate), as
 *    the log's news rows describe it or as an untitled stub dated then (ID-only features apply);
 * 2. a reader's history items are reads at the time of the first impression listing them;
 * 3. an impression's features are computed before it is observed; observing it adds its
 *    candidates as shown and its clicks as clicks and reads (a MIND click opens the article);
 * 4. the current article is the reader's latest read (a homepage impression has none).
 * `fit` replays the train log so, collecting every labelled candidate as an example (non-clicks
 * sampled down, seeded, when there are more than `maxExamples` rows), and trains the trees; the
 * state then goes on into the test log. Position is unknown in lab logs: no weights.
 */
import type { Article } from '../catalog/article.js';
import { seededRng } from '../kernel/rng.js';
import { impressionFeeder } from '../lab/feed.js';
import type { LabImpression, LabScorer, ScorerFactory } from '../lab/types.js';
import { CatalogIndex } from '../recommend/catalog-index.js';
import { FEATURE_NAMES, FeatureState } from './features.js';
import { compileModel, trainGbdt, type GbdtParams, type GbdtScorer } from './gbdt.js';
import { auc } from './metrics.js';

export interface LabModelConfig {
  /** Boosting rounds (default: chosen on a time-ordered validation slice). */
  rounds?: number;
  learningRate?: number;
  maxLeaves?: number;
  minSamplesLeaf?: number;
  l2?: number;
  /** Most training rows; non-clicks are sampled down past it (default 1,000,000). */
  maxExamples?: number;
}

const KEYS = new Set(['rounds', 'learningRate', 'maxLeaves', 'minSamplesLeaf', 'l2', 'maxExamples']);

/**
 * Small-data defaults of the lab's model (a simulated or sampled log has tens to a few thousand
 * clicks, not the 10^4+ the GBDT's own defaults assume): 15 leaves of at least 50 rows, λ = 10,
 * rate 0.05. Rounds: unless given, chosen on a time-ordered validation slice (see `chooseRounds`).
 */
export const LAB_MODEL_DEFAULTS: Readonly<Pick<GbdtParams, 'learningRate' | 'maxLeaves' | 'minSamplesLeaf' | 'l2'>> = Object.freeze({
  learningRate: 0.05,
  maxLeaves: 15,
  minSamplesLeaf: 50,
  l2: 10,
});
/** Most rounds tried by the validation, and the step between the counts compared. */
const MAX_ROUNDS = 300;
const ROUND_STEP = 10;

/**
 * Early stopping on time: trains on the earliest 80 % of the rows (they are in time order) and
 * returns the round count, a multiple of ROUND_STEP, whose AUC on the latest 20 % is highest
 * (the smallest such count; at least ROUND_STEP). Falls back to 100 when the slice lacks a class.
 */
function chooseRounds(X: Float32Array, y: Uint8Array, d: number, params: Partial<GbdtParams>): number {
  const n = y.length;
  const cut = Math.floor(n * 0.8);
  const yv = y.subarray(cut);
  const yt = y.subarray(0, cut);
  if (!yt.includes(1) || !yt.includes(0) || !yv.includes(1) || !yv.includes(0)) return 100;
  const model = trainGbdt({ X: X.subarray(0, cut * d), n: cut, d, y: yt }, { ...params, rounds: MAX_ROUNDS });
  const Xv = X.subarray(cut * d);
  let best = ROUND_STEP;
  let bestAuc = -Infinity;
  for (let r = ROUND_STEP; r <= model.trees.length; r += ROUND_STEP) {
    const s = compileModel({ ...model, trees: model.trees.slice(0, r) });
    const a = auc(s.predictRawBatch(Xv, yv.length, new Float64Array(yv.length)), yv);
    if (a > bestAuc + 1e-9) [best, bestAuc] = [r, a];
  }
  return best;
}

function readConfig(config: Record<string, unknown>): LabModelConfig {
  for (const [k, v] of Object.entries(config)) {
    if (!KEYS.has(k)) throw new RangeError(`model: unknown config "${k}"; known: ${[...KEYS].join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`model: ${k} must be a positive number`);
  }
  return config as LabModelConfig;
}

/**
 * @example
 * const s = modelLabScorer({ rounds: 100 }, { articles, seed: 1 });
 * await s.fit?.(train, articles); s.score(testImpression);
 */
export function modelLabScorer(config: Record<string, unknown>, ctx: { articles: ReadonlyMap<string, Article>; seed: number }): LabScorer {
  const c = readConfig(config);
  const catalog = new CatalogIndex();
  const state = new FeatureState(catalog);
  const d = FEATURE_NAMES.length;
  let scorer: GbdtScorer | undefined;

  const enter = impressionFeeder(ctx.articles, {
    knows: (id) => catalog.get(id) !== undefined,
    upsert: (fresh) => catalog.upsert(fresh),
    read: (readerId, articleId, ts) => state.add({ kind: 'read', readerId, articleId, ts }),
  });
  const features = (imp: LabImpression): Float32Array =>
    state.features(
      { readerId: imp.readerId, articleId: state.history(imp.readerId)[0] ?? null, ts: imp.ts },
      imp.candidates.map((x) => x.articleId),
    );
  const observe = (imp: LabImpression): void => {
    state.shown(
      imp.readerId,
      imp.candidates.map((x) => x.articleId),
      imp.ts,
    );
    for (const x of imp.candidates) {
      if (x.clicked !== true) continue;
      state.add({ kind: 'click', readerId: imp.readerId, articleId: x.articleId, ts: imp.ts });
      state.add({ kind: 'read', readerId: imp.readerId, articleId: x.articleId, ts: imp.ts });
    }
  };

  return {
    name: 'model',
    fit(train) {
      const log = [...train].sort((a, b) => a.ts - b.ts);
      let positives = 0;
      let negatives = 0;
      for (const imp of log)
        for (const x of imp.candidates) {
          if (x.clicked === true) positives++;
          else if (x.clicked === false) negatives++;
        }
      const max = c.maxExamples ?? 1_000_000;
      const keepNegative = negatives === 0 ? 1 : Math.min(1, Math.max(0, max - positives) / negatives);
      const rng = seededRng(ctx.seed);
      const rows: Float32Array[] = [];
      const labels: number[] = [];
      for (const imp of log) {
        enter(imp);
        if (imp.candidates.some((x) => x.clicked !== null)) {
          const X = features(imp);
          imp.candidates.forEach((x, i) => {
            if (x.clicked === null || (x.clicked === false && rng.next() >= keepNegative)) return;
            rows.push(X.subarray(i * d, (i + 1) * d));
            labels.push(x.clicked ? 1 : 0);
          });
        }
        observe(imp);
      }
      if (!labels.includes(1) || !labels.includes(0)) return; // nothing to learn: every score 0
      const X = new Float32Array(rows.length * d);
      rows.forEach((r, i) => X.set(r, i * d));
      const y = Uint8Array.from(labels);
      const params: Partial<GbdtParams> = { ...LAB_MODEL_DEFAULTS, seed: ctx.seed };
      if (c.learningRate !== undefined) params.learningRate = c.learningRate;
      if (c.maxLeaves !== undefined) params.maxLeaves = Math.round(c.maxLeaves);
      if (c.minSamplesLeaf !== undefined) params.minSamplesLeaf = Math.round(c.minSamplesLeaf);
      if (c.l2 !== undefined) params.l2 = c.l2;
      params.rounds = c.rounds !== undefined ? Math.round(c.rounds) : chooseRounds(X, y, d, params);
      scorer = compileModel(trainGbdt({ X, n: labels.length, d, y }, params));
    },
    score(imp) {
      enter(imp);
      if (!scorer) return imp.candidates.map(() => 0);
      const X = features(imp);
      return imp.candidates.map((_, i) => scorer!.predictRaw(X, i * d));
    },
    observe,
  };
}

/** `readnext eval --recommender model[:{"rounds":100}]`. */
export const modelScorerFactory: ScorerFactory = (config, ctx) => modelLabScorer(config, ctx);
