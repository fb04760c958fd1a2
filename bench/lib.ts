/**
 * Shared helpers for the benchmarks: machine facts, temp dirs and clean-up, starting the server
 * as a child process, running wrk and parsing what it prints, CPU accounting from /proc, CPU
 * profile summaries, the soaks' database and memory samples, and a little statistics and formatting.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { DeploymentAdmin } from '../src/app/deploy-admin.js';
import type { Experiment } from '../src/core/experiments/experiment.js';
import { SERVER_NODE_FLAGS } from '../src/main/node-flags.js';

/** The repository root (bench/..). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

// ---- clean-up on every way out

const cleanups: (() => void)[] = [];
let handlersInstalled = false;

/** Runs (synchronous) clean-ups in reverse order; each runs at most once. */
export function runCleanups(): void {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      fn();
    } catch {
      // best effort: keep cleaning up
    }
  }
}

/**
 * A bench's entry point: runs `main` with the command-line arguments, sets the exit code from it
 * (1 on a throw, with the stack), and runs the clean-ups whatever happens.
 */
export async function runBench(main: (argv: string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  } finally {
    runCleanups();
  }
}

/** Runs `fn` on a fresh PostgreSQL client (3 s to connect), closed afterwards. */
export async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * PostgreSQL settings for a server of `memBytes` of RAM on SSD, as docs/postgresql.md recommends
 * for production (the usual sizing rules of the PostgreSQL wiki's "Tuning Your PostgreSQL Server"
 * and of pgtune): shared_buffers a quarter of RAM, effective_cache_size three quarters,
 * maintenance_work_mem a sixteenth (at most 2 GB), WAL sized for bulk writes (max_wal_size 16 GB,
 * checkpoints every 15 minutes and spread over 90% of it: fewer full-page images of the pages a
 * rollup pass rewrites), random_page_cost 1.1 and effective_io_concurrency 200 for SSD, and JIT
 * off (the rollup passes turn it off for themselves). Debian's
 * defaults (shared_buffers 128 MB, max_wal_size 1 GB) are sized for a small shared machine.
 */
export function productionPgSettings(memBytes: number = totalmem()): Record<string, string> {
  const mb = Math.floor(memBytes / 2 ** 20);
  return {
    shared_buffers: `${Math.floor(mb / 4)}MB`,
    effective_cache_size: `${Math.floor((3 * mb) / 4)}MB`,
    maintenance_work_mem: `${Math.min(2048, Math.floor(mb / 16))}MB`,
    wal_buffers: '16MB',
    min_wal_size: '2GB',
    max_wal_size: '16GB',
    checkpoint_timeout: '15min',
    checkpoint_completion_target: '0.9',
    random_page_cost: '1.1',
    effective_io_concurrency: '200',
    jit: 'off',
  };
}

/** Registers a synchronous clean-up that runs at exit, on SIGINT/SIGTERM/SIGHUP, or when `runCleanups` is called. */
export function onCleanup(fn: () => void): void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('exit', runCleanups);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
        runCleanups();
        process.exit(130);
      });
    }
  }
  cleanups.push(fn);
}

/** A fresh directory under the OS temp dir, removed at exit. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // BENCH_KEEP=1 leaves the directory (databases, wrk scripts) for runs by hand.
  if (process.env.BENCH_KEEP === '1') process.once('exit', () => console.log(`kept ${dir} (BENCH_KEEP=1)`));
  else onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---- machine

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  node: string;
  kernel: string;
  memGiB: number;
}

function commandOutput(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The 1-minute load average, from /proc/loadavg. */
export function loadAverage(): number | undefined {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

export function machineInfo(): MachineInfo {
  const nproc = Number(commandOutput('nproc', []) ?? availableParallelism());
  let cpuModel = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // not Linux
  }
  return { nproc, cpuModel, node: process.version, kernel: release(), memGiB: totalmem() / 2 ** 30 };
}

/** The filesystem type of `path` (e.g. ext4, tmpfs): fsync on tmpfs is free, which would flatter a durable benchmark. */
export function filesystemType(path: string): string {
  return commandOutput('findmnt', ['-n', '-o', 'FSTYPE', '--target', path]) ?? commandOutput('stat', ['-f', '-c', '%T', path]) ?? 'unknown';
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      if (typeof a === 'object' && a !== null) {
        const port = a.port;
        s.close(() => resolvePort(port));
      } else {
        s.close(() => reject(new Error('could not find a free port')));
      }
    });
  });
}

