import { createHash, hash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { timeOrderedUuid } from '../core/kernel/ids.js';
import { performance } from 'node:perf_hooks';
import { reportRollups } from '../app/analysis.js';
import { CanaryGuard } from '../app/canary.js';
import { AnalysisRollups, checkRollupLag } from '../app/rollups.js';
import { Retention } from '../app/retention.js';
import { CatalogService } from '../app/catalog.js';
import { Collector } from '../app/collector.js';
import { FreshFeed } from '../app/fresh-feed.js';
import { ApiKeys, type KeyState } from '../app/keys.js';
import { DeploymentAdmin } from '../app/deploy-admin.js';
import { LivePlacements } from '../app/live-placements.js';
import { ModelAdmin } from '../app/model-admin.js';
import type { Secrets, StorageHandle } from '../app/ports.js';
import { ReaderPrivacy } from '../app/readers.js';
import { RecordWriter } from '../app/record-writer.js';
import { ExposureMemory, RecommendationService } from '../app/serving.js';
import { DEFAULT_EXPOSURE_LOOKUP, ExposureLookup, nodeTimers } from '../app/exposure-lookup.js';
import type { AppDeps } from '../adapters/http/app.js';
import { readerRoutes } from '../adapters/http/routes/readers.js';
import { openStorage, type OpenedStorage } from '../adapters/storage/open.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../core/kernel/clock.js';
import { FreshState } from '../core/recommend/fresh-state.js';
import type { RecommenderRegistry } from '../core/recommend/registry.js';
import { jobRunner } from './jobs.js';
import { appRecommenders } from './recommenders.js';
import { checkClockMark, settableSimClock, SimClock } from './sim-clock.js';
import type { ArticleStore, EventStore } from '../app/ports.js';
import { systemClock, VERSION } from './runtime.js';

export { systemClock, VERSION };

export const nodeSecrets: Secrets = {
  newKey: () => `rn_${randomBytes(24).toString('base64url')}`,
  hash: (key) => createHash('sha256').update(key, 'utf8').digest('hex'),
  sameHash: (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b)),
};

/** Opens (and migrates) the database; refuses simulated events on a real database and the reverse (checkClockMark). */
export async function openDb(config: Readonly<Config>, opts: { server?: boolean } = {}): Promise<OpenedStorage> {
  // A server checkpoints SQLite's WAL from a worker thread, off its event loop, every 200 ms: on one
  // core the checkpoint's CPU delays requests, and five small checkpoints a second delayed them less
  // than one big one (bench:serve p99 14 -> 7 ms; see RecordWriter).
  const sqlite = { synchronous: config.sqliteSynchronous, ...(opts.server ? { backgroundCheckpointMs: 200 } : {}) };
  const storage = await openStorage(config.db, { sqlite, maxConnections: config.pgPoolSize });
  try {
    await checkClockMark(storage, config.simClock);
  } catch (e) {
    await storage.close().catch(() => undefined);
    throw e;
  }
  return storage;
}

export interface Services {
  config: Readonly<Config>;
  storage: OpenedStorage;
  collector: Collector;
  recordWriter: RecordWriter;
  keys: ApiKeys;
  keyStates: KeyState[];
  clock: Clock;
  /** The clock again when it is simulated (config.simClock): POST /v1/admin/sim-clock sets it. */
  simClock: SimClock | undefined;
  state: FreshState;
  feed: FreshFeed;
  catalog: CatalogService;
  /** The deployment and experiment use cases (admin side). */
  deployments: DeploymentAdmin;
  /** What this process serves, refreshed after every admin write and by polling the deploy version. */
  placements: LivePlacements;
  registry: RecommenderRegistry;
  canaryGuard: CanaryGuard;
  rollups: AnalysisRollups;
  exposures: ExposureMemory;
  recommendations: RecommendationService;
  /** Export and forget a reader; polls the other processes' erasures with the deploy version (app/readers.ts). */
  readers: ReaderPrivacy;
  /** Resolves once the serving state is rebuilt and the experiments' exposures are loaded (see openServices). */
  warmedUp: Promise<void>;
  /** While warming up: what the server is doing, for /readyz; undefined once ready. */
  warmingUp(): string | undefined;
  close(): Promise<void>;
}

