/**
 * SQLite's rollup cursor is a rowid, and the events table's rowids are handed out as the largest + 1
 * (no AUTOINCREMENT): once the newest events are deleted (retention of an idle database, a reader
 * erasure of the newest events), the next events would take rowids behind the cursor and never be
 * counted. The deleting transaction pulls the cursor back (adapters/storage/rollup-cursor.ts).
 * Found by review; both cases counted too few reads before the fix.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { storedRead } from '../../helpers/events.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

const T = Date.parse('2026-05-04T08:00:00Z');
const DAY = 86_400_000;
const win = [{ experiment: 'exp-q', phase: 1, fromTs: T, toTs: null, placement: 'read-next' }];
const read = storedRead;

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`rollups after the newest events are deleted: ${backend.name}`, () => {
    let storage: OpenedStorage;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ storage, cleanup } = await openBackend(backend));
      await storage.appendExposures([{ experiment: 'exp-q', phase: 1, arm: 'a', readerId: 'keep', hashVersion: 2, exposedTs: T }]);
    });
    afterEach(async () => {
      await cleanup?.();
    });
    const reads = async () => Number((await kyselyOf(storage).selectFrom('exposures').select('reads').executeTakeFirstOrThrow()).reads);

    it('counts the events stored after retention emptied the table', async () => {
      await storage.appendEvents(Array.from({ length: 5 }, (_, i) => read(`q-${i}`, 'keep', T + 1000 + i)));
      expect((await storage.advanceRollups(win, T + 10_000, 1000)).events).toBe(5);
      expect(await storage.pruneEvents(T + DAY, 1000)).toBe(5);
      await storage.appendEvents([read('q-new-1', 'keep', T + 2 * DAY), read('q-new-2', 'keep', T + 2 * DAY + 1)]);
      const p = await storage.advanceRollups(win, T + 3 * DAY, 1000);
      expect({ events: p.events, reads: await reads() }).toEqual({ events: 2, reads: 7 });
    });

    it('counts the events stored after a reader who owned the newest ones was forgotten', async () => {
      await storage.appendEvents([
        read('k1', 'keep', T + 1),
        read('g1', 'gone', T + 2),
        read('g2', 'gone', T + 3),
        read('g3', 'gone', T + 4),
      ]);
      await storage.advanceRollups(win, T + 10, 1000);
      await storage.forgetReader('gone', 'h', T + 11);
      await storage.appendEvents([read('k2', 'keep', T + 12), read('k3', 'keep', T + 13)]);
      await storage.advanceRollups(win, T + 20, 1000);
      expect(await reads()).toBe(3);
    });
  });
}
