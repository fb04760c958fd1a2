import { describe, expect, it } from 'vitest';
import { loadVectors } from '../stats/vectors.js';
import { METRICS, MEASURES, type ArmSums, type Measure } from '../../../src/core/analysis/metrics.js';
import { analyseExperiment, readersStillNeeded, verdict } from '../../../src/core/analysis/report.js';

const zeros = () => Object.fromEntries(MEASURES.map((k) => [k, 0])) as Record<Measure, number>;
const sums = (arm: string, n: number, reads: number[]): ArmSums => {
  const s = zeros();
  const q = zeros();
  s.reads = reads.reduce((a, b) => a + b, 0);
  q.reads = reads.reduce((a, b) => a + b * b, 0);
  return {
    arm,
    n,
    active: n,
    sum: s,
    sumSquares: q,
    crossProducts: { 'clicks*impressions': 0, 'pageViews*sessions': 0, 'dwellMs*reads': 0 },
    pre: { sum: zeros(), sumSquares: zeros() },
    sumPostPre: zeros(),
    preCrossProducts: {},
  };
};
const articlesRead = METRICS.find((m) => m.id === 'articles_read')!;

describe('readersStillNeeded', () => {
  it('scales the observed SE to the minimum detectable effect (hand-worked)', () => {
    // z_{0.975} + z_{0.8} = 1.959964 + 0.841621 = 2.801585; SE 0.05 at n = 1000, MDE 0.02:
    // n_needed = 1000 · (2.801585 · 0.05 / 0.02)² = 1000 · 49.0555 = 49,055.5 -> 49,056; more = 48,056.
    expect(readersStillNeeded(1000, 0.05, 0.02, 0.05)).toBe(48056);
    expect(readersStillNeeded(1000, 0.001, 0.02, 0.05)).toBe(0);
    expect(readersStillNeeded(0, 0.05, 0.02, 0.05)).toBeNaN();
  });
});

describe('verdict (one metric, one arm: never a ship decision)', () => {
  const base = { se: 0.01, df: 100, chanceToWin: null, risk: null, error: null } as const;
  it('names the effect with its interval and p-value, by role', () => {
    const up = { ...base, estimate: 0.041, ci: [0.02, 0.062] as const, pValue: 0.001 };
    expect(verdict(articlesRead, 'primary', 'b', up, 0.001, true, 1000, 0.05)).toBe(
      'b raises articles read per reader by 4.1% [2.0%, 6.2%] (p = 0.0010)',
    );
    expect(verdict(articlesRead, 'primary', 'b', up, 0.002, true, 1000, 0.05)).toBe(
      'b raises articles read per reader by 4.1% [2.0%, 6.2%] (p = 0.0020, Holm-adjusted over the arms)',
    );
    expect(verdict(articlesRead, 'secondary', 'b', up, 0.004, true, 1000, 0.05)).toBe(
      'b raises articles read per reader by 4.1% [2.0%, 6.2%] (Holm-adjusted p = 0.0040; secondary, does not decide)',
    );
    expect(verdict(articlesRead, 'guardrail', 'b', { ...up, estimate: -0.03, ci: [-0.05, -0.01] }, 0.003, true, 1000, 0.05)).toBe(
      'b lowers articles read per reader by 3.0% [-5.0%, -1.0%]: guardrail harmed (one-sided p = 0.0030)',
    );
    for (const role of ['primary', 'guardrail', 'secondary'] as const)
      expect(verdict(articlesRead, role, 'b', up, 0.001, true, 1000, 0.05)).not.toMatch(/ship/);
  });
  it('otherwise says how many more readers a 2% effect needs', () => {
    expect(
      verdict(articlesRead, 'primary', 'b', { ...base, estimate: 0.01, ci: [-0.01, 0.03], pValue: 0.3 }, 0.3, false, 1000, 0.05),
    ).toMatch(/^no detectable effect yet \(p = 0\.30\): about \d+ more readers per arm for a 2\.0% minimum detectable effect$/);
  });
});

