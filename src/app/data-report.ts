/**
 * The data report (issue 18, item 3): is the data good (quality), does it carry signal (signal,
 * app/data-signal.ts) and is it stable (stability)? Every figure over events comes from SQL
 * aggregates through DataReportStore; the feature drift and the model decay replay the window's
 * events through the training replay (core/ml/examples.ts) as app/training.ts does, keeping a sample of the rows.
 * Tests: test/app/data-report.test.ts.
 */
import { dataSignal, type DataSignal, type DataSignalOptions, type SignalEventStore } from './data-signal.js';
import { DomainError } from '../core/kernel/errors.js';
import { DAY_MS, parseReportTime } from '../core/kernel/time.js';
import { ExampleReplay, type ExampleSet } from '../core/ml/examples.js';
import { DEFAULT_FEATURE_PARAMS, FEATURE_NAMES, type FeatureParams } from '../core/ml/features.js';
import { auc } from '../core/ml/metrics.js';
import { loadRanker, type LoadedRanker } from '../core/ml/model.js';
import { CatalogIndex } from '../core/recommend/catalog-index.js';
import {
  expectedNullPsi,
  ksTwoSample,
  psiCategorical,
  psiNumeric,
  PSI_MODERATE,
  PSI_SIGNIFICANT,
  twoProportionTest,
  type PsiLevel,
} from '../core/stats/drift.js';
import type { ArticleStore, DataReportStore, ModelStore } from './ports.js';

// Thresholds. Each check compares a day with a reference: the days before it (CTR of a placement
// and of each section in it, CTR_REFERENCE_DAYS), the day before (section mix, reader activity), or
// the window's last half with its first (features), and alerts when its threshold is crossed.

/**
 * CTR: alert when the pooled two-proportion z-test of a placement's CTR against its reference days
 * has p below this AND the CTR moved by at least CTR_MIN_RELATIVE_CHANGE. 0.001 as SRM's threshold:
 * the check runs every day on every placement, so at 0.05 a stable placement would alert every 20
 * days. The section CTR check splits it over the sections compared that day (Bonferroni).
 */
export const CTR_ALPHA = 0.001;
/** CTR: the smallest relative move (|ctr_d / ctr_ref − 1|) worth an alert; at large volumes p alone flags trivia. */
export const CTR_MIN_RELATIVE_CHANGE = 0.1;
/**
 * CTR: a day with fewer impressions of the placement (of the section's shown items, for the section
 * check), or a reference with fewer in all, is not compared (the test has no power there).
 */
export const CTR_MIN_IMPRESSIONS = 1000;
/**
 * CTR: the reference of a day is the days before it since the series' last alert (that day
 * included), at most this many, pooled. More days give the test more power than the day before
 * alone (the variance term 1/n_ref + 1/n_day falls from 2/n to 8/(7n) at equal volumes); starting
 * again at the flagged day makes a lasting shift alert once, on its first day, and not again once
 * the reference has caught up with it.
 */
export const CTR_REFERENCE_DAYS = 7;
/**
 * Section CTR: a section whose expected clicks on the day (its impressions × the pooled CTR of the
 * day and its reference) are below this is not compared: the normal approximation of the z-test
 * wants about 5 expected in each cell of the 2×2 table (Agresti 2013, sec. 3.1 and 3.5), and a
 * widget's per-item CTR is low (0.3% in the simulator's default world), so 1,000 impressions of a
 * small section may expect only 3 clicks.
 */
export const CTR_MIN_EXPECTED_CLICKS = 5;
/**
 * Section mix of reads and reader activity: alert when the PSI against the day before is above
 * PSI_SIGNIFICANT (0.2, Siddiqi 2006); 0.1 to 0.2 is reported as moderate, without an alert.
 */
export const MIX_PSI_ALERT = PSI_SIGNIFICANT;
/**
 * PSI comparisons whose expected PSI under no change, (k − 1)(1/n + 1/m) (expectedNullPsi), is above
 * this are skipped as too small: the fixed thresholds would then flag noise.
 */
export const MAX_NULL_PSI = PSI_MODERATE / 4;
/** Features: alert when a feature's PSI (deciles of the first half) between the halves is above this. */
export const FEATURE_PSI_ALERT = PSI_SIGNIFICANT;
/**
 * Features: alert on the KS statistic when D is at least this AND its asymptotic p is below
 * FEATURE_KS_ALPHA. With ~50,000 rows a side p is ≈ 0 for any visible shift, so D carries the size.
 */
