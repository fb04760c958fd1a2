import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../core/kernel/clock.js';

/**
 * What every entry point reads of its process, cheap to load: the `readnext` command imports this
 * and not services.ts, so `--help` loads no driver or framework (docs/adr/0003-compiled-entry-point.md).
 */
export const systemClock: Clock = { now: () => Date.now() };

/** package.json's version. Paths are relative to src/main/ and, bundled, to dist/main/: the same depth. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/** The browser SDK that scripts/build.mjs writes (dist/sdk.js); the server only serves it. */
export const SDK_FILE: string = fileURLToPath(new URL('../../dist/sdk.js', import.meta.url));
