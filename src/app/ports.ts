import type { Article, ArticleStatus } from '../core/catalog/article.js';
import type { ExposureRecord, ServeRecord } from '../core/events/records.js';
import type { StoredEvent } from '../core/events/schema.js';
import type { ArmSums, RevenueCurrency } from '../core/analysis/metrics.js';
import type { Experiment } from '../core/experiments/experiment.js';
import type { PlacementConfig } from '../core/recommend/placement.js';
import type { TrainingEvent } from '../core/ml/examples.js';
import type { ModelRecord, ModelSummary } from '../core/ml/model.js';

/**
 * The smallest store interfaces the use cases need, owned by the use cases. Adapters implement
 * them per database; database rows never cross this line.
 */

/** What happened to one event on append: stored now, already stored identically, or already stored with another payload (the first one stands). */
export type AppendOutcome = 'accepted' | 'duplicate' | 'conflict';

export interface EventStore {
  /**
   * Stores a batch in one transaction and resolves only once it is durable. Outcomes are in input
   * order. An id seen before (earlier in this batch or in storage) is not stored again.
   *
   * @example
   * await store.appendEvents([{ ...readEvent, receivedTs: clock.now() }]) // ['accepted']
   */
  appendEvents(events: readonly StoredEvent[]): Promise<AppendOutcome[]>;
  /** Reads events back by id (tests, audits); unknown ids are absent from the result. */
  getEvents(eventIds: readonly string[]): Promise<StoredEvent[]>;
  countEvents(): Promise<number>;
  /**
   * Streams the reading signals (read, click, article page_view) and the live impressions (not
   * shadow, of any placement) with a client time at or after `sinceTs`, oldest first (ties in
   * commit order on SQLite, in receive order on PostgreSQL), to rebuild the fresh serving state at
   * start. The scan reads one snapshot of the events, fixed before `pinned` is called (and before
   * the first batch): an event stored after `pinned` is not in it, so a server may take events
   * while it scans, and count each once. The scan lets other queries and the event loop run while
   * it goes on, and reads the rows only once a promise returned by `pinned` has resolved (tests hold
   * a scan there). A throw from `onBatch` ends the scan with that error.
   */
  scanSignals(sinceTs: number, onBatch: (rows: SignalRow[]) => void, pinned?: () => void | Promise<void>): Promise<number>;
  /**
   * Adds to the counts of events the collector did not store (migration 0013), per UTC day of
   * receipt and reason. A store without it keeps no counts (the data report then shows none).
   *
   * @example
   * await store.countRejections?.([{ day: '2026-03-01', reason: 'invalid_field', count: 2 }])
   */
  countRejections?(counts: readonly RejectionCount[]): Promise<void>;
}

/** Events not stored on one UTC day (YYYY-MM-DD, of receipt) for one reason: a rejection code, or `duplicate` / `conflict`. */
export interface RejectionCount {
  day: string;
  reason: string;
  count: number;
}

/**
 * One row of the startup replay (EventStore.scanSignals): a reading signal, or a live impression
 * with the ids of its shown items in the event's order (what FreshFeed applies from a stored event:
 * core/recommend/signals.ts signalOf, impressionOf).
 */
export type SignalRow =
  | { type: 'read' | 'click' | 'page_view'; readerId: string; articleId: string; clientTs: number }
  | { type: 'impression'; readerId: string; articleIds: string[]; clientTs: number };

export interface StoredPlacement {
  name: string;
  config: PlacementConfig;
  revision: number;
  updatedTs: number;
}

/** Who made a change and why: every deployment and experiment change is audited. */
export interface Actor {
  actor: string;
  reason: string | null;
}

export interface AuditEntry {
  id: number;
  ts: number;
  actor: string;
  action: string;
  target: string;
  reason: string | null;
  details: unknown;
}

export interface StoredExperiment {
  experiment: Experiment;
  revision: number;
}

/**
 * Placements (their deployments) and experiments. Every write is one transaction that also
 * appends to the audit log and moves the deploy version that serving nodes poll.
 */
