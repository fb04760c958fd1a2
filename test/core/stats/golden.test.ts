/**
 * Golden cases: every case of GrowthBook's reference vectors (test/fixtures/vectors/growthbook_vectors.json,
 * 59 cases from gbstats 0.8.0 and GrowthBook's TypeScript stats helpers). Each figure must match
 * the upstream assertion at its `upstream_rounding` (|Δ| ≤ ½·10^−k) and the full-precision figure
 * (`gbstats_full_precision`) to 1e-6 relative.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ArmStat,
  type BayesianResult,
  type CupedRatioStat,
  type CupedStat,
  type FrequentistResult,
  adjustedCI,
  adjustPValues,
  bayesianRisk,
  bayesianTest,
  chanceToWinFlatPrior,
  checkSrm,
  computeTheta,
  effectMoments,
  frequentistDiff,
  scalingFactor,
  sequentialTest,
  statUnadjustedMean,
  welchTTest,
} from '../../../src/core/stats/index.js';
import {
  type VectorCase,
  armFromRow,
  armFromVector,
  expectFull,
  expectUpstream,
  loadVectors,
  num,
  roundingPlaces,
  worstFullPrecision,
} from './vectors.js';

const cases = loadVectors();

type Actual = number | string | null | Actual[];

const SIDES: Record<string, 'two' | 'greater' | 'less'> = { 'two-sided': 'two', greater: 'greater', less: 'less' };

function frequentistActual(r: FrequentistResult): Record<string, Actual> {
  const statsError = r.error === 'ZERO_NEGATIVE_VARIANCE' || r.error === 'ZERO_NEGATIVE_BASELINE_VARIATION' ? r.error : null;
  return {
    expected: r.estimate,
    ci: [...r.ci],
    se: r.se,
    p_value: r.pValue,
    ...(r.df === null ? {} : { df: r.df }),
    error_message: statsError,
    p_value_error_message: statsError === null ? r.error : null,
  };
}

function bayesianActual(r: BayesianResult, relative: boolean): Record<string, Actual> {
  return {
    expected: r.estimate,
    ci: [...r.ci],
    sd: r.se,
    chance_to_win: r.chanceToWin,
    risk: [...r.risk],
    risk_type: relative ? 'relative' : 'absolute',
    error_message: r.error,
  };
}

/** gbstats' GaussianPrior from a vector config: {mean = 0, variance = 1, proper = false}. */
function priorOf(config: any): { mean: number; variance: number } | null {
  const p = config?.prior_effect;
  if (!p?.proper) return null;
  return { mean: p.mean ?? 0, variance: p.variance ?? 1 };
}

/** Runs the case through our engines and returns the figures under the vector's own keys. */
function run(c: VectorCase): Record<string, Actual> {
  const input = c.input;
  switch (c.group) {
    case 'frequentist_fixed':
    case 'frequentist_sequential': {
      const a = armFromVector(input.control);
      const b = armFromVector(input.treatment);
      const options = {
        alpha: c.semantics.alpha,
        sides: SIDES[c.semantics.sides]!,
        difference: input.config.difference_type ?? 'relative',
      };
      const r =
        c.group === 'frequentist_sequential'
          ? sequentialTest(a, b, { ...options, nStar: input.config.sequential_tuning_parameter ?? 5000 })
          : welchTTest(a, b, options);
      return frequentistActual(r);
    }
    case 'bayesian': {
      if (c.id.startsWith('gb.bayes.get_risk')) {
        if (Array.isArray(input)) return { risk: input.map((x: any) => bayesianRisk(x.mu, x.sigma)) };
        return { risk: bayesianRisk(input.mu, input.sigma) };
      }
      if (c.id === 'gb.ctw_flat_prior') {
        return { values: input.map((x: any) => chanceToWinFlatPrior(x.expected, num(x.lower), num(x.upper), x.threshold, x.inverse)) };
      }
      const difference = input.config.difference_type ?? 'relative';
      const r = bayesianTest(armFromVector(input.control), armFromVector(input.treatment), {
        alpha: c.semantics.alpha,
        difference,
        prior: priorOf(input.config),
        inverse: c.semantics.inverse,
      });
      return bayesianActual(r, difference === 'relative');
    }
    case 'cuped':
      return { theta: computeTheta(armFromVector(input.control) as CupedStat, armFromVector(input.treatment) as CupedStat) };
    case 'delta_method': {
      if (c.id === 'gb.utils.frequentist_diff') {
        return { values: input.map((x: [number, number, boolean, number?]) => frequentistDiff(x[0], x[1], x[2], x[3])) };
      }
      // EffectMoments with the FIXED theta of the input (0.5): no pooled re-estimation.
      const m = effectMoments(armFromVector(input.control) as CupedRatioStat, armFromVector(input.treatment) as CupedRatioStat, 'relative');
      return { expected: m.estimate, se: m.se };
    }
    case 'end_to_end':
      return endToEnd(c);
    case 'power': {
      const a = armFromVector(input.control);
      const b = armFromVector(input.treatment);
      const m = effectMoments(a, b, input.difference_type);
      const r = scalingFactor({ variance: m.se * m.se, pairwiseN: m.pairwiseN, alpha: input.alpha }, input.target_mde, input.target_power);
      return { scaling_factor: r.scalingFactor };
    }
    case 'srm': {
      const r = checkSrm(input.users, input.weights);
      return { p_value: r.pValue, chi2_statistic: r.chi2 };
    }
    case 'multiple_testing':
      return multipleTesting(c);
    default:
      throw new Error(`no runner for group ${c.group}`);
  }
}

