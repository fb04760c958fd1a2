/**
 * Simulation benchmark (issue 16): the simulated newsroom driving the whole platform.
 *   (a) in process: one simulated week of BENCH_SIM_READERS (default 50,000) readers of the default
 *       world with its experiment running, every event stored (a SQLite file, synchronous=NORMAL, as
 *       openInProcessTarget opens it) and the final report produced. Printed: the wall time, split
 *       into the world itself (the simulator's own work), serving (slates, catalog, clock),
 *       storage (the collector storing the event batches) and rollups + report; events/s. Target:
 *       <= 60 s on the 2-core machine of the issue.
 *   (b) over HTTP: a `readnext serve --sim-clock` started here as a child process (SQLite file in a
 *       temp dir), driven by the HTTP client target with BENCH_SIM_HTTP_READERS (default 5,000)
 *       readers for BENCH_SIM_HTTP_DAYS (default 7) days: the events per second the server
 *       stores, over the whole run and over the time spent in event batches, and the server's CPU.
 *       The world waits for each slate and each batch (one reader's session at a time), so this is
 *       the rate one simulated newsroom drives, with the server's and the driver's CPU shown to
 *       tell which one is the limit.
 *
 *   npm run bench:simulate [-- [--no-http] [--no-inprocess] [--profile]]
 *
 * --profile runs (a) under the V8 CPU profiler (in this process: node --cpu-prof is given to a
 * child running (a) alone) and prints where its time goes. Environment: BENCH_SIM_READERS,
 * BENCH_SIM_DAYS (default 7), BENCH_SIM_DB (the in-process database URL, default a SQLite file in a
 * temp dir, synchronous=NORMAL), BENCH_SIM_HTTP_READERS, BENCH_SIM_HTTP_DAYS, BENCH_SIM_SEED (default 1).
 * Exit status: 0 whatever the times; 1 when a run fails.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExperimentReport } from '../src/app/analysis.js';
import type { SimTarget } from '../src/app/sim-control.js';
import { runSimExperiment, simStartTs } from '../src/app/sim-experiment.js';
import type { Article } from '../src/core/catalog/article.js';
import type { RecommenderConfig } from '../src/core/recommend/types.js';
import type { SimRecRequest, SimSlate, WireEvent } from '../src/core/simulate/platform.js';
import { parseWorld, type WorldSpec } from '../src/core/simulate/world.js';
import type { Engine } from '../src/core/stats/compare.js';
import { httpTarget, openInProcessTarget } from '../src/main/sim-target.js';
import { SERVER_NODE_FLAGS } from '../src/main/node-flags.js';
import {
  cpuSnapshot,
  emitResult,
  cpuUsage,
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
  progressLogger,
  REPO_ROOT,
  runBench,
  runCommand,
  secondsSince,
  startHttpProcess,
  summarizeCpuProfile,
} from './lib.js';

const READERS = Math.round(envNumber('BENCH_SIM_READERS', 50_000, 10));
const DAYS = Math.round(envNumber('BENCH_SIM_DAYS', 7, 1));
const HTTP_READERS = Math.round(envNumber('BENCH_SIM_HTTP_READERS', 5000, 10));
const HTTP_DAYS = Math.round(envNumber('BENCH_SIM_HTTP_DAYS', 7, 1));
const SEED = Math.round(envNumber('BENCH_SIM_SEED', 1, 0));
/** The in-process run's database: default a fresh SQLite file in a temp dir (openInProcessTarget's own), e.g. sqlite::memory:. */
const IN_PROCESS_DB = process.env.BENCH_SIM_DB || undefined;
const TARGET_SECONDS = 60;

/** Time spent in each kind of platform call (milliseconds), and what went through them. */
class Timings {
  serving = 0;
  storage = 0;
  report = 0;
  setup = 0;
  events = 0;
  slates = 0;
  batches = 0;
  articles = 0;
}

/** A SimTarget that times every call it passes on: the world's own work is what is left of the wall time. */
class TimedTarget implements SimTarget {
  readonly t = new Timings();
  constructor(private readonly inner: SimTarget) {}

  private async timed<T>(key: 'serving' | 'storage' | 'report' | 'setup', fn: () => Promise<T>): Promise<T> {
    const at = performance.now();
    try {
      return await fn();
    } finally {
      this.t[key] += performance.now() - at;
    }
  }

