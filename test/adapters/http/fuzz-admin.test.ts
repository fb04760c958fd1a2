/**
 * Fuzzing the admin API (issue 22 item 4): 10,000+ generated requests with the admin key to the
 * routes that take a body (src/adapters/http/routes/deployments.ts and admin.ts): deployments
 * (PUT, live, shadows, canary, exploration, rollback, DELETE with a reason), experiments (create,
 * change, start, stop), ROI (analyse, update) and the catalog (upsert). Bodies are shaped like the
 * route's document with random mutations (a value replaced, a key removed or added, deep nesting),
 * or arbitrary JSON, or bytes that are not JSON, on SQLite in memory. Properties:
 * 1. never a 5xx, and the app still answers afterwards;
 * 2. a 4xx carries a stable code naming the field (or a code about the whole request).
 * The seed is printed; FUZZ_SEED=N runs another sample.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { T0 } from '../../helpers/events.js';
import {
  anyJson,
  anyString,
  byKey,
  cleanText,
  deeplyNested,
  deeplyNestedJson,
  deepMarker,
  expandDeep,
  expectClientError,
  fuzzRuns,
  fuzzSeed,
  Tally,
} from '../../helpers/fuzz.js';

const SEED = fuzzSeed();
const RUNS = fuzzRuns(10_000);

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  const articles = ['a1', 'a2', 'a3', 'b1'].map((id, i) => ({
    id,
    title: `Title ${id}`,
    section: i < 3 ? 'world' : 'sport',
    publishedAt: new Date(T0 - (i + 1) * 3_600_000).toISOString(),
  }));
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } });
  expect(res.statusCode, res.body).toBe(200);
  for (const p of ['fz-a', 'fz-b']) {
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/deployments/${p}`,
      headers: admin,
      payload: { live: { kind: 'latest', version: '1' } },
    });
    expect(put.statusCode, put.body).toBe(200);
  }
});
afterAll(async () => t.close());

// ---- generators of plausible bodies

const PLACEMENTS = ['fz-a', 'fz-b', 'read-next'];
const EXPERIMENTS = Array.from({ length: 12 }, (_, i) => `fz-x${i}`);
const slug = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${max - 1}}$`));
const METRICS = ['articles_read', 'ctr', 'conversion', 'dwell_per_read', 'revenue_per_reader', 'pages_per_session'];

// Generated documents are valid as far as each route's rules go (most are accepted); the
// mutations and the arbitrary bodies below make the invalid ones.
const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const recommender = fc.constantFrom('none', 'latest', 'popular', 'same-section', 'co-read').chain(
  byKey((kind) =>
    fc.record(
      {
        kind: fc.constant(kind),
        version: fc.oneof(fc.constantFrom('1', '2', 'x'), cleanText(64)),
        params:
          kind === 'latest'
            ? fc.record({ sameSection: fc.boolean() })
            : kind === 'popular'
              ? fc.record(
                  { halfLifeMinutes: fc.integer({ min: 1, max: 10_080 }), readWeight: fc.integer({ min: 0, max: 100 }) },
                  { requiredKeys: [] },
                )
              : fc.constant({}),
      },
      { requiredKeys: ['kind', 'version'] },
    ),
  ),
);
const reason = cleanText(120, 0);
const guardrails = fc.record({
  maxErrorRate: fraction,
  maxP99LatencyMs: fc.integer({ min: 1, max: 1000 }),
  minCtrRatio: fraction,
  minImpressions: fc.integer({ min: 0, max: 1000 }),
  minResponses: fc.integer({ min: 0, max: 1000 }),
});
const exploration = fc.oneof(
  fc.constant(null),
  fc.record({ share: fc.double({ min: 0.01, max: 0.5, noNaN: true }), pool: fc.integer({ min: 5, max: 20 }) }),
);
const deployment = fc.record(
  {
    live: recommender,
    fallbacks: fc.array(recommender, { maxLength: 2 }),
    shadows: fc.array(recommender, { maxLength: 2 }),
    defaultK: fc.integer({ min: 1, max: 10 }),
    maxK: fc.integer({ min: 10, max: 20 }),
    ttlHours: fc.integer({ min: 1, max: 200 }),
    maxPerSection: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
    pins: fc.array(fc.record({ slot: fc.integer({ min: 1, max: 5 }), articleId: fc.constantFrom('a1', 'b1') }), { maxLength: 1 }),
    blocked: fc.array(fc.constantFrom('a2', 'a3'), { maxLength: 2 }),
    exploration,
    reason,
  },
  { requiredKeys: ['live'] },
);
const armNames = fc.uniqueArray(fc.oneof(fc.constantFrom('control', 'treatment', 'c'), slug(64)), { minLength: 2, maxLength: 3 });
const experiment = fc
  .tuple(
    armNames,
    fc.array(recommender, { minLength: 3, maxLength: 3 }),
    fc.record(
      {
        id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...EXPERIMENTS) }, { weight: 1, arbitrary: slug(128) }),
        placement: fc.constantFrom(...PLACEMENTS),
        kind: fc.constantFrom('ab', 'interleaving'),
        layer: cleanText(40),
        coverage: fc.double({ min: 0.1, max: 1, noNaN: true }),
        primaryMetric: fc.constantFrom(...METRICS),
        description: cleanText(200, 0),
        reason,
      },
      { requiredKeys: ['id', 'placement', 'layer'] },
    ),
  )
  .map(([names, recs, e]) => ({
    ...e,
    arms: (e.kind === 'interleaving' ? names.slice(0, 2) : names).map((name, i) => ({ name, recommender: recs[i] })),
  }));
const change = fc.record(
  { weights: fc.array(fc.double({ min: 0.1, max: 1, noNaN: true }), { minLength: 2, maxLength: 2 }), reRandomise: fc.boolean(), reason },
  { requiredKeys: [] },
);
const distribution = fc.oneof(
  fc.record({ dist: fc.constant('normal'), mean: fc.integer({ min: -10, max: 10 }), sd: fc.double({ min: 0.1, max: 5, noNaN: true }) }),
  fc.record({ dist: fc.constant('lognormal'), p5: fc.constant(0.5), p95: fc.constantFrom(2, 3) }),
  fc.record({ dist: fc.constant('beta'), alpha: fc.constantFrom(1, 2), beta: fc.constantFrom(1, 5) }),
  fc.record({ dist: fc.constantFrom('triangular', 'pert'), min: fc.constant(0), mode: fc.constant(1), max: fc.constant(2) }),
  fc.record({ dist: fc.constant('uniform'), min: fc.constant(-1), max: fc.constantFrom(1, 10) }),
  fc.record({ dist: fc.constant('discrete'), values: fc.constant([1, 2]), probs: fc.constant([0.25, 0.75]) }),
  fc.record({ dist: fc.constant('constant'), value: fc.integer({ min: -5, max: 5 }) }),
);
const expression = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.constantFrom('0', 'p1', 'p1 - p2', 'p1 * 1000 - p3', 'p1 / (1 + p2 * p2)', 'max(p1, p2)', 'sqrt(p3 * p3)', '(((p1)))'),
  },
  // long sums, deep parentheses and unary chains
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(100, 300, 50_000), fc.constantFrom('sum', 'parens', 'unary'))
      .map(([n, shape]) =>
        shape === 'sum'
          ? Array(n).fill('p1').join(' + ')
          : shape === 'parens'
            ? `${'('.repeat(n)}p1${')'.repeat(n)}`
            : `${'-'.repeat(n)}p1`,
      ),
  },
);
const roiDoc = fc.record(
  {
    // small samples keep a valid document fast; the limits are fuzzed by the mutations
    samples: fc.constantFrom(1_000, 1_200),
    seed: fc.integer({ min: 0, max: 1_000 }),
    horizon_months: fc.integer({ min: 1, max: 60 }),
    discount_rate: fc.double({ min: 0, max: 0.2, noNaN: true }),
    parameters: fc.record({ p1: distribution, p2: distribution, p3: distribution }),
    correlations: fc.array(fc.record({ between: fc.constant(['p1', 'p2']), rho: fc.double({ min: -0.9, max: 0.9, noNaN: true }) }), {
      maxLength: 1,
    }),
    options: fc.dictionary(fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/)), expression, {
      minKeys: 2,
      maxKeys: 3,
    }),
    description: cleanText(100, 0),
  },
  { requiredKeys: ['samples', 'parameters', 'options'] },
);
const articleBody = fc.record(
  {
    id: fc.oneof(fc.constantFrom('a1', 'n1'), cleanText(200)),
    title: cleanText(200),
    url: fc.constant('https://news.example/x'),
    section: cleanText(30),
    publishedAt: fc.integer({ min: -100, max: 0 }).map((h) => new Date(T0 + h * 3_600_000).toISOString()),
    tags: fc.array(cleanText(20), { maxLength: 3 }),
    paywalled: fc.boolean(),
  },
  { requiredKeys: ['id', 'title'] },
);

// ---- mutations of a JSON value at a random place

type Json = unknown;
/** Replaces, removes or adds one value somewhere in `v` (a copy), walking down by `path` choices. */
function mutate(v: Json, path: number[], op: 'replace' | 'remove' | 'add', replacement: Json, key: string): Json {
  if (v === null || typeof v !== 'object') return replacement;
  const copy: Record<string, Json> | Json[] = Array.isArray(v) ? [...v] : { ...(v as Record<string, Json>) };
  const keys = Object.keys(copy);
  if (keys.length === 0 || path.length === 0) {
    if (op === 'add' || keys.length === 0) (copy as Record<string, Json>)[key] = replacement;
    else if (op === 'remove') delete (copy as Record<string, Json>)[keys[0]!];
    else (copy as Record<string, Json>)[keys[0]!] = replacement;
    return copy;
  }
  const k = keys[path[0]! % keys.length]!;
  const child = (copy as Record<string, Json>)[k];
  if (path.length === 1 || child === null || typeof child !== 'object') {
    if (op === 'remove') delete (copy as Record<string, Json>)[k];
    else if (op === 'add') (copy as Record<string, Json>)[key] = replacement;
    else (copy as Record<string, Json>)[k] = replacement;
    return copy;
  }
  (copy as Record<string, Json>)[k] = mutate(child, path.slice(1), op, replacement, key);
  return copy;
}