export const FEATURE_KS_D_ALERT = 0.1;
export const FEATURE_KS_ALPHA = 0.001;
/**
 * Features: no feature alert when a half has fewer examples than this. The figures are still
 * shown; on a few dozen rows the decile PSI of a stable feature often passes 0.2 (expectedNullPsi)
 * and features of article age move with the window itself.
 */
export const FEATURE_MIN_ROWS = 1000;
/** Features: rows sampled per half at most (every k-th row of the half, in time order). */
export const FEATURE_SAMPLE_ROWS = 50_000;
/** Model decay: alert when the newest model's AUC on the latest half is this much below its stored offline AUC. */
export const MODEL_DECAY_AUC_DROP = 0.05;
/** Events before the window that only warm the feature state (as training's default warm-up). */
export const FEATURE_WARMUP_MS = DAY_MS;
/** Reader activity: readers per day binned by the articles they read that day (the last bin is open). */
export const ACTIVITY_BINS: readonly { label: string; min: number }[] = [
  { label: '1', min: 1 },
  { label: '2', min: 2 },
  { label: '3', min: 3 },
  { label: '4-5', min: 4 },
  { label: '6-9', min: 6 },
  { label: '10+', min: 10 },
];
/** The widest window a report takes, days (the day list and the replay grow with it). */
export const MAX_REPORT_DAYS = 92;
/** The window when none is given: the 14 days before now. */
export const DEFAULT_REPORT_DAYS = 14;
/** Quantiles of the clock skew. */
const SKEW_QUANTILES = [0.5, 0.99];

export type CheckName = 'ctr' | 'section_ctr' | 'section_mix' | 'reader_activity' | 'feature_psi' | 'feature_ks' | 'model_decay';

/** A threshold crossed: on which day (UTC, YYYY-MM-DD), by which check, on what, with the figure and its threshold. */
export interface DataAlert {
  day: string;
  check: CheckName;
  /** The placement, the feature or the model the check is about ('' for the section mix and reader activity). */
  subject: string;
  /** The section of the article shown, for section_ctr (its subject is the placement). */
  section?: string;
  /** The figure the threshold applies to: `psi`, `p` (with the relative change), `ks_d`, `auc_drop`. */
  figure: string;
  value: number;
  threshold: number;
  message: string;
}

export interface QualityReport {
  /** Events with a client time in the window, and per type. */
  events: number;
  byType: Record<string, number>;
  /**
   * What the collector did not store, per reason and per UTC day of receipt (days of the window):
   * rejection codes of the validator; duplicates (same id and payload) and conflicts (same id,
   * another payload) are counted apart. Empty on a database before migration 0013's counting.
   */
  rejections: { total: number; byReason: Record<string, number>; byDay: { day: string; reason: string; count: number }[] };
  duplicates: number;
  conflicts: number;
  /** Events repeating another one's reader, type, article and client time under another id (a client that re-sends with new ids). */
  sameContentRepeats: number;
  unknownArticles: { events: number; withArticle: number; share: number };
  impressionsWithoutServe: { count: number; impressions: number; share: number };
  clicksWithoutImpression: { count: number; clicks: number; share: number };
  /** |clientTs − receivedTs| over the window's events, milliseconds (null without events). */
  clockSkewMs: { events: number; median: number | null; p99: number | null };
  /**
   * The bot filter (core/events/bots.ts): events dropped for a User-Agent on the bot list
   * (`rejections.byReason.bot`, by day of receipt), and their share of what was sent:
   * filtered / (filtered + events), null when both are 0. `note` says it in a sentence.
   */
  bots: { filtered: number; filteredShare: number | null; note: string };
  catalog: { articles: number; withoutText: number; withoutSection: number };
}

/** One UTC day of the window. */
export interface DayFigures {
  day: string;
  /** Per placement: live impressions, clicks carrying their recommId, CTR (null without impressions). */
  ctr: Record<string, CtrCount>;
  /**
   * Per placement, then per section of the article shown ('(none)': no section or an article the
   * catalog lacks): impressions counted per shown item, clicks carrying their recommId by the
   * clicked article's section, CTR per shown item. Empty when the caller gave no such rows.
   */
  sectionCtr: Record<string, Record<string, CtrCount>>;
  /** Reads per section ('(none)': no section or an article the catalog lacks). */
  sections: Record<string, number>;
  reads: number;
  /** Readers with a read that day, and reads per such reader (null without). */
  activeReaders: number;
  readsPerReader: number | null;
  /** Readers per ACTIVITY_BINS bin. */
  activity: Record<string, number>;
}

