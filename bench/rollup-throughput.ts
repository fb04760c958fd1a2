/**
 * Rollup throughput: events per second of the experiment rollups' first catch-up after a backfill,
 * on SQLite and PostgreSQL, on bench:analysis's workload at a smaller size (every reader exposed
 * once to a running 3-arm experiment over its first 3 days, events over 14 days, in time order).
 *
 *   node bin/tsnode.mjs bench/rollup-throughput.ts [--no-pg] [--no-sqlite] [--rebuild] [--pg-tuned]
 *
 * The databases are built once (SQLite file and PostgreSQL database readnext_rollup_tp, kept) and
 * each run resets the rollups (cursor, reader_days, sessions, the exposures' sums) before the
 * catch-up, so runs compare code, not data. It prints a digest of the rolled-up tables: two runs
 * with different code must print the same digest (same results).
 *
 * SQLite is opened as the server opens it: the WAL is checkpointed by a worker thread every 200 ms,
 * not by the passes' commits (BENCH_CHECKPOINT=commit: in them, SQLite's default).
 *
 * --pg-tuned: PostgreSQL is a throwaway cluster of the bench's own (initdb in a temporary
 * directory, another port; test/faults/pg-cluster.ts) started with the production settings of
 * docs/postgresql.md (productionPgSettings: shared_buffers a quarter of RAM, WAL sized for bulk
 * writes, JIT off), built afresh and removed at the end; without it, the database of BENCH_PG_URL
 * (the machine's cluster, with whatever settings it has: they are printed).
 *
 * Environment: BENCH_EVENTS (default 1,000,000), BENCH_READERS (default 50,000), BENCH_PG_URL,
 * BENCH_CHECKPOINT, BENCH_DIR (where the SQLite files are kept; default /tmp/readnext-rollup-tp).
 * Profiling (ROLLUP_PROFILE=N|tuned: passes driven statement by statement, CPU per statement):
 * ROLLUP_PASSES=1 prints each pass (events, ms, whether it merged deltas), ROLLUP_MERGE='{"share":1}'
 * another merge policy for SQLite's deltas (MERGE_POLICY's fields).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { sql } from 'kysely';
import { openStorage, type OpenedStorage } from '../src/adapters/storage/open.js';
import { kyselyOf } from '../src/adapters/storage/testing.js';
import { AnalysisRollups, nextPassSize, rollupWindows } from '../src/app/rollups.js';
import { MERGE_POLICY, rollupFlow, type MergePolicy } from '../src/adapters/storage/rollups.js';
import { DeploymentAdmin } from '../src/app/deploy-admin.js';
import { DEFAULTS } from '../src/config/config.js';
import { assignArm } from '../src/core/experiments/experiment.js';
import { fixedClock } from '../src/core/kernel/clock.js';
import { seededRng } from '../src/core/kernel/rng.js';
import { EventTraffic, syntheticId } from '../src/core/simulate/synthetic.js';
import { builtinRegistry } from '../src/core/recommend/kinds/index.js';
import type { ExposureRecord } from '../src/core/events/records.js';
import { postgresBinDir, startPgCluster, type PgCluster } from '../test/faults/pg-cluster.js';
import {
  envNumber,
  int,
  fixed,
  productionPgSettings,
  progressLogger,
  runBench,
  secondsSince,
  startThreeArmExperiment,
  withPg,
} from './lib.js';

const EVENTS = Math.round(envNumber('BENCH_EVENTS', 1_000_000, 1000));
const READERS = Math.round(envNumber('BENCH_READERS', 50_000, 10));
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_DB = 'readnext_rollup_tp';
const DIR = process.env.BENCH_DIR ?? '/tmp/readnext-rollup-tp';
const EXPERIMENT = 'bench-rollups';
const SEED = 20_260_105;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const START = Date.UTC(2026, 0, 5);
const END = START + 14 * DAY;
const progress = progressLogger();
const READER_ID = { prefix: 'rdr-', width: 6 };

async function build(storage: OpenedStorage, label: string): Promise<void> {
  const clock = fixedClock(START);
  const deployments = new DeploymentAdmin(storage, builtinRegistry(), clock);
  await deployments.init();
  const experiment = await startThreeArmExperiment(deployments, EXPERIMENT, 'bench:rollup-throughput');
  const rng = seededRng(SEED);
  for (let from = 0; from < READERS; from += 10_000) {
    const batch: ExposureRecord[] = [];
    for (let r = from; r < Math.min(READERS, from + 10_000); r++) {
      const id = syntheticId(r, READER_ID);
      const arm = assignArm(experiment, id)!;
      batch.push({
        experiment: EXPERIMENT,
        phase: 1,
        arm: arm.name,
        readerId: id,
        hashVersion: experiment.hashVersion,
        exposedTs: START + rng.int(3 * DAY),
      });
    }
    await storage.appendExposures(batch);
  }
  const stream = new EventTraffic(seededRng(SEED + 1), {
    total: EVENTS,
    from: START,
    spanMs: 14 * DAY,
    origin: START,
    articlesPerDay: 300,
    readers: READERS,
    readerId: READER_ID,
    activitySkew: 1.5,
    sessionMs: 30 * MINUTE,
    mix: { page_view: 0.4, impression: 0.25, click: 0.04, read: 0.309, subscribe: 0.001 },
    impressionItems: 4,
    idScheme: 'time',
    tag: 'e',
  });
  const t0 = performance.now();
  for (;;) {
    const batch = stream.next(10_000);
    if (batch.length === 0) break;
    await storage.appendEvents(batch);
  }
  progress(`${label}: ${int(EVENTS)} events written in ${fixed(secondsSince(t0))} s`);
  if (storage.dialect === 'postgres') await sql`vacuum (analyze) events`.execute(kyselyOf(storage));
}

/** Whether the database has the table (one a later migration added: the bench may run an older revision's code). */
async function hasTable(storage: OpenedStorage, name: string): Promise<boolean> {
  const r =
    storage.dialect === 'sqlite'
      ? await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = ${name}`.execute(kyselyOf(storage))
      : await sql<{ n: number }>`select count(*) as n from pg_tables where schemaname = current_schema() and tablename = ${name}`.execute(
          kyselyOf(storage),
        );
  return Number(r.rows[0]!.n) > 0;
}

/** Back to no rollups: every event to roll up again. */
async function reset(storage: OpenedStorage): Promise<void> {
  const db = kyselyOf(storage);
  const cols = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'sessions', 'subscribed', 'revenue'];
  const pre = cols.filter((c) => c !== 'sessions').map((c) => `pre_${c}`);
  await sql`update exposures set rolled = 0, ${sql.raw([...cols, ...pre].map((c) => `${c} = 0`).join(', '))}`.execute(db);
  await sql`delete from reader_days`.execute(db);
  await sql`delete from exposure_sessions`.execute(db);
  // Since migration 0021 (SQLite) and 0024 (PostgreSQL): the sessions by the exposure's id.
  const sessionIds = await hasTable(storage, 'exposure_session_ids');
  if (sessionIds) await sql`delete from exposure_session_ids`.execute(db);
  // SQLite since migration 0022: what passes appended and had not merged.
  for (const t of ['exposure_deltas', 'exposure_session_deltas', 'reader_day_deltas'])
    if (await hasTable(storage, t)) await sql`delete from ${sql.table(t)}`.execute(db);
  await sql`delete from exposure_unpriced`.execute(db);
  await sql`update rollup_state set cursor = 0, through_ts = 0`.execute(db);
  // Columns later migrations may add to rollup_state (a watermark) go back to their defaults too.
  // (SQLite has no information_schema: its pragma table_info.) A cursor_event left behind (migration
  // 0020) would make the first pass take the reset cursor for a renumbered one and skip every event.
  const extra =
    storage.dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from pragma_table_info('rollup_state')`.execute(db)
      : await sql<{ name: string }>`select column_name as name from information_schema.columns where table_name = 'rollup_state'`.execute(
          db,
        );
  for (const col of ['watermark', 'cursor_event', 'delta_day'])
    if (extra.rows.some((r) => r.name === col)) await sql`update rollup_state set ${sql.ref(col)} = null`.execute(db);
  if (storage.dialect === 'postgres') {
    const tables = ['exposures', 'reader_days', 'exposure_sessions', ...(sessionIds ? ['exposure_session_ids'] : [])];
    await sql`vacuum (analyze) ${sql.join(tables.map((t) => sql.table(t)))}`.execute(db);
  }
}

