import { describe, expect, it } from 'vitest';
import type { ExperimentSnapshot, RollupWindow } from '../../src/app/ports.js';
import { AnalysisRollups, snapshotWindows } from '../../src/app/rollups.js';
import type { ArmSums } from '../../src/core/analysis/metrics.js';
import type { Experiment } from '../../src/core/experiments/experiment.js';
import { fixedClock } from '../../src/core/kernel/clock.js';

// The snapshot cadence of the rollups (app/rollups.ts snapshotWindows, AnalysisRollups): a fake
// clock and a fake store that keeps what it is given.

const HOUR = 3_600_000;
const win = (over: Partial<RollupWindow>): RollupWindow => ({ experiment: 'e', phase: 1, fromTs: 0, toTs: null, placement: 'p', ...over });

describe('snapshotWindows', () => {
  it('a running phase: due everyMs after its latest snapshot, or after its start when it has none', () => {
    const w = [win({ fromTs: 10 * HOUR })];
    expect(snapshotWindows(w, new Map(), 11 * HOUR - 1, HOUR)).toEqual([]);
    expect(snapshotWindows(w, new Map(), 11 * HOUR, HOUR)).toEqual([{ experiment: 'e', phase: 1, ts: 11 * HOUR }]);
    expect(snapshotWindows(w, new Map([['e 1', 11 * HOUR]]), 12 * HOUR - 1, HOUR)).toEqual([]);
    expect(snapshotWindows(w, new Map([['e 1', 11 * HOUR]]), 12 * HOUR + 5, HOUR)).toEqual([
      { experiment: 'e', phase: 1, ts: 12 * HOUR + 5 },
    ]);
    // A snapshot of another phase, or one before this phase's start, does not count.
    expect(snapshotWindows(w, new Map([['e 2', 10.5 * HOUR]]), 10.5 * HOUR, HOUR)).toEqual([]);
    expect(snapshotWindows(w, new Map([['e 1', 2 * HOUR]]), 10.5 * HOUR, HOUR)).toEqual([]);
  });

  it('an ended phase: once, at its end, when the data is through it', () => {
    const w = [win({ phase: 1, fromTs: 0, toTs: 5 * HOUR }), win({ phase: 2, fromTs: 5 * HOUR, toTs: null })];
    // Not through the end yet: nothing for phase 1 (and phase 2 has no hour of data).
    expect(snapshotWindows(w, new Map([['e 1', 4.5 * HOUR]]), 5 * HOUR - 1, HOUR)).toEqual([]);
    expect(snapshotWindows(w, new Map([['e 1', 4.5 * HOUR]]), 5.5 * HOUR, HOUR)).toEqual([{ experiment: 'e', phase: 1, ts: 5 * HOUR }]);
    // Without any snapshot: still one, at the end; then never again.
    expect(snapshotWindows(w, new Map(), 6 * HOUR, HOUR)).toEqual([
      { experiment: 'e', phase: 1, ts: 5 * HOUR },
      { experiment: 'e', phase: 2, ts: 6 * HOUR },
    ]);
    expect(snapshotWindows(w, new Map([['e 1', 5 * HOUR]]), 5.5 * HOUR, HOUR)).toEqual([]);
  });
});

/** A store that rolls up nothing (caught up, through cutoff) or stays behind, and keeps the snapshots it is given. */
function fakeStore(opts: { behind?: () => boolean; failSums?: string } = {}) {
  const saved: ExperimentSnapshot[] = [];
  let sumsCalls = 0;
  const store = {
    async advanceRollups(_w: readonly RollupWindow[], cutoffTs: number) {
      const behind = opts.behind?.() ?? false;
      return { events: behind ? 10 : 0, throughTs: cutoffTs, caughtUp: !behind };
    },
    async armSums(experiment: string, phase: number): Promise<ArmSums[]> {
      sumsCalls++;
      if (experiment === opts.failSums) throw new Error('disk on fire');
      return [{ arm: `${experiment}/${phase}`, n: sumsCalls } as ArmSums];
    },
    async saveExperimentSnapshot(s: ExperimentSnapshot) {
      saved.push(s);
    },
    async latestExperimentSnapshots() {
      const by = new Map<string, { experiment: string; phase: number; ts: number }>();
      for (const s of saved) {
        const k = `${s.experiment} ${s.phase}`;
        if ((by.get(k)?.ts ?? -Infinity) < s.ts) by.set(k, { experiment: s.experiment, phase: s.phase, ts: s.ts });
      }
      return [...by.values()];
    },
  };
  return { store, saved };
}

