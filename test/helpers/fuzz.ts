/**
 * Shared pieces of the HTTP fuzz suites (test/adapters/http/fuzz-*.test.ts, issue 22 item 4): the
 * seed, nasty values, the error-shape check and the tally each suite prints for the closing note.
 */
import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * The fast-check seed: fixed so that a failure reproduces, or FUZZ_SEED=N to explore another
 * corner (the suites print the seed they used; a failure also prints fast-check's own replay path).
 */
export function fuzzSeed(): number {
  const env = process.env.FUZZ_SEED;
  return env !== undefined && /^-?\d+$/.test(env) ? Number(env) : 20_261_206;
}

/** How many payloads a property generates: `n` by default (the floor), FUZZ_RUNS=N to change it. */
export function fuzzRuns(n: number): number {
  const env = process.env.FUZZ_RUNS;
  return env !== undefined && /^\d+$/.test(env) ? Number(env) : n;
}

/**
 * Codes whose fault is the whole request (its bytes, size, media type, key or URL), not one field:
 * the error shape allows `field: null` for them. Every other 4xx must name the field.
 */
export const WHOLE_REQUEST_CODES: ReadonlySet<string> = new Set([
  'invalid_json',
  'invalid_encoding',
  'body_too_large',
  'unsupported_media_type',
  'bad_request',
  'url_too_long',
  'unauthorized',
]);

/** Strings that trip parsers and validators: number look-alikes, unicode edge cases, SQL and path noise. */
export const NASTY_STRINGS = [
  '',
  ' ',
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-0',
  '0x10',
  '1_000',
  '١٢٣',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'toString',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ufeff',
  '\u202e',
  '👩‍👩‍👧‍👦',
  'é',
  'e\u0301',
  '𝕏',
  "'; DROP TABLE events; --",
  '%00',
  '%ZZ',
  '../../etc/passwd',
  '\r\n',
  '\t',
  '2026-02-30T12:00:00Z',
  '2026-03-01T12:00:00',
  '+275760-09-13T00:00:00Z',
] as const;

/** Any string, nasty ones often: arbitrary code points (NUL and lone surrogates included) and sizes. */
export const anyString = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 6, arbitrary: fc.string({ maxLength }) },
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.constantFrom(129, 257, 2_049, 70_000).map((n) => 'x'.repeat(n)) },
  );

/** Text a valid value may hold: any code point but NUL and lone surrogates, at most `max` code points. */
export const cleanText = (max: number, min = 1): fc.Arbitrary<string> =>
  fc
    .oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: max }),
      fc.string({ unit: 'grapheme', minLength: min, maxLength: max }),
      fc.string({ unit: 'binary', minLength: min, maxLength: max }),
      fc.constantFrom('NaN', 'Infinity', '-0', '__proto__', 'constructor', '👩‍👩‍👧‍👦', "'; DROP TABLE events; --", '\ufeff\u202e'),
    )
    .map((s) => s.replaceAll('\u0000', ''))
    .filter((s) => s.isWellFormed() && [...s].length >= min && [...s].length <= max);

/**
 * A chain's builder, memoized by its key: `fc.x.chain(build)` calls build for every value drawn, and
 * building string arbitraries (their grapheme tables) cost milliseconds each time. Building an
 * arbitrary draws nothing, so the values generated for a seed are the same.
 *
 * @example
 * fc.constantFrom('a', 'b').chain(byKey((k) => fc.record({ k: fc.constant(k), text: cleanText(64) })))
 */
export function byKey<K, T>(build: (key: K) => fc.Arbitrary<T>): (key: K) => fc.Arbitrary<T> {
  const built = new Map<K, fc.Arbitrary<T>>();
  return (key) => {
    let a = built.get(key);
    if (a === undefined) built.set(key, (a = build(key)));
    return a;
  };
}

