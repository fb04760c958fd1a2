/**
 * Sequential engine: always-valid inference by asymptotic confidence sequences (Waudby-Smith,
 * Arnold, Wu, Wang, Ramdas, "Time-uniform central limit theory and asymptotic confidence
 * sequences", arXiv:2103.06476v7), as GrowthBook implements them (gbstats 0.8.0
 * frequentist/tests.py Sequential*TTest). Looking after every day keeps the false-positive rate at
 * or below alpha: test/core/stats/calibration.test.ts checks it over 14 looks.
 */
import { type Difference, effectMoments } from './effect.js';
import { type FrequentistResult, type Sides, defaultFrequentistResult } from './frequentist.js';
import { type ArmStat, withPooledTheta } from './statistics.js';

/** Default tuning N*: the total sample size (both arms) at which the sequence is tightest. */
export const DEFAULT_N_STAR = 5000;

export interface SequentialOptions {
  readonly alpha?: number;
  readonly sides?: Sides;
  readonly difference?: Difference;
  /** Tuning parameter N* (> 0); default 5000. */
  readonly nStar?: number;
}

/**
 * Mixture tuning ρ = √((−2 ln a + ln(−2 ln a + 1)) / N*), a = α for two-sided sequences and 2α
 * for one-sided ones (arXiv:2103.06476v7 §3, GrowthBook's choice of ρ optimal at N*).
 *
 * @example sequentialRho(0.05, 5000) // 0.0398…
 */
export function sequentialRho(alpha: number, nStar: number, twoSided = true): number {
  const a = twoSided ? alpha : 2 * alpha;
  return Math.sqrt((-2 * Math.log(a) + Math.log(-2 * Math.log(a) + 1)) / nStar);
}

/**
 * Two-sided asymptotic CS half-width (arXiv:2103.06476v7 eq. 9) for per-observation variance s²
 * after N observations: s · √(2(Nρ² + 1)/(N²ρ²) · ln(√(Nρ² + 1)/α)).
 *
 * @example sequentialHalfwidth(1, 5000, 0.05, sequentialRho(0.05, 5000)) // ≈ 0.0429, vs 1.96/√5000 ≈ 0.0277 for a fixed horizon
 */
export function sequentialHalfwidth(s2: number, n: number, alpha: number, rho: number): number {
  const nr2 = n * rho * rho + 1;
  return Math.sqrt(s2) * Math.sqrt(((2 * nr2) / (n * rho) ** 2) * Math.log(Math.sqrt(nr2) / alpha));
}

/**
 * One-sided asymptotic CS half-width (arXiv:2103.06476v7 eq. 134):
 * √(s² · 2(Nρ² + 1)/(Nρ)² · ln(1 + √(Nρ² + 1)/(2α))).
 *
 * @example sequentialHalfwidthOneSided(1, 5000, 0.05, sequentialRho(0.05, 5000, false))
 */
export function sequentialHalfwidthOneSided(s2: number, n: number, alpha: number, rho: number): number {
  const nr2 = n * rho * rho + 1;
  return Math.sqrt(s2 * ((2 * nr2) / (n * rho) ** 2) * Math.log(1 + Math.sqrt(nr2) / (2 * alpha)));
}

/**
 * Always-valid two-sided p-value from the mixture e-value (arXiv:2103.06476v7 eq. 155):
 * p = min(1, 1/E), E = exp(ρ²S²/(2(Nρ² + 1))) / √(Nρ² + 1), S² = N est²/SE². Computed in logs
 * so p stays precise (and E cannot overflow) when the evidence is overwhelming.
 *
 * @example sequentialPValue(0, 1, 1000, 0.04) // 1: no evidence
 */
export function sequentialPValue(estimate: number, se: number, n: number, rho: number): number {
  const nr2 = n * rho * rho + 1;
  const s2 = (n * estimate * estimate) / (se * se);
  const logP = 0.5 * Math.log(nr2) - (rho * rho * s2) / (2 * nr2);
  return Math.min(1, Math.exp(logP));
}

