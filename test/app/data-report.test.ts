/**
 * The data report on real databases (SQLite always, PostgreSQL when READNEXT_TEST_PG is set):
 * exact quality counts on a small hand-built log, and the stability checks on a synthetic 14-day
 * log whose one section's CTR halves from day 8, against the same log without the shift.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/app/collector.js';
import {
  ACTIVITY_BINS,
  CTR_ALPHA,
  CTR_REFERENCE_DAYS,
  dataReport,
  MIX_PSI_ALERT,
  stabilityChecks,
  type DataReport,
  type DayFigures,
} from '../../src/app/data-report.js';
import { trainModel } from '../../src/app/training.js';
import type { OpenedStorage } from '../../src/adapters/storage/open.js';
import type { ServeRecord } from '../../src/core/events/records.js';
import type { StoredEvent } from '../../src/core/events/schema.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { seededRng, type Rng } from '../../src/core/kernel/rng.js';
import { syntheticArticle } from '../../src/core/simulate/synthetic.js';
import { BACKENDS, openBackend } from '../helpers/databases.js';
import { click, read } from '../helpers/events.js';

const DAY = 86_400_000;
const S = Date.UTC(2026, 2, 1);

const base = (type: string, id: string, ts: number, over: Record<string, unknown>): StoredEvent =>
  ({ type, eventId: id, readerId: 'r1', sessionId: 's1', clientTs: ts, receivedTs: ts, ...over }) as StoredEvent;
const imp = (id: string, ts: number, recommId: string, items: string[], over: Record<string, unknown> = {}) =>
  base('impression', id, ts, {
    recommId,
    placement: 'read-next',
    articleId: null,
    items: items.map((articleId, i) => ({ articleId, position: i + 1, team: null })),
    experiment: null,
    phase: null,
    arm: null,
    hashVersion: null,
    recommender: null,
    shadow: false,
    ...over,
  });
const clk = (id: string, ts: number, recommId: string, articleId: string, over: Record<string, unknown> = {}) =>
  base('click', id, ts, { recommId, articleId, position: 1, placement: 'read-next', ...over });
const rd = (id: string, ts: number, articleId: string, over: Record<string, unknown> = {}) =>
  base('read', id, ts, { articleId, dwellMs: 30_000, scroll: 0.9, recommId: null, ...over });
const serve = (recommId: string, ts: number): ServeRecord => ({
  recommId,
  placement: 'read-next',
  experiment: null,
  phase: null,
  arm: null,
  hashVersion: null,
  recommenderKind: 'latest',
  recommenderVersion: '1',
  shadow: false,
  readerId: 'r1',
  sessionId: 's1',
  articleId: null,
  latencyMs: 1,
  fallback: false,
  fault: false,
  slate: [],
  servedTs: ts,
});

/**
 * 14 days from S, after a day 0 that only warms the feature replay (as a live database has events
 * before any window): each day 10 new articles per section (world, sport) and `impressions` live
 * one-item impressions of read-next, half of each section; a click follows with probability 0.10
 * (0.05 for sport from day `shiftDay`, 1-based); 2,000 reads a day by 800 readers, half per section.
 */
function syntheticLog(rng: Rng, o: { impressions: number; shiftDay?: number }) {
  const articles = [];
  const events: StoredEvent[] = [];
  let n = 0;
  for (let d = 0; d <= 14; d++) {
    const day0 = S + (d - 1) * DAY;
    for (const sec of ['world', 'sport']) for (let i = 0; i < 10; i++) articles.push(syntheticArticle(`${sec}-${d}-${i}`, sec, day0));
    for (let i = 0; i < o.impressions; i++) {
      const ts = day0 + 60_000 + Math.floor((i * (DAY - 120_000)) / o.impressions);
      const sec = rng.next() < 0.5 ? 'world' : 'sport';
      const a = `${sec}-${d}-${rng.int(10)}`;
      const reader = `r${rng.int(2000)}`;
      const recomm = `rc-${++n}`;
      events.push(imp(`i-${n}`, ts, recomm, [a], { readerId: reader }));
      const ctr = sec === 'sport' && o.shiftDay !== undefined && d >= o.shiftDay ? 0.05 : 0.1;
      if (rng.next() < ctr) events.push(clk(`c-${n}`, ts + 5000, recomm, a, { readerId: reader }));
    }
    for (let i = 0; i < 2000; i++) {
      const ts = day0 + 30_000 + Math.floor((i * (DAY - 60_000)) / 2000);
      const sec = rng.next() < 0.5 ? 'world' : 'sport';
      events.push(rd(`r-${d}-${i}`, ts, `${sec}-${d}-${rng.int(10)}`, { readerId: `u${rng.int(800)}` }));
    }
  }
  events.sort((a, b) => a.clientTs - b.clientTs);
  return { articles, events };
}

