/**
 * Ingest benchmark: sustained events/s through HTTP (POST /v1/events, driven by wrk) next to the
 * raw batched insert rate of the same database (storage.appendEvents), measured in the same run,
 * on SQLite and on PostgreSQL.
 *
 *   npm run bench:ingest [-- [--no-pg] [--no-sqlite] [--experiment] [--profile]]
 *
 * Environment: BENCH_SECONDS (measured HTTP run, default 30), BENCH_WARMUP_SECONDS (default 3, not
 * counted), BENCH_RAW_SECONDS (insert time of the raw run, default 5), BENCH_PG_URL (an admin URL,
 * default postgres://postgres@127.0.0.1:5432/postgres; the scratch database readnext_bench is
 * dropped and recreated), READNEXT_SQLITE_SYNCHRONOUS (FULL by default, as the README promises).
 *
 * --experiment first starts a 3-arm experiment on the read-next placement and exposes every reader
 * of the workload to it (one minute before the run), so that every event is an exposed reader's
 * and the server's analysis rollups (docs/adr/0001-analysis-rollups.md) run alongside ingestion:
 * the "ingestion still at its target" check of the analysis issue. It prints how far the rollups got.
 *
 * --profile runs the server under `node --cpu-prof` and prints its top self-time functions (the
 * profile is copied to .bench/). Exit status: 0 whatever the throughput; 1 when the server fails,
 * wrk or the raw run fails, or an acknowledged event is missing from the database.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStorage } from '../src/adapters/storage/open.js';
import { kyselyOf } from '../src/adapters/storage/testing.js';
import { DeploymentAdmin } from '../src/app/deploy-admin.js';
import type { ExposureRecord } from '../src/core/events/records.js';
import { assignArm } from '../src/core/experiments/experiment.js';
import { builtinRegistry } from '../src/core/recommend/kinds/index.js';
import { systemClock } from '../src/main/services.js';
import type { StoredEvent } from '../src/core/events/schema.js';
import { validateEvent } from '../src/core/events/validate.js';
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
  mainThreadProfile,
  makeTempDir,
  median,
  NOISY_OTHER_CPU,
  otherWorkPct,
  percentile,
  pidsByName,
  progressLogger,
  REPO_ROOT,
  runBench,
  runCommand,
  runWrk,
  startServer,
  startThreeArmExperiment,
  withPg,
  summarizeCpuProfile,
  wrkScript,
  type CpuSnapshot,
  type ServerHandle,
  type CpuUsage,
  type ProfileSummary,
  type WrkResult,
  profileTables,
} from './lib.js';

// ---- settings

const SECONDS = envNumber('BENCH_SECONDS', 30, 1);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 3, 0);
const RAW_SECONDS = envNumber('BENCH_RAW_SECONDS', 5, 0.1);
const BATCH = 100; // events per HTTP request
const RAW_BATCH = 1000; // events per appendEvents call in the raw run
const THREADS = 1;
const CONNECTIONS = 50;
const WRK_TIMEOUT_S = 10;
const SERVER_CPU = '0';
const CLIENT_CPU = '1';
const TARGETS = { sqlite: 100_000, postgres: 50_000 } as const;
const PG_DB = 'readnext_bench';
const RAW_TAG = 'RAW_RESULT ';
/** How long the server may take to commit its queue and exit after SIGTERM. */
const STOP_TIMEOUT_MS = 30_000;
/** Insert time of the raw run that is not counted (JIT, first pages of a fresh table). */
const RAW_WARMUP_MS = 500;

const progress = progressLogger();

// ---- the workload: one generator, written twice (TypeScript for the raw run, Lua for wrk)

const READERS = 50_000;
const ARTICLES = 2_000;
const MIX = '40% page_view, 25% impression (3 items), 10% click, 25% read';
/** The referrer field of a page_view; direct traffic (one in five) has none. */
const REFERRERS = ['https://www.google.com/', 'https://news.google.com/', '', 'https://t.co/', 'https://www.facebook.com/'].map((r) =>
  r === '' ? '' : `,"referrer":"${r}"`,
);
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const art = (a: number) => `art-${pad(a, 4)}`;

/**
 * Event ids look like "ma3f9-010000042-017" (19 characters, about a nanoid): phase letter, run tag
 * (4 hex), thread (2 digits), request (7 digits), slot (3 digits). All the same length, so the key
 * of a request's batch is the id minus its "-kkk" tail.
 */
const idPrefix = (phase: string, tag: string) => `${phase}${tag}-`;
const newTag = () => randomBytes(2).toString('hex');
/** The key shared by the 100 events of one request: prefix, thread (2 digits), batch (7 digits). */
const batchKey = (prefix: string, tid: number, batch: number) => `${prefix}${pad(tid, 2)}${pad(batch, 7)}`;

/**
 * Event `k` (0..99) of request `batch` of wrk thread `tid`, as the JSON text the client sends.
 * Slots k mod 20: 0-7 page_view, 8-12 impression, 13-14 click (on the impression 5 slots earlier,
 * one of its items), 15-19 read. `tsBase` is "YYYY-MM-DDTHH:MM:SS." (UTC); milliseconds vary per event.
 * Must stay byte-identical to `event` in `luaScript` (checked at run time, see `checkParity`).
 */