function endToEnd(c: VectorCase): Record<string, Actual> {
  const { rows, control_variation, treatment_variation, weights } = c.input;
  const metric = c.semantics.metric;
  const row = (name: string) => rows.find((r: any) => r.variation === name);
  const control: ArmStat = armFromRow(row(control_variation), metric.statistic_type, metric.main_metric_type);
  const treatment: ArmStat = armFromRow(row(treatment_variation), metric.statistic_type, metric.main_metric_type);
  const alpha = c.semantics.alpha;
  const difference = c.semantics.difference_type;
  const common: Record<string, Actual> = {
    control_cr: statUnadjustedMean(control),
    treatment_cr: statUnadjustedMean(treatment),
    srm_p: checkSrm([row(control_variation).users, row(treatment_variation).users], weights).pValue,
  };
  let out: Record<string, Actual>;
  if (c.semantics.engine === 'bayesian') {
    out = bayesianActual(bayesianTest(control, treatment, { alpha, difference, inverse: metric.inverse }), difference === 'relative');
  } else if (c.semantics.sequential) {
    out = frequentistActual(sequentialTest(control, treatment, { alpha, difference, nStar: c.semantics.sequential_tuning_parameter }));
  } else {
    out = frequentistActual(welchTTest(control, treatment, { alpha, difference }));
  }
  const ci = out.ci as number[];
  const risk = out.risk as number[] | undefined;
  return { ...common, ...out, 'ci[0]': ci[0]!, ...(risk ? { 'risk[1]': risk[1]! } : {}) };
}

function multipleTesting(c: VectorCase): Record<string, Actual> {
  const p: number[] = c.input.p_values ?? [];
  switch (c.id) {
    case 'gb.multitest.holm_bonferroni': {
      // Upstream returns the family sorted ascending by p, with the original indices.
      const adjusted = adjustPValues('holm', p).adjusted;
      const idx = p.map((_, i) => i).sort((i, j) => p[i]! - p[j]! || i - j);
      return { adjusted_in_input_order: adjusted, sorted_index: idx, sorted_adjusted: idx.map((i) => adjusted[i]!) };
    }
    case 'gb.multitest.benjamini_hochberg': {
      // Upstream returns the family sorted descending by p.
      const adjusted = adjustPValues('bh', p).adjusted;
      const idx = p.map((_, i) => i).sort((i, j) => p[j]! - p[i]! || i - j);
      return { adjusted_in_input_order: adjusted, sorted_index: idx, sorted_adjusted: idx.map((i) => adjusted[i]!) };
    }
    case 'gb.multitest.small_family':
      return { holm: adjustPValues('holm', p).adjusted, bh: adjustPValues('bh', p).adjusted };
    case 'gb.multitest.adjusted_ci':
      return { ci: c.input.map((x: any) => adjustedCI(x.adjusted_p, x.lift, x.threshold)) };
    default:
      throw new Error(`no runner for ${c.id}`);
  }
}

