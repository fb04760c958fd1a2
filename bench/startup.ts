/**
 * Start-up benchmark: how long `readnext serve` takes, after a restart, 1. to accept events
 * (POST /v1/events answered 200 with the event accepted) and 2. to be ready (GET /readyz 200: the
 * serving state rebuilt from the stored events), on databases holding 1M and 3M events, on
 * SQLite and on PostgreSQL.
 *
 *   npm run bench:startup [-- [--no-pg] [--no-sqlite] [--pg URL] [--sizes 1000000,3000000] [--runs 3] [--help-only]]
 *
 * Workload (setup: timed and printed, not the measurement): ARTICLES articles and N events spread
 * over the last 6 days (inside the default 7-day replay window, so every reading signal is
 * replayed: the worst case), generated inside the database by one INSERT ... SELECT per chunk
 * (a recursive CTE on SQLite, generate_series on PostgreSQL): page_view 40%, impression 25%,
 * click 10%, read 25% (the mix of bench/ingest.ts), so 75% of the events are reading signals.
 *
 * Measured, per run: the server is started as a child process (as `npm start` does); from the
 * spawn, one valid event is POSTed every POLL_MS until one is accepted (connection refused and
 * 503 count as not yet), and GET /readyz is polled every POLL_MS until it answers 200. Medians of
 * the runs are printed. The server is stopped with SIGTERM between runs.
 *
 * First, the command's own start: `readnext --help` and `readnext deploy --help` from spawn to
 * exit (HELP_WARMUP unmeasured runs, then HELP_RUNS, interleaved with the baseline `node -e 0`),
 * medians beside the baseline; the target is under 0.3 s (issue 15). `--help-only` stops there.
 *
 * Environment: BENCH_PG_URL or READNEXT_TEST_PG (an admin URL, default
 * postgres://postgres@127.0.0.1:5432/postgres; the scratch database readnext_bench_startup is
 * dropped and recreated). Exit status: 0 whatever the times; 1 when a server fails to start or
 * to become ready within READY_TIMEOUT_MS.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openStorage, type OpenedStorage } from '../src/adapters/storage/open.js';
import { kyselyOf } from '../src/adapters/storage/testing.js';
import type { Article } from '../src/core/catalog/article.js';
import { SERVER_NODE_FLAGS } from '../src/main/node-flags.js';
import {
  emitResult,
  filesystemType,
  fixed,
  formatTable,
  freePort,
  int,
  loadAverage,
  machineInfo,
  makeTempDir,
  median,
  onCleanup,
  REPO_ROOT,
  runBench,
  secondsSince,
  withPg,
} from './lib.js';

// ---- settings

const ARTICLES = 20_000;
const READERS = 200_000;
const DAY = 86_400_000;
/** Events span the last SPAN_MS (inside the default replay window of 7 days). */
const SPAN_MS = 6 * DAY;
/** Rows per INSERT ... SELECT while preparing. */
const CHUNK = 250_000;
const POLL_MS = 20;
const READY_TIMEOUT_MS = 180_000;
const PG_DB = 'readnext_bench_startup';
const HELP_WARMUP = 3;
const HELP_RUNS = 15;
/** Issue 15: `readnext --help` median under this, from spawn, seconds. */
const HELP_TARGET_S = 0.3;
const KEYS = { admin: 'bench-admin-key-0123456789abcdef', ingest: 'bench-ingest-key-0123456789abcdef' };

const started = performance.now();
/** Progress on stderr, so stdout stays the report. */
const progress = (msg: string) => process.stderr.write(`[${fixed(secondsSince(started))} s] ${msg}\n`);

function parseArgs(argv: string[]): { sqlite: boolean; pg: boolean; pgUrl: string; sizes: number[]; runs: number; helpOnly: boolean } {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = (value('--sizes') ?? '0,1000000,3000000').split(',').map((s) => Number(s));
  if (sizes.some((n) => !Number.isInteger(n) || n < 0)) throw new Error('--sizes takes a comma-separated list of integers >= 0');
  const runs = Number(value('--runs') ?? '3');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes an integer >= 1');
  return {
    sqlite: !argv.includes('--no-sqlite'),
    pg: !argv.includes('--no-pg'),
    pgUrl: value('--pg') ?? process.env.BENCH_PG_URL ?? process.env.READNEXT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    sizes,
    runs,
    helpOnly: argv.includes('--help-only'),
  };
}

// ---- the command's own start

/** Seconds from spawn to exit of `node ARGS` (stdio ignored); throws when it fails. */
function spawnSeconds(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: 'ignore' });
  const s = secondsSince(t);
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return s;
}

