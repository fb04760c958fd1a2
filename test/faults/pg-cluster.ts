/**
 * A throwaway PostgreSQL cluster of the fault tests' own: initdb in a temporary directory, started
 * with pg_ctl on a free port, so that it can be stopped and started again under load without
 * touching the machine's shared cluster. PostgreSQL refuses to run as root (as CI does): the
 * commands then run as the `postgres` user (runuser), in a directory given to that user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where initdb and pg_ctl are looked for, first match wins (Debian's versioned directory, then PATH-like places). */
const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin'];

/** The directory holding both initdb and pg_ctl, or undefined when PostgreSQL's server binaries are absent. */
export function postgresBinDir(): string | undefined {
  return BIN_DIRS.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  dir: string;
  /** pg_ctl stop -m immediate: the postmaster and its backends end at once, as in a crash. */
  stopImmediate(): Promise<void>;
  /** pg_ctl start, waiting until it accepts connections (crash recovery included). */
  start(): Promise<void>;
  /** Stops the cluster (fast) and removes its directory. */
  remove(): Promise<void>;
}

/** Whether a process with this id runs (signal 0 probes without signalling; EPERM: it runs as another user). */
function alive(pid: number): boolean {
  if (Number.isNaN(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A run's directory younger than this without an owner file may be one being made: left alone. */
const SWEEP_MIN_AGE_MS = 10 * 60_000;

/**
 * Removes what earlier runs with this prefix left behind (a run killed before its clean-up,
 * SIGKILL included, leaves its cluster running or its files behind), and returns those
 * directories: a directory whose owner (the `owner` file: the process that made it) no longer runs
 * has its postmaster stopped, if it still runs, and is removed. A directory of a live owner is
 * another run's, left alone.
 */
export function sweepAbandonedClusters(binDir: string, prefix: string, parent = tmpdir()): string[] {
  const removed: string[] = [];
  const root = userInfo().uid === 0;
  const pidIn = (file: string): number => {
    try {
      const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : NaN;
    } catch {
      return NaN;
    }
  };
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(parent, name);
    const owner = pidIn(join(dir, 'owner'));
    if (Number.isNaN(owner) ? Date.now() - statSync(dir).mtimeMs < SWEEP_MIN_AGE_MS : alive(owner)) continue;
    const data = join(dir, 'data');
    if (alive(pidIn(join(data, 'postmaster.pid')))) stopNow(binDir, data, root);
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** pg_ctl stop -m immediate, as the cluster's user; quiet when it is not running. */
function stopNow(binDir: string, data: string, root: boolean): void {
  const args = ['stop', '-D', data, '-m', 'immediate'];
  try {
    if (root) execFileSync('runuser', ['-u', 'postgres', '--', join(binDir, 'pg_ctl'), ...args], { stdio: 'ignore' });
    else execFileSync(join(binDir, 'pg_ctl'), args, { stdio: 'ignore' });
  } catch {
    // already stopped
  }
}

/**
 * Creates and starts a cluster; throws when initdb or pg_ctl fail (their output in the message).
 * `settings` are passed as `-c name=value` (e.g. bench/rollup-throughput.ts --pg-tuned's
 * productionPgSettings); `prefix` names the temporary directory.
 */
export async function startPgCluster(
  binDir: string,
  settings: Record<string, string> = {},
  prefix = 'readnext-pgfault-',
): Promise<PgCluster> {
  // Checked before anything is made: each becomes a `-c name=value` word of pg_ctl's -o string.
  for (const [k, v] of Object.entries(settings)) {
    if (!/^[a-z_]+$/.test(k) || !/^[A-Za-z0-9.]+$/.test(v)) throw new RangeError(`startPgCluster: bad setting ${k}=${v}`);
  }
  const root = userInfo().uid === 0;
  sweepAbandonedClusters(binDir, prefix);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'owner'), `${process.pid}\n`);
  if (root) {
    const ids = await run('id', ['-u', 'postgres']);
    const gids = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const pgCommand = async (cmd: string, args: string[]) => {
    const bin = join(binDir, cmd);
    try {
      return root ? await run('runuser', ['-u', 'postgres', '--', bin, ...args], { cwd: dir }) : await run(bin, args, { cwd: dir });
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${cmd} ${args.join(' ')} failed: ${x.message}\n${x.stdout ?? ''}\n${x.stderr ?? ''}`);
    }
  };
  // --no-sync: the cluster's files need not survive a power loss, only a stop of PostgreSQL.
  await pgCommand('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C']);
  // The socket in the temporary directory (not /var/run/postgresql), TCP on 127.0.0.1 only.
  const extra = Object.entries(settings)
    .map(([k, v]) => ` -c ${k}=${v}`)
    .join('');
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=40 -c fsync=on${extra}`;
  const start = async () => {
    await pgCommand('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'log'), '-o', options]);
  };
  await start();
  // Should the test process end without its afterAll (crashed, or a signal a clean-up turned into an
  // exit), the cluster and its files must not outlive it. A SIGKILL runs nothing: the next start
  // with the same prefix sweeps what it left (sweepAbandonedClusters).
  const stopOnExit = () => {
    stopNow(binDir, data, root);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopOnExit);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async stopImmediate() {
      await pgCommand('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
    },
    start,
    async remove() {
      process.off('exit', stopOnExit);
      await pgCommand('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
