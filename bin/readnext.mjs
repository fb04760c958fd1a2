#!/usr/bin/env -S node --max-semi-space-size=64
// The `readnext` command runs compiled JavaScript (dist/main/cli.mjs), bundled from src/ by
// scripts/build.mjs at install and again here whenever a source file is newer than the bundle.
// The shebang's V8 flags are the server's (src/main/node-flags.ts).
import { ensureBuilt } from '../scripts/build.mjs';

const { pathToFileURL } = await import('node:url');
await import(pathToFileURL(await ensureBuilt()).href);