/** Medians of `readnext --help`, `readnext deploy --help` and `node -e 0`, runs interleaved so load hits all alike. */
function helpTimes(): { help: number; deployHelp: number; baseline: number } {
  const bin = join(REPO_ROOT, 'bin/readnext.mjs');
  const commands = { help: [bin, '--help'], deployHelp: [bin, 'deploy', '--help'], baseline: ['-e', '0'] };
  const times = { help: [] as number[], deployHelp: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < HELP_WARMUP + HELP_RUNS; i++) {
    for (const k of ['help', 'deployHelp', 'baseline'] as const) {
      const s = spawnSeconds(commands[k]);
      if (i >= HELP_WARMUP) times[k].push(s);
    }
  }
  return { help: median(times.help), deployHelp: median(times.deployHelp), baseline: median(times.baseline) };
}

// ---- the data, generated inside the database

/**
 * The SELECT list of event `i` (a column named i), in EVENT_COLUMNS order, for `dialect`. Slots
 * i mod 20: 0-7 page_view, 8-12 impression, 13-14 click, 15-19 read; time ascends with i.
 */
function eventSelect(dialect: 'sqlite' | 'postgres', fromTs: number, total: number): string {
  const pad = (expr: string, w: number) => (dialect === 'sqlite' ? `printf('%0${w}d', ${expr})` : `lpad((${expr})::text, ${w}, '0')`);
  const slot = '(i % 20)';
  const reader = `'rdr-' || ${pad(`(i * 7919) % ${READERS}`, 6)}`;
  const article = `'art-' || ${pad(`(i * 7907) % ${ARTICLES}`, 5)}`;
  const ts = `${fromTs} + (i * ${SPAN_MS}) / ${total}`;
  const type = `case when ${slot} < 8 then 'page_view' when ${slot} < 13 then 'impression' when ${slot} < 15 then 'click' else 'read' end`;
  const recomm = `case when ${slot} between 8 and 14 then 'rc' || ${pad('i - (i % 20) + 8', 10)} else null end`;
  const dwell = `case when ${slot} >= 15 then 5000 + (i * 7919) % 180000 else null end`;
  const extra =
    `case when ${slot} < 8 then '{}' when ${slot} < 13 then '{"placement":"read-next","items":[{"articleId":"' || ${article} || '","position":1}]}' ` +
    `when ${slot} < 15 then '{"position":1}' else '{"scroll":0.5}' end`;
  return `'e' || ${pad('i', 10)}, ${type}, ${reader}, 'ses-' || ${pad('(i * 7919) % ' + READERS, 6)}, ${ts}, ${ts} + 200, ${article}, ${recomm}, ${dwell}, null, ${extra}`;
}

const COLUMNS = 'event_id, type, reader_id, session_id, client_ts, received_ts, article_id, recomm_id, dwell_ms, revenue, extra';

async function insertEvents(storage: OpenedStorage, total: number, fromTs: number): Promise<void> {
  const select = eventSelect(storage.dialect, fromTs, total);
  for (let lo = 0; lo < total; lo += CHUNK) {
    const hi = Math.min(total, lo + CHUNK) - 1;
    const q =
      storage.dialect === 'sqlite'
        ? `with recursive n(i) as (select ${lo} union all select i + 1 from n where i < ${hi}) insert into events (${COLUMNS}) select ${select} from n`
        : `insert into events (${COLUMNS}) select ${select} from generate_series(${lo}::bigint, ${hi}::bigint) as g(i)`;
    await sql.raw(q).execute(kyselyOf(storage));
    progress(`  ${int(hi + 1)} of ${int(total)} events`);
  }
}

function articles(now: number): Article[] {
  const out: Article[] = [];
  for (let a = 0; a < ARTICLES; a++) {
    out.push({
      id: `art-${String(a).padStart(5, '0')}`,
      url: `https://news.example/a/${a}`,
      title: `Article ${a}`,
      lead: null,
      body: null,
      section: ['politics', 'sport', 'culture', 'economy', 'science'][a % 5]!,
      tags: [],
      author: null,
      publishedAt: now - SPAN_MS - DAY + Math.floor((a * (SPAN_MS + DAY)) / ARTICLES),
      updatedAt: null,
      expiresAt: null,
      embargoUntil: null,
      status: 'published',
      paywalled: false,
      language: 'en',
    });
  }
  return out;
}

