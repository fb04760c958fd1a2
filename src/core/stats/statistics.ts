/**
 * Per-arm sufficient statistics and their moments, with GrowthBook gbstats semantics
 * (packages/stats/gbstats/models/statistics.py, gbstats 0.8.0). Every value is a plain frozen
 * object; `addStats` returns a new one. Nothing here reads raw rows: the SQL layer aggregates rows
 * to these sums.
 *
 * Tested in test/core/stats/statistics.test.ts (moments against numpy) and through the golden
 * cases in test/core/stats/golden.test.ts.
 */

/** Σx and Σx² of a per-unit metric: mean = Σx/n, sample variance (Σx² − (Σx)²/n)/(n − 1). */
export interface SampleMeanStat {
  readonly kind: 'mean';
  readonly n: number;
  readonly sum: number;
  readonly sumSquares: number;
}

/** A 0/1 metric: conversions `sum` out of `n`; variance p(1 − p) with no n/(n − 1) correction. */
export interface ProportionStat {
  readonly kind: 'proportion';
  readonly n: number;
  readonly sum: number;
}

/** The two one-dimensional statistics a ratio or a CUPED statistic is built from. */
export type MomentStat = SampleMeanStat | ProportionStat;

/** Ratio metric Σm/Σd over units (e.g. clicks / impressions per reader), with Σ m·d. */
export interface RatioStat {
  readonly kind: 'ratio';
  readonly n: number;
  readonly numerator: MomentStat;
  readonly denominator: MomentStat;
  readonly sumProducts: number;
}

/** CUPED: the post-exposure metric, its pre-exposure covariate and Σ post·pre. theta null = estimate. */
export interface CupedStat {
  readonly kind: 'cuped';
  readonly n: number;
  readonly post: MomentStat;
  readonly pre: MomentStat;
  readonly sumPostPre: number;
  readonly theta: number | null;
}

/** CUPED for a ratio metric: numerator and denominator in both periods and their six cross sums. */
export interface CupedRatioStat {
  readonly kind: 'cuped_ratio';
  readonly n: number;
  readonly mPost: MomentStat;
  readonly dPost: MomentStat;
  readonly mPre: MomentStat;
  readonly dPre: MomentStat;
  readonly sumMPostMPre: number;
  readonly sumDPostDPre: number;
  readonly sumMPreDPre: number;
  readonly sumMPostDPost: number;
  readonly sumMPostDPre: number;
  readonly sumMPreDPost: number;
  readonly theta: number | null;
}

/**
 * A sample quantile (e.g. P90 dwell) with the warehouse's confidence interval for it: n units,
 * n* the effective sample size for clustered data, nu the quantile level.
 */
export interface QuantileStat {
  readonly kind: 'quantile';
  readonly n: number;
  readonly nStar: number;
  readonly nu: number;
  readonly quantileHat: number;
  readonly quantileLower: number;
  readonly quantileUpper: number;
}

export type ArmStat = SampleMeanStat | ProportionStat | RatioStat | CupedStat | CupedRatioStat | QuantileStat;

/** @example meanStat({ n: 3, sum: 6, sumSquares: 14 }) // values 1, 2, 3 */
export const meanStat = (s: Omit<SampleMeanStat, 'kind'>): SampleMeanStat => Object.freeze({ kind: 'mean', ...s });
export const proportionStat = (s: Omit<ProportionStat, 'kind'>): ProportionStat => Object.freeze({ kind: 'proportion', ...s });
export const ratioStat = (s: Omit<RatioStat, 'kind'>): RatioStat => Object.freeze({ kind: 'ratio', ...s });
export const cupedStat = (s: Omit<CupedStat, 'kind'>): CupedStat => Object.freeze({ kind: 'cuped', ...s });
export const cupedRatioStat = (s: Omit<CupedRatioStat, 'kind'>): CupedRatioStat => Object.freeze({ kind: 'cuped_ratio', ...s });
export const quantileStat = (s: Omit<QuantileStat, 'kind'>): QuantileStat => Object.freeze({ kind: 'quantile', ...s });

/** Σx² of a moment statistic; for a 0/1 metric x² = x. */
const sumSquaresOf = (s: MomentStat): number => (s.kind === 'mean' ? s.sumSquares : s.sum);

