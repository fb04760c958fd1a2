import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { eventToRow } from '../../../src/adapters/storage/rows.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { storedRead } from '../../helpers/events.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

/**
 * PostgreSQL retention against the rollups' commit-safe watermark (adapters/storage/retention.ts):
 * an event received long before the rollup cursor, whose transaction commits after the passes
 * moved past it, is not deleted before a pass has counted it.
 */
const pgBackend = BACKENDS.find((b) => b.name === 'postgres')!;
const T = Date.parse('2026-05-04T08:00:00Z');
const SEC = 1000;
const win = [{ experiment: 'exp-r', phase: 1, fromTs: T, toTs: null, placement: 'read-next' }];

const read = (id: string, receivedTs: number) => storedRead(id, 'r1', receivedTs);

describe.skipIf(!pgBackend.enabled)('retention and the rollup watermark: postgres', () => {
  let storage: OpenedStorage;
  let url: string;
  let cleanup: () => Promise<void>;
  let held: pg.Client;

  beforeAll(async () => {
    ({ storage, url, cleanup } = await openBackend(pgBackend));
    held = new pg.Client({ connectionString: url });
    await held.connect();
  });
  afterAll(async () => {
    await held?.end().catch(() => undefined);
    await cleanup?.();
  });

  const db = () => kyselyOf(storage);
  const ids = async () => (await db().selectFrom('events').select('event_id').orderBy('event_id').execute()).map((r) => r.event_id);
  const reads = async () => Number((await db().selectFrom('exposures').select('reads').executeTakeFirstOrThrow()).reads);
  const passes = async (cutoff: number) => {
    let events = 0;
    for (let i = 0; i < 20; i++) {
      const p = await storage.advanceRollups(win, cutoff, 1000);
      events += p.events;
      if (p.caughtUp) return events;
    }
    throw new Error('the rollups did not catch up in 20 passes');
  };

  it('keeps an event committed after the cursor passed it until a pass has counted it', async () => {
    await storage.appendExposures([{ experiment: 'exp-r', phase: 1, arm: 'a', readerId: 'r1', hashVersion: 2, exposedTs: T }]);
    await storage.appendEvents([read('e-1', T + SEC), read('e-2', T + 2 * SEC)]);
    // A row stored before migration 0019 (no transaction id): committed then, deleted by its receive time alone.
    await sql`update events set xid = null where event_id = 'e-1'`.execute(db());

    // A transaction stores an event received at T + 3 s and stays open while a later one commits
    // and the passes move the cursor a minute past it.
    await held.query('begin');
    const row = eventToRow(read('e-held', T + 3 * SEC)) as unknown as Record<string, unknown>;
    const cols = Object.keys(row);
    await held.query(`insert into events (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
    await storage.appendEvents([read('e-4', T + 30 * SEC)]);
    expect(await passes(T + 60 * SEC)).toBe(3);
    expect(await reads()).toBe(3);

    // It commits; retention runs before the next pass with a cut past its receive time: the
    // three counted events go, the held one stays (received before the cursor, not yet counted).
    await held.query('commit');
    expect(await storage.pruneEvents(T + 40 * SEC, 1000)).toBe(3);
    expect(await ids()).toEqual(['e-held']);

    // The next pass counts it, and then it goes.
    expect(await passes(T + 60 * SEC)).toBe(1);
    expect(await reads()).toBe(4);
    expect(await storage.pruneEvents(T + 40 * SEC, 1000)).toBe(1);
    expect(await ids()).toEqual([]);
  });
});
