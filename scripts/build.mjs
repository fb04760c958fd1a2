// Builds what production runs: the `readnext` command bundled from src/ (dist/main/cli.mjs, Node ESM,
// npm packages left as imports) and the browser SDK (dist/sdk.js, a minified IIFE). esbuild does
// both in a fraction of a second; `npm install` runs this (the `prepare` script) and bin/readnext.mjs
// runs it again whenever a file under src/ is newer than the bundle, so a checkout never runs stale
// code. Why compiled code at all: loading the TypeScript sources through tsx took about 1.2 s of
// every start (docs/adr/0003-compiled-entry-point.md).
//
//   node scripts/build.mjs          build now
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI_BUNDLE = join(ROOT, 'dist', 'main', 'cli.mjs');
export const SDK_BUNDLE = join(ROOT, 'dist', 'sdk.js');
const SRC = join(ROOT, 'src');

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
 * Builds both bundles. Each is written to a temporary name, then renamed: several processes
 * building at once (parallel tests) each leave a whole file, never a half-written one.
 */
export async function build() {
  const { build: esbuild } = await import('esbuild');
  const tmp = `.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(dirname(CLI_BUNDLE), { recursive: true });
  const [cli, sdk] = await Promise.all([
    esbuild({
      entryPoints: [join(SRC, 'main', 'cli.ts')],
      outfile: CLI_BUNDLE,
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
  // The CLI bundle last: its time is what staleness is judged by.
  const files = [...sdk.outputFiles, ...cli.outputFiles].sort((a, b) => Number(a.path === CLI_BUNDLE) - Number(b.path === CLI_BUNDLE));
  for (const f of files) {
    writeFileSync(f.path + tmp, f.contents);
    renameSync(f.path + tmp, f.path);
  }
}

/** The CLI bundle's path, built first when missing or older than a source file. */
export async function ensureBuilt() {
  const newest = newestSource();
  if (stale(CLI_BUNDLE, newest) || stale(SDK_BUNDLE, newest)) await build();
  return CLI_BUNDLE;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await build();
}