export interface CtrCount {
  impressions: number;
  clicks: number;
  ctr: number | null;
}

/** One comparison of a day with its reference (every one made, alert or not). */
export interface DayComparison {
  day: string;
  check: 'ctr' | 'section_ctr' | 'section_mix' | 'reader_activity';
  subject: string;
  /** The section of the article shown, for section_ctr. */
  section?: string;
  /** PSI (section mix, reader activity) or the p-value of the two-proportion test (CTR). */
  value: number;
  /** CTR: relative change; PSI: its level. */
  detail: number | PsiLevel;
  /** CTR: the first reference day (YYYY-MM-DD; the reference runs to the day before `day`). */
  referenceFrom?: string;
  /** CTR: the p-value under which it alerts (CTR_ALPHA, divided by the sections compared that day for section_ctr). */
  threshold?: number;
  alert: boolean;
}

export interface FeatureDrift {
  placement: string;
  /** The halves of the window (client times) and the rows sampled from each (of `rows` examples). */
  halves: { fromTs: number; toTs: number; rows: number; sampled: number }[];
  features: { name: string; psi: number; level: PsiLevel; ksD: number; ksP: number }[];
}

export interface ModelDecay {
  version: number;
  placement: string;
  /** The AUC stored at training time, on the model's own test slice. */
  offlineAuc: number | null;
  /** Its AUC on the examples of the window's latest half. */
  currentAuc: number | null;
  examples: number;
  /** offlineAuc − currentAuc. */
  drop: number | null;
  /** The latest half overlaps the model's training window: its AUC there is optimistic. */
  overlapsTraining: boolean;
}

export interface StabilityReport {
  days: DayFigures[];
  comparisons: DayComparison[];
  /** Null with `featureNote` when there was nothing to replay (no placement, no impressions). */
  features: FeatureDrift | null;
  featureNote: string | null;
  modelDecay: ModelDecay | null;
  modelNote: string | null;
}

export interface DataReport {
  window: { sinceTs: number; untilTs: number; placement: string | null };
  generatedTs: number;
  quality: QualityReport;
  /**
   * The signal part (app/data-signal.ts): the offline lift of the best recommender over random
   * with an interval, and the learning curve; null when the deps give no lab event store or the
   * window has no placement with impressions.
   */
  signal: DataSignal | null;
  stability: StabilityReport;
  /** Every threshold crossed, in day order. */
  alerts: DataAlert[];
}

export interface DataReportDeps {
  store: DataReportStore;
  models: Pick<ModelStore, 'listModels' | 'getModel' | 'scanTrainingEvents'>;
  articles: Pick<ArticleStore, 'articlesStoredSince'>;
  /** The stored events as the offline lab reads them: the signal part runs when given. */
  lab?: SignalEventStore;
}

export interface DataReportOptions {
  /** The window, client times, epoch ms: [sinceTs, untilTs). */
  sinceTs: number;
  untilTs: number;
  /** The report's time (generatedTs). */
  now: number;
  /** The placement of the feature drift and model decay (default: the one with most impressions). */
  placement?: string;
  /** The signal part's sizes (default data-signal.ts's): the demo keeps it to seconds. */
  signal?: Pick<DataSignalOptions, 'maxImpressions' | 'resamples'>;
}

/** A report bound (core/kernel/time.ts parseReportTime), kept here for this module's callers. */
export { parseReportTime };

/** The window of optional since / until (parseReportTime): until defaults to now, since to DEFAULT_REPORT_DAYS before until. */
export function reportWindow(
  q: { since?: string | undefined; until?: string | undefined },
  now: number,
): { sinceTs: number; untilTs: number } {
  const untilTs = q.until === undefined ? now : parseReportTime(q.until, 'until');
  const sinceTs = q.since === undefined ? untilTs - DEFAULT_REPORT_DAYS * DAY_MS : parseReportTime(q.since, 'since');
  return { sinceTs, untilTs };
}

const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const share = (a: number, b: number): number => (b > 0 ? a / b : 0);
const NO_SECTION = '(none)';

/** The quality report's bots: filtered / (filtered + stored events of the window), with a sentence. */
function botFigures(filtered: number, events: number): QualityReport['bots'] {
  const filteredShare = filtered + events > 0 ? filtered / (filtered + events) : null;
  const pct = filteredShare === null ? 'n/a' : `${(filteredShare * 100).toFixed(1)}%`;
  return {
    filtered,
    filteredShare,
    note:
      `${filtered} events dropped by the bot filter (a User-Agent on the bot list), ${pct} of the events sent; ` +
      'crawlers that pose as browsers are not caught and count as readers',
  };
}

