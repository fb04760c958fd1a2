/**
 * The `model` kind's ranking on a small fresh state: with `rerank` 0 every candidate gets every
 * tree; the two-stage ranking (first `prescoreTrees` trees for all, the rest for the best `rerank`)
 * returns scores that are the full model's exactly, and the same slate when `rerank` covers every
 * candidate. The model is trained on random rows: only the arithmetic of the ranking is tested here
 * (what a trained model ranks is test/main/model-kind.test.ts and test/app/model-wins.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { DEFAULT_FEATURE_PARAMS, FEATURE_NAMES, FeatureState } from '../../../src/core/ml/features.js';
import { compileModel, trainGbdt } from '../../../src/core/ml/gbdt.js';
import type { RankerArtifact } from '../../../src/core/ml/model.js';
import { modelKind } from '../../../src/core/recommend/kinds/model.js';
import { RecommenderRegistry } from '../../../src/core/recommend/registry.js';
import type { Signal } from '../../../src/core/recommend/signals.js';
import { article, context, DAY, freshState, HOUR, MIN, NOW, read } from './helpers.js';

const d = FEATURE_NAMES.length;
const rng = seededRng(3);
const articles = Array.from({ length: 80 }, (_, i) => article(`a${i}`, ['news', 'sport', 'culture'][i % 3]!, NOW - (i * 100 * HOUR) / 80));
const signals: Signal[] = [];
for (let r = 0; r < 300; r++) {
  const start = NOW - DAY + rng.int(DAY - HOUR);
  for (let j = 0; j < 4; j++) signals.push(read(`r${r}`, `a${Math.floor(80 * rng.next() ** 2)}`, start + j * 3 * MIN));
}
signals.sort((a, b) => a.ts - b.ts);

// Random rows, labels from a few columns: trees with varied splits over the features' ranges.
const n = 3000;
const X = new Float32Array(n * d);
const y = new Uint8Array(n);
for (let i = 0; i < n; i++) {
  for (let j = 0; j < d; j++) X[i * d + j] = j === 10 ? 100 * rng.next() : 3 * rng.next() - 0.5;
  const z = X[i * d]! + X[i * d + 12]! - X[i * d + 10]! / 40 + X[i * d + 4]! - 2;
  y[i] = rng.next() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
}
const scorer = compileModel(trainGbdt({ X, n, d, y }, { rounds: 40, maxLeaves: 15 }));
const artifact: RankerArtifact = { ok: true, ranker: { version: 1, scorer, params: DEFAULT_FEATURE_PARAMS } };
const kind = modelKind(() => Promise.resolve(artifact));
const registry = new RecommenderRegistry().register(kind);

function recommender(params: Record<string, number>) {
  const state = freshState(articles, signals);
  return { state, rec: kind.create(registry.validate({ kind: 'model', version: '1', params }), state, artifact) };
}

/** The candidates of a request and the full model's score of each, from a feature state fed the same signals. */
function fullScores(req: { articleId: string; readerId: string }) {
  const { state } = recommender({});
  const ctx = context(state, { ...req, k: 5 });
  const fs = new FeatureState(state.catalog);
  for (const s of signals) fs.add(s);
  const q = { readerId: ctx.readerId, articleId: ctx.articleId, ts: ctx.now };
  const ids = fs.candidates(q, ctx.eligible, 200, ctx.horizon);
  const rows = fs.features(q, ids);
  return new Map(ids.map((id, i) => [id, scorer.predictRaw(rows, i * d)]));
}

describe('the model kind', () => {
  const requests = [
    { articleId: 'a3', readerId: 'r7' },
    { articleId: 'a0', readerId: 'r150' },
    { articleId: 'a20', readerId: 'nobody' },
  ];

  it('ranks every candidate by every tree with rerank 0', () => {
    for (const req of requests) {
      const full = fullScores(req);
      const { state, rec } = recommender({ rerank: 0 });
      const got = rec.recommend(context(state, { ...req, k: 5 }), 5);
      const best = [...full].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5);
      expect(full.size).toBeGreaterThan(20);
      expect(got.map((c) => [c.articleId, c.score])).toEqual(best);
    }
  });

  it('gives the reranked candidates their full-model score exactly, best first, and the full slate when rerank covers all', () => {
    for (const req of requests) {
      const full = fullScores(req);
      const { state, rec } = recommender({ rerank: 8, prescoreTrees: 10 });
      const ctx = context(state, { ...req, k: 5 });
      const got = rec.recommend(ctx, 5);
      expect(got).toHaveLength(5);
      for (const c of got) {
        expect(c.score).toBe(full.get(c.articleId));
        expect(ctx.eligible(c.articleId)).toBe(true);
      }
      expect(got.map((c) => c.score)).toEqual(got.map((c) => c.score).sort((a, b) => b - a));
      const all = recommender({ rerank: 1000, prescoreTrees: 10 });
      const plain = recommender({ rerank: 0 });
      expect(all.rec.recommend(context(all.state, { ...req, k: 5 }), 5)).toEqual(
        plain.rec.recommend(context(plain.state, { ...req, k: 5 }), 5),
      );
    }
  });
});
