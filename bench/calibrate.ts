/**
 * Calibration of the whole platform (assignment, serving, records, rollups, report), in process,
 * against worlds whose truth is known (issue 16):
 *   (a) `null` world (recommendations change nothing): the false-positive rate of the frequentist
 *       engine at alpha 0.05 on the experiment's primary metric, final report; target [3%, 7%];
 *   (b) the same runs, sequential engine, a report at the end of every simulated day, a false
 *       positive when any look is significant; target at most 5%;
 *   (c) `small-effect` world: the share of runs whose 95% interval of the primary metric's
 *       (relative) effect covers the true effect; target [93%, 97%]. The truth is computed once,
 *       by common random numbers (simGroundTruth) over TRUTH_FACTOR times the per-run readers, and
 *       reused for every run.
 * Each figure is printed with its Wilson 95% interval. Every run is one seeded experiment on a
 * fresh database (seeds 1..N; the small-effect runs use seeds 1..N too, the truth seed 1e6); runs
 * are spread over worker processes (one per core by default), each taking the next seed when done.
 *
 *   npm run calibrate [-- --runs N --readers R --days D --workers W --truth-factor F --only null|effect]
 *
 * Environment (flags win): CALIBRATE_RUNS (default 500 per world), CALIBRATE_READERS (default
 * 1000 per run), CALIBRATE_DAYS (default 3), CALIBRATE_WORKERS (default: the number of cores),
 * CALIBRATE_TRUTH_FACTOR (default 20).
 * Exit status: 0 when every figure is within its target, 1 otherwise (or on a failure).
 *
 * test/calibration/calibration.test.ts runs the same checks in a bounded form in CI, with the
 * helpers exported here.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExperimentReport } from '../src/app/analysis.js';
import { runSimExperiment, simGroundTruth, simStartTs } from '../src/app/sim-experiment.js';
import type { MetricComparison } from '../src/core/analysis/report.js';
import { decisionMetrics, parseExperiment } from '../src/core/experiments/experiment.js';
import type { Tally } from '../src/core/simulate/run.js';
import { parseWorld, type WorldSpec } from '../src/core/simulate/world.js';
import { betaTails, chiSquareCdf, normalQuantile } from '../src/core/stats/distributions.js';
import { frequentistDiff } from '../src/core/stats/effect.js';
import { openInProcessTarget } from '../src/main/sim-target.js';
import { emitResult, fixed, formatTable, int, machineInfo, progressLogger, REPO_ROOT, runBench, secondsSince } from './lib.js';

// ---- binomial figures (the counts of a calibration are binomial: n runs, each a hit with probability p)

/**
 * P(X <= k) for X ~ Binomial(n, p): I_{1-p}(n - k, k + 1), the regularized incomplete beta
 * (e.g. Johnson, Kemp & Kotz, "Univariate Discrete Distributions", 3rd ed., eq. 3.34).
 *
 * @example binomialCdf(0, 60, 0.05) // 0.95^60 = 0.0461
 */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  return betaTails(1 - p, n - k, k + 1, p).lower;
}

/**
 * Wilson score interval for a proportion x/n at level `level` (Wilson 1927; Agresti & Coull 1998):
 * (p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).
 *
 * @example wilsonInterval(25, 500) // [0.0341, 0.0728]
 */
