/**
 * The `readnext stats` contract: JSON document in, JSON document out, exit 2 with one line naming
 * the field for an invalid document. Golden outputs come from GrowthBook's reference vectors
 * (test/fixtures/vectors/growthbook_vectors.json), replayed through the CLI document format.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerStats, runStatsCommand } from '../../../src/adapters/cli/stats.js';
import { type VectorCase, expectFull, loadVectors, num } from '../../core/stats/vectors.js';

const cases = loadVectors();

/** Runs a document (object or raw text) and parses a successful output. */
function stats(doc: unknown): { code: number; output: string; json: any } {
  const r = runStatsCommand(typeof doc === 'string' ? doc : JSON.stringify(doc));
  return { ...r, json: r.code === 0 ? JSON.parse(r.output) : undefined };
}

// ---------------------------------------------------------------------------------------------
// Vector statistics as CLI variants
// ---------------------------------------------------------------------------------------------

function variantFromVector(name: string, s: any): { metric: string; variant: Record<string, unknown> } {
  switch (s.type) {
    case 'mean':
      return { metric: 'mean', variant: { name, n: s.n, sum: s.sum, sum_squares: s.sum_squares } };
    case 'proportion':
      return { metric: 'proportion', variant: { name, n: s.n, sum: s.sum } };
    case 'mean_ra': {
      const post = variantFromVector(name, s.post);
      const pre = s.pre.type === 'proportion' ? { sum: s.pre.sum } : { sum: s.pre.sum, sum_squares: s.pre.sum_squares };
      return { metric: post.metric, variant: { ...post.variant, pre, sum_post_pre: s.post_pre_sum_of_products } };
    }
    case 'ratio_ra':
      return {
        metric: 'ratio',
        variant: {
          name,
          n: s.n,
          sum_m: s.m_post.sum,
          sum_m2: s.m_post.sum_squares,
          sum_d: s.d_post.sum,
          sum_d2: s.d_post.sum_squares,
          sum_md: s.m_post_d_post_sum_of_products,
          pre: {
            sum_m: s.m_pre.sum,
            sum_m2: s.m_pre.sum_squares,
            sum_d: s.d_pre.sum,
            sum_d2: s.d_pre.sum_squares,
            sum_md: s.m_pre_d_pre_sum_of_products,
          },
          sum_m_mpre: s.m_post_m_pre_sum_of_products,
          sum_d_dpre: s.d_post_d_pre_sum_of_products,
          sum_m_dpre: s.m_post_d_pre_sum_of_products,
          sum_d_mpre: s.m_pre_d_post_sum_of_products,
        },
      };
    default:
      throw new Error(`no CLI form for ${s.type}`);
  }
}

function variantFromRow(
  name: string,
  row: any,
  statisticType: string,
  metricType: string,
): { metric: string; variant: Record<string, unknown> } {
  const n = row.count;
  const binomial = metricType === 'binomial';
  if (statisticType === 'ratio') {
    return {
      metric: 'ratio',
      variant: {
        name,
        n,
        sum_m: row.main_sum,
        sum_m2: row.main_sum_squares,
        sum_d: row.denominator_sum,
        sum_d2: row.denominator_sum_squares,
        sum_md: row.main_denominator_sum_product,
      },
    };
  }
  const base = binomial ? { name, n, sum: row.main_sum } : { name, n, sum: row.main_sum, sum_squares: row.main_sum_squares };
  if (statisticType === 'mean') return { metric: binomial ? 'proportion' : 'mean', variant: base };
  const pre = binomial ? { sum: row.covariate_sum } : { sum: row.covariate_sum, sum_squares: row.covariate_sum_squares };
  return { metric: binomial ? 'proportion' : 'mean', variant: { ...base, pre, sum_post_pre: row.main_covariate_sum_product } };
}

/** Checks a CLI comparison against a vector's full-precision figures (1e-6 relative). */
function expectComparison(got: any, full: Record<string, any>, id: string, bayesian: boolean): void {
  expectFull(got.estimate, full.expected, `${id} estimate`, 'cli');
  const ci: unknown[] = full.ci;
  got.ci.forEach((b: unknown, i: number) => expectFull(num(b), ci[i], `${id} ci[${i}]`, 'cli'));
  if ('se' in full) expectFull(got.se, full.se, `${id} se`, 'cli');
  if ('sd' in full) expectFull(got.se, full.sd, `${id} se`, 'cli');
  if ('df' in full) expectFull(got.df, full.df, `${id} df`, 'cli');
  if (bayesian) {
    expect(got.p_value).toBeNull();
    expect(got.df).toBeNull();
    expectFull(got.chance_to_win, full.chance_to_win, `${id} chance_to_win`, 'cli');
    got.risk.forEach((r: number, i: number) => expectFull(r, full.risk[i], `${id} risk[${i}]`, 'cli'));
  } else {
    expectFull(got.p_value, full.p_value, `${id} p_value`, 'cli');
    expect(got.chance_to_win).toBeNull();
    expect(got.risk).toBeNull();
  }
}