async function load(s: OpenedStorage, log: ReturnType<typeof syntheticLog>) {
  await s.upsertArticles(log.articles, S);
  for (let i = 0; i < log.events.length; i += 5000) await s.appendEvents(log.events.slice(i, i + 5000));
}

const deps = (s: OpenedStorage) => ({ store: s, models: s, articles: s });

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`dataReport on ${backend.name}`, () => {
    describe('quality', () => {
      let db: Awaited<ReturnType<typeof openBackend>>;
      let report: DataReport;
      const T = S + 2 * DAY + 3_600_000;
      beforeAll(async () => {
        db = await openBackend(backend);
        const s = db.storage;
        await s.upsertArticles(
          [
            { ...syntheticArticle('a1', 'world', S), lead: 'A lead' },
            syntheticArticle('a2', null, S),
            { ...syntheticArticle('a3', 'sport', S), body: 'Body text' },
          ],
          S,
        );
        await s.appendServes([serve('rc-1', T - 1000)]);
        await s.appendEvents([
          imp('e1', T, 'rc-1', ['a1', 'a3']), // served
          imp('e2', T + 10, 'rc-2', ['a1']), // no serve
          clk('e3', T + 20, 'rc-1', 'a1'), // has its impression
          clk('e4', T + 30, 'rc-9', 'a3'), // no impression
          rd('e5', T + 40, 'zz', { receivedTs: T + 5040 }), // unknown article, 5 s skew
          rd('e6', T + 50, 'a2'),
          rd('e7', T + 50, 'a2'), // same content as e6 under another id
          rd('e8', T - 3 * DAY, 'a1'), // outside the window
        ]);
        // The collector counts what it does not store under the UTC day of receipt.
        const collector = new Collector(s, fixedClock(T), { maxPastMs: 30 * DAY, maxFutureMs: DAY });
        const dup = read(T, { eventId: 'dup-1' });
        const r1 = await collector.ingest([dup, dup, read(T, { dwellMs: -1 }), { type: 'nope' }], false);
        expect([r1.accepted, r1.duplicates, r1.rejected]).toEqual([1, 1, 2]);
        const r2 = await collector.ingest([{ ...dup, articleId: 'other' }, click(T, { eventId: 'c-bad', position: 'x' })], false);
        expect([r2.conflicts, r2.rejected]).toEqual([1, 1]);
        await collector.close();
        report = await dataReport(deps(s), { sinceTs: S + 2 * DAY, untilTs: S + 3 * DAY, now: T + DAY });
      });
      afterAll(() => db?.cleanup());

      it('counts rejections by reason and day, duplicates and conflicts apart', () => {
        expect(report.quality.rejections.byReason).toEqual({ invalid_field: 2, unknown_type: 1 });
        expect(report.quality.rejections.total).toBe(3);
        expect(report.quality.rejections.byDay).toEqual([
          { day: '2026-03-03', reason: 'invalid_field', count: 2 },
          { day: '2026-03-03', reason: 'unknown_type', count: 1 },
        ]);
        expect([report.quality.duplicates, report.quality.conflicts]).toEqual([1, 1]);
      });

      it('counts unknown articles, orphan impressions and clicks, repeats, skew and catalog gaps', () => {
        const q = report.quality;
        // e1..e7 and the collector's dup-1 read (a2 in helpers' read) are in the window.
        expect(q.events).toBe(8);
        expect(q.byType).toEqual({ impression: 2, click: 2, read: 4 });
        expect(q.unknownArticles).toEqual({ events: 1, withArticle: 6, share: 1 / 6 });
        expect(q.impressionsWithoutServe).toEqual({ count: 1, impressions: 2, share: 0.5 });
        expect(q.clicksWithoutImpression).toEqual({ count: 1, clicks: 2, share: 0.5 });
        expect(q.sameContentRepeats).toBe(1);
        // Skews: seven at 0, one at 5,000 ms → median (rank 4 of 8) 0, p99 (rank 8) 5,000.
        expect(q.clockSkewMs).toEqual({ events: 8, median: 0, p99: 5000 });
        expect(q.bots).toMatchObject({ filtered: 0, filteredShare: 0 });
        expect(q.catalog).toEqual({ articles: 3, withoutText: 1, withoutSection: 1 });
        expect(report.signal).toBeNull();
      });

      it('counts the CTR per section of the shown items, clicks by the clicked article', async () => {
        // e1 shows a1 (world) and a3 (sport), e2 shows a1; e3 clicks a1 under e1's recommId; e4's recommId has no impression.
        expect(await db.storage.dailySectionCtr(S + 2 * DAY, S + 3 * DAY)).toEqual([
          { day: (S + 2 * DAY) / DAY, placement: 'read-next', section: 'sport', impressions: 1, clicks: 0 },
          { day: (S + 2 * DAY) / DAY, placement: 'read-next', section: 'world', impressions: 2, clicks: 1 },
        ]);
      });

      it('refuses an empty or too long window', async () => {
        await expect(dataReport(deps(db.storage), { sinceTs: S, untilTs: S, now: S })).rejects.toMatchObject({ code: 'invalid_field' });
        await expect(dataReport(deps(db.storage), { sinceTs: S, untilTs: S + 100 * DAY, now: S })).rejects.toMatchObject({
          code: 'invalid_field',
        });
      });
    });

    describe('stability', () => {
      let shifted: Awaited<ReturnType<typeof openBackend>>;
      let stable: Awaited<ReturnType<typeof openBackend>>;
      let withShift: DataReport;
      let without: DataReport;
      beforeAll(async () => {
        [shifted, stable] = [await openBackend(backend), await openBackend(backend)];
        await load(shifted.storage, syntheticLog(seededRng(11), { impressions: 8000, shiftDay: 8 }));
        await load(stable.storage, syntheticLog(seededRng(11), { impressions: 8000 }));
        // A model of the first week, stored with an offline AUC far above what it can reach: the decay check must fire.
        const m = await trainModel(
          { models: shifted.storage, articles: shifted.storage, clock: fixedClock(S + 7 * DAY), timer: () => 0 },
          { placement: 'read-next', sinceTs: S, untilTs: S + 7 * DAY, seed: 1, gbdt: { rounds: 10 }, earlyStopping: 'off' },
        );
        const { version: _v, ...rest } = m;
        await shifted.storage.putModel({ ...rest, metrics: { ...rest.metrics, auc: 0.99 } });
        const window = { sinceTs: S, untilTs: S + 14 * DAY, now: S + 14 * DAY, placement: 'read-next' };
        withShift = await dataReport(deps(shifted.storage), window);
        without = await dataReport(deps(stable.storage), window);
      }, 240_000);
      afterAll(async () => {
        await shifted?.cleanup();
        await stable?.cleanup();
      });

      it('has one entry per day with the CTR, the section mix and the activity', () => {
        expect(withShift.stability.days).toHaveLength(14);
        const d1 = withShift.stability.days[0]!;
        expect(d1.day).toBe('2026-03-01');
        expect(d1.ctr['read-next']!.impressions).toBe(8000);
        expect(d1.ctr['read-next']!.ctr!).toBeGreaterThan(0.09);
        expect(d1.reads).toBe(2000);
        expect(Object.keys(d1.sections).sort()).toEqual(['sport', 'world']);
        // Day 8: sport's CTR halves, so the placement's falls from 0.10 to about 0.075.
        expect(withShift.stability.days[7]!.ctr['read-next']!.ctr!).toBeLessThan(0.085);
      });

      it('alerts on the CTR on day 8, the day of the shift, and on no other day', () => {
        const ctr = withShift.alerts.filter((a) => a.check === 'ctr');
        expect(ctr.map((a) => a.day)).toEqual(['2026-03-08']);
        expect(ctr[0]).toMatchObject({ subject: 'read-next', figure: 'p', threshold: CTR_ALPHA });
        expect(ctr[0]!.value).toBeLessThan(CTR_ALPHA);
      });

      it('alerts on the section CTR of sport on day 8 and on no other section or day', () => {
        const d1 = withShift.stability.days[0]!.sectionCtr['read-next']!;
        expect(d1.sport!.impressions + d1.world!.impressions).toBe(8000);
        expect(d1.sport!.clicks + d1.world!.clicks).toBe(withShift.stability.days[0]!.ctr['read-next']!.clicks);
        const alerts = withShift.alerts.filter((a) => a.check === 'section_ctr');
        expect(alerts.map((a) => [a.day, a.subject, a.section])).toEqual([['2026-03-08', 'read-next', 'sport']]);
        // Two sections compared each day: Bonferroni halves CTR_ALPHA.
        expect(alerts[0]!.threshold).toBe(CTR_ALPHA / 2);
        const cmp = withShift.stability.comparisons.filter((c) => c.check === 'section_ctr');
        expect(cmp).toHaveLength(2 * 13);
        // After the alert, sport's reference restarts on day 8: day 9 compares with day 8 alone.
        expect(cmp.find((c) => c.day === '2026-03-09' && c.section === 'sport')!.referenceFrom).toBe('2026-03-08');
        expect(cmp.find((c) => c.day === '2026-03-09' && c.section === 'world')!.referenceFrom).toBe('2026-03-02');
        expect(without.alerts.filter((a) => a.check === 'section_ctr')).toEqual([]);
      });

      it('raises no day-to-day alert on the log without the shift, nor on the section mix or activity of either', () => {
        // Stable 14-day log: 13 comparisons per check, 0 alerts of ctr, section_mix, reader_activity.
        const daily = (r: DataReport) =>
          r.alerts.filter((a) => a.check === 'ctr' || a.check === 'section_mix' || a.check === 'reader_activity');
        expect(daily(without)).toEqual([]);
        // Nor any feature alert: 0 of 25 features × (PSI, KS) on the stable log.
        expect(without.alerts).toEqual([]);
        expect(withShift.alerts.filter((a) => a.check === 'section_mix' || a.check === 'reader_activity')).toEqual([]);
        expect(without.stability.comparisons.filter((c) => c.check === 'ctr')).toHaveLength(13);
        expect(without.stability.comparisons.filter((c) => c.check === 'section_mix')).toHaveLength(13);
        expect(without.stability.comparisons.filter((c) => c.check === 'reader_activity')).toHaveLength(13);
      });

      it('compares every model feature between the halves with PSI and KS', () => {
        const f = withShift.stability.features!;
        expect(f.halves.map((h) => h.rows)).toEqual([7 * 8000, 7 * 8000]);
        expect(f.halves.every((h) => h.sampled <= 50_000)).toBe(true);
        expect(f.features.length).toBeGreaterThan(20);
        for (const x of f.features) {
          expect(Number.isFinite(x.psi)).toBe(true);
          expect(x.ksD).toBeGreaterThanOrEqual(0);
          expect(x.ksD).toBeLessThanOrEqual(1);
        }
        // The item-level CTR estimate of sport articles falls from day 8: the `ctr` feature drifts.
        const ctr = f.features.find((x) => x.name === 'ctr')!;
        const stableCtr = without.stability.features!.features.find((x) => x.name === 'ctr')!;
        expect(ctr.ksD).toBeGreaterThan(stableCtr.ksD);
        expect(withShift.alerts.filter((a) => a.check === 'feature_psi').map((a) => a.subject)).toContain('ctr');
        // Feature alerts are dated the first day of the last half.
        for (const a of withShift.alerts.filter((x) => x.check.startsWith('feature'))) expect(a.day).toBe('2026-03-08');
      });

      it('reports model decay against the stored offline AUC and alerts when it drops', () => {
        const m = withShift.stability.modelDecay!;
        expect(m.offlineAuc).toBe(0.99);
        expect(m.currentAuc).toBeGreaterThan(0.3);
        expect(m.examples).toBe(7 * 8000);
        expect(m.overlapsTraining).toBe(false);
        expect(withShift.alerts.filter((a) => a.check === 'model_decay')).toHaveLength(1);
        expect(without.stability.modelDecay).toBeNull();
        expect(without.stability.modelNote).toMatch(/no model/);
      });
    });
  });
}

