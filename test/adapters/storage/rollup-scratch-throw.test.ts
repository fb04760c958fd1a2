import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { storedRead } from '../../helpers/events.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

const backend = BACKENDS.find((b) => b.name === 'sqlite')!;
const T = Date.parse('2026-05-04T08:00:00Z');
const win = [{ experiment: 'exp-s', phase: 1, fromTs: T, toTs: null, placement: 'read-next' }];
const read = (id: string, reader: string, session: string, receivedTs: number): StoredEvent => storedRead(id, reader, receivedTs, session);

/**
 * SQLite keeps the rollups' scratch tables (rollup_batch, rollup_added, rollup_new_sessions) per connection and
 * empties them at the end of each fold (adapters/storage/rollups.ts): a pass that throws after
 * filling them must leave them empty (its transaction rolls their rows back), and the next pass
 * must count each event once.
 */
describe('rollups: a SQLite pass that throws halfway', () => {
  let storage: OpenedStorage;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ storage, cleanup } = await openBackend(backend));
  });
  afterAll(async () => {
    await cleanup?.();
  });
  it('leaves no scratch rows behind and counts the events once on the next pass', async () => {
    const db = kyselyOf(storage);
    await storage.appendExposures(
      ['s1', 's2'].map((r) => ({ experiment: 'exp-s', phase: 1, arm: 'a', readerId: r, hashVersion: 2, exposedTs: T })),
    );
    await storage.appendEvents([read('e1', 's1', 'x1', T + 1), read('e2', 's2', 'x2', T + 2)]);
    expect((await storage.advanceRollups(win, T + 10, 1000)).events).toBe(2);
    await storage.appendEvents([read('e3', 's1', 'x3', T + 11), read('e4', 's2', 'x4', T + 12)]);
    // The fold's update of exposures fails, after the scratch tables and exposure_session_ids were filled.
    await sql`create temp trigger boom before update on main.exposures when new.reads > old.reads begin select raise(abort, 'boom'); end`.execute(
      db,
    );
    await expect(storage.advanceRollups(win, T + 20, 1000)).rejects.toThrow(/boom/);
    const left = await sql<{
      n: number;
    }>`select (select count(*) from temp.rollup_batch) + (select count(*) from temp.rollup_new_sessions) + (select count(*) from temp.rollup_added) as n`.execute(
      db,
    );
    expect(Number(left.rows[0]!.n)).toBe(0);
    await sql`drop trigger temp.boom`.execute(db);
    expect((await storage.advanceRollups(win, T + 20, 1000)).events).toBe(2);
    const rows = (await db.selectFrom('exposures').select(['reader_id', 'reads', 'sessions']).orderBy('reader_id').execute()).map((r) => [
      r.reader_id,
      Number(r.reads),
      Number(r.sessions),
    ]);
    expect(rows).toEqual([
      ['s1', 2, 2],
      ['s2', 2, 2],
    ]);
  });
});