/** Mean of a moment statistic, 0 when n = 0. */
function momentMean(s: MomentStat): number {
  return s.n === 0 ? 0 : s.sum / s.n;
}

/** Sample variance (Σx² − (Σx)²/n)/(n − 1), 0 when n ≤ 1; p(1 − p) for a proportion. */
function momentVariance(s: MomentStat): number {
  if (s.kind === 'proportion') {
    const p = momentMean(s);
    return p * (1 - p);
  }
  if (s.n <= 1) return 0;
  return (s.sumSquares - (s.sum * s.sum) / s.n) / (s.n - 1);
}

/**
 * Covariance of two per-unit metrics from Σx, Σy, Σxy: (Σxy − ΣxΣy/n)/(n − 1), or
 * Σxy/n − ΣxΣy/n² when both are 0/1 (matching p(1 − p) with no correction). 0 when n ≤ 1.
 * Source: gbstats models/statistics.py compute_covariance.
 *
 * @example covariance(3, meanStat({ n: 3, sum: 6, sumSquares: 14 }), meanStat({ n: 3, sum: 6, sumSquares: 14 }), 14) // 1
 */
export function covariance(n: number, x: MomentStat, y: MomentStat, sumProducts: number): number {
  if (n <= 1) return 0;
  if (x.kind === 'proportion' && y.kind === 'proportion') return sumProducts / n - (x.sum * y.sum) / (n * n);
  return (sumProducts - (x.sum * y.sum) / n) / (n - 1);
}

/**
 * Per-unit variance of a ratio of means by the delta method (GrowthBook docs eq. 12):
 * Var(M/D) ≈ (σ²_M − 2 (μ_M/μ_D) σ_MD + (μ_M/μ_D)² σ²_D) / μ_D².
 *
 * @example varianceOfRatio(1, 1, 2, 0, 0) // 0.25
 */
export function varianceOfRatio(meanM: number, varM: number, meanD: number, varD: number, covMD: number): number {
  const r = meanM / meanD;
  return (varM - 2 * r * covMD + r * r * varD) / (meanD * meanD);
}

/** Two-sided 97.5% normal quantile GrowthBook uses to turn a quantile CI back into a variance. */
const Z_975 = 1.959963984540054;

/** The mean vector [m̄_post, d̄_post, m̄_pre, d̄_pre] of a CUPED ratio statistic. */
function cupedRatioMeans(s: CupedRatioStat): [number, number, number, number] {
  return [momentMean(s.mPost), momentMean(s.dPost), momentMean(s.mPre), momentMean(s.dPre)];
}

/** 4×4 covariance matrix Λ of (m_post, d_post, m_pre, d_pre) per unit. */
export function cupedRatioLambda(s: CupedRatioStat): number[][] {
  const cov = (x: MomentStat, y: MomentStat, sp: number) => covariance(s.n, x, y, sp);
  const vMPost = momentVariance(s.mPost);
  const vDPost = momentVariance(s.dPost);
  const vMPre = momentVariance(s.mPre);
  const vDPre = momentVariance(s.dPre);
  const cMPostDPost = cov(s.mPost, s.dPost, s.sumMPostDPost);
  const cMPostMPre = cov(s.mPost, s.mPre, s.sumMPostMPre);
  const cMPostDPre = cov(s.mPost, s.dPre, s.sumMPostDPre);
  const cDPostMPre = cov(s.dPost, s.mPre, s.sumMPreDPost);
  const cDPostDPre = cov(s.dPost, s.dPre, s.sumDPostDPre);
  const cMPreDPre = cov(s.mPre, s.dPre, s.sumMPreDPre);
  return [
    [vMPost, cMPostDPost, cMPostMPre, cMPostDPre],
    [cMPostDPost, vDPost, cDPostMPre, cDPostDPre],
    [cMPostMPre, cDPostMPre, vMPre, cMPreDPre],
    [cMPostDPre, cDPostDPre, cMPreDPre, vDPre],
  ];
}

