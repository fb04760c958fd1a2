import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import { openStorage } from '../../../src/adapters/storage/open.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { storedRead } from '../../helpers/events.js';
import { BACKENDS } from '../../helpers/databases.js';

const backend = BACKENDS.find((b) => b.name === 'sqlite')!;
const T = Date.parse('2026-05-04T08:00:00Z');
const win = [{ experiment: 'exp', phase: 1, fromTs: T, toTs: null, placement: 'read-next' }];
const read = (id: string, reader: string, session: string, receivedTs: number): StoredEvent => storedRead(id, reader, receivedTs, session);
const exposure = (readerId: string, exposedTs = T) => ({ experiment: 'exp', phase: 1, arm: 'a', readerId, hashVersion: 2, exposedTs });

/**
 * Migration 0021 (SQLite): exposures take a stable integer id (their rowid), and the sessions of
 * each exposure move from exposure_sessions (text key) to exposure_session_ids (the id); the
 * rollups then count only sessions an exposure did not have yet, and an erasure deletes them.
 */
describe('migration 0021 (exposure_session_ids): sqlite', () => {
  let url: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ url, cleanup } = await backend.create()));
  afterAll(async () => cleanup?.());

  it('keeps the rows, their rowids as ids, the indexes and the sessions; counts new sessions only; erases them', async () => {
    const old = await openStorage(url, { migrateTo: '0020_rollup_cursor_event', sqlite: { synchronous: 'NORMAL' } });
    await old.appendExposures(['r1', 'r2', 'r3', 'r4'].map((r) => exposure(r)));
    const k = kyselyOf(old);
    // A gap in the rowids: ids are the rowids, not renumbered.
    await sql`delete from exposures where reader_id = 'r2'`.execute(k);
    // What the rollups up to 0020 stored (this code's passes need 0021): the sessions by the text key,
    // counted into exposures; a session row of no exposure (r2's, left behind) is not carried over.
    await old.appendEvents([read('e1', 'r1', 's1', T + 1), read('e2', 'r1', 's2', T + 2), read('e3', 'r3', 's9', T + 3)]);
    await sql`insert into exposure_sessions (experiment, phase, reader_id, session_id)
      values ('exp', 1, 'r1', 's1'), ('exp', 1, 'r1', 's2'), ('exp', 1, 'r3', 's9'), ('exp', 1, 'r2', 'sx')`.execute(k);
    await sql`update exposures set rolled = 1, reads = 1, sessions = (select count(*) from exposure_sessions s where s.reader_id = exposures.reader_id)`.execute(
      k,
    );
    await sql`update rollup_state set cursor = 3, through_ts = ${T + 10}`.execute(k);
    const before = await sql<{
      rowid: number;
      reader_id: string;
      sessions: number;
    }>`select rowid, reader_id, sessions from exposures order by rowid`.execute(k);
    expect(before.rows.map((r) => [r.reader_id, Number(r.sessions)])).toEqual([
      ['r1', 2],
      ['r3', 1],
      ['r4', 0],
    ]);
    await old.close();

    const storage = await openStorage(url, { sqlite: { synchronous: 'NORMAL' } });
    try {
      const db = kyselyOf(storage);
      const after = await sql<{
        id: number;
        reader_id: string;
        sessions: number;
      }>`select id, reader_id, sessions from exposures order by id`.execute(db);
      expect(after.rows).toEqual(before.rows.map((r) => ({ id: r.rowid, reader_id: r.reader_id, sessions: r.sessions })));
      const indexes = await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name = 'exposures' and sql is not null order by name`.execute(db);
      // 0021 copied them back; 0023 then replaced exposures_reader by a covering index.
      expect(indexes.rows.map((r) => r.name)).toEqual(['exposures_claimed', 'exposures_reader_covering', 'exposures_unrolled']);
      const id = (r: string) => after.rows.find((x) => x.reader_id === r)!.id;
      const sessions = async () =>
        (await sql<{ exposure_id: number; session_id: string }>`select exposure_id, session_id from exposure_session_ids`.execute(db)).rows;
      expect(await sessions()).toEqual([
        { exposure_id: id('r1'), session_id: 's1' },
        { exposure_id: id('r1'), session_id: 's2' },
        { exposure_id: id('r3'), session_id: 's9' },
      ]);
      expect(Number((await sql<{ n: number }>`select count(*) as n from exposure_sessions`.execute(db)).rows[0]!.n)).toBe(0);

      // The key still refuses a second exposure; a new one takes an id never used (not r4's once r4 is gone).
      await storage.appendExposures([exposure('r1', T + 5)]);
      const r4 = id('r4');
      expect((await storage.forgetReader('r4', 'h4', T)).removed.exposures).toBe(1);
      await storage.appendExposures([exposure('r5')]);
      const ids = await sql<{ id: number; reader_id: string }>`select id, reader_id from exposures order by id`.execute(db);
      expect(ids.rows.map((r) => r.reader_id)).toEqual(['r1', 'r3', 'r5']);
      expect(ids.rows[2]!.id).toBeGreaterThan(r4);

      // Sessions an exposure had already are not counted again; new ones are, once, across passes.
      await storage.appendEvents([read('e4', 'r1', 's1', T + 11), read('e5', 'r1', 's3', T + 12), read('e6', 'r5', 's1', T + 13)]);
      expect((await storage.advanceRollups(win, T + 20, 2)).events).toBe(2);
      expect((await storage.advanceRollups(win, T + 20, 1000)).events).toBe(1);
      await storage.appendEvents([read('e7', 'r1', 's3', T + 21), read('e8', 'r5', 's2', T + 22)]);
      expect((await storage.advanceRollups(win, T + 30, 1000)).events).toBe(2);
      const counts = await sql<{
        reader_id: string;
        sessions: number;
      }>`select reader_id, sessions from exposures order by reader_id`.execute(db);
      expect(counts.rows.map((r) => [r.reader_id, Number(r.sessions)])).toEqual([
        ['r1', 3],
        ['r3', 1],
        ['r5', 2],
      ]);
      expect((await sessions()).length).toBe(6);

      // An erasure deletes the reader's sessions with its exposures, and counts them.
      const gone = await storage.forgetReader('r1', 'h1', T);
      expect(gone.removed).toMatchObject({ exposures: 1, exposureSessions: 3 });
      expect((await sessions()).map((s) => s.session_id)).toEqual(['s9', 's1', 's2']);
    } finally {
      await storage.close();
    }
  });
});
