/**
 * Serving benchmark: req/s and latency of GET /v1/recommendations (the default `read-next`
 * placement: live co-read, fallbacks same-section -> popular -> latest, already-read / TTL /
 * section-cap filters, one `serve` record per response) next to a bare Fastify route returning a
 * response of the same shape and size, in the same run, with the same wrk settings.
 *
 *   npm run bench:serve [-- --profile] [-- --model] [-- --explore [SHARE]]
 *
 * Data: the real items of ../shared/data/wikipedia-current-events (imported with --rebase-dates,
 * so the newest is published now) plus BENCH_EVENTS (default 1,000,000) synthetic reads, page
 * views and clicks on the ~300 newest articles over the last 24 h, written straight to storage
 * (setup, not measured). Environment: BENCH_SECONDS (measured runs, default 30),
 * BENCH_WARMUP_SECONDS (default 5, not counted), BENCH_EVENTS.
 *
 * --profile runs readnext under `node --cpu-prof` and prints the top self-time functions of the
 * measured run only (the profile is copied to .bench/); its throughput is then not comparable.
 *
 * --model (issue 17) serves the placement with a learned ranker instead of co-read. Setup adds,
 * after each synthetic page view, an impression of the placement whose next-visit click (if any)
 * labels it (bench/impressions.ts), trains a model on the latest BENCH_MODEL_IMPRESSIONS (default
 * 50,000) of them with the app's use case (src/app/training.ts `trainModel`, default GBDT
 * parameters, seed 1) and deploys it live with `readnext deploy live read-next model@VERSION`,
 * all before the server starts and unmeasured. The measured runs are the same; the bare route
 * answers a response of the model's shape. Targets: p99 <= 20 ms at 50 connections, req/s
 * reported against the bare route. Checked, exit 1 if not: every response of the sample is the
 * model's, every non-shadow serve record names kind `model`, no record has a fault, and the only
 * fallbacks are the requests for unknown articles (the serving stats' fallback count equals them
 * and its fault count is 0). Then a calibration (reported, no target): the bare route again, each
 * request first burning CPU so that it costs what a readnext request cost in the same run (the
 * server's CPU time over its rate; the burn found in two runs, since a route's own cost grows as
 * its rate falls). With 50 connections always in flight a CPU-bound server's latency is mostly
 * queueing, so that run's p99 is what this machine, wrk and the event loop give any route of
 * readnext's cost: readnext's p99 above it would be readnext's own tail, and at or below it the
 * target needs less CPU per request rather than a smoother one.
 *
 * --explore [SHARE] (issue 18; SHARE in (0, 0.5], default 0.05) measures what logged exploration
 * costs. After setup (and --model's deploy), the database is copied; on the copy the placement
 * explores SHARE of its live slates (`readnext deploy explore read-next --share SHARE`, audited like
 * any change). Two readnext servers then run one after the other with the same settings and the
 * same request sequence: first on the original without exploration, then on the copy with it (each
 * with its own sample, warm-up and measured run; neither sees the other's serve records). Printed:
 * req/s and latency of both, their ratio, and the target row "SHARE exploration within 5% of the
 * throughput without it" (req/s exploring ≥ 0.95 × without). Checked, exit 1 if not: with
 * exploration off no serve record of the measured run carries exploration (serves.exploration,
 * migration 0014); with it, the share of explored records among those logging exploration is
 * SHARE within 4 binomial standard errors (whether a request explores is a hash of its recommId).
 * The run without exploration comes first and is the one compared with the bare route. Combines
 * with --model (the model's slates explored) and --profile (a profile per server).
 *
 * BENCH_NODE_FLAGS (space-separated) adds node flags to the readnext server's, after its own
 * (main/node-flags.ts): e.g. BENCH_NODE_FLAGS=--heap-growing-percent=0 serves with V8's default
 * heap growing, to compare the server's flag against it.
 *
 * Exit status: 0 whatever the figures; 1 when a server fails, wrk fails, a reply is not 2xx,
 * serve records are missing, (--model) a reply was not the model's, or (--explore) the explored
 * share of the serve records is off.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { openStorage, type OpenedStorage } from '../src/adapters/storage/open.js';
import { AnalysisRollups } from '../src/app/rollups.js';
import { trainModel } from '../src/app/training.js';
import { systemClock } from '../src/main/services.js';
import { kyselyOf } from '../src/adapters/storage/testing.js';
import type { Article } from '../src/core/catalog/article.js';
import type { StoredEvent } from '../src/core/events/schema.js';
import { seededRng } from '../src/core/kernel/rng.js';
import type { ModelMetrics, ModelRecord } from '../src/core/ml/model.js';
import { checkStoredEvent, VisitStream, type VisitCounts } from '../src/core/simulate/synthetic.js';
import { SERVE_WORKLOAD, serveWorkload, type ImpressionCounts } from './impressions.js';
import {
  commandExists,
  cpuSnapshot,
  cpuUsage,
  emitResult,
  envNumber,
  filesystemType,
  fixed,
  formatTable,
  freePort,
  int,
  loadAverage,
  machineInfo,
  pinSelf,
  mainThreadProfile,
  makeTempDir,
  monotonicUs,
  NOISY_OTHER_CPU,
  otherWorkPct,
  percentile,
  progressLogger,
  REPO_ROOT,
  runBench,
  runCommand,
  runWrk,
  gcSeconds,
  metricsText,
  secondsSince,
  startHttpProcess,
  startServer,
  summarizeCpuProfile,
  wrkScript,
  type CpuSnapshot,
  type CpuUsage,
  type ProfileSummary,
  type ServerHandle,
  type WrkResult,
  profileTables,
} from './lib.js';

// ---- settings

const SECONDS = envNumber('BENCH_SECONDS', 30, 1);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 5, 0);
const EVENTS = envNumber('BENCH_EVENTS', 1_000_000, 1000);
const THREADS = 1;
const CONNECTIONS = 50;
const WRK_TIMEOUT_S = 10;
const SERVER_CPU = '0';
const CLIENT_CPU = '1';
const TARGET_RATIO = 0.6;
const TARGET_P99_MS = 10;
/** --model: issue 17's target; req/s is reported against the bare route, with no ratio target. */
const MODEL_TARGET_P99_MS = 20;
const MODEL_IMPRESSIONS = envNumber('BENCH_MODEL_IMPRESSIONS', 50_000, 1000);
const MODEL_SEED = 1;
/** --explore without SHARE: issue 18's 5% of slates. */
const DEFAULT_EXPLORE_SHARE = 0.05;
/** --explore: req/s exploring ≥ this × req/s without exploration (issue 18: within 5%). */
const EXPLORE_TARGET_RATIO = 0.95;
const DATA = resolve(REPO_ROOT, '../shared/data/wikipedia-current-events/items.jsonl');
const PLACEMENT = SERVE_WORKLOAD.placement;
const K = SERVE_WORKLOAD.slots;
/** Lets the bench read the server's GET /metrics (its GC time). */
const METRICS_TOKEN = 'bench-serve-metrics-token-0123456789';
/** Node flags added to the readnext server's (BENCH_NODE_FLAGS, space-separated). */
const SERVER_EXTRA_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
const APPEND_BATCH = 5000;
/** Request URL variants wrk rotates through. */
const URL_VARIANTS = 4000;
const SHARE_UNKNOWN_ARTICLE = 0.05;
const SHARE_OLDER_ARTICLE = 0.1;
const UNKNOWN_PREFIX = 'bench-unknown-';
const SEED = SERVE_WORKLOAD.seed;
const STOP_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 600_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const progress = progressLogger();
const seconds = secondsSince;

// ---- synthetic reading events: VisitStream of src/core/simulate/synthetic.ts

interface Setup {
  db: string;
  importS: number;
  articles: number;
  pool: readonly Article[];
  showable: number;
  eventsS: number;
  stats: VisitCounts;
  w: VisitStream;
  /** --model: the impressions written beside the reading events. */
  impressions?: ImpressionCounts;
  nowMs: number;
}

