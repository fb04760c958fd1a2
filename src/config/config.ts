import { DomainError } from '../core/kernel/errors.js';

/**
 * The only reader of the environment. Every setting has a default with its unit; the result is
 * validated and frozen. Command-line flags arrive as `overrides` and win over the environment.
 */
export interface Config {
  /** Database URL: sqlite:PATH, sqlite::memory: or postgres://... */
  db: string;
  host: string;
  port: number;
  /** Admin API key; when unset, one is generated on first start and stored hashed in the database. */
  adminKey: string | undefined;
  /** Ingest key for server-to-server events (subscribe); generated like the admin key when unset. */
  ingestKey: string | undefined;
  /** Bearer token that may read GET /metrics and nothing else; unset: /metrics takes the admin key only. */
  metricsToken: string | undefined;
  /** Origins allowed to call the API from a browser (CORS); empty = same origin only. */
  corsOrigins: string[];
  /**
   * Which proxies in front of the server to believe about the client's address (X-Forwarded-For) and
   * protocol (X-Forwarded-Proto): false (none, the socket's peer is the client), true (any), a number
   * of proxy hops, or their addresses / CIDR ranges. Fastify's `trustProxy`; the rate limits count per
   * client address, so behind a proxy this must name it or every reader shares one limit.
   */
  trustProxy: boolean | number | string[];
  /** Most GET /v1/recommendations requests per client address per minute, per process; 0 = no limit. */
  rateLimitRecommendationsPerMin: number;
  /** Most POST /v1/events requests (batches) per client address per minute, per process; 0 = no limit. */
  rateLimitEventsPerMin: number;
  /** Most requests per client address per minute to each page of the demo site and to GET /sdk.js, per process; 0 = no limit. */
  rateLimitSitePerMin: number;
  /** Largest request body, bytes. */
  bodyLimitBytes: number;
  /** Longest time from a request's first byte to the end of its headers, milliseconds. */
  headersTimeoutMs: number;
  /** Longest time from a request's first byte to the end of its body, milliseconds; at least headersTimeoutMs. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, milliseconds. */
  keepAliveTimeoutMs: number;
  /** Oldest accepted client timestamp, milliseconds before the receive time. */
  eventMaxPastMs: number;
  /** Newest accepted client timestamp, milliseconds after the receive time. */
  eventMaxFutureMs: number;
  /** Most events in one commit of the collector's group commit. */
  maxEventsPerCommit: number;
  /** SQLite durability: FULL survives power loss, NORMAL survives a process crash only. */
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** PostgreSQL connections per process. */
  pgPoolSize: number;
  /** Longest time serve/exposure records wait in memory before they are written, milliseconds. */
  recordFlushIntervalMs: number;
  /** Buffered serve/exposure records that trigger a write at once, without waiting for the flush interval, records. */
  recordMaxBuffered: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Reading signals replayed from storage at start to rebuild popularity and co-reads, milliseconds. */
  replayMs: number;
  /**
   * Reading signals kept in memory, newest first, to build the counters of a recommender deployed
   * later with new parameters (the replay fills them at start), signals; 17 bytes each.
   */
  signalCapacity: number;
  /**
   * Readers whose recent reads the fresh state remembers, for the already-read filter and for
   * co-reads (a read pairs with the reader's previous ones), readers; at least the most recent half
   * of them are kept.
   */
  maxReaders: number;
  /** Recent reads remembered per reader for the already-read filter, reads. */
  historyPerReader: number;
  /**
   * (Experiment, reader) pairs the exposure memory holds, least recently used forgotten first and
   * read back from the database when needed (app/serving.ts ExposureMemory), entries; about 300 bytes each.
   */
  readerMemoryMax: number;
  /** How often serving polls the catalog for changes made by other processes, milliseconds. */
  catalogPollMs: number;
  /** How often serving polls the deploy version for changes made by other processes, milliseconds. */
  placementPollMs: number;
  /** How often canary guardrails are checked, milliseconds. */
  canaryCheckMs: number;
  /** How often events are rolled up for experiment reports, milliseconds. */
  rollupIntervalMs: number;
  /** Events younger than this are left to a later rollup pass (their exposure may not be stored yet), milliseconds. */
  rollupLagMs: number;
  /** Most share of wall time background rollup passes take while behind, in (0, 1]; undefined: the database's default (its StorageTuning, adapters/storage/sqlite.ts and postgres.ts). */
  rollupShare: number | undefined;
  /** Longest time a report served over HTTP spends catching the rollups up before it answers, stating how far its data goes, milliseconds. */
  reportCatchUpMs: number;
  /** How often, in data-through time, a running experiment phase's sums are kept for its timeline (a snapshot), milliseconds. */
  snapshotEveryMs: number;
  /** The currency experiment reports give revenue in (ISO 4217). */
  currency: string;
  /** Units of `currency` per unit of each other currency; revenue in a currency without one is reported apart, never added. */
  fxRates: Readonly<Record<string, number>>;
  /**
   * Run on a simulated clock (the simulated newsroom, `readnext simulate`): time moves only when
   * POST /v1/admin/sim-clock sets it, and events are accepted at simulated times. Never the
   * default; refused on a database that holds real events (main/sim-clock.ts).
   */
  simClock: boolean;
  /** Days raw events and serve records are kept, by receive (serve) time; 0 keeps them forever (app/retention.ts). */
  retentionDays: number;
}

