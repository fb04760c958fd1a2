/**
 * Fixed-horizon frequentist engine: Welch's t-test on sufficient statistics, two-sided or
 * one-sided, for absolute or relative effects (gbstats 0.8.0 frequentist/tests.py TwoSidedTTest,
 * OneSidedTreatmentGreaterTTest, OneSidedTreatmentLesserTTest). Golden cases:
 * test/core/stats/golden.test.ts; calibration: test/core/stats/calibration.test.ts.
 */
import { studentTCdf, studentTQuantile, studentTSf } from './distributions.js';
import { type Difference, type StatsError, effectMoments, welchDf } from './effect.js';
import { type ArmStat, withPooledTheta } from './statistics.js';

/** 'greater': H1 treatment > control; 'less': H1 treatment < control. */
export type Sides = 'two' | 'greater' | 'less';

export interface TestOptions {
  /** Significance level; the CI has coverage 1 − alpha. Default 0.05. */
  readonly alpha?: number;
  /** Default 'two'. */
  readonly sides?: Sides;
  /** Default 'relative' (GrowthBook's default). */
  readonly difference?: Difference;
}

export interface FrequentistResult {
  readonly estimate: number;
  readonly se: number;
  /** Welch–Satterthwaite df; null for the sequential engine, which uses no t distribution. */
  readonly df: number | null;
  /** Open one-sided bounds are ±Infinity. */
  readonly ci: readonly [number, number];
  /** null only when a sequential one-sided p-value search did not converge. */
  readonly pValue: number | null;
  readonly error: StatsError | 'ALPHA_GREATER_THAN_0.5_FOR_SEQUENTIAL_ONE_SIDED_TEST' | 'NUMERICAL_PVALUE_NOT_CONVERGED' | null;
}

/** GrowthBook's uninformative output: estimate 0, CI [0, 0], p = 1. */
export const defaultFrequentistResult = (error: FrequentistResult['error']): FrequentistResult => ({
  estimate: 0,
  se: 0,
  df: null,
  ci: [0, 0],
  pValue: 1,
  error,
});

/**
 * Welch t-test of treatment `b` against control `a`. CUPED pairs get a pooled theta first.
 * With est, SE from `effectMoments` and ν from `welchDf`, t = est/SE:
 * - two-sided: p = 2(1 − F_ν(|t|)), CI = est ± t_{1−α/2,ν} SE;
 * - greater:   p = 1 − F_ν(t),      CI = [est − t_{1−α,ν} SE, +∞);
 * - less:      p = F_ν(t),          CI = (−∞, est + t_{1−α,ν} SE].
 * Tails are computed directly, so p keeps its relative precision when tiny.
 *
 * @example
 * const r = welchTTest(meanStat({ n: 3407, sum: 1396.87, sumSquares: 52377.9767 }), meanStat({ n: 3461, sum: 2422.7, sumSquares: 134698.29 }));
 * r.pValue // 0.0619 (relative effect 0.707)
 */
export function welchTTest(a: ArmStat, b: ArmStat, options: TestOptions = {}): FrequentistResult {
  const { alpha = 0.05, sides = 'two', difference = 'relative' } = options;
  const [sa, sb] = withPooledTheta(a, b);
  const m = effectMoments(sa, sb, difference);
  if (m.error) return defaultFrequentistResult(m.error);
  const df = welchDf(sa, sb);
  const t = m.se === 0 ? 0 : m.estimate / m.se;
  switch (sides) {
    case 'two': {
      const half = studentTQuantile(1 - alpha / 2, df) * m.se;
      return {
        estimate: m.estimate,
        se: m.se,
        df,
        ci: [m.estimate - half, m.estimate + half],
        pValue: 2 * studentTSf(Math.abs(t), df),
        error: null,
      };
    }
    case 'greater': {
      const half = studentTQuantile(1 - alpha, df) * m.se;
      return {
        estimate: m.estimate,
        se: m.se,
        df,
        ci: [m.estimate - half, Number.POSITIVE_INFINITY],
        pValue: studentTSf(t, df),
        error: null,
      };
    }
    case 'less': {
      const half = studentTQuantile(1 - alpha, df) * m.se;
      return {
        estimate: m.estimate,
        se: m.se,
        df,
        ci: [Number.NEGATIVE_INFINITY, m.estimate + half],
        pValue: studentTCdf(t, df),
        error: null,
      };
    }
  }
}
