import type { Generated } from 'kysely';

/**
 * Row types: the one schema both dialects share. Times are epoch milliseconds (bigint), flags
 * are integers 0/1, lists and slates are JSON text. Rows never leave this folder: `rows.ts` maps
 * them to domain values.
 */
export interface ArticleRow {
  id: string;
  url: string | null;
  title: string;
  lead: string | null;
  body: string | null;
  section: string | null;
  tags: string;
  author: string | null;
  published_ts: number;
  updated_ts: number | null;
  expires_ts: number | null;
  embargo_until_ts: number | null;
  status: string;
  paywalled: number;
  language: string | null;
  /** When this row was last written, epoch ms (server clock). */
  stored_ts: number;
}

export interface EventRow {
  event_id: string;
  type: string;
  reader_id: string;
  session_id: string;
  client_ts: number;
  received_ts: number;
  article_id: string | null;
  recomm_id: string | null;
  /** read: dwell time, milliseconds. */
  dwell_ms: number | null;
  /** subscribe: revenue, major units of `currency`. */
  revenue: number | null;
  /** The rest of the normalised event as a JSON object, nulls left out (rows.ts eventExtra). */
  extra: string;
}

/**
 * Both databases also have an integer `id`, the key of exposure_session_ids (SQLite: `integer
 * primary key autoincrement`, migration 0021; PostgreSQL: an identity column, migration 0024),
 * given by the database on insert; read only in SQL, so not typed here.
 */
export interface ExposureRow {
  experiment: string;
  phase: number;
  reader_id: string;
  arm: string;
  hash_version: number;
  exposed_ts: number;
  /** The session and article of the request that made the exposure (migration 0010; null before, or unknown). */
  session_id: string | null;
  article_id: string | null;
  impressions: Generated<number>;
  clicks: Generated<number>;
  reads: Generated<number>;
  dwell_ms: Generated<number>;
  page_views: Generated<number>;
  sessions: Generated<number>;
  subscribed: Generated<number>;
  revenue: Generated<number>;
  pre_impressions: Generated<number>;
  pre_clicks: Generated<number>;
  pre_reads: Generated<number>;
  pre_dwell_ms: Generated<number>;
  pre_page_views: Generated<number>;
  pre_subscribed: Generated<number>;
  pre_revenue: Generated<number>;
  /** 0 when stored, 2 while a rollup pass takes its pre-period and the events behind the cursor, 1 after. */
  rolled: Generated<number>;
}

export interface ExposureSessionRow {
  experiment: string;
  phase: number;
  reader_id: string;
  session_id: string;
}

/**
 * The distinct sessions after each exposure, keyed by the exposure's integer id (exposures.id;
 * SQLite: migration 0021, PostgreSQL: 0024); exposure_sessions, their text-keyed table before,
 * stays empty.
 */
export interface ExposureSessionIdRow {
  exposure_id: number;
  session_id: string;
}

/**
 * SQLite (migration 0022): what rollup passes add to an exposure (`rid`, its id), to its sessions
 * and to a reader's day, appended and merged later (adapters/storage/rollups.ts, "Deltas").
 */
export type ExposureDeltaRow = { rid: number } & Record<
  'impressions' | 'clicks' | 'reads' | 'dwell_ms' | 'page_views' | 'subscribed' | 'revenue',
  number
> &
  Record<'pre_impressions' | 'pre_clicks' | 'pre_reads' | 'pre_dwell_ms' | 'pre_page_views' | 'pre_subscribed' | 'pre_revenue', number>;
export interface ExposureSessionDeltaRow {
  rid: number;
  session_id: string;
}

/**
 * Revenue of an exposure's events in a currency without a rate (migration 0010): counted apart,
 * never added to `exposures.revenue`.
 */
export interface ExposureUnpricedRow {
  experiment: string;
  phase: number;
  reader_id: string;
  currency: string;
  events: number;
  amount: number;
}

/** Keyed (day, reader_id): old days are pruned as one range (migration 0007). */
export interface ReaderDayRow {
  /** UTC day number (receive time / 86,400,000 since migration 0010; client time before). */
  day: number;
  reader_id: string;
  impressions: number;
  clicks: number;
  reads: number;
  dwell_ms: number;
  page_views: number;
  subscribed: number;
  revenue: number;
}

export interface RollupWindowRow {
  experiment: string;
  phase: number;
  to_ts: number | null;
  /** The experiment's placement: CTR counts its impressions and clicks only (migration 0010). */
  placement: string | null;
}

/** The revenue currency's conversion rates of a pass (rewritten by each pass, like rollup_windows). */
export interface RollupRateRow {
  currency: string;
  rate: number;
}