export const DEFAULTS: Readonly<Config> = Object.freeze({
  db: 'sqlite:./data/readnext.db',
  host: '127.0.0.1',
  port: 8080,
  adminKey: undefined,
  ingestKey: undefined,
  metricsToken: undefined,
  corsOrigins: [],
  trustProxy: false,
  // No rate limit by default: behind a proxy that is not declared in READNEXT_TRUST_PROXY every reader
  // has the proxy's address and would share one limit, and the benchmarks drive tens of thousands of
  // requests a second from one address (docs/reference.md, Rate limits).
  rateLimitRecommendationsPerMin: 0,
  rateLimitEventsPerMin: 0,
  rateLimitSitePerMin: 0,
  // 36 MiB: a batch of 1000 of the largest events the schema admits, in ASCII (an impression with
  // 100 items and every string at its maxLength: 37,721 bytes; test/config/config.test.ts builds it
  // from the schema and checks that the batch fits).
  bodyLimitBytes: 36 * 1024 * 1024,
  headersTimeoutMs: 10_000, // 10 seconds
  // 30 seconds: 36 MiB arrive in that time at 10 Mbit/s. The clock stops once the request is
  // received, so a long computation is never cut off.
  requestTimeoutMs: 30_000,
  // 72 seconds, Fastify's default: longer than the 60 s idle timeout of common load balancers, so
  // the server never closes a connection a balancer is about to reuse.
  keepAliveTimeoutMs: 72_000,
  eventMaxPastMs: 24 * 60 * 60 * 1000, // 24 hours
  eventMaxFutureMs: 5 * 60 * 1000, // 5 minutes
  maxEventsPerCommit: 20_000,
  sqliteSynchronous: 'FULL',
  pgPoolSize: 10,
  recordFlushIntervalMs: 10, // 0.01 second: records then die young in the heap (see RecordWriter)
  recordMaxBuffered: 1000, // a burst written at once instead of growing the buffer until the timer fires
  logLevel: 'info',
  replayMs: 7 * 24 * 60 * 60 * 1000, // 7 days
  // The fresh state's defaults (core/recommend/fresh-state.ts DEFAULT_FRESH_STATE, checked equal in
  // test/config/config.test.ts): about 34 MB of signals, and histories of 500,000 readers.
  signalCapacity: 2_000_000,
  maxReaders: 500_000,
  historyPerReader: 50,
  readerMemoryMax: 1_000_000, // up to about 300 MB of heap (app/serving.ts DEFAULT_READER_MEMORY_MAX)
  catalogPollMs: 5000, // 5 seconds
  placementPollMs: 250, // 0.25 second: deployment changes reach every node well within 1 s
  canaryCheckMs: 10_000, // 10 seconds
  rollupIntervalMs: 5000, // 5 seconds
  rollupLagMs: 5000, // 5 seconds
  rollupShare: undefined,
  // 5 seconds: under sustained peak ingestion the rollups can be minutes behind (their background
  // share, READNEXT_ROLLUP_SHARE), and a report should answer within a request's patience.
  reportCatchUpMs: 5000,
  // 1 hour: a timeline point per hour of data is enough to follow an experiment that runs for days,
  // and about one point per simulated day in a simulation that looks once a day.
  snapshotEveryMs: 3_600_000,
  currency: 'EUR',
  fxRates: {},
  simClock: false,
  retentionDays: 0, // keep forever
});

