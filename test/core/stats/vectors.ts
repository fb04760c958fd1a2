/**
 * Loading and comparing the GrowthBook reference vectors (test/fixtures/vectors/growthbook_vectors.json,
 * a copy of GrowthBook's MIT-licensed figures: see the README there). Shared by the golden tests of
 * the engines and of the CLI; the file is in the repository, so these tests never skip.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import {
  type ArmStat,
  type MomentStat,
  cupedRatioStat,
  cupedStat,
  meanStat,
  proportionStat,
  quantileStat,
  ratioStat,
} from '../../../src/core/stats/index.js';

export const VECTORS = new URL('../../fixtures/vectors/growthbook_vectors.json', import.meta.url);

export interface VectorCase {
  id: string;
  group: string;
  function: string;
  semantics: Record<string, any>;
  input: any;
  expected_upstream: Record<string, any>;
  upstream_rounding: string;
  gbstats_full_precision?: Record<string, any>;
  alternative_textbook_delta_method?: Record<string, any>;
}

/** The cases of the vectors file. */
export function loadVectors(): VectorCase[] {
  return (JSON.parse(readFileSync(VECTORS, 'utf8')) as { cases: VectorCase[] }).cases;
}

/** Vector numbers may be the strings "Infinity" / "-Infinity" / "NaN". */
export const num = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));

/**
 * Decimal places of `upstream_rounding` ("np.round(x, 5)", "round(x, 10)", "toFixed(9)",
 * "assertAlmostEqual (7 places)", "places=4"); null for "exact". assertAlmostEqual defaults to 7.
 */
export function roundingPlaces(rounding: string): number | null {
  const m = /(?:round\(x, |places=|toFixed\(|\()(\d+)/.exec(rounding);
  if (m) return Number(m[1]);
  if (rounding.startsWith('exact')) return null;
  if (rounding.startsWith('assertAlmostEqual')) return 7;
  throw new Error(`unknown rounding ${rounding}`);
}

/** The largest relative deviation from the full-precision figures, per group (for the report). */
export const worstFullPrecision = new Map<string, { rel: number; where: string }>();

/**
 * `actual` matches an upstream figure asserted at `places` decimals: |actual − expected| ≤ ½·10^−places
 * (plus 1e-15 for the binary representation of the decimal); exact equality when places is null.
 */
export function expectUpstream(actual: number, expected: unknown, places: number | null, label: string): void {
  const e = num(expected);
  if (!Number.isFinite(e) || places === null) {
    expect(actual, label).toBe(e);
    return;
  }
  expect(Math.abs(actual - e), `${label}: ${actual} vs upstream ${e} at ${places} places`).toBeLessThanOrEqual(0.5 * 10 ** -places + 1e-15);
}

/** `actual` matches a full-precision figure to 1e-6 relative (exactly when the figure is 0 or infinite). */
export function expectFull(actual: number, expected: unknown, label: string, group: string): void {
  const e = num(expected);
  if (!Number.isFinite(e) || e === 0) {
    expect(actual, label).toBe(e);
    return;
  }
  const rel = Math.abs(actual - e) / Math.abs(e);
  const worst = worstFullPrecision.get(group);
  if (!worst || rel > worst.rel) worstFullPrecision.set(group, { rel, where: label });
  expect(rel, `${label}: ${actual} vs full precision ${e}`).toBeLessThanOrEqual(1e-6);
}

const moment = (s: any): MomentStat =>
  s.type === 'proportion' ? proportionStat({ n: s.n, sum: s.sum }) : meanStat({ n: s.n, sum: s.sum, sumSquares: s.sum_squares });

/** A vector statistic (`input.control` / `input.treatment`) as an ArmStat. */
export function armFromVector(s: any): ArmStat {
  switch (s.type) {
    case 'mean':
    case 'proportion':
      return moment(s);
    case 'mean_ra':
      return cupedStat({ n: s.n, post: moment(s.post), pre: moment(s.pre), sumPostPre: s.post_pre_sum_of_products, theta: s.theta });
    case 'ratio_ra':
      return cupedRatioStat({
        n: s.n,
        mPost: moment(s.m_post),
        dPost: moment(s.d_post),
        mPre: moment(s.m_pre),
        dPre: moment(s.d_pre),
        sumMPostMPre: s.m_post_m_pre_sum_of_products,
        sumDPostDPre: s.d_post_d_pre_sum_of_products,
        sumMPreDPre: s.m_pre_d_pre_sum_of_products,
        sumMPostDPost: s.m_post_d_post_sum_of_products,
        sumMPostDPre: s.m_post_d_pre_sum_of_products,
        sumMPreDPost: s.m_pre_d_post_sum_of_products,
        theta: s.theta,
      });
    case 'quantile':
      return quantileStat({
        n: s.n,
        nStar: s.n_star,
        nu: s.nu,
        quantileHat: s.quantile_hat,
        quantileLower: s.quantile_lower,
        quantileUpper: s.quantile_upper,
      });
    default:
      throw new Error(`unknown vector statistic ${s.type}`);
  }
}

/**
 * An end-to-end row (per-variation SQL result) as gbstats' get_metric_dfs reads it: n = count,
 * main_sum / main_sum_squares the metric, denominator_* for ratios, covariate_* for CUPED.
 */
export function armFromRow(row: any, statisticType: string, metricType: string): ArmStat {
  const main = (): MomentStat =>
    metricType === 'binomial'
      ? proportionStat({ n: row.count, sum: row.main_sum })
      : meanStat({ n: row.count, sum: row.main_sum, sumSquares: row.main_sum_squares });
  switch (statisticType) {
    case 'mean':
      return main();
    case 'ratio':
      return ratioStat({
        n: row.count,
        numerator: main(),
        denominator: meanStat({ n: row.count, sum: row.denominator_sum, sumSquares: row.denominator_sum_squares }),
        sumProducts: row.main_denominator_sum_product,
      });
    case 'mean_ra': {
      const pre: MomentStat =
        metricType === 'binomial'
          ? proportionStat({ n: row.count, sum: row.covariate_sum })
          : meanStat({ n: row.count, sum: row.covariate_sum, sumSquares: row.covariate_sum_squares });
      return cupedStat({ n: row.count, post: main(), pre, sumPostPre: row.main_covariate_sum_product, theta: null });
    }
    default:
      throw new Error(`unknown statistic type ${statisticType}`);
  }
}
