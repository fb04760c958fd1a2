/**
 * Metrics for a binary classifier's scores, used to check the GBDT (test/core/ml/gbdt.test.ts) and
 * to report training runs. The ranking metrics of the offline lab (per-impression AUC, MRR, nDCG)
 * live in core/lab; these are over one pooled set of scores.
 */

/**
 * Area under the ROC curve, as the Mann-Whitney U statistic over the positives' ranks:
 *
 *   AUC = (R+ - P(P+1)/2) / (P N)
 *
 * where R+ is the sum of the positives' ranks among all scores (1-based, ascending; tied scores share
 * their average rank, so a tie counts one half), P the number of positives and N of negatives.
 * Equals sklearn.metrics.roc_auc_score (Hanley & McNeil 1982). NaN when P = 0 or N = 0.
 *
 * @example
 * auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) // 0.75
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`auc: ${n} scores but ${labels.length} labels`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && scores[order[j]!]! === scores[order[i]!]!) j++;
    // ranks i+1 .. j share the average (i + 1 + j) / 2
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (labels[order[k]!]! > 0) {
        positives++;
        rankSum += avgRank;
      }
    }
    i = j;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Mean binary log loss of probabilities p against labels y, each p clipped to [1e-15, 1 - 1e-15]:
 *   -(1/n) Σ y log p + (1 - y) log(1 - p)
 * (sklearn.metrics.log_loss with its default clipping).
 */
export function logLoss(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = probs.length;
  if (labels.length !== n) throw new RangeError(`logLoss: ${n} probabilities but ${labels.length} labels`);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, probs[i]!));
    sum -= labels[i]! > 0 ? Math.log(p) : Math.log(1 - p);
  }
  return n === 0 ? NaN : sum / n;
}