/**
 * Builds the data report of a window:
 *   1. quality: SQL counts of the window (rejections by day, duplicates, unknown articles, orphan
 *      impressions and clicks, clock skew, catalog gaps);
 *   2. stability per day: CTR per placement and per section shown in it, section mix of reads, reads
 *      per reader, each compared with its reference days (stabilityChecks);
 *   3. feature drift: the placement's examples replayed, first half against last half (PSI, KS);
 *   4. model decay: the newest model of the placement, its stored AUC against its AUC on the last half.
 * Refuses (DomainError invalid_field) an empty window or one longer than MAX_REPORT_DAYS.
 *
 * @example
 * const r = await dataReport(deps, { sinceTs: until - 14 * DAY_MS, untilTs: until, now: clock.now() });
 */
export async function dataReport(deps: DataReportDeps, opts: DataReportOptions): Promise<DataReport> {
  const { sinceTs, untilTs } = opts;
  if (!(Number.isFinite(sinceTs) && Number.isFinite(untilTs) && untilTs > sinceTs))
    throw new DomainError('invalid_field', 'the report window is empty: until must be after since', { field: 'until' });
  if (untilTs - sinceTs > MAX_REPORT_DAYS * DAY_MS)
    throw new DomainError('invalid_field', `the report window is longer than ${MAX_REPORT_DAYS} days`, { field: 'since' });
  const { store } = deps;
  const firstDay = Math.floor(sinceTs / DAY_MS);
  const lastDay = Math.floor((untilTs - 1) / DAY_MS);

  // 1. Quality.
  const [rejections, q, skew, catalog] = [
    await store.rejectionCounts(isoDay(firstDay), isoDay(lastDay)),
    await store.eventQuality(sinceTs, untilTs),
    await store.clockSkew(sinceTs, untilTs, SKEW_QUANTILES),
    await store.catalogGaps(),
  ];
  const byReason: Record<string, number> = {};
  for (const r of rejections) byReason[r.reason] = (byReason[r.reason] ?? 0) + r.count;
  const { duplicate = 0, conflict = 0, ...rejectedByReason } = byReason;
  const events = Object.values(q.byType).reduce((a, b) => a + b, 0);
  const quality: QualityReport = {
    events,
    byType: q.byType,
    rejections: {
      total: Object.values(rejectedByReason).reduce((a, b) => a + b, 0),
      byReason: rejectedByReason,
      byDay: rejections.filter((r) => r.reason !== 'duplicate' && r.reason !== 'conflict'),
    },
    duplicates: duplicate,
    conflicts: conflict,
    sameContentRepeats: q.sameContentRepeats,
    unknownArticles: { events: q.unknownArticle, withArticle: q.withArticle, share: share(q.unknownArticle, q.withArticle) },
    impressionsWithoutServe: {
      count: q.impressionsWithoutServe,
      impressions: q.impressions,
      share: share(q.impressionsWithoutServe, q.impressions),
    },
    clicksWithoutImpression: { count: q.clicksWithoutImpression, clicks: q.clicks, share: share(q.clicksWithoutImpression, q.clicks) },
    clockSkewMs: { events: skew.n, median: skew.n > 0 ? skew.values[0]! : null, p99: skew.n > 0 ? skew.values[1]! : null },
    bots: botFigures(rejectedByReason.bot ?? 0, events),
    catalog,
  };

  // 2. Per day.
  const [ctrRows, sectionRows, activityRows, sectionCtrRows] = [
    await store.dailyPlacementCtr(sinceTs, untilTs),
    await store.dailyReadSections(sinceTs, untilTs),
    await store.dailyReadsPerReader(sinceTs, untilTs),
    await store.dailySectionCtr(sinceTs, untilTs),
  ];
  const days = dailyFigures(firstDay, lastDay, ctrRows, sectionRows, activityRows, sectionCtrRows);
  const { comparisons, alerts } = stabilityChecks(days);

  // 3-4. Features and model decay, on one placement.
  const impressionsOf = new Map<string, number>();
  for (const r of ctrRows) impressionsOf.set(r.placement, (impressionsOf.get(r.placement) ?? 0) + r.impressions);
  const placement = opts.placement ?? [...impressionsOf].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  const drift = placement === undefined ? undefined : await featureDriftAndDecay(deps, placement, sinceTs, untilTs);
  if (drift?.features) alerts.push(...featureAlerts(drift.features));
  if (drift?.modelDecay) alerts.push(...decayAlerts(drift.modelDecay, isoDay(lastDay)));
  alerts.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));

  return {
    window: { sinceTs, untilTs, placement: opts.placement ?? null },
    generatedTs: opts.now,
    quality,
    signal:
      deps.lab && placement !== undefined
        ? await dataSignal({ events: deps.lab }, { placement, sinceTs, untilTs, seed: 1, ...opts.signal })
        : null,
    stability: {
      days,
      comparisons,
      features: drift?.features ?? null,
      featureNote: placement === undefined ? 'no live impressions in the window: no placement to replay' : (drift?.featureNote ?? null),
      modelDecay: drift?.modelDecay ?? null,
      modelNote: placement === undefined ? 'no placement' : (drift?.modelNote ?? null),
    },
    alerts,
  };
}

