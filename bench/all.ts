/**
 * Runs every benchmark one after the other and writes what they measured, with the machine they
 * ran on, to bench-results/latest.json and a markdown summary to bench-results/latest.md (and
 * each bench's full text report to bench-results/NAME.txt).
 *
 *   npm run bench [-- [--quick | --smoke] [--only NAME,NAME] [--no-pg]]
 *
 * Modes: the default runs each bench at its own default sizes (what docs/benchmarks.md quotes: the
 * better part of an hour, more with the calibrations); --quick at sizes chosen so that the whole
 * run takes about 10-15 minutes on a 2-core machine (figures comparable run to run, not to the
 * full sizes); --smoke at tiny sizes, seconds per bench, to check that every bench runs and that
 * its figures are collected (the figures themselves mean nothing).
 *
 * Each bench prints its report as before and, last, one `BENCH_RESULT {json}` line (bench/lib.ts
 * `emitResult`) that is collected here. --no-pg passes --no-pg to the benches that take it (and
 * keeps the soak on SQLite, its default). Exit status: 0 when every bench printed its figures
 * (whatever they are: a bench that misses a target still exits 0 or 1 by its own rules, recorded
 * as `exitCode`); 1 when one crashed or printed none.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitResult, fixed, loadAverage, machineInfo, parseResult, REPO_ROOT, runBench, secondsSince } from './lib.js';

type Mode = 'full' | 'quick' | 'smoke';

interface Bench {
  name: string;
  file: string;
  /** Arguments and environment per mode (full: none, the bench's defaults). */
  quick: { args?: string[]; env?: Record<string, string> };
  smoke: { args?: string[]; env?: Record<string, string> };
  full?: { args?: string[]; env?: Record<string, string> };
  /** Takes --no-pg. */
  pgFlag?: boolean;
}

/** In the order they run: the short ones first, the soak last. */
export const BENCHES: readonly Bench[] = [
  {
    name: 'roi',
    file: 'bench/roi.ts',
    quick: { env: { BENCH_ROI_RUNS: '3' } },
    smoke: { env: { BENCH_ROI_SAMPLES: '1000', BENCH_ROI_RUNS: '1' } },
  },
  {
    name: 'train',
    file: 'bench/train.ts',
    quick: { env: { BENCH_TRAIN_ROWS: '200000', BENCH_TRAIN_TEST_ROWS: '50000' } },
    smoke: { env: { BENCH_TRAIN_ROWS: '2000', BENCH_TRAIN_TEST_ROWS: '1000', BENCH_TRAIN_ROUNDS: '5' } },
  },
  {
    name: 'startup',
    file: 'bench/startup.ts',
    pgFlag: true,
    quick: { args: ['--sizes', '300000', '--runs', '1'] },
    smoke: { args: ['--sizes', '1000', '--runs', '1'] },
  },
  {
    name: 'ingest',
    file: 'bench/ingest.ts',
    pgFlag: true,
    quick: { env: { BENCH_SECONDS: '10', BENCH_WARMUP_SECONDS: '2', BENCH_RAW_SECONDS: '3' } },
    smoke: { env: { BENCH_SECONDS: '1', BENCH_WARMUP_SECONDS: '0', BENCH_RAW_SECONDS: '0.2' } },
  },
  {
    name: 'serve',
    file: 'bench/serve.ts',
    quick: { env: { BENCH_SECONDS: '10', BENCH_WARMUP_SECONDS: '2', BENCH_EVENTS: '200000' } },
    smoke: { env: { BENCH_SECONDS: '1', BENCH_WARMUP_SECONDS: '0', BENCH_EVENTS: '1000' } },
  },
  {
    name: 'analysis',
    file: 'bench/analysis.ts',
    pgFlag: true,
    quick: { env: { BENCH_EVENTS: '1000000', BENCH_READERS: '50000', BENCH_REPEATS: '2', BENCH_INGEST_EXTRA: '200000' } },
    smoke: { env: { BENCH_EVENTS: '2000', BENCH_READERS: '100', BENCH_REPEATS: '1', BENCH_INGEST_EXTRA: '1000' } },
  },
  {
    name: 'simulate',
    file: 'bench/simulate.ts',
    quick: { env: { BENCH_SIM_READERS: '10000', BENCH_SIM_HTTP_READERS: '1000', BENCH_SIM_HTTP_DAYS: '3' } },
    smoke: { env: { BENCH_SIM_READERS: '50', BENCH_SIM_DAYS: '1', BENCH_SIM_HTTP_READERS: '20', BENCH_SIM_HTTP_DAYS: '1' } },
  },
  {
    name: 'calibrate',
    file: 'bench/calibrate.ts',
    quick: { args: ['--runs', '40', '--readers', '500', '--days', '2', '--truth-factor', '10'] },
    smoke: { args: ['--runs', '2', '--readers', '50', '--days', '1', '--truth-factor', '2', '--workers', '1'] },
  },
  {
    name: 'ope-coverage',
    file: 'bench/ope-coverage.ts',
    quick: { env: { OPE_RUNS: '10' } },
    smoke: { env: { OPE_RUNS: '1', OPE_READERS: '100', OPE_DAYS: '1' } },
  },
  {
    name: 'soak',
    file: 'bench/soak.ts',
    quick: { args: ['--minutes', '2'] },
    smoke: { args: ['--minutes', '0.2'] },
  },
];