// ---- child processes

/** Keeps the last `max` characters written to it (a child's output, for error messages). */
class Tail {
  private text = '';
  constructor(private readonly max = 64 * 1024) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.max) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text;
  }
}

/**
 * Pins this process, every thread of it, to `cpu` (taskset -a -p); whether it worked. A bench
 * calls it before its measured runs so that its own work (a collection of the setup's heap, its
 * helper threads) never runs on the core of the server under test: in bench:serve --model's runs
 * (AMD EPYC VM, 2026-12-07) the bench process took 13-14% of a core during the measured run in the
 * two runs with p99 78-79 ms, 2% in the one with 39 ms.
 */
export function pinSelf(cpu: string): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** Prefixes `argv` with `taskset -c CPU` when a CPU list is given. */
function pinned(cpu: string | undefined, argv: string[]): [string, string[]] {
  return cpu === undefined ? [argv[0]!, argv.slice(1)] : ['taskset', ['-c', cpu, ...argv]];
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exitOf(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
}

export interface CommandResult extends ExitStatus {
  stdout: string;
  /** The last 64 KiB of stderr. */
  stderr: string;
}

/** Runs a command to completion (optionally pinned with taskset) and collects its output. */
export async function runCommand(
  argv: readonly string[],
  opts: { cpu?: string; env?: Record<string, string> } = {},
): Promise<CommandResult> {
  const [cmd, args] = pinned(opts.cpu, [...argv]);
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let done = false;
  onCleanup(() => {
    if (!done) child.kill('SIGKILL');
  });
  let stdout = '';
  const stderr = new Tail();
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const failed = new Promise<ExitStatus>((resolveFail) =>
    child.once('error', (e) => {
      stderr.push(String(e));
      resolveFail({ code: null, signal: null });
    }),
  );
  const st = await Promise.race([exitOf(child), failed]);
  done = true;
  return { ...st, stdout, stderr: stderr.toString() };
}

// ---- the readnext server

export interface ServerOptions {
  /** Database URL given to `serve --db`. */
  db: string;
  port: number;
  /** CPU list for taskset (e.g. "0"); unpinned when undefined. */
  cpu?: string;
  /** Extra environment (READNEXT_*). */
  env?: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

export interface ServerHandle {
  pid: number;
  url: string;
  /** The last 64 KiB of the server's stdout and stderr. */
  output(): string;
  running(): boolean;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<ExitStatus & { killed: boolean }>;
}

/** Starts `node SERVER_NODE_FLAGS bin/readnext.mjs serve`, as `npm start` does, and resolves once GET /readyz answers 200. */
export async function startServer(opts: ServerOptions): Promise<ServerHandle> {
  return startHttpProcess({
    argv: [
      process.execPath,
      ...SERVER_NODE_FLAGS,
      ...(opts.nodeArgs ?? []),
      join(REPO_ROOT, 'bin/readnext.mjs'),
      'serve',
      '--db',
      opts.db,
      '--port',
      String(opts.port),
      '--host',
      '127.0.0.1',
    ],
    port: opts.port,
    readyPath: '/readyz',
    ...(opts.cpu !== undefined ? { cpu: opts.cpu } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
  });
}

export interface HttpProcessOptions {
  /** The command line, e.g. [process.execPath, 'server.js', '--port', '1234']. */
  argv: readonly string[];
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Polled with GET until it answers 2xx, e.g. '/readyz'. */
  readyPath: string;
  /** CPU list for taskset (e.g. "0"); unpinned when undefined. */
  cpu?: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Default 60 s. */
  readyTimeoutMs?: number;
  /** How errors name the process (default "the server"). */
  label?: string;
}

/**
 * Starts any HTTP server as a child process (optionally pinned with taskset), killed at exit, and
 * resolves once GET `readyPath` answers 2xx; `startServer` is this for `readnext serve`.
 */
export async function startHttpProcess(opts: HttpProcessOptions): Promise<ServerHandle> {
  const url = `http://127.0.0.1:${opts.port}`;
  const label = opts.label ?? 'the server';
  const [cmd, args] = pinned(opts.cpu, [...opts.argv]);
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = new Tail();
  child.stdout.on('data', (c: Buffer) => tail.push(c));
  child.stderr.on('data', (c: Buffer) => tail.push(c));
  const exited = exitOf(child);
  let done = false;
  void exited.then(() => (done = true));
  onCleanup(() => {
    if (!done) child.kill('SIGKILL');
  });
  const spawnError = new Promise<Error>((resolveErr) => child.once('error', resolveErr));

  const handle: ServerHandle = {
    pid: child.pid ?? -1,
    url,
    output: () => tail.toString(),
    running: () => !done,
    async stop(timeoutMs = 60_000) {
      if (done) return { ...(await exited), killed: false };
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs)));
      const r = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (r !== 'timeout') return { ...r, killed: false };
      child.kill('SIGKILL');
      return { ...(await exited), killed: true };
    },
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    const early = await Promise.race([exited, spawnError, sleep(0).then(() => undefined)]);
    if (early instanceof Error) throw new Error(`could not start ${label}: ${early.message}`);
    if (early !== undefined) {
      throw new Error(`${label} exited before it was ready (code ${early.code}, signal ${early.signal}):\n${tail.toString()}`);
    }
    try {
      const res = await fetch(`${url}${opts.readyPath}`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return handle;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await handle.stop(5000);
      throw new Error(`${label} was not ready after ${opts.readyTimeoutMs ?? 60_000} ms:\n${tail.toString()}`);
    }
    await sleep(100);
  }
}

// ---- wrk

/** What the `done` hook of a `wrkScript` script reports, in seconds and milliseconds. */
export interface WrkResult {
  durationS: number;
  /** Completed requests, whatever their status. */
  requests: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  /** Latency in milliseconds. */
  latencyMs: { min: number; mean: number; stdev: number; max: number; p50: number; p75: number; p90: number; p99: number; p999: number };
  /** Sums over the threads of the counters named in `wrkScript`'s `counters`. */
  counters: Record<string, number>;
}

export const WRK_RESULT_TAG = 'WRK_RESULT ';

/**
 * Appends `setup` and `done` hooks to a wrk Lua script. `setup` numbers the threads (global `tid`,
 * 1-based, set before the thread starts); `done` prints one line `WRK_RESULT {json}` with the
 * summary, latency percentiles and the per-thread sums of the numeric globals in `counters`, after
 * calling the script's own `done_extra(threads)` if it defines one.
 */
export function wrkScript(body: string, counters: readonly string[]): string {
  for (const c of counters) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c)) throw new Error(`bad counter name ${c}`);
  const names = counters.map((c) => `"${c}"`).join(', ');
  return `${body}

-- ---- bench/lib.ts: thread numbering and a parseable result line
local bench_threads = {}
function setup(thread)
  table.insert(bench_threads, thread)
  thread:set("tid", #bench_threads)
end

function done(summary, latency, requests)
  if done_extra then done_extra(bench_threads) end
  local sums = {}
  for _, name in ipairs({ ${names} }) do
    local s = 0
    for _, t in ipairs(bench_threads) do s = s + (tonumber(t:get(name)) or 0) end
    sums[#sums + 1] = string.format('"%s":%.0f', name, s)
  end
  local e = summary.errors
  io.write(string.format(
    '${WRK_RESULT_TAG}{"durationUs":%.0f,"requests":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latencyUs":{"min":%.0f,"mean":%.3f,"stdev":%.3f,"max":%.0f,"p50":%.0f,"p75":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f},' ..
    '"counters":{%s}}\\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    table.concat(sums, ",")))
end
`;
}