async function setup(dir: string, withImpressions: boolean): Promise<Setup> {
  const db = `sqlite:${join(dir, 'serve.db')}`;
  progress('importing the real articles');
  const t0 = performance.now();
  const imp = await runCommand([
    process.execPath,
    join(REPO_ROOT, 'bin/readnext.mjs'),
    'import',
    'articles',
    DATA,
    '--rebase-dates',
    '--db',
    db,
  ]);
  if (imp.code !== 0) throw new Error(`the import failed (code ${imp.code}):\n${imp.stdout}${imp.stderr}`);
  const importS = seconds(t0);

  const storage = await openStorage(db, { sqlite: { synchronous: 'NORMAL' } });
  try {
    const articles = await storage.articlesStoredSince(0);
    const nowMs = Date.now();
    const { w, layer } = serveWorkload(articles, withImpressions ? nowMs : undefined);
    const showable = w.pool.filter(
      (a) => a.status === 'published' && a.publishedAt <= nowMs && (a.expiresAt ?? a.publishedAt + 72 * HOUR) > nowMs,
    ).length;
    progress(`writing ${int(EVENTS)} synthetic events${layer ? ' and an impression after each page view' : ''}`);
    const t1 = performance.now();
    let batch: StoredEvent[] = [];
    let checked = 0;
    let notAccepted = 0;
    const flush = async () => {
      const out = await storage.appendEvents(batch);
      notAccepted += out.filter((o) => o !== 'accepted').length;
      batch = [];
    };
    let checkedImpressions = 0;
    for (const e of layer ? layer.around(w.events(EVENTS, nowMs)) : w.events(EVENTS, nowMs)) {
      if (checked < 300 || (e.type === 'impression' && checkedImpressions < 300)) {
        checked++;
        if (e.type === 'impression') checkedImpressions++;
        const bad = checkStoredEvent(e, { maxPastMs: 24 * HOUR, maxFutureMs: 5 * MINUTE, trusted: false });
        if (bad) throw new Error(`the event generator made an event the collector would store differently: ${bad}`);
      }
      batch.push(e);
      if (batch.length >= APPEND_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    const eventsS = seconds(t1);
    const stats = w.counts;
    if (notAccepted > 0) throw new Error(`${notAccepted} synthetic events were not accepted by appendEvents`);
    const stored = await storage.countEvents();
    const appended = stats.events + (layer?.counts.impressions ?? 0);
    if (stored !== appended) throw new Error(`${appended} events appended but ${stored} stored`);
    // A server that has been running with these events has rolled them up for experiment reports
    // (docs/adr/0001-analysis-rollups.md); without this its first minute would do that catch-up.
    progress('rolling up the events for experiment reports, as a running server would have');
    const t2 = performance.now();
    await new AnalysisRollups(storage, { listExperiments: () => [] }, systemClock, { lagMs: 0, batchEvents: 50_000 }).catchUp();
    progress(`rolled up in ${fixed(seconds(t2))} s`);
    return {
      db,
      importS,
      articles: articles.length,
      pool: w.pool,
      showable,
      eventsS,
      stats,
      w,
      ...(layer ? { impressions: layer.counts } : {}),
      nowMs,
    };
  } finally {
    await storage.close();
  }
}

// ---- --model: train on the stored impressions and deploy live (setup, not measured)

interface ModelSetup {
  version: number;
  sinceTs: number;
  untilTs: number;
  metrics: ModelMetrics;
  trees: number;
  leaves: number;
  sizeBytes: number;
  /** Wall time of trainModel (replay of the events + boosting + evaluation) and of the deploy command. */
  trainWallS: number;
  deployS: number;
  deployOutput: string;
}

/**
 * Trains with the app's use case on the latest MODEL_IMPRESSIONS impressions (the events of the
 * day before them warm the features), then makes the model live on the placement through the CLI,
 * as an operator would: `readnext deploy live read-next model@VERSION`.
 */
async function trainAndDeploy(s: Setup): Promise<ModelSetup> {
  const times = [...(s.impressions?.times ?? [])].sort((a, b) => b - a);
  if (times.length === 0) throw new Error('--model: no impressions were written');
  const sinceTs = times[Math.min(times.length, MODEL_IMPRESSIONS) - 1]!;
  const untilTs = s.nowMs;
  const storage = await openStorage(s.db, { sqlite: { synchronous: 'NORMAL' } });
  let m: ModelRecord;
  const t0 = performance.now();
  try {
    progress(`training a model on the impressions since ${new Date(sinceTs).toISOString()} (trainModel, seed ${MODEL_SEED})`);
    let lastRound = 0;
    m = await trainModel(
      { models: storage, articles: storage, clock: systemClock, timer: () => performance.now() },
      {
        placement: PLACEMENT,
        sinceTs,
        untilTs,
        seed: MODEL_SEED,
        onProgress: (p) => {
          if (p.stage === 'train' && (p.round - lastRound >= 50 || p.round === p.rounds)) {
            lastRound = p.round;
            progress(`training: round ${p.round}/${p.rounds}`);
          }
        },
      },
    );
  } finally {
    await storage.close();
  }
  const trainWallS = seconds(t0);
  progress(`deploying model ${m.version} live on ${PLACEMENT}`);
  const t1 = performance.now();
  const dep = await runCommand([
    process.execPath,
    join(REPO_ROOT, 'bin/readnext.mjs'),
    'deploy',
    'live',
    PLACEMENT,
    `model@${m.version}`,
    '--why',
    'bench:serve --model',
    '--db',
    s.db,
  ]);
  if (dep.code !== 0) throw new Error(`readnext deploy live failed (code ${dep.code}):\n${dep.stdout}${dep.stderr}`);
  return {
    version: m.version,
    sinceTs,
    untilTs,
    metrics: m.metrics,
    trees: m.model.trees.length,
    leaves: m.model.trees.reduce((n, t) => n + t.feature.filter((f) => f < 0).length, 0),
    sizeBytes: m.sizeBytes,
    trainWallS,
    deployS: seconds(t1),
    deployOutput: dep.stdout.trim(),
  };
}

/** --model: who served the non-shadow serve records of the whole server run. */
interface ModelRows {
  rows: number;
  byKind: Map<string, number>;
  faults: number;
  fallbacks: number;
  /** Fallbacks for an article the catalog has: the model's slate was not served whole. */
  fallbacksKnownArticle: number;
}

async function modelRows(db: string): Promise<ModelRows> {
  const storage = await openStorage(db, { sqlite: { synchronous: 'NORMAL' } });
  try {
    const rows = await kyselyOf(storage)
      .selectFrom('serves')
      .select(['recommender_kind', 'fallback', 'fault', 'article_id'])
      .where('shadow', '=', 0)
      .execute();
    const byKind = new Map<string, number>();
    let faults = 0;
    let fallbacks = 0;
    let fallbacksKnownArticle = 0;
    for (const r of rows) {
      byKind.set(r.recommender_kind, (byKind.get(r.recommender_kind) ?? 0) + 1);
      if (Number(r.fault) === 1) faults++;
      if (Number(r.fallback) === 1) {
        fallbacks++;
        if (!(r.article_id ?? '').startsWith(UNKNOWN_PREFIX)) fallbacksKnownArticle++;
      }
    }
    return { rows: rows.length, byKind, faults, fallbacks, fallbacksKnownArticle };
  } finally {
    await storage.close();
  }
}

// ---- requests

/** Recommendation URLs: mostly recent articles that have co-reads, some older, some unknown (fallback); synthetic readers (already-read filter). */
function requestPaths(w: VisitStream, sessionPrefix: string): string[] {
  const rng = seededRng(SEED + 1);
  const out: string[] = [];
  for (let j = 0; j < URL_VARIANTS; j++) {
    const u = rng.next();
    const article =
      u < SHARE_UNKNOWN_ARTICLE
        ? `${UNKNOWN_PREFIX}${j}`
        : u < SHARE_UNKNOWN_ARTICLE + SHARE_OLDER_ARTICLE
          ? w.pool[rng.int(w.pool.length)]!.id
          : w.pool[w.drawArticle()]!.id;
    const reader = w.readerId(w.drawReader());
    out.push(
      `/v1/recommendations?placement=${PLACEMENT}&article=${encodeURIComponent(article)}&reader=${reader}&session=${sessionPrefix}-${j}&k=${K}`,
    );
  }
  return out;
}

const WRK_COUNTERS = ['non2xx', 'fallbacks', 'empty', 'bodybytes'] as const;

function luaScript(paths: readonly string[]): string {
  const body = `-- generated by bench/serve.ts: rotates through ${paths.length} request variants
local PATHS = {
${paths.map((p) => `  ${JSON.stringify(p)},`).join('\n')}
}
local N = #PATHS
local reqs = {}
local i = 0
${WRK_COUNTERS.map((c) => `${c} = 0`).join('\n')}

function init(args)
  for j = 1, N do reqs[j] = wrk.format("GET", PATHS[j]) end
  i = (((tid or 1) - 1) * 997) % N
end

function request()
  i = i % N + 1
  return reqs[i]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    return
  end
  bodybytes = bodybytes + #body
  if body:find('"fallback":true', 1, true) then fallbacks = fallbacks + 1 end
  if body:find('"items":[]', 1, true) then empty = empty + 1 end
end
`;
  return wrkScript(body, WRK_COUNTERS);
}

interface Run {
  wrk: WrkResult;
  cpu: CpuUsage | undefined;
  /** Monotonic microseconds (profile clock) when wrk started and ended. */
  fromUs: number;
  toUs: number;
}

async function load(url: string, scriptPath: string, secondsToRun: number, serverPid: number, pin: boolean): Promise<Run> {
  let before: CpuSnapshot | undefined;
  let after: CpuSnapshot | undefined;
  const timers: NodeJS.Timeout[] = [];
  const fromUs = monotonicUs();
  const run = await runWrk({
    url,
    scriptPath,
    threads: THREADS,
    connections: CONNECTIONS,
    seconds: secondsToRun,
    timeoutSeconds: WRK_TIMEOUT_S,
    ...(pin ? { cpu: CLIENT_CPU } : {}),
    onStart: (wrkPid) => {
      // Skip the first second (connections opening) and stop before wrk does.
      const from = Math.min(1, secondsToRun * 0.1) * 1000;
      const to = (secondsToRun - Math.min(0.5, secondsToRun * 0.05)) * 1000;
      const groups = () => ({ server: [serverPid], wrk: [wrkPid] });
      timers.push(setTimeout(() => (before = cpuSnapshot(groups())), from));
      timers.push(setTimeout(() => (after = cpuSnapshot(groups())), to));
    },
  });
  const toUs = monotonicUs();
  for (const t of timers) clearTimeout(t);
  return { wrk: run.result, cpu: before && after ? cpuUsage(before, after) : undefined, fromUs, toUs };
}

// ---- the bare Fastify route (a child process: `serve.ts --bare-server PORT PAYLOAD_JSON`)

async function bareServer(args: string[]): Promise<void> {
  const [portArg, payloadJson, burnArg] = args;
  if (portArg === undefined || payloadJson === undefined) throw new Error('usage: serve.ts --bare-server PORT PAYLOAD_JSON [BURN_US]');
  const payload = JSON.parse(payloadJson) as unknown;
  // --model's calibration: each request first keeps the core busy for BURN_US microseconds.
  const burnMs = Number(burnArg ?? 0) / 1000;
  const app = Fastify({ logger: false });
  app.get('/v1/recommendations', async () => {
    if (burnMs > 0) for (const end = performance.now() + burnMs; performance.now() < end;);
    return payload;
  });
  app.get('/readyz', async () => ({ status: 'ready' }));
  await app.listen({ host: '127.0.0.1', port: Number(portArg) });
  await new Promise<void>((resolveStop) => process.once('SIGTERM', () => resolveStop()));
  await app.close();
}

/** A response of the real shape, about the real size, from the newest articles; built once, in memory. */
function barePayload(
  pool: readonly Article[],
  recommender = { kind: 'co-read', version: '1' },
  reason = 'read by readers of this article',
): unknown {
  return {
    recommId: randomUUID(),
    placement: PLACEMENT,
    experiment: null,
    phase: null,
    arm: null,
    hashVersion: null,
    recommender,
    fallback: false,
    items: pool.slice(0, K).map((a, i) => ({ articleId: a.id, title: a.title, url: a.url, position: i + 1, reason })),
  };
}

/**
 * A run of the bare Fastify route in its own process (`--bare-server`), pinned as readnext is:
 * warm-up, then the measured run. `burnUs` > 0 (--model's calibration) keeps the core busy that
 * long in every request before it answers.
 */
async function bareRun(o: {
  label: string;
  name: string;
  payload: string;
  burnUs: number;
  firstPath: string;
  warmPath: string;
  measuredPath: string;
  pin: boolean;
}): Promise<Side> {
  const side: Side = { label: o.label, errors: [] };
  progress(`${o.name}: starting`);
  const port = await freePort();
  let handle: ServerHandle | undefined;
  try {
    handle = await startHttpProcess({
      argv: [
        process.execPath,
        join(REPO_ROOT, 'bin/tsnode.mjs'),
        join(REPO_ROOT, 'bench/serve.ts'),
        '--bare-server',
        String(port),
        o.payload,
        String(o.burnUs),
      ],
      port,
      readyPath: '/readyz',
      label: `the ${o.name} server`,
      ...(o.pin ? { cpu: SERVER_CPU } : {}),
    });
    if (WARMUP_SECONDS > 0) {
      progress(`${o.name}: warm-up, ${WARMUP_SECONDS} s`);
      side.warmupRequests = (await load(`${handle.url}${o.firstPath}`, o.warmPath, WARMUP_SECONDS, handle.pid, o.pin)).wrk.requests;
    }
    progress(`${o.name}: measured run, ${SECONDS} s`);
    side.run = await load(`${handle.url}${o.firstPath}`, o.measuredPath, SECONDS, handle.pid, o.pin);
  } catch (e) {
    side.errors.push((e as Error).message);
  } finally {
    if (handle) {
      const stop = await handle.stop(10_000);
      if (stop.killed || stop.code !== 0)
        side.errors.push(`the ${o.name} server exited with code ${stop.code} signal ${stop.signal}${stop.killed ? ' (killed)' : ''}`);
    }
  }
  return side;
}

/** Microseconds of the server's CPU per answered request in a measured run (its CPU over the sampled window, at the run's rate). */
function cpuUsPerRequest(run: Run | undefined): number | undefined {
  const pct = run?.cpu?.groups.server;
  if (!run || pct === undefined || run.wrk.requests === 0) return undefined;
  return ((pct / 100) * 1e6) / reqPerSec(run.wrk);
}

// ---- checks on the running readnext server

interface RecBody {
  fallback: boolean;
  recommender: { kind: string };
  items: { articleId: string }[];
}

interface SampleCheck {
  requests: number;
  nonEmpty: number;
  fallback: number;
  /** Responses of the placement's live kind without fallback. */
  primary: number;
  /** Responses for an article of the catalog that were not the live kind's whole slate (kind or fallback). */
  notPrimaryKnown: number;
  /** Items that the reader had read or viewed (among their 50 latest) or that are the current article: must be 0. */
  filterViolations: number;
  itemsChecked: number;
  example: string;
  servesListed: number;
  errors: string[];
}

async function sampleCheck(
  server: ServerHandle,
  db: string,
  paths: readonly string[],
  adminKey: string,
  primaryKind: string,
): Promise<SampleCheck> {
  const res: SampleCheck = {
    requests: 0,
    nonEmpty: 0,
    fallback: 0,
    primary: 0,
    notPrimaryKnown: 0,
    filterViolations: 0,
    itemsChecked: 0,
    example: '',
    servesListed: 0,
    errors: [],
  };
  const sample = paths.slice(0, 40).map((path) => ({ path, q: new URL(path, server.url).searchParams }));
  // The reader's history as the server keeps it: the 50 latest distinct articles read or viewed.
  const histories = new Map<string, string[]>();
  const storage = await openStorage(db, { sqlite: { synchronous: 'NORMAL' } });
  try {
    const rows = await kyselyOf(storage)
      .selectFrom('events')
      .select(['reader_id', 'article_id'])
      .where('reader_id', 'in', [...new Set(sample.map((x) => x.q.get('reader')!))])
      .where('type', 'in', ['read', 'page_view'])
      .orderBy('client_ts', 'desc')
      .execute();
    for (const r of rows) {
      const h = histories.get(r.reader_id) ?? [];
      if (h.length < 50 && !h.includes(r.article_id!)) h.push(r.article_id!);
      histories.set(r.reader_id, h);
    }
  } finally {
    await storage.close();
  }
  for (const { path, q } of sample) {
    const r = await fetch(`${server.url}${path}`);
    res.requests++;
    const text = await r.text();
    if (r.status !== 200) {
      res.errors.push(`GET ${path} answered ${r.status}: ${text.slice(0, 300)}`);
      continue;
    }
    if (res.example === '') res.example = text;
    const b = JSON.parse(text) as RecBody;
    if (b.items.length > 0) res.nonEmpty++;
    if (b.fallback) res.fallback++;
    if (!b.fallback && b.recommender.kind === primaryKind) res.primary++;
    else if (!q.get('article')!.startsWith(UNKNOWN_PREFIX)) res.notPrimaryKnown++;
    const banned = new Set([...(histories.get(q.get('reader')!) ?? []), q.get('article')!]);
    for (const it of b.items) {
      res.itemsChecked++;
      if (banned.has(it.articleId)) res.filterViolations++;
    }
  }
  const s = await fetch(`${server.url}/v1/admin/serves?limit=5`, { headers: { authorization: `Bearer ${adminKey}` } });
  const body = await s.text();
  if (s.status !== 200) res.errors.push(`GET /v1/admin/serves answered ${s.status}: ${body.slice(0, 300)}`);
  else {
    const parsed = JSON.parse(body) as unknown;
    const list = (parsed as { items?: unknown[] }).items ?? [];
    res.servesListed = list.length;
    if (list.length === 0) res.errors.push('GET /v1/admin/serves lists no serve record after the sample requests');
  }
  if (res.nonEmpty === 0) res.errors.push('every sample recommendation was empty');
  if (res.filterViolations > 0)
    res.errors.push(`${res.filterViolations} recommended items were the current article or already read by the reader`);
  return res;
}

interface ServeRows {
  total: number;
  measured: number;
  measuredFallback: number;
  measuredFault: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
}

/** Serve records after the server's SIGTERM flush; the measured run's requests carry sessions `${prefix}-N`. */
async function serveRows(db: string, measuredPrefix: string): Promise<ServeRows> {
  const storage: OpenedStorage = await openStorage(db, { sqlite: { synchronous: 'NORMAL' } });
  try {
    const total = Number((await sql<{ n: number }>`select count(*) as n from serves`.execute(kyselyOf(storage))).rows[0]?.n ?? 0);
    const rows = await kyselyOf(storage)
      .selectFrom('serves')
      .select(['latency_ms', 'fallback', 'fault'])
      .where('session_id', 'like', `${measuredPrefix}-%`)
      .where('shadow', '=', 0)
      .execute();
    const lat = rows.map((r) => Number(r.latency_ms));
    return {
      total,
      measured: rows.length,
      measuredFallback: rows.filter((r) => Number(r.fallback) === 1).length,
      measuredFault: rows.filter((r) => Number(r.fault) === 1).length,
      latencyP50: percentile(lat, 50),
      latencyP99: percentile(lat, 99),
      latencyMax: lat.reduce((m, x) => Math.max(m, x), -Infinity),
    };
  } finally {
    await storage.close();
  }
}

// ---- output

interface Side {
  label: string;
  run?: Run;
  warmupRequests?: number;
  readyS?: number;
  errors: string[];
}

const ok = (w: WrkResult) => w.requests - (w.counters.non2xx ?? 0);
const reqPerSec = (w: WrkResult) => ok(w) / w.durationS;
const socketErrors = (w: WrkResult) => w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout;

function printSide(s: Side): void {
  console.log(`\n== ${s.label} ==`);
  if (s.readyS !== undefined) console.log(`  ready        ${fixed(s.readyS)} s after start`);
  if (s.warmupRequests !== undefined) console.log(`  warm-up      ${WARMUP_SECONDS} s, ${int(s.warmupRequests)} requests (not counted)`);
  const r = s.run;
  if (r) {
    const w = r.wrk;
    const c = w.counters;
    const e = w.errors;
    console.log(
      `  throughput   ${fixed(reqPerSec(w))} successful req/s (${int(ok(w))} of ${int(w.requests)} requests in ${fixed(w.durationS, 2)} s)`,
    );
    const l = w.latencyMs;
    console.log(
      `  latency      p50 ${fixed(l.p50, 2)} ms, p75 ${fixed(l.p75, 2)} ms, p90 ${fixed(l.p90, 2)} ms, p99 ${fixed(l.p99, 2)} ms, p99.9 ${fixed(l.p999, 2)} ms, max ${fixed(l.max, 1)} ms (mean ${fixed(l.mean, 2)} ms)`,
    );
    console.log(
      `  errors       non-2xx ${int(c.non2xx ?? 0)}; socket errors: connect ${e.connect}, read ${e.read}, write ${e.write}, timeout ${e.timeout}`,
    );
    console.log(
      `  responses    mean body ${int((c.bodybytes ?? 0) / Math.max(1, ok(w)))} B` +
        `; fallback ${fixed((100 * (c.fallbacks ?? 0)) / Math.max(1, ok(w)))}%, empty slates ${fixed((100 * (c.empty ?? 0)) / Math.max(1, ok(w)))}%`,
    );
    if (r.cpu) {
      const g = r.cpu.groups;
      console.log(
        `  CPU          server ${fixed(g.server ?? 0, 0)}%, wrk ${fixed(g.wrk ?? 0, 0)}%, other processes ${fixed(r.cpu.otherUser, 0)}%, kernel threads ${fixed(r.cpu.otherKernel, 0)}% of one core` +
          ` (over ${fixed(r.cpu.seconds)} s); cores busy ${r.cpu.cores.map((p, i) => `cpu${i} ${fixed(p, 0)}%`).join(', ')}` +
          (r.cpu.topOthers.length > 0 ? `; busiest others: ${r.cpu.topOthers.map((o) => `${o.comm} ${fixed(o.pct, 0)}%`).join(', ')}` : ''),
      );
      const noise = otherWorkPct(r.cpu);
      if (noise > NOISY_OTHER_CPU)
        console.log(`  WARNING      other work kept about ${fixed(noise, 0)}% of a core busy during the run: the figures are noisy`);
    }
    if (socketErrors(w) > 0)
      console.log(`  WARNING      socket errors: requests that timed out (${WRK_TIMEOUT_S} s) or broke are not counted`);
  }
  for (const e of s.errors) console.log(`  ERROR        ${e}`);
}

// ---- main

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--bare-server') {
    await bareServer(argv.slice(1));
    return 0;
  }
  const usage = 'usage: [BENCH_NODE_FLAGS=...] npm run bench:serve [-- --profile] [-- --model] [-- --explore [SHARE]]';
  let explore: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--explore') {
      // An optional SHARE follows: the next argument when it is not a flag.
      const next = argv[i + 1];
      explore = DEFAULT_EXPLORE_SHARE;
      if (next !== undefined && !next.startsWith('--')) {
        explore = Number(next);
        i++;
        if (next.trim() === '' || !(explore > 0 && explore <= 0.5)) {
          console.error(`--explore SHARE must be a number in (0, 0.5] (the placement's exploration share), not "${next}"; ${usage}`);
          return 2;
        }
      }
    } else if (!['--profile', '--model', '--help', '-h'].includes(a)) {
      console.error(`unknown argument ${a}; ${usage}`);
      return 2;
    }
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`${usage}   (env BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_EVENTS, BENCH_MODEL_IMPRESSIONS)`);
    return 0;
  }
  if (!Number.isInteger(SECONDS) || !Number.isInteger(WARMUP_SECONDS))
    throw new Error('BENCH_SECONDS and BENCH_WARMUP_SECONDS must be whole numbers of seconds (wrk -d)');
  if (!existsSync(DATA)) {
    console.error(`bench:serve needs the real items at ${DATA} (the shared data checkout next to this repository); not found`);
    return 2;
  }
  if (!commandExists('wrk')) {
    console.error('bench:serve needs wrk on the PATH (apt-get install wrk)');
    return 2;
  }
  const profile = argv.includes('--profile');
  const withModel = argv.includes('--model');
  const primaryKind = withModel ? 'model' : 'co-read';
  const targetP99Ms = withModel ? MODEL_TARGET_P99_MS : TARGET_P99_MS;
  const machine = machineInfo();
  const pin = machine.nproc >= 2 && commandExists('taskset');
  const dir = makeTempDir('readnext-bench-serve-');
  const wrkVersion = (await runCommand(['wrk', '-v'])).stdout.split('\n')[0]?.trim() ?? '?';
  const fastifyVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/fastify/package.json'), 'utf8')) as { version: string })
    .version;
  const loadBefore = loadAverage();

  console.log(
    `readnext serving benchmark${withModel ? ' (--model: a learned ranker live on the placement)' : ''}` +
      `${explore === undefined ? '' : ` (--explore: the placement with and without ${fixed(100 * explore, 1)}% logged exploration)`}`,
  );
  console.log(
    `machine   ${machine.nproc} CPUs (${machine.cpuModel}), ${fixed(machine.memGiB)} GiB RAM, Linux ${machine.kernel}, node ${machine.node}, ${wrkVersion.replace(/ Copyright.*/, '')}, fastify ${fastifyVersion}`,
  );
  console.log(
    `load      wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s --timeout ${WRK_TIMEOUT_S}s after a ${WARMUP_SECONDS} s warm-up (not counted), ${URL_VARIANTS} URL variants in rotation; ` +
      (pin
        ? `server on core ${SERVER_CPU} (taskset -c ${SERVER_CPU}), wrk and, from the first server's start, this bench process on core ${CLIENT_CPU}`
        : 'NOT pinned (fewer than 2 CPUs or no taskset)'),
  );
  if (SERVER_EXTRA_FLAGS.length > 0) console.log(`          readnext server with extra node flags: ${SERVER_EXTRA_FLAGS.join(' ')}`);
  if (loadBefore !== undefined)
    console.log(
      `          load average before the run: ${fixed(loadBefore, 2)}${loadBefore > 0.5 ? ' (something else is running: expect noise)' : ''}`,
    );
  console.log(
    `          SQLite (synchronous=FULL, the default) in ${dir} on ${filesystemType(dir)}${profile ? '; readnext under --cpu-prof (slower)' : ''}`,
  );

  // 1. data
  const s = await setup(dir, withModel);
  const st = s.stats;
  console.log(
    `\nsetup     imported ${int(s.articles)} real articles (--rebase-dates) in ${fixed(s.importS)} s; ${s.showable} of the ${s.pool.length} newest are within the 72 h TTL`,
  );
  console.log(
    `          wrote ${int(st.events)} synthetic events (${int(st.reads)} reads, ${int(st.pageViews)} page views, ${int(st.clicks)} clicks; ${int(st.sessions)} sessions of ${int(st.readers)} readers` +
      ` on ${st.articles} articles, last 24 h) with appendEvents × ${APPEND_BATCH} in ${fixed(s.eventsS)} s (${int(st.events / s.eventsS)} events/s)`,
  );
  let model: ModelSetup | undefined;
  if (s.impressions) {
    const im = s.impressions;
    console.log(
      `          and ${int(im.impressions)} impressions of ${PLACEMENT} (one after each page view, ${fixed(im.items / Math.max(1, im.impressions), 2)} items each, ` +
        `${int(im.clicked)} followed by a click: ${fixed((100 * im.clicked) / Math.max(1, im.impressions))}%; bench/impressions.ts) in the same appends`,
    );
    model = await trainAndDeploy(s);
    const mm = model.metrics;
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    console.log(
      `model     trainModel on ${int(mm.trainImpressions + mm.testImpressions)} impressions in [${iso(model.sinceTs)}, ${iso(model.untilTs)}) UTC (BENCH_MODEL_IMPRESSIONS ${int(MODEL_IMPRESSIONS)}, ` +
        `the day before warms the features): ${int(mm.trainExamples)} training examples (click rate ${fixed(100 * mm.trainClickRate, 2)}%), ` +
        `${int(mm.testExamples)} test examples (the latest 20%)`,
    );
    const base = Object.entries(mm.featureAuc)
      .filter((e): e is [string, number] => e[1] !== null)
      .sort((a, b) => b[1] - a[1])[0];
    console.log(
      `          model ${model.version}: ${model.trees} trees, ${int(model.leaves)} leaves (${fixed(model.leaves / Math.max(1, model.trees), 1)} per tree), ${fixed(model.sizeBytes / 1024, 0)} KiB; ` +
        `test AUC ${fixed(mm.auc ?? NaN, 4)}${base ? ` (best single feature: ${base[0]} ${fixed(base[1], 4)})` : ''}, log loss ${fixed(mm.testLogLoss ?? NaN, 4)}; ` +
        `trained in ${fixed(model.trainWallS)} s (boosting ${fixed(mm.trainSeconds)} s)`,
    );
    console.log(
      `          deployed in ${fixed(model.deployS)} s: readnext deploy live ${PLACEMENT} model@${model.version} -> ${model.deployOutput.split('\n')[0]}`,
    );
  }

  const tag = randomUUID().slice(0, 8);
  const adminKey = `bench-admin-key-${tag}`;
  const measuredPrefix = `ses-m${tag}`;
  const warmPath = join(dir, 'warm.lua');
  const measuredPath = join(dir, 'measured.lua');
  const samplePaths = requestPaths(s.w, `ses-s${tag}`);
  writeFileSync(warmPath, luaScript(requestPaths(s.w, `ses-w${tag}`)));
  writeFileSync(measuredPath, luaScript(requestPaths(s.w, measuredPrefix)));
  const firstPath = samplePaths[0]!.split('?')[0]!;
  const errors: string[] = [];

  // 2. the bare Fastify route
  const payload = JSON.stringify(
    model
      ? barePayload(s.pool, { kind: 'model', version: String(model.version) }, `ranked by model ${model.version}`)
      : barePayload(s.pool),
  );
  // From here the bench process itself stays off the server's core (pinSelf).
  if (pin && !pinSelf(CLIENT_CPU))
    console.log(`          could not pin the bench process to core ${CLIENT_CPU} (taskset -a -p): expect noise`);
  const bare = await bareRun({
    label: `bare Fastify route (GET ${firstPath}, logger off, a constant ${payload.length} B JSON built in memory)`,
    name: 'bare Fastify route',
    payload,
    burnUs: 0,
    firstPath,
    warmPath,
    measuredPath,
    pin,
  });

  // 3. readnext: once, or with --explore twice on copies of the same data, without exploration then with it
  const runs: ReadnextRun[] = [];
  const common = { s, model, adminKey, tag, pin, profile, primaryKind, samplePaths, warmPath, measuredPath, measuredPrefix, firstPath };
  if (explore === undefined) runs.push(await readnextRun({ ...common, db: s.db, name: 'readnext' }));
  else {
    // Copied before either server starts: both runs begin from the same bytes, and neither sees the other's serve records.
    const dbOn = copyDatabase(s.db, join(dir, 'serve-explore.db'));
    progress(`exploring ${fixed(100 * explore, 1)}% of the slates on the copy: readnext deploy explore ${PLACEMENT} --share ${explore}`);
    const dep = await runCommand([
      process.execPath,
      join(REPO_ROOT, 'bin/readnext.mjs'),
      'deploy',
      'explore',
      PLACEMENT,
      '--share',
      String(explore),
      '--why',
      'bench:serve --explore',
      '--db',
      dbOn,
    ]);
    if (dep.code !== 0) throw new Error(`readnext deploy explore failed (code ${dep.code}):\n${dep.stdout}${dep.stderr}`);
    console.log(
      `explore   on a copy of the database: readnext deploy explore ${PLACEMENT} --share ${explore} -> ${dep.stdout.trim().split('\n')[0]}`,
    );
    runs.push(await readnextRun({ ...common, db: s.db, name: 'readnext without exploration', explore: 0 }));
    runs.push(await readnextRun({ ...common, db: dbOn, name: `readnext exploring ${fixed(100 * explore, 1)}%`, explore }));
  }

  // 3b. --model: the bare route again, each request first burning CPU so that it costs what a
  // readnext request cost (the server's CPU over its rate, measured above). With 50 connections always in flight the
  // latency of a CPU-bound server is mostly queueing, so this run's p99 is what this machine, wrk
  // and Node's event loop give any route of readnext's cost: the part of readnext's p99 that a
  // faster route, not a smoother one, would remove.
  // The route's own cost grows as its rate falls (a reply then has to wake wrk's idle core), so the
  // burn is found in two runs: first readnext's CPU a request less the bare route's at full speed,
  // then corrected by what the first run's requests cost beyond their burn.
  const readnextCpuUs = cpuUsPerRequest(runs[0]!.side.run);
  const bareCpuUs = cpuUsPerRequest(bare.run);
  let calibrated: Side | undefined;
  let burnUs = 0;
  if (model && readnextCpuUs !== undefined && bareCpuUs !== undefined) {
    const calibrate = (burn: number, step: string) =>
      bareRun({
        label: `bare Fastify route burning ${burn} us a request (${step}; readnext: ${fixed(readnextCpuUs, 0)} us of CPU a request)`,
        name: `bare route + ${burn} us`,
        payload,
        burnUs: burn,
        firstPath,
        warmPath,
        measuredPath,
        pin,
      });
    const first = Math.max(0, Math.round(readnextCpuUs - bareCpuUs));
    const firstRun = await calibrate(first, 'first guess');
    const firstCpuUs = cpuUsPerRequest(firstRun.run);
    if (firstCpuUs === undefined) {
      calibrated = firstRun;
      burnUs = first;
    } else {
      burnUs = Math.max(0, Math.round(readnextCpuUs - (firstCpuUs - first)));
      console.log(
        `calibration: ${first} us of burn took ${fixed(firstCpuUs, 0)} us of CPU a request at ${firstRun.run ? fixed(reqPerSec(firstRun.run.wrk)) : '?'} req/s; burning ${burnUs} us instead`,
      );
      calibrated = await calibrate(burnUs, `its other work at that rate ${fixed(firstCpuUs - first, 0)} us`);
    }
  }

  // 4. report
  printSide(bare);
  for (const run of runs) printRun(run, model);
  if (calibrated) printSide(calibrated);

  const b = bare.run?.wrk;
  const line = (label: string, w: WrkResult | undefined): string[] =>
    w
      ? [
          label,
          fixed(reqPerSec(w)),
          fixed(w.latencyMs.p50, 2),
          fixed(w.latencyMs.p99, 2),
          int(w.counters.non2xx ?? 0),
          int(socketErrors(w)),
        ]
      : [label, 'failed', '', '', '', ''];
  console.log(
    `\nSummary (wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s; ${pin ? `server on core ${SERVER_CPU}, wrk on core ${CLIENT_CPU}` : 'not pinned'}; ${int(st.events)} events, ${int(s.articles)} articles)`,
  );
  const routeLabel = (run: ReadnextRun) =>
    `readnext /v1/recommendations${model ? ` (model ${model.version})` : ''}${run.explore === undefined ? '' : run.explore > 0 ? `, exploring ${fixed(100 * run.explore, 1)}%` : ', no exploration'}`;
  console.log(
    formatTable(
      ['route', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'socket errors'],
      [
        line('bare Fastify', b),
        ...runs.map((run) => line(routeLabel(run), run.side.run?.wrk)),
        ...(calibrated ? [line(`bare Fastify + ${burnUs} us of CPU`, calibrated.run?.wrk)] : []),
      ],
    ),
  );
  // The ratio to bare: of the run without exploration (the only one without --explore).
  const r = runs[0]!.side.run?.wrk;
  const ratio = b && r ? reqPerSec(r) / reqPerSec(b) : NaN;
  const noisy = [bare.run?.cpu, ...runs.map((run) => run.side.run?.cpu)].some((c) => c !== undefined && otherWorkPct(c) > NOISY_OTHER_CPU);
  const targets: string[][] = [
    model
      ? [
          `readnext${explore === undefined ? '' : ' (no exploration)'} req/s against bare (reported, no target)`,
          `${fixed(ratio, 2)} × (${b ? fixed(reqPerSec(b)) : 'n/a'} bare)`,
          Number.isFinite(ratio) ? 'REPORTED' : 'FAILED',
        ]
      : [
          `readnext${explore === undefined ? '' : ' (no exploration)'} req/s ≥ ${TARGET_RATIO} × bare`,
          `${fixed(ratio, 2)} ×`,
          Number.isFinite(ratio) ? (ratio >= TARGET_RATIO ? 'PASS' : 'BELOW') : 'FAILED',
        ],
  ];
  if (explore !== undefined) {
    const off = runs[0]!.side.run?.wrk;
    const on = runs[1]!.side.run?.wrk;
    const er = off && on ? reqPerSec(on) / reqPerSec(off) : NaN;
    targets.push([
      `${fixed(100 * explore, 1)}% exploration: req/s within ${fixed(100 * (1 - EXPLORE_TARGET_RATIO), 0)}% of the throughput without it`,
      off && on ? `${fixed(er, 3)} × (${fixed(reqPerSec(on))} / ${fixed(reqPerSec(off))} req/s)` : 'n/a',
      Number.isFinite(er) ? (er >= EXPLORE_TARGET_RATIO ? 'PASS' : 'BELOW') : 'FAILED',
    ]);
  }
  for (const run of runs) {
    const w = run.side.run?.wrk;
    const p99 = w ? w.latencyMs.p99 : NaN;
    const of = runs.length > 1 ? ` (${run.explore ? 'exploring' : 'no exploration'})` : '';
    targets.push([
      `readnext p99 ≤ ${targetP99Ms} ms at ${CONNECTIONS} connections${of}`,
      `${fixed(p99, 2)} ms`,
      Number.isFinite(p99) ? (p99 <= targetP99Ms ? 'PASS' : 'BELOW') : 'FAILED',
    ]);
  }
  if (calibrated) {
    const c = calibrated.run?.wrk;
    targets.push([
      `p99 of a bare route of readnext's CPU per request (reported, no target)`,
      c ? `${fixed(c.latencyMs.p99, 2)} ms at ${fixed(reqPerSec(c))} req/s (+${burnUs} us a request)` : 'n/a',
      c ? 'REPORTED' : 'FAILED',
    ]);
  }
  for (const run of runs) {
    const of = runs.length > 1 ? ` (${run.explore ? 'exploring' : 'no exploration'})` : '';
    targets.push([
      `one serve record per response${of}`,
      run.recordsLine,
      run.rows && run.side.run ? (run.recordsOk ? 'OK' : 'MISSING') : 'FAILED',
    ]);
    if (run.exploreLine !== undefined)
      targets.push([
        run.explore ? `about ${fixed(100 * run.explore, 1)}% of the serve records explored${of}` : `no serve record explored${of}`,
        run.exploreLine,
        run.exploreOk ? 'OK' : 'NOT',
      ]);
    if (model) targets.push([`served by model ${model.version}, no fault or fallback${of}`, run.modelLine, run.modelOk ? 'OK' : 'NOT']);
  }
  console.log('');
  console.log(formatTable(['target', 'measured', 'result'], targets, [0, 1]));
  if (noisy)
    console.log(
      `WARNING: other work kept more than ${NOISY_OTHER_CPU}% of a core busy during a measured run: the figures are noisy (see CPU lines)`,
    );

  const figuresOf = (label: string, w: WrkResult | undefined) => ({
    route: label,
    reqPerS: w ? reqPerSec(w) : null,
    p50Ms: w?.latencyMs.p50 ?? null,
    p99Ms: w?.latencyMs.p99 ?? null,
    non2xx: w?.counters.non2xx ?? null,
  });
  emitResult({
    seconds: SECONDS,
    connections: CONNECTIONS,
    events: st.events,
    routes: [
      figuresOf('bare Fastify', b),
      ...runs.map((run) => figuresOf(routeLabel(run), run.side.run?.wrk)),
      ...(calibrated ? [figuresOf(`bare Fastify + ${burnUs} us of CPU`, calibrated.run?.wrk)] : []),
    ],
    ratioToBare: ratio,
    targetP99Ms,
  });

  // Failures (not throughput): a server failing, non-2xx replies, missing serve records.
  for (const side of [bare, ...runs.map((run) => run.side), ...(calibrated ? [calibrated] : [])]) {
    if (!side.run) errors.push(`${side.label}: no measured run`);
    else if ((side.run.wrk.counters.non2xx ?? 0) > 0) errors.push(`${side.label}: ${side.run.wrk.counters.non2xx} non-2xx replies`);
    errors.push(...side.errors.map((e) => `${side.label}: ${e.split('\n')[0]}`));
  }
  if (errors.length > 0) {
    console.log(`\nFAILED:\n${errors.map((e) => `  ${e}`).join('\n')}`);
    return 1;
  }
  return 0;
}

