/**
 * Bayesian engine: GrowthBook's Gaussian effect-size model (gbstats 0.8.0 bayesian/tests.py
 * EffectBayesianABTest). The likelihood is N(est, SE²) with est and SE from `effectMoments` (the
 * same delta-method moments as the frequentist engine); the prior on the effect is flat (improper)
 * by default or normal, conjugate, on the relative scale. Golden cases:
 * test/core/stats/golden.test.ts.
 */
import { normalCdf, normalPdf, normalQuantile } from './distributions.js';
import { type Difference, type StatsError, effectMoments } from './effect.js';
import { type ArmStat, statUnadjustedMean, withPooledTheta } from './statistics.js';

/** A proper normal prior on the effect. */
export interface NormalPrior {
  readonly mean: number;
  /** > 0 */
  readonly variance: number;
}

export interface BayesianOptions {
  /** The credible interval has mass 1 − alpha. Default 0.05. */
  readonly alpha?: number;
  /** Default 'relative'. */
  readonly difference?: Difference;
  /** Omitted or null: improper flat prior. */
  readonly prior?: NormalPrior | null;
  /** The scale the prior is stated on; default 'relative' (GrowthBook's prior_type default). */
  readonly priorScale?: Difference;
  /** Lower is better (e.g. latency): chance to win is P(effect < 0) and the risks swap. */
  readonly inverse?: boolean;
}

export interface BayesianResult {
  /** Posterior mean of the effect. */
  readonly estimate: number;
  /** Posterior standard deviation. */
  readonly se: number;
  /** Equal-tailed credible interval. */
  readonly ci: readonly [number, number];
  readonly chanceToWin: number;
  /** Expected loss of shipping [control, treatment]. */
  readonly risk: readonly [number, number];
  readonly error: StatsError | null;
}

/** GrowthBook's uninformative output: estimate 0, CI [0, 0], chance to win ½, no risk. */
export const defaultBayesianResult = (error: StatsError): BayesianResult => ({
  estimate: 0,
  se: 0,
  ci: [0, 0],
  chanceToWin: 0.5,
  risk: [0, 0],
  error,
});

/**
 * Expected loss for D ~ N(μ, σ²): [E max(D, 0), E max(−D, 0)], the loss of keeping control and of
 * shipping treatment: E max(D, 0) = μΦ(μ/σ) + σφ(μ/σ) and E max(−D, 0) = −μΦ(−μ/σ) + σφ(μ/σ)
 * (the truncated-normal means of gbstats get_risk in closed form). When |μ/σ| > 37 the normal
 * tail underflows and the result is [max(μ, 0), max(−μ, 0)], as upstream short-circuits.
 *
 * @example bayesianRisk(0.1, 0.05) // [0.10042453513084149, 0.00042453513084148]
 */
export function bayesianRisk(mu: number, sigma: number): [number, number] {
  const z = mu / sigma;
  if (!(Math.abs(z) <= 37)) return [Math.max(mu, 0), Math.max(-mu, 0)];
  const tail = sigma * normalPdf(z);
  return [mu * normalCdf(z) + tail, -mu * normalCdf(-z) + tail];
}

/**
 * Normal posterior for the effect. With data N(est, SE²) and prior N(μ₀, σ₀²):
 * precision τ = 1/SE² + 1/σ₀², mean = (est/SE² + μ₀/σ₀²)/τ (flat prior: τ = 1/SE², mean = est).
 * A relative-scale prior is rescaled for an absolute effect by the unadjusted control mean m_c:
 * μ₀|m_c|, σ₀² m_c² (and the reverse for an absolute prior on a relative effect).
 * chance to win = P(D > 0) = Φ(mean/sd) (P(D < 0) if inverse); CI = mean ± z_{1−α/2} sd.
 *
 * @example
 * bayesianTest(proportionStat({ n: 100, sum: 49 }), proportionStat({ n: 100, sum: 51 })).chanceToWin // 0.609
 */
export function bayesianTest(a: ArmStat, b: ArmStat, options: BayesianOptions = {}): BayesianResult {
  const { alpha = 0.05, difference = 'relative', prior = null, priorScale = 'relative', inverse = false } = options;
  const [sa, sb] = withPooledTheta(a, b);
  const m = effectMoments(sa, sb, difference);
  if (m.error) return defaultBayesianResult(m.error);
  let scaled = prior;
  if (prior && priorScale !== difference) {
    const mc = statUnadjustedMean(sa);
    if (mc === 0) return defaultBayesianResult('ZERO_NEGATIVE_BASELINE_VARIATION');
    scaled =
      difference === 'absolute'
        ? { mean: prior.mean * Math.abs(mc), variance: prior.variance * mc * mc }
        : { mean: prior.mean / Math.abs(mc), variance: prior.variance / (mc * mc) };
  }
  const dataVariance = m.se * m.se;
  const precision = 1 / dataVariance + (scaled ? 1 / scaled.variance : 0);
  const mean = scaled ? (m.estimate / dataVariance + scaled.mean / scaled.variance) / precision : m.estimate;
  const sd = Math.sqrt(1 / precision);
  const z = normalQuantile(1 - alpha / 2);
  const risk = bayesianRisk(mean, sd);
  return {
    estimate: mean,
    se: sd,
    ci: [mean - z * sd, mean + z * sd],
    chanceToWin: inverse ? normalCdf(-mean / sd) : normalCdf(mean / sd),
    risk: inverse ? [risk[1], risk[0]] : risk,
    error: null,
  };
}

/**
 * "Chance to win" GrowthBook shows for a frequentist result: back out s = (CI half-width)/z from
 * the interval (z_{1−α/2} two-sided; z_{1−α} and the finite side for one-sided intervals) and
 * return 1 − Φ(−est/s) (Φ(−est/s) if inverse). Both bounds infinite → 0; s = 0 → 0 when est = 0,
 * else 1 or 0 by the sign of est. Source: packages/shared/src/experiments/experiments.ts
 * chanceToWinFlatPrior.
 *
 * @example chanceToWinFlatPrior(Math.sqrt(Math.PI), -4.9875, 8.5324, Math.PI / 100, false) // ≈ 0.71369
 */
export function chanceToWinFlatPrior(expected: number, lower: number, upper: number, alpha: number, inverse = false): number {
  if (lower === Number.NEGATIVE_INFINITY && upper === Number.POSITIVE_INFINITY) return 0;
  const type = lower === Number.NEGATIVE_INFINITY ? 'less' : upper === Number.POSITIVE_INFINITY ? 'greater' : 'two';
  const halfwidth = type === 'two' ? 0.5 * (upper - lower) : type === 'greater' ? expected - lower : upper - expected;
  const z = normalQuantile(1 - alpha / (type === 'two' ? 2 : 1));
  const s = halfwidth / z;
  if (s === 0) {
    if (expected === 0) return 0;
    const wins = expected > 0;
    return (inverse ? !wins : wins) ? 1 : 0;
  }
  const pLose = normalCdf(-expected / s);
  return inverse ? pLose : 1 - pLose;
}