export interface RollupStateRow {
  id: number;
  cursor: number;
  through_ts: number;
  /** The currency rolled-up revenue is in (null until the first pass after migration 0010). */
  currency: string | null;
}

export interface ServeRow {
  id: Generated<number>;
  recomm_id: string;
  placement: string;
  experiment: string | null;
  phase: number | null;
  arm: string | null;
  hash_version: number | null;
  recommender_kind: string;
  recommender_version: string;
  shadow: number;
  reader_id: string | null;
  session_id: string | null;
  article_id: string | null;
  latency_ms: number;
  fallback: number;
  fault: number;
  /** JSON text, compact (`[[id, score, reason], [id, score], ...]`) or, in older rows, an array of objects: rows.ts reads both. */
  slate: string;
  served_ts: number;
  /** JSON of the logged exploration (core/recommend/explore.ts ServeExploration); null without. */
  exploration: string | null;
}

/** Migration 0018: API keys with scopes (KeyStore); 0001's api_keys (one key per role) is gone. */
export interface AccessKeyRow {
  id: string;
  name: string;
  /** Comma-separated scopes: read, write, admin, ingest. */
  scopes: string;
  /** SHA-256 of the key, hex; the key itself is never stored. */
  key_hash: string;
  /** The key's first characters, for recognition; null for keys stored before 0018. */
  prefix: string | null;
  created_ts: number;
  revoked_ts: number | null;
}

/** Migration 0011: facts about the database (MetaStore). */
export interface MetaRow {
  key: string;
  value: string;
}

/** Migration 0012: the model registry (ModelStore); JSON in text columns. */
export interface ModelRow {
  version: Generated<number>;
  placement: string;
  created_ts: number;
  since_ts: number;
  until_ts: number;
  seed: number;
  feature_spec: string;
  model: string;
  metrics: string;
  size_bytes: number;
}

/** Migration 0013: events the collector did not store, per UTC day of receipt (YYYY-MM-DD) and reason. */
export interface EventRejectionRow {
  day: string;
  /** A validator's rejection code, or `duplicate` / `conflict`. */
  reason: string;
  count: number;
}

/** Migration 0015: the ROI's revisions (RoiStore); JSON in text columns. */
export interface RoiRevisionRow {
  id: Generated<number>;
  name: string;
  created_ts: number;
  document: string;
  sources: string;
  result: string;
}

/** Migration 0016: a phase's per-arm sums as of a data-through time (AnalysisStore snapshots); ArmSums[] as JSON. */
export interface ExperimentSnapshotRow {
  experiment: string;
  phase: number;
  ts: number;
  sums: string;
}

/** Migration 0017: readers forgotten, named by the SHA-256 of their id (ReaderStore); processes poll `seq`. */
export interface ReaderErasureRow {
  seq: Generated<number>;
  reader_hash: string;
  ts: number;
}

export interface PlacementRow {
  name: string;
  /** The PlacementConfig as JSON. */
  config: string;
  /** Incremented on every change; the serving cache compares it. */
  revision: number;
  updated_ts: number;
}

export interface PlacementRevisionRow {
  name: string;
  revision: number;
  config: string;
  ts: number;
  actor: string;
  reason: string | null;
}

export interface ExperimentRow {
  id: string;
  placement: string;
  status: string;
  /** The whole Experiment as JSON. */
  definition: string;
  revision: number;
  updated_ts: number;
}

export interface AuditRow {
  id: Generated<number>;
  ts: number;
  actor: string;
  action: string;
  target: string;
  reason: string | null;
  details: string;
}

export interface DeployStateRow {
  id: number;
  version: number;
}

export interface Database {
  articles: ArticleRow;
  events: EventRow;
  exposures: ExposureRow;
  serves: ServeRow;
  access_keys: AccessKeyRow;
  meta: MetaRow;
  models: ModelRow;
  event_rejections: EventRejectionRow;
  roi_revisions: RoiRevisionRow;
  experiment_snapshots: ExperimentSnapshotRow;
  reader_erasures: ReaderErasureRow;
  placements: PlacementRow;
  placement_revisions: PlacementRevisionRow;
  experiments: ExperimentRow;
  audit_log: AuditRow;
  deploy_state: DeployStateRow;
  exposure_sessions: ExposureSessionRow;
  exposure_session_ids: ExposureSessionIdRow;
  exposure_deltas: ExposureDeltaRow;
  exposure_session_deltas: ExposureSessionDeltaRow;
  reader_day_deltas: ReaderDayRow;
  exposure_unpriced: ExposureUnpricedRow;
  rollup_rates: RollupRateRow;
  reader_days: ReaderDayRow;
  rollup_windows: RollupWindowRow;
  rollup_state: RollupStateRow;
}