function eventJson(key: string, tid: number, batch: number, k: number, tsBase: string): string {
  const n = batch * BATCH + k;
  const reader = (n * 7919 + tid * 104729) % READERS;
  const a = (n * 7907 + tid * 13) % ARTICLES;
  const id = `${key}-${pad(k, 3)}`;
  const r = pad(reader, 5);
  const head = `","eventId":"${id}","readerId":"rdr-${r}","sessionId":"ses-${r}-${pad(n % 13, 2)}","timestamp":"${tsBase}${pad((k * 37) % 1000, 3)}Z"`;
  const slot = k % 20;
  if (slot < 8) return `{"type":"page_view${head},"articleId":"${art(a)}"${REFERRERS[n % 5]!}}`;
  if (slot < 13) {
    return (
      `{"type":"impression${head},"recommId":"rc${id.slice(1)}","placement":"read-next","articleId":"${art(a)}",` +
      `"items":[{"articleId":"${art((a + 1) % ARTICLES)}","position":1},{"articleId":"${art((a + 2) % ARTICLES)}","position":2},` +
      `{"articleId":"${art((a + 3) % ARTICLES)}","position":3}]}`
    );
  }
  if (slot < 15) {
    const a0 = ((n - 5) * 7907 + tid * 13) % ARTICLES;
    const pos = 1 + (n % 3);
    return `{"type":"click${head},"recommId":"rc${`${key}-${pad(k - 5, 3)}`.slice(1)}","articleId":"${art((a0 + pos) % ARTICLES)}","position":${pos}}`;
  }
  return `{"type":"read${head},"articleId":"${art(a)}","dwellMs":${2000 + ((n * 7919) % 180_000)},"scroll":0.${pad((n * 31) % 100, 2)}}`;
}

const isoBase = (ms: number) => new Date(ms).toISOString().slice(0, 20);

function requestBody(prefix: string, tid: number, batch: number, tsBase: string): string {
  const key = batchKey(prefix, tid, batch);
  const parts: string[] = [];
  for (let k = 0; k < BATCH; k++) parts.push(eventJson(key, tid, batch, k, tsBase));
  return `{"events":[${parts.join(',')}]}`;
}

/** Mean JSON size of one event and the share of each type over `batches` requests. */
function workloadStats(batches: number): { meanBytes: number; share: Record<string, number> } {
  let bytes = 0;
  const count: Record<string, number> = {};
  const tsBase = isoBase(Date.now());
  for (let b = 1; b <= batches; b++) {
    const key = batchKey(idPrefix('s', '0000'), 1, b);
    for (let k = 0; k < BATCH; k++) {
      const json = eventJson(key, 1, b, k, tsBase);
      bytes += json.length;
      const type = (JSON.parse(json) as { type: string }).type;
      count[type] = (count[type] ?? 0) + 1;
    }
  }
  const n = batches * BATCH;
  return { meanBytes: bytes / n, share: Object.fromEntries(Object.entries(count).map(([t, c]) => [t, c / n])) };
}

const WRK_COUNTERS = ['accepted', 'duplicates', 'conflicts', 'rejected', 'non2xx', 'unparsed', 'evbytes', 'events'] as const;

/**
 * The wrk script: each request() builds a fresh body of 100 events with ids unique per run,
 * thread and request; response() records, per acknowledged request, its batch key and the number
 * of accepted events; done_extra() writes those to `ackedPath` for the durability check.
 */
function luaScript(o: { prefix: string; ackedPath: string; firstBodyPath: string }): string {
  const body = `-- generated by bench/ingest.ts; the event generator mirrors eventJson() there.
local PREFIX = ${JSON.stringify(o.prefix)}
local ACKED_PATH = ${JSON.stringify(o.ackedPath)}
local FIRST_BODY_PATH = ${JSON.stringify(o.firstBodyPath)}

wrk.method = "POST"
wrk.path = "/v1/events"
wrk.headers["Content-Type"] = "application/json"

local ART, RDR, P2, P3 = {}, {}, {}, {}
for i = 0, ${ARTICLES - 1} do ART[i] = string.format("art-%04d", i) end
for i = 0, ${READERS - 1} do RDR[i] = string.format("%05d", i) end
for i = 0, 99 do P2[i] = string.format("%02d", i) end
for i = 0, 999 do P3[i] = string.format("%03d", i) end
local REF = { [0] = ${REFERRERS.map((r) => `'${r}'`).join(', ')} }

acked = {}
${WRK_COUNTERS.map((c) => `${c} = 0`).join('\n')}

local function event(key, tid, batch, k, tsb)
  local n = batch * ${BATCH} + k
  local reader = (n * 7919 + tid * 104729) % ${READERS}
  local a = (n * 7907 + tid * 13) % ${ARTICLES}
  local id = key .. "-" .. P3[k]
  local r = RDR[reader]
  local head = '","eventId":"' .. id .. '","readerId":"rdr-' .. r .. '","sessionId":"ses-' .. r .. "-" .. P2[n % 13] ..
    '","timestamp":"' .. tsb .. P3[(k * 37) % 1000] .. 'Z"'
  local slot = k % 20
  if slot < 8 then
    return '{"type":"page_view' .. head .. ',"articleId":"' .. ART[a] .. '"' .. REF[n % 5] .. "}"
  elseif slot < 13 then
    return '{"type":"impression' .. head .. ',"recommId":"rc' .. id:sub(2) .. '","placement":"read-next","articleId":"' .. ART[a] .. '",' ..
      '"items":[{"articleId":"' .. ART[(a + 1) % ${ARTICLES}] .. '","position":1},{"articleId":"' .. ART[(a + 2) % ${ARTICLES}] .. '","position":2},' ..
      '{"articleId":"' .. ART[(a + 3) % ${ARTICLES}] .. '","position":3}]}'
  elseif slot < 15 then
    local a0 = ((n - 5) * 7907 + tid * 13) % ${ARTICLES}
    local pos = 1 + n % 3
    return '{"type":"click' .. head .. ',"recommId":"rc' .. (key .. "-" .. P3[k - 5]):sub(2) .. '","articleId":"' .. ART[(a0 + pos) % ${ARTICLES}] ..
      '","position":' .. pos .. "}"
  else
    return '{"type":"read' .. head .. ',"articleId":"' .. ART[a] .. '","dwellMs":' .. (2000 + (n * 7919) % 180000) .. ',"scroll":0.' .. P2[(n * 31) % 100] .. "}"
  end
end

local batch = 0
local parts = {}
function request()
  batch = batch + 1
  local key = PREFIX .. P2[tid] .. string.format("%07d", batch)
  local tsb = os.date("!%Y-%m-%dT%H:%M:%S.")
  for k = 0, ${BATCH - 1} do
    local e = event(key, tid, batch, k, tsb)
    parts[k + 1] = e
    evbytes = evbytes + #e
  end
  events = events + ${BATCH}
  local body = '{"events":[' .. table.concat(parts, ",") .. "]}"
  if tid == 1 and batch == 1 then
    local f = io.open(FIRST_BODY_PATH, "w")
    if f then
      f:write(body)
      f:close()
    end
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    return
  end
  local acc = tonumber(body:match('"accepted":(%d+)'))
  local id = body:match('"eventId":"([^"]+)"')
  if acc == nil or id == nil then
    unparsed = unparsed + 1
    return
  end
  acked[id:sub(1, -5)] = acc
  accepted = accepted + acc
  duplicates = duplicates + (tonumber(body:match('"duplicates":(%d+)')) or 0)
  conflicts = conflicts + (tonumber(body:match('"conflicts":(%d+)')) or 0)
  rejected = rejected + (tonumber(body:match('"rejected":(%d+)')) or 0)
end

function done_extra(threads)
  local f = assert(io.open(ACKED_PATH, "w"))
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("acked")) do f:write(k, " ", string.format("%d", v), "\\n") end
  end
  f:close()
end
`;
  return wrkScript(body, WRK_COUNTERS);
}

