import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSdk } from '../../src/adapters/web/sdk-build.js';
// @ts-expect-error: a plain ESM script without types
import { CLI_BUNDLE, ensureBuilt, SDK_BUNDLE } from '../../scripts/build.mjs';

describe('the compiled entry point (scripts/build.mjs)', () => {
  it('builds a CLI bundle that runs, and an SDK bundle identical to the one built from source', async () => {
    // 1. ensureBuilt builds when missing or stale, and is a no-op when fresh.
    const out = (await ensureBuilt()) as string;
    expect(out).toBe(CLI_BUNDLE);
    const before = statSync(CLI_BUNDLE).mtimeMs;
    await ensureBuilt();
    expect(statSync(CLI_BUNDLE).mtimeMs).toBe(before);
    // 2. The bundle runs without the TypeScript loader.
    const r = spawnSync(process.execPath, [CLI_BUNDLE, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('readnext');
    // 3. The server run from the bundle serves dist/sdk.js: the same bytes as the in-memory build of the sources.
    expect(readFileSync(SDK_BUNDLE as string, 'utf8')).toBe(await buildSdk());
  });
});