/**
 * One-sided p-value: the smallest alpha whose one-sided sequence excludes 0, found by GrowthBook's
 * bisection (alpha in [1e-5, 0.4999], stop when the bound is within 1e-6 of 0, ρ kept at the value
 * tuned for the test's own alpha). Clamped to 1e-5 when the bound excludes 0 even at 1e-5 and to
 * 0.4999 when it never does. Upstream quirk kept on purpose: the value returned is the midpoint
 * of the bracket AFTER the last update, not the alpha that met the tolerance.
 */
function oneSidedSequentialPValue(estimate: number, s2: number, n: number, rho: number, lesser: boolean): number | null {
  const bound = (alpha: number): number => {
    const hw = sequentialHalfwidthOneSided(s2, n, alpha, rho);
    return lesser ? estimate + hw : estimate - hw;
  };
  const tol = 1e-6;
  let minAlpha = 1e-5;
  let maxAlpha = 0.4999;
  // A smaller alpha gives a wider sequence: if even that one excludes 0, p is at most 1e-5.
  if (lesser ? bound(minAlpha) < 0 : bound(minAlpha) > 0) return minAlpha;
  if (lesser ? bound(maxAlpha) > 0 : bound(maxAlpha) < 0) return maxAlpha;
  let alpha = 0.5 * (minAlpha + maxAlpha);
  let diff = 0;
  for (let i = 0; i < 100; i++) {
    diff = bound(alpha);
    // Bound still on the wrong side of 0: alpha must grow (narrower sequence).
    const keepsZero = lesser ? diff > 0 : diff < 0;
    if (keepsZero) minAlpha = alpha;
    else maxAlpha = alpha;
    alpha = 0.5 * (minAlpha + maxAlpha);
    if (Math.abs(diff) < tol) return alpha;
  }
  return null;
}

/**
 * Sequential test of treatment `b` against control `a` with N = n_c + n_t and s² = SE²·N (the
 * per-observation variance the CS expects; SE from `effectMoments`, so CUPED, ratio and relative
 * effects carry over). Point estimate and SE equal the fixed-horizon test's; df is null.
 * - two-sided: CI = est ± eq. 9 half-width at α, p from eq. 155;
 * - greater / less: CI = [est − h, ∞) / (−∞, est + h] with the eq. 134 half-width, ρ tuned at 2α,
 *   p by bisection; alpha ≥ 0.5 is an error for one-sided sequences.
 *
 * @example sequentialTest(control, treatment, { nStar: 1000 }).ci
 */
export function sequentialTest(a: ArmStat, b: ArmStat, options: SequentialOptions = {}): FrequentistResult {
  const { alpha = 0.05, sides = 'two', difference = 'relative', nStar = DEFAULT_N_STAR } = options;
  const [sa, sb] = withPooledTheta(a, b);
  const m = effectMoments(sa, sb, difference);
  if (m.error) return defaultFrequentistResult(m.error);
  if (sides !== 'two' && alpha >= 0.5) return defaultFrequentistResult('ALPHA_GREATER_THAN_0.5_FOR_SEQUENTIAL_ONE_SIDED_TEST');
  const n = m.pairwiseN;
  const s2 = m.se * m.se * n;
  const base = { estimate: m.estimate, se: m.se, df: null } as const;
  if (sides === 'two') {
    const rho = sequentialRho(alpha, nStar, true);
    const hw = sequentialHalfwidth(s2, n, alpha, rho);
    return { ...base, ci: [m.estimate - hw, m.estimate + hw], pValue: sequentialPValue(m.estimate, m.se, n, rho), error: null };
  }
  const rho = sequentialRho(alpha, nStar, false);
  const hw = sequentialHalfwidthOneSided(s2, n, alpha, rho);
  const lesser = sides === 'less';
  const pValue = oneSidedSequentialPValue(m.estimate, s2, n, rho, lesser);
  return {
    ...base,
    ci: lesser ? [Number.NEGATIVE_INFINITY, m.estimate + hw] : [m.estimate - hw, Number.POSITIVE_INFINITY],
    pValue,
    error: pValue === null ? 'NUMERICAL_PVALUE_NOT_CONVERGED' : null,
  };
}