/**
 * Gradient of the adjusted ratio m̄_post/d̄_post − θ m̄_pre/d̄_pre with respect to the four means:
 * [1/d̄_post, −m̄_post/d̄_post², −θ/d̄_pre, θ m̄_pre/d̄_pre²] (zeros where a denominator mean is 0).
 */
export function cupedRatioGradient(s: CupedRatioStat, theta = s.theta ?? 0): [number, number, number, number] {
  const [mPost, dPost, mPre, dPre] = cupedRatioMeans(s);
  if (dPost === 0) return [0, 0, 0, 0];
  const pre: [number, number] = dPre === 0 ? [0, 0] : [-theta / dPre, (theta * mPre) / (dPre * dPre)];
  return [1 / dPost, -mPost / (dPost * dPost), pre[0], pre[1]];
}

/** xᵀ A y for small dense matrices. */
export function quadraticForm(x: readonly number[], a: readonly (readonly number[])[], y: readonly number[] = x): number {
  let total = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < y.length; j++) total += x[i]! * a[i]![j]! * y[j]!;
  return total;
}

/** Ratio of sums Σm/Σd, 0 when Σd = 0. */
const ratioOfSums = (m: MomentStat, d: MomentStat): number => (d.sum === 0 ? 0 : m.sum / d.sum);

/**
 * The per-arm estimate: sample mean, proportion, Σm/Σd, CUPED-adjusted mean ȳ − θ x̄, adjusted
 * ratio, or the sample quantile.
 *
 * @example statMean(ratioStat({ n: 2, numerator: meanStat({ n: 2, sum: 3, sumSquares: 5 }), denominator: meanStat({ n: 2, sum: 6, sumSquares: 20 }), sumProducts: 10 })) // 0.5
 */
export function statMean(s: ArmStat): number {
  switch (s.kind) {
    case 'mean':
    case 'proportion':
      return momentMean(s);
    case 'ratio':
      return ratioOfSums(s.numerator, s.denominator);
    case 'cuped':
      return momentMean(s.post) - (s.theta ?? 0) * momentMean(s.pre);
    case 'cuped_ratio':
      if (s.dPost.sum === 0 || s.dPre.sum === 0) return 0;
      return ratioOfSums(s.mPost, s.dPost) - (s.theta ?? 0) * ratioOfSums(s.mPre, s.dPre);
    case 'quantile':
      return s.quantileHat;
  }
}

/** The estimate before CUPED adjustment: the baseline relative effects divide by. *
 * @example statUnadjustedMean(cupedStat({ n: 2, post: proportionStat({ n: 2, sum: 1 }), pre: proportionStat({ n: 2, sum: 2 }), sumPostPre: 1, theta: 0.3 })) // 0.5
 */
export function statUnadjustedMean(s: ArmStat): number {
  if (s.kind === 'cuped') return momentMean(s.post);
  if (s.kind === 'cuped_ratio') return ratioOfSums(s.mPost, s.dPost);
  return statMean(s);
}

/**
 * Per-unit variance of the arm estimate (so that Var(estimate) = variance / n):
 * - mean: sample variance; proportion: p(1 − p);
 * - ratio: delta method, `varianceOfRatio` (0 when d̄ = 0 or n ≤ 1);
 * - CUPED: σ²_post + θ² σ²_pre − 2θ σ_post,pre (0 when n ≤ 1);
 * - CUPED ratio: ∇ᵀ Λ ∇ with the gradient of the adjusted ratio;
 * - quantile: (n_star/n)(n − 1)((U − L)/(2 z_0.975))², the warehouse CI turned back into a variance,
 *   floored at 1e-5 from n ≥ 100 (gbstats QuantileStatistic).
 *
 * @example statVariance(meanStat({ n: 3, sum: 6, sumSquares: 14 })) // 1 (values 1, 2, 3)
 */