const SIDES: Record<string, string> = { 'two-sided': 'two', greater: 'greater', less: 'less' };

const testCases = cases.filter(
  (c) =>
    c.group === 'frequentist_fixed' ||
    c.group === 'frequentist_sequential' ||
    (c.group === 'bayesian' && c.input?.control?.type && c.input.control.type !== 'quantile' && c.input.control.n > 0),
);

describe('readnext stats replays the GrowthBook golden cases', () => {
  it.each(testCases.map((c) => [c.id, c] as const))('compare: %s', (_id, c: VectorCase) => {
    const control = variantFromVector('control', c.input.control);
    const treatment = variantFromVector('b', c.input.treatment);
    const config = c.input.config ?? {};
    const bayesian = c.group === 'bayesian';
    const doc: Record<string, unknown> = {
      kind: 'compare',
      metric: control.metric,
      engine: bayesian ? 'bayesian' : c.group === 'frequentist_sequential' ? 'sequential' : 'frequentist',
      difference: config.difference_type ?? 'relative',
      alpha: c.semantics.alpha,
      variants: [control.variant, treatment.variant],
    };
    if (!bayesian) doc.sides = SIDES[c.semantics.sides];
    if (config.sequential_tuning_parameter) doc.n_star = config.sequential_tuning_parameter;
    if (config.prior_effect?.proper) doc.prior = { mean: config.prior_effect.mean ?? 0, variance: config.prior_effect.variance ?? 1 };
    const r = stats(doc);
    expect(r.code, r.output).toBe(0);
    expect(r.json.comparisons).toHaveLength(1);
    expect(r.json.comparisons[0].variant).toBe('b');
    expectComparison(r.json.comparisons[0], c.gbstats_full_precision!, c.id, bayesian);
  });

  it.each(cases.filter((c) => c.group === 'end_to_end').map((c) => [c.id, c] as const))('compare from SQL rows: %s', (_id, c) => {
    const { rows, control_variation, treatment_variation } = c.input;
    const m = c.semantics.metric;
    const row = (name: string) => rows.find((x: any) => x.variation === name);
    const control = variantFromRow('zero', row(control_variation), m.statistic_type, m.main_metric_type);
    const treatment = variantFromRow('one', row(treatment_variation), m.statistic_type, m.main_metric_type);
    const engine = c.semantics.engine === 'bayesian' ? 'bayesian' : c.semantics.sequential ? 'sequential' : 'frequentist';
    const r = stats({
      kind: 'compare',
      metric: control.metric,
      engine,
      difference: c.semantics.difference_type,
      alpha: c.semantics.alpha,
      n_star: c.semantics.sequential_tuning_parameter,
      inverse: m.inverse,
      variants: [control.variant, treatment.variant],
    });
    expect(r.code, r.output).toBe(0);
    const full = c.gbstats_full_precision!;
    const got = r.json.comparisons[0];
    expectFull(got.estimate, full.expected, `${c.id} estimate`, 'cli');
    full.ci.forEach((b: number, i: number) => expectFull(got.ci[i], b, `${c.id} ci[${i}]`, 'cli'));
    if (engine === 'bayesian') {
      expectFull(got.chance_to_win, full.chance_to_win, `${c.id} chance_to_win`, 'cli');
      full.risk.forEach((x: number, i: number) => expectFull(got.risk[i], x, `${c.id} risk[${i}]`, 'cli'));
    } else {
      expectFull(got.p_value, full.p_value, `${c.id} p_value`, 'cli');
    }
  });

  it.each(cases.filter((c) => c.group === 'srm').map((c) => [c.id, c] as const))('srm: %s', (_id, c) => {
    const r = stats({ kind: 'srm', observed: c.input.users, weights: c.input.weights });
    expect(r.code, r.output).toBe(0);
    const full = c.gbstats_full_precision!;
    expectFull(r.json.p_value, full.p_value, `${c.id} p_value`, 'cli');
    if (full.chi2_statistic === null) {
      expect(r.json).toEqual({ chi2: null, df: null, p_value: 1, flag: false });
    } else {
      expectFull(r.json.chi2, full.chi2_statistic, `${c.id} chi2`, 'cli');
      expect(r.json.flag).toBe(full.p_value < 0.001);
    }
  });

  it('adjust: Holm, BH and the two-metric family', () => {
    const byId = (id: string) => cases.find((c) => c.id === id)!;
    const holm = byId('gb.multitest.holm_bonferroni');
    expect(stats({ kind: 'adjust', method: 'holm', p_values: holm.input.p_values }).json.adjusted).toEqual(
      holm.expected_upstream.adjusted_in_input_order,
    );
    const bh = byId('gb.multitest.benjamini_hochberg');
    stats({ kind: 'adjust', method: 'bh', p_values: bh.input.p_values }).json.adjusted.forEach((x: number, i: number) =>
      expect(x).toBeCloseTo(bh.expected_upstream.adjusted_in_input_order[i], 8),
    );
    const small = byId('gb.multitest.small_family');
    expect(stats({ kind: 'adjust', method: 'holm', p_values: small.input.p_values }).json).toEqual({
      adjusted: [0.05, 0.05],
      // On the boundary: a level-alpha test rejects at p <= alpha (statsmodels' multipletests).
      reject: [true, true],
    });
    expect(stats({ kind: 'adjust', method: 'bh', p_values: small.input.p_values }).json).toEqual({
      adjusted: [0.03, 0.03],
      reject: [true, true],
    });
  });
});

