/**
 * The effect of a treatment arm against the control arm and its standard error ("effect moments"),
 * shared by the frequentist, sequential and Bayesian engines. Semantics of gbstats 0.8.0
 * (models/tests.py EffectMoments, frequentist_diff, frequentist_variance*,
 * frequentist/tests.py dof). Golden cases: test/core/stats/golden.test.ts.
 */
import {
  type ArmStat,
  type CupedRatioStat,
  type CupedStat,
  covariance,
  cupedRatioGradient,
  cupedRatioLambda,
  hasZeroVariance,
  moments,
  quadraticForm,
  statMean,
  statUnadjustedMean,
  statVariance,
} from './statistics.js';

export type Difference = 'absolute' | 'relative';

/** Why an engine returned its uninformative default (gbstats' message strings). */
export type StatsError = 'ZERO_NEGATIVE_VARIANCE' | 'ZERO_NEGATIVE_BASELINE_VARIATION';

export interface EffectMoments {
  /** Absolute: m_t − m_c. Relative: (m_t − m_c) / |m_c unadjusted|. 0 on error. */
  readonly estimate: number;
  /** Standard error of `estimate`; 0 on error. */
  readonly se: number;
  /** n_c + n_t (the N of the sequential engine and of power calculations). */
  readonly pairwiseN: number;
  readonly error: StatsError | null;
}

/**
 * relative = (mean_b − mean_a) / |baseline|, absolute = mean_b − mean_a, where baseline is the
 * unadjusted control mean when given (CUPED) and mean_a otherwise. Dividing by the absolute value
 * keeps the sign meaningful for negative baselines. Source: gbstats utils.frequentist_diff.
 *
 * @example frequentistDiff(10, 15, true) // 0.5
 */
export function frequentistDiff(meanA: number, meanB: number, relative: boolean, meanAUnadjusted?: number): number {
  if (!relative) return meanB - meanA;
  const baseline = meanAUnadjusted ?? meanA;
  return baseline === 0 ? 0 : (meanB - meanA) / Math.abs(baseline);
}

/**
 * Variance of the relative CUPED effect, GrowthBook's form (gbstats
 * frequentist_variance_relative_cuped), with m_c, m_t the UNADJUSTED post means:
 * Var = [σ²_t,adj/n_t + (σ²_c,post m_t²/m_c² − 2θ σ_c,post,pre m_t/m_c + θ² σ²_c,pre)/n_c] / m_c².
 * (The exact first-order gradient would use adj_mean_t + θ pre_mean_c for m_t; the two agree when
 * the pre-period means are equal across arms, which randomisation makes true in expectation.)
 */
function varianceRelativeCuped(a: CupedStat, b: CupedStat): number {
  const mc = moments.mean(a.post);
  const mt = moments.mean(b.post);
  if (b.n === 0 || a.n === 0 || mc === 0) return 0;
  const theta = a.theta ?? 0;
  const vTrt = statVariance(b) / (b.n * mc * mc);
  const covC = covariance(a.n, a.post, a.pre, a.sumPostPre);
  const vCtrl =
    ((moments.variance(a.post) * mt * mt) / (mc * mc) - (2 * theta * covC * mt) / mc + theta * theta * moments.variance(a.pre)) /
    (a.n * mc * mc);
  return vTrt + vCtrl;
}

/**
 * Variance of the relative effect of a CUPED ratio metric by the delta method over the eight
 * per-arm means. With r_c = m̄_c,post/d̄_c,post, s = sign(r_c), g = adj_t − adj_c and
 * L = g/|r_c|: ∇_t = ∇adj_t/|r_c|; ∇_c = [−(|r_c| + s g)/(d̄_c |r_c|²),
 * m̄_c (|r_c| + s g)/(d̄_c² |r_c|²), −∇adj_c[2]/|r_c|, −∇adj_c[3]/|r_c|];
 * Var = ∇_cᵀΛ_c∇_c/n_c + ∇_tᵀΛ_t∇_t/n_t (gbstats frequentist_variance_relative_cuped_ratio; the
 * sign s makes a negated metric give the negated lift with the same SE, as the golden cases
 * require).
 */
function varianceRelativeCupedRatio(a: CupedRatioStat, b: CupedRatioStat): number {
  const rc = statUnadjustedMean(a);
  const dc = moments.mean(a.dPost);
  if (rc === 0 || dc === 0) return 0;
  const mc = moments.mean(a.mPost);
  const abs = Math.abs(rc);
  const g = statMean(b) - statMean(a);
  const k = (abs + Math.sign(rc) * g) / (abs * abs);
  const gradA = cupedRatioGradient(a);
  const gradB = cupedRatioGradient(b);
  const nablaA = [-k / dc, (k * mc) / (dc * dc), -gradA[2] / abs, -gradA[3] / abs];
  const nablaB = gradB.map((x) => x / abs);
  return quadraticForm(nablaA, cupedRatioLambda(a)) / a.n + quadraticForm(nablaB, cupedRatioLambda(b)) / b.n;
}