export interface PlacementStore {
  listPlacements(): Promise<StoredPlacement[]>;
  getPlacement(name: string): Promise<StoredPlacement | undefined>;
  /**
   * Writes a placement if its stored revision is still `expectedRevision` (0 = must not exist yet);
   * returns the new revision, or undefined when someone else changed it first.
   */
  putPlacement(config: PlacementConfig, expectedRevision: number, ts: number, by: Actor, action: string): Promise<number | undefined>;
  /** The config a placement had at `revision`, for rollbacks. */
  getPlacementRevision(name: string, revision: number): Promise<StoredPlacement | undefined>;
  listPlacementRevisions(name: string): Promise<(StoredPlacement & Actor)[]>;
  listExperiments(): Promise<StoredExperiment[]>;
  getExperiment(id: string): Promise<StoredExperiment | undefined>;
  /** Compare-and-set like putPlacement (0 = create). */
  putExperiment(
    e: Experiment,
    expectedRevision: number,
    ts: number,
    by: Actor,
    action: string,
    details?: unknown,
  ): Promise<number | undefined>;
  /** Moves on every placement or experiment change. */
  deployVersion(): Promise<number>;
  listAudit(opts: { limit: number; target?: string }): Promise<AuditEntry[]>;
}

/** Which articles a listing holds: one section, and a text the title contains (case-insensitive, ASCII letters only on SQLite). */
export interface ArticleFilter {
  section?: string;
  q?: string;
}

export interface ArticleStore {
  /** Inserts or replaces articles by id; idempotent. Returns how many ids were new. `storedTs` stamps the rows for articlesStoredSince. */
  upsertArticles(articles: readonly Article[], storedTs: number): Promise<{ inserted: number; updated: number }>;
  getArticle(id: string): Promise<Article | undefined>;
  setArticleStatus(id: string, status: ArticleStatus, storedTs: number): Promise<boolean>;
  /** Articles written (upserted or status changed) at or after `sinceTs`, in any order. */
  articlesStoredSince(sinceTs: number): Promise<Article[]>;
  deleteArticle(id: string): Promise<boolean>;
  /** How many articles match the filter (all of them without one). */
  countArticles(filter?: ArticleFilter): Promise<number>;
  /** Newest first by publication time. */
  listArticles(opts: { limit: number; offset: number } & ArticleFilter): Promise<Article[]>;
}

export interface RecordStore {
  /**
   * Inserts exposures; an exposure already stored for (experiment, phase, reader) is kept as is.
   * Both appends store all the records or none (the RecordWriter writes a refused write again in parts).
   */
  appendExposures(records: readonly ExposureRecord[]): Promise<void>;
  appendServes(records: readonly ServeRecord[]): Promise<void>;
  listExposures(experiment: string): Promise<ExposureRecord[]>;
  /** The stored exposures of these readers to an experiment from phase `fromPhase` on, in any order (serving's read-back: app/exposure-lookup.ts). */
  exposuresOf(
    experiment: string,
    readerIds: readonly string[],
    fromPhase: number,
  ): Promise<{ readerId: string; arm: string; phase: number }[]>;
  /** The `limit` latest exposures to an experiment (by exposure time), oldest first: what a server preloads at start. */
  recentExposures(experiment: string, limit: number): Promise<{ readerId: string; arm: string; phase: number }[]>;
  listServes(opts: { limit: number; recommId?: string }): Promise<ServeRecord[]>;
  /** Serve records (live and shadow) of a placement since a time, oldest first, at most `limit`. */
  servesSince(placement: string, sinceTs: number, limit: number): Promise<ServeRecord[]>;
  /**
   * Impressions and clicks attributed (by recommId) to the non-shadow responses of a placement
   * served since a time, per arm (null = served outside any experiment or canary).
   */
  engagementByArm(
    placement: string,
    sinceTs: number,
  ): Promise<{ arm: string | null; responses: number; impressions: number; clicks: number }[]>;
  /** Articles read or viewed in the given sessions since a time (the "next reads" of shadow reports). */
  sessionReads(sessionIds: readonly string[], sinceTs: number): Promise<{ sessionId: string; articleId: string; clientTs: number }[]>;
  /**
   * Whether each response was shown (an impression names its recommId) and which articles were
   * clicked on it (click events naming the recommId): off-policy evaluation's outcomes.
   */
  engagementOfServes(recommIds: readonly string[]): Promise<Map<string, { impressed: boolean; clicked: Set<string> }>>;
  /** Clicks on the responses of an experiment with the team of the clicked slot, per reader. */
  interleavingClicks(experiment: string, phase: number): Promise<{ readerId: string; team: string | null }[]>;
}

