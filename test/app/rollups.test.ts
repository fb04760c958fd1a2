import { describe, expect, it } from 'vitest';
import { AnalysisRollups, checkRollupLag, nextPassSize, rollupWindows } from '../../src/app/rollups.js';
import type { Experiment } from '../../src/core/experiments/experiment.js';
import { postgresTuning } from '../../src/adapters/storage/postgres.js';
import { SQLITE_TUNING } from '../../src/adapters/storage/sqlite.js';
import type { RollupWindow } from '../../src/app/ports.js';
import { fixedClock } from '../../src/core/kernel/clock.js';

const exp = (over: Partial<Experiment>): Experiment =>
  ({ id: 'e', placement: 'read-next', status: 'running', phase: 0, phases: [], stoppedTs: null, ...over }) as Experiment;

describe('rollup windows', () => {
  it('ends each phase at the next phase, the stop, or never while it runs', () => {
    const phases = [
      { phase: 1, startedTs: 10 },
      { phase: 2, startedTs: 20 },
    ] as Experiment['phases'];
    expect(
      rollupWindows([
        exp({ id: 'a', phases }),
        exp({ id: 'b', placement: 'home', status: 'stopped', phases, stoppedTs: 30 }),
        exp({ id: 'c', status: 'draft' }),
      ]),
    ).toEqual([
      { experiment: 'a', phase: 1, fromTs: 10, toTs: 20, placement: 'read-next' },
      { experiment: 'a', phase: 2, fromTs: 20, toTs: null, placement: 'read-next' },
      { experiment: 'b', phase: 1, fromTs: 10, toTs: 20, placement: 'home' },
      { experiment: 'b', phase: 2, fromTs: 20, toTs: 30, placement: 'home' },
    ]);
  });
});

describe('rollup lag', () => {
  it('accepts 0 on SQLite (exact at any lag) and refuses less than a second on PostgreSQL (the data-through time it claims), saying why', () => {
    const pg = postgresTuning(10).rollups.minLag;
    expect(() => checkRollupLag(SQLITE_TUNING.rollups.minLag, 0)).not.toThrow();
    expect(() => checkRollupLag(pg, 1000)).not.toThrow();
    expect(() => checkRollupLag(pg, 999)).toThrow(
      /READNEXT_ROLLUP_LAG_MS must be at least 1000 on PostgreSQL, got 999: .*data-through time/,
    );
  });
});