/** A digest of what the rollups hold: equal digests, equal results. */
async function digest(storage: OpenedStorage): Promise<string> {
  const db = kyselyOf(storage);
  const e = await sql<
    Record<string, unknown>
  >`select count(*) as n, sum(impressions) as i, sum(clicks) as c, sum(reads) as r, sum(dwell_ms) as d,
    sum(page_views) as p, sum(sessions) as s, sum(subscribed) as b, sum(revenue) as v, sum(pre_impressions) as pi, sum(pre_reads) as pr,
    sum(pre_dwell_ms) as pd, sum(pre_page_views) as pp, sum(pre_subscribed) as pb, sum(pre_revenue) as pv,
    sum(page_views * page_views + 3 * reads * sessions + pre_page_views * clicks) as mix from exposures where rolled = 1`.execute(db);
  const rd = await sql<Record<string, unknown>>`select count(*) as n, sum(page_views) as p, sum(reads) as r from reader_days`.execute(db);
  const s = (await hasTable(storage, 'exposure_session_ids'))
    ? await sql<Record<string, unknown>>`select count(*) as n from exposure_session_ids`.execute(db)
    : await sql<Record<string, unknown>>`select count(*) as n from exposure_sessions`.execute(db);
  const r = e.rows[0]!;
  return [
    ...Object.values(r).map((x) => (typeof x === 'number' || typeof x === 'string' ? Number(x).toFixed(2) : String(x))),
    `rd ${Object.values(rd.rows[0]!).join('/')}`,
    `sessions ${String(s.rows[0]!.n)}`,
  ].join(' ');
}