/** Walks expected (possibly nested arrays) and compares leaf by leaf. */
function compare(actual: Actual | undefined, expected: unknown, label: string, leaf: (a: number, e: unknown, label: string) => void): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${label} is an array`).toBe(true);
    expect((actual as Actual[]).length, `${label} length`).toBe(expected.length);
    expected.forEach((e, i) => compare((actual as Actual[])[i], e, `${label}[${i}]`, leaf));
    return;
  }
  if (expected === null || (typeof expected === 'string' && !['Infinity', '-Infinity', 'NaN'].includes(expected))) {
    expect(actual ?? null, label).toBe(expected);
    return;
  }
  expect(typeof actual, `${label} is a number`).toBe('number');
  leaf(actual as number, expected, label);
}

/** Keys of the upstream/full-precision objects that are metadata, not figures. */
const NOT_FIGURES = new Set(['python_check_srm']);

describe('GrowthBook golden cases', () => {
  const all = cases;

  it('covers all 59 cases of the vectors file', () => {
    expect(all.length).toBe(59);
  });

  it.each(all.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const actual = run(c);
    const places = roundingPlaces(c.upstream_rounding);
    for (const [key, expected] of Object.entries(c.expected_upstream)) {
      compare(actual[key], expected, `${c.id} upstream ${key}`, (a, e, label) => {
        // ctw_flat_prior: "toFixed(7) for the non-trivial ones; exact for the sanity checks" (0, ½, 1).
        const exact = c.id === 'gb.ctw_flat_prior' && [0, 0.5, 1].includes(num(e));
        expectUpstream(a, e, exact ? null : places, label);
      });
    }
    for (const [key, expected] of Object.entries(c.gbstats_full_precision ?? {})) {
      if (NOT_FIGURES.has(key)) continue;
      compare(actual[key], expected, `${c.id} full ${key}`, (a, e, label) => expectFull(a, e, label, c.group));
    }
  });

  afterAll(() => {
    if (all.length === 0) return;
    const lines = [...worstFullPrecision].map(([g, w]) => `  ${g}: ${w.rel.toExponential(2)} (${w.where})`);
    console.info(`largest relative deviation from gbstats full precision, per group:\n${lines.join('\n')}`);
  });
});

/**
 * Upstream quirks documented in the cases' `semantics.note`: we follow gbstats / GrowthBook's
 * TypeScript on each of them, and these tests pin which convention we implement.
 */
describe('upstream quirks we follow on purpose (semantics.note)', () => {
  const byId = (id: string): VectorCase => {
    const c = cases.find((x) => x.id === id);
    if (!c) throw new Error(`vector case ${id} is missing`);
    return c;
  };

  it('gb.freq.two_sided.zero_variance_guard: a negative sample variance gives the uninformative default, not an error', () => {
    const c = byId('gb.freq.two_sided.zero_variance_guard');
    const r = welchTTest(armFromVector(c.input.control), armFromVector(c.input.treatment));
    expect(r).toMatchObject({ estimate: 0, se: 0, ci: [0, 0], pValue: 1, error: 'ZERO_NEGATIVE_VARIANCE' });
  });

  it('gb.freq.two_sided.proportion.relative: proportions use p(1 − p) without n/(n − 1) yet still a t with Welch df', () => {
    const c = byId('gb.freq.two_sided.proportion.relative');
    const r = welchTTest(armFromVector(c.input.control), armFromVector(c.input.treatment));
    expect(r.df).toBeCloseTo(c.gbstats_full_precision!.df, 9);
  });

  it('gb.bayes.mean.relative.flat: the Bayesian interval uses the normal quantile, not t, even at n = 10', () => {
    const c = byId('gb.bayes.mean.relative.flat');
    const r = bayesianTest(armFromVector(c.input.control), armFromVector(c.input.treatment));
    expect((r.ci[1] - r.ci[0]) / 2 / r.se).toBeCloseTo(1.959963984540054, 12);
  });

  it('gb.seq.one_sided_*: the one-sided p-value is a bisection iterate clamped to [1e-5, 0.4999]', () => {
    const a = byId('gb.seq.one_sided_greater.mean.absolute');
    const greater = sequentialTest(armFromVector(a.input.control), armFromVector(a.input.treatment), {
      sides: 'greater',
      difference: 'absolute',
    });
    // Bit-for-bit the midpoint upstream returns after its last bracket update.
    expect(greater.pValue).toBe(a.gbstats_full_precision!.p_value);
    const b = byId('gb.seq.one_sided_less.mean.relative');
    expect(sequentialTest(armFromVector(b.input.control), armFromVector(b.input.treatment), { sides: 'less' }).pValue).toBe(0.4999);
  });

  it("gb.e2e.freq.cuped_*: relative CUPED uses GrowthBook's simplified variance, not the textbook delta method", () => {
    for (const id of ['gb.e2e.freq.cuped_mean.relative', 'gb.e2e.freq.cuped_proportion.relative']) {
      const c = byId(id);
      const m = c.semantics.metric;
      const row = (name: string) => c.input.rows.find((r: any) => r.variation === name);
      const r = welchTTest(
        armFromRow(row('zero'), m.statistic_type, m.main_metric_type),
        armFromRow(row('one'), m.statistic_type, m.main_metric_type),
      );
      const textbook = c.alternative_textbook_delta_method!;
      expect(Math.abs(r.pValue! - c.gbstats_full_precision!.p_value) / c.gbstats_full_precision!.p_value).toBeLessThan(1e-9);
      expect(Math.abs(r.pValue! - textbook.p_value) / textbook.p_value).toBeGreaterThan(1e-3);
    }
  });

  it('gb.e2e.freq.cuped_proportion.relative: 0/1 metrics use the /n covariance even on synthetic (unattainable) sums', () => {
    const c = byId('gb.e2e.freq.cuped_proportion.relative');
    const row = (name: string) => c.input.rows.find((r: any) => r.variation === name);
    const [a, b] = [armFromRow(row('zero'), 'mean_ra', 'binomial'), armFromRow(row('one'), 'mean_ra', 'binomial')] as CupedStat[];
    const pooled = (a!.sumPostPre + b!.sumPostPre) / 6001 - ((a!.post.sum + b!.post.sum) * (a!.pre.sum + b!.pre.sum)) / 6001 ** 2;
    const p = (a!.pre.sum + b!.pre.sum) / 6001;
    expect(computeTheta(a!, b!)).toBeCloseTo(pooled / (p * (1 - p)), 15);
  });

  it('gb.moments.cuped_ratio.*: EffectMoments keeps a fixed theta; relative lift divides by |unadjusted control|', () => {
    const pos = byId('gb.moments.cuped_ratio.relative.improving.pos_baseline');
    const neg = byId('gb.moments.cuped_ratio.relative.improving.neg_baseline');
    const r = (c: VectorCase) => effectMoments(armFromVector(c.input.control), armFromVector(c.input.treatment), 'relative');
    expect(r(neg).estimate).toBeCloseTo(-r(pos).estimate, 15);
    expect(r(neg).se).toBeCloseTo(r(pos).se, 15);
  });

  it('gb.srm.*: the TypeScript checkSrm semantics (df = arms kept − 1), not Python check_srm', () => {
    const c = byId('gb.srm.skip_zero_weight_arm');
    const r = checkSrm(c.input.users, c.input.weights);
    expect(r.df).toBe(1);
    expect(r.pValue).not.toBeCloseTo(c.gbstats_full_precision!.python_check_srm, 10);
  });

  it("gb.power.mid_experiment.frequentist: the scaling factor is upstream's bisection iterate, not the exact root", () => {
    const c = byId('gb.power.mid_experiment.frequentist');
    const m = effectMoments(armFromVector(c.input.control), armFromVector(c.input.treatment), 'relative');
    const k = scalingFactor({ variance: m.se ** 2, pairwiseN: m.pairwiseN }, 0.05).scalingFactor!;
    expect(k).toBe(25.45703125);
    expect(Math.abs(k - 25.456479712798945)).toBeLessThan(0.01); // scipy brentq root (independent check)
  });

  it('gb.bayes.get_risk.extreme_mu_over_sigma: |mu/sigma| > 37 short-circuits to [max(mu, 0), max(−mu, 0)]', () => {
    expect(bayesianRisk(0.01, 4.5e-9)).toEqual([0.01, 0]);
    expect(bayesianRisk(-0.01, 4.5e-9)).toEqual([0, 0.01]);
  });
});
