/**
 * A proportion metric with too few events for the normal approximation (np ≥ 10 and n(1 − p) ≥ 10
 * in each arm, MIN_EVENTS_PER_ARM) keeps its estimate but is not judged: not significant, never
 * blocks or ships (src/core/analysis/report.ts eventShortage).
 */
import { describe, expect, it } from 'vitest';
import { METRICS, MEASURES, type ArmSums, type Measure } from '../../../src/core/analysis/metrics.js';
import { analyseExperiment, eventShortage, MIN_EVENTS_PER_ARM } from '../../../src/core/analysis/report.js';

/**
 * ArmSums of `n` readers (one session each, no pre-period), of whom the first `subscribers`
 * subscribed; reads 0..6 by reader, one more every `more` readers when given.
 */
function arm(name: string, n: number, subscribers: number, more?: number): ArmSums {
  const zeros = () => Object.fromEntries(MEASURES.map((k) => [k, 0])) as Record<Measure, number>;
  const sum = zeros();
  const sumSquares = zeros();
  let dwellReads = 0;
  let pvSessions = 0;
  for (let i = 0; i < n; i++) {
    const reads = (i % 7) + (more && i % more === 0 ? 1 : 0);
    const subscribed = i < subscribers ? 1 : 0;
    const dwellMs = reads * (20_000 + ((i * 37) % 20_000));
    const x: Partial<Record<Measure, number>> = {
      reads,
      dwellMs,
      subscribed,
      revenue: 9.99 * subscribed,
      pageViews: 1 + reads,
      sessions: 1,
    };
    for (const [k, v] of Object.entries(x) as [Measure, number][]) {
      sum[k] += v;
      sumSquares[k] += v * v;
    }
    dwellReads += dwellMs * reads;
    pvSessions += 1 + reads;
  }
  return {
    arm: name,
    n,
    active: n,
    sum,
    sumSquares,
    crossProducts: { 'clicks*impressions': 0, 'pageViews*sessions': pvSessions, 'dwellMs*reads': dwellReads },
    pre: { sum: zeros(), sumSquares: zeros() },
    sumPostPre: zeros(),
    preCrossProducts: {},
  };
}

const arms = [
  { name: 'control', weight: 0.5 },
  { name: 'heuristic', weight: 0.5 },
];
const conversion = METRICS.find((m) => m.id === 'conversion')!;

/** ln C(n, k) as a sum of logs (exact enough here: n < 3000). */
function lnChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * Fisher's exact test, one-sided (treatment lower): with K events among N readers and n_t readers in
 * the treatment, X ~ Hypergeometric(N, K, n_t) and p = P(X ≤ x_t) = Σ_{k ≤ x_t} C(K,k)C(N−K,n_t−k)/C(N,n_t).
 */
function fisherLower(eventsC: number, nC: number, eventsT: number, nT: number): number {
  const N = nC + nT;
  const K = eventsC + eventsT;
  let p = 0;
  for (let k = 0; k <= eventsT; k++) p += Math.exp(lnChoose(K, k) + lnChoose(N - K, nT - k) - lnChoose(N, nT));
  return p;
}

