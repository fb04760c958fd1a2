/**
 * The Overview's KPIs (app/kpis.ts) on real databases (SQLite always, PostgreSQL when
 * READNEXT_TEST_PG is set): a hand-built log of 25 events (22 in the window) over three days,
 * every figure counted by hand in the comments. Revenue sums are compared within 1e-9 (floating
 * point); counts exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kpis, type KpiReport } from '../../src/app/kpis.js';
import type { StoredEvent } from '../../src/core/events/schema.js';
import { BACKENDS, openBackend } from '../helpers/databases.js';

const DAY = 86_400_000;
const S = Date.UTC(2026, 2, 1); // 2026-03-01
const D1 = S + 3_600_000;
const D2 = S + DAY + 3_600_000;

const base = (type: string, id: string, ts: number, reader: string, over: Record<string, unknown>): StoredEvent =>
  ({ type, eventId: id, readerId: reader, sessionId: `s-${reader}`, clientTs: ts, receivedTs: ts, ...over }) as StoredEvent;
const pv = (id: string, ts: number, reader: string) =>
  base('page_view', id, ts, reader, { articleId: 'a1', page: null, url: null, referrer: null });
const rd = (id: string, ts: number, reader: string, articleId: string) =>
  base('read', id, ts, reader, { articleId, dwellMs: 30_000, scroll: 0.9, recommId: null });
const imp = (id: string, ts: number, reader: string, recommId: string, placement: string, shadow = false) =>
  base('impression', id, ts, reader, {
    recommId,
    placement,
    articleId: 'a1',
    items: [{ articleId: 'a2', position: 1, team: null }],
    experiment: null,
    phase: null,
    arm: null,
    hashVersion: null,
    recommender: null,
    shadow,
  });
const clk = (id: string, ts: number, reader: string, recommId: string, placement: string) =>
  base('click', id, ts, reader, { recommId, articleId: 'a2', position: 1, placement });
const sub = (id: string, ts: number, reader: string, revenue: number, currency: string) =>
  base('subscribe', id, ts, reader, { plan: 'monthly', revenue, currency, articleId: null });

const EVENTS: StoredEvent[] = [
  // Day 1 (2026-03-01): readers r1, r2, r3.
  pv('pv1', D1, 'r1'),
  pv('pv2', D1 + 1, 'r1'),
  pv('pv3', D1 + 2, 'r2'),
  rd('rd1', D1 + 3, 'r1', 'a1'),
  rd('rd2', D1 + 4, 'r1', 'a2'),
  rd('rd3', D1 + 5, 'r2', 'a1'),
  imp('i1', D1 + 6, 'r3', 'rc-1', 'read-next'), // live, clicked (c1)
  imp('i2', D1 + 7, 'r1', 'rc-2', 'read-next'), // live, clicked the next day (c2): counts on day 1
  imp('i3', D1 + 8, 'r1', 'rc-3', 'read-next', true), // shadow: neither it nor its click (c3) counts
  imp('i4', D1 + 9, 'r2', 'rc-4', 'home'), // live, clicked (c4)
  clk('c1', D1 + 10, 'r3', 'rc-1', 'read-next'),
  clk('c3', D1 + 11, 'r1', 'rc-3', 'read-next'),
  clk('c4', D1 + 12, 'r2', 'rc-4', 'home'),
  sub('s1', D1 + 13, 'r1', 10, 'EUR'), // 10 EUR
  sub('s2', D1 + 14, 'r2', 5, 'USD'), // 5 USD × 0.9 = 4.5 EUR
  sub('s3', D1 + 15, 'r2', 3, 'GBP'), // no rate: apart
  // Day 2 (2026-03-02): readers r4 and r1 (c2).
  pv('pv4', D2, 'r4'),
  rd('rd4', D2 + 1, 'r4', 'a1'),
  rd('rd5', D2 + 2, 'r4', 'a3'),
  imp('i5', D2 + 3, 'r4', 'rc-5', 'read-next'), // live, no click
  clk('c2', D2 + 4, 'r1', 'rc-2', 'read-next'),
  sub('s4', D2 + 5, 'r4', 20, 'EUR'),
  // Day 3 (2026-03-03): nothing. Outside the window: the day before, and the window's end (excluded).
  rd('out1', S - 1, 'r9', 'a1'),
  pv('out2', S + 3 * DAY, 'r9'),
  sub('out3', S + 3 * DAY + 1, 'r9', 99, 'EUR'),
];

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`kpis on ${backend.name}`, () => {
    let db: Awaited<ReturnType<typeof openBackend>>;
    let r: KpiReport;
    beforeAll(async () => {
      db = await openBackend(backend);
      await db.storage.appendEvents(EVENTS);
      r = await kpis(db.storage, { sinceTs: S, untilTs: S + 3 * DAY, money: { currency: 'EUR', rates: { USD: 0.9 } } });
    });
    afterAll(async () => db?.cleanup());

    it('lists every day of the window, with the traffic counted by hand', () => {
      expect(r).toMatchObject({ since: '2026-03-01T00:00:00.000Z', until: '2026-03-04T00:00:00.000Z', currency: 'EUR' });
      expect(r.placements).toEqual(['home', 'read-next']);
      expect(r.days.map((d) => [d.day, d.pageViews, d.reads, d.readers, d.readingReaders, d.readsPerReader])).toEqual([
        ['2026-03-01', 3, 3, 3, 2, 1], // 3 reads / 3 readers
        ['2026-03-02', 1, 2, 2, 1, 1], // 2 reads / 2 readers (r4, and r1 by its click)
        ['2026-03-03', 0, 0, 0, 0, null],
      ]);
      expect(r.totals).toMatchObject({ pageViews: 4, reads: 5, readers: 5, readingReaders: 3, readsPerReader: 1 });
    });

    it('counts the CTR per placement over live impressions, dated by the impression', () => {
      expect(r.days[0]!.ctr).toEqual({
        'read-next': { impressions: 2, clicks: 2, ctr: 1 },
        home: { impressions: 1, clicks: 1, ctr: 1 },
      });
      expect(r.days[1]!.ctr).toEqual({ 'read-next': { impressions: 1, clicks: 0, ctr: 0 } });
      expect(r.days[2]!.ctr).toEqual({});
      expect(r.totals.ctr).toEqual({
        'read-next': { impressions: 3, clicks: 2, ctr: 2 / 3 },
        home: { impressions: 1, clicks: 1, ctr: 1 },
      });
    });

    it('adds revenue in EUR and converted USD; GBP, without a rate, apart and flagged', () => {
      expect(r.days.map((d) => d.subscriptions)).toEqual([3, 1, 0]);
      expect(r.days[0]!.revenue).toBeCloseTo(14.5, 9);
      expect(r.days[1]!.revenue).toBeCloseTo(20, 9);
      expect(r.days[2]!.revenue).toBe(0);
      expect(r.days[0]!.unpriced).toEqual([{ currency: 'GBP', events: 1, amount: 3 }]);
      expect(r.days[1]!.unpriced).toEqual([]);
      expect(r.totals.revenue).toBeCloseTo(34.5, 9);
      expect(r.totals.subscriptions).toBe(4);
      expect(r.totals.unpriced).toEqual([{ currency: 'GBP', events: 1, amount: 3 }]);
      expect(r.revenueWarning).toMatch(/GBP: 1 events.*READNEXT_FX_RATES \(GBP=<EUR per GBP>\)/);
    });

    it('refuses an empty window and one longer than 92 days', async () => {
      const money = { currency: 'EUR', rates: {} };
      await expect(kpis(db.storage, { sinceTs: S, untilTs: S, money })).rejects.toMatchObject({ code: 'invalid_field', field: 'until' });
      await expect(kpis(db.storage, { sinceTs: S - 93 * DAY, untilTs: S, money })).rejects.toMatchObject({
        code: 'invalid_field',
        field: 'since',
      });
      const ok = await kpis(db.storage, { sinceTs: S - 92 * DAY, untilTs: S, money });
      expect(ok.days).toHaveLength(92);
    });
  });
}
