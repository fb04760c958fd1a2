import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/kernel/rng.js';
import {
  compileModel,
  DEFAULT_GBDT_PARAMS,
  featureImportance,
  predictProba,
  predictRaw,
  resolveGbdtParams,
  trainGbdt,
  type GbdtData,
  type GbdtModel,
  type GbdtTree,
} from '../../../src/core/ml/gbdt.js';
import { auc, logLoss } from '../../../src/core/ml/metrics.js';

const FIXTURES = new URL('../../fixtures/gbdt/', import.meta.url);

/** A fixture CSV (x0..x9, y; empty = NaN) as training data. */
function loadCsv(name: string): GbdtData {
  const lines = readFileSync(new URL(name, FIXTURES), 'utf8').trim().split('\n');
  const d = lines[0]!.split(',').length - 1;
  const n = lines.length - 1;
  const X = new Float32Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cells = lines[i + 1]!.split(',');
    for (let j = 0; j < d; j++) X[i * d + j] = cells[j] === '' ? NaN : Number(cells[j]);
    y[i] = Number(cells[d]);
  }
  return { X, n, d, y };
}

interface SklearnSetting {
  name: string;
  max_iter: number;
  learning_rate: number;
  max_leaf_nodes: number;
  max_depth: number | null;
  min_samples_leaf: number;
  l2_regularization: number;
  test_auc: number;
  test_log_loss: number;
  test_proba: number[];
}

/** Rows of one feature x (d = 1) with labels from `label`. */
function oneFeature(xs: readonly number[], label: (x: number, i: number) => number): GbdtData {
  return { X: Float32Array.from(xs), n: xs.length, d: 1, y: Uint8Array.from(xs.map(label)) };
}

const leaves = (t: GbdtTree): number => t.feature.filter((f) => f < 0).length;
function depthOf(t: GbdtTree, node = 0): number {
  return t.feature[node]! < 0 ? 0 : 1 + Math.max(depthOf(t, t.left[node]!), depthOf(t, t.right[node]!));
}

describe('trainGbdt against scikit-learn (test/fixtures/gbdt, made by make.py)', () => {
  const train = loadCsv('train.csv');
  const test = loadCsv('test.csv');
  const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as { settings: SklearnSetting[] };

  it.each(expected.settings.map((s) => [s.name, s] as const))('%s: test AUC within 0.005 of HistGradientBoostingClassifier', (_name, s) => {
    const model = trainGbdt(train, {
      rounds: s.max_iter,
      learningRate: s.learning_rate,
      maxLeaves: s.max_leaf_nodes,
      maxDepth: s.max_depth ?? 0,
      minSamplesLeaf: s.min_samples_leaf,
      l2: s.l2_regularization,
      maxBins: 255,
    });
    const scorer = compileModel(model);
    const p = new Float64Array(test.n);
    let absDiff = 0;
    for (let i = 0; i < test.n; i++) {
      p[i] = scorer.predictProba(test.X, i * test.d);
      absDiff += Math.abs(p[i]! - s.test_proba[i]!);
    }
    // The bar: |AUC - AUC_sklearn| <= 0.005.
    expect(Math.abs(auc(p, test.y) - s.test_auc)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(logLoss(p, test.y) - s.test_log_loss)).toBeLessThanOrEqual(0.005);
    // Same algorithm, same bins: the probabilities themselves agree (sklearn's are rounded to 1e-5;
    // measured mean |Δp| < 1e-5 with scikit-learn 1.2.1). 1e-3 leaves room for float summation order.
    expect(absDiff / test.n).toBeLessThan(1e-3);
  });
});