function readAcked(path: string, into: Map<string, number>): void {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const [key, n] = line.split(' ');
    if (key === undefined || n === undefined) throw new Error(`bad line in ${path}: ${line}`);
    into.set(key, Number(n));
  }
}

/** Compares the body wrk sent first with what eventJson() generates for the same request. */
function checkParity(firstBodyPath: string, prefix: string): string | undefined {
  const sent = readFileSync(firstBodyPath, 'utf8');
  const first = (JSON.parse(sent) as { events: { timestamp: string }[] }).events[0];
  if (!first) return 'wrk sent an empty batch';
  const ours = requestBody(prefix, 1, 1, first.timestamp.slice(0, 20));
  if (ours === sent) return undefined;
  let i = 0;
  while (i < sent.length && sent[i] === ours[i]) i++;
  return `Lua and TypeScript generators differ at byte ${i}: wrk "${sent.slice(Math.max(0, i - 40), i + 40)}" vs ts "${ours.slice(Math.max(0, i - 40), i + 40)}"`;
}

// ---- the raw insert rate (runs in a child process pinned like the server)

interface RawResult {
  events: number;
  appendMs: number;
  batchMedianMs: number;
  batchP99Ms: number;
  stored: number;
  notAccepted: number;
}

async function rawWorker(args: string[]): Promise<void> {
  const [url, secondsArg, syncArg, tag] = args;
  if (url === undefined || secondsArg === undefined || (syncArg !== 'FULL' && syncArg !== 'NORMAL') || tag === undefined) {
    throw new Error('usage: ingest.ts --raw-worker DB_URL SECONDS FULL|NORMAL TAG');
  }
  const seconds = Number(secondsArg);
  const storage = await openStorage(url, { sqlite: { synchronous: syncArg } });
  const prefix = idPrefix('r', tag);
  const window = { maxPastMs: 24 * 3_600_000, maxFutureMs: 5 * 60_000 };
  const times: number[] = [];
  let events = 0;
  let total = 0;
  let notAccepted = 0;
  let batchNo = 0;
  let appendMs = 0;
  let warm = RAW_WARMUP_MS > 0;
  try {
    while (appendMs < seconds * 1000) {
      if (warm && appendMs >= RAW_WARMUP_MS) {
        // End of the warm-up (JIT, first pages of the table): start counting.
        warm = false;
        appendMs = 0;
        events = 0;
        notAccepted = 0;
        times.length = 0;
      }
      // Generated and normalised like the server does (JSON.parse + validateEvent), outside the timed part.
      const receivedTs = Date.now();
      const tsBase = isoBase(receivedTs);
      const batch: StoredEvent[] = [];
      for (let j = 0; j < RAW_BATCH / BATCH; j++) {
        batchNo++;
        const key = batchKey(prefix, 1, batchNo);
        for (let k = 0; k < BATCH; k++) {
          const v = validateEvent(JSON.parse(eventJson(key, 1, batchNo, k, tsBase)), { receivedTs, window, trusted: false });
          if (!v.ok) throw new Error(`the workload generator made an invalid event: ${v.error.reason}`);
          batch.push({ ...v.event, receivedTs });
        }
      }
      const t0 = performance.now();
      const out = await storage.appendEvents(batch);
      const dt = performance.now() - t0;
      appendMs += dt;
      times.push(dt);
      events += batch.length;
      total += batch.length;
      for (const o of out) if (o !== 'accepted') notAccepted++;
    }
    const stored = (await storage.countEvents()) - (total - events);
    const r: RawResult = { events, appendMs, batchMedianMs: median(times), batchP99Ms: percentile(times, 99), stored, notAccepted };
    process.stdout.write(`${RAW_TAG}${JSON.stringify(r)}\n`);
  } finally {
    await storage.close();
  }
}