/** Migrates `url`, stores the catalog and `total` events ending now. */
async function prepare(url: string, total: number): Promise<number> {
  const t = performance.now();
  const storage = await openStorage(url, { sqlite: { synchronous: 'NORMAL' } });
  try {
    const now = Date.now();
    await storage.upsertArticles(articles(now), now);
    await insertEvents(storage, total, now - SPAN_MS);
    if (storage.dialect === 'postgres') await sql`vacuum analyze events`.execute(kyselyOf(storage));
  } finally {
    await storage.close();
  }
  return secondsSince(t);
}

// ---- one start

interface StartTimes {
  /** Spawn to the first event accepted (POST /v1/events 200, status accepted), seconds. */
  acceptS: number;
  /** Spawn to GET /readyz 200, seconds. */
  readyS: number;
  /** Spawn to the first answer of any kind (the server listens), seconds. */
  listenS: number;
  /** Events accepted before ready. */
  acceptedBeforeReady: number;
  /** The slowest accepted event before ready (request to answer), seconds: how long the rebuild holds a request. */
  slowestAckS: number;
  /** The server's log line saying the state is ready. */
  readyLine: string;
}

let eventSeq = 0;
const eventBody = () =>
  JSON.stringify({
    events: [
      {
        type: 'read',
        eventId: `probe-${process.pid}-${Date.now()}-${eventSeq++}`,
        readerId: 'rdr-probe',
        sessionId: 'ses-probe',
        articleId: 'art-00001',
        timestamp: new Date().toISOString(),
        dwellMs: 30_000,
        scroll: 0.5,
      },
    ],
  });

/** Starts `readnext serve` on `db`, polls events and /readyz every POLL_MS until ready, then kills it (SIGKILL: a crash, as in the issue). */
async function startOnce(db: string): Promise<StartTimes> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, join(REPO_ROOT, 'bin/readnext.mjs'), 'serve', '--db', db, '--port', String(port), '--host', '127.0.0.1'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, READNEXT_ADMIN_KEY: KEYS.admin, READNEXT_INGEST_KEY: KEYS.ingest, READNEXT_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  onCleanup(() => {
    if (!exited) child.kill('SIGKILL');
  });
  const since = () => (performance.now() - t0) / 1000;
  let listenS = NaN;
  let acceptS = NaN;
  let readyS = NaN;
  let acceptedBeforeReady = 0;
  let slowestAckS = 0;
  const deadline = t0 + READY_TIMEOUT_MS;
  // Two pollers, each one request at a time every POLL_MS: events until one is accepted (then
  // on, to count them), /readyz until 200.
  const events = (async () => {
    while ((Number.isNaN(readyS) || Number.isNaN(acceptS)) && !exited && performance.now() < deadline) {
      const sent = performance.now();
      try {
        const res = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: eventBody(),
          signal: AbortSignal.timeout(5000),
        });
        if (Number.isNaN(listenS)) listenS = since();
        const body = (await res.json()) as { accepted?: number };
        if (res.status === 200 && body.accepted === 1) {
          if (Number.isNaN(acceptS)) acceptS = since();
          if (Number.isNaN(readyS)) {
            acceptedBeforeReady++;
            slowestAckS = Math.max(slowestAckS, (performance.now() - sent) / 1000);
          }
        }
      } catch {
        // not listening yet
      }
      await sleep(POLL_MS);
    }
  })();
  const ready = (async () => {
    while (!exited && performance.now() < deadline) {
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
        if (Number.isNaN(listenS)) listenS = since();
        await res.arrayBuffer();
        if (res.status === 200) {
          readyS = since();
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(POLL_MS);
    }
  })();
  await Promise.all([events, ready]);
  child.kill('SIGKILL');
  if (!exited) await new Promise((r) => child.once('exit', r));
  if (Number.isNaN(readyS)) throw new Error(`the server was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${out.slice(-4000)}`);
  const readyLine = /serving state ready[^\n]*/.exec(out)?.[0] ?? '(no ready line)';
  return { acceptS, readyS, listenS, acceptedBeforeReady, slowestAckS, readyLine };
}

// ---- backends

interface Target {
  label: string;
  /** A fresh, empty database URL. */
  fresh(): Promise<string>;
  discard(): Promise<void>;
  notes: string;
}

function sqliteTarget(): Target {
  const dir = makeTempDir('readnext-bench-startup-');
  const path = join(dir, 'startup.db');
  const remove = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  };
  return {
    label: 'SQLite',
    notes: `file on ${filesystemType(dir)}, synchronous=FULL (the default)`,
    async fresh() {
      remove();
      return `sqlite:${path}`;
    },
    async discard() {
      remove();
    },
  };
}

