/**
 * Drift between two samples (a reference window and a current one): the Population Stability
 * Index over bins, and the two-sample Kolmogorov-Smirnov statistic with its asymptotic p-value.
 * Pure; used by the data report (src/app/data-report.ts). Tests: test/core/stats/drift.test.ts.
 */
import { normalSf } from './distributions.js';

/**
 * PSI below this: stable. 0.1 to 0.2: a moderate shift, worth a look. Above PSI_SIGNIFICANT: a
 * significant shift. The usual credit-scoring rule of thumb (Siddiqi, "Credit Risk Scorecards",
 * Wiley 2006, ch. 8; Yurdakul, "Statistical properties of population stability index", 2018,
 * who shows the thresholds ignore sample size: see expectedNullPsi).
 */
export const PSI_MODERATE = 0.1;
export const PSI_SIGNIFICANT = 0.2;

/**
 * Share given to an empty bin before the logarithm (on either side), so PSI stays finite. A bin
 * empty in both samples adds nothing. Small enough that one empty bin alone, facing a share s on
 * the other side, adds about s·ln(s/1e-4): an empty bin where 5 % was expected still scores 0.31.
 */
export const PSI_EPSILON = 1e-4;

export type PsiLevel = 'stable' | 'moderate' | 'significant';

export interface PsiResult {
  psi: number;
  level: PsiLevel;
  /** Per bin: reference share, current share and its term of the sum. */
  bins: { label: string; expected: number; actual: number; term: number }[];
}

/** The level of a PSI value under PSI_MODERATE and PSI_SIGNIFICANT. */
export function psiLevel(psi: number): PsiLevel {
  return psi > PSI_SIGNIFICANT ? 'significant' : psi >= PSI_MODERATE ? 'moderate' : 'stable';
}

/**
 * Population Stability Index of a current distribution against a reference one, over the same bins:
 *
 *   PSI = Σ_i (a_i − e_i) · ln(a_i / e_i)
 *
 * where e_i and a_i are the shares of bin i in the reference and the current sample (counts over
 * their totals), each share of an empty bin replaced by PSI_EPSILON. It is the symmetrised
 * Kullback-Leibler divergence KL(a‖e) + KL(e‖a) (Siddiqi 2006; Yurdakul 2018, eq. 1). PSI = 0 when
 * either sample is empty (nothing to compare).
 *
 * @example psiFromCounts([50, 50], [60, 40]).psi // 0.0405 = (0.6−0.5)ln(1.2) + (0.4−0.5)ln(0.8)
 */
export function psiFromCounts(expected: readonly number[], actual: readonly number[], labels?: readonly string[]): PsiResult {
  if (expected.length !== actual.length) throw new RangeError(`psi: ${expected.length} reference bins but ${actual.length} current bins`);
  const te = expected.reduce((a, b) => a + b, 0);
  const ta = actual.reduce((a, b) => a + b, 0);
  const bins: PsiResult['bins'] = [];
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e0 = te > 0 ? expected[i]! / te : 0;
    const a0 = ta > 0 ? actual[i]! / ta : 0;
    let term = 0;
    if (te > 0 && ta > 0 && (e0 > 0 || a0 > 0)) {
      const e = Math.max(e0, PSI_EPSILON);
      const a = Math.max(a0, PSI_EPSILON);
      term = (a - e) * Math.log(a / e);
    }
    psi += term;
    bins.push({ label: labels?.[i] ?? String(i), expected: e0, actual: a0, term });
  }
  return { psi, level: psiLevel(psi), bins };
}

/**
 * PSI of categorical counts (a category per bin): the union of both maps' keys, sorted.
 *
 * @example psiCategorical({ world: 50, sport: 50 }, { world: 60, sport: 40 }).psi // 0.0405
 */
export function psiCategorical(expected: Readonly<Record<string, number>>, actual: Readonly<Record<string, number>>): PsiResult {
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return psiFromCounts(
    keys.map((k) => expected[k] ?? 0),
    keys.map((k) => actual[k] ?? 0),
    keys,
  );
}

/**
 * Bin edges at the deciles of a reference sample (the 10th, 20th, …, 90th percentiles, each the
 * value at rank ⌈q·n⌉ of the sorted sample, the "inverted CDF" percentile), duplicates removed: a
 * feature with many ties (a count that is mostly 0) gets fewer than ten bins. A value v falls in
 * bin i when edges[i−1] < v ≤ edges[i] (bin 0: v ≤ edges[0]; the last bin: v > the last edge), so
 * the reference's own deciles hold about a tenth of it each.
 *
 * @example decileEdges([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) // [1, 2, 3, 4, 5, 6, 7, 8, 9]
 */
export function decileEdges(reference: ArrayLike<number>): number[] {
  const xs = Float64Array.from(reference).sort();
  const n = xs.length;
  if (n === 0) return [];
  const edges: number[] = [];
  for (let q = 1; q <= 9; q++) {
    const v = xs[Math.max(0, Math.ceil((q * n) / 10) - 1)]!;
    if (edges.length === 0 || v > edges[edges.length - 1]!) edges.push(v);
  }
  // The largest value as an edge would leave an always-empty last bin.
  if (edges[edges.length - 1] === xs[n - 1]) edges.pop();
  return edges;
}

/** Counts of `values` per bin of `edges` (decileEdges's rule: bin i holds edges[i−1] < v ≤ edges[i]). */
export function binCounts(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // Binary search for the first edge ≥ v.
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid]! >= v) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  return counts;
}

/**
 * PSI of a numeric variable: bins at the deciles of the reference sample (decileEdges), shares of
 * each sample per bin, then psiFromCounts. NaN values are left out of both samples.
 *
 * @example psiNumeric(referenceAges, currentAges).level // 'stable'
 */