describe('trainGbdt', () => {
  it('a stump: one split at the midpoint, leaf values -G/(H+λ) × rate', () => {
    // 20 rows at x = 0 with 5 clicks, 20 at x = 1 with 15: base rate 1/2, so baseScore = 0,
    // p = 1/2, g = p - y = ±1/2, h = 1/4 for every row.
    // left (x = 0):  G = 15·½ - 5·½ = 5,  H = 20·¼ = 5, value = -5/(5+1)·0.1 = -1/12
    // right (x = 1): G = 5·½ - 15·½ = -5, H = 5,        value = +1/12
    // gain = 5²/6 + 5²/6 - 0²/11 = 25/3
    const xs = [...Array<number>(20).fill(0), ...Array<number>(20).fill(1)];
    const data = oneFeature(xs, (x, i) => (x === 0 ? (i < 5 ? 1 : 0) : i < 35 ? 1 : 0));
    const model = trainGbdt(data, { rounds: 1, maxLeaves: 2, learningRate: 0.1, l2: 1, minSamplesLeaf: 1 });
    expect(model.baseScore).toBe(0);
    const t = model.trees[0]!;
    expect(t.feature).toEqual([0, -1, -1]);
    expect(t.threshold[0]).toBe(0.5);
    expect(t.value[1]).toBeCloseTo(-1 / 12, 12);
    expect(t.value[2]).toBeCloseTo(1 / 12, 12);
    expect(t.gain[0]).toBeCloseTo(25 / 3, 10);
    expect(t.count).toEqual([40, 20, 20]);
    expect(predictRaw(model, [0])).toBeCloseTo(-1 / 12, 12);
    expect(predictRaw(model, [0.5])).toBeCloseTo(-1 / 12, 12); // x <= threshold goes left
    expect(predictRaw(model, [0.51])).toBeCloseTo(1 / 12, 12);
  });

  it('routes missing values to the side learned in training', () => {
    // NaN rows all click; non-missing rows click when x > 0.8
    const rng = seededRng(3);
    const xs = Array.from({ length: 2000 }, (_, i) => (i % 4 === 0 ? NaN : rng.next()));
    const data = oneFeature(xs, (x) => (Number.isNaN(x) || x > 0.8 ? 1 : 0));
    const model = trainGbdt(data, { rounds: 20, learningRate: 0.3, maxLeaves: 3 });
    expect(predictProba(model, [NaN])).toBeGreaterThan(0.9);
    expect(predictProba(model, [0.9])).toBeGreaterThan(0.9);
    expect(predictProba(model, [0.3])).toBeLessThan(0.1);
    // the first split uses the NaN direction it learned
    const t = model.trees[0]!;
    expect(t.missingLeft[0]).toBe(t.value[t.left[0]!]! > t.value[t.right[0]!]!);
  });

  it('sends NaN to the larger child for a feature that had none in training', () => {
    // 300 rows x < 0.3 click, 700 rows x >= 0.3 do not: NaN goes with the 700
    const xs = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const model = trainGbdt(
      oneFeature(xs, (x) => (x < 0.3 ? 1 : 0)),
      { rounds: 5, maxLeaves: 2, minSamplesLeaf: 1 },
    );
    expect(model.trees[0]!.missingLeft[0]).toBe(false);
    expect(predictRaw(model, [NaN])).toBe(predictRaw(model, [0.9]));
  });

  it('learns a non-monotone shape: y = 1 when |x| < 0.5', () => {
    const rng = seededRng(11);
    const xs = Array.from({ length: 4000 }, () => rng.next() * 2 - 1);
    const model = trainGbdt(
      oneFeature(xs, (x) => (Math.abs(x) < 0.5 ? 1 : 0)),
      { rounds: 30, learningRate: 0.3, maxLeaves: 4 },
    );
    for (const x of [-0.4, 0, 0.3, 0.45]) expect(predictProba(model, [x])).toBeGreaterThan(0.95);
    for (const x of [-0.95, -0.6, 0.6, 0.99]) expect(predictProba(model, [x])).toBeLessThan(0.05);
  });

  it('is deterministic given the seed, subsampling included', () => {
    const data = loadCsv('test.csv');
    const params = { rounds: 15, subsample: 0.7, colsample: 0.5, binSample: 3000, seed: 5 };
    const a = JSON.stringify(trainGbdt(data, params));
    expect(JSON.stringify(trainGbdt(data, params))).toBe(a);
    expect(JSON.stringify(trainGbdt(data, { ...params, seed: 6 }))).not.toBe(a);
  });

  it('round-trips through JSON with identical predictions', () => {
    const data = loadCsv('test.csv');
    const model = trainGbdt(data, { rounds: 20, maxLeaves: 15 });
    const copy = JSON.parse(JSON.stringify(model)) as GbdtModel;
    expect(copy).toEqual(model);
    const scorer = compileModel(copy);
    const out = scorer.predictRawBatch(data.X, data.n, new Float64Array(data.n));
    for (let i = 0; i < data.n; i += 97) {
      const expectRaw = predictRaw(model, data.X, i * data.d);
      expect(scorer.predictRaw(data.X, i * data.d)).toBe(expectRaw);
      expect(out[i]).toBe(expectRaw);
      expect(predictProba(copy, Array.from(data.X.subarray(i * data.d, (i + 1) * data.d)))).toBe(predictProba(model, data.X, i * data.d));
    }
  });

  it('scores as the JSON trees do, in batches, single rows and cascades of tree ranges (NaN included)', () => {
    const data = loadCsv('test.csv');
    const model = trainGbdt(loadCsv('train.csv'), { rounds: 30, maxLeaves: 31 });
    // The reference: walk each JSON tree (x <= threshold goes left, NaN by missingLeft), sum in tree order.
    const walk = (t: GbdtTree, o: number): number => {
      let node = 0;
      while (t.feature[node]! >= 0) {
        const v = data.X[o + t.feature[node]!]!;
        node = (Number.isNaN(v) ? t.missingLeft[node] : v <= t.threshold[node]!) ? t.left[node]! : t.right[node]!;
      }
      return t.value[node]!;
    };
    const reference = (o: number): number => model.trees.reduce((s, t) => s + walk(t, o), model.baseScore);
    const scorer = compileModel(model);
    expect(scorer.trees).toBe(30);
    const batch = scorer.predictRawBatch(data.X, data.n, new Float64Array(data.n));
    // Cascade: every row's first 7 trees, then the rest for every third row in two ranges.
    const part = new Float64Array(data.n).fill(scorer.baseScore);
    scorer.addTrees(data.X, null, data.n, part, 0, 7);
    const rows = Int32Array.from({ length: Math.ceil(data.n / 3) }, (_, j) => 3 * j);
    scorer.addTrees(data.X, rows, rows.length, part, 7, 19);
    scorer.addTrees(data.X, rows, rows.length, part, 19, scorer.trees);
    let missing = 0;
    for (let i = 0; i < data.n; i++) {
      const o = i * data.d;
      for (let j = 0; j < data.d; j++) if (Number.isNaN(data.X[o + j])) missing++;
      const r = reference(o);
      expect(batch[i]).toBe(r);
      expect(scorer.predictRaw(data.X, o)).toBe(r);
      if (i % 3 === 0) expect(part[i]).toBe(r);
    }
    expect(missing).toBeGreaterThan(0);
  });

  it('scores the same doubles in lockstep batches of any size, rows in any order, single-leaf trees included', () => {
    const data = loadCsv('test.csv');
    const model = trainGbdt(loadCsv('train.csv'), { rounds: 12, maxLeaves: 31 });
    // A tree that is one leaf (depth 0) between real ones: lockstep walks it in zero steps.
    const stump: GbdtTree = {
      ...model.trees[0]!,
      feature: [-1],
      threshold: [0],
      left: [-1],
      right: [-1],
      value: [0.25],
      missingLeft: [true],
      gain: [0],
      count: [1],
    };
    const withStump = { ...model, trees: [model.trees[0]!, stump, ...model.trees.slice(1)] };
    for (const m of [withStump, model]) {
      const scorer = compileModel(m);
      for (const size of [1, 2, 3, 4, 5, 7, 8, 9, 13]) {
        // Rows from the end backwards: out is written at each row's own index.
        const rows = Int32Array.from({ length: size }, (_, j) => data.n - 1 - 5 * j);
        const out = new Float64Array(data.n).fill(scorer.baseScore);
        scorer.addTrees(data.X, rows, size, out, 0, scorer.trees);
        for (const r of rows) expect(out[r]).toBe(scorer.predictRaw(data.X, r * data.d));
        const first = new Float64Array(size).fill(scorer.baseScore);
        scorer.addTrees(data.X, null, size, first, 0, scorer.trees);
        for (let r = 0; r < size; r++) expect(first[r]).toBe(scorer.predictRaw(data.X, r * data.d));
      }
    }
  });

  it('keeps to maxLeaves, maxDepth and minSamplesLeaf', () => {
    const data = loadCsv('test.csv');
    const model = trainGbdt(data, { rounds: 10, maxLeaves: 12, maxDepth: 3, minSamplesLeaf: 100 });
    for (const t of model.trees) {
      expect(leaves(t)).toBeLessThanOrEqual(8);
      expect(depthOf(t)).toBeLessThanOrEqual(3);
      t.feature.forEach((f, i) => f < 0 && expect(t.count[i]).toBeGreaterThanOrEqual(100));
    }
    const wide = trainGbdt(data, { rounds: 3, maxLeaves: 12, maxDepth: 0, minSamplesLeaf: 5 });
    for (const t of wide.trees) expect(leaves(t)).toBe(12);
    expect(featureImportance(wide).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('uses sample weights: the base score is the weighted log-odds, zero-weight rows do not count', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    const data = oneFeature(xs, (x) => (x < 20 ? 1 : 0));
    // positives weighted 2: rate = 40 / (40 + 80)
    const w = Float32Array.from(xs, (x) => (x < 20 ? 2 : 1));
    expect(trainGbdt({ ...data, w }, { rounds: 0 }).baseScore).toBeCloseTo(Math.log(40 / 80), 12);
    // rows 50..99 with weight 0: the same model as without them, apart from their bins and counts
    const half = oneFeature(xs.slice(0, 50), (x) => (x < 20 ? 1 : 0));
    const zero = Float32Array.from(xs, (x) => (x < 50 ? 1 : 0));
    const a = trainGbdt(half, { rounds: 3, maxLeaves: 2, l2: 0, minSamplesLeaf: 1 });
    const b = trainGbdt({ ...data, w: zero }, { rounds: 3, maxLeaves: 2, l2: 0, minSamplesLeaf: 1 });
    expect(b.baseScore).toBeCloseTo(a.baseScore, 12);
    for (let k = 0; k < 3; k++) {
      expect(b.trees[k]!.value[1]).toBeCloseTo(a.trees[k]!.value[1]!, 6);
      expect(b.trees[k]!.value[2]).toBeCloseTo(a.trees[k]!.value[2]!, 6);
    }
  });

  it('reports progress per round, with the validation loss', () => {
    const data = loadCsv('test.csv');
    const seen: number[] = [];
    const losses: number[] = [];
    const model = trainGbdt(
      data,
      { rounds: 5 },
      {
        valid: data,
        onProgress: (round, rounds, info) => {
          seen.push(round);
          expect(rounds).toBe(5);
          losses.push(info.validLogLoss!);
        },
      },
    );
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    // the validation set is the training set here, so its loss is the training loss
    expect(losses[4]).toBeCloseTo(model.metrics!.trainLogLoss, 10);
    expect(losses[4]).toBeLessThan(losses[0]!);
  });

  it('stops early at the best validation round, keeping the trees of an unstopped run up to it', () => {
    // Labels that are pure noise: every tree after the first few fits noise, so the validation loss turns up.
    const rng = seededRng(5);
    const make = (n: number): GbdtData => {
      const X = new Float32Array(n * 4);
      const y = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < 4; j++) X[i * 4 + j] = rng.next();
        y[i] = rng.next() < 0.2 ? 1 : 0;
      }
      return { X, n, d: 4, y };
    };
    const train = make(2000);
    const valid = make(2000);
    const params = { rounds: 60, learningRate: 0.3, minSamplesLeaf: 5 };
    const losses: number[] = [];
    const full = trainGbdt(train, params, { valid, onProgress: (_r, _n, info) => losses.push(info.validLogLoss!) });
    const stopped = trainGbdt(train, params, { valid, earlyStopping: { rounds: 5 } });
    // The best round is the first minimum of the unstopped run's validation losses (tolerance 1e-7).
    let best = 0;
    for (let r = 1; r < losses.length; r++) if (losses[r]! < losses[best]! - 1e-7) best = r;
    const firstStall = losses.findIndex((_, r) => r >= best + 5);
    expect(firstStall).toBeGreaterThan(0);
    expect(stopped.metrics!.bestRound).toBe(best + 1);
    expect(stopped.trees).toHaveLength(best + 1);
    expect(stopped.trees.length).toBeLessThan(60);
    expect(stopped.trees).toEqual(full.trees.slice(0, best + 1));
    // Its validation loss is the best round's, recomputed from the kept trees (same terms: exact up to 1e-12).
    expect(stopped.metrics!.validLogLoss).toBe(losses[best]);
    const s = compileModel(stopped);
    expect(
      logLoss(
        Array.from({ length: valid.n }, (_, i) => s.predictProba(valid.X, i * 4)),
        valid.y,
      ),
    ).toBeCloseTo(losses[best]!, 12);
    expect(() => trainGbdt(train, params, { earlyStopping: { rounds: 5 } })).toThrow(/validation set/);
  });

  it('rejects bad parameters and bad models', () => {
    expect(resolveGbdtParams({})).toEqual(DEFAULT_GBDT_PARAMS);
    expect(() => resolveGbdtParams({ maxBins: 256 })).toThrow(/maxBins/);
    expect(() => resolveGbdtParams({ maxLeaves: 1 })).toThrow(/maxLeaves/);
    expect(() => resolveGbdtParams({ subsample: 0 })).toThrow(/subsample/);
    const model = trainGbdt(
      oneFeature([0, 1, 2, 3], (x) => (x > 1 ? 1 : 0)),
      { rounds: 1, minSamplesLeaf: 1 },
    );
    expect(() => compileModel({ ...model, version: 2 as 1 })).toThrow(/v1/);
    const t = model.trees[0]!;
    expect(() => compileModel({ ...model, trees: [{ ...t, left: t.left.map(() => 0) }] })).toThrow(/children/);
  });
});

describe('auc and logLoss', () => {
  it('match hand-computed values', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    // a tie between a positive and a negative counts one half: pairs (p, n) = (0.5, 0.5) ½, (0.5, 0.2) 1
    expect(auc([0.5, 0.5, 0.2], [1, 0, 0])).toBe(0.75);
    expect(auc([1, 2, 3], [1, 1, 1])).toBeNaN();
    expect(auc([3, 2, 1], [1, 0, 0])).toBe(1);
    expect(logLoss([0.5, 0.5], [1, 0])).toBeCloseTo(Math.log(2), 15);
    expect(logLoss([0.9], [1])).toBeCloseTo(-Math.log(0.9), 15);
  });
});