/** Environment variable for each setting; errors name it. The README's configuration table lists every one. */
export const ENV_NAMES: Readonly<Record<keyof Config, string>> = Object.freeze({
  db: 'READNEXT_DB',
  host: 'READNEXT_HOST',
  port: 'READNEXT_PORT',
  adminKey: 'READNEXT_ADMIN_KEY',
  ingestKey: 'READNEXT_INGEST_KEY',
  metricsToken: 'READNEXT_METRICS_TOKEN',
  corsOrigins: 'READNEXT_CORS_ORIGINS',
  trustProxy: 'READNEXT_TRUST_PROXY',
  rateLimitRecommendationsPerMin: 'READNEXT_RATE_LIMIT_RECOMMENDATIONS_PER_MIN',
  rateLimitEventsPerMin: 'READNEXT_RATE_LIMIT_EVENTS_PER_MIN',
  rateLimitSitePerMin: 'READNEXT_RATE_LIMIT_SITE_PER_MIN',
  bodyLimitBytes: 'READNEXT_BODY_LIMIT_BYTES',
  headersTimeoutMs: 'READNEXT_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'READNEXT_REQUEST_TIMEOUT_MS',
  keepAliveTimeoutMs: 'READNEXT_KEEP_ALIVE_TIMEOUT_MS',
  eventMaxPastMs: 'READNEXT_EVENT_MAX_PAST_MS',
  eventMaxFutureMs: 'READNEXT_EVENT_MAX_FUTURE_MS',
  maxEventsPerCommit: 'READNEXT_MAX_EVENTS_PER_COMMIT',
  sqliteSynchronous: 'READNEXT_SQLITE_SYNCHRONOUS',
  pgPoolSize: 'READNEXT_PG_POOL_SIZE',
  recordFlushIntervalMs: 'READNEXT_RECORD_FLUSH_MS',
  recordMaxBuffered: 'READNEXT_RECORD_MAX_BUFFERED',
  logLevel: 'READNEXT_LOG_LEVEL',
  replayMs: 'READNEXT_REPLAY_MS',
  signalCapacity: 'READNEXT_SIGNAL_CAPACITY',
  maxReaders: 'READNEXT_MAX_READERS',
  historyPerReader: 'READNEXT_HISTORY_PER_READER',
  readerMemoryMax: 'READNEXT_READER_MEMORY_MAX',
  catalogPollMs: 'READNEXT_CATALOG_POLL_MS',
  placementPollMs: 'READNEXT_PLACEMENT_POLL_MS',
  canaryCheckMs: 'READNEXT_CANARY_CHECK_MS',
  rollupIntervalMs: 'READNEXT_ROLLUP_INTERVAL_MS',
  rollupLagMs: 'READNEXT_ROLLUP_LAG_MS',
  rollupShare: 'READNEXT_ROLLUP_SHARE',
  reportCatchUpMs: 'READNEXT_REPORT_CATCH_UP_MS',
  snapshotEveryMs: 'READNEXT_SNAPSHOT_EVERY_MS',
  currency: 'READNEXT_CURRENCY',
  fxRates: 'READNEXT_FX_RATES',
  simClock: 'READNEXT_SIM_CLOCK',
  retentionDays: 'READNEXT_RETENTION_DAYS',
});

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function int(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new DomainError('invalid_config', `${name} must be an integer between ${min} and ${max}, got "${raw}"`, { field: name });
  }
  return n;
}

/** Shortest key accepted from the environment: 24 characters, e.g. 18 random bytes in base64 (144 bits). */
export const MIN_KEY_LENGTH = 24;

function key(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length < MIN_KEY_LENGTH) {
    throw new DomainError(
      'invalid_config',
      `${name} must be at least ${MIN_KEY_LENGTH} characters (got ${raw.length}); e.g. openssl rand -base64 18, or leave it unset to have one generated`,
      { field: name },
    );
  }
  return raw;
}