describe('stabilityChecks CTR against the reference days', () => {
  const day = (d: string, ctr: Record<string, [number, number]>, sections: Record<string, [number, number]>): DayFigures => ({
    day: d,
    ctr: Object.fromEntries(Object.entries(ctr).map(([k, [n, x]]) => [k, { impressions: n, clicks: x, ctr: x / n }])),
    sectionCtr: { p: Object.fromEntries(Object.entries(sections).map(([k, [n, x]]) => [k, { impressions: n, clicks: x, ctr: x / n }])) },
    sections: {},
    reads: 0,
    activeReaders: 0,
    readsPerReader: null,
    activity: {},
  });
  const before = { A: [4000, 80], B: [4000, 80], C: [4000, 80], D: [500, 10], E: [1500, 3] } as Record<string, [number, number]>;
  const days = [
    day('d1', { p: [10_000, 1000] }, before),
    day('d2', { p: [10_000, 1000] }, before),
    day('d3', { p: [10_000, 1000] }, before),
    day('d4', { p: [10_000, 800] }, { A: [4000, 40], B: [4000, 80], C: [4000, 47], D: [500, 0], E: [1500, 3] }),
    day('d5', { p: [10_000, 800] }, { A: [4000, 40], B: [4000, 80], C: [4000, 47], D: [500, 0], E: [1500, 3] }),
  ];
  const r = stabilityChecks(days);
  const on = (d: string, section: string) => r.comparisons.find((c) => c.check === 'section_ctr' && c.day === d && c.section === section);

  it('tests each section against its pooled reference days, Bonferroni over the sections compared that day', () => {
    // d4, section A: reference d1..d3 pooled, 240 clicks of 12,000 (2%), against 40 of 4,000 (1%):
    // p̂ = 280/16,000 = 0.0175, SE = √(0.0175 · 0.9825 · (1/12,000 + 1/4,000)) = 0.0023940,
    // z = (0.01 − 0.02)/0.0023940 = −4.1771, p = 2(1 − Φ(4.1771)) = 2.952e-5.
    // C: 47 of 4,000 (1.175%): p̂ = 287/16,000, z = −3.4046, p = 6.626e-4: below CTR_ALPHA alone, not
    // below CTR_ALPHA/3. Compared on d4: A, B, C (m = 3). D has 500 impressions (< 1,000); E expects
    // 1,500 × 12/6,000 = 3 clicks (< 5): neither is compared.
    expect(on('d4', 'A')).toMatchObject({ referenceFrom: 'd1', threshold: CTR_ALPHA / 3, alert: true, detail: -0.5 });
    expect(on('d4', 'A')!.value).toBeCloseTo(2.952e-5, 8);
    expect(on('d4', 'C')).toMatchObject({ threshold: CTR_ALPHA / 3, alert: false });
    expect(on('d4', 'C')!.value).toBeCloseTo(6.626e-4, 7);
    expect(on('d4', 'B')).toMatchObject({ value: 1, alert: false });
    expect(on('d4', 'D')).toBeUndefined();
    expect(on('d4', 'E')).toBeUndefined();
    expect(r.alerts.filter((a) => a.check === 'section_ctr').map((a) => [a.day, a.subject, a.section])).toEqual([['d4', 'p', 'A']]);
  });

  it('restarts a series reference at its alert, so a lasting shift alerts once', () => {
    // d5: A's reference is d4 alone (40 of 4,000 against 40 of 4,000: p = 1); B's is d1..d4.
    expect(on('d5', 'A')).toMatchObject({ referenceFrom: 'd4', value: 1, alert: false });
    expect(on('d5', 'B')).toMatchObject({ referenceFrom: 'd1', alert: false });
    // The placement's CTR the same way: d4, 800 of 10,000 against 3,000 of 30,000, z = −5.907; d5 against d4 alone.
    const ctr = r.comparisons.filter((c) => c.check === 'ctr');
    expect(ctr.map((c) => [c.day, c.referenceFrom, c.alert])).toEqual([
      ['d2', 'd1', false],
      ['d3', 'd1', false],
      ['d4', 'd1', true],
      ['d5', 'd4', false],
    ]);
    expect(ctr[2]!.value).toBeCloseTo(3.482e-9, 12);
  });

  it('takes at most CTR_REFERENCE_DAYS days of reference', () => {
    const long = Array.from({ length: 10 }, (_, i) => day(`d${i + 1}`, { p: [10_000, 1000] }, { B: [4000, 80] }));
    const c = stabilityChecks(long).comparisons.filter((x) => x.check === 'section_ctr');
    expect(CTR_REFERENCE_DAYS).toBe(7);
    expect(c.map((x) => x.referenceFrom)).toEqual(['d1', 'd1', 'd1', 'd1', 'd1', 'd1', 'd1', 'd2', 'd3']);
  });
});