describe('a proportion metric with too few events is not judged', () => {
  // The demo's null world (recommendations change nothing): 8 of 1,344 control readers subscribed,
  // 2 of 1,318 heuristic readers.
  const sums = [arm('control', 1344, 8), arm('heuristic', 1318, 2)];

  it("Fisher's exact test on 8/1344 against 2/1318 finds nothing (hand-worked)", () => {
    // scipy.stats.fisher_exact([[2, 1316], [8, 1336]], alternative='less').pvalue = 0.05786535675913476
    expect(fisherLower(8, 1344, 2, 1318)).toBeCloseTo(0.05786535675913476, 10);
  });

  for (const cuped of [false, true])
    it(`keeps the estimate, is not significant, does not block (CUPED ${cuped ? 'on' : 'off'})`, () => {
      const a = analyseExperiment(METRICS, arms, sums, { engine: 'frequentist', alpha: 0.05, cuped });
      const m = a.metrics.find((x) => x.metric === 'conversion')!;
      expect(m.role).toBe('guardrail');
      // The arms' figures as the brief gives them: 0.00595 (se 0.00210) and 0.00152 (se 0.00107), to 5e-6.
      expect(m.arms[0]!.value!).toBeCloseTo(0.00595, 5);
      expect(m.arms[0]!.se!).toBeCloseTo(0.0021, 5);
      expect(m.arms[1]!.value!).toBeCloseTo(0.00152, 5);
      expect(m.arms[1]!.se!).toBeCloseTo(0.00107, 5);
      const c = m.comparisons[0]!;
      // The engine's numbers are kept (to 5e-3): −74.5 % [−114 %, −35 %], one-sided p ≈ 0.00011, far
      // below Fisher's 0.058: the normal approximation does not hold with 8 and 2 events.
      expect(c.estimate).toBeCloseTo(-0.745, 3);
      expect(c.ci[0]).toBeCloseTo(-1.14, 2);
      expect(c.ci[1]).toBeCloseTo(-0.35, 2);
      expect(c.harmPValue!).toBeLessThan(0.0002);
      expect(c.harmPValue!).toBeLessThan(fisherLower(8, 1344, 2, 1318) / 100);
      expect(c.significant).toBe(false);
      expect(c.tooFewEvents).toBe(true);
      expect(c.verdict).toBe(
        'too few events to judge subscription conversion: 8 of 1344 readers in control, 2 of 1318 in heuristic ' +
          '(each arm needs at least 10 readers with it and 10 without): not judged, so it cannot block shipping',
      );
      const d = a.decisions[0]!;
      expect(d.decision).toBe('keep_running');
      expect(d.sentence).toMatch(/^no detectable effect on articles read per reader yet/);
      expect(d.sentence).not.toMatch(/would block shipping|subscription conversion/);
    });

  it('is not judged by the sequential and Bayesian engines either', () => {
    for (const engine of ['sequential', 'bayesian'] as const) {
      const c = analyseExperiment(METRICS, arms, sums, { engine, alpha: 0.05 }).metrics.find((x) => x.metric === 'conversion')!
        .comparisons[0]!;
      expect(c.significant).toBe(false);
      expect(c.tooFewEvents).toBe(true);
    }
  });

  it('does not block a primary that wins, and the "ship" sentence names the counts', () => {
    const win = [arm('control', 2000, 8), arm('heuristic', 2000, 2, 3)];
    const a = analyseExperiment(METRICS, arms, win, { engine: 'frequentist', alpha: 0.05, cuped: false });
    expect(a.metrics.find((x) => x.metric === 'conversion')!.comparisons[0]!.harmPValue!).toBeLessThan(0.05);
    expect(a.decisions[0]!.decision).toBe('ship');
    expect(a.decisions[0]!.sentence).toMatch(
      /\(not testable: subscription conversion: too few events \(8 of 2000 readers in control, 2 of 2000 in heuristic\)\): ship it$/,
    );
  });

  it('as the primary, keeps the experiment running: not yet measured, whatever its p-value', () => {
    const a = analyseExperiment(METRICS, arms, sums, { engine: 'frequentist', alpha: 0.05, cuped: false, primaryMetric: 'conversion' });
    const c = a.metrics.find((x) => x.metric === 'conversion')!.comparisons[0]!;
    expect(c.adjustedPValue!).toBeLessThan(0.001); // the engine's two-sided p, kept
    expect(c.significant).toBe(false);
    expect(c.verdict).toMatch(/^too few events to judge subscription conversion: 8 of 1344 readers in control, 2 of 1318 in heuristic \(/);
    expect(a.decisions[0]).toEqual({
      arm: 'heuristic',
      decision: 'keep_running',
      sentence:
        'too few events to judge subscription conversion yet: 8 of 1344 readers in control, 2 of 1318 in heuristic ' +
        '(each arm needs at least 10 readers with it and 10 without)',
    });
  });
});

describe('the boundary: 10 events, and 10 non-events, per arm', () => {
  const n = 1344;
  it('judges exactly 10 events per arm as before: a harm blocks', () => {
    const a = analyseExperiment(METRICS, arms, [arm('control', n, 40), arm('heuristic', n, MIN_EVENTS_PER_ARM)], {
      engine: 'frequentist',
      alpha: 0.05,
      cuped: false,
    });
    const c = a.metrics.find((x) => x.metric === 'conversion')!.comparisons[0]!;
    expect(c.tooFewEvents).toBeUndefined();
    expect('tooFewEvents' in c).toBe(false);
    expect(c.significant).toBe(c.harmPValue! < 0.05);
    expect(c.significant).toBe(true);
    expect(c.verdict).toMatch(/^heuristic lowers subscription conversion by 75\.0% .*: guardrail harmed \(one-sided p = /);
    expect(a.decisions[0]!.sentence).toMatch(
      /; meanwhile heuristic lowers subscription conversion by 75\.0% .*, which would block shipping$/,
    );
    // One event fewer: not judged.
    const b = analyseExperiment(METRICS, arms, [arm('control', n, 40), arm('heuristic', n, MIN_EVENTS_PER_ARM - 1)], {
      engine: 'frequentist',
      alpha: 0.05,
      cuped: false,
    });
    const cb = b.metrics.find((x) => x.metric === 'conversion')!.comparisons[0]!;
    expect(cb.harmPValue!).toBeLessThan(0.05);
    expect(cb).toMatchObject({ significant: false, tooFewEvents: true });
    expect(b.decisions[0]!.sentence).not.toMatch(/would block shipping/);
  });

  it('counts readers without the event too (n(1 − p) ≥ 10), and only for proportion metrics', () => {
    expect(eventShortage(conversion, arm('control', n, 10), arm('b', n, 10))).toBeNull();
    expect(eventShortage(conversion, arm('control', n, n - 10), arm('b', n, 10))).toBeNull();
    expect(eventShortage(conversion, arm('control', n, n - 9), arm('b', n, 10))).toEqual([
      { arm: 'control', events: n - 9, n },
      { arm: 'b', events: 10, n },
    ]);
    expect(eventShortage(conversion, arm('control', n, 10), arm('b', n, 9))).not.toBeNull();
    const revenue = METRICS.find((m) => m.id === 'revenue_per_reader')!;
    expect(eventShortage(revenue, arm('control', n, 1), arm('b', n, 0))).toBeNull();
  });
});

describe('many events: unchanged', () => {
  it('a large-count harm is judged exactly as the engine says', () => {
    const a = analyseExperiment(METRICS, arms, [arm('control', 2000, 200), arm('heuristic', 2000, 100)], {
      engine: 'frequentist',
      alpha: 0.05,
      cuped: false,
    });
    const c = a.metrics.find((x) => x.metric === 'conversion')!.comparisons[0]!;
    expect('tooFewEvents' in c).toBe(false);
    expect(c.estimate).toBeCloseTo(-0.5, 12);
    expect(c.significant).toBe(true);
    expect(c.harmPValue!).toBeCloseTo(c.pValue! / 2, 12);
    expect(a.decisions[0]!.decision).toBe('keep_running');
    expect(a.decisions[0]!.sentence).toMatch(
      /; meanwhile heuristic lowers subscription conversion by 50\.0% .*, which would block shipping$/,
    );
  });
});
