import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RollupWindow } from '../../../src/app/ports.js';
import type { ExposureRecord } from '../../../src/core/events/records.js';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { storedEvent } from '../../../src/core/simulate/synthetic.js';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { rollupFlow, type MergePolicy } from '../../../src/adapters/storage/rollups.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

const DAY = 86_400_000;
const T = Date.UTC(2026, 4, 4, 8);
const END = T + 4 * DAY;
const MONEY = { currency: 'EUR', rates: { USD: 0.9 } };
const WINDOWS: RollupWindow[] = [
  { experiment: 'exp-a', phase: 1, fromTs: T - 2 * DAY, toTs: null, placement: 'widget' },
  { experiment: 'exp-b', phase: 1, fromTs: T - 2 * DAY, toTs: T + DAY, placement: 'home' },
];

/**
 * A mixed workload: 40 readers, events over the 16 days before the exposures (pre-periods) and the
 * 3 days after, of every type; impressions and clicks at several placements; subscriptions in the
 * pass's currency, in one with a rate and in one without; each exposure's own page view a few
 * seconds before it (in the grace, same session and article, or both without an article), with
 * page views just outside the grace or of another article; a phase that ends (exp-b) and one
 * without a window (exp-c). In receive-time order.
 */
function workload(): { exposures: ExposureRecord[]; events: StoredEvent[] } {
  const rng = seededRng(20_261_206);
  const exposures: ExposureRecord[] = [];
  const events: StoredEvent[] = [];
  let n = 0;
  const common = (reader: string, session: string, ts: number) => ({
    eventId: `ev-${n++}`,
    readerId: reader,
    sessionId: session,
    clientTs: ts,
    receivedTs: ts,
  });
  const pageView = (reader: string, session: string, ts: number, articleId: string | null): StoredEvent =>
    storedEvent.pageView(common(reader, session, ts), { articleId });
  const expose = (experiment: string, r: number, exposedTs: number) => {
    const readerId = `r${r}`;
    const sessionId = `s-${r}-x`;
    const articleId = r % 3 === 0 ? null : `a${r % 5}`;
    exposures.push({ experiment, phase: 1, arm: r % 2 ? 'a' : 'b', readerId, hashVersion: 2, exposedTs, sessionId, articleId });
    events.push(pageView(readerId, sessionId, exposedTs - 2000, articleId));
    events.push(pageView(readerId, sessionId, exposedTs - 6000, articleId));
    events.push(pageView(readerId, sessionId, exposedTs - 1000, 'other'));
  };
  for (let r = 0; r < 30; r++) expose('exp-a', r, T + rng.int(2 * DAY));
  for (let r = 20; r < 35; r++) expose('exp-b', r, T - DAY + rng.int(DAY));
  expose('exp-c', 36, T + rng.int(DAY));
  for (let i = 0; i < 1500; i++) {
    const r = rng.int(40);
    const reader = `r${r}`;
    const session = `s-${r}-${rng.int(6)}`;
    const ts = T - 16 * DAY + rng.int(19 * DAY);
    const c = common(reader, session, ts);
    const k = rng.int(100);
    if (k < 30) events.push(pageView(reader, session, ts, rng.int(4) ? `a${rng.int(8)}` : null));
    else if (k < 55)
      events.push(
        storedEvent.impression(c, {
          recommId: `rc-${i}`,
          placement: rng.pick(['widget', 'home', 'other']),
          articleId: null,
          items: [{ articleId: 'a1', position: 0, team: null }],
        }),
      );
    else if (k < 65)
      events.push({
        ...c,
        type: 'click',
        recommId: `rc-${i}`,
        articleId: 'a1',
        position: 0,
        placement: rng.pick(['widget', null, 'home']),
      });
    else if (k < 93)
      events.push({ ...c, type: 'read', articleId: `a${rng.int(8)}`, dwellMs: rng.int(60_000), scroll: 0.5, recommId: null });
    else
      events.push({
        ...c,
        type: 'subscribe',
        plan: 'p',
        revenue: rng.int(2000) / 100,
        currency: rng.pick(['EUR', 'USD', 'JPY']),
        articleId: null,
      });
  }
  events.sort((a, b) => a.receivedTs - b.receivedTs);
  return { exposures, events };
}