async function measure(url: string, label: string, fresh: boolean): Promise<void> {
  // SQLite as the server opens it (main/services.ts openDb): the WAL checkpointed every 200 ms by a
  // worker thread, not in the passes' commits (BENCH_CHECKPOINT=commit: SQLite's default, in them).
  const server = process.env.BENCH_CHECKPOINT !== 'commit';
  const storage = await openStorage(url, { sqlite: { synchronous: 'FULL', ...(server ? { backgroundCheckpointMs: 200 } : {}) } });
  try {
    if (fresh) await build(storage, label);
    if (storage.dialect === 'sqlite' && process.env.ROLLUP_PRAGMAS)
      for (const p of process.env.ROLLUP_PRAGMAS.split(';')) await sql.raw(`pragma ${p}`).execute(kyselyOf(storage));
    await reset(storage);
    const clock = fixedClock(END + 10_000);
    const deployments = new DeploymentAdmin(storage, builtinRegistry(), clock);
    await deployments.init();
    const { batchEvents, adaptive } = storage.tuning.rollups;
    const rollups = new AnalysisRollups(storage, await deployments.experiments(), clock, {
      lagMs: DEFAULTS.rollupLagMs,
      batchEvents,
      adaptive,
    });
    if (process.env.ROLLUP_PROFILE) {
      await profile(
        storage,
        rollupWindows((await deployments.experiments()).listExperiments().map((x) => x.experiment)),
        clock.now() - DEFAULTS.rollupLagMs,
      );
      console.log(`${label}: digest ${await digest(storage)}`);
      return;
    }
    const t0 = performance.now();
    const p = await rollups.catchUp();
    const s = secondsSince(t0);
    console.log(
      `${label}: ${int(p.events)} events in ${fixed(s, 2)} s = ${int(p.events / s)} events/s (last batch ${int(rollups.batchEvents)})`,
    );
    console.log(`${label}: digest ${await digest(storage)}`);
  } finally {
    await storage.close();
  }
}

/** CPU milliseconds of a process so far (user + system, from /proc: clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Passes of ROLLUP_PROFILE events driven statement by statement through Kysely, with the wall and
 * CPU time of each statement (by its first words): CPU of this process on SQLite, of the database
 * backend running the pass on PostgreSQL. On a busy machine the CPU rate is the steadier figure.
 */
