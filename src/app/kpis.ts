/**
 * The Overview's KPIs (issue 20, page 1): per UTC day of the client time, traffic (page views,
 * reads, readers, articles read per reader), the widget's CTR per placement and the revenue of
 * subscribe events, from SQL aggregates (KpiStore, DataReportStore.dailyPlacementCtr). Every day
 * of the window is listed, those without events with zeros, so that a chart's x axis has no gaps.
 * Tests: test/app/kpis.test.ts.
 */
import type { RevenueCurrency } from '../core/analysis/metrics.js';
import { DomainError } from '../core/kernel/errors.js';
import { DAY_MS } from '../core/kernel/time.js';
import { MAX_REPORT_DAYS } from './data-report.js';
import type { DataReportStore, KpiStore } from './ports.js';

/** Live impressions of a placement, the clicks carrying their recommId, and clicks / impressions (null without impressions). */
export interface PlacementCtr {
  impressions: number;
  clicks: number;
  ctr: number | null;
}

/** Subscribe events in a currency without a rate to the report's currency: never added to `revenue`. */
export interface UnpricedKpiRevenue {
  currency: string;
  events: number;
  amount: number;
}

export interface KpiFigures {
  pageViews: number;
  /** Read events. */
  reads: number;
  /** Distinct readers with any stored event (a page view, an impression, a click, a read, a subscription). */
  readers: number;
  /** Distinct readers with a read. */
  readingReaders: number;
  /** reads / readers: articles read per reader seen (null without readers). */
  readsPerReader: number | null;
  /** Per placement (of the impression): live impressions, clicks and CTR. */
  ctr: Record<string, PlacementCtr>;
  /** Subscribe events, all currencies. */
  subscriptions: number;
  /** Revenue of the subscribe events priced in the report's currency (its own, or converted by READNEXT_FX_RATES). */
  revenue: number;
  unpriced: UnpricedKpiRevenue[];
}

export interface KpiReport {
  /** The window: client times [since, until), ISO 8601. The first and the last day may be partial. */
  since: string;
  until: string;
  /** The currency of `revenue` (READNEXT_CURRENCY), and the rates used to convert others to it. */
  currency: string;
  rates: Record<string, number>;
  /** Every placement with an impression in the window, sorted. */
  placements: string[];
  /** Each UTC day the window touches, oldest first. */
  days: (KpiFigures & { day: string })[];
  /** The whole window; `readers` counts a reader once per day it was seen (a sum over days), `readsPerReader` is reads / that sum. */
  totals: KpiFigures;
  /** Why some revenue is left out, and what to configure; null when none is. */
  revenueWarning: string | null;
}

const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

const empty = (): KpiFigures => ({
  pageViews: 0,
  reads: 0,
  readers: 0,
  readingReaders: 0,
  readsPerReader: null,
  ctr: {},
  subscriptions: 0,
  revenue: 0,
  unpriced: [],
});

/** Adds unpriced revenue of one currency into a list kept sorted by currency. */
function addUnpriced(list: UnpricedKpiRevenue[], u: UnpricedKpiRevenue): void {
  const at = list.find((x) => x.currency === u.currency);
  if (at) {
    at.events += u.events;
    at.amount += u.amount;
  } else {
    list.push({ currency: u.currency, events: u.events, amount: u.amount });
    list.sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
  }
}

/**
 * The KPIs of the client-time window [sinceTs, untilTs), at most MAX_REPORT_DAYS long (DomainError
 * invalid_field naming until for an empty window, since for a longer one, as the data report).
 *   - readsPerReader = reads / readers, readers being those with any event that day;
 *   - CTR of a placement = clicks carrying the recommId of a live (not shadow) impression / those
 *     impressions, dated by the impression (DataReportStore.dailyPlacementCtr, as the data report);
 *   - revenue = Σ revenue of subscribe events in `money.currency`, plus Σ amount × rate of those in a
 *     currency with a rate in `money.rates` (units of money.currency per unit); the others are
 *     counted apart per currency (`unpriced`) and never added, as the experiment reports do (core/analysis/metrics.ts).
 *
 * @example
 * const r = await kpis(storage, { sinceTs: Date.UTC(2026, 2, 1), untilTs: Date.UTC(2026, 2, 15), money: { currency: 'EUR', rates: {} } });
 * r.days[0].ctr['read-next'].ctr // the widget's CTR on 2026-03-01
 */