async function rawRun(url: string, sync: 'FULL' | 'NORMAL', pin: boolean): Promise<RawResult> {
  const tag = newTag();
  const r = await runCommand(
    [
      process.execPath,
      join(REPO_ROOT, 'bin/tsnode.mjs'),
      join(REPO_ROOT, 'bench/ingest.ts'),
      '--raw-worker',
      url,
      String(RAW_SECONDS),
      sync,
      tag,
    ],
    pin ? { cpu: SERVER_CPU } : {},
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith(RAW_TAG));
  if (r.code !== 0 || line === undefined)
    throw new Error(`the raw insert run failed (code ${r.code}, signal ${r.signal}):\n${r.stdout}${r.stderr}`);
  return JSON.parse(line.slice(RAW_TAG.length)) as RawResult;
}

// ---- backends

interface Backend {
  kind: 'sqlite' | 'postgres';
  label: string;
  /** What "committed" means for this backend. */
  durability: string;
  /** A URL to a fresh, empty database. */
  fresh(name: 'http' | 'raw'): Promise<string>;
  /** Frees what `fresh` made for `name` (after it has been checked). */
  discard(name: 'http' | 'raw'): Promise<void>;
}

function sqliteBackend(dir: string, sync: 'FULL' | 'NORMAL'): Backend {
  const path = (name: string) => join(dir, `${name}.db`);
  const remove = (name: string) => {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path(name)}${suffix}`, { force: true });
  };
  return {
    kind: 'sqlite',
    label: 'SQLite',
    durability: `synchronous=${sync}`,
    async fresh(name) {
      remove(name);
      return `sqlite:${path(name)}`;
    },
    async discard(name) {
      remove(name);
    },
  };
}

async function postgresBackend(adminUrl: string): Promise<{ backend: Backend; version: string } | { unreachable: string }> {
  let settings: { version: string; sc: string; fsync: string };
  try {
    settings = await withPg(adminUrl, async (c) => {
      const v = await c.query<{ server_version: string }>('show server_version');
      const sc = await c.query<{ synchronous_commit: string }>('show synchronous_commit');
      const fs = await c.query<{ fsync: string }>('show fsync');
      return { version: v.rows[0]?.server_version ?? '?', sc: sc.rows[0]?.synchronous_commit ?? '?', fsync: fs.rows[0]?.fsync ?? '?' };
    });
  } catch (e) {
    return { unreachable: (e as Error).message || String(e) };
  }
  const u = new URL(adminUrl);
  u.pathname = `/${PG_DB}`;
  const benchUrl = u.toString();
  const recreate = () =>
    withPg(adminUrl, async (c) => {
      await c.query(`drop database if exists ${PG_DB} with (force)`);
      await c.query(`create database ${PG_DB}`);
    });
  return {
    version: settings.version,
    backend: {
      kind: 'postgres',
      label: 'PostgreSQL',
      durability: `synchronous_commit=${settings.sc}, fsync=${settings.fsync}`,
      async fresh() {
        await recreate();
        return benchUrl;
      },
      async discard() {
        await withPg(adminUrl, (c) => c.query(`drop database if exists ${PG_DB} with (force)`));
      },
    },
  };
}

// ---- one backend, end to end

interface HttpRun {
  wrk: WrkResult;
  meanEventBytes: number;
  cpu: CpuUsage | undefined;
}

interface Durability {
  stored: number;
  acked: number;
  missing: number;
  missingBatches: number;
}

interface BackendResult {
  backend: Backend;
  /** --experiment: readers exposed before the run, and how far the server's rollups got. */
  experiment?: { exposed: number; rollups?: RollupProgress };
  http?: HttpRun;
  warmupEvents?: number;
  durability?: Durability;
  raw?: RawResult;
  profile?: { summary: ProfileSummary; savedAs: string };
  parity?: string;
  errors: string[];
}

const EXPERIMENT_ID = 'bench-ingest';

/** Starts a 3-arm experiment on read-next and exposes every reader of the workload to it, one minute ago. */
async function exposeEveryReader(url: string, sync: 'FULL' | 'NORMAL'): Promise<number> {
  const storage = await openStorage(url, { sqlite: { synchronous: sync } });
  try {
    const deployments = new DeploymentAdmin(storage, builtinRegistry(), systemClock);
    await deployments.init();
    const experiment = await startThreeArmExperiment(deployments, EXPERIMENT_ID, 'bench:ingest --experiment');
    const exposedTs = Date.now() - 60_000;
    const batch: ExposureRecord[] = [];
    for (let r = 0; r < READERS; r++) {
      const readerId = `rdr-${pad(r, 5)}`;
      const arm = assignArm(experiment, readerId);
      if (!arm) throw new Error(`reader ${readerId} is outside the experiment`);
      batch.push({
        experiment: EXPERIMENT_ID,
        phase: experiment.phase,
        arm: arm.name,
        readerId,
        hashVersion: experiment.hashVersion,
        exposedTs,
      });
    }
    for (let i = 0; i < batch.length; i += 5000) await storage.appendExposures(batch.slice(i, i + 5000));
    return batch.length;
  } finally {
    await storage.close();
  }
}

interface RollupProgress {
  /** Events stored, and those the rollups had taken in when the server stopped. */
  events: number;
  rolled: number;
  /** Receive time of the newest event minus the rollups' `through` time, ms. */
  behindMs: number;
}

async function rollupProgress(url: string, sync: 'FULL' | 'NORMAL'): Promise<RollupProgress> {
  const storage = await openStorage(url, { sqlite: { synchronous: sync } });
  try {
    const st = (
      await sql<{ cursor: number | string; through_ts: number | string }>`select cursor, through_ts from rollup_state where id = 1`.execute(
        kyselyOf(storage),
      )
    ).rows[0]!;
    const cursor = Number(st.cursor);
    // The cursor is the rowid on SQLite and the receive time on PostgreSQL (ADR 0001).
    const rolled =
      storage.dialect === 'sqlite'
        ? (await sql<{ n: number }>`select count(*) as n from events where rowid <= ${cursor}`.execute(kyselyOf(storage))).rows[0]!.n
        : (await sql<{ n: string }>`select count(*) as n from events where received_ts <= ${cursor}`.execute(kyselyOf(storage))).rows[0]!.n;
    const newest = (await sql<{ t: number | string | null }>`select max(received_ts) as t from events`.execute(kyselyOf(storage))).rows[0]!
      .t;
    return {
      events: await storage.countEvents(),
      rolled: Number(rolled),
      behindMs: Math.max(0, Number(newest ?? 0) - Number(st.through_ts)),
    };
  } finally {
    await storage.close();
  }
}

const httpEventsPerSec = (w: WrkResult) => ((w.requests - (w.counters.non2xx ?? 0)) * BATCH) / w.durationS;
const rawEventsPerSec = (r: RawResult) => r.events / (r.appendMs / 1000);

async function runHttp(
  url: string,
  dir: string,
  o: { phase: string; tag: string; seconds: number; serverPid: number; pin: boolean; sampleCpu: boolean; acked: Map<string, number> },
): Promise<{ run: HttpRun; parity: string | undefined }> {
  const prefix = idPrefix(o.phase, o.tag);
  const ackedPath = join(dir, `acked-${o.phase}.txt`);
  const firstBodyPath = join(dir, `first-body-${o.phase}.json`);
  const scriptPath = join(dir, `ingest-${o.phase}.lua`);
  writeFileSync(scriptPath, luaScript({ prefix, ackedPath, firstBodyPath }));

  let before: CpuSnapshot | undefined;
  let after: CpuSnapshot | undefined;
  const timers: NodeJS.Timeout[] = [];
  const run = await runWrk({
    url: `${url}/v1/events`,
    scriptPath,
    threads: THREADS,
    connections: CONNECTIONS,
    seconds: o.seconds,
    timeoutSeconds: WRK_TIMEOUT_S,
    ...(o.pin ? { cpu: CLIENT_CPU } : {}),
    onStart: (wrkPid) => {
      if (!o.sampleCpu) return;
      // Skip the first second (connections opening) and stop before wrk does.
      const from = Math.min(1, o.seconds * 0.1) * 1000;
      const to = (o.seconds - Math.min(0.5, o.seconds * 0.05)) * 1000;
      const groups = () => ({ server: [o.serverPid], wrk: [wrkPid], postgres: pidsByName('postgres') });
      timers.push(setTimeout(() => (before = cpuSnapshot(groups())), from));
      timers.push(setTimeout(() => (after = cpuSnapshot(groups())), to));
    },
  });
  for (const t of timers) clearTimeout(t);
  readAcked(ackedPath, o.acked);
  const c = run.result.counters;
  return {
    run: {
      wrk: run.result,
      meanEventBytes: (c.evbytes ?? 0) / Math.max(1, c.events ?? 0),
      cpu: before && after ? cpuUsage(before, after) : undefined,
    },
    parity: checkParity(firstBodyPath, prefix),
  };
}

/** Acknowledged ⊆ stored, per request: every acknowledged batch has all its accepted events in the database. */
async function verifyDurable(url: string, sync: 'FULL' | 'NORMAL', acked: ReadonlyMap<string, number>): Promise<Durability> {
  const storage = await openStorage(url, { sqlite: { synchronous: sync } });
  try {
    const stored = await storage.countEvents();
    const rows = await sql<{ k: string; n: number | string }>`
      select substr(event_id, 1, length(event_id) - 4) as k, count(*) as n from events group by substr(event_id, 1, length(event_id) - 4)`.execute(
      kyselyOf(storage),
    );
    const byKey = new Map(rows.rows.map((r) => [r.k, Number(r.n)]));
    let ackedEvents = 0;
    let missing = 0;
    let missingBatches = 0;
    for (const [key, n] of acked) {
      ackedEvents += n;
      const have = byKey.get(key) ?? 0;
      if (have < n) {
        missing += n - have;
        missingBatches++;
      }
    }
    return { stored, acked: ackedEvents, missing, missingBatches };
  } finally {
    await storage.close();
  }
}

async function benchBackend(
  b: Backend,
  dir: string,
  opts: { sync: 'FULL' | 'NORMAL'; pin: boolean; profile: boolean; experiment: boolean },
): Promise<BackendResult> {
  const res: BackendResult = { backend: b, errors: [] };
  const work = join(dir, b.kind);
  mkdirSync(work, { recursive: true });
  const profDir = join(work, 'prof');
  const tag = newTag();
  const acked = new Map<string, number>();
  const db = await b.fresh('http');
  if (opts.experiment) {
    progress(`${b.label}: starting experiment ${EXPERIMENT_ID} and exposing ${int(READERS)} readers`);
    res.experiment = { exposed: await exposeEveryReader(db, opts.sync) };
  }
  progress(`${b.label}: starting the server`);
  let server: ServerHandle | undefined;
  try {
    server = await startServer({
      db,
      port: await freePort(),
      ...(opts.pin ? { cpu: SERVER_CPU } : {}),
      env: {
        // At least 24 characters (config MIN_KEY_LENGTH).
        READNEXT_ADMIN_KEY: `bench-admin-key-${randomBytes(6).toString('hex')}`,
        READNEXT_INGEST_KEY: `bench-ingest-key-${randomBytes(6).toString('hex')}`,
        READNEXT_LOG_LEVEL: 'warn',
        READNEXT_SQLITE_SYNCHRONOUS: opts.sync,
      },
      ...(opts.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
    });
  } catch (e) {
    res.errors.push((e as Error).message);
  }
  if (server) {
    try {
      if (WARMUP_SECONDS > 0) {
        progress(`${b.label}: warm-up, ${WARMUP_SECONDS} s`);
        const w = await runHttp(server.url, work, {
          phase: 'w',
          tag,
          seconds: WARMUP_SECONDS,
          serverPid: server.pid,
          pin: opts.pin,
          sampleCpu: false,
          acked,
        });
        res.warmupEvents = w.run.wrk.counters.accepted ?? 0;
      }
      progress(`${b.label}: measured HTTP run, ${SECONDS} s`);
      const m = await runHttp(server.url, work, {
        phase: 'm',
        tag,
        seconds: SECONDS,
        serverPid: server.pid,
        pin: opts.pin,
        sampleCpu: true,
        acked,
      });
      res.http = m.run;
      res.parity = m.parity;
      const w = m.run.wrk;
      if ((w.counters.unparsed ?? 0) > 0) res.errors.push(`${w.counters.unparsed} 2xx replies could not be parsed`);
      // The workload is valid by construction: a reply other than 2xx is the server failing.
      if ((w.counters.non2xx ?? 0) > 0) res.errors.push(`${w.counters.non2xx} of ${w.requests} requests got a non-2xx reply`);
      if ((w.counters.rejected ?? 0) + (w.counters.conflicts ?? 0) + (w.counters.duplicates ?? 0) > 0) {
        res.errors.push('the server did not accept every event of the (valid, unique) workload; see "replies"');
      }
    } catch (e) {
      res.errors.push((e as Error).message);
    } finally {
      progress(`${b.label}: stopping the server`);
      const st = await server.stop(STOP_TIMEOUT_MS);
      if (st.killed) res.errors.push(`the server did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM and was killed`);
      else if (st.code !== 0) res.errors.push(`the server exited with code ${st.code} signal ${st.signal}:\n${server.output()}`);
    }
  }
  if (res.experiment && res.http) res.experiment.rollups = await rollupProgress(db, opts.sync);
  if (res.http) {
    progress(`${b.label}: checking that acknowledged events are stored`);
    res.durability = await verifyDurable(db, opts.sync, acked);
    if (res.durability.missing > 0) {
      res.errors.push(
        `${res.durability.missing} acknowledged events (in ${res.durability.missingBatches} requests) are missing from the database`,
      );
    }
  }
  if (opts.profile) {
    const prof = mainThreadProfile(profDir);
    if (prof) {
      const outDir = join(REPO_ROOT, '.bench');
      mkdirSync(outDir, { recursive: true });
      const savedAs = join(outDir, `ingest-${b.kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
      copyFileSync(prof, savedAs);
      res.profile = { summary: summarizeCpuProfile(prof, 25), savedAs };
    } else {
      res.errors.push('no CPU profile was written');
    }
  }
  await b.discard('http');
  try {
    progress(`${b.label}: raw insert run, ${RAW_SECONDS} s`);
    res.raw = await rawRun(await b.fresh('raw'), opts.sync, opts.pin);
    if (res.raw.notAccepted > 0) res.errors.push(`raw run: ${res.raw.notAccepted} events not accepted`);
    if (res.raw.stored !== res.raw.events) res.errors.push(`raw run: ${res.raw.events} events appended but ${res.raw.stored} stored`);
  } catch (e) {
    res.errors.push((e as Error).message);
  } finally {
    await b.discard('raw');
  }
  progress(`${b.label}: done`);
  return res;
}

