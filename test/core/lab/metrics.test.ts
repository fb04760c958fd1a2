import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { addImpression, auc, EMPTY_TOTALS, impressionMetrics, means, mrr, ndcg, rankScores } from '../../../src/core/lab/metrics.js';

// Hand-computed from MIND evaluate.py's definitions (see src/core/lab/metrics.ts); tolerance 1e-12.
const L3 = 1 / Math.log2(3); // discount at rank 2
const L5 = 1 / Math.log2(5); // discount at rank 4

describe('per-impression metrics (ranks 1-based, labels in candidate order)', () => {
  it.each([
    // labels, ranks, auc, mrr, ndcg5, ndcg10
    { labels: [1, 0, 0], ranks: [1, 2, 3], auc: 1, mrr: 1, n5: 1, n10: 1 },
    { labels: [0, 1, 0], ranks: [1, 2, 3], auc: 0.5, mrr: 0.5, n5: L3, n10: L3 },
    { labels: [0, 1, 1], ranks: [3, 1, 2], auc: 1, mrr: 0.75, n5: 1, n10: 1 },
    // ranking idx1(0) idx0(1) idx3(0) idx2(1): DCG = 1/log2 3 + 1/log2 5, ideal 1 + 1/log2 3
    { labels: [1, 0, 1, 0], ranks: [2, 1, 4, 3], auc: 0.25, mrr: (1 / 2 + 1 / 4) / 2, n5: (L3 + L5) / (1 + L3), n10: (L3 + L5) / (1 + L3) },
    // the click at rank 6: outside the top 5, inside the top 10
    { labels: [0, 0, 0, 0, 0, 1, 0], ranks: [1, 2, 3, 4, 5, 6, 7], auc: 1 / 6, mrr: 1 / 6, n5: 0, n10: 1 / Math.log2(7) },
  ])('labels $labels ranks $ranks', ({ labels, ranks, auc: a, mrr: r, n5, n10 }) => {
    const m = impressionMetrics(labels, ranks);
    expect(m.auc).toBeCloseTo(a, 12);
    expect(m.mrr).toBeCloseTo(r, 12);
    expect(m.ndcg5).toBeCloseTo(n5, 12);
    expect(m.ndcg10).toBeCloseTo(n10, 12);
  });

  it('one candidate, clicked: AUC skipped (one class), MRR and nDCG 1', () => {
    expect(impressionMetrics([1], [1])).toEqual({ auc: null, mrr: 1, ndcg5: 1, ndcg10: 1 });
  });

  it('all clicked: AUC skipped, MRR the mean of 1/rank over the clicks, nDCG 1', () => {
    expect(impressionMetrics([1, 1], [2, 1])).toEqual({ auc: null, mrr: 0.75, ndcg5: 1, ndcg10: 1 });
  });

  it('no click: every metric skipped (the benchmark divides by zero)', () => {
    expect(impressionMetrics([0, 0, 0], [1, 2, 3])).toEqual({ auc: null, mrr: null, ndcg5: null, ndcg10: null });
    expect(impressionMetrics([0], [1])).toEqual({ auc: null, mrr: null, ndcg5: null, ndcg10: null });
  });

  it('AUC counts a tied pair as 1/2, as roc_auc_score does', () => {
    expect(auc([1, 0], [0.5, 0.5])).toBe(0.5);
    expect(auc([1, 0, 0], [0.5, 0.5, 0.1])).toBe(0.75);
    expect(auc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.9])).toBe(0.75);
  });

  it('mrr and ndcg take ranks, not scores', () => {
    expect(mrr([0, 0, 1], [1, 2, 3])).toBeCloseTo(1 / 3, 12);
    expect(ndcg([0, 1], [1, 2], 10)).toBeCloseTo(L3, 12);
    expect(ndcg([0, 1], [1, 2], 1)).toBe(0);
  });
});

describe('rankScores: 1-based ranks in candidate order, ties at random', () => {
  it('ranks higher scores first', () => {
    expect(rankScores([0.1, 0.9, 0.5], seededRng(1))).toEqual([3, 1, 2]);
    expect(rankScores([7], seededRng(1))).toEqual([1]);
    expect(rankScores([], seededRng(1))).toEqual([]);
  });

  it('puts NaN last', () => {
    expect(rankScores([Number.NaN, 1, 0], seededRng(1))).toEqual([3, 1, 2]);
  });

  it('breaks ties at random, reproducibly from the seed: a constant scorer gets a random permutation', () => {
    const a = rankScores([0, 0, 0, 0, 0, 0], seededRng(7));
    expect([...a].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rankScores([0, 0, 0, 0, 0, 0], seededRng(7))).toEqual(a);
    // Each of 3 tied candidates is first about a third of the time (n = 3000: 1000 ± 5 sd of 26).
    const rng = seededRng(3);
    const first = [0, 0, 0];
    for (let i = 0; i < 3000; i++) first[rankScores([1, 1, 1], rng).indexOf(1)]!++;
    for (const f of first) expect(Math.abs(f - 1000)).toBeLessThan(130);
  });

  it('keeps the order among untied scores while shuffling the tied ones', () => {
    const r = rankScores([5, 1, 5, 0], seededRng(11));
    expect(r[3]).toBe(4);
    expect(r[1]).toBe(3);
    expect([r[0], r[2]].sort()).toEqual([1, 2]);
  });
});

describe('means over impressions', () => {
  it('averages each metric over the impressions that count for it', () => {
    let t = EMPTY_TOTALS;
    t = addImpression(t, impressionMetrics([1, 0], [1, 2])); // auc 1, mrr 1
    t = addImpression(t, impressionMetrics([0, 1], [1, 2])); // auc 0, mrr 1/2
    t = addImpression(t, impressionMetrics([1, 1], [1, 2])); // auc skipped, mrr 3/4
    t = addImpression(t, impressionMetrics([0, 0], [1, 2])); // skipped
    const m = means(t);
    expect(m.auc).toBe(0.5);
    expect(m.mrr).toBeCloseTo((1 + 0.5 + 0.75) / 3, 12);
    expect(t.auc.n).toBe(2);
    expect(t.mrr.n).toBe(3);
    expect(means(EMPTY_TOTALS)).toEqual({ auc: null, mrr: null, ndcg5: null, ndcg10: null });
  });
});
