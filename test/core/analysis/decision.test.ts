import { describe, expect, it } from 'vitest';
import { METRICS, MEASURES, type ArmSums, type Measure } from '../../../src/core/analysis/metrics.js';
import { analyseExperiment, decisionPValue } from '../../../src/core/analysis/report.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { holm } from '../../../src/core/stats/multiple-testing.js';
import { ArmAccumulator, population } from './readers.js';

interface Reader {
  reads: number;
  dwellMs: number;
  subscribed: number;
  pageViews: number;
}

/** ArmSums of explicit readers (one session each, no widget events, no pre-period). */
function arm(name: string, readers: readonly Reader[]): ArmSums {
  const zeros = () => Object.fromEntries(MEASURES.map((k) => [k, 0])) as Record<Measure, number>;
  const sum = zeros();
  const sumSquares = zeros();
  let dwellReads = 0;
  let pvSessions = 0;
  for (const r of readers) {
    const x: Partial<Record<Measure, number>> = {
      reads: r.reads,
      dwellMs: r.dwellMs,
      subscribed: r.subscribed,
      revenue: 9.99 * r.subscribed,
      pageViews: r.pageViews,
      sessions: 1,
    };
    for (const [k, v] of Object.entries(x) as [Measure, number][]) {
      sum[k] += v;
      sumSquares[k] += v * v;
    }
    dwellReads += r.dwellMs * r.reads;
    pvSessions += r.pageViews;
  }
  return {
    arm: name,
    n: readers.length,
    active: readers.filter((r) => r.pageViews > 0).length,
    sum,
    sumSquares,
    crossProducts: { 'clicks*impressions': 0, 'pageViews*sessions': pvSessions, 'dwellMs*reads': dwellReads },
    pre: { sum: zeros(), sumSquares: zeros() },
    sumPostPre: zeros(),
    preCrossProducts: {},
  };
}

/** 2,000 deterministic readers: reads 0..6, dwell 20-40 s per read, 10 % subscribe; `more` adds reads, `fewerSubs` removes subscriptions. */
const readers = (o: { more?: number; fewerSubs?: boolean; deeper?: number } = {}): Reader[] =>
  Array.from({ length: 2000 }, (_, i) => {
    const reads = (i % 7) + (o.more && i % o.more === 0 ? 1 : 0);
    return {
      reads,
      dwellMs: reads * (20_000 + ((i * 37) % 20_000)) * (o.deeper ?? 1),
      subscribed: i % 10 === 3 && !(o.fewerSubs && i % 20 === 3) ? 1 : 0,
      pageViews: 1 + reads,
    };
  });

const two = [
  { name: 'control', weight: 0.5 },
  { name: 'b', weight: 0.5 },
];
const opts = { engine: 'frequentist' as const, alpha: 0.05, cuped: false };