// ---- output

function printBackend(r: BackendResult): void {
  const b = r.backend;
  console.log(`\n== ${b.label} (${b.durability}) ==`);
  if (r.experiment) {
    const x = r.experiment;
    const ro = x.rollups;
    console.log(
      `  experiment   ${EXPERIMENT_ID} running, ${int(x.exposed)} readers exposed (every reader of the workload)` +
        (ro
          ? `; rollups had taken in ${int(ro.rolled)} of ${int(ro.events)} stored events (${fixed((100 * ro.rolled) / Math.max(1, ro.events), 0)}%), ${fixed(ro.behindMs / 1000)} s behind the newest when the server stopped`
          : ''),
    );
  }
  if (r.http) {
    const w = r.http.wrk;
    const c = w.counters;
    const ok = w.requests - (c.non2xx ?? 0);
    const e = w.errors;
    if (r.warmupEvents !== undefined)
      console.log(`  warm-up      ${WARMUP_SECONDS} s, ${int(r.warmupEvents)} events acknowledged (not counted)`);
    console.log(
      `  HTTP         ${int(httpEventsPerSec(w))} events/s  = ${fixed(ok / w.durationS)} successful req/s × ${BATCH} (${int(ok)} of ${int(w.requests)} requests in ${fixed(w.durationS, 2)} s)`,
    );
    console.log(
      `  errors       non-2xx ${int(c.non2xx ?? 0)}; socket errors: connect ${e.connect}, read ${e.read}, write ${e.write}, timeout ${e.timeout}`,
    );
    if (e.connect + e.read + e.write + e.timeout > 0) {
      console.log(
        `  WARNING      socket errors: requests that timed out (${WRK_TIMEOUT_S} s) or broke are neither counted nor acknowledged`,
      );
    }
    console.log(
      `  replies      accepted ${int(c.accepted ?? 0)}, duplicates ${int(c.duplicates ?? 0)}, conflicts ${int(c.conflicts ?? 0)}, rejected ${int(c.rejected ?? 0)}` +
        ` (mean event sent: ${fixed(r.http.meanEventBytes)} B of JSON)`,
    );
    const l = w.latencyMs;
    console.log(
      `  latency      p50 ${fixed(l.p50)} ms, p90 ${fixed(l.p90)} ms, p99 ${fixed(l.p99)} ms, p99.9 ${fixed(l.p999)} ms, max ${fixed(l.max)} ms (mean ${fixed(l.mean)} ms)`,
    );
    const cpu = r.http.cpu;
    if (cpu) {
      const g = cpu.groups;
      console.log(
        `  CPU          server ${fixed(g.server ?? 0, 0)}%, wrk ${fixed(g.wrk ?? 0, 0)}%, postgres (all processes) ${fixed(g.postgres ?? 0, 0)}%,` +
          ` other processes ${fixed(cpu.otherUser, 0)}%, kernel threads ${fixed(cpu.otherKernel, 0)}% of one core (over ${fixed(cpu.seconds)} s)`,
      );
      console.log(
        `               cores busy ${cpu.cores.map((p, i) => `cpu${i} ${fixed(p, 0)}%`).join(', ')}` +
          (cpu.topOthers.length > 0 ? `; busiest others: ${cpu.topOthers.map((o) => `${o.comm} ${fixed(o.pct, 0)}%`).join(', ')}` : ''),
      );
      // Other processes, plus busy time nothing in /proc accounts for (processes that came and went during the run).
      const noise = otherWorkPct(cpu);
      if (noise > NOISY_OTHER_CPU) {
        console.log(`  WARNING      other work kept about ${fixed(noise, 0)}% of a core busy during the run: the figures are noisy`);
      }
    }
    if (r.parity) console.log(`  WARNING      ${r.parity}`);
  }
  if (r.durability) {
    const d = r.durability;
    const inFlight = d.stored - (d.acked - d.missing);
    console.log(
      `  durability   acknowledged ${int(d.acked)}, stored ${int(d.stored)}: ` +
        (d.missing === 0
          ? `every acknowledged event is stored (OK); ${int(inFlight)} more were committed but not acknowledged before wrk stopped`
          : `MISSING ${int(d.missing)} acknowledged events in ${d.missingBatches} requests`),
    );
  }
  if (r.raw) {
    const raw = r.raw;
    console.log(
      `  raw insert   ${int(rawEventsPerSec(raw))} events/s (appendEvents × ${RAW_BATCH}, ${int(raw.events)} events in ${fixed(raw.appendMs / 1000, 2)} s of insert time;` +
        ` per batch median ${fixed(raw.batchMedianMs, 2)} ms = ${int((RAW_BATCH * 1000) / raw.batchMedianMs)} events/s, p99 ${fixed(raw.batchP99Ms, 2)} ms)`,
    );
  }
  if (r.http && r.raw) console.log(`  HTTP / raw   ${fixed(httpEventsPerSec(r.http.wrk) / rawEventsPerSec(r.raw), 2)}`);
  if (r.profile) {
    const p = r.profile.summary;
    console.log(
      `  CPU profile of the server (${fixed(p.totalMs / 1000)} s sampled, warm-up and start-up included), saved as ${r.profile.savedAs}`,
    );
    console.log(profileTables(p));
  }
  for (const e of r.errors) console.log(`  ERROR        ${e}`);
}

