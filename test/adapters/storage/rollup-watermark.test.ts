import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { eventToRow } from '../../../src/adapters/storage/rows.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { storedRead } from '../../helpers/events.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

/**
 * PostgreSQL's commit-safe rollup watermark (adapters/storage/rollups.ts): an event whose
 * transaction stays open while later events commit and passes move the receive-time cursor far
 * past it (the old 1-5 s lag) is counted exactly once, by the first pass after it commits.
 */
const pgBackend = BACKENDS.find((b) => b.name === 'postgres')!;
const T = Date.parse('2026-05-04T08:00:00Z');
const SEC = 1000;
const win = [{ experiment: 'exp-w', phase: 1, fromTs: T, toTs: null, placement: 'read-next' }];
const readers = ['w1', 'w2', 'w3'];

const read = storedRead;

describe.skipIf(!pgBackend.enabled)('rollup watermark: postgres', () => {
  let storage: OpenedStorage;
  let url: string;
  let cleanup: () => Promise<void>;
  const held: pg.Client[] = [];

  beforeAll(async () => {
    ({ storage, url, cleanup } = await openBackend(pgBackend));
    for (let i = 0; i < 2; i++) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      held.push(c);
    }
  });
  afterAll(async () => {
    for (const c of held) await c.end().catch(() => undefined);
    await cleanup?.();
  });

  const reads = async () => {
    const rows = await kyselyOf(storage).selectFrom('exposures').select(['reader_id', 'reads']).orderBy('reader_id').execute();
    return Object.fromEntries(rows.map((r) => [r.reader_id, Number(r.reads)]));
  };
  /** Passes of `max` events up to `cutoff` until one catches up; the events they took. */
  const passes = async (cutoff: number, max: number) => {
    let events = 0;
    for (let i = 0; i < 100; i++) {
      const p = await storage.advanceRollups(win, cutoff, max);
      events += p.events;
      if (p.caughtUp) return events;
    }
    throw new Error('the rollups did not catch up in 100 passes');
  };

  it('counts an event of a transaction held open past the lag exactly once, after it commits', async () => {
    await storage.appendExposures(
      readers.map((r) => ({ experiment: 'exp-w', phase: 1, arm: r === 'w2' ? 'b' : 'a', readerId: r, hashVersion: 2, exposedTs: T })),
    );
    await storage.appendEvents([read('w-0', 'w1', T + SEC)]);
    expect(await passes(T + 2 * SEC, 1000)).toBe(1);

    // Two transactions store 15 and 10 events received at T + 3 s and stay open.
    const store = async (c: pg.Client, events: StoredEvent[]) => {
      await c.query('begin');
      for (const e of events) {
        const row = eventToRow(e) as unknown as Record<string, unknown>;
        const cols = Object.keys(row);
        await c.query(`insert into events (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
      }
    };
    const late = Array.from({ length: 25 }, (_, i) => read(`w-late-${i}`, readers[i % 3]!, T + 3 * SEC));
    await store(held[0]!, late.slice(0, 15));
    await store(held[1]!, late.slice(15));
    // Meanwhile later events commit and passes run, the cursor going 2 minutes past the held events'
    // receive time: the later events are counted, the held ones wait.
    for (let k = 1; k <= 4; k++) {
      await storage.appendEvents(readers.map((r) => read(`w-${k}-${r}`, r, T + 3 * SEC + k * 10 * SEC)));
      await passes(T + 3 * SEC + k * 30 * SEC, 5);
    }
    expect(await reads()).toEqual({ w1: 1 + 4, w2: 4, w3: 4 });
    const cursor = async () =>
      Number((await sql<{ cursor: number }>`select cursor from rollup_state`.execute(kyselyOf(storage))).rows[0]!.cursor);
    expect(await cursor()).toBe(T + 3 * SEC + 120 * SEC);

    // They commit: the next pass takes their 25 events, once.
    for (const c of held) await c.query('commit');
    expect(await passes(T + 130 * SEC, 10)).toBe(25);
    expect(await reads()).toEqual({ w1: 5 + 9, w2: 4 + 8, w3: 4 + 8 });
    expect(await passes(T + 140 * SEC, 10)).toBe(0);

    // Transactions that begin after the cursor moved on, with events received long before it (a
    // collector that held them): about 10 late events a pass, a transaction's rows taken whole.
    for (let k = 0; k < 3; k++)
      await storage.appendEvents(
        readers
          .map((r, i) => read(`w-old-${k}-${i}`, r, T + 5 * SEC))
          .concat(Array.from({ length: 7 }, (_, i) => read(`w-old-${k}-w1-${i}`, 'w1', T + 5 * SEC))),
      );
    expect(await storage.advanceRollups(win, T + 150 * SEC, 10)).toMatchObject({ events: 10, caughtUp: false });
    expect(await storage.advanceRollups(win, T + 150 * SEC, 10)).toMatchObject({ events: 10, caughtUp: false });
    expect(await passes(T + 150 * SEC, 10)).toBe(10);
    expect(await reads()).toEqual({ w1: 14 + 3 * 8, w2: 12 + 3, w3: 12 + 3 });
    expect(await cursor()).toBe(T + 150 * SEC);
    const sums = await storage.armSums('exp-w', 1);

    // The same totals as a recomputation from scratch.
    const db = kyselyOf(storage);
    const measures = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'sessions', 'subscribed', 'revenue'];
    const zero = [...measures, ...measures.filter((m) => m !== 'sessions').map((m) => `pre_${m}`)].map((c) => `${c} = 0`).join(', ');
    await sql`update exposures set rolled = 0, ${sql.raw(zero)}`.execute(db);
    await sql`delete from exposure_session_ids`.execute(db);
    await sql`delete from reader_days`.execute(db);
    await sql`update rollup_state set cursor = 0, through_ts = 0, watermark = null`.execute(db);
    expect(await passes(T + 150 * SEC, 1_000_000)).toBe(1 + 25 + 12 + 30);
    expect(await storage.armSums('exp-w', 1)).toEqual(sums);
  });
});