describe('AnalysisRollups', () => {
  it('passes until caught up, with the cutoff now − lag, and never runs two chains at once', async () => {
    const calls: { cutoff: number; windows: readonly RollupWindow[] }[] = [];
    let inFlight = 0;
    let left = 5;
    const store = {
      async advanceRollups(windows: readonly RollupWindow[], cutoffTs: number, maxEvents: number) {
        expect(maxEvents).toBe(2);
        expect(++inFlight).toBe(1);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        calls.push({ cutoff: cutoffTs, windows });
        const events = Math.min(left, maxEvents);
        left -= events;
        return { events, throughTs: cutoffTs, caughtUp: left === 0 };
      },
    };
    const deployments = {
      listExperiments: () => [{ experiment: exp({ id: 'x', phases: [{ phase: 1, startedTs: 0 }] as Experiment['phases'] }), revision: 1 }],
    };
    const r = new AnalysisRollups(store, deployments, fixedClock(10_000), { lagMs: 3000, batchEvents: 2 });
    const [a, b] = await Promise.all([r.catchUp(), r.catchUp()]);
    expect(a).toEqual({ events: 5, throughTs: 7000, caughtUp: true });
    expect(b).toEqual({ events: 0, throughTs: 7000, caughtUp: true }); // the second chain found nothing left
    expect(calls.map((c) => c.cutoff)).toEqual([7000, 7000, 7000, 7000]);
    expect(calls[0]!.windows).toEqual([{ experiment: 'x', phase: 1, fromTs: 0, toTs: null, placement: 'read-next' }]);
  });

  it('stop() waits for the running pass only: a chain that is behind ends after it, and stop() resolves', async () => {
    let passes = 0;
    let release: (() => void) | undefined;
    const store = {
      async advanceRollups() {
        passes++;
        if (passes === 2) await new Promise<void>((r) => (release = r));
        return { events: 10, throughTs: 0, caughtUp: false }; // never catches up
      },
    };
    const r = new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(0), { lagMs: 0, batchEvents: 10 });
    const chain = r.catchUp();
    await new Promise((res) => setTimeout(res, 5));
    expect(passes).toBe(2); // the second pass is running
    const stopped = r.stop();
    release!();
    await stopped;
    expect(await chain).toEqual({ events: 20, throughTs: 0, caughtUp: false });
    expect(passes).toBe(2);
  });

  it('a foreground caller makes a background chain end after its current pass, then runs its own at full share', async () => {
    const log: string[] = [];
    let release: (() => void) | undefined;
    let left = 100;
    const store = {
      async advanceRollups(_w: readonly RollupWindow[], _c: number, n: number) {
        log.push(`pass ${n}`);
        if (log.length === 2) await new Promise<void>((r) => (release = r));
        left -= 1;
        return { events: 1, throughTs: 0, caughtUp: left === 0 };
      },
    };
    const pauses: number[] = [];
    const opts = { lagMs: 0, batchEvents: 1, monotonic: () => 0, sleep: async (ms: number) => void pauses.push(ms) };
    const r = new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(0), opts);
    const bg = r.catchUp({ maxShare: 0.2, background: true });
    await new Promise((res) => setTimeout(res, 5));
    expect(log).toEqual(['pass 1', 'pass 1']); // the background chain's second pass is running
    // Another background call while it runs starts nothing and gets the running chain's result.
    const bg2 = r.catchUp({ maxShare: 0.2, background: true });
    const fg = r.catchUp();
    release!();
    expect(await bg).toEqual({ events: 2, throughTs: 0, caughtUp: false });
    expect(await bg2).toEqual(await bg);
    expect(await fg).toEqual({ events: 98, throughTs: 0, caughtUp: true });
    expect(log).toHaveLength(100);
  });

  it('maxMs ends a chain after the pass that crosses it, not caught up', async () => {
    let t = 0;
    const store = {
      async advanceRollups() {
        t += 40;
        return { events: 10, throughTs: t, caughtUp: false };
      },
    };
    const r = new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(0), {
      lagMs: 0,
      batchEvents: 10,
      monotonic: () => t,
      sleep: async () => undefined,
    });
    expect(await r.catchUp({ maxMs: 100 })).toEqual({ events: 30, throughTs: 120, caughtUp: false });
  });

  it('in the background takes at most its share of wall time while behind: pauses after each pass in proportion to it', async () => {
    let t = 0;
    let left = 3;
    const store = {
      async advanceRollups() {
        t += 40; // each pass takes 40 ms
        left--;
        return { events: 1, throughTs: 0, caughtUp: left === 0 };
      },
    };
    const pauses: number[] = [];
    const opts = { lagMs: 0, batchEvents: 1, monotonic: () => t, sleep: async (ms: number) => void pauses.push(ms) };
    const r = new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(0), opts);
    await r.catchUp({ maxShare: 0.25 });
    expect(pauses).toEqual([120, 120]); // 40 ms of work, then 3 × 40 ms of pause: 25%; none after the last pass
    left = 2;
    pauses.length = 0;
    await r.catchUp();
    expect(pauses).toEqual([0]); // a report's catch-up is not limited
  });

  it('sizes passes to a time budget when adaptive: n events in d ms make the next pass n·target/d, within its bounds', async () => {
    let t = 0;
    const sizes: number[] = [];
    // A pass costs 10 ms plus 0.05 ms an event; 12 full passes, then one that catches up.
    let passes = 0;
    const store = {
      async advanceRollups(_w: readonly RollupWindow[], _c: number, maxEvents: number) {
        sizes.push(maxEvents);
        t += 10 + 0.05 * maxEvents;
        passes++;
        return { events: passes === 13 ? 3 : maxEvents, throughTs: 0, caughtUp: passes === 13 };
      },
    };
    const opts = {
      lagMs: 0,
      batchEvents: 1000,
      adaptive: { targetMs: 100, min: 500, max: 1700 },
      monotonic: () => t,
      sleep: async () => undefined,
    };
    const r = new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(0), opts);
    await r.catchUp();
    // 1000 events in 60 ms -> 1667; 1667 in 93.3 ms -> 1786, capped at 1700; then 1700 in 95 ms -> 1789 -> 1700 again.
    expect(sizes.slice(0, 4)).toEqual([1000, 1667, 1700, 1700]);
    // A pass that caught up (3 events) says nothing about a full pass: the size stays.
    expect(r.batchEvents).toBe(1700);
    // Slow passes shrink the next one, never below the minimum.
    store.advanceRollups = async (_w, _c, maxEvents) => {
      sizes.push(maxEvents);
      t += maxEvents; // 1 ms an event
      return { events: maxEvents, throughTs: 0, caughtUp: sizes.length >= 3 };
    };
    sizes.length = 0;
    await r.catchUp();
    expect(sizes).toEqual([1700, 500, 500]);
  });

  it('goes on after catching up while deltas are left to merge, and sizes no pass by one that merged', async () => {
    let t = 0;
    const sizes: number[] = [];
    const passes = [
      { events: 1000, took: 50, throughTs: 0, caughtUp: false }, // 1000 in 50 ms -> 2000
      { events: 2000, took: 900, throughTs: 0, caughtUp: false, compacted: true }, // merged too: says nothing
      { events: 500, took: 10, throughTs: 0, caughtUp: true, compacted: true, moreToMerge: true },
      { events: 0, took: 300, throughTs: 0, caughtUp: true, compacted: true, moreToMerge: true },
      { events: 0, took: 300, throughTs: 0, caughtUp: true, compacted: true },
      { events: 0, took: 1, throughTs: 0, caughtUp: true },
    ];
    const store = {
      async advanceRollups(_w: readonly RollupWindow[], _c: number, maxEvents: number) {
        sizes.push(maxEvents);
        const { took, ...p } = passes[sizes.length - 1]!;
        t += took;
        return p;
      },
    };
    const opts = {
      lagMs: 0,
      batchEvents: 1000,
      adaptive: { targetMs: 100, min: 500, max: 5000 },
      monotonic: () => t,
      sleep: async () => undefined,
    };
    const r = new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(0), opts);
    expect(await r.catchUp()).toEqual({ events: 3500, throughTs: 0, caughtUp: true });
    // The chain ended with the pass that merged the rest; the size stayed at what the first pass said.
    expect(sizes).toEqual([1000, 2000, 2000, 2000, 2000]);
  });

  it('sizes passes to the larger target while they end more than behind.ms of data behind the cutoff', async () => {
    let t = 0;
    const sizes: number[] = [];
    // 10 ms a pass plus 0.05 ms an event; each full pass ends at the given data-through time (cutoff 100,000).
    const through = [10_000, 30_000, 70_000, 95_000, 99_000];
    const store = {
      async advanceRollups(_w: readonly RollupWindow[], _c: number, maxEvents: number) {
        sizes.push(maxEvents);
        t += 10 + 0.05 * maxEvents;
        const i = sizes.length - 1;
        return i < through.length
          ? { events: maxEvents, throughTs: through[i]!, caughtUp: false }
          : { events: 1, throughTs: 100_000, caughtUp: true };
      },
    };
    const opts = {
      lagMs: 0,
      batchEvents: 1000,
      adaptive: { targetMs: 100, min: 500, max: 20_000, behind: { ms: 60_000, targetMs: 250 } },
      monotonic: () => t,
      sleep: async () => undefined,
    };
    await new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(100_000), opts).catchUp();
    // 90 s behind: 1000 in 60 ms -> 4167 (250 ms); 4167 in 218.4 ms, 70 s behind -> 4771; 4771 in 248.6 ms,
    // 30 s behind -> 1920 (100 ms); 1920 in 106 ms, 5 s behind -> 1811; 1811 in 100.6 ms -> 1801.
    expect(sizes).toEqual([1000, 4167, 4771, 1920, 1811, 1801]);
  });

  it("bounds a backlog's passes by behind.max, and a chain with a time budget (a report's) by the usual max", async () => {
    let t = 0;
    const sizes: number[] = [];
    // 1 ms a pass plus 0.01 ms an event; 10 passes 90 s behind (cutoff 100,000), then one that catches up.
    const store = {
      async advanceRollups(_w: readonly RollupWindow[], _c: number, maxEvents: number) {
        sizes.push(maxEvents);
        t += 1 + 0.01 * maxEvents;
        return sizes.length <= 10
          ? { events: maxEvents, throughTs: 10_000, caughtUp: false }
          : { events: 1, throughTs: 100_000, caughtUp: true };
      },
    };
    const opts = {
      lagMs: 0,
      batchEvents: 1000,
      adaptive: { targetMs: 100, min: 500, max: 5000, behind: { ms: 60_000, targetMs: 400, max: 20_000 } },
      monotonic: () => t,
      sleep: async () => undefined,
    };
    const r = new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(100_000), opts);
    await r.catchUp();
    // 1000 in 11 ms -> 36,364 (400 ms), capped at 20,000; 20,000 in 201 ms -> 39,801 -> 20,000.
    expect(sizes.slice(0, 3)).toEqual([1000, 20_000, 20_000]);
    expect(r.batchEvents).toBe(20_000);
    // A report's chain (maxMs) takes passes of at most the usual max while the backlog's size stays for the background.
    sizes.length = 0;
    await r.catchUp({ maxMs: 1_000_000 });
    expect(sizes.slice(0, 2)).toEqual([5000, 5000]);
    expect(nextPassSize(opts.adaptive, 5000, 51, 90_000)).toBe(20_000);
    expect(nextPassSize(opts.adaptive, 5000, 51, 30_000)).toBe(5000);
    expect(nextPassSize(opts.adaptive, 100, 1000, 90_000)).toBe(500);
  });
});