function printSummary(results: BackendResult[], skipped: { kind: keyof typeof TARGETS; label: string; why: string }[]): void {
  const rows: string[][] = results.map((r) => {
    const target = TARGETS[r.backend.kind];
    const http = r.http ? httpEventsPerSec(r.http.wrk) : NaN;
    const raw = r.raw ? rawEventsPerSec(r.raw) : NaN;
    const durable = r.durability ? (r.durability.missing === 0 ? 'yes' : `NO (${int(r.durability.missing)} missing)`) : 'n/a';
    const mark = !r.http ? 'FAILED' : http >= target ? 'PASS' : 'BELOW';
    return [
      r.backend.label,
      r.backend.durability.split(',')[0]!,
      int(http),
      int(raw),
      fixed(http / raw, 2),
      r.http ? fixed(r.http.wrk.latencyMs.p50) : 'n/a',
      r.http ? fixed(r.http.wrk.latencyMs.p99) : 'n/a',
      durable,
      `≥ ${int(target)}`,
      mark,
    ];
  });
  for (const s of skipped) rows.push([s.label, `skipped: ${s.why}`, '', '', '', '', '', '', `≥ ${int(TARGETS[s.kind])}`, '-']);
  const sizes = results.flatMap((r) => (r.http ? [r.http.meanEventBytes] : []));
  const size = sizes.length > 0 ? `, mean event ${fixed(sizes[0]!)} B` : '';
  console.log(
    `\nSummary (HTTP: wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, ${BATCH} events/request${size}; raw: appendEvents × ${RAW_BATCH}, ${RAW_SECONDS} s; server and raw run on one core)`,
  );
  console.log(
    formatTable(
      ['backend', 'durability', 'HTTP events/s', 'raw events/s', 'HTTP/raw', 'p50 ms', 'p99 ms', 'acked ⊆ stored', 'target', 'result'],
      rows,
      [0, 1, 7],
    ),
  );
}

