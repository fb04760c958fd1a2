import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { openStorage } from '../../../src/adapters/storage/open.js';
import type { ExposureRecord } from '../../../src/core/events/records.js';
import { BACKENDS } from '../../helpers/databases.js';

// The two reads serving makes of the exposures table (app/exposure-lookup.ts, main/services.ts), on every backend.

const exposure = (readerId: string, phase: number, arm: string, exposedTs: number, experiment = 'exp'): ExposureRecord => ({
  experiment,
  phase,
  arm,
  readerId,
  hashVersion: 2,
  exposedTs,
  sessionId: null,
  articleId: null,
});

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`exposure read-back (${backend.name})`, () => {
    let storage: OpenedStorage;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const db = await backend.create();
      cleanup = db.cleanup;
      storage = await openStorage(db.url);
      // 1,200 readers in phase 1, the first 10 again in phases 2 and 3, and one in another experiment.
      const rows = Array.from({ length: 1200 }, (_, i) => exposure(`r${i}`, 1, i % 2 ? 'b' : 'a', 1000 + i));
      for (let i = 0; i < 10; i++) rows.push(exposure(`r${i}`, 2, i % 2 ? 'b' : 'a', 5000 + i), exposure(`r${i}`, 3, 'c', 6000 + i));
      rows.push(exposure('r0', 1, 'z', 1, 'other'));
      await storage.appendExposures(rows);
    });

    afterAll(async () => {
      await storage?.close();
      await cleanup?.();
    });

    it('exposuresOf: the readers asked for, from a phase on, in one experiment, past the 500-id chunk', async () => {
      const ids = [...Array.from({ length: 1100 }, (_, i) => `r${i}`), 'r0', 'nobody'];
      const got = await storage.exposuresOf('exp', ids, 1);
      expect(got).toHaveLength(1100 + 20);
      expect(new Set(got.map((r) => r.readerId)).size).toBe(1100);
      const r3 = (await storage.exposuresOf('exp', ['r3'], 2)).sort((x, y) => x.phase - y.phase);
      expect(r3).toEqual([
        { readerId: 'r3', arm: 'b', phase: 2 },
        { readerId: 'r3', arm: 'c', phase: 3 },
      ]);
      expect(await storage.exposuresOf('exp', ['r1199', 'nobody'], 2)).toEqual([]);
      expect(await storage.exposuresOf('other', ['r0'], 1)).toEqual([{ readerId: 'r0', arm: 'z', phase: 1 }]);
    });

    it('recentExposures: the latest by exposure time, oldest first', async () => {
      const got = await storage.recentExposures('exp', 25);
      expect(got).toHaveLength(25);
      expect(got.slice(-3)).toEqual([
        { readerId: 'r7', arm: 'c', phase: 3 },
        { readerId: 'r8', arm: 'c', phase: 3 },
        { readerId: 'r9', arm: 'c', phase: 3 },
      ]);
      expect(got[0]).toEqual({ readerId: 'r1195', arm: 'b', phase: 1 });
    });
  });
}