interface RawWrkResult {
  durationUs: number;
  requests: number;
  bytes: number;
  errors: WrkResult['errors'];
  latencyUs: WrkResult['latencyMs'];
  counters: Record<string, number>;
}

/** Finds the `WRK_RESULT` line printed by a `wrkScript` script and converts units (s, ms). */
export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout.split('\n').find((l) => l.startsWith(WRK_RESULT_TAG));
  if (line === undefined) throw new Error(`wrk printed no ${WRK_RESULT_TAG.trim()} line:\n${stdout}`);
  const r = JSON.parse(line.slice(WRK_RESULT_TAG.length)) as RawWrkResult;
  const lat = Object.fromEntries(Object.entries(r.latencyUs).map(([k, v]) => [k, v / 1000])) as WrkResult['latencyMs'];
  return { durationS: r.durationUs / 1e6, requests: r.requests, bytes: r.bytes, errors: r.errors, latencyMs: lat, counters: r.counters };
}

/** "Requests/sec: 1234.56" from wrk's own text summary, for a cross-check; undefined if absent. */
export function parseWrkRequestsPerSec(stdout: string): number | undefined {
  const m = /^Requests\/sec:\s+([\d.]+)/m.exec(stdout);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export interface WrkOptions {
  url: string;
  scriptPath: string;
  threads: number;
  connections: number;
  seconds: number;
  /** CPU list for taskset. */
  cpu?: string;
  /** Per-request timeout, seconds (wrk's default is 2). */
  timeoutSeconds?: number;
  /** Called with wrk's pid once it runs (e.g. to sample its CPU). */
  onStart?: (pid: number) => void;
}

export interface WrkRun {
  result: WrkResult;
  stdout: string;
  requestsPerSecText: number | undefined;
}

export async function runWrk(o: WrkOptions): Promise<WrkRun> {
  const argv = [
    'wrk',
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--timeout',
    `${o.timeoutSeconds ?? 10}s`,
    '-s',
    o.scriptPath,
    o.url,
  ];
  const [cmd, args] = pinned(o.cpu, argv);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let done = false;
  onCleanup(() => {
    if (!done) child.kill('SIGKILL');
  });
  let stdout = '';
  const stderr = new Tail();
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const spawned = new Promise<void>((resolveSpawn, reject) => {
    child.once('spawn', resolveSpawn);
    child.once('error', reject);
  });
  await spawned;
  if (child.pid !== undefined) o.onStart?.(child.pid);
  const st = await exitOf(child);
  done = true;
  if (st.code !== 0) throw new Error(`wrk failed (code ${st.code}, signal ${st.signal}):\n${stdout}\n${stderr.toString()}`);
  return { result: parseWrkOutput(stdout), stdout, requestsPerSecText: parseWrkRequestsPerSec(stdout) };
}

// ---- CPU accounting from /proc

const CLK_TCK = Number(commandOutput('getconf', ['CLK_TCK']) ?? 100);

export interface CpuSnapshot {
  atMs: number;
  /** Per core: busy and total jiffies. */
  cores: { busy: number; total: number }[];
  /** Per group name: CPU seconds used so far by its processes (user + system). */
  groups: Record<string, Map<number, number>>;
  /** Every process: command name, whether it is a kernel thread, and CPU seconds so far. */
  all: Map<number, ProcessCpu>;
}

interface ProcessCpu {
  comm: string;
  kernel: boolean;
  seconds: number;
}

/** Command name and CPU seconds (user + system, all threads) of one process; undefined when it is gone. */
function processCpu(pid: number | string): ProcessCpu | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state), fields[1] the parent (kernel threads are children of kthreadd, pid 2);
    // utime and stime are fields 14 and 15.
    return {
      comm: stat.slice(stat.indexOf('(') + 1, close),
      kernel: fields[1] === '2' || Number(pid) === 2,
      seconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK,
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system, all threads) the process has used; NaN when it is gone. */
export function processCpuSeconds(pid: number): number {
  return processCpu(pid)?.seconds ?? NaN;
}

