/**
 * Power and minimum detectable effect in the middle of an experiment: how much more data would a
 * given effect need to be detected, and what effect can the data collected so far detect. Semantics
 * of GrowthBook's mid-experiment power (gbstats 0.8.0 power/midexperimentpower.py). Golden case and
 * upstream figures: test/core/stats/golden.test.ts, test/core/stats/power.test.ts.
 */
import { normalCdf, normalQuantile } from './distributions.js';
import type { NormalPrior } from './bayesian.js';
import { sequentialHalfwidth, sequentialRho } from './sequential.js';

export interface PowerSetting {
  /** Variance of the effect estimate now (SE², same scale as the MDE: relative or absolute). */
  readonly variance: number;
  /** Units in both arms now (n_c + n_t). */
  readonly pairwiseN: number;
  /** Default 0.05. */
  readonly alpha?: number;
  /** Number of tests alpha is split across (Bonferroni, as upstream when p-values are corrected); default 1. */
  readonly tests?: number;
  /** Sequential engine: use the confidence-sequence half-width with this N*. */
  readonly sequentialNStar?: number;
  /** Bayesian engine with a proper prior on the effect (same scale as the MDE). */
  readonly prior?: NormalPrior;
}

/**
 * Power to detect an effect of size `mde` (two-sided) once the sample is (1 + k) times today's,
 * so that the estimator variance becomes V/(1 + k):
 * power = 1 − Φ((h − mde)/√V') + Φ(−(h + mde)/√V'), with the rejection half-width
 * h = z_{1−α/(2m)} √V' (fixed horizon), the eq. 9 confidence-sequence half-width at N(1 + k)
 * (sequential), or, with a proper prior N(μ₀, σ₀²), GrowthBook's posterior form
 * 1 − Φ((V'√τ z − V'μ₀/σ₀² − mde)/√V') + Φ(−(V'√τ z + V'μ₀/σ₀² + mde)/√V'), τ = 1/σ₀² + 1/V'.
 *
 * @example powerAt({ variance: 0.0001, pairwiseN: 20000 }, 0.028) // ≈ 0.8
 */
export function powerAt(setting: PowerSetting, mde: number, k = 0): number {
  const { variance, pairwiseN, alpha = 0.05, tests = 1, sequentialNStar, prior } = setting;
  const effect = Math.abs(mde);
  const z = normalQuantile(1 - alpha / (2 * tests));
  const v = variance / (1 + k);
  const sd = Math.sqrt(v);
  if (prior) {
    const precision = 1 / prior.variance + 1 / v;
    const a = v * Math.sqrt(precision) * z;
    const b = (v * prior.mean) / prior.variance;
    return 1 - normalCdf((a - b - effect) / sd) + normalCdf(-(a + b + effect) / sd);
  }
  let h: number;
  if (sequentialNStar !== undefined) {
    const a = alpha / tests;
    h = sequentialHalfwidth(pairwiseN * variance, pairwiseN * (1 + k), a, sequentialRho(a, sequentialNStar));
  } else {
    h = z * sd;
  }
  return 1 - normalCdf((h - effect) / sd) + normalCdf(-(h + effect) / sd);
}

export interface ScalingFactorResult {
  /**
   * k such that (1 + k) times today's sample reaches the target power: 0 when already powered,
   * null when even 2^27 times more would not do.
   */
  readonly scalingFactor: number | null;
  /** Extra units over both arms: k · n_pairwise (null with scalingFactor). */
  readonly additionalUnits: number | null;
}

/**
 * GrowthBook's search for the scaling factor (calculate_scaling_factor): 0 if power(0) already
 * exceeds the target; else double k from 1 (at most 27 times) until power ≥ target, then bisect
 * on [0, k] until |power − target| < 1e-5. The result is a bisection iterate, so it matches
 * upstream to the last bit rather than the exact root (tolerance stated in the golden test).
 *
 * @example scalingFactor({ variance: 0.008426853707414856, pairwiseN: 1000 }, 0.05).scalingFactor // 25.45703125
 */
export function scalingFactor(setting: PowerSetting, mde: number, targetPower = 0.8): ScalingFactorResult {
  const power = (k: number) => powerAt(setting, mde, k);
  const done = (k: number | null): ScalingFactorResult => ({
    scalingFactor: k,
    additionalUnits: k === null ? null : k * setting.pairwiseN,
  });
  if (!(setting.variance > 0)) return done(null);
  if (power(0) > targetPower) return done(0);
  let k = 1;
  let current = power(k);
  for (let i = 0; i < 27 && current < targetPower; i++) {
    k *= 2;
    current = power(k);
  }
  if (current < targetPower) return done(null);
  let lower = 0;
  let upper = k;
  let diff = current - targetPower;
  for (let i = 0; i < 100; i++) {
    if (diff > 0) upper = k;
    else lower = k;
    k = 0.5 * (lower + upper);
    diff = power(k) - targetPower;
    if (Math.abs(diff) < 1e-5) break;
  }
  return done(k);
}

/**
 * Minimum detectable effect with today's data: the |effect| at which `powerAt` equals the target,
 * solved by bisection to 1e-12 relative. For the fixed horizon this is close to
 * (z_{1−α/2} + z_{power})·SE, the closed form that drops the far tail.
 *
 * @example minimumDetectableEffect({ variance: 0.0001, pairwiseN: 20000 }) // ≈ 0.028 (2.8 points at SE 0.01)
 */
export function minimumDetectableEffect(setting: PowerSetting, targetPower = 0.8): number {
  if (!(setting.variance > 0)) return Number.NaN;
  const sd = Math.sqrt(setting.variance);
  let lo = 0;
  let hi = sd;
  for (let i = 0; i < 1100 && powerAt(setting, hi) < targetPower; i++) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (powerAt(setting, mid) < targetPower) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
