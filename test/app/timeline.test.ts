import { afterAll, describe, expect, it } from 'vitest';
import type { ExperimentSnapshot } from '../../src/app/ports.js';
import { runSimExperiment } from '../../src/app/sim-experiment.js';
import { experimentTimeline } from '../../src/app/timeline.js';
import { MEASURES, METRICS, type ArmSums, type Measure } from '../../src/core/analysis/metrics.js';
import type { Experiment } from '../../src/core/experiments/experiment.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { DomainError } from '../../src/core/kernel/errors.js';
import { sequentialTest } from '../../src/core/stats/sequential.js';
import { ratioStat } from '../../src/core/stats/statistics.js';
import { DEFAULT_WORLD } from '../../src/core/simulate/world.js';
import { openSimServices } from '../../src/main/sim-target.js';
import { tempDir } from '../helpers/databases.js';

const HOUR = 3_600_000;
const zeros = () => Object.fromEntries(MEASURES.map((m) => [m, 0])) as Record<Measure, number>;

/** Sums of one arm: n readers with the given Σx and Σx² of some measures; no pre-period (CUPED then adjusts nothing). */
function arm(name: string, n: number, s: Partial<Record<Measure, [number, number]>>, cross: Record<string, number> = {}): ArmSums {
  const sum = zeros();
  const sumSquares = zeros();
  for (const [k, [a, b]] of Object.entries(s) as [Measure, [number, number]][]) {
    sum[k] = a;
    sumSquares[k] = b;
  }
  return {
    arm: name,
    n,
    active: n,
    sum,
    sumSquares,
    crossProducts: cross,
    pre: { sum: zeros(), sumSquares: zeros() },
    sumPostPre: zeros(),
    preCrossProducts: {},
  };
}

const experiment = (over: Partial<Experiment> = {}): Experiment =>
  ({
    id: 'e1',
    placement: 'read-next',
    kind: 'ab',
    status: 'running',
    phase: 1,
    phases: [{ phase: 1, startedTs: 0, weights: [0.5, 0.5], coverage: 1, reRandomised: true }],
    arms: [
      { name: 'control', weight: 0.5 },
      { name: 'b', weight: 0.5 },
    ],
    stoppedTs: null,
    ...over,
  }) as Experiment;

function deps(e: Experiment, snapshots: ExperimentSnapshot[], current: ArmSums[], throughTs: number) {
  let caughtUp = 0;
  return {
    view: {
      listExperiments: () => [{ experiment: e, revision: 1 }],
      getExperiment: (id: string) => (id === e.id ? { experiment: e, revision: 1 } : undefined),
    },
    store: {
      armSums: async () => current,
      listExperimentSnapshots: async (id: string, phase: number) => snapshots.filter((s) => s.experiment === id && s.phase === phase),
    },
    rollups: {
      catchUp: async () => {
        caughtUp++;
        return { events: 0, throughTs, caughtUp: true };
      },
    },
    caughtUp: () => caughtUp,
  };
}

// Articles read: control 100 readers Σ = 50, Σ² = 90; b 100 readers Σ = 60, Σ² = 110.
const SMALL = [arm('control', 100, { reads: [50, 90] }), arm('b', 100, { reads: [60, 110] })];

