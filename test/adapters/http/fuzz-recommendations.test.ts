/**
 * Fuzzing GET /v1/recommendations (issue 22 item 4): 10,000+ generated query strings (placement,
 * article, reader, session, k, optout with random values, types, lengths and encodings; repeated,
 * unknown and missing parameters; broken percent-escapes) through Fastify's inject, on SQLite in
 * memory, against placements that serve live, shadow, exploration, an A/B and an interleaving
 * experiment. Properties:
 * 1. never a 5xx, and the app still answers afterwards;
 * 2. a 4xx carries a stable code naming the field;
 * 3. a 200 is a slate of at most k (default 10, at most 100) items, positions 1..n, ids unique.
 * The seed is printed; FUZZ_SEED=N runs another sample.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { read, T0 } from '../../helpers/events.js';
import { anyString, cleanText, expectClientError, fuzzRuns, fuzzSeed, Tally } from '../../helpers/fuzz.js';

const SEED = fuzzSeed();
const RUNS = fuzzRuns(10_000);
const HOUR = 3_600_000;

const ARTICLES = ['w1', 'w2', 'w3', 's1', 's2', 'é-1', '𝕏/2', "o'neil", 'a b', '%41'];
const PLACEMENTS = ['read-next', 'fz-shadow', 'fz-ab', 'fz-il'];

let t: TestApp;
const call = (method: 'POST' | 'PUT', url: string, payload: object) => t.app.inject({ method, url, headers: admin, payload });
beforeAll(async () => {
  t = await testApp();
  const sections = ['world', 'sport', 'culture'];
  const articles = ARTICLES.map((id, i) => ({
    id,
    title: `Title ${id}`,
    url: `https://news.example/${encodeURIComponent(id)}`,
    section: sections[i % 3],
    publishedAt: new Date(T0 - (i + 1) * HOUR).toISOString(),
  }));
  const setup = [
    await call('POST', '/v1/admin/articles', { articles }),
    await call('PUT', '/v1/admin/deployments/fz-shadow', {
      live: { kind: 'latest', version: '1' },
      shadows: [{ kind: 'popular', version: '1' }],
      exploration: { share: 0.2, pool: 5 },
    }),
    await call('PUT', '/v1/admin/deployments/fz-ab', { live: { kind: 'latest', version: '1' } }),
    await call('POST', '/v1/admin/experiments', {
      id: 'fz-ab-1',
      placement: 'fz-ab',
      layer: 'ab',
      arms: [
        { name: 'control', recommender: { kind: 'none', version: '1' }, weight: 0.5 },
        { name: 'treatment', recommender: { kind: 'co-read', version: '1' }, weight: 0.5 },
      ],
    }),
    await call('POST', '/v1/admin/experiments/fz-ab-1/start', {}),
    await call('PUT', '/v1/admin/deployments/fz-il', { live: { kind: 'latest', version: '1' }, fallbacks: [] }),
    await call('POST', '/v1/admin/experiments', {
      id: 'fz-il-1',
      placement: 'fz-il',
      kind: 'interleaving',
      layer: 'il',
      arms: [
        { name: 'section', recommender: { kind: 'latest', version: 's', params: { sameSection: true } } },
        { name: 'global', recommender: { kind: 'latest', version: 'g' } },
      ],
    }),
    await call('POST', '/v1/admin/experiments/fz-il-1/start', {}),
    // Some reading history, so co-read and popular have signals.
    await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: {
        events: ARTICLES.flatMap((a, i) => [
          read(T0, { articleId: a, readerId: `hist-${i % 3}` }),
          read(T0, { articleId: ARTICLES[(i + 1) % ARTICLES.length], readerId: `hist-${i % 3}` }),
        ]),
      },
    }),
  ];
  for (const res of setup) expect(res.statusCode, res.body).toBeLessThan(300);
});
afterAll(async () => t.close());

// ---- generators

/**
 * Percent-encodes any JS string, lone surrogates included (as the 3-byte sequence that is not
 * UTF-8, which encodeURIComponent refuses to write): the server must refuse it with a 400.
 */
function encode(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff)
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    else out += encodeURIComponent(ch);
  }
  return out;
}