/** The rolled-up tables, sorted, revenue rounded (sums in another order may differ in the last bits). */
async function tables(storage: OpenedStorage) {
  const db = kyselyOf(storage);
  const round = (r: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'string' ? roundOf(k, v) : v]));
  const roundOf = (k: string, v: number | string) =>
    /revenue|amount/.test(k)
      ? Math.round(Number(v) * 1e6) / 1e6
      : /^(experiment|reader_id|session_id|currency|arm)$/.test(k)
        ? v
        : Number(v);
  const q = async (text: string) => (await sql.raw<Record<string, unknown>>(text).execute(db)).rows.map(round);
  const sums =
    'impressions, clicks, reads, dwell_ms, page_views, sessions, subscribed, revenue, pre_impressions, pre_clicks, pre_reads, pre_dwell_ms, pre_page_views, pre_subscribed, pre_revenue';
  return {
    exposures: await q(`select experiment, phase, reader_id, rolled, ${sums} from exposures order by experiment, phase, reader_id`),
    // By the exposure's id (migrations 0021 and 0024).
    sessions: await q(
      'select e.experiment, e.phase, e.reader_id, s.session_id from exposure_session_ids s join exposures e on e.id = s.exposure_id order by 1, 2, 3, 4',
    ),
    unpriced: await q(
      'select experiment, phase, reader_id, currency, events, amount from exposure_unpriced order by experiment, phase, reader_id, currency',
    ),
    days: await q(
      'select day, reader_id, impressions, clicks, reads, dwell_ms, page_views, subscribed, revenue from reader_days order by day, reader_id',
    ),
  };
}

/** Everything stored first, then one pass. */
async function onePass(storage: OpenedStorage, w: ReturnType<typeof workload>) {
  await storage.appendExposures(w.exposures);
  for (let i = 0; i < w.events.length; i += 500) await storage.appendEvents(w.events.slice(i, i + 500));
  const p = await storage.advanceRollups(WINDOWS, END, 1_000_000, MONEY);
  expect(p).toMatchObject({ events: w.events.length, caughtUp: true });
}

/**
 * The events stored 40 at a time, each exposure only once the events up to a minute after it were
 * stored (so some of its reader's events were rolled up before it: step 1), `roll` after each 40
 * (it returns the events it rolled up); the exposures left are stored at the end.
 */
async function inChunks(storage: OpenedStorage, w: ReturnType<typeof workload>, roll: () => Promise<number>): Promise<number> {
  const pending = [...w.exposures].sort((a, b) => a.exposedTs - b.exposedTs);
  let events = 0;
  for (let i = 0; i < w.events.length; i += 40) {
    const chunk = w.events.slice(i, i + 40);
    const upTo = chunk[0]!.receivedTs - 60_000;
    const ready: ExposureRecord[] = [];
    while (pending.length > 0 && pending[0]!.exposedTs <= upTo) ready.push(pending.shift()!);
    if (ready.length > 0) await storage.appendExposures(ready);
    await storage.appendEvents(chunk);
    events += await roll();
  }
  if (pending.length > 0) await storage.appendExposures(pending);
  return events;
}

/** inChunks with passes of 7 events until caught up. */
async function smallPasses(storage: OpenedStorage, w: ReturnType<typeof workload>) {
  let events = await inChunks(storage, w, async () => {
    let n = 0;
    for (;;) {
      const p = await storage.advanceRollups(WINDOWS, END, 7, MONEY);
      n += p.events;
      if (p.caughtUp) return n;
    }
  });
  events += (await storage.advanceRollups(WINDOWS, END, 7, MONEY)).events;
  expect(events).toBe(w.events.length);
}