interface Outcome {
  name: string;
  command: string;
  seconds: number;
  exitCode: number | null;
  figures: Record<string, unknown> | null;
  error?: string;
}

function parseArgs(argv: string[]): { mode: Mode; only?: Set<string>; noPg: boolean; out: string } {
  const usage = 'usage: npm run bench [-- [--quick | --smoke] [--only NAME,NAME] [--no-pg] [--out DIR]]';
  let mode: Mode = 'full';
  let only: Set<string> | undefined;
  let noPg = false;
  let out = join(REPO_ROOT, 'bench-results');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick' || a === '--smoke') {
      if (mode !== 'full') throw new Error(`--quick and --smoke are exclusive; ${usage}`);
      mode = a === '--quick' ? 'quick' : 'smoke';
    } else if (a === '--no-pg') noPg = true;
    else if (a === '--only' || a === '--out') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} takes a value; ${usage}`);
      if (a === '--out') out = v;
      else {
        only = new Set(v.split(',').map((s) => s.trim()));
        const unknown = [...only].filter((n) => !BENCHES.some((b) => b.name === n));
        if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
      }
    } else throw new Error(`unknown argument ${a}; ${usage}`);
  }
  return { mode, ...(only ? { only } : {}), noPg, out };
}

/** Runs one bench as `node bin/tsnode.mjs FILE ARGS`: stdout collected (and echoed), stderr (progress) passed through. */
function runOne(b: Bench, mode: Mode, noPg: boolean): Promise<Outcome & { stdout: string }> {
  const settings = b[mode] ?? {};
  const args = [...(settings.args ?? []), ...(noPg && b.pgFlag ? ['--no-pg'] : [])];
  const env = settings.env ?? {};
  const command = [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'node bin/tsnode.mjs', b.file, ...args].join(' ');
  const started = performance.now();
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/tsnode.mjs'), b.file, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      process.stderr.write(c);
    });
    const finish = (exitCode: number | null, error?: string) => {
      let figures: Record<string, unknown> | null = null;
      try {
        figures = parseResult(stdout) ?? null;
      } catch (e) {
        error ??= `unparseable result line: ${(e as Error).message}`;
      }
      if (figures === null) error ??= `printed no BENCH_RESULT line (exit code ${exitCode})`;
      resolveRun({ name: b.name, command, seconds: secondsSince(started), exitCode, figures, stdout, ...(error ? { error } : {}) });
    };
    child.once('error', (e) => finish(null, e.message));
    child.once('exit', (code, signal) => finish(code, signal ? `killed by ${signal}` : undefined));
  });
}

function gitCommit(): { commit: string; dirty: boolean } {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { commit: head.status === 0 ? head.stdout.trim() : 'unknown', dirty: status.status === 0 && status.stdout.trim() !== '' };
}

/** Figures flattened to [path, value] rows; an array element is named by its first string field (backend, route, check). */
export function flatten(value: unknown, prefix = ''): [string, string][] {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => {
      const label = v && typeof v === 'object' ? Object.values(v as object).find((x) => typeof x === 'string') : undefined;
      const name = typeof label === 'string' ? label : String(i);
      const rest =
        v && typeof v === 'object' && typeof label === 'string'
          ? Object.fromEntries(Object.entries(v as object).filter(([, x]) => x !== label))
          : v;
      return flatten(rest, prefix ? `${prefix} / ${name}` : name);
    });
  }
  if (value && typeof value === 'object') {
    return Object.entries(value as object).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, formatValue(value)]];
}

function formatValue(v: unknown): string {
  if (typeof v !== 'number') return v === null || v === undefined ? 'n/a' : String(v);
  if (!Number.isFinite(v)) return 'n/a';
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(4)).toString();
}

function markdown(report: {
  mode: Mode;
  date: string;
  git: { commit: string; dirty: boolean };
  machine: ReturnType<typeof machineInfo> & { loadAverageBefore: number | null };
  benches: Outcome[];
}): string {
  const m = report.machine;
  const lines = [
    `# readnext benchmarks (${report.mode})`,
    '',
    `- date: ${report.date}`,
    `- commit: ${report.git.commit}${report.git.dirty ? ' (with uncommitted changes)' : ''}`,
    `- machine: ${m.nproc} CPUs (${m.cpuModel}), ${fixed(m.memGiB, 1)} GiB RAM, Linux ${m.kernel}, Node ${m.node}; load average before: ${fixed(m.loadAverageBefore ?? NaN, 2)}`,
    '',
    '| benchmark | seconds | exit | figure | value |',
    '| --- | ---: | ---: | --- | ---: |',
  ];
  for (const b of report.benches) {
    const rows = b.figures ? flatten(b.figures) : [['error', b.error ?? 'no figures'] as [string, string]];
    rows.forEach(([k, v], i) => {
      const head = i === 0 ? `| ${b.name} | ${fixed(b.seconds, 0)} | ${b.exitCode ?? '-'} ` : '| | | ';
      lines.push(`${head}| ${k.replace(/\|/g, '\\|')} | ${v.replace(/\|/g, '\\|')} |`);
    });
  }
  lines.push('', `Commands and full reports: latest.json and NAME.txt beside this file.`, '');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { mode, only, noPg, out } = parseArgs(argv);
  const machine = { ...machineInfo(), loadAverageBefore: loadAverage() ?? null };
  const date = new Date().toISOString();
  const git = gitCommit();
  mkdirSync(out, { recursive: true });
  const selected = BENCHES.filter((b) => !only || only.has(b.name));
  const benches: Outcome[] = [];
  const started = performance.now();
  for (const b of selected) {
    process.stderr.write(`\n==== bench ${b.name} (${mode}) ====\n`);
    const { stdout, ...o } = await runOne(b, mode, noPg);
    writeFileSync(join(out, `${b.name}.txt`), stdout);
    benches.push(o);
    process.stderr.write(`==== ${b.name}: ${fixed(o.seconds, 1)} s, exit ${o.exitCode}${o.error ? `, ERROR ${o.error}` : ''}\n`);
  }
  const report = { mode, date, git, machine, seconds: secondsSince(started), benches };
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, 'latest.md'), markdown(report));
  const failed = benches.filter((b) => b.figures === null);
  console.log(`\n${benches.length} benches in ${fixed(report.seconds / 60, 1)} min; wrote ${join(out, 'latest.json')} and latest.md`);
  for (const b of benches)
    console.log(`  ${b.name.padEnd(14)} ${fixed(b.seconds, 1).padStart(7)} s  exit ${b.exitCode ?? '-'}  ${b.error ?? 'ok'}`);
  emitResult({ mode, benches: benches.length, failed: failed.map((b) => b.name), seconds: report.seconds });
  return failed.length > 0 ? 1 : 0;
}

await runBench(main);