/**
 * The per-day figures from the store's per-day rows, one entry per UTC day firstDay..lastDay (days
 * without events included). `sectionCtrRows` (DataReportStore.dailySectionCtr) may be left out:
 * the days then have no section CTR, and stabilityChecks makes no section_ctr comparison.
 */
export function dailyFigures(
  firstDay: number,
  lastDay: number,
  ctrRows: readonly { day: number; placement: string; impressions: number; clicks: number }[],
  sectionRows: readonly { day: number; section: string | null; reads: number }[],
  activityRows: readonly { day: number; reads: number; readers: number }[],
  sectionCtrRows: readonly { day: number; placement: string; section: string | null; impressions: number; clicks: number }[] = [],
): DayFigures[] {
  const out: DayFigures[] = [];
  const at = new Map<number, DayFigures>();
  for (let d = firstDay; d <= lastDay; d++) {
    const f: DayFigures = {
      day: isoDay(d),
      ctr: {},
      sectionCtr: {},
      sections: {},
      reads: 0,
      activeReaders: 0,
      readsPerReader: null,
      activity: {},
    };
    for (const b of ACTIVITY_BINS) f.activity[b.label] = 0;
    out.push(f);
    at.set(d, f);
  }
  for (const r of ctrRows) {
    const f = at.get(r.day);
    if (f) f.ctr[r.placement] = { impressions: r.impressions, clicks: r.clicks, ctr: r.impressions > 0 ? r.clicks / r.impressions : null };
  }
  for (const r of sectionCtrRows) {
    const f = at.get(r.day);
    if (!f) continue;
    const s = r.section === null || r.section.trim() === '' ? NO_SECTION : r.section;
    const bySection = (f.sectionCtr[r.placement] ??= {});
    const c = (bySection[s] ??= { impressions: 0, clicks: 0, ctr: null });
    c.impressions += r.impressions;
    c.clicks += r.clicks;
    c.ctr = c.impressions > 0 ? c.clicks / c.impressions : null;
  }
  for (const r of sectionRows) {
    const f = at.get(r.day);
    if (!f) continue;
    const s = r.section === null || r.section.trim() === '' ? NO_SECTION : r.section;
    f.sections[s] = (f.sections[s] ?? 0) + r.reads;
  }
  for (const r of activityRows) {
    const f = at.get(r.day);
    if (!f) continue;
    f.reads += r.reads * r.readers;
    f.activeReaders += r.readers;
    const bin = [...ACTIVITY_BINS].reverse().find((b) => r.reads >= b.min);
    if (bin) f.activity[bin.label]! += r.readers;
  }
  for (const f of out) f.readsPerReader = f.activeReaders > 0 ? f.reads / f.activeReaders : null;
  return out;
}

