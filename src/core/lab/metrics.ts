/**
 * Ranking metrics of the MIND benchmark, per impression and averaged over impressions. Source:
 * the benchmark's scorer, msnews/MIND `evaluate.py` (Wu et al., "MIND: A Large-scale Dataset for
 * News Recommendation", ACL 2020), which reads a submission of 1-based ranks, turns each rank r
 * into the score 1/r, and computes per impression `roc_auc_score`, `mrr_score`, `ndcg_score(k=5)`
 * and `ndcg_score(k=10)`, then the plain mean of each over impressions. The lab computes them from
 * the same ranks it writes to `--predictions`, so its figures are what the scorer would report.
 * Labels are 0/1 (clicked). Tests: test/core/lab/metrics.test.ts (hand-computed, exact to 1e-12).
 */
import type { Rng } from '../kernel/rng.js';

/**
 * 1-based ranks of `scores`, higher score = better rank, in the candidates' order: the submission
 * format's `[r1, r2, ...]`. Equal scores are ordered at random with `rng` (a constant scorer gets
 * a uniformly random ranking), so the result is always a permutation of 1..n. NaN ranks last.
 *
 * @example
 * rankScores([0.1, 0.9, 0.5], seededRng(1)) // [3, 1, 2]
 */
export function rankScores(scores: readonly number[], rng: Rng): number[] {
  const n = scores.length;
  // A random key per candidate breaks ties; drawn for every candidate so the stream used does not
  // depend on where the ties are.
  const key = scores.map(() => rng.next());
  const value = (i: number): number => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => value(b) - value(a) || key[a]! - key[b]! || a - b);
  const ranks = new Array<number>(n);
  order.forEach((candidate, position) => (ranks[candidate] = position + 1));
  return ranks;
}

/** Candidate indices best first, from 1-based ranks (a permutation of 1..n). */
function byRank(ranks: readonly number[]): number[] {
  const order = new Array<number>(ranks.length);
  ranks.forEach((r, i) => (order[r - 1] = i));
  return order;
}

/**
 * Area under the ROC curve, as sklearn's `roc_auc_score(y_true, y_score)` for one impression: the
 * share of (clicked, not clicked) pairs where the clicked one scores higher, a tie counting 1/2
 * (Mann-Whitney U / (n_pos · n_neg)). Undefined (null) when the impression has no click or only
 * clicks (sklearn raises "Only one class present"): the lab skips such impressions for AUC.
 *
 * @example
 * auc([1, 0, 0], [0.9, 0.1, 0.5]) // 1
 */
export function auc(labels: readonly number[], scores: readonly number[]): number | null {
  let pos = 0;
  let neg = 0;
  let wins = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    pos++;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] === 1) continue;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  neg = labels.length - pos;
  return pos === 0 || neg === 0 ? null : wins / (pos * neg);
}

/**
 * Mean reciprocal rank over all clicked items, as MIND's `mrr_score`:
 *   MRR = Σ_i y_(i) / i  /  Σ_i y_i,   i = 1-based rank, y_(i) the label at rank i.
 * Null when nothing was clicked (0/0 in the benchmark).
 *
 * @example
 * mrr([0, 1, 1], [3, 1, 2]) // (1/1 + 1/2) / 2 = 0.75
 */
export function mrr(labels: readonly number[], ranks: readonly number[]): number | null {
  let clicks = 0;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    clicks++;
    sum += 1 / ranks[i]!;
  }
  return clicks === 0 ? null : sum / clicks;
}

/** DCG@k of labels taken in `order`: Σ_{i ≤ k} (2^y_(i) − 1) / log2(i + 1), i 1-based (MIND `dcg_score`). */
function dcg(labels: readonly number[], order: readonly number[], k: number): number {
  let sum = 0;
  for (let i = 0; i < Math.min(k, order.length); i++) sum += (2 ** labels[order[i]!]! - 1) / Math.log2(i + 2);
  return sum;
}

/**
 * nDCG@k as MIND's `ndcg_score`: DCG@k of the ranking over DCG@k of the ideal ranking (labels
 * sorted descending), gain 2^y − 1, discount log2(rank + 1). Null when nothing was clicked (the
 * ideal DCG is 0 and the benchmark divides by it).
 *
 * @example
 * ndcg([0, 1], [1, 2], 10) // (1/log2(3)) / 1 ≈ 0.6309
 */
export function ndcg(labels: readonly number[], ranks: readonly number[], k: number): number | null {
  const ideal = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => labels[b]! - labels[a]!);
  const best = dcg(labels, ideal, k);
  return best === 0 ? null : dcg(labels, byRank(ranks), k) / best;
}

/** One impression's metrics; null = skipped for that metric. */
export interface ImpressionMetrics {
  auc: number | null;
  mrr: number | null;
  ndcg5: number | null;
  ndcg10: number | null;
}

/**
 * All four metrics of one impression from its labels and 1-based ranks, as the benchmark's scorer
 * computes them from a submission (score = 1/rank). No click: every metric null (skipped); all
 * clicked: AUC null (one class), the others 1.
 */
export function impressionMetrics(labels: readonly number[], ranks: readonly number[]): ImpressionMetrics {
  return {
    auc: auc(
      labels,
      ranks.map((r) => 1 / r),
    ),
    mrr: mrr(labels, ranks),
    ndcg5: ndcg(labels, ranks, 5),
    ndcg10: ndcg(labels, ranks, 10),
  };
}

/** Sufficient statistics of the four means: a sum and a count each. Immutable: `addImpression` returns a new value. */
export interface MetricTotals {
  readonly auc: { readonly sum: number; readonly n: number };
  readonly mrr: { readonly sum: number; readonly n: number };
  readonly ndcg5: { readonly sum: number; readonly n: number };
  readonly ndcg10: { readonly sum: number; readonly n: number };
}

export const EMPTY_TOTALS: MetricTotals = Object.freeze({
  auc: { sum: 0, n: 0 },
  mrr: { sum: 0, n: 0 },
  ndcg5: { sum: 0, n: 0 },
  ndcg10: { sum: 0, n: 0 },
});

const plus = (t: { sum: number; n: number }, v: number | null) => (v === null ? t : { sum: t.sum + v, n: t.n + 1 });

export function addImpression(t: MetricTotals, m: ImpressionMetrics): MetricTotals {
  return { auc: plus(t.auc, m.auc), mrr: plus(t.mrr, m.mrr), ndcg5: plus(t.ndcg5, m.ndcg5), ndcg10: plus(t.ndcg10, m.ndcg10) };
}

/** The means over impressions (np.mean of the per-impression values); null when no impression counted. */
export function means(t: MetricTotals): ImpressionMetrics {
  const mean = (s: { sum: number; n: number }) => (s.n === 0 ? null : s.sum / s.n);
  return { auc: mean(t.auc), mrr: mean(t.mrr), ndcg5: mean(t.ndcg5), ndcg10: mean(t.ndcg10) };
}