/** How often a server runs a retention pass (READNEXT_RETENTION_DAYS): hourly, as the window is in days. */
const RETENTION_EVERY_MS = 3_600_000;

/** Signals as 1.2M, 35k, 800. */
const count = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n));

/**
 * Opens the database (migrating it) and wires the use cases: 1. storage, 2. the catalog into the
 * fresh serving state, 3. placements, 4. the collector feeding the state after each commit, 5. keys,
 * 6. the warm-up: the reading signals replayed into the state, then the running experiments'
 * exposures loaded. `background` starts the pollers that pick up other processes' changes.
 *
 * The warm-up's time grows with the stored events (seconds per million): with `warmInBackground`
 * (the server) openServices returns once the replay's snapshot is pinned, so the server can
 * listen and store events at once; the events stored meanwhile reach the state after the replay,
 * each counted once (FreshFeed.replay). Until `warmedUp`, recommendations are served by `latest`
 * alone (RecommendationService.warmingUp) and `warmingUp()` says what is going on. Without it,
 * openServices returns warmed up.
 */
export async function openServices(
  config: Readonly<Config>,
  opts: {
    clock?: Clock;
    log?: (msg: string) => void;
    background?: boolean;
    /** SQLite: checkpoint the WAL from a worker thread, as a server does (implied by `background`). */
    checkpointInBackground?: boolean;
    warmInBackground?: boolean;
    /** The store the replay reads (tests wrap it to hold the replay; default the storage). */
    replayStore?: (storage: StorageHandle) => EventStore & ArticleStore;
    /** The recommender kinds (default: main's, appRecommenders). */
    registry?: RecommenderRegistry;
    /**
     * Random version 4 UUIDs for recommendation ids (default crypto's randomUUID). Logged
     * exploration picks its slates by a hash of the id, so a simulation that must replay exactly
     * (the demo's seed) passes a seeded source.
     */
    randomUuid?: () => string;
  } = {},
): Promise<Services> {
  const clock = opts.clock ?? (config.simClock ? new SimClock() : systemClock);
  if (config.simClock && !(clock instanceof SimClock)) throw new Error('a simulated clock (config.simClock) must be a SimClock');
  const simClock = config.simClock ? (clock as SimClock) : undefined;
  const log = opts.log ?? (() => undefined);
  const storage = await openDb(config, { server: opts.background === true || opts.checkpointInBackground === true });
  const state = new FreshState({
    signalCapacity: config.signalCapacity,
    maxReaders: config.maxReaders,
    historyPerReader: config.historyPerReader,
  });
  const feed = new FreshFeed(state, opts.replayStore?.(storage) ?? storage, clock, {
    replayMs: config.replayMs,
    catalogPollMs: config.catalogPollMs,
  });
  const t0 = performance.now();
  const articles = await feed.loadCatalog();
  const registry = opts.registry ?? appRecommenders(storage);
  const placements = new LivePlacements(storage, registry, state);
  // A write is served by this process before it returns (other processes poll the deploy version).
  const deployments = new DeploymentAdmin(storage, registry, clock, () => placements.refresh());
  await deployments.init();
  await placements.load();
  const exposures = new ExposureMemory(config.readerMemoryMax);
  // Reads back what the memory evicted or another process wrote (app/exposure-lookup.ts).
  const exposureLookup = new ExposureLookup(storage, exposures, DEFAULT_EXPOSURE_LOOKUP, nodeTimers, (e) =>
    log(`exposure lookup failed (readers served outside the experiment meanwhile): ${(e as Error).message}`),
  );
  // Commit size and parallelism are the database's (StorageTuning: adapters/storage/sqlite.ts, postgres.ts).
  const commits = storage.tuning.commits;
  const collector = new Collector(
    storage,
    clock,
    { maxPastMs: config.eventMaxPastMs, maxFutureMs: config.eventMaxFutureMs },
    Math.min(config.maxEventsPerCommit, commits.maxEvents),
    commits.parallel,
    (events) => feed.events(events),
  );
  const recordWriter = new RecordWriter(storage, {
    flushIntervalMs: config.recordFlushIntervalMs,
    maxBuffered: config.recordMaxBuffered,
    onError: (e, kind, dropped) => log(`could not write ${dropped} ${kind} records: ${(e as Error).message}`),
    isRefusal: (e) => storage.refuses(e),
    onRefused: (e, kind, r) =>
      log(
        `the database refused ${kind === 'exposure' ? 'an exposure' : 'a serve'} record (${'recommId' in r ? `recommId ${r.recommId}` : `experiment ${r.experiment}, reader ${JSON.stringify(r.readerId).slice(0, 80)}`}): ` +
          `${(e as Error).message}; the others were written, and records refused for this reason are counted (recordsRefused in /v1/admin/serving/stats), not logged`,
      ),
    onExposuresDropped: (rs) => {
      for (const r of rs) exposures.forget(r);
    },
  });
  const faultsLogged = new Set<string>();
  const recommendations = new RecommendationService(
    state,
    placements,
    recordWriter,
    exposures,
    clock,
    () => timeOrderedUuid(clock.now(), (opts.randomUuid ?? randomUUID)()),
    () => performance.now(),
    (f) => setImmediate(f),
    (placement, kind, message) => {
      // Log a fault once per placement and recommender; the counters keep the totals.
      const key = `${placement}|${kind}|${message}`;
      if (faultsLogged.has(key)) return;
      faultsLogged.add(key);
      log(`recommender ${kind} failed on placement ${placement} (falling back): ${message}`);
    },
    exposureLookup,
  );
  const readers = new ReaderPrivacy(storage, clock, (id) => hash('sha256', id, 'hex'), [state, exposures], {
    flushRecords: () => recordWriter.flush(),
    yieldTurn: () => new Promise((r) => setImmediate(r)),
  });
  await readers.init();
  // 6. The warm-up. Until it is done, `latest` serves (it needs only the catalog).
  recommendations.warmingUp(registry.build({ kind: 'latest', version: '1' }, state));
  const days = Math.round((config.replayMs / 86_400_000) * 10) / 10;
  let status = `rebuilding the serving state: replaying the reading signals of the last ${days} days`;
  if (opts.warmInBackground)
    log(`${status} (${articles} articles loaded; events are stored meanwhile, recommendations served by "latest" until ready)`);
  let nextTenth = 1;
  const replay = feed.replay((p) => {
    status = `rebuilding the serving state: ${count(p.signals)} reading signals and impressions replayed (${Math.floor(p.share * 100)}% of the replay window)`;
    if (opts.warmInBackground && p.share * 10 >= nextTenth && p.share < 1) {
      nextTenth = Math.floor(p.share * 10) + 1;
      log(status);
    }
  });
  await replay.pinned;
  const warmedUp = (async () => {
    const { signals, buffered } = await replay.done;
    // The replay read the database as it was before the readers forgotten meanwhile: forget them again.
    await readers.reapply();
    status = "loading the running experiments' exposures";
    let running = 0;
    for (const { experiment } of placements.listExperiments()) {
      if (experiment.status !== 'running') continue;
      // The latest ones only, as many as the memory holds: the others are read back when needed.
      exposures.load(experiment.id, await storage.recentExposures(experiment.id, exposures.capacity));
      running++;
    }
    recommendations.ready();
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    if (opts.warmInBackground)
      log(
        `serving state ready in ${s} s: ${articles} articles, ${count(signals)} reading signals and impressions replayed, ${buffered} events stored meanwhile applied after them, exposures of ${running} running experiments loaded`,
      );
  })();
  let failed: string | undefined;
  let closing = false;
  if (!opts.warmInBackground) await warmedUp;
  else {
    warmedUp.catch((e: Error) => {
      if (closing) return;
      // Not ready, and says why: events are still stored and `latest` still serves; a restart retries.
      failed = `the serving state could not be rebuilt: ${e.message}`;
      log(`${failed} (recommendations stay on "latest"; restart to retry)`);
    });
  }
  const catalog = new CatalogService(storage, clock, feed);
  const canaryGuard = new CanaryGuard(placements, deployments, storage, clock, log);
  const rollupTuning = storage.tuning.rollups;
  checkRollupLag(rollupTuning.minLag, config.rollupLagMs);
  const money = { currency: config.currency, rates: config.fxRates };
  const rollups = new AnalysisRollups(
    storage,
    placements,
    clock,
    // On a simulated clock the receive time stands still between two settings, and the simulation
    // sets it only once the events it sent are stored: no event can commit later with a receive time
    // before the clock, so the rollups take everything received before it (lag 0, on both databases).
    {
      lagMs: simClock ? 0 : config.rollupLagMs,
      batchEvents: rollupTuning.batchEvents,
      adaptive: rollupTuning.adaptive,
      money,
      snapshotEveryMs: config.snapshotEveryMs,
    },
    log,
  );
  // Raw events and serve records past READNEXT_RETENTION_DAYS, in batches off the hot path (app/retention.ts).
  const retention = new Retention(storage, clock, { days: config.retentionDays }, log);
  // The key cache ages on the real clock: a simulated one can stand still (app/keys.ts KeyCacheOptions).
  const keys = new ApiKeys(storage, nodeSecrets, clock, { clock: systemClock });
  const keyStates = [await keys.init('admin', config.adminKey), await keys.init('ingest', config.ingestKey)];
  let placementTimer: NodeJS.Timeout | undefined;
  if (opts.background) {
    feed.start((e) => log(`catalog poll failed: ${(e as Error).message}`));
    placementTimer = setInterval(() => {
      void placements.refresh().catch((e: Error) => log(`deployment refresh failed: ${e.message}`));
      // Other processes' forgotten readers, as quickly as their deployment changes.
      void readers.poll().catch((e: Error) => log(`reader erasure poll failed: ${e.message}`));
    }, config.placementPollMs);
    placementTimer.unref();
    canaryGuard.start(config.canaryCheckMs);
    rollups.start(config.rollupIntervalMs, config.rollupShare ?? rollupTuning.backgroundShare);
    retention.start(RETENTION_EVERY_MS);
  }
  return {
    config,
    storage,
    collector,
    recordWriter,
    keys,
    keyStates,
    clock,
    simClock,
    state,
    feed,
    catalog,
    deployments,
    placements,
    registry,
    canaryGuard,
    rollups,
    exposures,
    recommendations,
    readers,
    warmedUp: warmedUp.catch(() => undefined),
    warmingUp: () => (recommendations.warming ? (failed ?? status) : undefined),
    async close() {
      closing = true;
      feed.stop();
      canaryGuard.stop();
      await rollups.stop();
      await retention.stop();
      if (placementTimer) clearInterval(placementTimer);
      await collector.close();
      await recordWriter.close();
      await storage.close();
    },
  };
}