function numericDirs(path: string): string[] {
  try {
    return readdirSync(path).filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
}

/** Pids whose command name (/proc/PID/comm) is `comm`, e.g. every postgres backend. */
export function pidsByName(comm: string): number[] {
  const out: number[] = [];
  for (const e of numericDirs('/proc')) {
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() === comm) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Snapshot of per-core busy time and of the CPU time of named process groups. */
export function cpuSnapshot(groups: Record<string, readonly number[]>): CpuSnapshot {
  const cores: CpuSnapshot['cores'] = [];
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m?.[2]) continue;
      const v = m[2].split(/\s+/).map(Number);
      // user nice system idle iowait irq softirq steal ...
      const idle = (v[3] ?? 0) + (v[4] ?? 0);
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
      cores[Number(m[1])] = { busy: total - idle, total };
    }
  } catch {
    // not Linux
  }
  const all: CpuSnapshot['all'] = new Map();
  for (const e of numericDirs('/proc')) {
    const p = processCpu(e);
    if (p) all.set(Number(e), p);
  }
  const g: CpuSnapshot['groups'] = {};
  for (const [name, pids] of Object.entries(groups)) {
    const m = new Map<number, number>();
    for (const pid of pids) {
      const p = all.get(pid) ?? processCpu(pid);
      if (p) m.set(pid, p.seconds);
    }
    g[name] = m;
  }
  return { atMs: performance.now(), cores, groups: g, all };
}

