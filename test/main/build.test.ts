import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_BUNDLE, ensureBuilt, SDK_BUNDLE } from '../../scripts/build.mjs';

/** Packages the `readnext` command loads only for the commands that use them, never for `--help`. */
const LAZY = [
  'fastify',
  '@fastify/cors',
  '@fastify/swagger',
  'kysely',
  'pg',
  'pg-cursor',
  'better-sqlite3',
  'pino',
  'ajv',
  'fast-xml-parser',
  'cli-progress',
  'esbuild',
];

/** Every module the entry loads before it runs (static imports, followed through its chunks). */
function staticImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    // esbuild writes static imports at the top level: `import ... from "x";` or `import "x";`.
    for (const m of readFileSync(file, 'utf8').matchAll(/^import\s(?:[^;]*?\sfrom\s)?"([^"]+)";/gms)) {
      const spec = m[1]!;
      if (spec.startsWith('./')) visit(join(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return packages;
}

describe('the compiled entry point (scripts/build.mjs)', () => {
  it('builds a CLI bundle that runs, and the SDK bundle the server serves', async () => {
    // 1. ensureBuilt builds when missing or stale, and is a no-op when fresh.
    const out = await ensureBuilt();
    expect(out).toBe(CLI_BUNDLE);
    const before = statSync(CLI_BUNDLE).mtimeMs;
    await ensureBuilt();
    expect(statSync(CLI_BUNDLE).mtimeMs).toBe(before);
    // 2. The bundle runs without the TypeScript loader.
    const r = spawnSync(process.execPath, [CLI_BUNDLE, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('readnext');
    // 3. The SDK is a minified browser IIFE (test/adapters/web/site.test.ts: the server serves these bytes).
    expect(readFileSync(SDK_BUNDLE, 'utf8')).toMatch(/^"use strict";\(\(\)=>\{/);
  });

  it('loads the server, the drivers and the parsers only in the commands that use them', async () => {
    await ensureBuilt();
    const loaded = staticImports(CLI_BUNDLE);
    expect(loaded).toContain('commander');
    expect([...loaded].filter((p) => LAZY.includes(p))).toEqual([]);
  });

  it('skips the staleness check in production and in an install without sources', async () => {
    // No stat walk: the bundle is returned as it is (and an error names `npm run build` when it is missing).
    await expect(ensureBuilt({ env: { NODE_ENV: 'production' } })).resolves.toBe(CLI_BUNDLE);
    await expect(ensureBuilt({ env: { READNEXT_NO_REBUILD: '1' } })).resolves.toBe(CLI_BUNDLE);
  });
});