const KEYS = ['placement', 'article', 'reader', 'session', 'k', 'optout'] as const;
const value: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: anyString(300).map(encode) },
  { weight: 2, arbitrary: fc.constantFrom(...PLACEMENTS, ...ARTICLES).map(encode) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.integer({ min: -5, max: 120 }).map(String),
      fc.constantFrom(
        '0',
        '1',
        '10',
        '100',
        '101',
        '1.5',
        '1e2',
        '1e400',
        '-0',
        '+3',
        ' 3',
        '3 ',
        '0x10',
        'NaN',
        'Infinity',
        '9'.repeat(30),
      ),
      fc.constantFrom('0', '1', 'true', 'false', 'yes', 'TRUE', ''),
    ),
  },
  // raw text, unencoded or with broken escapes
  { weight: 1, arbitrary: fc.constantFrom('%', '%Z', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%00', '+', 'a&b', '=', '#frag', '[]', 'a[b]=c') },
);
const key: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('K', 'placement[]', 'k[0]', 'dnt', '__proto__', 'constructor', '', 'reader%00', 'pl%61cement') },
  { weight: 1, arbitrary: anyString(20).map(encode) },
);

interface Query {
  pairs: [string, string][];
  dnt: boolean;
}
/** A query the route should serve (or refuse only for an unknown placement): every field valid. */
const validPairs: fc.Arbitrary<[string, string][]> = fc
  .tuple(
    fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...PLACEMENTS) }, { weight: 1, arbitrary: cleanText(64) }),
    fc.record(
      {
        article: fc.oneof(fc.constantFrom(...ARTICLES), cleanText(256)),
        reader: cleanText(128),
        session: cleanText(128),
        // a placement's own maximum k (20 by default) is lower than the route's 100
        k: fc.integer({ min: 1, max: 20 }).map(String),
        optout: fc.constantFrom('0', '1', 'true', 'false'),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([placement, rest]) => [
    ['placement', encode(placement)],
    ...Object.entries(rest).map(([k, v]): [string, string] => [k, encode(v)]),
  ]);

const query: fc.Arbitrary<Query> = fc.record({
  pairs: fc.oneof(
    { weight: 5, arbitrary: validPairs },
    // one field added, replaced or repeated with any value
    {
      weight: 3,
      arbitrary: fc
        .tuple(validPairs, fc.tuple(key, value), fc.boolean())
        .map(([pairs, extra, replace]) => (replace ? [...pairs.filter(([k]) => k !== extra[0]), extra] : [...pairs, extra])),
    },
    // anything: any keys, repeated or missing, any values
    { weight: 2, arbitrary: fc.array(fc.tuple(key, value), { maxLength: 8 }) },
  ),
  dnt: fc.boolean(),
});

/** The k a 200 may have honoured: the last valid integer given, else the default (10). */
const MAX_K = 100;

// ---- the run

const tally = new Tally('GET /v1/recommendations');
let served = 0;
let itemsServed = 0;

describe('fuzzing GET /v1/recommendations', () => {
  it(`${RUNS} generated query strings: no 5xx, coded 4xx naming the field, well-formed slates`, { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const qs = q.pairs.map(([k, v]) => `${k}=${v}`).join('&');
        const url = `/v1/recommendations?${qs}`;
        const res = await t.app.inject({ method: 'GET', url, headers: q.dnt ? { dnt: '1' } : {} });
        if (res.statusCode !== 200) {
          tally.count(res.statusCode, expectClientError(res, url));
          return;
        }
        tally.count(200);
        const body = res.json() as { recommId: string; items: { articleId: string; position: number }[] };
        expect(typeof body.recommId, url).toBe('string');
        const ks = q.pairs.filter(([k]) => k === 'k').map(([, v]) => v);
        const limit = ks.length === 1 && /^\d+$/.test(ks[0]!) ? Number(ks[0]) : MAX_K;
        expect(body.items.length, url).toBeLessThanOrEqual(Math.min(limit, MAX_K));
        expect(
          body.items.map((i) => i.position),
          url,
        ).toEqual(body.items.map((_, i) => i + 1));
        expect(new Set(body.items.map((i) => i.articleId)).size, url).toBe(body.items.length);
        served++;
        itemsServed += body.items.length;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Shadows and serve records are written after the responses: they must not fail either.
    await t.services.recordWriter.flush();
    expect((await t.app.inject('/healthz')).statusCode).toBe(200);
    tally.report(SEED, { 'slates served': served, 'items served': itemsServed });
    expect(tally.serverErrors).toBe(0);
    expect(tally.tried).toBeGreaterThanOrEqual(RUNS);
  });
});

describe('found by the fuzzer', () => {
  it('an unknown parameter with an empty name is named "" (it was field null, message "unknown field \\"null\\"")', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&=x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'unknown_field', message: 'unknown field ""', field: '' });
    const body = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/deployments/read-next/live',
      headers: admin,
      payload: { recommender: { kind: 'latest', version: '1' }, '': 1 },
    });
    expect(body.json().error).toMatchObject({ code: 'unknown_field', field: '' });
  });
});
