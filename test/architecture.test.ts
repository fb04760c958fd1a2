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
    [
      'src/adapters/storage/bad.ts',
      "import { x } from '../../main/services.js'; export { x };",
      /adapters do not import each other, config or main/,
    ],
    ['src/app/bad.ts', 'export const e = process.env.X;', /Only src\/config reads the environment/],
  ])('%s: %s is refused', async (path, code, want) => {
    expect((await messages(path, code)).join('\n')).toMatch(want);
  });

  it.each([
    ['src/adapters/http/ok.ts', "import type { ErrorBody } from '../../api/types.js'; export type { ErrorBody };"],
    [
      'src/adapters/web/sdk/ok.ts',
      "import type { RecommendationResponse } from '../../../api/types.js'; export type { RecommendationResponse };",
    ],
    ['src/main/ok.ts', "import type { ErrorBody } from '../api/types.js'; export type { ErrorBody };"],
    ['src/api/ok.ts', 'export interface A { a: string } export type B = A | null;'],
  ])('%s: may import or declare the API types', async (path, code) => {
    expect(await messages(path, code)).toEqual([]);
  });
});

// Issue 15, item 5: the gaps a review found. Each rule is shown to fire on a snippet.
describe('core reaches no clock, randomness or scheduler but its parameters', () => {
  it.each([
    ['export const t = globalThis.Date.now();', /through globalThis/],
    ['export const t = new globalThis.Date();', /through globalThis/],
    ['export const r = globalThis.Math.random();', /through globalThis/],
    ['export const c = globalThis.crypto.randomUUID();', /through globalThis/],
    ['export const t = performance.now();', /no timers, performance or crypto/],
    ['export const id = crypto.randomUUID();', /no timers, performance or crypto/],
    ['export const b = crypto.getRandomValues(new Uint8Array(4));', /no timers, performance or crypto/],
    ['setTimeout(() => undefined, 10);', /no timers, performance or crypto/],
    ['export const i = setInterval(() => undefined, 10);', /no timers, performance or crypto/],
    ['setImmediate(() => undefined);', /no timers, performance or crypto/],
    ['queueMicrotask(() => undefined);', /no timers, performance or crypto/],
    ["export const p = fetch('https://x.example');", /core is pure: no I\/O/],
    [
      "import type { ErrorBody } from '../../api/types.js'; export type { ErrorBody };",
      /core imports no app, adapter, config, api or main/,
    ],
  ])('src/core: %s is refused', async (code, want) => {
    expect((await messages('src/core/x/bad.ts', code)).join('\n')).toMatch(want);
  });

  it('allows pure uses of the same names: dates from values, and a clock or scheduler passed in', async () => {
    const code = [
      'export const d = new Date(0).toISOString();',
      'export const u = Date.UTC(2026, 0, 1);',
      'export function later(setTimeout: (f: () => void) => void, clock: { now(): number }): number { setTimeout(() => undefined); return clock.now(); }',
      'export const performanceBudgetMs = 5;',
    ].join('\n');
    expect(await messages('src/core/x/ok.ts', code)).toEqual([]);
  });
});

describe('app does I/O only through its ports', () => {
  it.each([
    ["import { Kysely } from 'kysely'; export { Kysely };"],
    ["import Fastify from 'fastify'; export { Fastify };"],
    ["import cors from '@fastify/cors'; export { cors };"],
    ["import pg from 'pg'; export { pg };"],
    ["import Database from 'better-sqlite3'; export { Database };"],
    ["import { Command } from 'commander'; export { Command };"],
    ["import { readFileSync } from 'node:fs'; export { readFileSync };"],
    ["import { readFile } from 'node:fs/promises'; export { readFile };"],
    ["import { readFileSync } from 'fs'; export { readFileSync };"],
    ["import { readFile } from 'fs/promises'; export { readFile };"],
  ])('src/app: %s is refused', async (code) => {
    expect((await messages('src/app/bad.ts', code)).join('\n')).toMatch(/app does I\/O only through its ports/);
  });

  it('refuses the API wire types (adapters map to them)', async () => {
    expect(
      (await messages('src/app/bad.ts', "import type { ErrorBody } from '../api/types.js'; export type { ErrorBody };")).join('\n'),
    ).toMatch(/app imports no adapter, config, api/);
  });

  it('allows its ports, core, and scheduling (app orders I/O)', async () => {
    const code =
      "import type { EventStore } from './ports.js';\nimport { DomainError } from '../core/kernel/errors.js';\nexport type { EventStore };\nexport { DomainError };\nexport const t = setTimeout(() => undefined, 10);";
    expect(await messages('src/app/ok.ts', code)).toEqual([]);
  });
});

describe('the API types and the browser SDK', () => {
  it.each([
    ['src/api/bad.ts', 'export const VERSION = 1;', /types only/],
    ['src/api/bad.ts', 'export function f(): number { return 1; }', /types only/],
    ['src/api/bad.ts', 'export enum E { A }', /types only/],
    ['src/api/bad.ts', "import type { ErrorCode } from '../core/kernel/errors.js'; export type { ErrorCode };", /api imports nothing/],
    ['src/api/bad.ts', "import type { FastifyReply } from 'fastify'; export type { FastifyReply };", /api imports nothing/],
    ['src/adapters/web/sdk/bad.ts', "import { readFileSync } from 'node:fs'; export { readFileSync };", /no packages or Node modules/],
    ['src/adapters/web/sdk/bad.ts', "import { Ajv } from 'ajv'; export { Ajv };", /no packages or Node modules/],
    [
      'src/adapters/web/sdk/bad.ts',
      "import { DomainError } from '../../../core/kernel/errors.js'; export { DomainError };",
      /imports only src\/api types/,
    ],
    ['src/adapters/web/sdk/bad.ts', 'export const v = process.version;', /no Node globals/],
    ['src/adapters/web/sdk/bad.ts', "export const b = Buffer.from('x');", /no Node globals/],
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