/** A phase whose exposures take events in the rollups, and its end (null while it runs). */
export interface RollupWindow {
  experiment: string;
  phase: number;
  /** The phase's start: no exposure of the phase is older. */
  fromTs: number;
  toTs: number | null;
  /** The experiment's placement: CTR counts its impressions and clicks only. */
  placement: string;
}

/** Revenue after exposure in a currency without a rate, per arm and currency: never added to revenue. */
export interface UnpricedRevenue {
  arm: string;
  currency: string;
  readers: number;
  events: number;
  /** In `currency`, major units. */
  amount: number;
}

export interface RollupProgress {
  /** Events rolled up by this pass. */
  events: number;
  /** Every event received before this time has been rolled up. */
  throughTs: number;
  /** False when more events wait (the pass stopped at its batch size). */
  caughtUp: boolean;
  /** The pass also merged what earlier passes appended (SQLite's deltas): its time says nothing of its events'. */
  compacted?: boolean;
  /** Caught up, with deltas still to merge (SQLite: a large merge runs over several passes): the chain goes on. */
  moreToMerge?: boolean;
  /** Something the pass repaired that the operator should know (logged once): a cursor or watermark copied from another database. */
  notice?: string;
}

/** The aggregates analysis needs, pushed down to the database. */
export interface AnalysisStore {
  /**
   * Rolls up the next batch of stored events (at most about `maxEvents`, received before
   * `cutoffTs`) into the per-exposure measures of the given phases. Safe to call from several
   * processes: passes are serialised by the database. Revenue is converted to `money.currency`
   * (default DEFAULT_REVENUE_CURRENCY); a pass in another currency than earlier passes fails.
   */
  advanceRollups(windows: readonly RollupWindow[], cutoffTs: number, maxEvents: number, money?: RevenueCurrency): Promise<RollupProgress>;
  /** Per arm and currency, revenue in a currency without a rate (see UnpricedRevenue). */
  unpricedRevenue(experiment: string, phase: number): Promise<UnpricedRevenue[]>;
  /** Per-arm sums of the rolled-up per-reader measures of a phase (from first exposure to the phase's end). */
  armSums(experiment: string, phase: number, opts?: { revenueCap?: number }): Promise<ArmSums[]>;
  /** Per arm, from the live `serve` records of the experiment's phase: responses, faults, Σ and Σ² of latency, max latency. */
  serveSums(
    experiment: string,
    phase: number,
  ): Promise<{ arm: string; responses: number; faults: number; latencySum: number; latencySumSquares: number; latencyMax: number }[]>;
  /**
   * Stores a phase's per-arm sums as they stood at `ts` (migration 0016; the rollups take one now
   * and then, app/rollups.ts): the rollups keep running totals only, so the experiment's timeline
   * (app/timeline.ts) reads these. A snapshot already stored at the same time stands.
   */
  saveExperimentSnapshot(s: ExperimentSnapshot): Promise<void>;
  /** A phase's snapshots, oldest first. */
  listExperimentSnapshots(experiment: string, phase: number): Promise<ExperimentSnapshot[]>;
  /** The time of the latest snapshot of every phase that has one. */
  latestExperimentSnapshots(): Promise<{ experiment: string; phase: number; ts: number }[]>;
}

/**
 * An experiment phase's per-arm sums (AnalysisStore.armSums, without a revenue cap) with every
 * event received before `ts` rolled up: its data-through time.
 *
 * @example
 * await store.saveExperimentSnapshot({ experiment: 'e1', phase: 1, ts: progress.throughTs, sums: await store.armSums('e1', 1) });
 */
export interface ExperimentSnapshot {
  experiment: string;
  phase: number;
  ts: number;
  sums: ArmSums[];
}

/** What an API key may do (app/keys.ts): `admin` implies the other three. */
export type KeyScope = 'read' | 'write' | 'admin' | 'ingest';

/** An API key as stored: its hash, never the key itself (migration 0018). */
export interface StoredKey {
  id: string;
  name: string;
  scopes: KeyScope[];
  /** SHA-256 of the key (Secrets.hash). */
  hash: string;
  /** The key's first characters, for recognition; undefined for keys stored before migration 0018. */
  prefix: string | undefined;
  createdTs: number;
  revokedTs: number | undefined;
}

/**
 * API keys with scopes (app/keys.ts).
 *
 * @example
 * if (!(await store.insertKey(k))) ... // the id or the hash was taken
 */