export interface CpuUsage {
  seconds: number;
  /** Busy percentage per core. */
  cores: number[];
  /** Per group: percent of one core (100 = one core fully busy); processes present in both snapshots. */
  groups: Record<string, number>;
  /** Busy time of all cores not accounted for by the groups (other processes, kernel threads, interrupts), percent of one core. */
  other: number;
  /** Of `other`: user-space processes outside the groups (noise from other work), percent of one core. */
  otherUser: number;
  /** Of `other`: kernel threads (writeback, journaling: partly the benchmark's own I/O), percent of one core. */
  otherKernel: number;
  /** The busiest other processes by command name (kworker/1:2 counts as kworker), percent of one core; processes that exited during the window are missed. */
  topOthers: { comm: string; pct: number }[];
}

export function cpuUsage(a: CpuSnapshot, b: CpuSnapshot): CpuUsage {
  const seconds = (b.atMs - a.atMs) / 1000;
  const cores = b.cores.map((c, i) => {
    const p = a.cores[i];
    return p && c.total > p.total ? (100 * (c.busy - p.busy)) / (c.total - p.total) : 0;
  });
  const groups: Record<string, number> = {};
  for (const [name, after] of Object.entries(b.groups)) {
    const before = a.groups[name] ?? new Map<number, number>();
    let used = 0;
    for (const [pid, s] of after) used += s - (before.get(pid) ?? s);
    groups[name] = seconds > 0 ? (100 * used) / seconds : 0;
  }
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const inGroups = new Set(Object.values(b.groups).flatMap((m) => [...m.keys()]));
  const byComm = new Map<string, number>();
  let user = 0;
  let kernel = 0;
  for (const [pid, p] of b.all) {
    if (inGroups.has(pid)) continue;
    // A process started during the window counts whole (one that ended in it is not seen at all).
    const before = a.all.get(pid);
    const used = before && before.comm === p.comm ? p.seconds - before.seconds : p.seconds;
    const comm = p.comm.replace(/\/.*$/, '');
    byComm.set(comm, (byComm.get(comm) ?? 0) + used);
    if (p.kernel) kernel += used;
    else user += used;
  }
  const topOthers = [...byComm.entries()]
    .map(([comm, used]) => ({ comm, pct: seconds > 0 ? (100 * used) / seconds : 0 }))
    .filter((o) => o.pct >= 1)
    .sort((x, y) => y.pct - x.pct)
    .slice(0, 5);
  const pct = (used: number) => (seconds > 0 ? (100 * used) / seconds : 0);
  return {
    seconds,
    cores,
    groups,
    other: Math.max(0, sum(cores) - sum(Object.values(groups))),
    otherUser: pct(user),
    otherKernel: pct(kernel),
    topOthers,
  };
}

/** Above this much busy CPU (percent of one core) that is neither ours nor a kernel thread, a run is noisy (the figure bench/ingest.ts uses). */
export const NOISY_OTHER_CPU = 25;

/** Other work during a window, percent of one core: other processes, plus busy time nothing in /proc accounts for (processes that came and went). */
export function otherWorkPct(cpu: CpuUsage): number {
  return Math.max(cpu.otherUser, cpu.other - cpu.otherKernel);
}

// ---- V8 CPU profiles (node --cpu-prof)

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds, on the clock of the samples. */
  startTime?: number;
  endTime?: number;
  samples: number[];
  timeDeltas: number[];
}