/** Any JSON value, nasty numbers and strings included. */
export const anyJson = (maxDepth = 3): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth }) },
    { weight: 2, arbitrary: anyString() },
    { weight: 2, arbitrary: fc.constantFrom(0, -1, 1.5, 1e308, -1e308, 5e-324, 2 ** 53, -(2 ** 63), 101, 1e9 + 1) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  );

/** A value nested `depth` times in arrays or objects: deep enough to overflow a recursive walker. */
export function deeplyNested(depth: number, asObject: boolean, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { k: v } : [v];
  return v;
}
/** The same as JSON text, built without recursion (JSON.stringify of a very deep value throws). */
export const deeplyNestedJson = (depth: number, asObject: boolean): string =>
  asObject ? `${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`;

/**
 * A stand-in for a value nested `depth` deep, for documents that go through JSON.stringify (which
 * throws past some thousand levels): expandDeep puts the nested JSON text in its place.
 */
export const deepMarker = (depth: number, asObject: boolean): string => `~deep:${depth}:${asObject ? 1 : 0}~`;
export const expandDeep = (json: string): string =>
  json.replace(/"~deep:(\d+):([01])~"/g, (_m, d: string, o: string) => deeplyNestedJson(Number(d), o === '1'));

/** What a suite saw, printed at its end for the closing note. */
export class Tally {
  tried = 0;
  serverErrors = 0;
  private readonly statuses = new Map<number, number>();
  private readonly codes = new Map<string, number>();
  private readonly eventCodes = new Map<string, number>();

  constructor(readonly family: string) {}

  /** Counts a response; `code` is its error code (or a per-event rejection code), if any. */
  count(status: number, code?: string): void {
    this.tried++;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status >= 500) this.serverErrors++;
    if (code !== undefined) this.countCode(code);
  }

  countCode(code: string): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }

  /** Counts the outcome of one event inside a 200 batch reply (rejected per code, duplicate, conflict). */
  countEvent(outcome: string): void {
    this.eventCodes.set(outcome, (this.eventCodes.get(outcome) ?? 0) + 1);
  }

  get accepted(): number {
    let n = 0;
    for (const [s, c] of this.statuses) if (s < 300) n += c;
    return n;
  }

  report(seed: number, extra: Record<string, number | string> = {}): string {
    const sorted = (m: Map<string | number, number>) =>
      Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [String(k), v]));
    const lines = [
      `[fuzz] ${this.family}: seed ${seed}`,
      `  payloads tried ${this.tried}, 2xx ${this.accepted}, rejected ${this.tried - this.accepted}, 5xx ${this.serverErrors}`,
      `  statuses ${JSON.stringify(sorted(this.statuses))}`,
      `  rejections per code ${JSON.stringify(sorted(this.codes))}`,
      ...(this.eventCodes.size > 0 ? [`  events in 200 replies not stored, per code ${JSON.stringify(sorted(this.eventCodes))}`] : []),
      ...Object.entries(extra).map(([k, v]) => `  ${k} ${v}`),
    ];
    const text = lines.join('\n');
    console.log(text);
    return text;
  }
}

interface Injected {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
}

/**
 * Asserts the one error shape on a 4xx and returns its code: {"error": {code, message, field}},
 * with a field named unless the code is about the whole request. Never a 5xx.
 */
export function expectClientError(res: Injected, what: string): string {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 500)}`).toBeLessThan(500);
  expect(res.statusCode, what).toBeGreaterThanOrEqual(400);
  const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
  const e = body.error;
  expect(e, `${what}: ${res.body.slice(0, 500)}`).toBeDefined();
  expect(typeof e!.code, what).toBe('string');
  expect(typeof e!.message, what).toBe('string');
  if (!WHOLE_REQUEST_CODES.has(e!.code as string)) {
    // A field may be "" when the body has a key "" (the empty JSON pointer names it).
    expect(typeof e!.field, `${what}: a ${String(e!.code)} names no field: ${res.body.slice(0, 500)}`).toBe('string');
  } else {
    expect(e!.field === null || typeof e!.field === 'string', what).toBe(true);
  }
  return e!.code as string;
}