/** The admin API's ROI (app/roi.ts, imported on first use): measurements from this server's experiments, logs and models. */
function roiApi(s: Services): NonNullable<AppDeps['roi']> {
  const sources = async () => {
    const [{ experimentReport }, roi] = await Promise.all([import('../app/analysis.js'), import('../app/roi.js')]);
    await s.recordWriter.flush();
    const rollups = reportRollups(s.rollups, s.config.reportCatchUpMs);
    const deps = {
      experimentReport: (id: string) => experimentReport(s.placements, s.storage, s.clock, id, { rollups }),
      records: s.storage,
      models: s.storage,
      now: s.clock.now(),
    };
    return { roi, deps };
  };
  return {
    async analyse(doc) {
      const { roi, deps } = await sources();
      // `measured_by` applies on update only; {"dist":"measured"} inputs always.
      return roi.analyseScenario(doc, await roi.measurementsOf(doc, deps, { measuredBy: false }));
    },
    async update(doc, name) {
      const { roi, deps } = await sources();
      const { revision, previous } = await roi.updateScenario(doc, { ...deps, store: s.storage }, name === undefined ? {} : { name });
      return { revision: revision.id, name: revision.name, previous: previous?.id ?? null, result: revision.result };
    },
    revisions: (name) => s.storage.listRoiRevisions(name),
  };
}