export interface KeyStore {
  /** Every key, revoked ones included, oldest first. */
  listKeys(): Promise<StoredKey[]>;
  /** Stores the key unless its id (or hash) is taken; true when it was stored. */
  insertKey(key: StoredKey): Promise<boolean>;
  /** Sets revokedTs on a live key; the key as it stands after, or undefined for an unknown id. */
  revokeKey(id: string, ts: number): Promise<StoredKey | undefined>;
}

/**
 * Facts about the database itself, as text under a key (migration 0011): `clock` = `simulated` on a
 * database a simulated clock has run on (main/sim-clock.ts).
 *
 * @example
 * if ((await store.getMeta('clock')) === 'simulated') ...
 */
export interface MetaStore {
  getMeta(key: string): Promise<string | undefined>;
  /** Writes the value, replacing any earlier one. */
  setMeta(key: string, value: string): Promise<void>;
}

/**
 * The model registry (migration 0012): trained rankers with their feature spec, training window,
 * seed, trees and offline metrics. Versions are given by the store, increasing, never reused.
 *
 * @example
 * const version = await store.putModel({ placement: 'read-next', ...trained });
 * const m = await store.getModel(version);
 */
export interface ModelStore {
  /** Stores a model under a new version (above every version ever stored); returns the version. */
  putModel(m: Omit<ModelRecord, 'version'>): Promise<number>;
  getModel(version: number): Promise<ModelRecord | undefined>;
  /** Models without their trees, newest first; of one placement when given. */
  listModels(opts?: { placement?: string }): Promise<ModelSummary[]>;
  /** Removes a model; false when there was none. */
  deleteModel(version: number): Promise<boolean>;
  /**
   * Streams the events training replays (reads, page views, clicks, impressions) with a client
   * time in [fromTs, toTs), in client-time order, in batches.
   */
  scanTrainingEvents(fromTs: number, toTs: number, onBatch: (events: TrainingEvent[]) => void): Promise<number>;
}

/** One stored revision of a named ROI scenario (issue 19): the document analysed, the measurements used, the result. */
export interface RoiRevision<D = unknown, S = unknown, R = unknown> {
  id: number;
  name: string;
  createdTs: number;
  document: D;
  sources: S;
  result: R;
}

/** The ROI's revisions, never updated (app/roi.ts). */
export interface RoiStore {
  /** Stores a revision; returns its id (above every id stored before). */
  addRoiRevision(r: Omit<RoiRevision, 'id'>): Promise<number>;
  /** The revisions of `name`, oldest first; of every name when none is given. */
  listRoiRevisions(name?: string): Promise<RoiRevision[]>;
}

/** Event counts of a window for the data report's quality part (DataReportStore.eventQuality). */
export interface EventQualityCounts {
  /** Events with a client time in the window, per type. */
  byType: Record<string, number>;
  /** Events naming an article (article_id set), and those whose article the catalog does not hold. */
  withArticle: number;
  unknownArticle: number;
  /** Impressions, and those whose recommId no serve record (served up to SERVE_LOOKBACK before the window) holds. */
  impressions: number;
  impressionsWithoutServe: number;
  /** Clicks, and those whose recommId no impression (up to the same look-back before the window) carries. */
  clicks: number;
  clicksWithoutImpression: number;
  /** Events beyond the first with the same reader, type, article and client time (under other event ids). */
  sameContentRepeats: number;
}

/**
 * The aggregates of the data report (app/data-report.ts), pushed down as SQL: each returns counts,
 * never events. Windows are client times [sinceTs, untilTs), epoch ms; `day` is the UTC day number
 * floor(clientTs / 86,400,000).
 *
 * @example
 * const q = await store.eventQuality(since, until);
 * q.unknownArticle / q.withArticle // share of events naming an article the catalog lacks
 */