/** Now on the clock of V8 CPU profiles (CLOCK_MONOTONIC, microseconds), to pass as a `summarizeCpuProfile` window. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface ProfileSummary {
  totalMs: number;
  functions: { name: string; where: string; selfMs: number; pct: number }[];
  modules: { module: string; selfMs: number; pct: number }[];
}

/** Where a frame comes from: a package, a source folder, node internals or a V8 pseudo-frame. */
function moduleOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  if (url.startsWith('node:')) return 'node:internal';
  const src = /\/(src\/[^/]+\/[^/]+)/.exec(url);
  return src?.[1] ?? url.replace(/^file:\/\//, '');
}

/**
 * Self time per function and per module from a .cpuprofile, biggest first. With `window`, only the
 * samples taken in [fromUs, toUs] count: times on the profile's clock (microseconds of
 * CLOCK_MONOTONIC on Linux, the clock of `process.hrtime`), see `monotonicUs`.
 */
export function summarizeCpuProfile(path: string, top = 20, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = p.startTime ?? 0;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    at += p.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const mod = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const name = n.callFrame.functionName || '(anonymous)';
    const file = n.callFrame.url.replace(/^file:\/\//, '').replace(`${REPO_ROOT}/`, '');
    const where = file === '' ? '' : `${file}:${n.callFrame.lineNumber + 1}`;
    const key = `${name}@${where}`;
    const f = fn.get(key) ?? { name, where, us: 0 };
    f.us += us;
    fn.set(key, f);
    const m = moduleOf(n.callFrame.url, name);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const pct = (us: number) => (total > 0 ? (100 * us) / total : 0);
  return {
    totalMs: total / 1000,
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, pct: pct(f.us) })),
    modules: [...mod.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([module, us]) => ({ module, selfMs: us / 1000, pct: pct(us) })),
  };
}

/** The .cpuprofile files in `dir`, newest last. */
export function cpuProfilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * The newest main-thread profile in `dir`. Node names them CPU.DATE.TIME.PID.TID.SEQ.cpuprofile;
 * the main thread is TID 0 (tsx's loader runs in a worker thread with its own profile).
 */
export function mainThreadProfile(dir: string): string | undefined {
  const all = cpuProfilesIn(dir);
  return all.filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)).at(-1) ?? all.at(-1);
}

// ---- statistics and formatting

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * Least-squares slope of y over x (ordinary least squares, cov(x, y) / var(x)); points whose y is
 * not finite (a failed memory sample) are left out; NaN with fewer than 3 points.
 */
export function leastSquaresSlope(points: readonly { x: number; y: number }[]): number {
  const ok = points.filter((p) => Number.isFinite(p.y));
  if (ok.length < 3) return NaN;
  const mx = ok.reduce((s, p) => s + p.x, 0) / ok.length;
  const my = ok.reduce((s, p) => s + p.y, 0) / ok.length;
  let num = 0;
  let den = 0;
  for (const p of ok) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

/** 1234567.8 -> "1,234,568". */
export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fixed = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** A plain-text table; columns after the first are right-aligned unless `left` names them. */
/** Every line of `text` indented by `n` spaces. */
export const indent = (text: string, n: number): string =>
  text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

/** A CPU profile summary as two indented tables: self time by module (top 12), then by function. */
export function profileTables(p: ProfileSummary): string {
  const modules = formatTable(
    ['self time by module', 'ms', '%'],
    p.modules.slice(0, 12).map((m) => [m.module, int(m.selfMs), fixed(m.pct)]),
  );
  const functions = formatTable(
    ['function', 'where', 'ms', '%'],
    p.functions.map((f) => [f.name, f.where, int(f.selfMs), fixed(f.pct)]),
    [0, 1],
  );
  return `${indent(modules, 4)}\n${indent(functions, 4)}`;
}

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], left: readonly number[] = [0]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A numeric setting from the environment (BENCH_*), or `fallback` when unset or blank. */
export function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

/** Seconds since `fromMs` (a `performance.now()` reading). */
export const secondsSince = (fromMs: number): number => (performance.now() - fromMs) / 1000;

/** A progress line writer: "[12.3 s] msg" on stderr (seconds since this call), so stdout stays the report. */
export function progressLogger(): (msg: string) => void {
  const started = performance.now();
  return (msg) => process.stderr.write(`[${fixed(secondsSince(started))} s] ${msg}\n`);
}

// ---- the benches' experiment

