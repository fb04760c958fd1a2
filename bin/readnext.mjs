#!/usr/bin/env -S node --max-semi-space-size=64
// The `readnext` command: runs the TypeScript sources through tsx's loader (no build step). The
// shebang's V8 flags are the server's (src/main/node-flags.ts).
import { register } from 'tsx/esm/api';

register();
await import('../src/main/cli.ts');