// ---- main

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--raw-worker') {
    await rawWorker(argv.slice(1));
    return 0;
  }
  for (const a of argv) {
    if (!['--no-pg', '--no-sqlite', '--experiment', '--profile', '--help', '-h'].includes(a)) {
      console.error(`unknown argument ${a}; usage: npm run bench:ingest [-- --no-pg] [--no-sqlite] [--experiment] [--profile]`);
      return 2;
    }
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      'usage: npm run bench:ingest [-- --no-pg] [--no-sqlite] [--experiment] [--profile]   (env BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_RAW_SECONDS, BENCH_PG_URL)',
    );
    return 0;
  }
  if (!Number.isInteger(SECONDS)) throw new Error('BENCH_SECONDS must be a whole number of seconds (wrk -d)');
  if (!commandExists('wrk')) {
    console.error('bench:ingest needs wrk on the PATH (apt-get install wrk)');
    return 2;
  }
  const syncRaw = (process.env.READNEXT_SQLITE_SYNCHRONOUS ?? 'FULL').trim().toUpperCase();
  if (syncRaw !== 'FULL' && syncRaw !== 'NORMAL') throw new Error(`READNEXT_SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "${syncRaw}"`);
  const sync: 'FULL' | 'NORMAL' = syncRaw;
  const profile = argv.includes('--profile');
  const experiment = argv.includes('--experiment');
  const machine = machineInfo();
  const pin = machine.nproc >= 2 && commandExists('taskset');
  const dir = makeTempDir('readnext-bench-');
  const stats = workloadStats(200);
  const wrkVersion = (await runCommand(['wrk', '-v'])).stdout.split('\n')[0]?.trim() ?? '?';

  console.log('readnext ingest benchmark');
  console.log(
    `machine   ${machine.nproc} CPUs (${machine.cpuModel}), ${fixed(machine.memGiB)} GiB RAM, Linux ${machine.kernel}, node ${machine.node}, ${wrkVersion.replace(/ Copyright.*/, '')}`,
  );
  console.log(
    `workload  POST /v1/events, ${BATCH} events per request: ${MIX}; ${READERS.toLocaleString('en-US')} readers, ${ARTICLES.toLocaleString('en-US')} articles;`,
  );
  console.log(
    `          fresh unique eventIds per request; mean event ${fixed(stats.meanBytes)} B of JSON (${fixed((stats.meanBytes * BATCH) / 1024)} KiB per request)`,
  );
  console.log(
    `          wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s --timeout ${WRK_TIMEOUT_S}s after a ${WARMUP_SECONDS} s warm-up (not counted); ` +
      (pin
        ? `server on core ${SERVER_CPU} (taskset -c ${SERVER_CPU}), wrk on core ${CLIENT_CPU}`
        : 'NOT pinned (fewer than 2 CPUs or no taskset)'),
  );
  console.log(
    `          raw rate: storage.appendEvents in batches of ${RAW_BATCH} of the same mix for ${RAW_SECONDS} s of insert time after ${RAW_WARMUP_MS / 1000} s of warm-up, fresh database, same core`,
  );
  if (experiment)
    console.log(
      `          --experiment: every reader exposed to a running 3-arm experiment before the run; the server's analysis rollups run alongside ingestion`,
    );
  const load = loadAverage();
  if (load !== undefined)
    console.log(
      `          load average before the run: ${fixed(load, 2)}${load > 0.5 ? ' (something else is running: expect noise)' : ''}`,
    );
  console.log(
    `          SQLite: synchronous=${sync}, temp files on ${filesystemType(dir)} (${dir})${profile ? '; server under --cpu-prof (slower)' : ''}`,
  );

  const backends: Backend[] = [];
  const skipped: { kind: keyof typeof TARGETS; label: string; why: string }[] = [];
  if (argv.includes('--no-sqlite')) skipped.push({ kind: 'sqlite', label: 'SQLite', why: '--no-sqlite' });
  else backends.push(sqliteBackend(dir, sync));
  const pgAdminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (argv.includes('--no-pg')) {
    skipped.push({ kind: 'postgres', label: 'PostgreSQL', why: '--no-pg' });
  } else {
    const p = await postgresBackend(pgAdminUrl);
    if ('unreachable' in p) {
      console.log(`          PostgreSQL at ${pgAdminUrl} is unreachable (${p.unreachable}): skipped`);
      skipped.push({ kind: 'postgres', label: 'PostgreSQL', why: 'unreachable' });
    } else {
      console.log(
        `          PostgreSQL ${p.version} at ${pgAdminUrl.replace(/\/[^/]*$/, '')}/${PG_DB} (same machine, not pinned), ${p.backend.durability}`,
      );
      backends.push(p.backend);
    }
  }

  const results: BackendResult[] = [];
  for (const b of backends) {
    let r: BackendResult;
    try {
      r = await benchBackend(b, dir, { sync, pin, profile, experiment });
    } catch (e) {
      r = { backend: b, errors: [(e as Error).message] };
    }
    printBackend(r);
    results.push(r);
  }
  printSummary(results, skipped);
  emitResult({
    seconds: SECONDS,
    eventsPerRequest: BATCH,
    backends: results.map((r) => ({
      backend: r.backend.label,
      httpEventsPerS: r.http ? httpEventsPerSec(r.http.wrk) : null,
      rawEventsPerS: r.raw ? rawEventsPerSec(r.raw) : null,
      p50Ms: r.http?.wrk.latencyMs.p50 ?? null,
      p99Ms: r.http?.wrk.latencyMs.p99 ?? null,
      missing: r.durability?.missing ?? null,
      targetEventsPerS: TARGETS[r.backend.kind],
      errors: r.errors.length,
    })),
  });
  const failed = results.filter((r) => r.errors.length > 0);
  if (failed.length > 0) console.log(`\nFAILED: ${failed.map((r) => r.backend.label).join(', ')} (see ERROR lines above)`);
  return failed.length > 0 ? 1 : 0;
}

await runBench(main);
