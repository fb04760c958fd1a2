/**
 * PostgreSQL's rollup watermark after the database was copied into another cluster (issue 22, a
 * pg_dump restore or logical replication): the copy keeps `rollup_state.watermark` and every
 * event's `xid` column (plain columns) from the old cluster, whose transaction ids were ahead of the
 * new cluster's. Simulated here on one cluster: the restored rows and the stored watermark are
 * given ids ahead of this cluster's counter, as the copy would have them, then the counter climbs
 * past them. Before the fix, the first pass moved the watermark back to this cluster's snapshot
 * and, as the counter climbed, later passes took the already counted restored rows again as "late"
 * (reads counted twice), while the restored rows the old cluster had not counted yet waited for the
 * counter to reach their foreign ids.
 */
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { eventToRow } from '../../../src/adapters/storage/rows.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { storedRead } from '../../helpers/events.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

const pgBackend = BACKENDS.find((b) => b.name === 'postgres')!;
const T = Date.parse('2026-05-04T08:00:00Z');
const SEC = 1000;
const win = [{ experiment: 'exp-f', phase: 1, fromTs: T, toTs: null, placement: 'read-next' }];
const read = storedRead;

describe.skipIf(!pgBackend.enabled)('rollups on a copy from another cluster: postgres', () => {
  let storage: OpenedStorage;
  let url: string;
  let cleanup: () => Promise<void>;
  let client: pg.Client;

  beforeAll(async () => {
    ({ storage, url, cleanup } = await openBackend(pgBackend));
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await cleanup?.();
  });

  const db = () => kyselyOf(storage);
  const reads = async () => {
    const rows = await db().selectFrom('exposures').select(['reader_id', 'reads']).orderBy('reader_id').execute();
    return Object.fromEntries(rows.map((r) => [r.reader_id, Number(r.reads)]));
  };
  const notices: string[] = [];
  /** Passes of `max` events up to `cutoff` until one catches up; the events they took. */
  const passes = async (cutoff: number, max: number) => {
    let events = 0;
    for (let i = 0; i < 100; i++) {
      const p = await storage.advanceRollups(win, cutoff, max);
      if (p.notice) notices.push(p.notice);
      events += p.events;
      if (p.caughtUp) return events;
    }
    throw new Error('the rollups did not catch up in 100 passes');
  };
  const xmax = async () => Number((await client.query('select pg_snapshot_xmax(pg_current_snapshot())::text::int8 as x')).rows[0].x);
  /** Stores events as a restore would: with the `xid` column of the old cluster. */
  const restore = async (rows: { id: string; reader: string; ts: number; xid: number }[]) => {
    for (const r of rows) {
      const row = { ...(eventToRow(read(r.id, r.reader, r.ts)) as unknown as Record<string, unknown>), xid: String(r.xid) };
      const cols = Object.keys(row);
      await client.query(
        `insert into events (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
    }
  };
  /** Burns transaction ids: the new cluster's counter climbs. */
  const burn = async (n: number) => {
    for (let i = 0; i < n; i++) await client.query('select pg_current_xact_id()');
  };

  it('counts every event once after the transaction ids went back, and says so once', async () => {
    await storage.appendExposures(
      ['f1', 'f2', 'f3'].map((r) => ({
        experiment: 'exp-f',
        phase: 1,
        arm: r === 'f2' ? 'b' : 'a',
        readerId: r,
        hashVersion: 2,
        exposedTs: T,
      })),
    );
    // In the old cluster: 6 reads counted (2 per reader).
    await storage.appendEvents(['f1', 'f2', 'f3'].flatMap((r) => [read(`old-${r}-1`, r, T + SEC), read(`old-${r}-2`, r, T + 2 * SEC)]));
    expect(await passes(T + 10 * SEC, 1000)).toBe(6);
    expect(await reads()).toEqual({ f1: 2, f2: 2, f3: 2 });

    // The copy: the old cluster's ids were ahead of this one's. Its counted rows carry ids from
    // c + 40 on (one under this cluster's counter too), its watermark is c + 100 with c + 60 still
    // running then; and the copy holds rows the old cluster had not counted: received before the
    // cursor but committed after its last pass (id c + 150, and c + 60: the one running), and
    // received after the cursor (c + 200).
    const c = await xmax();
    const counted = (await db().selectFrom('events').select('event_id').orderBy('event_id').execute()).map((r) => r.event_id);
    for (const [i, id] of counted.entries())
      await sql`update events set xid = ${String(i === 0 ? c - 2 : c + 40 + i)}::xid8 where event_id = ${id}`.execute(db());
    await sql`update rollup_state set watermark = ${`${c + 100}:${c + 60}`} where id = 1`.execute(db());
    await restore([
      { id: 'late-f1', reader: 'f1', ts: T + 3 * SEC, xid: c + 150 },
      { id: 'running-f2', reader: 'f2', ts: T + 4 * SEC, xid: c + 60 },
      { id: 'after-f3', reader: 'f3', ts: T + 12 * SEC, xid: c + 200 },
    ]);
    // In the new cluster: a transaction held open across the re-anchoring pass, with an event
    // received before the copied cursor (it is late, counted once after it commits), one more event,
    // then passes while the counter climbs past every copied id.
    const held = new pg.Client({ connectionString: url });
    await held.connect();
    await held.query('begin');
    const heldRow = eventToRow(read('held-f3', 'f3', T + 5 * SEC)) as unknown as Record<string, unknown>;
    await held.query(
      `insert into events (${Object.keys(heldRow).join(', ')}) values (${Object.keys(heldRow)
        .map((_, i) => `$${i + 1}`)
        .join(', ')})`,
      Object.values(heldRow),
    );
    await storage.appendEvents([read('new-f1', 'f1', T + 13 * SEC)]);
    expect(await passes(T + 20 * SEC, 1000)).toBe(4);
    expect(await reads()).toEqual({ f1: 4, f2: 3, f3: 3 });
    await held.query('commit');
    await held.end();
    expect(await passes(T + 20 * SEC, 1000)).toBe(1);
    expect(await reads()).toEqual({ f1: 4, f2: 3, f3: 4 });
    await burn(250);
    await storage.appendEvents([read('new-f2', 'f2', T + 21 * SEC)]);
    expect(await passes(T + 30 * SEC, 2)).toBe(1);
    expect(await reads()).toEqual({ f1: 4, f2: 4, f3: 4 });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/ahead of this cluster/);

    // The watermark is this cluster's again, and a recomputation from scratch gives the same sums.
    const [state] = (await sql<{ watermark: string }>`select watermark from rollup_state`.execute(db())).rows;
    expect(Number(state!.watermark.split(':')[0])).toBeLessThanOrEqual(await xmax());
    const sums = await storage.armSums('exp-f', 1);
    const measures = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'sessions', 'subscribed', 'revenue'];
    const zero = [...measures, ...measures.filter((m) => m !== 'sessions').map((m) => `pre_${m}`)].map((m) => `${m} = 0`).join(', ');
    await sql`update exposures set rolled = 0, ${sql.raw(zero)}`.execute(db());
    await sql`delete from exposure_session_ids`.execute(db());
    await sql`delete from reader_days`.execute(db());
    await sql`update rollup_state set cursor = 0, through_ts = 0, watermark = null`.execute(db());
    expect(await passes(T + 30 * SEC, 1_000_000)).toBe(12);
    expect(await storage.armSums('exp-f', 1)).toEqual(sums);
  });
});
