import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/adapters/storage/open.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { BACKENDS } from '../../helpers/databases.js';

const backend = BACKENDS.find((b) => b.name === 'postgres')!;
const T = Date.parse('2026-05-04T08:00:00Z');
const exposure = (readerId: string, exposedTs = T) => ({ experiment: 'exp', phase: 1, arm: 'a', readerId, hashVersion: 2, exposedTs });

/**
 * Migration 0024 (PostgreSQL): exposures take an integer id (an identity column), and the sessions
 * of each exposure move from exposure_sessions (text key) to exposure_session_ids (the id), as
 * SQLite's 0021 did; new exposures take new ids, and an erasure deletes the reader's sessions.
 */
describe.skipIf(!backend.enabled)('migration 0024 (exposure_session_ids): postgres', () => {
  let url: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ url, cleanup } = await backend.create()));
  afterAll(async () => cleanup?.());

  it('gives every exposure an id, moves the sessions to it, and numbers new exposures after them', async () => {
    const old = await openStorage(url, { migrateTo: '0023_exposures_reader_covering' });
    await old.appendExposures(['r1', 'r2', 'r3'].map((r) => exposure(r)));
    const k = kyselyOf(old);
    // A session row of no exposure (left behind) is not carried over.
    await sql`insert into exposure_sessions (experiment, phase, reader_id, session_id)
      values ('exp', 1, 'r1', 's1'), ('exp', 1, 'r1', 's2'), ('exp', 1, 'r3', 's9'), ('exp', 1, 'gone', 'sx')`.execute(k);
    await old.close();

    const storage = await openStorage(url);
    try {
      const db = kyselyOf(storage);
      const ids = async () =>
        new Map(
          (await sql<{ reader_id: string; id: string }>`select reader_id, id from exposures`.execute(db)).rows.map((r) => [
            r.reader_id,
            Number(r.id),
          ]),
        );
      const before = await ids();
      expect([...before.keys()].sort()).toEqual(['r1', 'r2', 'r3']);
      expect(new Set(before.values()).size).toBe(3);
      const pairs = await sql<{ exposure_id: string; session_id: string }>`select exposure_id, session_id from exposure_session_ids
        order by exposure_id, session_id`.execute(db);
      expect(pairs.rows.map((r) => [Number(r.exposure_id), r.session_id])).toEqual(
        [
          [before.get('r1')!, 's1'],
          [before.get('r1')!, 's2'],
          [before.get('r3')!, 's9'],
        ].sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[1]).localeCompare(String(b[1]))),
      );
      expect(Number((await sql<{ n: string }>`select count(*) as n from exposure_sessions`.execute(db)).rows[0]!.n)).toBe(0);
      // The key refuses a pair twice.
      await expect(
        sql`insert into exposure_session_ids (exposure_id, session_id) values (${before.get('r1')!}, 's1')`.execute(db),
      ).rejects.toThrow(/duplicate key/);

      // A new exposure takes an id above every earlier one.
      await storage.appendExposures([exposure('r4', T + 5)]);
      const after = await ids();
      expect(after.get('r4')!).toBeGreaterThan(Math.max(...before.values()));
      // An erasure deletes the reader's sessions by the exposure's id.
      expect((await storage.forgetReader('r1', 'h1', T)).removed).toMatchObject({ exposures: 1, exposureSessions: 2 });
      const left = await sql<{ n: string }>`select count(*) as n from exposure_session_ids`.execute(db);
      expect(Number(left.rows[0]!.n)).toBe(1);
    } finally {
      await storage.close();
    }
  });
});