async function profile(storage: OpenedStorage, windows: Parameters<typeof rollupFlow>[2], cutoff: number): Promise<void> {
  const db = kyselyOf(storage);
  // A number: passes of that many events; "tuned": sized as the server sizes them (StorageTuning: SQLite's adaptive to about 100 ms).
  const tuned = process.env.ROLLUP_PROFILE === 'tuned';
  const adaptive = tuned ? storage.tuning.rollups.adaptive : undefined;
  let size = tuned ? storage.tuning.rollups.batchEvents : Number(process.env.ROLLUP_PROFILE);
  // ROLLUP_FLOW: another module's rollupFlow (a copy of an earlier version, to compare in one run).
  const flowOf = (process.env.ROLLUP_FLOW ? ((await import(process.env.ROLLUP_FLOW)) as { rollupFlow: typeof rollupFlow }) : { rollupFlow })
    .rollupFlow;
  // ROLLUP_MERGE: another merge policy for SQLite's deltas (JSON, over MERGE_POLICY's fields).
  const merge = { ...MERGE_POLICY, ...(JSON.parse(process.env.ROLLUP_MERGE ?? '{}') as Partial<MergePolicy>) };
  const times = new Map<string, { wall: number; cpu: number }>();
  // The longest passes (the event loop's longest holds on SQLite), with and without a merge of deltas.
  const longest = { pass: 0, merge: 0, merges: 0, passes: 0 };
  let events = 0;
  let cpuTotal = 0;
  const t0 = performance.now();
  for (;;) {
    const t1 = performance.now();
    const p = await db.transaction().execute(async (trx) => {
      let cpu = () => process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000;
      if (storage.dialect === 'postgres') {
        const pid = Number((await sql<{ p: number }>`select pg_backend_pid() as p`.execute(trx)).rows[0]!.p);
        cpu = () => cpuMsOf(pid);
      }
      const flow = flowOf(db, storage.dialect, windows, cutoff, size, undefined, merge);
      let step = flow.next([]);
      while (!step.done) {
        const t = performance.now();
        const c = cpu();
        const rows = (await trx.executeQuery<Record<string, unknown>>(step.value)).rows;
        const key = step.value.sql.replace(/\s+/g, ' ').slice(0, 90);
        const was = times.get(key) ?? { wall: 0, cpu: 0 };
        const dc = cpu() - c;
        cpuTotal += dc;
        times.set(key, { wall: was.wall + performance.now() - t, cpu: was.cpu + dc });
        step = flow.next(rows);
      }
      return step.value;
    });
    events += p.events;
    const took = performance.now() - t1;
    longest.passes++;
    if (process.env.ROLLUP_PASSES)
      console.log(`  pass ${longest.passes}: ${int(p.events)} events, ${int(took)} ms${p.compacted ? ', merged' : ''}`);
    if (p.compacted) {
      longest.merges++;
      longest.merge = Math.max(longest.merge, took);
    } else longest.pass = Math.max(longest.pass, took);
    if (p.caughtUp && !p.moreToMerge) break;
    // As AnalysisRollups sizes them: a pass that merged says nothing of its events' time; behind, the larger target.
    if (adaptive && p.events > 0 && !p.compacted) size = nextPassSize(adaptive, p.events, took, cutoff - p.throughTs);
  }
  const s = secondsSince(t0);
  console.log(
    `profile: ${int(events)} events in ${fixed(s, 2)} s wall = ${int(events / s)} events/s; ${fixed(cpuTotal / 1000, 2)} s CPU = ${int((events * 1000) / cpuTotal)} events per CPU-second; ${tuned ? `passes sized as the server's (last ${int(size)})` : `passes of ${int(size)}`}`,
  );
  console.log(
    `  ${int(longest.passes)} passes, the longest ${int(longest.pass)} ms; ${int(longest.merges)} merged deltas, the longest ${int(longest.merge)} ms`,
  );
  for (const [k, t] of [...times].sort((a, b) => b[1].wall - a[1].wall).slice(0, 12))
    console.log(`  ${fixed(t.wall / 1000, 2).padStart(7)} s wall ${fixed(t.cpu / 1000, 2).padStart(7)} s CPU  ${k}`);
}

async function main(argv: string[]): Promise<number> {
  const rebuild = argv.includes('--rebuild');
  if (!argv.includes('--no-sqlite')) {
    const path = `${DIR}/rollups-${EVENTS}-${READERS}.db`;
    if (rebuild) rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await measure(`sqlite:${path}`, 'SQLite', !existsSync(path));
  }
  if (!argv.includes('--no-pg')) {
    const db = `${PG_DB}_${EVENTS}_${READERS}`;
    let adminUrl = PG_ADMIN_URL;
    let cluster: PgCluster | undefined;
    if (argv.includes('--pg-tuned')) {
      const bin = postgresBinDir();
      if (!bin) throw new Error('--pg-tuned: initdb and pg_ctl not found (Debian: apt-get install postgresql)');
      cluster = await startPgCluster(bin, productionPgSettings(), 'readnext-rollup-tp-pg-');
      adminUrl = cluster.url;
    }
    try {
      await withPg(adminUrl, async (c) => {
        // The settings --pg-tuned sets, and work_mem (a pass sets its own).
        const names = [...Object.keys(productionPgSettings()), 'work_mem'];
        const r = await c.query<{ name: string; setting: string; unit: string | null }>(
          'select name, setting, unit from pg_settings where name = any($1) order by name',
          [names],
        );
        const shown = r.rows.map((x) => `${x.name} ${x.setting}${x.unit ? ` ${x.unit}` : ''}`).join(', ');
        console.log(
          `PostgreSQL ${cluster ? `(own cluster in ${cluster.dir}, --pg-tuned)` : `at ${adminUrl.replace(/\/\/[^@]*@/, '//')}`}: ${shown}`,
        );
      });
      // A cluster of --pg-tuned is new: its database is built whatever --rebuild says.
      await measurePg(adminUrl, db, rebuild);
    } finally {
      await cluster?.remove();
    }
  }
  return 0;
}

async function measurePg(adminUrl: string, db: string, rebuild: boolean): Promise<void> {
  const fresh = await withPg(adminUrl, async (c) => {
    if (rebuild) await c.query(`drop database if exists ${db} with (force)`);
    const exists = (await c.query(`select 1 from pg_database where datname = $1`, [db])).rowCount! > 0;
    if (!exists) await c.query(`create database ${db}`);
    return !exists;
  });
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  await measure(u.toString(), 'PostgreSQL', fresh);
}

await runBench(main);