const mutation = fc.record({
  path: fc.array(fc.nat(20), { maxLength: 4 }),
  op: fc.constantFrom('replace', 'remove', 'add') as fc.Arbitrary<'replace' | 'remove' | 'add'>,
  replacement: fc.oneof(
    { weight: 8, arbitrary: anyJson(3) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 10, max: 2_000 }), fc.boolean()).map(([d, o]) => deeplyNested(d, o)) },
    // deeper than JSON.stringify goes: written into the request's text (expandDeep)
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 5_000, max: 20_000 }), fc.boolean()).map(([d, o]) => deepMarker(d, o)) },
  ),
  key: anyString(16),
});

// ---- requests

interface Route {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: (placement: string, id: string) => string;
  body: fc.Arbitrary<Json>;
}
const ROUTES: Record<string, Route> = {
  'PUT deployment': { method: 'PUT', url: (p) => `/v1/admin/deployments/${p}`, body: deployment },
  'POST live': {
    method: 'POST',
    url: (p) => `/v1/admin/deployments/${p}/live`,
    body: fc.record({ recommender, reason }, { requiredKeys: ['recommender'] }),
  },
  'POST shadow': {
    method: 'POST',
    url: (p) => `/v1/admin/deployments/${p}/shadows`,
    body: fc.record({ recommender, reason }, { requiredKeys: ['recommender'] }),
  },
  'DELETE shadow': {
    method: 'DELETE',
    url: (p, id) => `/v1/admin/deployments/${p}/shadows/${id}/1`,
    body: fc.record({ reason }, { requiredKeys: [] }),
  },
  'POST canary': {
    method: 'POST',
    url: (p) => `/v1/admin/deployments/${p}/canary`,
    body: fc.record(
      { recommender, percent: fc.double({ min: 0.5, max: 50, noNaN: true }), guardrails, reason },
      { requiredKeys: ['recommender', 'percent', 'guardrails'] },
    ),
  },
  'DELETE canary': { method: 'DELETE', url: (p) => `/v1/admin/deployments/${p}/canary`, body: fc.record({ reason }, { requiredKeys: [] }) },
  'PUT exploration': {
    method: 'PUT',
    url: (p) => `/v1/admin/deployments/${p}/exploration`,
    body: fc.record({ exploration, reason }, { requiredKeys: ['exploration'] }),
  },
  'POST rollback': {
    method: 'POST',
    url: (p) => `/v1/admin/deployments/${p}/rollback`,
    body: fc.record({ to: fc.integer({ min: 1, max: 5 }), reason }, { requiredKeys: [] }),
  },
  'POST experiment': { method: 'POST', url: () => '/v1/admin/experiments', body: experiment },
  'PATCH experiment': { method: 'PATCH', url: (_p, id) => `/v1/admin/experiments/${id}`, body: change },
  'POST experiment start': {
    method: 'POST',
    url: (_p, id) => `/v1/admin/experiments/${id}/start`,
    body: fc.record({ reason }, { requiredKeys: [] }),
  },
  'POST experiment stop': {
    method: 'POST',
    url: (_p, id) => `/v1/admin/experiments/${id}/stop`,
    body: fc.record({ reason }, { requiredKeys: [] }),
  },
  'POST roi': { method: 'POST', url: () => '/v1/admin/roi', body: roiDoc },
  'POST roi update': { method: 'POST', url: (_p, id) => `/v1/admin/roi/update?name=${id}`, body: roiDoc },
  'POST articles': {
    method: 'POST',
    url: () => '/v1/admin/articles',
    body: fc.record({ articles: fc.array(articleBody, { minLength: 1, maxLength: 3 }) }),
  },
  'PUT article': {
    method: 'PUT',
    url: (_p, id) => `/v1/admin/articles/${id}`,
    body: articleBody.map(({ id: _id, ...rest }) => rest),
  },
};
const ROUTE_NAMES = Object.keys(ROUTES);

