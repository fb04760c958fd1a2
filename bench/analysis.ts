/**
 * Analysis benchmark: the time of a full experiment report (`experimentReport`: every metric of
 * core/analysis/metrics.ts, 3 arms, CUPED, the rollups caught up first) on a fixed workload, on
 * SQLite and on PostgreSQL, with what the rollups behind it cost.
 *
 *   npm run bench:analysis [-- [--no-pg] [--no-sqlite] [--keep]]
 *
 * Workload (setup: timed and printed, not the measurement): BENCH_READERS (default 500,000)
 * readers, each exposed once to a running 3-arm experiment (arm chosen by the experiment's own
 * hashing, equal weights) at a time spread over its first 3 days; BENCH_EVENTS (default
 * 10,000,000) stored events over the experiment's 14 days, in time order, from readers with a
 * skewed activity (page_view 40%, impression 25%, click 4%, read ~31%, subscribe 0.1%; every
 * optional field present as null), written with storage.appendEvents in batches of 10,000.
 *
 * Measured: 1. the first rollup catch-up over all loaded events (events/s: a server rolls up
 * every few seconds as events arrive, so this rate must exceed the average ingestion rate);
 * 2. the report BENCH_REPEATS (default 5) times after one warm-up, with its catch-up and armSums
 * times; 3. ingestion of 2,000,000 extra events (ids ascending with time, like the SDK's UUIDv7) without, then with rollup passes
 * running alongside every ROLLUP_EVERY_MS.
 *
 * Environment: BENCH_EVENTS, BENCH_READERS, BENCH_REPEATS, BENCH_INGEST_EXTRA (default 2,000,000), BENCH_ROLLUP_EVERY_MS (default 5000), BENCH_PG_URL (an admin URL, default
 * postgres://postgres@127.0.0.1:5432/postgres; the scratch database readnext_bench_analysis is
 * dropped and recreated). --keep leaves the SQLite file and the PostgreSQL database in place.
 * Exit status: 0 whatever the times; 1 when a backend fails or a report is inconsistent with the data.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStorage, type OpenedStorage } from '../src/adapters/storage/open.js';
import { kyselyOf } from '../src/adapters/storage/testing.js';
import { experimentReport, type ExperimentReport } from '../src/app/analysis.js';
import { DEFAULTS } from '../src/config/config.js';
import { AnalysisRollups } from '../src/app/rollups.js';
import { DeploymentAdmin, type ExperimentView } from '../src/app/deploy-admin.js';
import type { AnalysisStore } from '../src/app/ports.js';
import { METRICS } from '../src/core/analysis/metrics.js';
import type { StoredEvent } from '../src/core/events/schema.js';
import { assignArm } from '../src/core/experiments/experiment.js';
import { fixedClock, type Clock } from '../src/core/kernel/clock.js';
import { seededRng, type Rng } from '../src/core/kernel/rng.js';
import { checkStoredEvent, EventTraffic, syntheticId, type IdScheme } from '../src/core/simulate/synthetic.js';
import { builtinRegistry } from '../src/core/recommend/kinds/index.js';
import type { ExposureRecord } from '../src/core/events/records.js';
import {
  cpuSnapshot,
  cpuUsage,
  emitResult,
  envNumber,
  filesystemType,
  fixed,
  formatTable,
  int,
  loadAverage,
  machineInfo,
  makeTempDir,
  median,
  pidsByName,
  progressLogger,
  runBench,
  secondsSince,
  startThreeArmExperiment,
  withPg,
  type CpuUsage,
} from './lib.js';

// ---- settings

const EVENTS = Math.round(envNumber('BENCH_EVENTS', 10_000_000, 1000));
const READERS = Math.round(envNumber('BENCH_READERS', 500_000, 10));
const REPEATS = Math.round(envNumber('BENCH_REPEATS', 5, 1));
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_DB = 'readnext_bench_analysis';
const DAYS = 14;
const EXPOSURE_DAYS = 3;
const APPEND_BATCH = 10_000;
const EXPOSURE_BATCH = 10_000;
/** appendEvents calls in flight during the PostgreSQL load: the server and this process then each keep a core busy (SQLite's append is synchronous). */
const LOAD_CONCURRENCY = 2;
const INGEST_EXTRA = Math.round(envNumber('BENCH_INGEST_EXTRA', 2_000_000, 1000));
/** Events per appendEvents call when measuring SQLite ingestion: the raw run of bench/ingest.ts uses 1000 too (PostgreSQL: see ingestShape). */
const INGEST_BATCH = 1000;
const TARGET_S = 2;
/** The ingestion targets of bench/ingest.ts (HTTP events/s, sustained). */
const INGEST_TARGETS = { sqlite: 100_000, postgres: 50_000 } as const;
/** How often a rollup chain starts alongside ingestion in the cost measurement (default: the server's interval). */
const ROLLUP_EVERY_MS = Math.round(envNumber('BENCH_ROLLUP_EVERY_MS', 5000, 10));
const EXPERIMENT = 'bench-analysis';
const SEED = 20_260_105;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The experiment starts at START; the report is made at END (the clock's now), 14 days later. */
const START = Date.UTC(2026, 0, 5);
const END = START + DAYS * DAY;
const MIX = 'page_view 40%, impression 25% (4 items), click 4%, read 30.9%, subscribe 0.1%';

const started = performance.now();
const progress = progressLogger();

// ---- synthetic events: EventTraffic of src/core/simulate/synthetic.ts

const READER_ID = { prefix: 'rdr-', width: 6 };
const readerId = (r: number) => syntheticId(r, READER_ID);

/**
 * `total` events spread evenly over [fromTs, fromTs + spanMs), in time order (as they arrive).
 * Readers have a skewed activity (reader r ~ r^-1/3: a few heavy readers, every reader some
 * events); a session is a reader's 30-minute slot; articles come from a pool of 300 per day.
 */
const eventStream = (scheme: IdScheme, tag: string, rng: Rng, total: number, fromTs: number, spanMs: number) =>
  new EventTraffic(rng, {
    total,
    from: fromTs,
    spanMs,
    origin: START,
    articlesPerDay: 300,
    readers: READERS,
    readerId: READER_ID,
    activitySkew: 1.5,
    sessionMs: 30 * MINUTE,
    mix: { page_view: 0.4, impression: 0.25, click: 0.04, read: 0.309, subscribe: 0.001 },
    impressionItems: 4,
    idScheme: scheme,
    tag,
  });

// ---- backends

interface Backend {
  kind: 'sqlite' | 'postgres';
  label: string;
  url: string;
  notes: string[];
  /** Bytes of the events table (PostgreSQL: with its indexes) as stored. */
  sizes(storage: OpenedStorage): Promise<{ events: number }>;
  discard(): Promise<void>;
}

function sqliteBackend(keep: boolean): Backend {
  const dir = keep ? mkdtempSync(join(tmpdir(), 'readnext-bench-analysis-')) : makeTempDir('readnext-bench-analysis-');
  const path = join(dir, 'analysis.db');
  const fileSize = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  return {
    kind: 'sqlite',
    label: 'SQLite',
    url: `sqlite:${path}`,
    notes: [
      `file ${path} on ${filesystemType(dir)}; opened with openStorage(url): WAL, synchronous=FULL, SQLite's default page cache; no ANALYZE (readnext never runs it)`,
    ],
    async sizes(storage) {
      const one = async (name: string) => {
        try {
          const r = await sql<{ b: number }>`select sum(pgsize) as b from dbstat where name = ${name}`.execute(kyselyOf(storage));
          return Number(r.rows[0]?.b ?? NaN);
        } catch {
          return NaN; // dbstat not compiled in
        }
      };
      const events = await one('events');
      return { events: Number.isFinite(events) ? events : fileSize(path) + fileSize(`${path}-wal`) };
    },
    async discard() {
      if (keep) console.log(`kept ${path}`);
    },
  };
}

async function postgresBackend(keep: boolean): Promise<Backend | { unreachable: string }> {
  let version: string;
  let settings: string;
  try {
    [version, settings] = await withPg(PG_ADMIN_URL, async (c) => {
      const show = async (k: string) => (await c.query<Record<string, string>>(`show ${k}`)).rows[0]?.[k] ?? '?';
      const v = await show('server_version');
      const s = ['shared_buffers', 'work_mem', 'maintenance_work_mem', 'max_parallel_workers_per_gather', 'synchronous_commit', 'jit'];
      const vals: string[] = [];
      for (const k of s) vals.push(await show(k));
      await c.query(`drop database if exists ${PG_DB} with (force)`);
      await c.query(`create database ${PG_DB}`);
      return [v, s.map((k, i) => `${k}=${vals[i]}`).join(', ')] as const;
    });
  } catch (e) {
    return { unreachable: (e as Error).message || String(e) };
  }
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${PG_DB}`;
  return {
    kind: 'postgres',
    label: 'PostgreSQL',
    url: u.toString(),
    notes: [`PostgreSQL ${version}, scratch database ${PG_DB} (dropped and recreated); server settings as found: ${settings}`],
    async sizes(storage) {
      const r = await sql<{ t: string }>`select pg_total_relation_size('events') as t`.execute(kyselyOf(storage));
      return { events: Number(r.rows[0]?.t ?? NaN) };
    },
    async discard() {
      if (keep) console.log(`kept database ${PG_DB}`);
      else await withPg(PG_ADMIN_URL, (c) => c.query(`drop database if exists ${PG_DB} with (force)`));
    },
  };
}

// ---- measurements

interface OneReport {
  s: number;
  armSumsS: number;
  catchUpS: number;
  report: ExperimentReport;
}

/** One full report, timed, with the time spent in armSums and in the rollup catch-up it starts with. */
async function reportOnce(storage: OpenedStorage, deployments: ExperimentView, clock: Clock, rollups: AnalysisRollups): Promise<OneReport> {
  let armSumsS = NaN;
  let catchUpS = NaN;
  const timedRollups = {
    catchUp: async () => {
      const t = performance.now();
      const r = await rollups.catchUp();
      catchUpS = secondsSince(t);
      return r;
    },
  };
  const timed = new Proxy(storage, {
    get(target, prop) {
      if (prop === 'armSums') {
        return async (...args: Parameters<AnalysisStore['armSums']>) => {
          const t = performance.now();
          const r = await target.armSums(...args);
          armSumsS = secondsSince(t);
          return r;
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as AnalysisStore;
  const t = performance.now();
  const report = await experimentReport(deployments, timed, clock, EXPERIMENT, { rollups: timedRollups });
  return { s: secondsSince(t), armSumsS, catchUpS, report };
}

/** Checks a report against the data it was made from; returns problems. */
function checkReport(r: ExperimentReport): string[] {
  const problems: string[] = [];
  const total = r.srm.observed.reduce((a, b) => a + b, 0);
  if (total !== READERS) problems.push(`the report counts ${total} exposed readers, ${READERS} were exposed`);
  if (r.srm.observed.length !== 3) problems.push(`the report has ${r.srm.observed.length} arms, not 3`);
  if (r.metrics.length !== METRICS.length) problems.push(`the report has ${r.metrics.length} metrics, not ${METRICS.length}`);
  for (const m of r.metrics) {
    if (m.comparisons.length !== 2) problems.push(`${m.metric}: ${m.comparisons.length} comparisons, not 2`);
    if (m.arms.some((a) => a.value === null)) problems.push(`${m.metric}: an arm without a value`);
  }
  return problems;
}

function reportDigest(r: ExperimentReport): string[] {
  const arms = r.metrics[0]?.arms ?? [];
  const lines = [
    `arms ${arms.map((a) => `${a.arm} n=${int(a.n)}`).join(', ')}; SRM p=${fixed(r.srm.pValue, 3)}; engine ${r.engine}, CUPED ${r.cuped ? 'on' : 'off'}`,
  ];
  for (const m of r.metrics) {
    const values = m.arms.map((a) => (a.value === null ? 'n/a' : a.value >= 100 ? fixed(a.value, 0) : a.value.toPrecision(4))).join(' / ');
    const p = m.comparisons.map((c) => (c.pValue === null ? 'n/a' : fixed(c.pValue, 3))).join(', ');
    lines.push(`${m.metric.padEnd(20)} ${values}   p ${p}`);
  }
  return lines;
}

/**
 * Wall time to write `events` with appendEvents the way the server's collector commits them:
 * SQLite one call of INGEST_BATCH at a time; PostgreSQL calls of up to 2000 with up to
 * pgPoolSize - 2 = 8 in flight (src/main/services.ts). The events are made beforehand.
 * `alongside` runs meanwhile (the rollup passes a server runs every few seconds).
 */
async function appendTimed(
  storage: OpenedStorage,
  events: readonly StoredEvent[],
  alongside?: { run: () => Promise<unknown>; stop: () => Promise<void> },
): Promise<{ s: number; events: number; rejected: number; passes: number }> {
  const { batch, inFlight } = ingestShape(storage.dialect);
  let rejected = 0;
  let next = 0;
  let passes = 0;
  let done = false;
  const t = performance.now();
  const worker = async () => {
    while (next < events.length) {
      const chunk = events.slice(next, (next += batch));
      const out = await storage.appendEvents(chunk);
      rejected += out.filter((o) => o !== 'accepted').length;
      // Let timers and I/O run between commits, as they do in the server.
      await new Promise((r) => setImmediate(r));
    }
  };
  const side = alongside
    ? (async () => {
        while (!done) {
          await new Promise((r) => setTimeout(r, ROLLUP_EVERY_MS));
          if (done) break;
          await alongside.run();
          passes++;
        }
      })()
    : Promise.resolve();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const s = secondsSince(t);
  done = true;
  // The chain running now would catch up at its small share (on a slow VM, half an hour for the
  // 2M events): it ends after its current pass instead, as in a server that stops.
  await alongside?.stop();
  await side;
  return { s, events: events.length, rejected, passes };
}

const ingestShape = (dialect: 'sqlite' | 'postgres') =>
  dialect === 'postgres' ? { batch: 2000, inFlight: 8 } : { batch: INGEST_BATCH, inFlight: 1 };
const ingestShapeText = (dialect: 'sqlite' | 'postgres') => {
  const { batch, inFlight } = ingestShape(dialect);
  return `appendEvents × ${batch}${inFlight > 1 ? `, ${inFlight} in flight` : ', one at a time'}`;
};

// ---- one backend, end to end

interface Result {
  backend: Backend;
  loadS?: number;
  generatedS?: number;
  exposureS?: number;
  vacuumS?: number;
  sizes?: { events: number };
  /** The first catch-up of the rollups over every loaded event. */
  rollup?: { s: number; events: number; cpu: CpuUsage };
  reports: OneReport[];
  cpu?: CpuUsage;
  ingest: Partial<Record<'without' | 'with', { s: number; events: number; rejected: number; passes: number }>>;
  counts?: Record<string, number>;
  errors: string[];
}

async function runBackend(backend: Backend): Promise<Result> {
  const res: Result = { backend, reports: [], ingest: {}, errors: [] };
  const label = backend.label;
  progress(`${label}: opening ${backend.url}`);
  const storage = await openStorage(backend.url);
  const groups = () => ({ bench: [process.pid], postgres: storage.dialect === 'postgres' ? pidsByName('postgres') : [] });
  try {
    // 1. the experiment
    const clock = fixedClock(START);
    const deployments = new DeploymentAdmin(storage, builtinRegistry(), clock);
    await deployments.init();
    const experiment = await startThreeArmExperiment(deployments, EXPERIMENT, 'bench:analysis');

    // 2. exposures: every reader once, arm by the experiment's hashing, time spread over the first days
    progress(`${label}: writing ${int(READERS)} exposures`);
    const rng = seededRng(SEED);
    let t0 = performance.now();
    for (let from = 0; from < READERS; from += EXPOSURE_BATCH) {
      const batch: ExposureRecord[] = [];
      for (let r = from; r < Math.min(READERS, from + EXPOSURE_BATCH); r++) {
        const id = readerId(r);
        const arm = assignArm(experiment, id);
        if (!arm) throw new Error(`reader ${id} is outside the experiment`);
        batch.push({
          experiment: EXPERIMENT,
          phase: 1,
          arm: arm.name,
          readerId: id,
          hashVersion: experiment.hashVersion,
          exposedTs: START + rng.int(EXPOSURE_DAYS * DAY),
        });
      }
      await storage.appendExposures(batch);
    }
    res.exposureS = secondsSince(t0);

    // 3. events (PostgreSQL: LOAD_CONCURRENCY calls in flight, so the server and this process each keep a core busy)
    const stream = eventStream('time', 'e', seededRng(SEED + 1), EVENTS, START, DAYS * DAY);
    const sample = eventStream('uuid', 's', seededRng(SEED + 9), 2000, START, DAY).next(2000);
    for (const type of Object.keys(stream.counts)) {
      const e = sample.find((x) => x.type === type);
      const bad = e ? checkStoredEvent(e, { maxPastMs: DAY, maxFutureMs: 5 * MINUTE, trusted: true }) : `no ${type} event in the sample`;
      if (bad) throw new Error(`a synthetic event is not what the collector stores: ${bad}`);
    }
    const inFlight = storage.dialect === 'postgres' ? LOAD_CONCURRENCY : 1;
    progress(`${label}: writing ${int(EVENTS)} events (appendEvents × ${int(APPEND_BATCH)}, ${inFlight} in flight)`);
    t0 = performance.now();
    let genS = 0;
    let written = 0;
    let nextReport = 1_000_000;
    const worker = async () => {
      for (;;) {
        const g = performance.now();
        const batch = stream.next(APPEND_BATCH);
        genS += secondsSince(g);
        if (batch.length === 0) return;
        const out = await storage.appendEvents(batch);
        const rejected = out.filter((o) => o !== 'accepted').length;
        if (rejected > 0) throw new Error(`appendEvents did not accept ${rejected} of ${batch.length} events`);
        written += batch.length;
        if (written >= nextReport) {
          progress(`${label}:   ${int(written)} events, ${int(written / secondsSince(t0))} events/s`);
          nextReport += 1_000_000;
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    res.loadS = secondsSince(t0);
    res.generatedS = genS;
    res.counts = { ...stream.counts };
    res.sizes = await backend.sizes(storage);
    // The report is made just after the last event arrived (received up to 1.5 s after its client time; the rollups lag 5 s).
    clock.set(END + 10_000);

    // 4. the rollups catch up with everything loaded (a server does this every few seconds as events arrive)
    // The server's settings (pass size by database), as in src/main/services.ts.
    const batchEvents = storage.tuning.rollups.batchEvents;
    // Sized as the server sizes them (SQLite: passes of about 0.1 s, from batchEvents).
    const adaptive = storage.tuning.rollups.adaptive;
    const experiments = await deployments.experiments();
    const rollups = new AnalysisRollups(storage, experiments, clock, { lagMs: DEFAULTS.rollupLagMs, batchEvents, adaptive });
    progress(
      `${label}: rollup catch-up over ${int(EVENTS)} events (passes of ${adaptive ? `about ${adaptive.targetMs} ms, from ${int(batchEvents)} events` : int(batchEvents)})`,
    );
    let cpu0 = cpuSnapshot(groups());
    t0 = performance.now();
    const caught = await rollups.catchUp();
    res.rollup = { s: secondsSince(t0), events: caught.events, cpu: cpuUsage(cpu0, cpuSnapshot(groups())) };
    if (caught.events !== EVENTS) res.errors.push(`the rollup took in ${caught.events} events, ${EVENTS} were stored`);
    progress(`${label}: rollup took ${fixed(res.rollup.s)} s = ${int(EVENTS / res.rollup.s)} events/s`);
    if (storage.dialect === 'postgres') {
      progress(`${label}: VACUUM (ANALYZE) events, exposures`);
      t0 = performance.now();
      await sql`vacuum (analyze) events`.execute(kyselyOf(storage));
      await sql`vacuum (analyze) exposures`.execute(kyselyOf(storage));
      res.vacuumS = secondsSince(t0);
    }

    // 5. the report: one warm-up, then REPEATS timed runs
    cpu0 = cpuSnapshot(groups());
    for (let i = 0; i <= REPEATS; i++) {
      const r = await reportOnce(storage, experiments, clock, rollups);
      progress(
        `${label}: report ${i === 0 ? 'warm-up' : `run ${i}/${REPEATS}`}: ${fixed(r.s, 3)} s (catch-up ${fixed(r.catchUpS, 3)} s, armSums ${fixed(r.armSumsS, 3)} s)`,
      );
      if (i > 0) res.reports.push(r);
      else res.errors.push(...checkReport(r.report));
    }
    res.cpu = cpuUsage(cpu0, cpuSnapshot(groups()));
    // Same figures each time (to the digest's rounding: PostgreSQL's parallel sums of floats may differ in the last bits).
    const first = res.reports[0]?.report;
    if (first && res.reports.some((r) => reportDigest(r.report).join() !== reportDigest(first).join()))
      res.errors.push('repeated reports differ');

    // 6. what the rollups cost ingestion: extra events (time-ordered ids, as the SDK makes them: UUIDv7) after the report window,
    //    without, then with rollup passes every ROLLUP_EVERY_MS alongside
    clock.set(END + 4 * 60 * MINUTE);
    let at = END + MINUTE;
    let tag = 0x61; // 'a'
    for (const key of ['without', 'with'] as const) {
      await rollups.catchUp(); // nothing left over from the previous step
      progress(`${label}: ingestion ${key} rollup passes alongside: ${int(INGEST_EXTRA)} events, ${ingestShapeText(storage.dialect)}`);
      const events = eventStream('time', String.fromCharCode(tag++), seededRng(SEED + tag), INGEST_EXTRA, at, 60 * MINUTE).next(
        INGEST_EXTRA,
      );
      at += 61 * MINUTE;
      const r = await appendTimed(
        storage,
        events,
        key === 'with'
          ? { run: () => rollups.catchUp({ maxShare: storage.tuning.rollups.backgroundShare }), stop: () => rollups.stop() }
          : undefined,
      );
      if (r.rejected > 0) res.errors.push(`ingestion ${key}: ${r.rejected} events not accepted`);
      res.ingest[key] = r;
    }
  } catch (e) {
    res.errors.push((e as Error).stack ?? String(e));
  } finally {
    await storage.close().catch(() => undefined);
  }
  return res;
}

// ---- output

const MB = (b: number | undefined) => (b === undefined || !Number.isFinite(b) ? 'n/a' : `${int(b / 2 ** 20)} MiB`);
const rate = (r: { s: number; events: number } | undefined) => (r === undefined || !(r.s > 0) ? NaN : r.events / r.s);
const runs = (xs: readonly number[]) => xs.map((s) => fixed(s, 3)).join(', ');
const cpuText = (c: CpuUsage, kind: Backend['kind']) =>
  `this process ${fixed(c.groups.bench ?? 0, 0)}%${kind === 'postgres' ? `, postgres ${fixed(c.groups.postgres ?? 0, 0)}%` : ''}, other processes ${fixed(c.otherUser, 0)}% of one core over ${fixed(c.seconds)} s`;

function printBackend(r: Result): void {
  const b = r.backend;
  console.log(`\n== ${b.label}`);
  for (const n of b.notes) console.log(`  ${n}`);
  if (r.loadS !== undefined) {
    const c = r.counts ?? {};
    const inFlight = b.kind === 'postgres' ? LOAD_CONCURRENCY : 1;
    console.log(`  setup      ${int(READERS)} exposures in ${fixed(r.exposureS ?? NaN)} s`);
    console.log(
      `             ${int(EVENTS)} events (${Object.entries(c)
        .map(([k, v]) => `${k} ${int(v)}`)
        .join(', ')}) with appendEvents × ${int(APPEND_BATCH)}, ${inFlight} call${inFlight > 1 ? 's' : ''} in flight:` +
        ` ${fixed(r.loadS)} s = ${int(EVENTS / r.loadS)} events/s (generating them took ${fixed(r.generatedS ?? NaN)} s of it)`,
    );
    console.log(
      `             events table ${MB(r.sizes?.events)}${r.vacuumS !== undefined ? `; VACUUM (ANALYZE) of events and exposures before timing: ${fixed(r.vacuumS)} s` : ''}`,
    );
  }
  if (r.rollup) {
    console.log(
      `  rollup     first catch-up over the ${int(r.rollup.events)} events: ${fixed(r.rollup.s)} s = ${int(r.rollup.events / r.rollup.s)} events/s; CPU ${cpuText(r.rollup.cpu, b.kind)}`,
    );
  }
  if (r.reports.length > 0) {
    console.log(
      `  report     runs ${runs(r.reports.map((x) => x.s))} s; median ${fixed(median(r.reports.map((x) => x.s)), 3)} s (after one warm-up)`,
    );
    console.log(
      `  of which   catch-up (nothing new) median ${fixed(median(r.reports.map((x) => x.catchUpS)), 3)} s; armSums median ${fixed(median(r.reports.map((x) => x.armSumsS)), 3)} s; the statistics take the rest`,
    );
    if (r.cpu) console.log(`  CPU        ${cpuText(r.cpu, b.kind)}`);
    console.log(
      `\n  report digest (values control / co-read / popular; p-values vs control):\n${reportDigest(r.reports[0]!.report)
        .map((l) => `    ${l}`)
        .join('\n')}`,
    );
  }
  for (const e of r.errors) console.log(`  ERROR      ${e}`);
}

function summary(results: Result[], skipped: { label: string; why: string }[]): void {
  const scale = `${int(EVENTS)} events, ${int(READERS)} readers, ${DAYS} days, 3 arms`;
  console.log(
    `\nSummary: full report (experimentReport: ${METRICS.length} metrics, 3 arms, CUPED, rollups caught up first), median of ${REPEATS} runs; ${scale}`,
  );
  const rows: string[][] = [];
  for (const r of results) {
    const m = r.reports.length > 0 ? median(r.reports.map((x) => x.s)) : NaN;
    rows.push([
      r.backend.label,
      Number.isFinite(m) ? fixed(m, 3) : 'failed',
      r.reports.length > 0 ? fixed(median(r.reports.map((x) => x.armSumsS)), 3) : '',
      r.rollup ? int(r.rollup.events / r.rollup.s) : '',
      `≤ ${TARGET_S} s`,
      !Number.isFinite(m) ? 'FAILED' : m <= TARGET_S ? 'PASS' : 'BELOW',
    ]);
  }
  for (const s of skipped) rows.push([`${s.label} (skipped: ${s.why})`, '', '', '', `≤ ${TARGET_S} s`, '-']);
  console.log(formatTable(['backend', 'report s', 'armSums s', 'rollup events/s', 'target', 'result'], rows, [0]));

  console.log(
    `\nWhat the rollups cost ingestion: ${int(INGEST_EXTRA)} extra events (ids ascending with time, like the SDK's UUIDv7) written the way the server commits them` +
      ` (SQLite: ${ingestShapeText('sqlite')}; PostgreSQL: ${ingestShapeText('postgres')}), without and with a rollup pass every ${ROLLUP_EVERY_MS} ms alongside; raw storage rate, no HTTP, events/s`,
  );
  const irows: string[][] = [];
  for (const r of results) {
    const without = rate(r.ingest.without);
    const withR = rate(r.ingest.with);
    irows.push([
      r.backend.label,
      int(without),
      int(withR),
      `${r.ingest.with?.passes ?? 0}`,
      Number.isFinite(without) && Number.isFinite(withR) ? `${fixed((100 * (withR - without)) / without, 0)}%` : 'n/a',
      `≥ ${int(INGEST_TARGETS[r.backend.kind])}`,
    ]);
  }
  console.log(formatTable(['backend', 'without rollups', 'with rollups', 'passes', 'change', 'target (HTTP)'], irows, [0]));
  console.log(
    '(the ingest targets are HTTP rates through POST /v1/events, measured by bench:ingest; this table shows the change the rollups make to the storage rate under it)',
  );
}

// ---- main

async function main(argv: string[]): Promise<number> {
  for (const a of argv) {
    if (!['--no-pg', '--no-sqlite', '--keep', '--help', '-h'].includes(a)) {
      console.error(`unknown argument ${a}; usage: npm run bench:analysis [-- [--no-pg] [--no-sqlite] [--keep]]`);
      return 2;
    }
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      'usage: npm run bench:analysis [-- [--no-pg] [--no-sqlite] [--keep]]   (env BENCH_EVENTS, BENCH_READERS, BENCH_REPEATS, BENCH_PG_URL)',
    );
    return 0;
  }
  const keep = argv.includes('--keep');
  const machine = machineInfo();
  const load = loadAverage();
  console.log('readnext analysis benchmark');
  console.log(
    `machine   ${machine.nproc} CPUs (${machine.cpuModel}), ${fixed(machine.memGiB)} GiB RAM, Linux ${machine.kernel}, node ${machine.node}`,
  );
  if (load !== undefined)
    console.log(
      `          load average before the run: ${fixed(load, 2)}${load > 0.5 ? ' (something else is running: expect noise)' : ''}`,
    );
  console.log(
    `workload  ${int(READERS)} readers exposed once each to a running 3-arm experiment (control "none", "co-read", "popular"; equal weights by the experiment's own hashing)` +
      ` at times spread over its first ${EXPOSURE_DAYS} days; ${int(EVENTS)} events over its ${DAYS} days in time order (${MIX}); the report is made at the end of day ${DAYS}`,
  );
  console.log(
    `measured  the first rollup catch-up over the loaded events; experimentReport (all ${METRICS.length} metrics, CUPED, frequentist, rollups caught up first):` +
      ` one warm-up, then ${REPEATS} runs; ingestion without and with rollup passes alongside`,
  );

  const results: Result[] = [];
  const skipped: { label: string; why: string }[] = [];
  const backends: Backend[] = [];
  if (argv.includes('--no-sqlite')) skipped.push({ label: 'SQLite', why: '--no-sqlite' });
  else backends.push(sqliteBackend(keep));
  if (argv.includes('--no-pg')) skipped.push({ label: 'PostgreSQL', why: '--no-pg' });
  else {
    const p = await postgresBackend(keep);
    if ('unreachable' in p) skipped.push({ label: 'PostgreSQL', why: `unreachable at ${PG_ADMIN_URL}: ${p.unreachable}` });
    else backends.push(p);
  }
  for (const b of backends) {
    const t = performance.now();
    const r = await runBackend(b);
    await b.discard().catch((e: unknown) => r.errors.push(`could not drop the scratch database: ${(e as Error).message}`));
    progress(`${b.label}: done in ${fixed(secondsSince(t))} s`);
    printBackend(r);
    results.push(r);
  }
  summary(results, skipped);
  emitResult({
    events: EVENTS,
    readers: READERS,
    backends: results.map((r) => ({
      backend: r.backend.label,
      reportS: r.reports.length > 0 ? median(r.reports.map((x) => x.s)) : null,
      armSumsS: r.reports.length > 0 ? median(r.reports.map((x) => x.armSumsS)) : null,
      rollupEventsPerS: r.rollup ? r.rollup.events / r.rollup.s : null,
      ingestEventsPerS: rate(r.ingest.without),
      ingestWithRollupsEventsPerS: rate(r.ingest.with),
      errors: r.errors.length,
    })),
    targetReportS: TARGET_S,
  });
  console.log(`\nwhole run ${fixed(secondsSince(started) / 60)} min`);
  const failed = results.filter((r) => r.errors.length > 0);
  if (failed.length > 0) {
    console.log(`\nFAILED:\n${failed.flatMap((r) => r.errors.map((e) => `  ${r.backend.label}: ${e.split('\n')[0]}`)).join('\n')}`);
    return 1;
  }
  return 0;
}

await runBench(main);