function share(name: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) {
    throw new DomainError('invalid_config', `${name} must be a fraction in (0, 1], got "${raw}"`, { field: name });
  }
  return n;
}

const CURRENCY = /^[A-Z]{3}$/;

function currency(name: string, raw: string): string {
  const v = raw.trim();
  if (!CURRENCY.test(v))
    throw new DomainError('invalid_config', `${name} must be an ISO 4217 code of three capital letters (e.g. EUR), got "${raw}"`, {
      field: name,
    });
  return v;
}

/** "USD=0.92,GBP=1.17": units of the report's currency per unit of each; every code once, every rate a positive number. */
function fxRates(name: string, raw: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([A-Z]{3})\s*=\s*(\S+)$/.exec(part);
    const rate = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(rate) || rate <= 0) {
      throw new DomainError(
        'invalid_config',
        `${name} must be CODE=rate pairs separated by commas, each rate a positive number of the report's currency per unit (e.g. USD=0.92,GBP=1.17), got "${part}"`,
        { field: name },
      );
    }
    if (m[1]! in out) throw new DomainError('invalid_config', `${name} gives ${m[1]} twice`, { field: name });
    out[m[1]!] = rate;
  }
  return out;
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  const v = raw.trim();
  if (!(allowed as readonly string[]).includes(v))
    throw new DomainError('invalid_config', `${name} must be one of ${allowed.join(', ')}, got "${raw}"`, { field: name });
  return v as T;
}

/** A switch: 1 or true turns it on, 0 or false off (any case); anything else is an error naming the variable. */
function flag(name: string, raw: string): boolean {
  const v = oneOf(name, raw.toLowerCase(), ['1', 'true', '0', 'false'] as const);
  return v === '1' || v === 'true';
}

/**
 * READNEXT_TRUST_PROXY: true or false (any case), a number of proxy hops (1 to 100), or addresses and
 * CIDR ranges separated by commas (e.g. 127.0.0.1,10.0.0.0/8); anything else is an error naming it.
 */
function trustProxy(name: string, raw: string): boolean | number | string[] {
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^\d+$/.test(v)) return int(name, v, 1, 100);
  const list = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (list.length === 0 || !list.every((a) => /^[0-9a-f.:]+(\/\d{1,3})?$/.test(a) && (a.includes('.') || a.includes(':')))) {
    throw new DomainError(
      'invalid_config',
      `${name} must be true, false, a number of proxy hops or addresses / CIDR ranges separated by commas (e.g. 127.0.0.1,10.0.0.0/8), got "${raw}"`,
      { field: name },
    );
  }
  return list;
}

/**
 * Refuses a retention shorter than what the server reads back at start: the warm-up replays the
 * events whose client time is within READNEXT_REPLAY_MS of now (app/fresh-feed.ts), and a client
 * time may be up to READNEXT_EVENT_MAX_FUTURE_MS after the receive time retention deletes by, so
 * the window must cover both. 0 keeps everything.
 */
export function checkRetention(days: number, replayMs: number, eventMaxFutureMs: number): void {
  if (days === 0) return;
  const min = Math.ceil((replayMs + eventMaxFutureMs) / 86_400_000);
  if (days < min) {
    throw new DomainError(
      'invalid_config',
      `READNEXT_RETENTION_DAYS must be 0 (keep everything) or at least ${min}, got ${days}: the serving state is rebuilt at start from the events of the last READNEXT_REPLAY_MS (${replayMs} ms) plus READNEXT_EVENT_MAX_FUTURE_MS (${eventMaxFutureMs} ms)`,
      { field: 'READNEXT_RETENTION_DAYS' },
    );
  }
}

/**
 * Builds the configuration from the environment and overrides, then freezes it.
 *
 * @example
 * const config = loadConfig({ port: 0 }); // env READNEXT_* for the rest
 */