export interface DataReportStore {
  /** The stored rejection counts (EventStore.countRejections) of the days fromDay..toDay (YYYY-MM-DD, both included). */
  rejectionCounts(fromDay: string, toDay: string): Promise<RejectionCount[]>;
  eventQuality(sinceTs: number, untilTs: number): Promise<EventQualityCounts>;
  /**
   * The given quantiles (each in (0, 1]) of |clientTs − receivedTs| over the window's events, in
   * milliseconds: the value at rank ⌈q·n⌉ of the sorted differences; `n` events.
   */
  clockSkew(sinceTs: number, untilTs: number, quantiles: readonly number[]): Promise<{ n: number; values: number[] }>;
  /** Catalog articles, those without text (no lead and no body, or only blanks) and those without a section. */
  catalogGaps(): Promise<{ articles: number; withoutText: number; withoutSection: number }>;
  /**
   * Per day (of the impression) and placement: live (not shadow) impressions, and the clicks that
   * carry their recommId.
   */
  dailyPlacementCtr(sinceTs: number, untilTs: number): Promise<{ day: number; placement: string; impressions: number; clicks: number }[]>;
  /**
   * Per day (of the impression), placement and section (null: no section, or an article the catalog
   * lacks): live impressions counted per shown item (a slate of 4 counts 4, each by its article's
   * section), and the clicks carrying their recommId, by the clicked article's section.
   */
  dailySectionCtr(
    sinceTs: number,
    untilTs: number,
  ): Promise<{ day: number; placement: string; section: string | null; impressions: number; clicks: number }[]>;
  /** Per day and section (null: no section, or an article the catalog lacks): reads. */
  dailyReadSections(sinceTs: number, untilTs: number): Promise<{ day: number; section: string | null; reads: number }[]>;
  /** Per day: how many readers read exactly `reads` articles that day (a histogram per day). */
  dailyReadsPerReader(sinceTs: number, untilTs: number): Promise<{ day: number; reads: number; readers: number }[]>;
}

/**
 * The Overview's daily KPIs (app/kpis.ts) as SQL aggregates over client times [sinceTs, untilTs),
 * epoch ms; `day` is the UTC day number floor(clientTs / 86,400,000), as in DataReportStore.
 */
export interface KpiStore {
  /** Per day with an event: page views, reads, readers with any event, readers with a read. */
  dailyTraffic(
    sinceTs: number,
    untilTs: number,
  ): Promise<{ day: number; pageViews: number; reads: number; readers: number; readingReaders: number }[]>;
  /** Per day and currency (of the event; '?' when absent): subscribe events and the sum of their revenue, unconverted. */
  dailyRevenue(sinceTs: number, untilTs: number): Promise<{ day: number; currency: string; events: number; amount: number }[]>;
}

export interface Storage
  extends
    EventStore,
    ArticleStore,
    RecordStore,
    KeyStore,
    PlacementStore,
    AnalysisStore,
    MetaStore,
    ModelStore,
    DataReportStore,
    RoiStore,
    KpiStore,
    ReaderStore,
    RetentionStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The rows a reader's erasure deleted, per table (ReaderStore.forgetReader). */
export interface ReaderRemoved {
  /** Raw events of every type (page views, impressions, clicks, reads, subscriptions). */
  events: number;
  /** Experiment exposures, each with the reader's rolled-up running totals. */
  exposures: number;
  /** The sessions counted for the reader's exposures (rollups). */
  exposureSessions: number;
  /** Revenue in a currency without a rate, per exposure (rollups). */
  exposureUnpriced: number;
  /** The reader's per-day sums the rollups take pre-periods from. */
  readerDays: number;
  /** Recommendation responses served to the reader (shadow slates included). */
  serves: number;
}

/** One erasure as the other processes see it: the reader's id is known by its SHA-256 only. */
export interface ReaderErasure {
  seq: number;
  readerHash: string;
  ts: number;
}

/** A reader's stored data (ReaderStore.exportReader): at most `limit` rows per kind, oldest first. */
export interface ReaderData {
  events: StoredEvent[];
  exposures: ExposureRecord[];
  serves: ServeRecord[];
  /** Kinds with more rows than the limit (those lists stop at it). */
  truncated: ('events' | 'exposures' | 'serves')[];
}

/** Privacy: a reader's data, exported or erased (migration 0017, adapters/storage/readers.ts). */
export interface ReaderStore {
  /**
   * Deletes every row keyed by the reader in one transaction and records the erasure (its hash and
   * `ts`) for the other processes; returns what it deleted and the erasure's sequence number (0, and
   * no erasure recorded, when nothing was stored).
   * @example const { removed, seq } = await store.forgetReader('r1', sha256('r1'), now);
   */
  forgetReader(readerId: string, readerHash: string, ts: number): Promise<{ removed: ReaderRemoved; seq: number }>;
  exportReader(readerId: string, limit: number): Promise<ReaderData>;
  /** Erasures after `seq`, in order. */
  readerErasuresSince(seq: number): Promise<ReaderErasure[]>;
  /** The last erasure's sequence number; 0 when none. */
  lastReaderErasure(): Promise<number>;
}