/** Creates and starts the benches' 3-arm experiment `id` on read-next: control (`none`), `co-read`, `popular`. */
export async function startThreeArmExperiment(deployments: DeploymentAdmin, id: string, reason: string): Promise<Experiment> {
  const actor = { actor: 'bench', reason };
  const arms = (['none', 'co-read', 'popular'] as const).map((kind) => ({
    name: kind === 'none' ? 'control' : kind,
    recommender: { kind, version: '1' },
  }));
  await deployments.createExperiment({ id, placement: 'read-next', arms }, actor);
  return deployments.startExperiment(id, actor);
}

// ---- the soaks (bench/soak.ts, bench/readers-soak.ts)

/**
 * The database a soak serves from: `sqliteFile` (a fresh file in the bench's temp dir), or with
 * `pg` (an admin URL) the scratch database `pgDb` on that server, dropped and recreated so that
 * a run never sees an earlier run's rows.
 */
export async function scratchDatabase(o: { sqliteFile: string; pg?: string; pgDb: string }): Promise<string> {
  if (o.pg === undefined) return `sqlite:${o.sqliteFile}`;
  await withPg(o.pg, async (c) => {
    await c.query(`drop database if exists ${o.pgDb} with (force)`);
    await c.query(`create database ${o.pgDb}`);
  });
  const u = new URL(o.pg);
  u.pathname = `/${o.pgDb}`;
  return u.toString();
}

/**
 * Imports samples/marlowe-bay.jsonl into `db` with `readnext import articles --rebase-dates` (a child
 * process, as an operator would) and returns the article ids in file order.
 */
export async function importSampleArticles(db: string): Promise<string[]> {
  const articlesFile = join(REPO_ROOT, 'samples', 'marlowe-bay.jsonl');
  const ids = readFileSync(articlesFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { id: string }).id);
  const imp = await runCommand([
    process.execPath,
    join(REPO_ROOT, 'bin/readnext.mjs'),
    'import',
    'articles',
    articlesFile,
    '--rebase-dates',
    '--db',
    db,
  ]);
  if (imp.code !== 0) throw new Error(`readnext import articles failed (code ${imp.code}):\n${imp.stdout}${imp.stderr}`);
  return ids;
}

/** A process's resident set size in MB, from VmRSS in /proc/PID/status; NaN when it is missing. */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] === undefined ? NaN : Number(m[1]) / 1024;
}

/**
 * The server's GET /metrics text (with `token`). A non-2xx answer or no answer throws, or gives ''
 * with `lenient` (a soak that would rather drop one sample than stop).
 */
export async function metricsText(url: string, token: string, lenient = false): Promise<string> {
  try {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 200)}`);
    return text;
  } catch (e) {
    if (lenient) return '';
    throw e;
  }
}

/** Seconds spent in garbage collection so far by kind, from a /metrics text (prom-client's nodejs_gc_duration_seconds_sum: minor, major, incremental, weakcb). */
export function gcSeconds(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{kind="(\w+)"\} ([\d.e+-]+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** The first value of a metric (any labels) in a /metrics text; NaN when missing. */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(text);
  return m?.[1] === undefined ? NaN : Number(m[1]);
}

/** The server's V8 heap used in MB (nodejs_heap_size_used_bytes from GET /metrics); NaN when the gauge or, with `lenient`, the answer is missing. */
export async function heapUsedMb(url: string, token: string, lenient = false): Promise<number> {
  return metricValue(await metricsText(url, token, lenient), 'nodejs_heap_size_used_bytes') / 2 ** 20;
}

// ---- a parseable result line

/** The tag of a bench's result line; bench/all.ts (`npm run bench`) collects the figures from it. */
export const RESULT_TAG = 'BENCH_RESULT ';

/**
 * Prints a bench's figures as one line `BENCH_RESULT {json}` on stdout, after its text report.
 * Keys name their unit (`p99Ms`, `eventsPerS`); nested objects group by database or size.
 */
export function emitResult(figures: Record<string, unknown>): void {
  console.log(`${RESULT_TAG}${JSON.stringify(figures)}`);
}

/** The figures of the `BENCH_RESULT` line in a bench's stdout; undefined when it printed none. */
export function parseResult(stdout: string): Record<string, unknown> | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_TAG));
  return line === undefined ? undefined : (JSON.parse(line.slice(RESULT_TAG.length)) as Record<string, unknown>);
}
