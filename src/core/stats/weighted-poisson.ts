import jstatPkg from 'jstat';

const { jStat } = jstatPkg;

/**
 * Confidence interval for a weighted sum of Poisson counts, T = Σ_j w_j·X_j with X_j ~ Poisson(λ_j)
 * independent and known weights w_j > 0: the gamma interval of Fay & Feuer (1997, "Confidence
 * intervals for directly standardized rates: a method based on the gamma distribution",
 * Statistics in Medicine 16:791-801). With t = Σ w_j·x_j, v = Σ w_j²·x_j (the estimated variance)
 * and w_M the largest weight any count could carry,
 *
 *   lower = G⁻¹(α/2; shape t²/v, scale v/t)                                  (0 when t = 0)
 *   upper = G⁻¹(1 − α/2; shape (t + w_M)²/(v + w_M²), scale (v + w_M²)/(t + w_M))
 *
 * where G⁻¹(p; k, θ) is the gamma quantile (jStat). With every weight 1 it is Garwood's exact
 * Poisson interval, [χ²_{α/2}(2x)/2, χ²_{1−α/2}(2x + 2)/2]: for x = 0, [0, 3.689]; x = 1,
 * [0.0253, 5.572]; x = 5, [1.6235, 11.668] (test/core/stats/weighted-poisson.test.ts). Fay and
 * Feuer show it holds its level (is conservative) where the normal interval undercovers: few
 * events, unequal weights.
 *
 * @example weightedPoissonInterval(5, 5, 1) // ≈ [1.6235, 11.6683]
 */
export function weightedPoissonInterval(t: number, v: number, wMax: number, alpha = 0.05): [number, number] {
  if (!(t >= 0 && v >= 0 && wMax > 0 && alpha > 0 && alpha < 1))
    throw new RangeError(`weightedPoissonInterval: need t >= 0, v >= 0, wMax > 0, alpha in (0, 1); got ${t}, ${v}, ${wMax}, ${alpha}`);
  const lower = t > 0 && v > 0 ? jStat.gamma.inv(alpha / 2, (t * t) / v, v / t) : 0;
  const tu = t + wMax;
  const vu = v + wMax * wMax;
  const upper = jStat.gamma.inv(1 - alpha / 2, (tu * tu) / vu, vu / tu);
  return [lower, upper];
}