export function loadConfig(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const e = (k: keyof Config): string | undefined => {
    const v = env[ENV_NAMES[k]];
    return v === undefined || v === '' ? undefined : v;
  };
  const c: Config = { ...DEFAULTS, corsOrigins: [...DEFAULTS.corsOrigins] };
  const s = (k: keyof Config) => e(k);
  if (s('db')) c.db = s('db')!;
  if (s('host')) c.host = s('host')!;
  if (s('port')) c.port = int(ENV_NAMES.port, s('port')!, 0, 65535);
  c.adminKey = key(ENV_NAMES.adminKey, s('adminKey'));
  c.ingestKey = key(ENV_NAMES.ingestKey, s('ingestKey'));
  c.metricsToken = s('metricsToken');
  if (c.metricsToken !== undefined && c.metricsToken.length < MIN_KEY_LENGTH) {
    const why = `${ENV_NAMES.metricsToken} must be at least ${MIN_KEY_LENGTH} characters; e.g. openssl rand -base64 18`;
    throw new DomainError('invalid_config', why, { field: ENV_NAMES.metricsToken });
  }
  if (s('corsOrigins'))
    c.corsOrigins = s('corsOrigins')!
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
  if (s('trustProxy')) c.trustProxy = trustProxy(ENV_NAMES.trustProxy, s('trustProxy')!);
  for (const k of ['rateLimitRecommendationsPerMin', 'rateLimitEventsPerMin', 'rateLimitSitePerMin'] as const) {
    if (s(k)) c[k] = int(ENV_NAMES[k], s(k)!, 0, 100_000_000);
  }
  if (s('bodyLimitBytes')) c.bodyLimitBytes = int(ENV_NAMES.bodyLimitBytes, s('bodyLimitBytes')!, 1024, 64 * 1024 * 1024);
  if (s('headersTimeoutMs')) c.headersTimeoutMs = int(ENV_NAMES.headersTimeoutMs, s('headersTimeoutMs')!, 100, 3_600_000);
  if (s('requestTimeoutMs')) c.requestTimeoutMs = int(ENV_NAMES.requestTimeoutMs, s('requestTimeoutMs')!, 100, 3_600_000);
  if (s('keepAliveTimeoutMs')) c.keepAliveTimeoutMs = int(ENV_NAMES.keepAliveTimeoutMs, s('keepAliveTimeoutMs')!, 100, 3_600_000);
  if (s('eventMaxPastMs')) c.eventMaxPastMs = int(ENV_NAMES.eventMaxPastMs, s('eventMaxPastMs')!, 0, 3650 * 86_400_000);
  if (s('eventMaxFutureMs')) c.eventMaxFutureMs = int(ENV_NAMES.eventMaxFutureMs, s('eventMaxFutureMs')!, 0, 3650 * 86_400_000);
  if (s('maxEventsPerCommit')) c.maxEventsPerCommit = int(ENV_NAMES.maxEventsPerCommit, s('maxEventsPerCommit')!, 1, 1_000_000);
  if (s('sqliteSynchronous'))
    c.sqliteSynchronous = oneOf(ENV_NAMES.sqliteSynchronous, s('sqliteSynchronous')!.toUpperCase(), ['FULL', 'NORMAL'] as const);
  if (s('pgPoolSize')) c.pgPoolSize = int(ENV_NAMES.pgPoolSize, s('pgPoolSize')!, 1, 1000);
  if (s('recordFlushIntervalMs')) c.recordFlushIntervalMs = int(ENV_NAMES.recordFlushIntervalMs, s('recordFlushIntervalMs')!, 1, 60_000);
  if (s('recordMaxBuffered')) c.recordMaxBuffered = int(ENV_NAMES.recordMaxBuffered, s('recordMaxBuffered')!, 1, 1_000_000);
  if (s('logLevel')) c.logLevel = oneOf(ENV_NAMES.logLevel, s('logLevel')!, LOG_LEVELS);
  if (s('replayMs')) c.replayMs = int(ENV_NAMES.replayMs, s('replayMs')!, 0, 365 * 86_400_000);
  // Up to 100 million signals (1.7 GB) and readers: beyond that, memory, not the setting, is the limit.
  if (s('signalCapacity')) c.signalCapacity = int(ENV_NAMES.signalCapacity, s('signalCapacity')!, 1000, 100_000_000);
  if (s('maxReaders')) c.maxReaders = int(ENV_NAMES.maxReaders, s('maxReaders')!, 2, 100_000_000);
  if (s('historyPerReader')) c.historyPerReader = int(ENV_NAMES.historyPerReader, s('historyPerReader')!, 1, 1000);
  if (s('readerMemoryMax')) c.readerMemoryMax = int(ENV_NAMES.readerMemoryMax, s('readerMemoryMax')!, 2, 100_000_000);
  if (s('catalogPollMs')) c.catalogPollMs = int(ENV_NAMES.catalogPollMs, s('catalogPollMs')!, 100, 3_600_000);
  if (s('placementPollMs')) c.placementPollMs = int(ENV_NAMES.placementPollMs, s('placementPollMs')!, 50, 3_600_000);
  if (s('canaryCheckMs')) c.canaryCheckMs = int(ENV_NAMES.canaryCheckMs, s('canaryCheckMs')!, 100, 3_600_000);
  if (s('rollupIntervalMs')) c.rollupIntervalMs = int(ENV_NAMES.rollupIntervalMs, s('rollupIntervalMs')!, 100, 3_600_000);
  if (s('rollupLagMs')) c.rollupLagMs = int(ENV_NAMES.rollupLagMs, s('rollupLagMs')!, 0, 3_600_000);
  if (s('rollupShare')) c.rollupShare = share(ENV_NAMES.rollupShare, s('rollupShare')!);
  if (s('reportCatchUpMs')) c.reportCatchUpMs = int(ENV_NAMES.reportCatchUpMs, s('reportCatchUpMs')!, 0, 3_600_000);
  if (s('snapshotEveryMs')) c.snapshotEveryMs = int(ENV_NAMES.snapshotEveryMs, s('snapshotEveryMs')!, 1000, 30 * 86_400_000);
  if (s('currency')) c.currency = currency(ENV_NAMES.currency, s('currency')!);
  if (s('fxRates')) c.fxRates = fxRates(ENV_NAMES.fxRates, s('fxRates')!);
  if (s('simClock')) c.simClock = flag(ENV_NAMES.simClock, s('simClock')!);
  if (s('retentionDays')) c.retentionDays = int(ENV_NAMES.retentionDays, s('retentionDays')!, 0, 36_500);
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535)
    throw new DomainError('invalid_config', `port must be an integer between 0 and 65535, got ${c.port}`, { field: 'port' });
  if (c.headersTimeoutMs > c.requestTimeoutMs) {
    throw new DomainError(
      'invalid_config',
      `${ENV_NAMES.headersTimeoutMs} (${c.headersTimeoutMs}) must not exceed ${ENV_NAMES.requestTimeoutMs} (${c.requestTimeoutMs}): the headers are part of the request`,
      { field: ENV_NAMES.headersTimeoutMs },
    );
  }
  if (c.fxRates[c.currency] !== undefined && c.fxRates[c.currency] !== 1) {
    throw new DomainError(
      'invalid_config',
      `${ENV_NAMES.fxRates} gives ${c.currency}, the report's currency (${ENV_NAMES.currency}), a rate other than 1`,
      { field: ENV_NAMES.fxRates },
    );
  }
  // PostgreSQL's rollups count every event once whatever its commit delay (the commit-safe watermark),
  // but a pass's data-through time assumes the events received before it have committed: the lag
  // bounds that claim. Checked here to fail before opening anything; the floor is the storage's
  // (adapters/storage/postgres.ts minLag, checked again by main with checkRollupLag).
  if (/^postgres(ql)?:/.test(c.db) && c.rollupLagMs < 1000) {
    throw new DomainError(
      'invalid_config',
      `${ENV_NAMES.rollupLagMs} must be at least 1000 on PostgreSQL, got ${c.rollupLagMs}: a rollup pass's data-through time (reports, experiment snapshots) assumes events received before it have committed; later ones are counted by a later pass`,
      { field: ENV_NAMES.rollupLagMs },
    );
  }
  if (Array.isArray(c.trustProxy)) c.trustProxy = Object.freeze([...c.trustProxy]) as string[];
  checkRetention(c.retentionDays, c.replayMs, c.eventMaxFutureMs);
  return Object.freeze({ ...c, corsOrigins: Object.freeze([...c.corsOrigins]) as string[], fxRates: Object.freeze({ ...c.fxRates }) });
}