describe('the decision per treatment arm', () => {
  it('ships when the primary improves and no guardrail is harmed, and says which guardrails were checked', () => {
    const a = analyseExperiment(METRICS, two, [arm('control', readers()), arm('b', readers({ more: 3 }))], opts);
    expect(a.design).toEqual({
      primaryMetric: 'articles_read',
      guardrailMetrics: ['conversion', 'dwell_per_read'],
      secondaryMetrics: ['ctr', 'pages_per_session', 'revenue_per_reader'],
      alpha: 0.05,
      adjustment: 'holm',
    });
    expect(a.trust).toEqual([]);
    expect(a.decisions).toHaveLength(1);
    expect(a.decisions[0]!.decision).toBe('ship');
    expect(a.decisions[0]!.sentence).toMatch(
      /^b raises articles read per reader by 11\.1% \[.*\] \(p = .*\) with no guardrail significantly harmed \(subscription conversion, mean dwell per read\): ship it$/,
    );
    expect(a.metrics.map((m) => [m.metric, m.role])).toEqual([
      ['ctr', 'secondary'],
      ['articles_read', 'primary'],
      ['pages_per_session', 'secondary'],
      ['dwell_per_read', 'guardrail'],
      ['conversion', 'guardrail'],
      ['revenue_per_reader', 'secondary'],
    ]);
  });

  it('says which guardrail it could not test when it ships (no subscriptions in either arm: zero variance)', () => {
    const noSubs = (o: { more?: number } = {}) => readers(o).map((r) => ({ ...r, subscribed: 0 }));
    const d = analyseExperiment(METRICS, two, [arm('control', noSubs()), arm('b', noSubs({ more: 3 }))], opts).decisions[0]!;
    expect(d.decision).toBe('ship');
    expect(d.sentence).toMatch(/\(not testable: subscription conversion: .+\): ship it$/);
  });

  it('does not ship a primary that falls, nor one that rises while a guardrail is harmed', () => {
    const worse = analyseExperiment(METRICS, two, [arm('control', readers({ more: 3 })), arm('b', readers())], opts).decisions[0]!;
    expect(worse).toMatchObject({ decision: 'do_not_ship' });
    expect(worse.sentence).toMatch(/^b lowers articles read per reader by .*: do not ship it$/);
    const traded = analyseExperiment(METRICS, two, [arm('control', readers()), arm('b', readers({ more: 3, fewerSubs: true }))], opts)
      .decisions[0]!;
    expect(traded.decision).toBe('do_not_ship');
    expect(traded.sentence).toMatch(
      /^b raises articles read per reader by 11\.1% .* but b lowers subscription conversion by 50\.0% .*\(one-sided p = .*\): do not ship it as it is$/,
    );
  });

  it('keeps running when the primary shows nothing, naming a harmed guardrail that would block shipping', () => {
    const a = analyseExperiment(METRICS, two, [arm('control', readers()), arm('b', readers({ fewerSubs: true }))], opts);
    expect(a.decisions[0]!.decision).toBe('keep_running');
    expect(a.decisions[0]!.sentence).toMatch(
      /^no detectable effect on articles read per reader yet \(p = 1\.0\): .*; meanwhile b lowers subscription conversion by 50\.0% .*, which would block shipping$/,
    );
    const conv = a.metrics.find((m) => m.metric === 'conversion')!.comparisons[0]!;
    expect(conv.significant).toBe(true);
    expect(conv.harmPValue!).toBeLessThan(conv.pValue!); // one-sided in the direction of harm: half the two-sided p
    expect(conv.harmPValue!).toBeCloseTo(conv.pValue! / 2, 12);
    // A guardrail that improves is not harmed: its one-sided p is large.
    const deeper = analyseExperiment(METRICS, two, [arm('control', readers()), arm('b', readers({ deeper: 1.2 }))], opts);
    expect(deeper.metrics.find((m) => m.metric === 'dwell_per_read')!.comparisons[0]!.harmPValue!).toBeGreaterThan(0.99);
    expect(deeper.decisions[0]!.decision).toBe('keep_running');
  });

  it('adjusts the primary with Holm over the treatment arms and the secondaries over metrics × arms', () => {
    const three = [
      { name: 'control', weight: 1 / 3 },
      { name: 'b', weight: 1 / 3 },
      { name: 'c', weight: 1 / 3 },
    ];
    const a = analyseExperiment(
      METRICS,
      three,
      [arm('control', readers()), arm('b', readers({ more: 40 })), arm('c', readers({ more: 25 }))],
      opts,
    );
    const primary = a.metrics.find((m) => m.role === 'primary')!;
    const raw = primary.comparisons.map((c) => c.pValue!);
    expect(primary.comparisons.map((c) => c.adjustedPValue)).toEqual(holm(raw));
    const secondary = a.metrics.filter((m) => m.role === 'secondary');
    expect(secondary.flatMap((m) => m.comparisons.map((c) => c.adjustedPValue))).toEqual(
      holm(secondary.flatMap((m) => m.comparisons.map(decisionPValue))),
    );
    // Each decision follows the adjusted p-value, not the raw one.
    primary.comparisons.forEach((c, i) => expect(a.decisions[i]!.decision === 'keep_running').toBe(!(c.adjustedPValue! < 0.05)));
  });

  it("reads the Bayesian chance to win as p = 2·min(P, 1 − P), and a guardrail's harm as P", () => {
    const a = analyseExperiment(METRICS, two, [arm('control', readers()), arm('b', readers({ more: 3, fewerSubs: true }))], {
      ...opts,
      engine: 'bayesian',
    });
    const p = a.metrics.find((m) => m.role === 'primary')!.comparisons[0]!;
    expect(p.pValue).toBeNull();
    expect(p.adjustedPValue).toBeCloseTo(2 * Math.min(p.chanceToWin!, 1 - p.chanceToWin!), 15);
    const g = a.metrics.find((m) => m.metric === 'conversion')!.comparisons[0]!;
    expect(g.harmPValue).toBe(g.chanceToWin);
    expect(a.decisions[0]!.decision).toBe('do_not_ship');
  });

  it("takes the experiment's primary and guardrails, and refuses ones it does not analyse", () => {
    const a = analyseExperiment(METRICS, two, [arm('control', readers()), arm('b', readers({ fewerSubs: true }))], {
      ...opts,
      primaryMetric: 'conversion',
      guardrailMetrics: ['articles_read'],
    });
    expect(a.decisions[0]!.decision).toBe('do_not_ship');
    expect(a.metrics.find((m) => m.metric === 'dwell_per_read')!.role).toBe('secondary');
    expect(() => analyseExperiment(METRICS.slice(0, 2), two, [], { ...opts, primaryMetric: 'conversion' })).toThrow(
      /primary metric "conversion"/,
    );
  });
});