describe('readnext stats output format', () => {
  const mean = (name: string, n: number, sum: number, sumSquares: number) => ({ name, n, sum, sum_squares: sumSquares });
  const arms = [mean('control', 3000, 1396.87, 52377.9767), mean('b', 3461, 2422.7, 134698.29), mean('c', 3300, 1500.1, 60000)];

  it('compares every variant with the first, with exactly the contract fields', () => {
    const r = stats({ kind: 'compare', metric: 'mean', engine: 'frequentist', difference: 'relative', alpha: 0.05, variants: arms });
    expect(r.code).toBe(0);
    expect(r.output).not.toContain('\n');
    expect(r.json.comparisons.map((c: any) => c.variant)).toEqual(['b', 'c']);
    for (const c of r.json.comparisons) {
      expect(Object.keys(c)).toEqual(['variant', 'estimate', 'se', 'df', 'ci', 'p_value', 'chance_to_win', 'risk']);
      expect(c.chance_to_win).toBeNull();
      expect(c.risk).toBeNull();
      expect(c.df).toBeGreaterThan(1);
    }
  });

  it('writes open one-sided bounds as "Infinity" / "-Infinity"', () => {
    const greater = stats({ kind: 'compare', metric: 'mean', engine: 'frequentist', sides: 'greater', variants: arms.slice(0, 2) }).json
      .comparisons[0];
    expect(greater.ci[1]).toBe('Infinity');
    expect(typeof greater.ci[0]).toBe('number');
    const less = stats({ kind: 'compare', metric: 'mean', engine: 'sequential', sides: 'less', variants: arms.slice(0, 2) }).json
      .comparisons[0];
    expect(less.ci[0]).toBe('-Infinity');
    expect(less.df).toBeNull();
    // gb.seq.one_sided_less.mean.relative: the bisection p-value clamps at 0.4999.
    expect(less.p_value).toBe(0.4999);
  });

  it('gives the Bayesian fields and nulls the frequentist ones', () => {
    const c = stats({
      kind: 'compare',
      metric: 'proportion',
      engine: 'bayesian',
      variants: [
        { name: 'control', n: 100, sum: 49 },
        { name: 'b', n: 100, sum: 51, sum_squares: 51 },
      ],
    }).json.comparisons[0];
    expect(c.p_value).toBeNull();
    expect(c.df).toBeNull();
    expect(c.chance_to_win).toBeCloseTo(0.6091813095808981, 12);
    expect(c.risk[0]).toBeCloseTo(0.0813958491551631, 12);
    // inverse flips chance to win and swaps the risks
    const inv = stats({
      kind: 'compare',
      metric: 'proportion',
      engine: 'bayesian',
      inverse: true,
      variants: [
        { name: 'control', n: 100, sum: 49 },
        { name: 'b', n: 100, sum: 51 },
      ],
    }).json.comparisons[0];
    expect(inv.chance_to_win).toBeCloseTo(1 - 0.6091813095808981, 12);
    expect(inv.risk).toEqual([c.risk[1], c.risk[0]]);
  });

  it('returns the uninformative default for an arm without variance instead of failing', () => {
    const c = stats({ kind: 'compare', metric: 'mean', variants: [mean('control', 1, 5, 25), mean('b', 10, 50, 300)] }).json.comparisons[0];
    expect(c).toMatchObject({ estimate: 0, se: 0, df: null, ci: [0, 0], p_value: 1 });
  });

  it('srm and adjust documents', () => {
    const s = stats({ kind: 'srm', observed: [1000, 1200], weights: [0.5, 0.5] });
    expect(Object.keys(s.json)).toEqual(['chi2', 'df', 'p_value', 'flag']);
    expect(s.json.df).toBe(1);
    expect(s.json.flag).toBe(true);
    const a = stats({ kind: 'adjust', method: 'by', alpha: 0.1, p_values: [0.01, 0.02, 0.5] });
    expect(a.json.adjusted[0]).toBeCloseTo(0.01 * 3 * (1 + 1 / 2 + 1 / 3), 12);
    expect(a.json.reject).toEqual([true, true, false]);
    expect(stats({ kind: 'adjust', method: 'bonferroni', p_values: [] }).json).toEqual({ adjusted: [], reject: [] });
  });
});

