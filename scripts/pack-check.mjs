// Checks that the package `npm pack` makes installs and runs like a published one: packs this
// checkout into a temporary directory, installs the tarball into an empty folder (as a user's
// `npm install readnext` would: the runtime `dependencies` only, no devDependencies, no src/),
// starts `npx readnext serve` there on a free port with its data under that folder, asks
// GET /healthz and GET /v1/recommendations, stops it, and removes everything.
//
//   node scripts/pack-check.mjs [--keep]      (npm run pack:check)
//
// Minutes, not seconds: better-sqlite3 compiles from source at install (about a minute here).
// npm's own cache is used first (--prefer-offline). Prints one line per step on stderr and, last on
// stdout, `PACK_CHECK {json}` (tarball size and file count, seconds per step, what the server
// answered); exit code 0 when every check passed, 1 otherwise.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Node's own fetch (Node 18+); the lint config of scripts/ names only process, console and URL.
const { fetch, AbortSignal } = globalThis;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Build-time packages (devDependencies): an install that pulls one in means the runtime needs it. */
const BUILD_ONLY = ['esbuild', 'vite', 'tsx', 'typescript', 'vitest'];
const READY_TIMEOUT_MS = 60_000;

/**
 * The environment of the child npm commands, without the npm_* variables `npm run` sets: they
 * would carry this checkout's settings (its prefix, its package) into the empty folder's install.
 */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

function log(started, msg) {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${msg}\n`);
}

/** Runs a command to completion; throws with its output when it fails. */
function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (code ${r.status}, signal ${r.signal}):\n${r.stdout}\n${r.stderr}`.slice(-8000));
  }
  return r.stdout;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/**
 * Packs, installs and serves; returns the report. `keep` leaves the temporary directory. Every
 * failed check throws.
 */
export async function packCheck({ keep = false } = {}) {
  const started = performance.now();
  const seconds = {};
  const step = async (name, fn) => {
    const t = performance.now();
    log(started, `${name}...`);
    const r = await fn();
    seconds[name] = Number(((performance.now() - t) / 1000).toFixed(1));
    return r;
  };
  const dir = mkdtempSync(join(tmpdir(), 'readnext-pack-'));
  let server;
  try {
    // `npm pack` runs the `prepare` script (the build) first, so dist/ is current.
    const packed = await step('pack', () => JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT))[0]);
    const tarball = join(dir, packed.filename);
    const sourcesShipped = packed.files.filter((f) => /^(src|test|bench)\//.test(f.path)).map((f) => f.path);
    if (sourcesShipped.length > 0) throw new Error(`the package ships sources: ${sourcesShipped.slice(0, 5).join(', ')}`);

    const app = join(dir, 'app');
    mkdirSync(app);
    // --foreground-scripts shows better-sqlite3's compile as it happens (and in the error, if it fails).
    await step('install', () =>
      run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', '--loglevel=error'], app),
    );
    const modules = join(app, 'node_modules');
    const pulledIn = BUILD_ONLY.filter((p) => existsSync(join(modules, p)));
    if (pulledIn.length > 0) throw new Error(`the install pulled in build-only packages: ${pulledIn.join(', ')}`);
    if (!existsSync(join(modules, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))) {
      throw new Error('better-sqlite3 was installed without its compiled addon (its install script did not run)');
    }
    if (existsSync(join(modules, 'readnext', 'src'))) throw new Error('the installed package has src/');

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // Its database goes to the empty folder's data/ (the default sqlite:./data/readnext.db, cwd app/).
    // Detached: npx runs the command as a child of its own; the whole group is stopped at the end.
    const output = [];
    server = spawn('npx', ['--no', 'readnext', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
      cwd: app,
      env: { ...cleanEnv(), READNEXT_LOG_LEVEL: 'warn' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolveExit) => server.once('exit', (code, signal) => resolveExit({ code, signal })));
    for (const s of [server.stdout, server.stderr]) s.on('data', (c) => output.push(c.toString()));
    const tail = () => output.join('').slice(-4000);

    const health = await step('start', async () => {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        const early = await Promise.race([exited, sleep(200).then(() => undefined)]);
        if (early) throw new Error(`readnext serve exited (code ${early.code}, signal ${early.signal}):\n${tail()}`);
        try {
          const r = await getJson(`${url}/healthz`);
          if (r.status === 200) return r;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`readnext serve did not answer /healthz within ${READY_TIMEOUT_MS} ms:\n${tail()}`);
      }
    });
    const recs = await getJson(`${url}/v1/recommendations?placement=read-next&article=pack-check-article&k=3`);
    if (recs.status !== 200 || typeof recs.body !== 'object') {
      throw new Error(`GET /v1/recommendations answered ${recs.status}: ${JSON.stringify(recs.body).slice(0, 500)}`);
    }
    const dbCreated = existsSync(join(app, 'data', 'readnext.db'));
    if (!dbCreated) throw new Error(`no database at ${join(app, 'data', 'readnext.db')}`);

    const stop = await step('stop', async () => {
      process.kill(-server.pid, 'SIGTERM');
      const r = await Promise.race([exited, sleep(20_000).then(() => 'timeout')]);
      if (r === 'timeout') {
        process.kill(-server.pid, 'SIGKILL');
        throw new Error(`readnext serve did not stop within 20 s of SIGTERM:\n${tail()}`);
      }
      return r;
    });
    server = undefined;
    const version = JSON.parse(readFileSync(join(modules, 'readnext', 'package.json'), 'utf8')).version;
    return {
      ok: true,
      package: { file: packed.filename, version, bytes: packed.size, unpackedBytes: packed.unpackedSize, files: packed.entryCount },
      seconds: { ...seconds, total: Number(((performance.now() - started) / 1000).toFixed(1)) },
      healthz: health.body,
      recommendations: { status: recs.status, body: recs.body },
      stopped: stop,
      ...(keep ? { dir } : {}),
    };
  } finally {
    if (server) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (keep) log(started, `kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const report = await packCheck({ keep: process.argv.includes('--keep') });
    process.stdout.write(`PACK_CHECK ${JSON.stringify(report)}\n`);
  } catch (e) {
    process.stderr.write(`pack-check: ${e.message}\n`);
    process.stdout.write(`PACK_CHECK ${JSON.stringify({ ok: false, error: e.message.split('\n')[0] })}\n`);
    process.exitCode = 1;
  }
}