/** A SQLite rollup pass with its own merge policy, driven statement by statement in one transaction (as bench/rollup-throughput.ts does). */
async function sqlitePass(storage: OpenedStorage, maxEvents: number, merge: MergePolicy) {
  const db = kyselyOf(storage);
  return db.transaction().execute(async (trx) => {
    const flow = rollupFlow(db, 'sqlite', WINDOWS, END, maxEvents, MONEY, merge);
    let step = flow.next([]);
    while (!step.done) step = flow.next((await trx.executeQuery<Record<string, unknown>>(step.value)).rows);
    return step.value;
  });
}

const count = async (storage: OpenedStorage, table: string) =>
  Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(kyselyOf(storage))).rows[0]!.n);

/** Every number rounded to 1e-6 (sums taken in another order differ in the last bits). */
const rounded = (x: unknown): unknown =>
  JSON.parse(JSON.stringify(x, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v)));

/**
 * As smallPasses, with SQLite's deltas kept across chains (merged by `kept`, never at a chain's
 * end), so exposures are claimed, sessions probed and reports read while deltas wait. Returns what
 * it saw: how often a pass found deltas waiting and merged, and the reports read with deltas (and,
 * once, a merge in progress) next to the same reports read after more merging and no new event.
 */
async function keptDeltas(storage: OpenedStorage, w: ReturnType<typeof workload>, kept: MergePolicy) {
  const db = kyselyOf(storage);
  const reports = async () => rounded([await storage.armSums('exp-a', 1), await storage.armSums('exp-b', 1, { revenueCap: 20 })]);
  const mergeAt = async () => (await sql<{ m: number | null }>`select merge_rid as m from rollup_state`.execute(db)).rows[0]!.m;
  const midMerge: { before: unknown; after: unknown }[] = [];
  let waiting = 0;
  let merged = 0;
  let events = await inChunks(storage, w, async () => {
    let n = 0;
    for (;;) {
      if ((await count(storage, 'exposure_deltas')) + (await count(storage, 'reader_day_deltas')) > 0) waiting++;
      const p = await sqlitePass(storage, 7, kept);
      if (p.compacted) merged++;
      n += p.events;
      // Once, with a merge half done: the reports then, and once a pass that takes no event has ended it.
      if (midMerge.length === 0 && (await mergeAt()) !== null) {
        const before = await reports();
        const end = await sqlitePass(storage, 0, { share: 0, minRows: 1, caughtUp: false, wholeRows: 1e9, chunkIds: 1e9, chunkRows: 1e9 });
        expect(end).toMatchObject({ events: 0, compacted: true });
        expect(await mergeAt()).toBeNull();
        midMerge.push({ before, after: await reports() });
      }
      if (p.caughtUp) return n;
    }
  });
  events += (await sqlitePass(storage, 7, kept)).events;
  expect(events).toBe(w.events.length);
  const deltas = { exposures: await count(storage, 'exposure_deltas'), sessions: await count(storage, 'exposure_session_deltas') };
  const beforeMerge = await reports();
  // Passes with nothing to roll up, caught up, merging at a chain's end as the server does (in
  // parts when there are many rows): the chain goes on while they say more is left to merge.
  let tail = 0;
  for (;;) {
    const p = await sqlitePass(storage, 7, { ...kept, caughtUp: true });
    expect(p).toMatchObject({ events: 0, caughtUp: true });
    tail++;
    if (!p.moreToMerge) break;
  }
  const left =
    (await count(storage, 'exposure_deltas')) +
    (await count(storage, 'exposure_session_deltas')) +
    (await count(storage, 'reader_day_deltas'));
  return { waiting, merged, deltas, beforeMerge, afterMerge: await reports(), midMerge, left, tail };
}