/**
 * Retention (app/retention.ts, adapters/storage/retention.ts): raw rows older than the retention
 * window, deleted a bounded batch at a time, oldest first, each batch one short transaction.
 */
export interface RetentionStore {
  /**
   * Deletes at most `limit` raw events received before `beforeTs` that the experiment rollups have
   * already passed (behind their cursor: never one still to roll up); returns how many.
   * @example const n = await store.pruneEvents(now - 30 * 86_400_000, 5000);
   */
  pruneEvents(beforeTs: number, limit: number): Promise<number>;
  /** Deletes at most `limit` serve records served before `beforeTs`; returns how many. */
  pruneServes(beforeTs: number, limit: number): Promise<number>;
}

/** The shortest rollup lag that loses no events on a database, and what to say when one shorter is configured. */
export interface RollupLagFloor {
  ms: number;
  /** The database, for the message: "PostgreSQL". */
  on: string;
  /** Why, for the message. */
  why: string;
}

/** Rollup passes sized by time (app/rollups.ts RollupOptions.adaptive). */
export interface RollupAdaptive {
  targetMs: number;
  min: number;
  max: number;
  /** While a pass ends more than `ms` of data behind the cutoff, the next ones take about `targetMs`, at most `max` events (default the max above). */
  behind?: { ms: number; targetMs: number; max?: number };
}

/**
 * How a database wants the use cases to size their work: numbers measured on it, kept with the
 * database's code (adapters/storage/sqlite.ts, postgres.ts, with their measurements) and handed to
 * the use cases as plain options by main.
 */
export interface StorageTuning {
  /** The collector's group commits: at most `maxEvents` events each (caps the configured maximum), `parallel` commits at once. */
  commits: { maxEvents: number; parallel: number };
  rollups: {
    /** Events per rollup pass; the first pass's when `adaptive` (RollupOptions.batchEvents). */
    batchEvents: number;
    /** Passes sized by time (RollupOptions.adaptive); unset: every pass takes batchEvents. */
    adaptive?: RollupAdaptive;
    /** The most wall time background passes take while behind, in (0, 1] (a report's catch-up is not limited; READNEXT_ROLLUP_SHARE overrides it). */
    backgroundShare: number;
    /** The shortest rollup lag (READNEXT_ROLLUP_LAG_MS) that loses no events. */
    minLag: RollupLagFloor;
  };
}

/** A storage as main hands it out: the ports, plus what main needs to wire the use cases. */
export interface StorageHandle extends Storage {
  readonly tuning: StorageTuning;
  /**
   * Whether a failed write was refused because of the data written (writing it again fails again),
   * not because of the connection, a lock, the disk or the server (RecordWriter's isRefusal).
   */
  refuses(e: unknown): boolean;
}

/** Secrets come from outside the app (node:crypto in main), so the app stays testable. */
export interface Secrets {
  newKey(): string;
  hash(key: string): string;
  /** Constant-time comparison of two hashes. */
  sameHash(a: string, b: string): boolean;
}

/** One live (not shadow) impression as the offline lab reads it: who was shown which articles, and which of them they clicked. */
export interface LabImpressionRow {
  recommId: string;
  /** The placement the impression was shown on. */
  placement: string;
  readerId: string;
  /** Client time, epoch ms. */
  ts: number;
  /** Shown articles in slot order. */
  items: string[];
  /** Articles clicked from this impression (clicks with its recommId). */
  clicked: string[];
}

/**
 * readnext's own events as the offline lab reads them (`readnext eval --format events`;
 * src/adapters/storage/lab.ts). Everything is loaded at once: the lab runs offline.
 *
 * @example
 * const [imps, reads] = await Promise.all([store.labImpressions(), store.labReads()]);
 */
export interface LabEventStore {
  /** Every catalog article. */
  labArticles(): Promise<Article[]>;
  /** Live impressions (shadow ones left out) with their clicks, oldest first. */
  labImpressions(): Promise<LabImpressionRow[]>;
  /** Reads, oldest first (client time). */
  labReads(): Promise<{ readerId: string; articleId: string; ts: number }[]>;
}