/** Percent-encodes a path segment (lone surrogates as their invalid 3-byte sequence). */
function segment(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out +=
      c >= 0xd800 && c <= 0xdfff
        ? [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
        : encodeURIComponent(ch);
  }
  return out;
}

type Body = { kind: 'json'; value: Json } | { kind: 'text'; text: string; contentType: string };
interface Request {
  route: string;
  placement: string;
  id: string;
  body: Body;
  ifMatch: string | null;
  actor: string | null;
  /** The admin key (nearly always), none, or a wrong one: the last two must be 401. */
  key: 'admin' | 'none' | 'wrong';
}

const request: fc.Arbitrary<Request> = fc.constantFrom(...ROUTE_NAMES).chain(
  byKey((route) =>
    fc.record({
      route: fc.constant(route),
      placement: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...PLACEMENTS) }, { weight: 1, arbitrary: anyString(80) }).map(segment),
      id: fc
        .oneof(
          { weight: 6, arbitrary: fc.constantFrom(...EXPERIMENTS, 'a1', 'latest', 'popular') },
          { weight: 1, arbitrary: anyString(150) },
        )
        .map(segment),
      body: fc.oneof(
        // as the route documents it
        { weight: 4, arbitrary: ROUTES[route]!.body.map((value): Body => ({ kind: 'json', value })) },
        // with one to three mutations
        {
          weight: 5,
          arbitrary: fc
            .tuple(ROUTES[route]!.body, fc.array(mutation, { minLength: 1, maxLength: 3 }))
            .map(([v, ms]): Body => ({ kind: 'json', value: ms.reduce((acc, m) => mutate(acc, m.path, m.op, m.replacement, m.key), v) })),
        },
        // anything else
        { weight: 1, arbitrary: anyJson(4).map((value): Body => ({ kind: 'json', value })) },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('text' as const),
            text: fc.oneof(
              fc.string({ maxLength: 100 }),
              fc.constantFrom('', '{', '{"reason": "x"', 'NaN', '{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {}}}'),
              fc
                .tuple(fc.integer({ min: 1_000, max: 100_000 }), fc.boolean())
                .map(([d, o]) => `{"recommender": {"kind": "latest", "version": "1", "params": ${deeplyNestedJson(d, o)}}}`),
            ),
            contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
          }),
        },
      ),
      key: fc.oneof(
        { weight: 38, arbitrary: fc.constant('admin' as const) },
        { weight: 1, arbitrary: fc.constantFrom('none' as const, 'wrong' as const) },
      ),
      ifMatch: fc.option(
        fc.oneof(
          fc.constantFrom('"1"', '0', '"999"', '*', 'W/"1"'),
          anyString(10).filter((s) => /^[\x20-\x7e]*$/.test(s)),
        ),
      ),
      actor: fc.option(anyString(30).filter((s) => /^[\x20-\x7e]*$/.test(s))),
    }),
  ),
);