describe('readnext stats rejects an invalid document with exit 2 and one line naming the field', () => {
  const two = (variants: unknown[], extra: Record<string, unknown> = {}) => ({ kind: 'compare', metric: 'mean', variants, ...extra });
  const ok = { name: 'control', n: 10, sum: 5, sum_squares: 10 };
  const b = (over: Record<string, unknown>) => ({ name: 'b', n: 10, sum: 6, sum_squares: 12, ...over });
  const cuped = (name: string, pre?: unknown) => ({ name, n: 10, sum: 5, sum_squares: 10, ...(pre ? { pre, sum_post_pre: 3 } : {}) });

  it.each([
    ['not JSON', '{"kind":', /^readnext: input is not valid JSON: /],
    ['not an object', '[1,2]', 'readnext: input must be a JSON object'],
    ['unknown kind', { kind: 'anova' }, 'readnext: kind must be one of "compare", "srm", "adjust"'],
    ['missing metric', { kind: 'compare', variants: [ok, b({})] }, 'readnext: metric must be one of "mean", "proportion", "ratio"'],
    ['n = 0', two([ok, b({ n: 0 })]), 'readnext: variants[1].n must be a positive integer'],
    ['fractional n', two([ok, b({ n: 2.5 })]), 'readnext: variants[1].n must be a positive integer'],
    ['n as a string', two([{ ...ok, n: '10' }, b({})]), 'readnext: variants[0].n must be a positive integer'],
    ['missing sum_squares', two([ok, { name: 'b', n: 10, sum: 6 }]), 'readnext: variants[1].sum_squares must be a finite number'],
    ['negative sum_squares', two([ok, b({ sum_squares: -1 })]), 'readnext: variants[1].sum_squares must be a non-negative number'],
    [
      'proportion sum above n',
      {
        kind: 'compare',
        metric: 'proportion',
        variants: [
          { name: 'a', n: 10, sum: 3 },
          { name: 'b', n: 10, sum: 11 },
        ],
      },
      'readnext: variants[1].sum must be an integer between 0 and n (10)',
    ],
    [
      'ratio without sum_md',
      {
        kind: 'compare',
        metric: 'ratio',
        variants: [
          { name: 'a', n: 10, sum_m: 1, sum_m2: 1, sum_d: 2, sum_d2: 4, sum_md: 2 },
          { name: 'b', n: 10, sum_m: 1, sum_m2: 1, sum_d: 2, sum_d2: 4 },
        ],
      },
      'readnext: variants[1].sum_md must be a finite number',
    ],
    ['one variant', two([ok]), 'readnext: variants must list the control and at least one other variant'],
    ['variants not an array', two({} as unknown as unknown[]), 'readnext: variants must be an array'],
    ['a variant not an object', two([ok, 7]), 'readnext: variants[1] must be an object'],
    ['nameless variant', two([ok, b({ name: '' })]), 'readnext: variants[1].name must be a non-empty string'],
    ['repeated name', two([ok, b({ name: 'control' })]), 'readnext: variants[1].name repeats variants[0].name "control"'],
    ['unknown variant field', two([ok, b({ sumsq: 1 })]), 'readnext: variants[1].sumsq is not a known field'],
    ['unknown top-level field', two([ok, b({})], { nstar: 100 }), 'readnext: nstar is not a known field'],
    ['unknown engine', two([ok, b({})], { engine: 'bandit' }), 'readnext: engine must be one of "frequentist", "sequential", "bayesian"'],
    ['unknown difference', two([ok, b({})], { difference: 'ratio' }), 'readnext: difference must be one of "absolute", "relative"'],
    ['unknown sides', two([ok, b({})], { sides: 'both' }), 'readnext: sides must be one of "two", "greater", "less"'],
    ['alpha out of range', two([ok, b({})], { alpha: 1.5 }), 'readnext: alpha must be a number between 0 and 1 (exclusive)'],
    [
      'one-sided sequential alpha ≥ 0.5',
      two([ok, b({})], { engine: 'sequential', sides: 'greater', alpha: 0.5 }),
      'readnext: alpha must be below 0.5 for a one-sided sequential test',
    ],
    ['n_star not positive', two([ok, b({})], { n_star: 0 }), 'readnext: n_star must be a positive number'],
    [
      'prior variance not positive',
      two([ok, b({})], { engine: 'bayesian', prior: { mean: 0, variance: 0 } }),
      'readnext: prior.variance must be a positive number',
    ],
    [
      'prior without mean',
      two([ok, b({})], { engine: 'bayesian', prior: { variance: 1 } }),
      'readnext: prior.mean must be a finite number',
    ],
    ['inverse not boolean', two([ok, b({})], { inverse: 'yes' }), 'readnext: inverse must be true or false'],
    [
      'CUPED on the control only',
      two([cuped('control', { sum: 1, sum_squares: 1 }), cuped('b')]),
      'readnext: variants[1].pre is required: variants[0] has pre-period statistics (CUPED)',
    ],
    [
      'CUPED on a treatment only',
      two([cuped('control'), cuped('b', { sum: 1, sum_squares: 1 })]),
      'readnext: variants[1].pre is not allowed: variants[0] has no pre-period statistics',
    ],
    [
      'CUPED without sum_post_pre',
      two([cuped('control', { sum: 1, sum_squares: 1 }), { ...cuped('b'), pre: { sum: 1, sum_squares: 1 } }]),
      'readnext: variants[1].sum_post_pre must be a finite number',
    ],
    [
      'srm with a negative count',
      { kind: 'srm', observed: [10, -1], weights: [0.5, 0.5] },
      'readnext: observed[1] must be a non-negative integer',
    ],
    ['srm without weights', { kind: 'srm', observed: [10, 12] }, 'readnext: weights must be an array'],
    [
      'adjust with p > 1',
      { kind: 'adjust', method: 'holm', p_values: [0.2, 1.2] },
      'readnext: p_values[1] must be a number between 0 and 1',
    ],
    [
      'adjust with an unknown method',
      { kind: 'adjust', method: 'sidak', p_values: [0.2] },
      'readnext: method must be one of "holm", "bh", "bonferroni", "by"',
    ],
  ] as const)('%s', (_name, doc, message) => {
    const r = stats(doc);
    expect(r.code).toBe(2);
    expect(r.output).not.toContain('\n');
    if (typeof message === 'string') expect(r.output).toBe(message);
    else expect(r.output).toMatch(message);
  });
});