/** A copy of a SQLite database (closed: its WAL, if one is left, copied beside it). */
function copyDatabase(db: string, to: string): string {
  const from = db.replace(/^sqlite:/, '');
  copyFileSync(from, to);
  if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
  return `sqlite:${to}`;
}

// ---- one readnext server run: start, sample, warm up, measure, stop, count the serve records

interface ReadnextRun {
  side: Side;
  /** --explore: the placement's exploration share in this run (0: off); undefined without --explore. */
  explore?: number;
  sample?: SampleCheck;
  stats?: { requests: number; fallbacks: number; faults: number };
  rows?: ServeRows;
  recordsLine: string;
  recordsOk: boolean;
  modelLine: string;
  modelOk: boolean;
  exploreLine?: string;
  exploreOk?: boolean;
  prof?: { summary: ProfileSummary; savedAs: string };
  /** Seconds of garbage collection during the measured run, by kind (GET /metrics before and after it). */
  gc?: Record<string, number>;
}

async function readnextRun(o: {
  s: Setup;
  model: ModelSetup | undefined;
  db: string;
  name: string;
  explore?: number;
  adminKey: string;
  tag: string;
  pin: boolean;
  profile: boolean;
  primaryKind: string;
  samplePaths: readonly string[];
  warmPath: string;
  measuredPath: string;
  /** The measured run's requests carry sessions `${measuredPrefix}-N`. */
  measuredPrefix: string;
  firstPath: string;
}): Promise<ReadnextRun> {
  const { s, model, db, pin, profile, adminKey, firstPath } = o;
  const explore = o.explore;
  const run: ReadnextRun = {
    side: {
      label: `${o.name} GET ${firstPath} (placement ${PLACEMENT}: ${model ? `model ${model.version}` : 'co-read'}, fallbacks same-section -> popular -> latest, filters, serve records${explore ? `, ${fixed(100 * explore, 1)}% of slates explored` : ''})`,
      errors: [],
    },
    ...(explore === undefined ? {} : { explore }),
    recordsLine: 'n/a',
    recordsOk: false,
    modelLine: 'n/a',
    modelOk: false,
  };
  const rn = run.side;
  const profDir = join(dirOf(db), `prof-${explore ? 'explore' : 'plain'}`);
  let server: ServerHandle | undefined;
  progress(`${o.name}: starting the server (replays ${int(s.stats.events)} events)`);
  const t0 = performance.now();
  try {
    server = await startServer({
      db,
      port: await freePort(),
      ...(pin ? { cpu: SERVER_CPU } : {}),
      env: {
        READNEXT_ADMIN_KEY: adminKey,
        READNEXT_INGEST_KEY: `bench-ingest-key-${o.tag}`,
        READNEXT_LOG_LEVEL: 'warn',
        READNEXT_METRICS_TOKEN: METRICS_TOKEN,
      },
      nodeArgs: [...SERVER_EXTRA_FLAGS, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])],
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    rn.readyS = seconds(t0);
  } catch (e) {
    rn.errors.push((e as Error).message);
  }
  if (!server) return run;
  try {
    progress(`${o.name}: sample requests and serve records`);
    run.sample = await sampleCheck(server, db, o.samplePaths, adminKey, o.primaryKind);
    rn.errors.push(...run.sample.errors);
    if (WARMUP_SECONDS > 0) {
      progress(`${o.name}: warm-up, ${WARMUP_SECONDS} s`);
      rn.warmupRequests = (await load(`${server.url}${firstPath}`, o.warmPath, WARMUP_SECONDS, server.pid, pin)).wrk.requests;
    }
    progress(`${o.name}: measured run, ${SECONDS} s`);
    const gcBefore = gcSeconds(await metricsText(server.url, METRICS_TOKEN, true));
    rn.run = await load(`${server.url}${firstPath}`, o.measuredPath, SECONDS, server.pid, pin);
    const gcAfter = gcSeconds(await metricsText(server.url, METRICS_TOKEN, true));
    if (Object.keys(gcAfter).length > 0) run.gc = Object.fromEntries(Object.entries(gcAfter).map(([k, v]) => [k, v - (gcBefore[k] ?? 0)]));
    // The slates wrk left in flight may still wait in the server's queue (turn-queue.ts), which this
    // admin request does not join: read the counts until two reads 50 ms apart agree (2 s at most).
    for (let tries = 0; tries < 40; tries++) {
      const sres = await fetch(`${server.url}/v1/admin/serving/stats`, { headers: { authorization: `Bearer ${adminKey}` } });
      if (!sres.ok) {
        rn.errors.push(`GET /v1/admin/serving/stats answered ${sres.status}`);
        break;
      }
      const stats = (await sres.json()) as NonNullable<ReadnextRun['stats']>;
      const settled = run.stats?.requests === stats.requests;
      run.stats = stats;
      if (settled) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    rn.errors.push((e as Error).message);
  } finally {
    progress(`${o.name}: stopping the server (SIGTERM: flushes the serve records)`);
    const stop = await server.stop(STOP_TIMEOUT_MS);
    if (stop.killed) rn.errors.push(`the server did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM and was killed`);
    else if (stop.code !== 0) rn.errors.push(`the server exited with code ${stop.code} signal ${stop.signal}:\n${server.output()}`);
  }
  const measuredPrefix = o.measuredPrefix;
  const rows = (run.rows = await serveRows(db, measuredPrefix));
  if (profile) {
    const p = mainThreadProfile(profDir);
    if (p && rn.run) {
      const outDir = join(REPO_ROOT, '.bench');
      mkdirSync(outDir, { recursive: true });
      const savedAs = join(outDir, `serve-${explore ? 'explore-' : ''}${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
      copyFileSync(p, savedAs);
      run.prof = { summary: summarizeCpuProfile(p, 25, { fromUs: rn.run.fromUs, toUs: rn.run.toUs }), savedAs };
    } else if (!p) rn.errors.push('no CPU profile was written');
  }

  // Serve records: one per response, none lost.
  const stats = run.stats;
  if (rn.run) {
    const w = rn.run.wrk;
    const inFlight = rows.measured - w.requests;
    // wrk stops with up to one request in flight per connection: served and recorded, but not counted by wrk.
    run.recordsOk = inFlight >= 0 && inFlight <= CONNECTIONS && (stats === undefined || rows.total === stats.requests);
    run.recordsLine = `${int(rows.measured)} serve rows for ${int(w.requests)} wrk requests (+${inFlight} in flight when wrk stopped)`;
    if (!run.recordsOk) {
      rn.errors.push(
        `serve records: ${int(rows.measured)} rows for the measured run's ${int(w.requests)} completed requests (at most ${CONNECTIONS} more in flight allowed); ` +
          `${int(rows.total)} rows in all for ${stats ? int(stats.requests) : '?'} requests served by the process`,
      );
    }
  } else rn.errors.push('serve records could not be counted');

  // --explore: about `explore` of the measured run's live slates explored (a binomial share, within
  // 4 standard errors), and none when off.
  if (explore !== undefined) {
    const ex = await exploreRows(db, measuredPrefix);
    // Of the slates that log exploration (every live slate of the placement; not an experiment's, a canary's or a stopgap's).
    const share = ex.explored / Math.max(1, ex.logged);
    const problems: string[] = [];
    if (explore === 0) {
      if (ex.logged > 0) problems.push(`${int(ex.logged)} serve records carry exploration with exploration off`);
      run.exploreLine = `${int(ex.logged)} of ${int(ex.rows)} measured serve records carry exploration, ${int(ex.explored)} explored`;
    } else {
      const se = Math.sqrt((explore * (1 - explore)) / Math.max(1, ex.logged));
      if (ex.logged === 0) problems.push('no measured serve record logs exploration');
      if (Math.abs(share - explore) > 4 * se)
        problems.push(
          `${fixed(100 * share, 2)}% of the measured serve records explored, not ${fixed(100 * explore, 1)}% ± ${fixed(400 * se, 2)}%`,
        );
      run.exploreLine =
        `${int(ex.explored)} of the ${int(ex.logged)} measured serve records logging exploration explored (${fixed(100 * share, 2)}%, ±${fixed(400 * se, 2)}% allowed); ` +
        `${int(ex.rows - ex.logged)} of ${int(ex.rows)} log none`;
    }
    run.exploreOk = problems.length === 0;
    rn.errors.push(...problems.map((p) => `--explore: ${p}`));
  }

  // --model: every reply the model's; faults none; fallbacks only for articles the catalog lacks.
  if (model) {
    const mr = await modelRows(db);
    const kinds = [...mr.byKind].map(([k, n]) => `${k} ${int(n)}`).join(', ');
    const notModel = mr.rows - (mr.byKind.get('model') ?? 0);
    const problems: string[] = [];
    if (mr.rows === 0) problems.push('no serve records');
    if (notModel > 0) problems.push(`${int(notModel)} serve records of another kind (${kinds})`);
    if (mr.faults > 0) problems.push(`${int(mr.faults)} serve records with a fault`);
    if (mr.fallbacksKnownArticle > 0) problems.push(`${int(mr.fallbacksKnownArticle)} fallbacks for an article of the catalog`);
    if (!stats) problems.push('no serving stats');
    else {
      if (stats.faults > 0) problems.push(`the serving stats count ${int(stats.faults)} faults`);
      if (stats.fallbacks !== mr.fallbacks)
        problems.push(`the serving stats count ${int(stats.fallbacks)} fallbacks, the serve records ${int(mr.fallbacks)}`);
    }
    if (run.sample && run.sample.notPrimaryKnown > 0)
      problems.push(`${run.sample.notPrimaryKnown} sample replies for a known article were not the model's whole slate`);
    run.modelOk = problems.length === 0;
    run.modelLine = `${int(mr.rows)} serve records: ${kinds}; faults ${int(mr.faults)}; fallbacks ${int(mr.fallbacks)}, ${int(mr.fallbacksKnownArticle)} of them for a known article`;
    rn.errors.push(...problems.map((p) => `--model: ${p}`));
  }
  return run;
}

const dirOf = (db: string) => db.replace(/^sqlite:/, '').replace(/\/[^/]*$/, '');

function printRun(run: ReadnextRun, model: ModelSetup | undefined): void {
  printSide(run.side);
  const { sample, rows, stats, prof } = run;
  if (sample) {
    console.log(
      `  sample       ${sample.requests} requests before the load: ${sample.nonEmpty} non-empty, ${sample.primary} served by ${model ? 'model' : 'co-read'} without fallback, ${sample.fallback} with fallback;` +
        ` already-read / current-article filter checked on ${sample.itemsChecked} items: ${sample.filterViolations} violations; /v1/admin/serves?limit=5 listed ${sample.servesListed}`,
    );
    console.log(`               e.g. ${sample.example.length > 400 ? `${sample.example.slice(0, 400)}…` : sample.example}`);
  }
  if (rows) {
    console.log(
      `  serve rows   after SIGTERM: ${int(rows.total)} in all${stats ? ` (the process counted ${int(stats.requests)} responses, ${int(stats.fallbacks)} with fallback, ${int(stats.faults)} faults)` : ''}; ` +
        `measured run: ${run.recordsLine}`,
    );
    console.log(
      `               in-process slate time of the measured run (serve.latency_ms): p50 ${fixed(rows.latencyP50, 3)} ms, p99 ${fixed(rows.latencyP99, 3)} ms, max ${fixed(rows.latencyMax, 1)} ms;` +
        ` fallback ${fixed((100 * rows.measuredFallback) / Math.max(1, rows.measured))}%, faults ${rows.measuredFault}`,
    );
  }
  if (run.gc && run.side.run) {
    const n = Math.max(1, run.side.run.wrk.requests);
    const kinds = Object.entries(run.gc).filter(([, v]) => v > 0);
    console.log(
      `  GC           during the measured run: ${kinds.map(([k, v]) => `${k} ${fixed((1e6 * v) / n, 1)} us`).join(', ') || 'none'} per request` +
        ` (${fixed((100 * Object.values(run.gc).reduce((a, b) => a + b, 0)) / SECONDS, 1)}% of the run's wall time)`,
    );
  }
  if (run.exploreLine !== undefined) console.log(`  exploration  ${run.exploreLine}`);
  if (model)
    console.log(
      `  model        ${run.modelLine}${stats ? `; serving stats: faults ${int(stats.faults)}, fallbacks ${int(stats.fallbacks)}` : ''}`,
    );
  if (prof) {
    const p = prof.summary;
    console.log(`  CPU profile of the measured run only (${fixed(p.totalMs / 1000)} s sampled), whole profile saved as ${prof.savedAs}`);
    console.log(profileTables(p));
  }
}

/** --explore: the measured run's live serve records, those logging exploration, and those explored (serves.exploration, migration 0014). */
async function exploreRows(db: string, measuredPrefix: string): Promise<{ rows: number; logged: number; explored: number }> {
  const storage = await openStorage(db, { sqlite: { synchronous: 'NORMAL' } });
  try {
    const rows = await kyselyOf(storage)
      .selectFrom('serves')
      .select(['exploration'])
      .where('session_id', 'like', `${measuredPrefix}-%`)
      .where('shadow', '=', 0)
      .execute();
    let logged = 0;
    let explored = 0;
    for (const r of rows) {
      if (r.exploration === null) continue;
      logged++;
      if ((JSON.parse(r.exploration) as { explored: boolean }).explored) explored++;
    }
    return { rows: rows.length, logged, explored };
  } finally {
    await storage.close();
  }
}

await runBench(main);