export function statVariance(s: ArmStat): number {
  switch (s.kind) {
    case 'mean':
    case 'proportion':
      return momentVariance(s);
    case 'ratio': {
      const meanD = momentMean(s.denominator);
      if (meanD === 0 || s.n <= 1) return 0;
      const cov = covariance(s.n, s.numerator, s.denominator, s.sumProducts);
      return varianceOfRatio(momentMean(s.numerator), momentVariance(s.numerator), meanD, momentVariance(s.denominator), cov);
    }
    case 'cuped': {
      if (s.n <= 1) return 0;
      const theta = s.theta ?? 0;
      const cov = covariance(s.n, s.post, s.pre, s.sumPostPre);
      return momentVariance(s.post) + theta * theta * momentVariance(s.pre) - 2 * theta * cov;
    }
    case 'cuped_ratio':
      return quadraticForm(cupedRatioGradient(s), cupedRatioLambda(s));
    case 'quantile': {
      if (s.n <= 1) return 0;
      const half = (s.quantileUpper - s.quantileLower) / (2 * Z_975);
      const v = (s.nStar / s.n) * (s.n - 1) * half * half;
      return s.n < 100 ? v : Math.max(v, 1e-5);
    }
  }
}

/**
 * True when an arm cannot carry a test: n ≤ 1 or a non-positive variance (for a CUPED ratio, a
 * non-positive variance of the post-period numerator or denominator). gbstats `_has_zero_variance`.
 *
 * @example hasZeroVariance(proportionStat({ n: 100, sum: 0 })) // true: p(1 − p) = 0
 */
export function hasZeroVariance(s: ArmStat): boolean {
  if (s.n <= 1) return true;
  if (s.kind === 'cuped_ratio') return momentVariance(s.mPost) <= 0 || momentVariance(s.dPost) <= 0;
  return statVariance(s) <= 0;
}

/** Mean and per-unit variance of the one-dimensional parts, exported for CUPED's variance formula. */
export const moments = { mean: momentMean, variance: momentVariance };

function addMoment(a: MomentStat, b: MomentStat): MomentStat {
  if (a.kind === 'proportion' && b.kind === 'proportion') return proportionStat({ n: a.n + b.n, sum: a.sum + b.sum });
  return meanStat({ n: a.n + b.n, sum: a.sum + b.sum, sumSquares: sumSquaresOf(a) + sumSquaresOf(b) });
}

/**
 * Pools two statistics of the same kind (e.g. two days, two dimension cells) into a new one;
 * neither input changes. A CUPED theta is reset to null (re-estimate on the pooled data), as in
 * gbstats `Statistic.__add__`. Quantiles cannot be pooled from their summaries.
 *
 * @example addStats(meanStat({ n: 1, sum: 1, sumSquares: 1 }), meanStat({ n: 2, sum: 5, sumSquares: 13 })) // { n: 3, sum: 6, sumSquares: 14 }
 */
export function addStats<S extends ArmStat>(a: S, b: S): S {
  const x = a as ArmStat;
  const y = b as ArmStat;
  switch (x.kind) {
    case 'mean':
    case 'proportion':
      if (y.kind !== 'mean' && y.kind !== 'proportion') break;
      return addMoment(x, y) as S;
    case 'ratio':
      if (y.kind !== 'ratio') break;
      return ratioStat({
        n: x.n + y.n,
        numerator: addMoment(x.numerator, y.numerator),
        denominator: addMoment(x.denominator, y.denominator),
        sumProducts: x.sumProducts + y.sumProducts,
      }) as S;
    case 'cuped':
      if (y.kind !== 'cuped') break;
      return cupedStat({
        n: x.n + y.n,
        post: addMoment(x.post, y.post),
        pre: addMoment(x.pre, y.pre),
        sumPostPre: x.sumPostPre + y.sumPostPre,
        theta: null,
      }) as S;
    case 'cuped_ratio':
      if (y.kind !== 'cuped_ratio') break;
      return cupedRatioStat({
        n: x.n + y.n,
        mPost: addMoment(x.mPost, y.mPost),
        dPost: addMoment(x.dPost, y.dPost),
        mPre: addMoment(x.mPre, y.mPre),
        dPre: addMoment(x.dPre, y.dPre),
        sumMPostMPre: x.sumMPostMPre + y.sumMPostMPre,
        sumDPostDPre: x.sumDPostDPre + y.sumDPostDPre,
        sumMPreDPre: x.sumMPreDPre + y.sumMPreDPre,
        sumMPostDPost: x.sumMPostDPost + y.sumMPostDPost,
        sumMPostDPre: x.sumMPostDPre + y.sumMPostDPre,
        sumMPreDPost: x.sumMPreDPost + y.sumMPreDPost,
        theta: null,
      }) as S;
    case 'quantile':
      throw new RangeError('quantile statistics cannot be pooled from their summaries');
  }
  throw new RangeError(`cannot add a ${y.kind} statistic to a ${x.kind} statistic`);
}