// ---- the run

const tally = new Tally('admin API (POST/PUT/PATCH/DELETE bodies)');
const perRoute = new Map<string, { tried: number; ok: number }>();

describe('fuzzing the admin API', () => {
  it(`${RUNS} generated requests: no 5xx, coded 4xx naming the field`, { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const route = ROUTES[r.route]!;
        const url = route.url(r.placement, r.id);
        const headers: Record<string, string> =
          r.key === 'admin' ? { ...admin } : r.key === 'wrong' ? { authorization: 'Bearer nope' } : {};
        if (r.ifMatch !== null) headers['if-match'] = r.ifMatch;
        if (r.actor !== null) headers['x-readnext-actor'] = r.actor;
        let payload: string;
        if (r.body.kind === 'json') {
          payload = expandDeep(JSON.stringify(r.body.value) ?? 'null');
          headers['content-type'] = 'application/json';
        } else {
          payload = r.body.text;
          headers['content-type'] = r.body.contentType;
        }
        const res = await t.app.inject({ method: route.method, url, headers, payload });
        const stats = perRoute.get(r.route) ?? { tried: 0, ok: 0 };
        perRoute.set(r.route, stats);
        stats.tried++;
        const what = `${route.method} ${url} ${payload.slice(0, 400)}`;
        if (res.statusCode < 300) {
          tally.count(res.statusCode);
          stats.ok++;
          expect(() => JSON.parse(res.body) as unknown, what).not.toThrow();
          return;
        }
        if (r.key !== 'admin') expect(res.statusCode, what).toBe(401);
        tally.count(res.statusCode, expectClientError(res, what));
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // The canary guard reads what the fuzzed deployments left behind.
    const check = await t.app.inject({ method: 'POST', url: '/v1/admin/canaries/check', headers: admin });
    expect(check.statusCode, check.body).toBe(200);
    expect((await t.app.inject('/healthz')).statusCode).toBe(200);
    tally.report(SEED, Object.fromEntries([...perRoute].sort().map(([name, s]) => [`${name}: tried / 2xx`, `${s.tried} / ${s.ok}`])));
    expect(tally.serverErrors).toBe(0);
    expect(tally.tried).toBeGreaterThanOrEqual(RUNS);
  });
});