/**
 * Variance of the effect estimate.
 * Absolute: σ²_t/n_t + σ²_c/n_c. Relative (delta method for m_t/m_c):
 * σ²_t/(n_t m_c²) + σ²_c m_t²/(n_c m_c⁴), with m_c the unadjusted control mean; CUPED and CUPED
 * ratio metrics use their own relative forms above. Source: gbstats frequentist_variance_all_cases.
 *
 * @example effectVariance(meanStat({ n: 10, sum: 100, sumSquares: 1010 }), meanStat({ n: 10, sum: 110, sumSquares: 1220 }), false) // 0.2222… (1.111/10 + 1.111/10)
 */
export function effectVariance(a: ArmStat, b: ArmStat, relative: boolean): number {
  if (relative && a.kind === 'cuped' && b.kind === 'cuped') return varianceRelativeCuped(a, b);
  if (relative && a.kind === 'cuped_ratio' && b.kind === 'cuped_ratio') return varianceRelativeCupedRatio(a, b);
  const varA = statVariance(a);
  const varB = statVariance(b);
  if (!relative) return varB / b.n + varA / a.n;
  const baseline = statUnadjustedMean(a);
  if (baseline === 0) return 0;
  const meanB = statMean(b);
  return varB / b.n / (baseline * baseline) + ((varA / a.n) * meanB * meanB) / baseline ** 4;
}

/**
 * Point estimate and standard error of the treatment effect, or GrowthBook's uninformative default
 * (0, 0) with a reason: ZERO_NEGATIVE_VARIANCE when an arm has n ≤ 1 or a non-positive variance
 * (or the effect variance is ≤ 0), ZERO_NEGATIVE_BASELINE_VARIATION when a relative effect would
 * divide by a zero control mean. Theta must already be set on CUPED pairs (`withPooledTheta`).
 *
 * Deviation from gbstats, on purpose: the zero-baseline check applies to relative effects only;
 * an absolute difference against a control mean of 0 is well defined.
 *
 * @example effectMoments(meanStat({ n: 10, sum: 100, sumSquares: 1002.25 }), meanStat({ n: 10, sum: 105, sumSquares: 1111.5 }), 'relative').estimate // 0.05
 */
export function effectMoments(a: ArmStat, b: ArmStat, difference: Difference): EffectMoments {
  if (a.kind !== b.kind && !(isMoment(a) && isMoment(b))) {
    throw new RangeError(`cannot compare a ${b.kind} statistic with a ${a.kind} control`);
  }
  const relative = difference === 'relative';
  const pairwiseN = a.n + b.n;
  const fail = (error: StatsError): EffectMoments => ({ estimate: 0, se: 0, pairwiseN, error });
  if (hasZeroVariance(a) || hasZeroVariance(b)) return fail('ZERO_NEGATIVE_VARIANCE');
  const variance = effectVariance(a, b, relative);
  if (!(variance > 0)) return fail('ZERO_NEGATIVE_VARIANCE');
  if (relative && (statMean(a) === 0 || statUnadjustedMean(a) === 0)) return fail('ZERO_NEGATIVE_BASELINE_VARIATION');
  return {
    estimate: frequentistDiff(statMean(a), statMean(b), relative, statUnadjustedMean(a)),
    se: Math.sqrt(variance),
    pairwiseN,
    error: null,
  };
}

const isMoment = (s: ArmStat): boolean => s.kind === 'mean' || s.kind === 'proportion';

/**
 * Welch–Satterthwaite degrees of freedom from the per-arm (adjusted) variances — not from the
 * relative-scale SE: ν = (σ²_t/n_t + σ²_c/n_c)² / (σ⁴_t/(n_t²(n_t − 1)) + σ⁴_c/(n_c²(n_c − 1))).
 * 1 when an arm has n ≤ 1 or zero variance. Source: gbstats frequentist/tests.py TTest.dof.
 *
 * @example welchDf(meanStat({ n: 10, sum: 0, sumSquares: 9 }), meanStat({ n: 10, sum: 0, sumSquares: 9 })) // 18 (up to rounding) with equal n and variances
 */
export function welchDf(a: ArmStat, b: ArmStat): number {
  const varA = statVariance(a);
  const varB = statVariance(b);
  if (a.n <= 1 || b.n <= 1 || varA === 0 || varB === 0) return 1;
  const num = (varB / b.n + varA / a.n) ** 2;
  const den = (varB * varB) / (b.n * b.n * (b.n - 1)) + (varA * varA) / (a.n * a.n * (a.n - 1));
  return num / den;
}
