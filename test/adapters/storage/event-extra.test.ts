import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import { EXTRA_FIELDS, eventExtra, eventToRow, rowToEvent, sameEvent } from '../../../src/adapters/storage/rows.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { openStorage } from '../../../src/adapters/storage/open.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { BACKENDS } from '../../helpers/databases.js';

const T = Date.parse('2026-03-01T12:00:00Z');
const base = { readerId: 'r', sessionId: 's', clientTs: T, receivedTs: T + 7 };

/** One event of each shape, with every optional field both set and null. */
const EVENTS: StoredEvent[] = [
  { type: 'page_view', eventId: 'x-pv0', ...base, articleId: null, page: null, url: null, referrer: null },
  { type: 'page_view', eventId: 'x-pv1', ...base, articleId: 'a', page: '/world', url: 'https://n.example/a', referrer: 'https://t.co/' },
  {
    type: 'impression',
    eventId: 'x-im0',
    ...base,
    recommId: 'rc',
    placement: 'read-next',
    articleId: null,
    items: [{ articleId: 'b', position: 1, team: null }],
    experiment: null,
    phase: null,
    arm: null,
    hashVersion: null,
    recommender: null,
    shadow: false,
  },
  {
    type: 'impression',
    eventId: 'x-im1',
    ...base,
    recommId: 'rc',
    placement: 'home',
    articleId: 'a',
    items: [
      { articleId: 'b', position: 1, team: 'A' },
      { articleId: 'c', position: 2, team: null },
    ],
    experiment: 'e',
    phase: 0,
    arm: 'control',
    hashVersion: 1,
    recommender: { kind: 'co-read', version: '2' },
    shadow: true,
  },
  { type: 'click', eventId: 'x-cl0', ...base, recommId: 'rc', articleId: 'b', position: 1, placement: null },
  { type: 'click', eventId: 'x-cl1', ...base, recommId: 'rc', articleId: 'b', position: 3, placement: 'read-next' },
  { type: 'read', eventId: 'x-rd0', ...base, articleId: 'a', dwellMs: 0, scroll: 0, recommId: null },
  { type: 'read', eventId: 'x-rd1', ...base, articleId: 'a', dwellMs: 86_400_000, scroll: 1, recommId: 'rc' },
  { type: 'subscribe', eventId: 'x-su0', ...base, plan: 'monthly', revenue: 0, currency: 'EUR', articleId: null },
  { type: 'subscribe', eventId: 'x-su1', ...base, plan: 'annual', revenue: 99.99, currency: 'USD', articleId: 'a' },
];