async function postgresTarget(adminUrl: string): Promise<Target | { unreachable: string }> {
  let version: string;
  try {
    version = await withPg(
      adminUrl,
      async (c) => (await c.query<{ server_version: string }>('show server_version')).rows[0]?.server_version ?? '?',
    );
  } catch (e) {
    return { unreachable: (e as Error).message || String(e) };
  }
  const u = new URL(adminUrl);
  u.pathname = `/${PG_DB}`;
  const drop = () => withPg(adminUrl, (c) => c.query(`drop database if exists ${PG_DB} with (force)`));
  return {
    label: 'PostgreSQL',
    notes: `PostgreSQL ${version}, scratch database ${PG_DB}`,
    async fresh() {
      await drop();
      await withPg(adminUrl, (c) => c.query(`create database ${PG_DB}`));
      return u.toString();
    },
    discard: async () => void (await drop()),
  };
}

// ---- main

interface Row {
  target: string;
  events: number;
  prepareS: number;
  runs: StartTimes[];
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const machine = machineInfo();
  console.log(
    `machine   ${machine.nproc} CPUs (${machine.cpuModel}), node ${machine.node}; load average before the run: ${fixed(loadAverage() ?? NaN, 2)}`,
  );
  const h = helpTimes();
  console.log(
    `readnext --help  median ${fixed(h.help, 3)} s, deploy --help ${fixed(h.deployHelp, 3)} s; baseline node -e 0 ${fixed(h.baseline, 3)} s ` +
      `(${HELP_RUNS} runs each, from spawn; target < ${HELP_TARGET_S} s: ${h.help < HELP_TARGET_S ? 'met' : 'NOT MET'})`,
  );
  const helpFigures = { helpS: h.help, deployHelpS: h.deployHelp, nodeBaselineS: h.baseline, helpTargetS: HELP_TARGET_S };
  if (args.helpOnly) {
    emitResult(helpFigures);
    return 0;
  }
  console.log(
    `workload  ${int(ARTICLES)} articles; N events over the last 6 days (75% reading signals, all inside the 7-day replay window); ${args.runs} starts per size, killed (SIGKILL) once ready`,
  );
  const targets: Target[] = [];
  if (args.sqlite) targets.push(sqliteTarget());
  if (args.pg) {
    const t = await postgresTarget(args.pgUrl);
    if ('unreachable' in t) console.log(`PostgreSQL skipped: unreachable at ${args.pgUrl}: ${t.unreachable}`);
    else targets.push(t);
  }
  const rows: Row[] = [];
  for (const target of targets) {
    console.log(`${target.label}: ${target.notes}`);
    for (const n of args.sizes) {
      progress(`${target.label}: preparing ${int(n)} events`);
      const db = await target.fresh();
      const prepareS = await prepare(db, n);
      const runs: StartTimes[] = [];
      for (let r = 0; r < args.runs; r++) {
        const t = await startOnce(db);
        progress(
          `${target.label} ${int(n)}: accepting events after ${fixed(t.acceptS, 2)} s, ready after ${fixed(t.readyS, 2)} s (${t.acceptedBeforeReady} events accepted before ready); ${t.readyLine}`,
        );
        runs.push(t);
      }
      rows.push({ target: target.label, events: n, prepareS, runs });
    }
    await target.discard();
  }
  console.log(`\nmedians of ${args.runs} starts, seconds from spawn (node and module loading included)`);
  console.log(
    formatTable(
      ['database', 'events', 'prepare s', 'listening', 'accepting events', 'ready', 'accepted before ready', 'slowest ack before ready'],
      rows.map((r) => [
        r.target,
        int(r.events),
        fixed(r.prepareS),
        fixed(median(r.runs.map((x) => x.listenS)), 2),
        fixed(median(r.runs.map((x) => x.acceptS)), 2),
        fixed(median(r.runs.map((x) => x.readyS)), 2),
        int(median(r.runs.map((x) => x.acceptedBeforeReady))),
        fixed(median(r.runs.map((x) => x.slowestAckS)), 3),
      ]),
      [0],
    ),
  );
  console.log(`\nwhole run ${fixed(secondsSince(started) / 60)} min`);
  emitResult({
    ...helpFigures,
    runs: args.runs,
    starts: rows.map((r) => ({
      database: r.target,
      events: r.events,
      listeningS: median(r.runs.map((x) => x.listenS)),
      acceptingS: median(r.runs.map((x) => x.acceptS)),
      readyS: median(r.runs.map((x) => x.readyS)),
    })),
  });
  return 0;
}

await runBench(main);
