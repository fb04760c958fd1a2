import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The lint enforces docs/ARCHITECTURE.md; these cases prove each boundary rule fires (and that
// allowed imports pass), by linting snippets as if they lived at the given paths.
const eslint = new ESLint();

async function messages(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('dependency direction (core <- app <- adapters <- main)', () => {
  it.each([
    ['src/core/x/bad.ts', "import { x } from '../../app/ports.js'; export { x };", /core imports no app/],
    ['src/core/x/bad.ts', "import { x } from '../../adapters/storage/open.js'; export { x };", /core imports no app/],
    ['src/core/x/bad.ts', "import { readFileSync } from 'node:fs'; export { readFileSync };", /core is pure/],
    ['src/core/x/bad.ts', "import pg from 'pg'; export { pg };", /core is pure/],
    ['src/core/x/bad.ts', 'export const t = Date.now();', /Clock/],
    ['src/core/x/bad.ts', 'export const t = new Date();', /Clock/],
    ['src/core/x/bad.ts', 'export const r = Math.random();', /Rng/],
    ['src/app/bad.ts', "import { x } from '../adapters/storage/open.js'; export { x };", /app imports no adapter/],
    ['src/app/bad.ts', "import { x } from '../config/config.js'; export { x };", /app imports no adapter, config/],
    ['src/adapters/http/bad.ts', "import { x } from '../storage/open.js'; export { x };", /adapters do not import each other/],
    ['src/adapters/cli/bad.ts', "import { x } from '../http/app.js'; export { x };", /adapters do not import each other/],
    ['src/adapters/storage/bad.ts', "import { x } from '../../main/services.js'; export { x };", /adapters do not import each other, config or main/],
    ['src/app/bad.ts', 'export const e = process.env.X;', /Only src\/config reads the environment/],
  ])('%s: %s is refused', async (path, code, want) => {
    expect((await messages(path, code)).join('\n')).toMatch(want);
  });

  it.each([
    ['src/app/ok.ts', "import { DomainError } from '../core/kernel/errors.js'; export { DomainError };"],
    ['src/adapters/http/ok.ts', "import type { EventStore } from '../../app/ports.js'; export type { EventStore };"],
    ['src/main/ok.ts', "import { openStorage } from '../adapters/storage/open.js'; export { openStorage };"],
    ['src/config/ok.ts', 'export const e = process.env.X;'],
  ])('%s: allowed', async (path, code) => {
    expect(await messages(path, code)).toEqual([]);
  });
});