/** The dashboard's build (the front end's Vite output). Relative to src/main/ and, bundled, to dist/main/: the same depth. */
export const DASHBOARD_DIR: string = fileURLToPath(new URL('../../dist/dashboard', import.meta.url));

/** The HTTP app's dependencies from the services (shared by the server and the tests). */
export function appDeps(s: Services, plugins: AppDeps['plugins'] = []): AppDeps {
  // Training and the data report run in a worker thread on a second connection (jobs.ts); in process on an in-memory database.
  const jobs = jobRunner(s.config, () => s.clock.now());
  return {
    collector: s.collector,
    catalog: s.catalog,
    recommendations: s.recommendations,
    deployments: s.deployments,
    placements: s.placements,
    canaryGuard: s.canaryGuard,
    records: s.storage,
    audit: s.storage,
    analysis: s.storage,
    rollups: reportRollups(s.rollups, s.config.reportCatchUpMs),
    recordWriter: s.recordWriter,
    keys: s.keys,
    clock: s.clock,
    // Each setting is kept in the database too, for the CLI on it (settableSimClock).
    simClock: s.simClock && settableSimClock(s.simClock, s.storage),
    // Imported on the first report: the feature replay and the trees are this route's alone.
    async dataReport(q) {
      const { dataReport, reportWindow } = await import('../app/data-report.js');
      const now = s.clock.now();
      const opts = { ...reportWindow(q, now), now, ...(q.placement === undefined ? {} : { placement: q.placement }) };
      if (jobs) return jobs({ kind: 'data-report', opts });
      return dataReport({ store: s.storage, models: s.storage, articles: s.storage, lab: s.storage }, opts);
    },
    async kpis(q) {
      const [{ kpis }, { reportWindow }] = await Promise.all([import('../app/kpis.js'), import('../app/data-report.js')]);
      return kpis(s.storage, { ...reportWindow(q, s.clock.now()), money: { currency: s.config.currency, rates: s.config.fxRates } });
    },
    roi: roiApi(s),
    models: new ModelAdmin({
      store: s.storage,
      articles: s.storage,
      clock: s.clock,
      timer: () => performance.now(),
      ...(jobs ? { trainer: (opts) => jobs({ kind: 'train', opts }) } : {}),
    }),
    dashboard: { dir: DASHBOARD_DIR },
    ping: () => s.storage.ping(),
    warmingUp: () => s.warmingUp(),
    metrics: { token: s.config.metricsToken, rollups: s.rollups },
    options: {
      bodyLimitBytes: s.config.bodyLimitBytes,
      corsOrigins: s.config.corsOrigins,
      logLevel: s.config.logLevel,
      version: VERSION,
      timeouts: { headersMs: s.config.headersTimeoutMs, requestMs: s.config.requestTimeoutMs, keepAliveMs: s.config.keepAliveTimeoutMs },
      trustProxy: s.config.trustProxy,
      rateLimits: {
        recommendationsPerMin: s.config.rateLimitRecommendationsPerMin,
        eventsPerMin: s.config.rateLimitEventsPerMin,
        sitePerMin: s.config.rateLimitSitePerMin,
      },
    },
    plugins: [readerRoutes({ keys: s.keys, readers: s.readers }), ...plugins],
  };
}