describe('found by the fuzzer', () => {
  it('a body that is not an object names the field "body" (it was field null)', async () => {
    const patch = await t.app.inject({
      method: 'PATCH',
      url: '/v1/admin/experiments/fz-x1',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '""',
    });
    expect(patch.statusCode).toBe(400);
    expect(patch.json().error).toMatchObject({ code: 'invalid_field', field: 'body' });
    const live = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/deployments/fz-a/live',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '[1]',
    });
    expect(live.json().error).toMatchObject({ code: 'invalid_field', field: 'body' });
    const article = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/articles/a1',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '0',
    });
    expect(article.statusCode).toBe(400);
    expect(article.json().error).toMatchObject({ code: 'invalid_body', field: 'body' });
  });
});

describe('found by the fuzzer: ROI documents that were 500s', () => {
  const doc = { samples: 1000, parameters: { p1: { dist: 'normal', mean: 1, sd: 1 } }, options: { a: 'p1', b: '0' } };
  const post = (payload: string) =>
    t.app.inject({ method: 'POST', url: '/v1/admin/roi', headers: { ...admin, 'content-type': 'application/json' }, payload });

  it('a value nested too deeply to quote is "an object" in the message (JSON.stringify threw)', async () => {
    const deep = deeplyNestedJson(10_000, true);
    for (const [payload, field] of [
      [`{"samples": ${deep}, "parameters": {"p1": {"dist": "normal", "mean": 1, "sd": 1}}, "options": {"a": "p1"}}`, 'samples'],
      [`{"parameters": {"p1": {"dist": "normal", "mean": ${deep}, "sd": 1}}, "options": {"a": "p1"}}`, 'parameters.p1.mean'],
      [`{"parameters": {"p1": {"dist": "normal", "mean": 1, "sd": 1}}, "options": ${deep}}`, 'options.k'],
    ] as const) {
      const res = await post(payload);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'invalid_field', field });
      expect(res.json().error.message).toContain('got an object');
    }
  });

  it('an expression nested more than 256 levels is refused (a 50,000-term sum overflowed the stack)', async () => {
    const sum = (n: number) => JSON.stringify({ ...doc, options: { a: Array(n).fill('p1').join(' + '), b: '0' } });
    const res = await post(sum(50_000));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_field', field: 'options.a' });
    expect(res.json().error.message).toContain('nested more than 256 levels deep');
    expect((await post(sum(256))).statusCode).toBe(200);
  });
});
