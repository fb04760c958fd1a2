#!/usr/bin/env -S node --max-semi-space-size=64 --heap-growing-percent=100
// The `readnext` command runs compiled JavaScript (dist/main/cli.mjs and the chunks its commands
// import on demand), bundled from src/ by scripts/build.mjs at install and, in a checkout, again
// here whenever a source file is newer than the bundle (skipped with no src/, NODE_ENV=production
// or READNEXT_NO_REBUILD=1). The shebang's V8 flags are the server's (src/main/node-flags.ts).
import { ensureBuilt } from '../scripts/build.mjs';

const { pathToFileURL } = await import('node:url');
let entry;
try {
  entry = await ensureBuilt();
} catch (e) {
  // No bundle and no sources to build it from, or a build error: one line, exit code 3 (a failure).
  process.stderr.write(`${e.message}\n`);
  process.exit(3);
}
await import(pathToFileURL(entry).href);