/**
 * False alarms of the day-to-day checks, measured on 300 stable synthetic 14-day logs of daily
 * aggregates (13 comparisons each, 3,900 per check), drawn like the log above: 8,000 impressions a
 * day at CTR 0.1, 2,000 reads a day in two equal sections, 800 readers with multinomial activity.
 * Measured (seed 5): CTR 6 of 3,900 (0.15% per comparison against the nominal CTR_ALPHA, 3.9
 * expected; P(≥ 6) ≈ 0.2 under the nominal rate. 4 of 3,900 when the reference was the day before
 * alone, before the reference became the days since the last alert, at most CTR_REFERENCE_DAYS. At
 * 8,000 impressions a 10% move is z ≈ 2.1, so the size floor does not bite and p < 0.001 decides;
 * about 1.3% of stable 14-day logs get one CTR alert per placement); section mix 0 and reader activity 0
 * of 3,900 (PSI's null mean here is about 0.001 and 0.005 against the 0.2 threshold). The stable
 * database log above: 0 of 13 comparisons per day-to-day check, and 0 feature alerts (25 features,
 * PSI and KS; with a day of warm-up before the window; without it, pop_share's cold start alerts).
 */
describe('stabilityChecks false alarms', () => {
  it('stays near the nominal 0.1% for the CTR and at 0 for the PSI checks on stable logs', () => {
    const rng = seededRng(5);
    const binomial = (n: number, p: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) if (rng.next() < p) x++;
      return x;
    };
    const counts = { ctr: 0, section_mix: 0, reader_activity: 0 };
    let comparisons = 0;
    for (let run = 0; run < 300; run++) {
      const days: DayFigures[] = [];
      for (let d = 0; d < 14; d++) {
        const clicks = binomial(8000, 0.1);
        const world = binomial(2000, 0.5);
        const perReader = new Array<number>(800).fill(0);
        for (let i = 0; i < 2000; i++) perReader[rng.int(800)]!++;
        const activity: Record<string, number> = Object.fromEntries(ACTIVITY_BINS.map((b) => [b.label, 0]));
        for (const r of perReader) {
          const bin = [...ACTIVITY_BINS].reverse().find((b) => r >= b.min);
          if (bin) activity[bin.label]!++;
        }
        days.push({
          day: `d${d}`,
          ctr: { p: { impressions: 8000, clicks, ctr: clicks / 8000 } },
          sectionCtr: {},
          sections: { world, sport: 2000 - world },
          reads: 2000,
          activeReaders: perReader.filter((r) => r > 0).length,
          readsPerReader: null,
          activity,
        });
      }
      const r = stabilityChecks(days);
      comparisons += 13;
      for (const a of r.alerts) counts[a.check as keyof typeof counts]++;
    }
    expect(comparisons).toBe(3900);
    // Nominal 0.1% (3.9 expected); a bound of twice that leaves room for the binomial spread.
    expect(counts.ctr).toBeLessThanOrEqual(8);
    expect(counts.section_mix).toBe(0);
    expect(counts.reader_activity).toBe(0);
    expect(MIX_PSI_ALERT).toBe(0.2);
  });
});