describe('experimentTimeline', () => {
  it('a point is the sequential CS of its sums: hand-worked for articles read (to 1e-9)', async () => {
    const d = deps(experiment(), [{ experiment: 'e1', phase: 1, ts: HOUR, sums: SMALL }], SMALL, 2 * HOUR);
    const t = await experimentTimeline(d.view, d.store, fixedClock(3 * HOUR), 'e1', { rollups: d.rollups });
    expect(t).toMatchObject({ experiment: 'e1', phase: 1, metric: 'articles_read', alpha: 0.05, engine: 'sequential' });
    expect(t.points.map((p) => p.ts)).toEqual([HOUR, 2 * HOUR]);
    // By hand (python): m_c = 0.5, m_t = 0.6, s²_c = 65/99, s²_t = 74/99; est = 0.1/0.5 = 0.2;
    // SE² = s²_t/(n_t m_c²) + s²_c m_t²/(n_c m_c⁴) = 0.0677211…, SE = 0.26022523…; N = 200, s² = SE²·N;
    // ρ = √((−2 ln 0.05 + ln(−2 ln 0.05 + 1))/5000) = 0.039840…;
    // half-width = s·√(2(Nρ² + 1)/(N²ρ²)·ln(√(Nρ² + 1)/0.05)) = 1.3271382697646 (fixed horizon: 1.96·SE = 0.51).
    const [b] = t.points[0]!.arms;
    expect(b!.arm).toBe('b');
    expect(b!.n).toBe(100);
    expect(b!.estimate).toBeCloseTo(0.2, 9);
    expect(b!.ci![0]).toBeCloseTo(0.2 - 1.327138269764607, 9);
    expect(b!.ci![1]).toBeCloseTo(0.2 + 1.327138269764607, 9);
    expect(d.caughtUp()).toBe(1);
  });

  it('equals sequentialTest on the same sums for a ratio metric (CTR, no CUPED), to 1e-12, at alpha 0.1', async () => {
    const c = arm('control', 400, { clicks: [60, 90], impressions: [1600, 7000] }, { 'clicks*impressions': 280 });
    const b = arm('b', 380, { clicks: [75, 120], impressions: [1500, 6400] }, { 'clicks*impressions': 330 });
    const d = deps(experiment(), [], [c, b], 2 * HOUR);
    const t = await experimentTimeline(d.view, d.store, fixedClock(3 * HOUR), 'e1', { metric: 'ctr', alpha: 0.1, rollups: d.rollups });
    const stat = (s: ArmSums) =>
      ratioStat({
        n: s.n,
        numerator: { kind: 'mean', n: s.n, sum: s.sum.clicks, sumSquares: s.sumSquares.clicks },
        denominator: { kind: 'mean', n: s.n, sum: s.sum.impressions, sumSquares: s.sumSquares.impressions },
        sumProducts: s.crossProducts['clicks*impressions']!,
      });
    const want = sequentialTest(stat(c), stat(b), { alpha: 0.1 });
    expect(want.error).toBeNull();
    const got = t.points.at(-1)!.arms[0]!;
    expect(got.estimate).toBeCloseTo(want.estimate, 12);
    expect(got.ci![0]).toBeCloseTo(want.ci[0], 12);
    expect(got.ci![1]).toBeCloseTo(want.ci[1], 12);
  });

  it('the band narrows as the data grows, one point per snapshot before the data now, then now', async () => {
    const grow = (k: number) => [arm('control', 100 * k, { reads: [50 * k, 90 * k] }), arm('b', 100 * k, { reads: [60 * k, 110 * k] })];
    const snaps = [1, 2, 4].map((k) => ({ experiment: 'e1', phase: 1, ts: k * HOUR, sums: grow(k) }));
    // The rollups behind the last snapshot (a catch-up cut short): that snapshot is left out.
    const d = deps(experiment(), snaps, grow(3), 3 * HOUR);
    const t = await experimentTimeline(d.view, d.store, fixedClock(5 * HOUR), 'e1', { rollups: d.rollups });
    expect(t.points.map((p) => [p.ts, p.arms[0]!.n])).toEqual([
      [HOUR, 100],
      [2 * HOUR, 200],
      [3 * HOUR, 300],
    ]);
    const widths = t.points.map((p) => p.arms[0]!.ci![1] - p.arms[0]!.ci![0]);
    expect(widths[1]!).toBeLessThan(widths[0]!);
    expect(widths[2]!).toBeLessThan(widths[1]!);
  });

  it('a stopped experiment ends at its stop; an arm without readers has no estimate', async () => {
    const e = experiment({ status: 'stopped', stoppedTs: 2 * HOUR });
    const empty = [arm('control', 10, { reads: [5, 9] })];
    const d = deps(e, [{ experiment: 'e1', phase: 1, ts: 2 * HOUR, sums: empty }], empty, 9 * HOUR);
    const t = await experimentTimeline(d.view, d.store, fixedClock(10 * HOUR), 'e1', { rollups: d.rollups });
    expect(t.points).toEqual([{ ts: 2 * HOUR, arms: [{ arm: 'b', n: 0, estimate: null, ci: null }] }]);
  });

  it('refuses an unknown experiment, one not started, an unknown phase or metric', async () => {
    const d = deps(experiment(), [], SMALL, HOUR);
    const call = (id: string, o: { phase?: number; metric?: string } = {}, e = d) =>
      experimentTimeline(e.view, e.store, fixedClock(HOUR), id, { ...o, rollups: e.rollups });
    await expect(call('nope')).rejects.toMatchObject({ code: 'not_found', field: 'id' });
    const draft = deps(experiment({ status: 'draft', phase: 0, phases: [] }), [], [], 0);
    await expect(call('e1', {}, draft)).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(call('e1', { phase: 2 })).rejects.toMatchObject({ code: 'invalid_field', field: 'phase' });
    const bad = call('e1', { metric: 'clicks_per_day' });
    await expect(bad).rejects.toBeInstanceOf(DomainError);
    await expect(bad).rejects.toMatchObject({ code: 'invalid_field', field: 'metric' });
    expect(d.caughtUp()).toBe(0); // refused before any catch-up
    for (const m of METRICS) expect((await call('e1', { metric: m.id })).metric).toBe(m.id);
  });
});

describe('a simulated experiment (daily looks, the server default of one snapshot an hour)', () => {
  const dir = tempDir('readnext-timeline-sim-');
  afterAll(() => dir.remove());

  it('gets one snapshot per simulated day, and a timeline of one point per day', { timeout: 120_000 }, async () => {
    const start = Date.parse(DEFAULT_WORLD.startDate);
    const { services, target } = await openSimServices({
      db: `sqlite:${dir.path}/sim.db`,
      startTs: start,
      config: { sqliteSynchronous: 'NORMAL' },
    });
    try {
      const days = 3;
      const { experimentId, reports } = await runSimExperiment(target, {
        world: DEFAULT_WORLD,
        seed: 5,
        readers: 200,
        days,
        looks: 'daily',
      });
      const phase = reports.at(-1)!.phase;
      const snaps = await services.storage.listExperimentSnapshots(experimentId, phase);
      // One per daily look (the last day's look catches the rollups up too, even if the final report,
      // 1 ms later, replaces it); the final report adds none (1 ms after the last).
      expect(snaps.length).toBe(days);
      const gaps = snaps.slice(1).map((s, i) => s.ts - snaps[i]!.ts);
      for (const g of gaps) expect(g).toBeGreaterThanOrEqual(HOUR);
      const t = await experimentTimeline(services.placements, services.storage, services.clock, experimentId, {
        rollups: { catchUp: () => services.rollups.catchUp() },
      });
      expect(t.points.length).toBe(snaps.length + 1);
      // The last point is the final report's sequential comparison of the primary metric.
      const report = reports.at(-1)!;
      expect(t.points.at(-1)!.ts).toBe(report.dataThroughTs);
      const n = t.points.map((p) => p.arms[0]!.n);
      expect(n).toEqual([...n].sort((a, b) => a - b));
      console.log(`simulated ${days} days: ${snaps.length} snapshots at ${snaps.map((s) => new Date(s.ts).toISOString()).join(', ')}`);
    } finally {
      await services.close();
    }
  });
});
