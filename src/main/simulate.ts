import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimulateDeps } from '../adapters/cli/simulate.js';

/**
 * The shipped worlds (worlds/*.json at the package root). Paths are relative to src/main/ and,
 * bundled, to dist/main/: the same depth (as runtime.ts's).
 */
const WORLDS_DIR = fileURLToPath(new URL('../../worlds/', import.meta.url));

function shippedWorlds(): string[] {
  try {
    return readdirSync(WORLDS_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Wires `readnext simulate` to the platform: in process over the app services or over HTTP
 * (sim-target.ts, imported when the command runs, so `--help` loads no driver or framework).
 */
export function simulateDeps(io: { out: (l: string) => void; err: (l: string) => void; isTty: boolean; now(): number }): SimulateDeps {
  return {
    out: io.out,
    err: io.err,
    isTty: io.isTty,
    now: io.now,
    shippedWorld: (name) => (shippedWorlds().includes(name) ? join(WORLDS_DIR, `${name}.json`) : null),
    shippedWorlds,
    async openInProcess(o) {
      // Without `db`: a fresh temporary SQLite file, removed on close.
      return (await import('./sim-target.js')).openInProcessTarget(o);
    },
    async openHttp(o) {
      return (await import('./sim-target.js')).httpTarget(o);
    },
  };
}