describe('analyseExperiment', () => {
  it('orders arms as designed, counts missing arms as empty, flags SRM', () => {
    const r = analyseExperiment(
      [articlesRead],
      [
        { name: 'control', weight: 0.5 },
        { name: 'b', weight: 0.5 },
      ],
      [sums('b', 3, [1, 2, 3]), sums('control', 1000, [])],
      { engine: 'frequentist', alpha: 0.05 },
    );
    expect(r.srm.observed).toEqual([1000, 3]);
    expect(r.srm.flag).toBe(true);
    expect(r.metrics[0]!.arms).toEqual([
      { arm: 'control', n: 1000, value: 0, se: 0 },
      // Values 1, 2, 3: sample variance 1, standard error 1/sqrt(3).
      { arm: 'b', n: 3, value: 2, se: expect.closeTo(1 / Math.sqrt(3), 12) },
    ]);
    const none = analyseExperiment(
      [articlesRead],
      [
        { name: 'control', weight: 0.5 },
        { name: 'b', weight: 0.5 },
      ],
      [],
      { engine: 'frequentist', alpha: 0.05 },
    );
    expect(none.metrics[0]!.arms.map((a) => a.n)).toEqual([0, 0]);
    expect(none.srm.pValue).toBe(1);
  });

  it('analyses every metric, CUPED ratios included, when one arm has no exposed reader yet', () => {
    // Found by the browser test (report.browser.test.ts): one reader exposed, the other arm empty,
    // used to throw "cannot compare a ratio statistic with a cuped_ratio control" (HTTP 500).
    const one: ArmSums = { ...sums('b', 1, [1]), preCrossProducts: { 'dwellMs*reads': { prePre: 0, postPre: 0, prePost: 0 } } };
    for (const engine of ['frequentist', 'sequential', 'bayesian'] as const) {
      const r = analyseExperiment(
        METRICS,
        [
          { name: 'control', weight: 0.5 },
          { name: 'b', weight: 0.5 },
        ],
        [one],
        { engine, alpha: 0.05 },
      );
      expect(r.metrics.map((m) => m.arms.map((a) => a.n))).toEqual(METRICS.map(() => [0, 1]));
    }
  });
});

describe('CUPED in the report', () => {
  it('narrows the interval when the pre-period predicts the metric', () => {
    // Per-reader reads: post = pre + small noise, pre varying a lot between readers.
    const arm = (name: string, lift: number): ArmSums => {
      const pre = Array.from({ length: 200 }, (_, i) => i % 10);
      const post = pre.map((p, i) => p + lift + ((i * 7) % 3) - 1);
      const base = sums(name, 200, post);
      base.pre.sum.reads = pre.reduce((a, b) => a + b, 0);
      base.pre.sumSquares.reads = pre.reduce((a, b) => a + b * b, 0);
      base.sumPostPre.reads = post.reduce((a, b, i) => a + b * pre[i]!, 0);
      return base;
    };
    const arms = [
      { name: 'control', weight: 0.5 },
      { name: 'b', weight: 0.5 },
    ];
    const data = [arm('control', 0), arm('b', 0.3)];
    const plain = analyseExperiment([articlesRead], arms, data, { engine: 'frequentist', alpha: 0.05, cuped: false }).metrics[0]!
      .comparisons[0]!;
    const adjusted = analyseExperiment([articlesRead], arms, data, { engine: 'frequentist', alpha: 0.05 }).metrics[0]!.comparisons[0]!;
    expect(adjusted.se).toBeLessThan(plain.se / 3);
    expect(adjusted.pValue!).toBeLessThan(0.05);
    expect(plain.pValue!).toBeGreaterThan(0.05);
  });
});