describe('event rows: columns plus the extra JSON', () => {
  it('map every event shape to a row and back unchanged (same fields, same order)', () => {
    for (const e of EVENTS) {
      const back = rowToEvent(eventToRow(e));
      expect(back).toEqual(e);
      // The validator's order (type, ids, clientTs, the type's fields), then the receive time.
      const { receivedTs, ...rest } = e;
      expect(JSON.stringify(back)).toBe(JSON.stringify({ ...rest, receivedTs }));
    }
  });

  it('leave nulls, false and columns out of extra', () => {
    expect(eventExtra(EVENTS[0]!)).toBe('{}');
    expect(eventExtra(EVENTS[1]!)).toBe('{"page":"/world","url":"https://n.example/a","referrer":"https://t.co/"}');
    expect(eventExtra(EVENTS[2]!)).toBe('{"placement":"read-next","items":[{"articleId":"b","position":1}]}');
    expect(eventExtra(EVENTS[6]!)).toBe('{"scroll":0}');
  });

  it('write extra as the object-building form would, on random events of every type', () => {
    // The oracle: pick the type's fields that are set, drop null teams, JSON.stringify.
    const oracle = (e: StoredEvent): string => {
      const out: Record<string, unknown> = {};
      for (const f of EXTRA_FIELDS[e.type] as readonly string[]) {
        const v = (e as unknown as Record<string, unknown>)[f];
        if (v === null || v === false || v === undefined) continue;
        out[f] =
          f === 'items'
            ? (v as { articleId: string; position: number; team: string | null }[]).map((i) =>
                i.team === null ? { articleId: i.articleId, position: i.position } : i,
              )
            : v;
      }
      return JSON.stringify(out);
    };
    const rng = seededRng(20261130);
    const text = () => ['', 'a', 'é"\\\n\u2028', '🎉 x', 'https://n.example/?q="1"&a=<b>'][rng.int(5)]!;
    const maybe = <T>(v: T): T | null => (rng.next() < 0.4 ? null : v);
    for (let i = 0; i < 2000; i++) {
      const e: StoredEvent[] = [
        {
          type: 'page_view',
          eventId: `p${i}`,
          ...base,
          articleId: maybe('a'),
          page: maybe(text()),
          url: maybe(text()),
          referrer: maybe(text()),
        },
        {
          type: 'impression',
          eventId: `i${i}`,
          ...base,
          recommId: 'rc',
          placement: text() || 'p',
          articleId: maybe('a'),
          items: Array.from({ length: rng.int(4) }, (_, k) => ({ articleId: text() || 'x', position: k + 1, team: maybe(text()) })),
          experiment: maybe(text()),
          phase: maybe(rng.int(3)),
          arm: maybe(text()),
          hashVersion: maybe(rng.int(3)),
          recommender: maybe({ kind: text(), version: text() }),
          shadow: rng.next() < 0.5,
        },
        { type: 'click', eventId: `c${i}`, ...base, recommId: 'rc', articleId: 'b', position: 1 + rng.int(10), placement: maybe(text()) },
        { type: 'read', eventId: `r${i}`, ...base, articleId: 'a', dwellMs: rng.int(1e6), scroll: rng.next(), recommId: maybe('rc') },
        {
          type: 'subscribe',
          eventId: `s${i}`,
          ...base,
          plan: text() || 'p',
          revenue: rng.next() * 100,
          currency: 'EUR',
          articleId: maybe('a'),
        },
      ];
      for (const x of e) {
        expect(eventExtra(x)).toBe(oracle(x));
        expect(rowToEvent(eventToRow(x))).toEqual(x);
      }
    }
  });

  it('tell a replay (any receive time) from a changed payload', () => {
    const e = EVENTS[3]! as Extract<StoredEvent, { type: 'impression' }>;
    const row = eventToRow(e);
    expect(sameEvent(row, { ...e, receivedTs: T + 1e6 })).toBe(true);
    expect(sameEvent(row, { ...e, shadow: false })).toBe(false);
    expect(sameEvent(row, { ...e, items: [e.items[0]!, { ...e.items[1]!, team: 'B' }] })).toBe(false);
    // Key order of a caller's object does not matter.
    const { recommId, ...rest } = e;
    expect(sameEvent(row, { ...rest, recommId } as StoredEvent)).toBe(true);
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`migration 0006 (events: body -> extra): ${backend.name}`, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    beforeAll(async () => ({ url, cleanup } = await backend.create()));
    afterAll(async () => cleanup?.());

    it('rewrites events stored whole as JSON into columns plus extra, and reads them back unchanged', async () => {
      const old = await openStorage(url, { migrateTo: '0005_analysis_rollups', sqlite: { synchronous: 'NORMAL' } });
      for (const e of EVENTS) {
        const { receivedTs, ...body } = e;
        const r = eventToRow(e);
        // What 0001-0005 stored: the normalised event without its receive time, whole, in `body`.
        await sql`insert into events (event_id, type, reader_id, session_id, client_ts, received_ts, article_id, recomm_id, dwell_ms, revenue, body)
          values (${r.event_id}, ${r.type}, ${r.reader_id}, ${r.session_id}, ${r.client_ts}, ${receivedTs}, ${r.article_id}, ${r.recomm_id}, ${r.dwell_ms}, ${r.revenue}, ${JSON.stringify(body)})`.execute(
          kyselyOf(old),
        );
      }
      // Ids with SQL and JSON metacharacters, and more rows than one rewrite batch (5,000).
      const odd = [
        "x'); DROP TABLE events;--",
        'a"b\\c',
        'émoji 🎉',
        'line\nbreak',
        ...Array.from({ length: 5050 }, (_, i) => `bulk-${i}`),
      ];
      const oddEvents: StoredEvent[] = odd.map((id) => ({
        type: 'read',
        eventId: id,
        ...base,
        articleId: 'a',
        dwellMs: 5,
        scroll: 0.25,
        recommId: null,
      }));
      for (let i = 0; i < oddEvents.length; i += 500) {
        const rows = oddEvents.slice(i, i + 500).map((e) => {
          const { receivedTs, ...body } = e;
          return sql`(${e.eventId}, 'read', 'r', 's', ${e.clientTs}, ${receivedTs}, 'a', null, 5, null, ${JSON.stringify(body)})`;
        });
        await sql`insert into events (event_id, type, reader_id, session_id, client_ts, received_ts, article_id, recomm_id, dwell_ms, revenue, body) values ${sql.join(rows)}`.execute(
          kyselyOf(old),
        );
      }
      await old.close();
      const storage = await openStorage(url, { sqlite: { synchronous: 'NORMAL' } });
      try {
        expect(await storage.getEvents(odd.slice(0, 4))).toHaveLength(4);
        expect(new Map((await storage.getEvents(odd)).map((e) => [e.eventId, e]))).toEqual(new Map(oddEvents.map((e) => [e.eventId, e])));
        const left = await sql<{ n: number | string }>`select count(*) as n from events where extra like ${'{"type"%'}`.execute(
          kyselyOf(storage),
        );
        expect(Number(left.rows[0]!.n)).toBe(0); // no row left in the old format
        const back = await storage.getEvents(EVENTS.map((e) => e.eventId));
        expect(new Map(back.map((e) => [e.eventId, e]))).toEqual(new Map(EVENTS.map((e) => [e.eventId, e])));
        const extras = await kyselyOf(storage).selectFrom('events').select(['event_id', 'extra']).where('event_id', '=', 'x-rd1').execute();
        expect(extras).toEqual([{ event_id: 'x-rd1', extra: '{"scroll":1}' }]);
        // Replays of migrated events are still recognised.
        expect(await storage.appendEvents([EVENTS[3]!, { ...EVENTS[7]!, scroll: 0.5 } as StoredEvent])).toEqual(['duplicate', 'conflict']);
      } finally {
        await storage.close();
      }
    });
  });
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`migration 0007 (reader_days keyed by day): ${backend.name}`, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    beforeAll(async () => ({ url, cleanup } = await backend.create()));
    afterAll(async () => cleanup?.());

    it('keeps every reader day and its measures', async () => {
      const old = await openStorage(url, { migrateTo: '0006_event_extra', sqlite: { synchronous: 'NORMAL' } });
      const rows = [
        { reader_id: 'r1', day: 20000, impressions: 3, clicks: 1, reads: 2, dwell_ms: 9000, page_views: 4, subscribed: 0, revenue: 0 },
        { reader_id: 'r1', day: 20001, impressions: 0, clicks: 0, reads: 1, dwell_ms: 10, page_views: 1, subscribed: 1, revenue: 9.5 },
        { reader_id: 'r2', day: 20000, impressions: 1, clicks: 0, reads: 0, dwell_ms: 0, page_views: 1, subscribed: 0, revenue: 0 },
      ];
      await kyselyOf(old).insertInto('reader_days').values(rows).execute();
      await old.close();
      // Up to 0007 only: 0010 empties reader_days on purpose (the rollups are rebuilt under its rules).
      const storage = await openStorage(url, { migrateTo: '0007_reader_days_by_day', sqlite: { synchronous: 'NORMAL' } });
      try {
        const back = await kyselyOf(storage).selectFrom('reader_days').selectAll().orderBy('reader_id').orderBy('day').execute();
        expect(
          back.map((r) => ({
            ...r,
            day: Number(r.day),
            impressions: Number(r.impressions),
            clicks: Number(r.clicks),
            reads: Number(r.reads),
            dwell_ms: Number(r.dwell_ms),
            page_views: Number(r.page_views),
            subscribed: Number(r.subscribed),
            revenue: Number(r.revenue),
          })),
        ).toEqual(rows);
      } finally {
        await storage.close();
      }
    });
  });
}
