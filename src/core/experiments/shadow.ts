/**
 * Agreement between a shadow slate and the live slate of the same request.
 */

/** Jaccard@k = |A_k ∩ B_k| / |A_k ∪ B_k| over the top k of each list; 1 for two empty lists. */
export function jaccardAtK(a: readonly string[], b: readonly string[], k: number): number {
  const sa = new Set(a.slice(0, k));
  const sb = new Set(b.slice(0, k));
  if (sa.size === 0 && sb.size === 0) return 1;
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return inter / (sa.size + sb.size - inter);
}

/**
 * Rank-biased overlap, extrapolated (Webber, Moffat, Zobel, "A similarity measure for indefinite
 * rankings", ACM TOIS 28(4), 2010, eq. 32, for two lists evaluated to the same depth k):
 *
 *   RBO_ext = (X_k / k)·p^k + ((1 − p) / p) · Σ_{d=1..k} (X_d / d)·p^d
 *
 * where X_d = |A_{1:d} ∩ B_{1:d}|. p = 0.9 weighs the top 10 ranks by ~86%. Identical lists give 1,
 * disjoint lists 0. Lists of different length are compared to the shorter one's depth.
 */
export function rbo(a: readonly string[], b: readonly string[], p = 0.9): number {
  const k = Math.min(a.length, b.length);
  if (k === 0) return a.length === b.length ? 1 : 0;
  const seenA = new Set<string>();
  const seenB = new Set<string>();
  let x = 0;
  let sum = 0;
  for (let d = 1; d <= k; d++) {
    const ia = a[d - 1]!;
    const ib = b[d - 1]!;
    if (ia === ib) x++;
    else {
      if (seenB.has(ia)) x++;
      if (seenA.has(ib)) x++;
    }
    seenA.add(ia);
    seenB.add(ib);
    sum += (x / d) * p ** d;
  }
  return (x / k) * p ** k + ((1 - p) / p) * sum;
}

/** Nearest-rank percentile (p in [0, 100]) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}