describe('CUPED for ratio metrics in the report', () => {
  // GrowthBook's golden case for CUPED on a ratio metric (test/fixtures/vectors, gb.freq.two_sided.cuped_ratio.relative),
  // put in as the per-arm sums of dwell per read: m = dwellMs, d = reads (widget CTR has no pre-period per placement: never adjusted).
  interface Moment {
    n: number;
    sum: number;
    sum_squares: number;
  }
  interface RatioRa {
    n: number;
    m_post: Moment;
    d_post: Moment;
    m_pre: Moment;
    d_pre: Moment;
    m_post_m_pre_sum_of_products: number;
    d_post_d_pre_sum_of_products: number;
    m_pre_d_pre_sum_of_products: number;
    m_post_d_post_sum_of_products: number;
    m_post_d_pre_sum_of_products: number;
    m_pre_d_post_sum_of_products: number;
  }
  const gold = loadVectors().find((c) => c.id === 'gb.freq.two_sided.cuped_ratio.relative') as unknown as {
    input: { control: RatioRa; treatment: RatioRa };
    gbstats_full_precision: { expected: number; se: number; p_value: number; ci: [number, number] };
  };
  const ctr = METRICS.find((m) => m.id === 'ctr')!;
  const dpr = METRICS.find((m) => m.id === 'dwell_per_read')!;
  const armSums = (arm: string, v: RatioRa): ArmSums => {
    const at = (dwellMs: number, reads: number) => ({ ...zeros(), dwellMs, reads });
    return {
      arm,
      n: v.n,
      active: v.n,
      sum: at(v.m_post.sum, v.d_post.sum),
      sumSquares: at(v.m_post.sum_squares, v.d_post.sum_squares),
      crossProducts: { 'clicks*impressions': 0, 'pageViews*sessions': 0, 'dwellMs*reads': v.m_post_d_post_sum_of_products },
      pre: { sum: at(v.m_pre.sum, v.d_pre.sum), sumSquares: at(v.m_pre.sum_squares, v.d_pre.sum_squares) },
      sumPostPre: at(v.m_post_m_pre_sum_of_products, v.d_post_d_pre_sum_of_products),
      preCrossProducts: {
        'dwellMs*reads': {
          prePre: v.m_pre_d_pre_sum_of_products,
          postPre: v.m_post_d_pre_sum_of_products,
          prePost: v.m_pre_d_post_sum_of_products,
        },
      },
    };
  };
  const arms = [
    { name: 'control', weight: 0.5 },
    { name: 'b', weight: 0.5 },
  ];
  const sumsOf = [armSums('control', gold.input.control), armSums('b', gold.input.treatment)];
  const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want));

  it('adjusts dwell per read by its pre-period ratio, matching gbstats to 1e-6 relative', () => {
    const c = analyseExperiment([dpr], arms, sumsOf, { engine: 'frequentist', alpha: 0.05, cuped: true, primaryMetric: 'dwell_per_read' })
      .metrics[0]!.comparisons[0]!;
    const want = gold.gbstats_full_precision;
    close(c.estimate, want.expected);
    close(c.se, want.se);
    close(c.pValue!, want.p_value);
    close(c.ci[0] as number, want.ci[0]);
    close(c.ci[1] as number, want.ci[1]);
  });

  it('without CUPED, or for pages per session (no pre-period sessions) and CTR (none per placement), compares the plain ratio', () => {
    const plain = analyseExperiment([dpr], arms, sumsOf, {
      engine: 'frequentist',
      alpha: 0.05,
      cuped: false,
      primaryMetric: 'dwell_per_read',
    }).metrics[0]!.comparisons[0]!;
    const adjusted = analyseExperiment([dpr], arms, sumsOf, {
      engine: 'frequentist',
      alpha: 0.05,
      cuped: true,
      primaryMetric: 'dwell_per_read',
    }).metrics[0]!.comparisons[0]!;
    // Same point estimate scale (the lift of the ratio), but CUPED narrows the interval on this correlated case.
    expect(adjusted.se).toBeLessThan(plain.se);
    const pps = METRICS.find((m) => m.id === 'pages_per_session')!;
    for (const [metric, m, d] of [
      [pps, 'pageViews', 'sessions'],
      [ctr, 'clicks', 'impressions'],
    ] as const) {
      const withPre = sumsOf.map((s) => ({
        ...s,
        sum: { ...s.sum, [m]: s.sum.dwellMs, [d]: s.sum.reads },
        sumSquares: { ...s.sumSquares, [m]: s.sumSquares.dwellMs, [d]: s.sumSquares.reads },
        pre: {
          sum: { ...s.pre.sum, [m]: s.pre.sum.dwellMs, [d]: s.pre.sum.reads },
          sumSquares: { ...s.pre.sumSquares, [m]: s.pre.sumSquares.dwellMs, [d]: s.pre.sumSquares.reads },
        },
        crossProducts: { ...s.crossProducts, [`${m}*${d}`]: s.crossProducts['dwellMs*reads']! },
      }));
      const a = analyseExperiment([metric], arms, withPre, { engine: 'frequentist', alpha: 0.05, cuped: true, primaryMetric: metric.id })
        .metrics[0]!.comparisons[0]!;
      close(a.estimate, plain.estimate);
      close(a.se, plain.se);
    }
  });
});