const experiment = (id: string, startedTs: number, stoppedTs: number | null = null) => ({
  experiment: { id, placement: 'p', status: 'running', phase: 1, phases: [{ phase: 1, startedTs }], stoppedTs } as unknown as Experiment,
  revision: 1,
});

describe('AnalysisRollups snapshots', () => {
  it('simulated days: a daily look (a catch-up) takes one snapshot per day with snapshotEveryMs an hour, at the data-through time', async () => {
    const clock = fixedClock(0);
    const { store, saved } = fakeStore();
    const r = new AnalysisRollups(store, { listExperiments: () => [experiment('x', 0)] }, clock, {
      lagMs: 0,
      batchEvents: 10,
      snapshotEveryMs: HOUR,
    });
    for (let day = 1; day <= 5; day++) {
      clock.set(day * 24 * HOUR);
      await r.catchUp();
      await r.catchUp(); // a second look the same moment adds nothing
    }
    expect(saved.map((s) => s.ts / (24 * HOUR))).toEqual([1, 2, 3, 4, 5]);
    expect(saved[0]!.sums).toEqual([{ arm: 'x/1', n: 1 }]);
  });

  it('every catch-up more than an hour apart takes one; a lag moves the snapshot time back with the data', async () => {
    const clock = fixedClock(2 * HOUR);
    const { store, saved } = fakeStore();
    const r = new AnalysisRollups(store, { listExperiments: () => [experiment('x', 0)] }, clock, {
      lagMs: 5000,
      batchEvents: 10,
      snapshotEveryMs: HOUR,
    });
    for (let i = 0; i < 6; i++) {
      await r.catchUp();
      clock.advance(HOUR / 2);
    }
    // Looks at 2, 2.5, 3, 3.5, 4, 4.5 h: snapshots at 2, 3, 4 h (each minus the 5 s lag).
    expect(saved.map((s) => (s.ts + 5000) / HOUR)).toEqual([2, 3, 4]);
  });

  it('takes none after a chain that did not catch up, nor without snapshotEveryMs', async () => {
    const clock = fixedClock(10 * HOUR);
    const behind = fakeStore({ behind: () => true });
    const chained = new AnalysisRollups(behind.store, { listExperiments: () => [experiment('x', 0)] }, clock, {
      lagMs: 0,
      batchEvents: 10,
      snapshotEveryMs: HOUR,
    });
    await chained.catchUp({ maxMs: 0 });
    expect(behind.saved).toEqual([]);
    const off = fakeStore();
    await new AnalysisRollups(off.store, { listExperiments: () => [experiment('x', 0)] }, clock, { lagMs: 0, batchEvents: 10 }).catchUp();
    expect(off.saved).toEqual([]);
  });

  it('a failed snapshot is logged and fails neither the rollup nor the other experiments', async () => {
    const clock = fixedClock(10 * HOUR);
    const { store, saved } = fakeStore({ failSums: 'bad' });
    const logs: string[] = [];
    const r = new AnalysisRollups(
      store,
      { listExperiments: () => [experiment('bad', 0), experiment('good', 0)] },
      clock,
      { lagMs: 0, batchEvents: 10, snapshotEveryMs: HOUR },
      (m) => logs.push(m),
    );
    expect(await r.catchUp()).toEqual({ events: 0, throughTs: 10 * HOUR, caughtUp: true });
    expect(saved.map((s) => s.experiment)).toEqual(['good']);
    expect(logs).toEqual(['experiment snapshot of bad phase 1 failed: disk on fire']);
    const broken = { ...store, latestExperimentSnapshots: () => Promise.reject(new Error('no table')) };
    const logs2: string[] = [];
    const r2 = new AnalysisRollups(
      broken,
      { listExperiments: () => [experiment('good', 0)] },
      clock,
      { lagMs: 0, batchEvents: 10, snapshotEveryMs: HOUR },
      (m) => logs2.push(m),
    );
    expect((await r2.catchUp()).caughtUp).toBe(true);
    expect(logs2).toEqual(['experiment snapshots failed: no table']);
  });

  it('a stopped experiment gets its final snapshot at the stop once the data is through it', async () => {
    const clock = fixedClock(3 * HOUR);
    const { store, saved } = fakeStore();
    const r = new AnalysisRollups(store, { listExperiments: () => [experiment('x', 0, 3 * HOUR + 1000)] }, clock, {
      lagMs: 0,
      batchEvents: 10,
      snapshotEveryMs: HOUR,
    });
    await r.catchUp(); // before the stop: an ended window is not snapshotted until the data is through its end
    expect(saved).toEqual([]);
    clock.advance(2000);
    await r.catchUp();
    await r.catchUp();
    expect(saved.map((s) => s.ts)).toEqual([3 * HOUR + 1000]);
  });
});