export async function kpis(
  store: KpiStore & Pick<DataReportStore, 'dailyPlacementCtr'>,
  opts: { sinceTs: number; untilTs: number; money: RevenueCurrency },
): Promise<KpiReport> {
  const { sinceTs, untilTs, money } = opts;
  if (!(Number.isFinite(sinceTs) && Number.isFinite(untilTs) && untilTs > sinceTs))
    throw new DomainError('invalid_field', 'the window is empty: until must be after since', { field: 'until' });
  if (untilTs - sinceTs > MAX_REPORT_DAYS * DAY_MS)
    throw new DomainError('invalid_field', `the window is longer than ${MAX_REPORT_DAYS} days`, { field: 'since' });
  const firstDay = Math.floor(sinceTs / DAY_MS);
  const lastDay = Math.floor((untilTs - 1) / DAY_MS);
  const byDay = new Map<number, KpiFigures>();
  for (let d = firstDay; d <= lastDay; d++) byDay.set(d, empty());
  const at = (d: number): KpiFigures => byDay.get(d) ?? byDay.set(d, empty()).get(d)!;

  const [traffic, ctr, revenue] = [
    await store.dailyTraffic(sinceTs, untilTs),
    await store.dailyPlacementCtr(sinceTs, untilTs),
    await store.dailyRevenue(sinceTs, untilTs),
  ];
  const totals = empty();
  const placements = new Set<string>();
  for (const t of traffic) {
    Object.assign(at(t.day), { pageViews: t.pageViews, reads: t.reads, readers: t.readers, readingReaders: t.readingReaders });
    totals.pageViews += t.pageViews;
    totals.reads += t.reads;
    totals.readers += t.readers;
    totals.readingReaders += t.readingReaders;
  }
  for (const c of ctr) {
    placements.add(c.placement);
    at(c.day).ctr[c.placement] = { impressions: c.impressions, clicks: c.clicks, ctr: null };
    const tot = (totals.ctr[c.placement] ??= { impressions: 0, clicks: 0, ctr: null });
    tot.impressions += c.impressions;
    tot.clicks += c.clicks;
  }
  const rateOf = (c: string): number | undefined => (c === money.currency ? 1 : money.rates[c]);
  for (const r of revenue) {
    const f = at(r.day);
    f.subscriptions += r.events;
    totals.subscriptions += r.events;
    const rate = rateOf(r.currency);
    if (rate === undefined) {
      addUnpriced(f.unpriced, r);
      addUnpriced(totals.unpriced, r);
    } else {
      f.revenue += r.amount * rate;
      totals.revenue += r.amount * rate;
    }
  }
  const finish = (f: KpiFigures): KpiFigures => {
    f.readsPerReader = ratio(f.reads, f.readers);
    for (const c of Object.values(f.ctr)) c.ctr = ratio(c.clicks, c.impressions);
    return f;
  };
  const unpricedList = totals.unpriced.map((u) => `${u.currency}: ${u.events} events`).join(', ');
  return {
    since: new Date(sinceTs).toISOString(),
    until: new Date(untilTs).toISOString(),
    currency: money.currency,
    rates: { ...money.rates },
    placements: [...placements].sort(),
    days: [...byDay.entries()].sort(([a], [b]) => a - b).map(([d, f]) => ({ day: isoDay(d), ...finish(f) })),
    totals: finish(totals),
    revenueWarning:
      totals.unpriced.length === 0
        ? null
        : `revenue leaves out subscribe events in a currency without a rate to ${money.currency} (${unpricedList}): set READNEXT_FX_RATES (${totals.unpriced.map((u) => `${u.currency}=<${money.currency} per ${u.currency}>`).join(',')}) to count them`,
  };
}