/**
 * Compares each day with its reference, check by check, and lists the alerts:
 *   - CTR of each placement ('ctr') and of each section of the articles shown in it ('section_ctr',
 *     impressions counted per shown item): the pooled two-proportion z-test (twoProportionTest;
 *     Agresti, "Categorical Data Analysis", 3rd ed., 2013, sec. 3.1.3) of the day's x clicks in n
 *     impressions against the reference's x_r in n_r:
 *
 *       p̂ = (x_r + x) / (n_r + n),  z = (x/n − x_r/n_r) / √(p̂(1 − p̂)(1/n_r + 1/n)),  p = 2(1 − Φ(|z|))
 *
 *     The reference of a series (a placement; a placement and section) is its days before the day
 *     since its last alert, that day included, at most CTR_REFERENCE_DAYS, counts pooled: a lasting
 *     shift alerts on its first day, then becomes the reference. 'ctr' alerts when p < CTR_ALPHA and
 *     |x/n ÷ x_r/n_r − 1| ≥ CTR_MIN_RELATIVE_CHANGE. 'section_ctr' tests the m sections of a
 *     placement compared that day at CTR_ALPHA / m each (Bonferroni: a stable placement alerts on
 *     one of its sections on a given day with probability at most CTR_ALPHA), with the same floor on
 *     the relative change. Not compared: a day under CTR_MIN_IMPRESSIONS, or a reference under it in
 *     all; for a section, also a day expecting fewer than CTR_MIN_EXPECTED_CLICKS clicks (n·p̂).
 *   - section mix of reads and reader activity (ACTIVITY_BINS): PSI with the day before as reference,
 *     alert above MIX_PSI_ALERT; pairs too small for the threshold (MAX_NULL_PSI) skipped.
 * Pure, so its false-alarm rate can be measured on many synthetic logs (test/app/data-report.test.ts)
 * and on simulated worlds (test/app/drift-world.test.ts).
 */