  setTime(now: number): Promise<void> {
    return this.timed('serving', () => this.inner.setTime(now));
  }
  publish(articles: readonly Article[]): Promise<void> {
    this.t.articles += articles.length;
    return this.timed('serving', () => this.inner.publish(articles));
  }
  recommend(req: SimRecRequest): Promise<SimSlate> {
    this.t.slates++;
    return this.timed('serving', () => this.inner.recommend(req));
  }
  send(events: readonly WireEvent[]): Promise<void> {
    this.t.events += events.length;
    this.t.batches++;
    return this.timed('storage', () => this.inner.send(events));
  }
  deployLive(placement: string, live: RecommenderConfig): Promise<void> {
    return this.timed('setup', () => this.inner.deployLive(placement, live));
  }
  startExperiment(experiment: unknown): Promise<string> {
    return this.timed('setup', () => this.inner.startExperiment(experiment));
  }
  report(experimentId: string, opts?: { engine?: Engine; alpha?: number }): Promise<ExperimentReport> {
    return this.timed('report', () => this.inner.report(experimentId, opts));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function loadWorld(name: string): WorldSpec {
  return parseWorld(JSON.parse(readFileSync(join(REPO_ROOT, 'worlds', `${name}.json`), 'utf8')));
}

interface RunFigures {
  wallS: number;
  /** CPU seconds of this process (every thread, user + system) during the run: less sensitive to a busy machine than the wall time. */
  cpuS: number;
  t: Timings;
  report: ExperimentReport;
  exposed: number;
}

/** One run of the default world through `target` (timed), with its experiment and the final report. */
async function timedRun(target: SimTarget, world: WorldSpec, readers: number, days: number, log: (m: string) => void): Promise<RunFigures> {
  const timed = new TimedTarget(target);
  let shown = 0;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await runSimExperiment(timed, {
    world,
    seed: SEED,
    readers,
    days,
    onProgress: (share) => {
      if (share >= shown + 0.1 || (share === 1 && shown < 1)) {
        shown = Math.floor(share * 10) / 10;
        log(`${Math.round(share * 100)}% of the simulated time, ${int(timed.t.events)} events`);
      }
    },
  });
  const wallS = secondsSince(started);
  const cpu = process.cpuUsage(cpu0);
  const report = r.reports.at(-1)!;
  const primary = report.metrics.find((m) => m.metric === report.design.primaryMetric);
  return { wallS, cpuS: (cpu.user + cpu.system) / 1e6, t: timed.t, report, exposed: primary?.arms.reduce((a, x) => a + x.n, 0) ?? 0 };
}

function splitRows(f: RunFigures): string[][] {
  const world = f.wallS * 1000 - f.t.serving - f.t.storage - f.t.report - f.t.setup;
  const row = (name: string, ms: number, what: string) => [name, fixed(ms / 1000, 1), `${fixed((100 * ms) / (f.wallS * 1000), 0)}%`, what];
  return [
    row('world (simulator)', world, 'readers, sessions, clicks: the world itself'),
    row('serving', f.t.serving, `${int(f.t.slates)} slates, ${int(f.t.articles)} articles published, clock`),
    row('  world + serving', world + f.t.serving, ''),
    row(
      'storage',
      f.t.storage,
      `${int(f.t.events)} events in ${int(f.t.batches)} batches (${int(f.t.events / (f.t.storage / 1000))} events/s while storing)`,
    ),
    row('rollups + report', f.t.report, 'final report, rollups caught up first'),
    row('setup', f.t.setup, 'deployment, experiment'),
    ['total', fixed(f.wallS, 1), '100%', `${int(f.t.events / f.wallS)} events/s end to end; ${fixed(f.cpuS, 1)} CPU s in this process`],
  ];
}

async function inProcess(world: WorldSpec, log: (m: string) => void): Promise<RunFigures> {
  const target = await openInProcessTarget({ startTs: simStartTs(world), ...(IN_PROCESS_DB ? { db: IN_PROCESS_DB } : {}) });
  try {
    return await timedRun(target, world, READERS, DAYS, (m) => log(`in process: ${m}`));
  } finally {
    await target.close();
  }
}

/** (a) again in a child process under the V8 profiler; prints where the time goes. */
async function profileInProcess(log: (m: string) => void): Promise<void> {
  const dir = makeTempDir('readnext-bench-sim-prof-');
  log(`profiling the in-process run (node --cpu-prof, ${dir})`);
  const r = await runCommand(
    [
      process.execPath,
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      join(REPO_ROOT, 'bin/tsnode.mjs'),
      join(REPO_ROOT, 'bench/simulate.ts'),
      '--no-http',
    ],
    { env: { BENCH_SIM_NO_PROFILE: '1' } },
  );
  if (r.code !== 0) throw new Error(`the profiled run failed (code ${r.code}):\n${r.stderr}`);
  const file = mainThreadProfile(dir);
  if (!file) throw new Error(`no profile written in ${dir}`);
  const s = summarizeCpuProfile(file, 25);
  console.log(`\nCPU profile of (a), ${fixed(s.totalMs / 1000, 1)} s of samples on the main thread:`);
  console.log(
    formatTable(
      ['module', 'self s', '%'],
      s.modules.map((m) => [m.module, fixed(m.selfMs / 1000, 2), fixed(m.pct, 1)]),
    ),
  );
  console.log();
  console.log(
    formatTable(
      ['function', 'where', 'self s', '%'],
      s.functions.map((f) => [f.name, f.where, fixed(f.selfMs / 1000, 2), fixed(f.pct, 1)]),
      [0, 1],
    ),
  );
}

async function overHttp(world: WorldSpec, log: (m: string) => void): Promise<Record<string, number>> {
  const dir = makeTempDir('readnext-bench-sim-http-');
  const port = await freePort();
  const adminKey = 'bench-sim-admin-key-0123456789';
  const ingestKey = 'bench-sim-ingest-key-0123456789';
  const db = `sqlite:${join(dir, 'sim.db')}`;
  const server = await startHttpProcess({
    argv: [
      process.execPath,
      ...SERVER_NODE_FLAGS,
      join(REPO_ROOT, 'bin/readnext.mjs'),
      'serve',
      '--sim-clock',
      '--db',
      db,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    port,
    readyPath: '/readyz',
    env: { READNEXT_ADMIN_KEY: adminKey, READNEXT_INGEST_KEY: ingestKey, READNEXT_LOG_LEVEL: 'warn' },
  });
  try {
    const target = httpTarget({ url: server.url, adminKey, ingestKey });
    const before = cpuSnapshot({ server: [server.pid], driver: [process.pid] });
    const f = await timedRun(target, world, HTTP_READERS, HTTP_DAYS, (m) => log(`over HTTP: ${m}`));
    const cpu = cpuUsage(before, cpuSnapshot({ server: [server.pid], driver: [process.pid] }));
    console.log(
      `\n(b) over HTTP: readnext serve --sim-clock (${filesystemType(dir)}), ${int(HTTP_READERS)} readers x ${HTTP_DAYS} days, seed ${SEED}, ${int(f.exposed)} exposed readers`,
    );
    console.log(formatTable(['part', 'seconds', 'share', ''], splitRows(f), [0, 3]));
    console.log(
      `events/s the server stored: ${int(f.t.events / f.wallS)} over the whole run, ${int(f.t.events / (f.t.storage / 1000))} while the driver was sending batches; ` +
        `${fixed(f.t.slates / (f.t.serving / 1000), 0)} slates/s while asking for slates`,
    );
    console.log(
      `CPU (percent of one core): server ${fixed(cpu.groups.server ?? 0, 0)}%, driver (world + HTTP client) ${fixed(cpu.groups.driver ?? 0, 0)}%, ` +
        `other ${fixed(cpu.other, 0)}%`,
    );
    return {
      readers: HTTP_READERS,
      days: HTTP_DAYS,
      wallS: f.wallS,
      eventsPerS: f.t.events / f.wallS,
      eventsPerSWhileSending: f.t.events / (f.t.storage / 1000),
      slatesPerS: f.t.slates / (f.t.serving / 1000),
      serverCpuPct: cpu.groups.server ?? 0,
    };
  } finally {
    const st = await server.stop();
    if (st.code !== 0 && st.signal !== 'SIGTERM') log(`the server exited with code ${st.code}:\n${server.output()}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const log = progressLogger();
  const m = machineInfo();
  const world = loadWorld('default');
  console.log(
    `readnext bench:simulate, world "${world.name}", experiment ${String(world.experiment.id)} (${(world.experiment.arms as { name: string }[]).map((a) => a.name).join(' vs ')})`,
  );
  console.log(
    `machine: ${m.nproc} cores (${m.cpuModel}), ${fixed(m.memGiB)} GiB, node ${m.node}, linux ${m.kernel}, load ${fixed(loadAverage() ?? NaN, 2)}\n`,
  );
  const figures: Record<string, unknown> = {};
  if (!argv.includes('--no-inprocess')) {
    const f = await inProcess(world, log);
    figures.inProcess = { readers: READERS, days: DAYS, wallS: f.wallS, eventsPerS: f.t.events / f.wallS, targetS: TARGET_SECONDS };
    console.log(
      `(a) in process: ${int(READERS)} readers x ${DAYS} days, seed ${SEED}, ${int(f.exposed)} exposed readers, ${IN_PROCESS_DB ?? `SQLite file (synchronous=NORMAL, ${filesystemType(tmpdir())})`}`,
    );
    console.log(formatTable(['part', 'seconds', 'share', ''], splitRows(f), [0, 3]));
    const verdict = f.wallS <= TARGET_SECONDS ? 'within' : 'OVER';
    console.log(
      `${fixed(f.wallS, 1)} s for the week: ${verdict} the ${TARGET_SECONDS} s target (load average now ${fixed(loadAverage() ?? NaN, 2)})`,
    );
    if (argv.includes('--profile') && process.env.BENCH_SIM_NO_PROFILE !== '1') await profileInProcess(log);
  }
  if (!argv.includes('--no-http')) figures.overHttp = await overHttp(world, log);
  emitResult(figures);
  return 0;
}

await runBench(main);