export function wilsonInterval(x: number, n: number, level = 0.95): [number, number] {
  if (n === 0) return [0, 1];
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = x / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * The acceptance band of a count X ~ Binomial(n, p): the widest [lo, hi] such that a correct
 * platform (hit rate exactly p) falls below lo, or above hi, each with probability at most
 * `tail`. lo is 0 when even zero hits is not that unlikely (then only too many hits can fail).
 *
 * @example acceptanceBand(60, 0.05, 0.001) // { lo: 0, hi: 9 }
 */
export function acceptanceBand(n: number, p: number, tail: number): { lo: number; hi: number } {
  let lo = 0;
  while (lo < n && binomialCdf(lo, n, p) <= tail) lo++;
  let hi = n;
  while (hi > 0 && 1 - binomialCdf(hi - 1, n, p) <= tail) hi--;
  return { lo, hi };
}

/** P(lo <= X <= hi) for X ~ Binomial(n, p): the chance a platform whose true rate is p passes the band. */
export function bandPassProbability(band: { lo: number; hi: number }, n: number, p: number): number {
  return binomialCdf(band.hi, n, p) - binomialCdf(band.lo - 1, n, p);
}

/**
 * The chi-square quantile with k degrees of freedom, by bisection on chiSquareCdf (monotone), to
 * 1e-10 relative: the distributions module has the CDF only.
 *
 * @example chiSquareQuantile(0.95, 1) // 3.8415
 */
export function chiSquareQuantile(p: number, k: number): number {
  let lo = 0;
  let hi = Math.max(1, k);
  while (chiSquareCdf(hi, k) < p) hi *= 2;
  while (hi - lo > 1e-10 * hi) {
    const mid = (lo + hi) / 2;
    if (chiSquareCdf(mid, k) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The band of the mean of n squared z-scores, (1/n)·Σ((estimate − truth)/se)², when every z is
 * standard normal: n·mean ~ χ²(n), so [χ²_{tail}(n)/n, χ²_{1−tail}(n)/n]. It tests the standard
 * errors themselves: an SE too small by a factor c moves the mean to about c², which a count of
 * significant runs only sees for large c.
 *
 * @example zSquareBand(60, 0.001) // [0.528, 1.660]
 */
export function zSquareBand(n: number, tail: number): [number, number] {
  return [chiSquareQuantile(tail, n) / n, chiSquareQuantile(1 - tail, n) / n];
}

/** (1/n)·Σ((estimate − truth)/se)² over the runs with a positive standard error. */
export function meanZSquare(runs: readonly { estimate: number; se: number }[], truth: number): { mean: number; n: number } {
  const ok = runs.filter((r) => r.se > 0 && Number.isFinite(r.estimate));
  return { mean: ok.reduce((a, r) => a + ((r.estimate - truth) / r.se) ** 2, 0) / ok.length, n: ok.length };
}

// ---- one run

/** A world file of worlds/ (e.g. "null", "small-effect"), validated. */
export function loadWorld(name: string): WorldSpec {
  return parseWorld(JSON.parse(readFileSync(join(REPO_ROOT, 'worlds', `${name}.json`), 'utf8')));
}

export interface RunSize {
  readers: number;
  days: number;
}

/** The report's comparison of the primary metric for the first treatment arm (an A/B experiment has one). */
export function primaryComparison(report: ExperimentReport): MetricComparison {
  const m = report.metrics.find((x) => x.metric === report.design.primaryMetric);
  const c = m?.comparisons[0];
  if (!m || !c) throw new Error(`report of ${report.experiment} has no comparison for its primary metric ${report.design.primaryMetric}`);
  return c;
}

export interface NullRun {
  seed: number;
  /** Readers exposed per arm in the final report. */
  n: number[];
  /** Frequentist, final report: p-value (Holm over one treatment arm: the plain one) and whether it is significant at alpha. */
  pValue: number | null;
  significant: boolean;
  /** The relative effect and its standard error (the truth is 0 in the null world: estimate / se is a z-score). */
  estimate: number;
  se: number;
  /** Sequential, one report per simulated day: the looks that were significant. */
  looks: number;
  sequentialHits: number;
  /** The engines fell back (e.g. no variance): counted as not significant. */
  errors: number;
  srm: boolean;
  events: number;
}

/** A fresh in-process platform at the world's start, on a database of its own (removed on close). */
const openTarget = (world: WorldSpec) => openInProcessTarget({ startTs: simStartTs(world), db: 'sqlite::memory:' });

/**
 * One A/B experiment in the null world: the world runs with a sequential report at the end of
 * every day (the looks), then the frequentist report at the same moment (the final analysis).
 */
export async function nullRun(world: WorldSpec, seed: number, size: RunSize): Promise<NullRun> {
  const target = await openTarget(world);
  try {
    const r = await runSimExperiment(target, { world, seed, ...size, looks: 'daily', engine: 'sequential', alpha: 0.05 });
    const final = await target.report(r.experimentId, { engine: 'frequentist', alpha: 0.05 });
    const c = primaryComparison(final);
    const seq = r.reports.map(primaryComparison);
    const primary = final.metrics.find((m) => m.metric === final.design.primaryMetric)!;
    return {
      seed,
      n: primary.arms.map((a) => a.n),
      pValue: c.pValue,
      significant: c.significant,
      estimate: c.estimate,
      se: c.se,
      looks: seq.length,
      sequentialHits: seq.filter((s) => s.significant).length,
      errors: [c, ...seq].filter((x) => x.error !== null).length,
      srm: final.trust.some((t) => t.code === 'srm'),
      events: eventCount(r.tally),
    };
  } finally {
    await target.close();
  }
}

export interface EffectRun {
  seed: number;
  n: number[];
  /** The primary metric's relative effect and its (1 − alpha) interval, frequentist engine. */
  estimate: number;
  se: number;
  ci: [number, number];
  significant: boolean;
  error: string | null;
  events: number;
}

/** One A/B experiment, frequentist engine, final report only. */
export async function effectRun(world: WorldSpec, seed: number, size: RunSize): Promise<EffectRun> {
  const target = await openTarget(world);
  try {
    const r = await runSimExperiment(target, { world, seed, ...size, looks: 'final', engine: 'frequentist', alpha: 0.05 });
    const final = r.reports.at(-1)!;
    const c = primaryComparison(final);
    const primary = final.metrics.find((m) => m.metric === final.design.primaryMetric)!;
    return {
      seed,
      n: primary.arms.map((a) => a.n),
      estimate: c.estimate,
      se: c.se,
      ci: [c.ci[0], c.ci[1]],
      significant: c.significant,
      error: c.error,
      events: eventCount(r.tally),
    };
  } finally {
    await target.close();
  }
}

/** Events the world sent to the platform, every type. */
function eventCount(tally: Tally): number {
  return Object.values(tally.events).reduce((a, n) => a + n, 0);
}

export interface TrueEffect {
  metric: string;
  /** Per arm, control first: the true value of the primary metric. */
  arms: { arm: string; truth: number }[];
  /** The treatment's relative effect against the control, as the report defines it. */
  effect: number;
  readers: number;
  seed: number;
  seconds: number;
}

/** The primary metric of the world's experiment (its design, else the platform's default, articles_read). */
export function primaryMetricOf(world: WorldSpec): string {
  return decisionMetrics(parseExperiment(world.experiment, simStartTs(world))).primaryMetric;
}

/** The true relative effect of the world's treatment on the primary metric, by common random numbers over `readers` readers. */
export async function trueEffect(world: WorldSpec, seed: number, size: RunSize, metric = primaryMetricOf(world)): Promise<TrueEffect> {
  const started = performance.now();
  const truth = await simGroundTruth(() => openTarget(world), { world, seed, ...size });
  const arms = truth.map((t) => {
    const v = t.truth[metric];
    if (v === undefined || !Number.isFinite(v)) throw new Error(`the ground truth has no ${metric} for arm ${t.arm}`);
    return { arm: t.arm, truth: v };
  });
  if (arms.length !== 2) throw new Error(`calibration needs an A/B experiment, the world's has ${arms.length} arms`);
  return {
    metric,
    arms,
    effect: frequentistDiff(arms[0]!.truth, arms[1]!.truth, true),
    readers: size.readers,
    seed,
    seconds: secondsSince(started),
  };
}

// ---- worker processes

type Task =
  | { kind: 'null'; world: string; seed: number; size: RunSize }
  | { kind: 'effect'; world: string; seed: number; size: RunSize }
  | { kind: 'truth'; world: string; seed: number; size: RunSize };
/** A task's value, with the CPU time its worker spent on it (user + system, milliseconds). */
type TaskResult = { ok: true; value: NullRun | EffectRun | TrueEffect; cpuMs: number } | { ok: false; error: string };

async function runTask(t: Task, worlds: Map<string, WorldSpec>): Promise<NullRun | EffectRun | TrueEffect> {
  let world = worlds.get(t.world);
  if (!world) worlds.set(t.world, (world = loadWorld(t.world)));
  if (t.kind === 'null') return nullRun(world, t.seed, t.size);
  if (t.kind === 'effect') return effectRun(world, t.seed, t.size);
  return trueEffect(world, t.seed, t.size);
}

/** The child's side: one task per message, one reply per task. */
function serveTasks(): void {
  const worlds = new Map<string, WorldSpec>();
  process.on('message', (t: Task) => {
    const cpu0 = process.cpuUsage();
    runTask(t, worlds).then(
      (value) => {
        const cpu = process.cpuUsage(cpu0);
        process.send!({ ok: true, value, cpuMs: (cpu.user + cpu.system) / 1000 } satisfies TaskResult);
      },
      (e: unknown) => process.send!({ ok: false, error: (e as Error).stack ?? String(e) } satisfies TaskResult),
    );
  });
}

/** Worker processes (bin/tsnode.mjs running this file with --worker), each given the next task when it answers. */
class Pool {
  private readonly children: ChildProcess[] = [];

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const child = fork(join(REPO_ROOT, 'bin/tsnode.mjs'), [join(REPO_ROOT, 'bench/calibrate.ts'), '--worker'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.children.push(child);
    }
  }

  /** Runs every task, `onResult` called as each ends (in completion order); rejects on the first failure. */
  run<T>(tasks: readonly Task[], onResult: (value: T, task: Task, cpuMs: number) => void): Promise<void> {
    let next = 0;
    let pending = tasks.length;
    return new Promise((resolveAll, reject) => {
      if (pending === 0) return resolveAll();
      const give = (child: ChildProcess) => {
        const t = tasks[next++];
        if (!t) return;
        child.once('message', (r: TaskResult) => {
          if (!r.ok) return reject(new Error(`seed ${t.seed} (${t.kind}, ${t.world}) failed in worker ${child.pid}:\n${r.error}`));
          onResult(r.value as T, t, r.cpuMs);
          if (--pending === 0) resolveAll();
          else give(child);
        });
        child.send(t);
      };
      for (const c of this.children) {
        c.once('exit', (code) => {
          if (pending > 0) reject(new Error(`worker ${c.pid} exited (code ${code}) with ${pending} tasks left`));
        });
        give(c);
      }
    });
  }

  close(): void {
    for (const c of this.children) c.kill();
  }
}

// ---- the report

interface Figure {
  check: string;
  hits: number;
  runs: number;
  target: [number, number];
  what: string;
}

function figureRow(f: Figure): string[] {
  const [lo, hi] = wilsonInterval(f.hits, f.runs);
  const rate = f.hits / f.runs;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    f.check,
    f.what,
    `${f.hits}/${f.runs}`,
    pct(rate),
    `[${pct(lo)}, ${pct(hi)}]`,
    `[${pct(f.target[0])}, ${pct(f.target[1])}]`,
    rate >= f.target[0] && rate <= f.target[1] ? 'ok' : 'MISSED',
  ];
}

function flagValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A numeric setting: the flag, else the environment variable, else the default. */
function setting(argv: readonly string[], flag: string, env: string, fallback: number, min: number): number {
  const raw = flagValue(argv, flag) ?? process.env[env];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${flag} (${env}) must be a number >= ${min}, got "${raw}"`);
  return Math.round(n);
}

async function main(argv: string[]): Promise<number> {
  const runs = setting(argv, '--runs', 'CALIBRATE_RUNS', 500, 1);
  const readers = setting(argv, '--readers', 'CALIBRATE_READERS', 1000, 10);
  const days = setting(argv, '--days', 'CALIBRATE_DAYS', 3, 1);
  const workers = setting(argv, '--workers', 'CALIBRATE_WORKERS', machineInfo().nproc, 1);
  const truthFactor = setting(argv, '--truth-factor', 'CALIBRATE_TRUTH_FACTOR', 20, 1);
  const only = flagValue(argv, '--only');
  if (only !== undefined && only !== 'null' && only !== 'effect') throw new Error(`--only takes null or effect, got "${only}"`);
  const size: RunSize = { readers, days };
  const m = machineInfo();
  const log = progressLogger();
  console.log(`readnext calibration: ${runs} runs per world, ${int(readers)} readers x ${days} days per run, ${workers} worker processes`);
  console.log(`machine: ${m.nproc} cores (${m.cpuModel}), ${fixed(m.memGiB)} GiB, node ${m.node}, linux ${m.kernel}\n`);

  const pool = new Pool(workers);
  const figures: Figure[] = [];
  const timings: string[][] = [];
  // The standard errors checked directly: mean squared z-score against its chi-square 95% band.
  const zRows: string[][] = [];
  const zRow = (name: string, runs: readonly { estimate: number; se: number }[], truth: number) => {
    const z = meanZSquare(runs, truth);
    const [lo, hi] = zSquareBand(z.n, 0.025);
    zRows.push([name, int(z.n), fixed(z.mean, 3), `[${fixed(lo, 3)}, ${fixed(hi, 3)}]`, z.mean >= lo && z.mean <= hi ? 'in' : 'out']);
  };
  try {
    if (only !== 'effect') {
      const started = performance.now();
      const results: NullRun[] = [];
      let cpuMs = 0;
      const seeds = Array.from({ length: runs }, (_, i) => i + 1);
      await pool.run<NullRun>(
        seeds.map((seed) => ({ kind: 'null', world: 'null', seed, size })),
        (r, _t, ms) => {
          results.push(r);
          cpuMs += ms;
          if (results.length % 50 === 0 || results.length === runs) log(`null world: ${results.length}/${runs} runs`);
        },
      );
      const s = secondsSince(started);
      const looks = results.reduce((a, r) => a + r.looks, 0) / results.length;
      figures.push(
        {
          check: 'null, frequentist',
          what: 'false positives, final report',
          hits: results.filter((r) => r.significant).length,
          runs,
          target: [0.03, 0.07],
        },
        {
          check: 'null, sequential',
          what: `false positives, any of ${fixed(looks, 1)} daily looks`,
          hits: results.filter((r) => r.sequentialHits > 0).length,
          runs,
          target: [0, 0.05],
        },
      );
      zRow('null, frequentist (truth 0)', results, 0);
      const up = results.filter((r) => r.significant && r.estimate > 0).length;
      console.log(
        `null world: frequentist false positives ${up} with a positive estimate, ${results.filter((r) => r.significant).length - up} negative; ` +
          `mean estimate ${(100 * (results.reduce((a, r) => a + r.estimate, 0) / results.length)).toFixed(3)}%\n`,
      );
      const srm = results.filter((r) => r.srm).length;
      const errors = results.filter((r) => r.errors > 0).length;
      const nMean = results.reduce((a, r) => a + r.n.reduce((x, y) => x + y, 0), 0) / results.length;
      const events = results.reduce((a, r) => a + r.events, 0);
      timings.push([
        'null',
        int(runs),
        fixed(s, 1),
        fixed(runs / s, 2),
        fixed(cpuMs / 1000 / runs, 2),
        fixed(cpuMs / 1000 / workers / 60, 1),
        int(nMean),
        events > 0 ? int(events / s) : 'n/a',
        `SRM flagged ${srm}, engine fell back ${errors}`,
      ]);
    }
    if (only !== 'null') {
      const started = performance.now();
      const truthSize: RunSize = { readers: readers * truthFactor, days };
      let truth: TrueEffect | undefined;
      const results: EffectRun[] = [];
      let cpuMs = 0;
      const seeds = Array.from({ length: runs }, (_, i) => i + 1);
      // The truth first, so that one worker computes it while the other starts on the runs.
      await pool.run<NullRun | EffectRun | TrueEffect>(
        [
          { kind: 'truth', world: 'small-effect', seed: 1_000_000, size: truthSize },
          ...seeds.map((seed): Task => ({ kind: 'effect', world: 'small-effect', seed, size })),
        ],
        (r, t, ms) => {
          cpuMs += ms;
          if (t.kind === 'truth') {
            truth = r as TrueEffect;
            log(`small-effect truth over ${int(truthSize.readers)} readers: ${fixed(truth.seconds, 1)} s`);
            return;
          }
          results.push(r as EffectRun);
          if (results.length % 50 === 0 || results.length === runs) log(`small-effect world: ${results.length}/${runs} runs`);
        },
      );
      const s = secondsSince(started);
      const t = truth!;
      const covered = results.filter((r) => r.ci[0] <= t.effect && t.effect <= r.ci[1]).length;
      const meanEstimate = results.reduce((a, r) => a + r.estimate, 0) / results.length;
      zRow(`small-effect (truth ${(100 * t.effect).toFixed(3)}%)`, results, t.effect);
      figures.push({ check: 'small-effect', what: '95% interval covers the true effect', hits: covered, runs, target: [0.93, 0.97] });
      const nMean = results.reduce((a, r) => a + r.n.reduce((x, y) => x + y, 0), 0) / results.length;
      const events = results.reduce((a, r) => a + r.events, 0);
      timings.push([
        'small-effect',
        int(runs),
        fixed(s, 1),
        fixed(runs / s, 2),
        fixed(cpuMs / 1000 / runs, 2),
        fixed(cpuMs / 1000 / workers / 60, 1),
        int(nMean),
        events > 0 ? int(events / s) : 'n/a',
        `incl. the truth (${fixed(t.seconds, 1)} s)`,
      ]);
      const above = results.filter((r) => r.ci[0] > t.effect).length;
      const below = results.filter((r) => r.ci[1] < t.effect).length;
      const sig = results.filter((r) => r.significant).length;
      console.log(
        `small-effect truth (${t.metric}, common random numbers, ${int(t.readers)} readers x ${days} days, seed ${t.seed}): ` +
          `${t.arms.map((a) => `${a.arm} ${a.truth.toPrecision(5)}`).join(', ')}; relative effect ${(100 * t.effect).toFixed(3)}%`,
      );
      console.log(
        `runs: mean estimate ${(100 * meanEstimate).toFixed(3)}%; misses: ${above} above the truth, ${below} below; ` +
          `significant (power at this size): ${sig}/${runs}\n`,
      );
    }
  } finally {
    pool.close();
  }

  console.log(formatTable(['check', 'what', 'hits', 'rate', 'Wilson 95%', 'target', ''], figures.map(figureRow), [0, 1]));
  console.log();
  console.log(formatTable(['standard errors', 'runs', 'mean z²', 'chi² 95% band', ''], zRows, [0]));
  console.log();
  console.log(
    formatTable(
      ['world', 'runs', 'seconds', 'runs/s', 'CPU s/run', 'idle-machine min', 'exposed/run', 'events/s', 'notes'],
      timings,
      [0, 8],
    ),
  );
  // CPU time does not grow when other work shares the cores, so CPU / workers is what the runs would take on idle cores.
  console.log(`idle-machine min: the workers' CPU time / ${workers}, what the runs take when nothing else competes for the cores`);
  const missed = figures.filter((f) => f.hits / f.runs < f.target[0] || f.hits / f.runs > f.target[1]);
  emitResult({
    runs,
    readers,
    days,
    checks: figures.map((f) => ({
      check: f.check,
      hits: f.hits,
      runs: f.runs,
      rate: f.hits / f.runs,
      target: f.target,
      met: !missed.includes(f),
    })),
    seconds: Object.fromEntries(timings.map((t) => [t[0], Number(t[2])])),
  });
  return missed.length === 0 ? 0 : 1;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  if (process.argv.includes('--worker')) serveTasks();
  else await runBench(main);
}