export function psiNumeric(reference: ArrayLike<number>, current: ArrayLike<number>): PsiResult {
  const ref = finite(reference);
  const cur = finite(current);
  const edges = decileEdges(ref);
  const labels = Array.from({ length: edges.length + 1 }, (_, i) =>
    i === 0 ? `≤ ${edges[0] ?? '∞'}` : i === edges.length ? `> ${edges[i - 1]}` : `(${edges[i - 1]}, ${edges[i]}]`,
  );
  return psiFromCounts(binCounts(ref, edges), binCounts(cur, edges), labels);
}

/**
 * The PSI two samples of sizes n and m drawn from one distribution show on average over k bins,
 * to first order: E[PSI] ≈ (k − 1)(1/n + 1/m) (PSI is n·m/(n+m) times a chi-square statistic with
 * k − 1 degrees of freedom, asymptotically; Yurdakul 2018, sec. 3). Says when a sample is too small
 * for the fixed thresholds: with 10 bins and 100 rows a side, E[PSI] is already 0.18.
 */
export function expectedNullPsi(bins: number, n: number, m: number): number {
  return n > 0 && m > 0 ? (bins - 1) * (1 / n + 1 / m) : Number.POSITIVE_INFINITY;
}

const finite = (xs: ArrayLike<number>): Float64Array => {
  const out = new Float64Array(xs.length);
  let k = 0;
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i]!)) out[k++] = xs[i]!;
  return out.subarray(0, k);
};

export interface KsResult {
  /** sup_x |F1(x) − F2(x)|. */
  d: number;
  /** Asymptotic two-sided p-value, Q_KS(√(n·m/(n+m)) · D); 1 when a sample is empty. */
  pValue: number;
  n: number;
  m: number;
}

/**
 * Two-sample Kolmogorov-Smirnov statistic D = sup_x |F1(x) − F2(x)| over the empirical CDFs of
 * the two samples (both sorted, walked together; ties advance both CDFs before the gap is taken,
 * so it equals scipy.stats.ks_2samp's statistic), and the asymptotic p-value
 *
 *   p = Q_KS(λ),  λ = √(n m / (n + m)) · D
 *
 * with Q_KS the Kolmogorov distribution's survival function (kolmogorovSf). This is scipy's
 * `ks_2samp(..., method='asymp')` before scipy 1.5 and `scipy.special.kolmogorov(λ)`; it is
 * accurate when n m / (n + m) is above a few dozen (Numerical Recipes, 3rd ed., sec. 14.3.3).
 * NaN values are left out. The data report runs it on tens of thousands of rows a side, where any
 * visible drift gives p ≈ 0: read D as the size of the shift and p as whether it is noise.
 *
 * @example ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]).d // 0.5
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const x = finite(a).sort();
  const y = finite(b).sort();
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { d: 0, pValue: 1, n, m };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < n && x[i]! === v) i++;
    while (j < m && y[j]! === v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const lambda = Math.sqrt((n * m) / (n + m)) * d;
  return { d, pValue: kolmogorovSf(lambda), n, m };
}

/**
 * Survival function of the Kolmogorov distribution (the limit law of √n · D_n, Kolmogorov 1933):
 *
 *   Q_KS(λ) = 2 Σ_{k≥1} (−1)^(k−1) exp(−2 k² λ²)
 *
 * summed until a term falls below 1e-16 of the sum (Numerical Recipes, 3rd ed., eq. 6.14.56). The
 * alternating series converges slowly for small λ, where the dual form from the Jacobi theta
 * identity is used instead:
 *
 *   1 − Q_KS(λ) = (√(2π) / λ) Σ_{k≥1} exp(−(2k − 1)² π² / (8 λ²))    (λ < 1.18, NR eq. 6.14.57)
 *
 * Equals scipy.special.kolmogorov(λ) to 1e-12 (test/core/stats/drift.test.ts).
 *
 * @example kolmogorovSf(1.3581) // 0.05
 */
export function kolmogorovSf(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    const y = Math.exp((-Math.PI * Math.PI) / (8 * lambda * lambda));
    // Terms y, y^9, y^25, y^49, ...: a few are plenty below 1.18 (y < 0.42).
    let s = 0;
    for (let k = 1; k <= 10; k++) s += Math.pow(y, (2 * k - 1) ** 2);
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * s));
  }
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    s += k % 2 === 1 ? term : -term;
    if (term < 1e-16 * s) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

export interface TwoProportionResult {
  p1: number;
  p2: number;
  /** (p2 − p1) / SE under the pooled proportion; 0 when it cannot be computed. */
  z: number;
  /** Two-sided. */
  pValue: number;
}

/**
 * Pooled two-proportion z-test of x1/n1 against x2/n2:
 *
 *   p̂ = (x1 + x2) / (n1 + n2),  z = (x2/n2 − x1/n1) / √(p̂(1 − p̂)(1/n1 + 1/n2)),  p = 2·(1 − Φ(|z|))
 *
 * (Agresti, "Categorical Data Analysis", 3rd ed., sec. 3.1.3; z² is the Pearson chi-square of the
 * 2×2 table, as checkActiveShare). p = 1 when a side is empty or p̂ is 0 or 1.
 *
 * @example twoProportionTest(100, 1000, 70, 1000).z // -2.4054
 */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number): TwoProportionResult {
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const pooled = n1 + n2 > 0 ? (x1 + x2) / (n1 + n2) : 0;
  if (!(n1 > 0 && n2 > 0 && pooled > 0 && pooled < 1)) return { p1, p2, z: 0, pValue: 1 };
  const z = (p2 - p1) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { p1, p2, z, pValue: Math.min(1, 2 * normalSf(Math.abs(z))) };
}
