/**
 * Experiment snapshots (AnalysisStore, migration 0016) on SQLite, and on PostgreSQL when
 * READNEXT_TEST_PG is set: the sums kept intact as JSON, listed per phase in time order, a second
 * snapshot at the same time dropped, the latest time per phase; and the rollups taking them on a
 * real database as their clock moves (app/rollups.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { AnalysisRollups } from '../../../src/app/rollups.js';
import { MEASURES, type ArmSums, type Measure } from '../../../src/core/analysis/metrics.js';
import type { Experiment } from '../../../src/core/experiments/experiment.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

const HOUR = 3_600_000;

const measures = (f: (m: Measure, i: number) => number) =>
  Object.fromEntries(MEASURES.map((m, i) => [m, f(m, i)])) as Record<Measure, number>;

function sums(arm: string, n: number): ArmSums {
  return {
    arm,
    n,
    active: n - 1,
    sum: measures((_m, i) => n * (i + 1) + 0.25),
    sumSquares: measures((_m, i) => n * (i + 1) ** 2 + 1.5),
    crossProducts: { 'clicks*impressions': 12.5 },
    pre: { sum: measures(() => 3), sumSquares: measures(() => 9) },
    sumPostPre: measures(() => 0.5),
    preCrossProducts: { 'reads*dwellMs': { prePre: 1, postPre: 2, prePost: 3 } },
  };
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`experiment snapshots: ${backend.name}`, () => {
    let storage: OpenedStorage;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ storage, cleanup } = await openBackend(backend));
    });
    afterAll(async () => cleanup());

    it('keeps the sums intact, lists a phase oldest first, drops a second snapshot at the same time, gives the latest per phase', async () => {
      const a = [sums('control', 10), sums('b', 12)];
      await storage.saveExperimentSnapshot({ experiment: 'e1', phase: 1, ts: 2 * HOUR, sums: a });
      await storage.saveExperimentSnapshot({ experiment: 'e1', phase: 1, ts: HOUR, sums: [sums('control', 4)] });
      await storage.saveExperimentSnapshot({ experiment: 'e1', phase: 2, ts: 5 * HOUR, sums: [] });
      await storage.saveExperimentSnapshot({ experiment: 'e2', phase: 1, ts: 3 * HOUR, sums: [] });
      // The same time again (another process caught up to it too): the first stands.
      await storage.saveExperimentSnapshot({ experiment: 'e1', phase: 1, ts: 2 * HOUR, sums: [] });

      const p1 = await storage.listExperimentSnapshots('e1', 1);
      expect(p1.map((x) => x.ts)).toEqual([HOUR, 2 * HOUR]);
      expect(p1[1]).toEqual({ experiment: 'e1', phase: 1, ts: 2 * HOUR, sums: a });
      expect(await storage.listExperimentSnapshots('e1', 3)).toEqual([]);
      expect(await storage.listExperimentSnapshots('none', 1)).toEqual([]);

      const latest = await storage.latestExperimentSnapshots();
      expect(latest.sort((x, y) => x.experiment.localeCompare(y.experiment) || x.phase - y.phase)).toEqual([
        { experiment: 'e1', phase: 1, ts: 2 * HOUR },
        { experiment: 'e1', phase: 2, ts: 5 * HOUR },
        { experiment: 'e2', phase: 1, ts: 3 * HOUR },
      ]);
    });

    it('the rollups take a snapshot once an hour of data-through time has passed, and one at the end of a stopped phase', async () => {
      const clock = fixedClock(10 * HOUR);
      const experiment = {
        id: 'r1',
        placement: 'read-next',
        status: 'running',
        phase: 1,
        phases: [{ phase: 1, startedTs: 9 * HOUR }],
        stoppedTs: null,
      } as unknown as Experiment;
      const listed = [{ experiment, revision: 1 }];
      const rollups = new AnalysisRollups(
        storage,
        { listExperiments: () => listed },
        clock,
        { lagMs: 0, batchEvents: 1000, snapshotEveryMs: HOUR },
        (m) => {
          throw new Error(`unexpected log: ${m}`);
        },
      );
      const times = async () => (await storage.listExperimentSnapshots('r1', 1)).map((x) => x.ts);
      // 1. An hour after the start: the first snapshot, at the data-through time (now − lag 0).
      await rollups.catchUp();
      expect(await times()).toEqual([10 * HOUR]);
      // 2. Half an hour later: none; an hour after the last: the second.
      clock.advance(HOUR / 2);
      await rollups.catchUp();
      expect(await times()).toEqual([10 * HOUR]);
      clock.advance(HOUR / 2);
      await rollups.catchUp();
      expect(await times()).toEqual([10 * HOUR, 11 * HOUR]);
      // 3. Stopped 10 minutes later: one snapshot at the stop, then no more.
      experiment.status = 'stopped';
      experiment.stoppedTs = 11 * HOUR + 600_000;
      clock.advance(HOUR);
      await rollups.catchUp();
      clock.advance(HOUR);
      await rollups.catchUp();
      expect(await times()).toEqual([10 * HOUR, 11 * HOUR, 11 * HOUR + 600_000]);
      expect((await storage.listExperimentSnapshots('r1', 1)).every((x) => Array.isArray(x.sums))).toBe(true);
    });
  });
}
