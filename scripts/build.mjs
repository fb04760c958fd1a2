// Builds what production runs: the `readnext` command bundled from src/ (dist/main/cli.mjs plus the
// chunks it imports on demand, Node ESM, npm packages left as imports) and the browser SDK
// (dist/sdk.js, a minified IIFE; the server only reads it), both with esbuild in a fraction of a
// second; and the dashboard (src/adapters/web/dashboard, a Preact app) with Vite to dist/dashboard/.
// Together about a second; `npm install` runs this (the `prepare` script) and bin/readnext.mjs runs it again, in a
// checkout, whenever a file under src/ is newer than the bundle. Why compiled code at all, and why
// split: docs/adr/0003-compiled-entry-point.md.
//
//   node scripts/build.mjs          build now
//   node scripts/build.mjs --clean  build now and delete every chunk and asset of earlier builds at once
//                                   (`npm pack` runs this as `prepack`: the package holds this build only)
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI_BUNDLE = join(ROOT, 'dist', 'main', 'cli.mjs');
export const SDK_BUNDLE = join(ROOT, 'dist', 'sdk.js');
export const DASHBOARD_DIR = join(ROOT, 'dist', 'dashboard');
/** Written last by each dashboard build: its time is what the dashboard's staleness is judged by. */
export const DASHBOARD_INDEX = join(DASHBOARD_DIR, 'index.html');
const SRC = join(ROOT, 'src');
const CHUNK = /^chunk-[A-Z0-9]+\.mjs(\.map)?$/;
/** Chunks of earlier builds are deleted only when this old: a process started from one may still import it. */
const OLD_CHUNK_MS = 60 * 60 * 1000; // 1 hour

/** Newest modification time of the files the bundles are made from (src/, package.json), ms. */
function newestSource() {
  let newest = statSync(join(ROOT, 'package.json')).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(SRC);
  return newest;
}

function stale(file, newest) {
  return !existsSync(file) || statSync(file).mtimeMs < newest;
}

/**
 * Builds both bundles. The command is split (`splitting`): its entry registers the command tree,
 * and each command's action imports what it needs (the server, the storage drivers, the feed
 * parsers) from chunks beside it. Chunk names are content hashes; each file is written to a
 * temporary name, then renamed, the entry last: several processes building at once (parallel
 * tests) each leave whole files, and a process never finds an entry whose chunks are not there.
 */
export async function build({ clean = false } = {}) {
  await Promise.all([buildBundles({ clean }), buildDashboard({ clean })]);
}

/** How old an earlier build's file must be to go: an hour, or at once with `clean` (packaging). */
const oldAfter = (clean) => (clean ? -1 : OLD_CHUNK_MS);

async function buildBundles({ clean = false } = {}) {
  const { build: esbuild } = await import('esbuild');
  const tmp = `.tmp-${process.pid}-${Date.now()}`;
  const outdir = dirname(CLI_BUNDLE);
  mkdirSync(outdir, { recursive: true });
  const [cli, sdk] = await Promise.all([
    esbuild({
      // The worker thread of the server's heavy jobs (src/main/jobs.ts) is an entry of its own:
      // jobs.ts starts dist/main/job-worker.mjs, beside the chunk it is bundled into.
      entryPoints: { cli: join(SRC, 'main', 'cli.ts'), 'job-worker': join(SRC, 'main', 'job-worker.ts') },
      outdir,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      splitting: true,
      write: false,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'warning',
    }),
    esbuild({
      entryPoints: [join(SRC, 'adapters', 'web', 'sdk', 'readnext.ts')],
      outfile: SDK_BUNDLE,
      write: false,
      bundle: true,
      format: 'iife',
      target: 'es2019',
      platform: 'browser',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ]);
  // The CLI entry last: its time is what staleness is judged by, and its chunks must be there first.
  const isEntry = (path) => path === CLI_BUNDLE;
  const files = [...sdk.outputFiles, ...cli.outputFiles].sort((a, b) => Number(isEntry(a.path)) - Number(isEntry(b.path)));
  for (const f of files) {
    writeFileSync(f.path + tmp, f.contents);
    renameSync(f.path + tmp, f.path);
  }
  const current = new Set(cli.outputFiles.map((f) => basename(f.path)));
  const now = Date.now();
  for (const name of readdirSync(outdir)) {
    const p = join(outdir, name);
    if (CHUNK.test(name) && !current.has(name) && now - statSync(p, { throwIfNoEntry: false })?.mtimeMs > oldAfter(clean)) {
      rmSync(p, { force: true });
    }
  }
}

/**
 * Builds the dashboard with Vite (no config file: everything is here) to dist/dashboard/: index.html
 * and assets/ with content-hashed names. Like the bundles, nothing is emptied and every file goes
 * through a temporary name, index.html last, so that a server reading the folder during a build
 * never finds an index naming assets that are not there; assets of earlier builds go after an hour.
 */
export async function buildDashboard({ clean = false } = {}) {
  const { build: vite } = await import('vite');
  const out = await vite({
    configFile: false,
    root: join(SRC, 'adapters', 'web', 'dashboard'),
    base: '/dashboard/',
    publicDir: false,
    logLevel: 'warn',
    clearScreen: false,
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact', development: false } },
    // A production build even when NODE_ENV says otherwise (vitest sets it to "test").
    mode: 'production',
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir: DASHBOARD_DIR,
      write: false,
      emptyOutDir: false,
      modulePreload: { polyfill: false },
      minify: true,
      reportCompressedSize: false,
    },
  });
  const files = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output);
  const index = (f) => f.fileName === 'index.html';
  const tmp = `.tmp-${process.pid}-${Date.now()}`;
  const current = new Set(files.map((f) => f.fileName));
  for (const f of files.sort((a, b) => Number(index(a)) - Number(index(b)))) {
    const path = join(DASHBOARD_DIR, f.fileName);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path + tmp, f.type === 'chunk' ? f.code : f.source);
    renameSync(path + tmp, path);
  }
  const assets = join(DASHBOARD_DIR, 'assets');
  const now = Date.now();
  for (const name of existsSync(assets) ? readdirSync(assets) : []) {
    const p = join(assets, name);
    if (!current.has(`assets/${name}`) && now - statSync(p, { throwIfNoEntry: false })?.mtimeMs > oldAfter(clean))
      rmSync(p, { force: true });
  }
}

/**
 * The CLI bundle's path. In a checkout (src/ is there) it is built first when missing or older than
 * a source file: one stat per source file, a few milliseconds. An installed package (no src/) and a
 * production start (NODE_ENV=production or READNEXT_NO_REBUILD=1) skip that walk and run what was
 * built at install.
 */
export async function ensureBuilt({ env = process.env } = {}) {
  const check = existsSync(SRC) && env.READNEXT_NO_REBUILD !== '1' && env.NODE_ENV !== 'production';
  if (!check) {
    if (!existsSync(CLI_BUNDLE)) throw new Error(`readnext: ${CLI_BUNDLE} is missing: run \`npm run build\``);
    return CLI_BUNDLE;
  }
  const newest = newestSource();
  const bundles = stale(CLI_BUNDLE, newest) || stale(SDK_BUNDLE, newest);
  const dashboard = stale(DASHBOARD_INDEX, newest);
  if (bundles && dashboard) await build();
  else if (bundles) await buildBundles();
  else if (dashboard) await buildDashboard();
  return CLI_BUNDLE;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await build({ clean: process.argv.includes('--clean') });
}