describe('registerStats wires `readnext stats --input`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'readnext-stats-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[], readInput?: (p: string) => Promise<string>) {
    const out: string[] = [];
    const failures: [number, string][] = [];
    const program = new Command('readnext').exitOverride();
    registerStats(program, {
      ...(readInput ? { readInput } : {}),
      out: (l) => out.push(l),
      fail: (code, line) => failures.push([code, line]),
    });
    await program.parseAsync(args, { from: 'user' });
    return { out, failures };
  }

  it('reads a file and prints the document', async () => {
    const path = join(dir, 'srm.json');
    writeFileSync(path, JSON.stringify({ kind: 'srm', observed: [500, 500], weights: [0.5, 0.5] }));
    const r = await run(['stats', '--input', path]);
    expect(r.failures).toEqual([]);
    expect(JSON.parse(r.out[0]!)).toEqual({ chi2: 0, df: 1, p_value: 1, flag: false });
  });

  it('passes "-" to the reader (standard input)', async () => {
    const seen: string[] = [];
    const r = await run(['stats', '--input', '-'], async (p) => {
      seen.push(p);
      return '{"kind":"adjust","method":"holm","p_values":[0.025,0.03]}';
    });
    expect(seen).toEqual(['-']);
    expect(r.out).toEqual(['{"adjusted":[0.05,0.05],"reject":[true,true]}']);
  });

  it('fails with code 2 and one line for an unreadable file or an invalid document', async () => {
    const missing = await run(['stats', '--input', join(dir, 'absent.json')]);
    expect(missing.out).toEqual([]);
    expect(missing.failures).toEqual([[2, `readnext: cannot read ${join(dir, 'absent.json')}: ENOENT`]]);
    const bad = await run(['stats', '--input', '-'], async () => '{"kind":"srm","observed":[1],"weights":"x"}');
    expect(bad.failures).toEqual([[2, 'readnext: weights must be an array']]);
  });
});