describe('do not trust these results: SRM, one-sided data loss, a phase with changed weights', () => {
  it('an SRM flag turns every decision and every metric\'s verdict into "do not trust" in the JSON', () => {
    const a = analyseExperiment(METRICS, two, [arm('control', readers()), arm('b', readers({ more: 3 }).slice(0, 1700))], opts);
    expect(a.srm.flag).toBe(true);
    expect(a.trust.map((t) => t.code)).toEqual(['srm']);
    expect(a.decisions).toEqual([
      {
        arm: 'b',
        decision: 'untrustworthy',
        sentence: expect.stringMatching(
          /^do not trust these results: sample ratio mismatch \(readers 2000 vs 1700 for weights 0\.5 vs 0\.5, p = .* < 0\.001\)$/,
        ),
      },
    ]);
    for (const m of a.metrics) expect(m.comparisons[0]!.verdict).toBe('do not trust these results (sample ratio mismatch)');
  });

  it('flags the loss of every event of 19 % of one arm\'s readers, which SRM cannot see, instead of "do not ship"', () => {
    // 4,000 simulated readers split at random; in arm b, 19 % of readers send nothing (blocked beacons). True effect: 0.
    const rng = seededRng(20260310);
    const pop = population(rng, 4000);
    const acc = [new ArmAccumulator(), new ArmAccumulator()];
    for (let r = 0; r < pop.size; r++) {
      const i = rng.int(2);
      acc[i]!.add(pop, r, i === 1 && rng.next() < 0.19);
    }
    const sums = [acc[0]!.sums('control'), acc[1]!.sums('b')];
    const a = analyseExperiment(METRICS, two, sums, { engine: 'frequentist', alpha: 0.05 });
    expect(a.srm.flag).toBe(false);
    const q = a.dataQuality.activeShare;
    expect(q.flag).toBe(true);
    expect(q.pValue).toBeLessThan(1e-20);
    expect(q.arms[0]!.share! - q.arms[1]!.share!).toBeGreaterThan(0.15);
    expect(a.trust.map((t) => t.code)).toEqual(['data_loss']);
    expect(a.decisions[0]!.decision).toBe('untrustworthy');
    expect(a.decisions[0]!.sentence).toMatch(
      /^do not trust these results: one-sided data loss: the share of exposed readers with a page view afterwards differs between arms \(control 9\d\.\d%, b 7\d\.\d%; p = .*\)/,
    );
    expect(a.metrics.find((m) => m.role === 'primary')!.comparisons[0]!.verdict).toBe('do not trust these results (one-sided data loss)');
    // Without the check (the same sums with b's active share made equal to control's), the loss reads as a harmful treatment.
    const blind = [sums[0]!, { ...sums[1]!, active: Math.round(sums[1]!.n * (sums[0]!.active / sums[0]!.n)) }];
    const fooled = analyseExperiment(METRICS, two, blind, { engine: 'frequentist', alpha: 0.05 });
    expect(fooled.dataQuality.activeShare.flag).toBe(false);
    expect(fooled.decisions[0]!.decision).toBe('do_not_ship');
    expect(fooled.decisions[0]!.sentence).toMatch(/^b lowers articles read per reader by (1[5-9]|2\d)\.\d% .*: do not ship it$/);
  });

  it('does not flag a treatment that changes activity but not page views (a status-quo arm without a widget)', () => {
    // The "none" arm sends no impressions or clicks and reads less; every reader still sends the exposure's page view.
    const none = readers().map((r) => ({ ...r, reads: Math.max(0, r.reads - 1), dwellMs: 0 }));
    const a = analyseExperiment(METRICS, two, [arm('control', none), arm('b', readers())], opts);
    expect(a.dataQuality.activeShare.flag).toBe(false);
    expect(a.dataQuality.activeShare.note).toBe('not run: every exposed reader sent a page view, nothing is lost');
    expect(a.trust).toEqual([]);
  });

  it('a phase that changed weights without re-randomising is untrustworthy whatever SRM says', () => {
    const a = analyseExperiment(METRICS, two, [arm('control', readers()), arm('b', readers({ more: 3 }))], {
      ...opts,
      phaseProblem: 'phase 2 has weights 0.2,0.8 where phase 1 had 0.5,0.5, without re-randomising',
    });
    expect(a.srm.flag).toBe(false);
    expect(a.decisions[0]).toMatchObject({
      decision: 'untrustworthy',
      sentence: 'do not trust these results: phase 2 has weights 0.2,0.8 where phase 1 had 0.5,0.5, without re-randomising',
    });
    expect(a.metrics[0]!.comparisons[0]!.verdict).toBe('do not trust these results (weights changed without re-randomising)');
  });
});