/**
 * CUPED theta pooled across both arms (arm membership ignored): θ = Cov(post, pre) / Var(pre) on
 * the pooled sums, n = n_a + n_b, with `covariance` (so 0/1 metrics use the /n form). Returns 0
 * when the pooled pre or post variance is 0, in which case the engines fall back to the
 * unadjusted metric. Source: gbstats models/statistics.py compute_theta (joint statistics).
 *
 * @example computeTheta(control, treatment) // 0.0186 for post [2,1,5,3], pre [0.3,0.5,0.9,22] in both arms
 */
export function computeTheta(a: CupedStat, b: CupedStat): number {
  const n = a.n + b.n;
  const post = addMoment(a.post, b.post);
  const pre = addMoment(a.pre, b.pre);
  const preVar = momentVariance(pre);
  const postVar = momentVariance(post);
  if (preVar === 0 || postVar === 0 || !Number.isFinite(preVar) || !Number.isFinite(postVar)) return 0;
  return covariance(n, post, pre, a.sumPostPre + b.sumPostPre) / preVar;
}

/**
 * Theta for a CUPED ratio: the θ minimising Var(adjusted ratio) summed over both arms,
 * θ = −Σ_arms Cov(post ratio, θ=1 pre part) / Σ_arms Var(θ=1 pre part), each from the delta-method
 * gradient at θ = 1 (gbstats compute_theta_regression_adjusted_ratio).
 *
 * @example computeThetaRatio(controlCupedRatio, treatmentCupedRatio) // θ shared by both arms
 */
export function computeThetaRatio(a: CupedRatioStat, b: CupedRatioStat): number {
  const parts = (s: CupedRatioStat) => {
    const g = cupedRatioGradient(s, 1);
    const l = cupedRatioLambda(s);
    const pre = [g[2], g[3]];
    const lPre = [
      [l[2]![2]!, l[2]![3]!],
      [l[3]![2]!, l[3]![3]!],
    ];
    const lPrePost = [
      [l[2]![0]!, l[2]![1]!],
      [l[3]![0]!, l[3]![1]!],
    ];
    return { varPre: quadraticForm(pre, lPre), cov: quadraticForm(pre, lPrePost, [g[0], g[1]]) };
  };
  const pa = parts(a);
  const pb = parts(b);
  const varPre = pa.varPre + pb.varPre;
  if (varPre === 0) return 0;
  return -(pa.cov + pb.cov) / varPre;
}

/**
 * Sets a pooled theta on a pair of CUPED statistics whose theta is not fixed yet, or drops the
 * adjustment when theta comes out (near) 0 because a period has no variance. Other pairs pass
 * through. Source: gbstats create_theta_adjusted_statistics.
 *
 * @example const [c, t] = withPooledTheta(control, treatment); // c.theta === t.theta
 */
export function withPooledTheta(a: ArmStat, b: ArmStat): [ArmStat, ArmStat] {
  if (a.kind === 'cuped' && b.kind === 'cuped' && (a.theta === null || b.theta === null)) {
    const theta = computeTheta(a, b);
    if (theta === 0) return [a.post, b.post];
    return [cupedStat({ ...a, theta }), cupedStat({ ...b, theta })];
  }
  if (a.kind === 'cuped_ratio' && b.kind === 'cuped_ratio' && (a.theta === null || b.theta === null)) {
    const theta = computeThetaRatio(a, b);
    if (Math.abs(theta) < 1e-8) {
      const post = (s: CupedRatioStat) => ratioStat({ n: s.n, numerator: s.mPost, denominator: s.dPost, sumProducts: s.sumMPostDPost });
      return [post(a), post(b)];
    }
    return [cupedRatioStat({ ...a, theta }), cupedRatioStat({ ...b, theta })];
  }
  return [a, b];
}