describe('rollups: the same tables however the events are batched, on SQLite and PostgreSQL', () => {
  const w = workload();
  const opened: { storage: OpenedStorage; cleanup(): Promise<void> }[] = [];
  const open = async (name: 'sqlite' | 'postgres') => {
    const o = await openBackend(BACKENDS.find((b) => b.name === name)!);
    opened.push(o);
    return o.storage;
  };
  let one: Awaited<ReturnType<typeof tables>>;
  /** After keptDeltas: no delta left, the reports the same before and after the last merge, the tables those of one pass. */
  const expectMergedAsOne = async (s: OpenedStorage, seen: Awaited<ReturnType<typeof keptDeltas>>) => {
    expect(seen.left).toBe(0);
    expect(seen.beforeMerge).toEqual(seen.afterMerge);
    expect(await tables(s)).toEqual(one);
  };
  beforeAll(async () => {
    const s = await open('sqlite');
    await onePass(s, w);
    one = await tables(s);
  });
  afterAll(async () => {
    for (const o of opened) await o.cleanup();
  });

  it('covers the workload: pre-periods, grace page views, unpriced revenue, an ended phase', () => {
    const total = (k: string) => one.exposures.reduce((s, r) => s + Number(r[k]), 0);
    expect(one.exposures.filter((r) => r.experiment === 'exp-c' || r.rolled !== 1).map((r) => [r.experiment, r.rolled])).toEqual([
      ['exp-c', 1],
    ]);
    for (const k of [
      'impressions',
      'clicks',
      'reads',
      'page_views',
      'sessions',
      'subscribed',
      'revenue',
      'pre_reads',
      'pre_page_views',
      'pre_revenue',
    ])
      expect(total(k), k).toBeGreaterThan(0);
    expect(one.sessions.length).toBeGreaterThan(30);
    expect(one.unpriced.map((r) => r.currency)).toContain('JPY');
    // exp-c's phase has no window: no post and no pre-period sums, though its reader read before and after the exposure.
    const c = one.exposures.find((r) => r.experiment === 'exp-c')!;
    expect(c).toMatchObject({ reads: 0, page_views: 0, sessions: 0, pre_reads: 0, pre_page_views: 0, pre_revenue: 0 });
    const exposedTs = w.exposures.find((x) => x.experiment === 'exp-c')!.exposedTs;
    const readsOfC = w.events.filter((e) => e.readerId === c.reader_id && e.type === 'read');
    expect(readsOfC.filter((e) => e.receivedTs < exposedTs - DAY && e.receivedTs > exposedTs - 13 * DAY).length).toBeGreaterThan(0);
    expect(readsOfC.filter((e) => e.receivedTs > exposedTs).length).toBeGreaterThan(0);
  });

  it('gives the same tables with passes of 7 events and exposures stored after their events', async () => {
    const s = await open('sqlite');
    await smallPasses(s, w);
    expect(await tables(s)).toEqual(one);
  });

  it('gives the same tables and reports with SQLite deltas kept across chains and merged whole now and then', async () => {
    const s = await open('sqlite');
    // 100 rows: deltas that span days, so that new exposures' pre-periods reach them.
    const seen = await keptDeltas(s, w, { share: 0, minRows: 100, caughtUp: false, wholeRows: 1e9, chunkIds: 1e9, chunkRows: 1e9 });
    expect(seen.merged).toBeGreaterThan(10);
    expect(seen.waiting).toBeGreaterThan(100);
    expect(seen.deltas.exposures).toBeGreaterThan(0);
    expect(seen.deltas.sessions).toBeGreaterThan(0);
    await expectMergedAsOne(s, seen);
  });

  it('gives the same tables and reports with SQLite merges run over several passes, 7 exposure ids or 11 rows of a day each', async () => {
    const s = await open('sqlite');
    const seen = await keptDeltas(s, w, { share: 0, minRows: 30, caughtUp: false, wholeRows: 5, chunkIds: 7, chunkRows: 11 });
    expect(seen.merged).toBeGreaterThan(20);
    // The end's merge took several passes (7 ids, or 11 rows of a day, each).
    expect(seen.tail).toBeGreaterThan(2);
    expect(seen.midMerge).toHaveLength(1);
    expect(seen.midMerge[0]!.before).toEqual(seen.midMerge[0]!.after);
    await expectMergedAsOne(s, seen);
  });

  it('merges the days in parts even when the earliest day came last (events imported late, SQLite)', async () => {
    const s = await open('sqlite');
    const day = (d: number, i: number) =>
      storedEvent.pageView(
        { eventId: `late-${d}-${i}`, readerId: `q${i % 9}`, sessionId: 'x', clientTs: 0, receivedTs: T + d * DAY + i * 1000 },
        { articleId: null },
      );
    // 40 page views of day 1, then 40 of day 0 stored after them: the earliest day's rows are not at the deltas' start.
    await s.appendEvents(Array.from({ length: 40 }, (_, i) => day(1, i)));
    await s.appendEvents(Array.from({ length: 40 }, (_, i) => day(0, i)));
    const keep: MergePolicy = { share: 0, minRows: 1e9, caughtUp: false, wholeRows: 0, chunkIds: 1e9, chunkRows: 1e9 };
    for (;;) if ((await sqlitePass(s, 100, keep)).caughtUp) break;
    expect(await count(s, 'reader_day_deltas')).toBe(80);
    // Parts of 10 rows: each merges the earliest day among its rows; the chain ends, every row merged.
    let passes = 0;
    for (;;) {
      const p = await sqlitePass(s, 100, { ...keep, caughtUp: true, chunkRows: 10 });
      passes++;
      if (!p.moreToMerge) break;
      expect(passes).toBeLessThan(20);
    }
    expect(await count(s, 'reader_day_deltas')).toBe(0);
    const days = await sql<{ day: number; n: number }>`select day, sum(page_views) as n from reader_days group by day order by day`.execute(
      kyselyOf(s),
    );
    expect(days.rows.map((r) => [Number(r.day) - Math.floor(T / DAY), Number(r.n)])).toEqual([
      [0, 40],
      [1, 40],
    ]);
  });

  it('forgets a reader in the deltas too (SQLite)', async () => {
    const s = await open('sqlite');
    await s.appendExposures(w.exposures);
    await s.appendEvents(w.events);
    // Passes that keep their deltas: the reader's sums, sessions and days wait in them.
    for (;;)
      if ((await sqlitePass(s, 100, { share: 0, minRows: 1e9, caughtUp: false, wholeRows: 0, chunkIds: 1e9, chunkRows: 1e9 })).caughtUp)
        break;
    const db = kyselyOf(s);
    const of = async () =>
      (
        await sql<Record<string, number>>`select
        (select count(*) from exposure_deltas d join exposures e on e.id = d.rid where e.reader_id = 'r3') as e,
        (select count(*) from exposure_session_deltas d join exposures e on e.id = d.rid where e.reader_id = 'r3') as s,
        (select count(*) from reader_day_deltas where reader_id = 'r3') as d,
        (select count(*) from reader_day_deltas where reader_id <> 'r3') as others`.execute(db)
      ).rows[0]!;
    const before = await of();
    expect(before.e).toBeGreaterThan(0);
    expect(before.s).toBeGreaterThan(0);
    expect(before.d).toBeGreaterThan(0);
    await s.forgetReader('r3', 'hash-r3', END);
    // No exposure row is left to join: the deltas are looked for by the ids the reader had.
    expect(await of()).toMatchObject({ d: 0, others: before.others });
    const ids = (
      await sql<{ n: number }>`select count(*) as n from exposure_deltas where rid not in (select id from exposures)`.execute(db)
    ).rows[0]!.n;
    expect(ids).toBe(0);
    expect(
      (await sql<{ n: number }>`select count(*) as n from exposure_session_deltas where rid not in (select id from exposures)`.execute(db))
        .rows[0]!.n,
    ).toBe(0);
  });

  it.skipIf(!BACKENDS.find((b) => b.name === 'postgres')!.enabled)('gives the same tables on PostgreSQL (its own statements)', async () => {
    const s = await open('postgres');
    await onePass(s, w);
    expect(await tables(s)).toEqual(one);
  });
});