export function stabilityChecks(days: readonly DayFigures[]): { comparisons: DayComparison[]; alerts: DataAlert[] } {
  const comparisons: DayComparison[] = [];
  const alerts: DataAlert[] = [];
  /** Per CTR series (check, placement, section), the index of the day of its last alert. */
  const lastAlert = new Map<string, number>();
  /** The pooled reference of day i of a series, and the index of its first day. */
  const reference = (key: string, i: number, at: (f: DayFigures) => CtrCount | undefined) => {
    const from = Math.max(lastAlert.get(key) ?? 0, i - CTR_REFERENCE_DAYS);
    let impressions = 0;
    let clicks = 0;
    for (let j = from; j < i; j++) {
      const c = at(days[j]!);
      impressions += c?.impressions ?? 0;
      clicks += c?.clicks ?? 0;
    }
    return { from, impressions, clicks };
  };
  const ctrTest = (ref: { impressions: number; clicks: number }, c: CtrCount) => {
    const t = twoProportionTest(ref.clicks, ref.impressions, c.clicks, c.impressions);
    return { ...t, rel: t.p1 > 0 ? t.p2 / t.p1 - 1 : 0 };
  };
  for (let i = 1; i < days.length; i++) {
    const prev = days[i - 1]!;
    const cur = days[i]!;
    for (const [placement, c] of Object.entries(cur.ctr)) {
      const key = `ctr\t${placement}`;
      const ref = reference(key, i, (f) => f.ctr[placement]);
      if (ref.impressions < CTR_MIN_IMPRESSIONS || c.impressions < CTR_MIN_IMPRESSIONS) continue;
      const t = ctrTest(ref, c);
      const alert = t.pValue < CTR_ALPHA && Math.abs(t.rel) >= CTR_MIN_RELATIVE_CHANGE;
      const referenceFrom = days[ref.from]!.day;
      comparisons.push({
        day: cur.day,
        check: 'ctr',
        subject: placement,
        value: t.pValue,
        detail: t.rel,
        referenceFrom,
        threshold: CTR_ALPHA,
        alert,
      });
      if (!alert) continue;
      lastAlert.set(key, i);
      alerts.push({
        day: cur.day,
        check: 'ctr',
        subject: placement,
        figure: 'p',
        value: t.pValue,
        threshold: CTR_ALPHA,
        message: `CTR of ${placement} moved ${(t.rel * 100).toFixed(1)}% (${pct(t.p1)} since ${referenceFrom} → ${pct(t.p2)}), two-proportion p = ${t.pValue.toExponential(2)} < ${CTR_ALPHA}`,
      });
    }
    for (const [placement, bySection] of Object.entries(cur.sectionCtr)) {
      // The sections compared today, then each at CTR_ALPHA / m.
      const tested = [];
      for (const [section, c] of Object.entries(bySection)) {
        const key = `section_ctr\t${placement}\t${section}`;
        const ref = reference(key, i, (f) => f.sectionCtr[placement]?.[section]);
        if (ref.impressions < CTR_MIN_IMPRESSIONS || c.impressions < CTR_MIN_IMPRESSIONS) continue;
        const pooled = (ref.clicks + c.clicks) / (ref.impressions + c.impressions);
        if (c.impressions * pooled < CTR_MIN_EXPECTED_CLICKS) continue;
        tested.push({ key, section, ref, t: ctrTest(ref, c) });
      }
      const threshold = CTR_ALPHA / Math.max(1, tested.length);
      for (const { key, section, ref, t } of tested) {
        const alert = t.pValue < threshold && Math.abs(t.rel) >= CTR_MIN_RELATIVE_CHANGE;
        const referenceFrom = days[ref.from]!.day;
        comparisons.push({
          day: cur.day,
          check: 'section_ctr',
          subject: placement,
          section,
          value: t.pValue,
          detail: t.rel,
          referenceFrom,
          threshold,
          alert,
        });
        if (!alert) continue;
        lastAlert.set(key, i);
        alerts.push({
          day: cur.day,
          check: 'section_ctr',
          subject: placement,
          section,
          figure: 'p',
          value: t.pValue,
          threshold,
          message: `CTR of ${section} articles in ${placement} moved ${(t.rel * 100).toFixed(1)}% (${pct(t.p1)} since ${referenceFrom} → ${pct(t.p2)}), two-proportion p = ${t.pValue.toExponential(2)} < ${CTR_ALPHA}/${tested.length} sections`,
        });
      }
    }
    const mix = (check: 'section_mix' | 'reader_activity', a: Record<string, number>, b: Record<string, number>, what: string) => {
      const r = psiCategorical(a, b);
      const n = Object.values(a).reduce((x, y) => x + y, 0);
      const m = Object.values(b).reduce((x, y) => x + y, 0);
      if (expectedNullPsi(Math.max(2, r.bins.length), n, m) > MAX_NULL_PSI) return;
      const alert = r.psi > MIX_PSI_ALERT;
      comparisons.push({ day: cur.day, check, subject: '', value: r.psi, detail: r.level, alert });
      if (alert)
        alerts.push({
          day: cur.day,
          check,
          subject: '',
          figure: 'psi',
          value: r.psi,
          threshold: MIX_PSI_ALERT,
          message: `${what} shifted from the day before: PSI ${r.psi.toFixed(3)} > ${MIX_PSI_ALERT}`,
        });
    };
    mix('section_mix', prev.sections, cur.sections, 'section mix of reads');
    mix('reader_activity', prev.activity, cur.activity, 'reads per reader');
  }
  return { comparisons, alerts };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** Feature PSI and KS alerts, dated the first day of the window's last half. */
function featureAlerts(f: FeatureDrift): DataAlert[] {
  if (f.halves.some((h) => h.sampled < FEATURE_MIN_ROWS)) return [];
  const day = new Date(f.halves[1]!.fromTs).toISOString().slice(0, 10);
  const out: DataAlert[] = [];
  for (const x of f.features) {
    if (x.psi > FEATURE_PSI_ALERT)
      out.push({
        day,
        check: 'feature_psi',
        subject: x.name,
        figure: 'psi',
        value: x.psi,
        threshold: FEATURE_PSI_ALERT,
        message: `feature ${x.name} drifted between the halves of the window: PSI ${x.psi.toFixed(3)} > ${FEATURE_PSI_ALERT}`,
      });
    if (x.ksD >= FEATURE_KS_D_ALERT && x.ksP < FEATURE_KS_ALPHA)
      out.push({
        day,
        check: 'feature_ks',
        subject: x.name,
        figure: 'ks_d',
        value: x.ksD,
        threshold: FEATURE_KS_D_ALERT,
        message: `feature ${x.name} drifted between the halves of the window: KS D ${x.ksD.toFixed(3)} ≥ ${FEATURE_KS_D_ALERT} (p ${x.ksP.toExponential(2)})`,
      });
  }
  return out;
}

function decayAlerts(m: ModelDecay, day: string): DataAlert[] {
  if (m.drop === null || !(m.drop > MODEL_DECAY_AUC_DROP)) return [];
  return [
    {
      day,
      check: 'model_decay',
      subject: `model ${m.version}`,
      figure: 'auc_drop',
      value: m.drop,
      threshold: MODEL_DECAY_AUC_DROP,
      message: `model ${m.version} of ${m.placement}: AUC ${m.currentAuc?.toFixed(3)} on the latest half against ${m.offlineAuc?.toFixed(3)} offline (drop ${m.drop.toFixed(3)} > ${MODEL_DECAY_AUC_DROP})`,
    },
  ];
}

/**
 * Replays the placement's events of the window (after FEATURE_WARMUP_MS of warm-up) into examples,
 * with the newest model's feature parameters when it loads (else the defaults), then compares the
 * halves feature by feature and scores the last half with the model.
 */
async function featureDriftAndDecay(
  deps: DataReportDeps,
  placement: string,
  sinceTs: number,
  untilTs: number,
): Promise<{ features: FeatureDrift | null; featureNote: string | null; modelDecay: ModelDecay | null; modelNote: string | null }> {
  const newest = (await deps.models.listModels({ placement }))[0];
  const record = newest && (await deps.models.getModel(newest.version));
  const loaded = record ? loadRanker(record) : undefined;
  let ranker: LoadedRanker | undefined;
  let modelNote: string | null = null;
  if (!record) modelNote = `no model of ${placement} in the registry`;
  else if (loaded && !loaded.ok) modelNote = loaded.error;
  else if (loaded?.ok) ranker = loaded.ranker;
  const params: FeatureParams = ranker?.params ?? DEFAULT_FEATURE_PARAMS;

  const catalog = new CatalogIndex(await deps.articles.articlesStoredSince(0));
  const replay = new ExampleReplay(catalog, { placement, fromTs: sinceTs, params });
  await deps.models.scanTrainingEvents(sinceTs - FEATURE_WARMUP_MS, untilTs, (batch) => {
    for (const e of batch) replay.push(e);
  });
  const set = replay.done();
  if (set.n === 0)
    return {
      features: null,
      featureNote: `no impressions of ${placement} in the window: no features to compare`,
      modelDecay: null,
      modelNote,
    };
  const midTs = sinceTs + Math.floor((untilTs - sinceTs) / 2);
  let k = 0;
  while (k < set.n && set.ts[k]! < midTs) k++;
  const first = sampleRows(0, k);
  const last = sampleRows(k, set.n);
  const halves = [
    { fromTs: sinceTs, toTs: midTs, rows: k, sampled: first.length },
    { fromTs: midTs, toTs: untilTs, rows: set.n - k, sampled: last.length },
  ];
  let features: FeatureDrift | null = null;
  let featureNote: string | null = null;
  if (first.length === 0 || last.length === 0) featureNote = 'one half of the window has no examples: no features to compare';
  else {
    features = { placement, halves, features: [] };
    if (halves.some((h) => h.sampled < FEATURE_MIN_ROWS))
      featureNote = `fewer than ${FEATURE_MIN_ROWS} examples in a half: the figures are shown, without alerts`;
    for (let c = 0; c < set.d; c++) {
      const a = column(set, first, c);
      const b = column(set, last, c);
      // Bins at the deciles of the first half (psiNumeric).
      const psi = psiNumeric(a, b);
      const ks = ksTwoSample(a, b);
      features.features.push({ name: FEATURE_NAMES[c] ?? `f${c}`, psi: psi.psi, level: psi.level, ksD: ks.d, ksP: ks.pValue });
    }
  }

  let modelDecay: ModelDecay | null = null;
  if (ranker && record) {
    const n = set.n - k;
    const X = set.X.subarray(k * set.d, set.n * set.d);
    const raw = n > 0 ? ranker.scorer.predictRawBatch(X, n, new Float64Array(n)) : new Float64Array(0);
    const current = n > 0 ? auc(raw, set.y.subarray(k, set.n)) : Number.NaN;
    const offline = record.metrics.auc;
    const currentAuc = Number.isFinite(current) ? current : null;
    modelDecay = {
      version: record.version,
      placement,
      offlineAuc: offline,
      currentAuc,
      examples: n,
      drop: offline !== null && currentAuc !== null ? offline - currentAuc : null,
      overlapsTraining: record.window.untilTs > midTs && record.window.sinceTs < untilTs,
    };
    if (currentAuc === null) modelNote = 'the latest half has no click or no non-click: no AUC';
  }
  return { features, featureNote, modelDecay, modelNote };

  /** Every k-th row of [from, to), at most FEATURE_SAMPLE_ROWS of them (rows are in time order: the sample spans the half). */
  function sampleRows(from: number, to: number): number[] {
    const step = Math.max(1, Math.ceil((to - from) / FEATURE_SAMPLE_ROWS));
    const rows: number[] = [];
    for (let i = from; i < to; i += step) rows.push(i);
    return rows;
  }
}

function column(set: ExampleSet, rows: readonly number[], c: number): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = set.X[rows[i]! * set.d + c]!;
  return out;
}
