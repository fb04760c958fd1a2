import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/adapters/http/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { defineKind } from '../../../src/core/recommend/registry.js';
import { appRecommenders } from '../../../src/main/recommenders.js';
import { appDeps, openServices } from '../../../src/main/services.js';
import type { ArticleStore, EventStore } from '../../../src/app/ports.js';
import { ADMIN_KEY, admin, INGEST_KEY, testApp, type TestApp } from '../../helpers/app.js';
import { pageView, read, T0 } from '../../helpers/events.js';

const METRICS_TOKEN = 'test-metrics-token-0123456789';

/** One sample line: `name{label="value",...} value`. */
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,(?=[a-zA-Z_]))?)*\})? (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|Nan|[+-]Inf)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"/g;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format; throws on a line that is neither a comment, a sample nor blank. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample with this name whose labels include `labels`; 0 when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value ?? 0;
}

async function scrape(t: TestApp): Promise<Sample[]> {
  const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(res.body);
}

let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  [a, b] = await Promise.all([testApp({ metricsToken: METRICS_TOKEN }), testApp({ metricsToken: METRICS_TOKEN })]);
  const articles = ['w1', 'w2', 'w3'].map((id, i) => ({
    id,
    title: `Title ${id}`,
    url: `https://news.example/${id}`,
    section: 'world',
    publishedAt: new Date(T0 - (i + 1) * 3_600_000).toISOString(),
  }));
  for (const t of [a, b]) {
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } });
    expect(res.statusCode).toBe(200);
  }
});
afterAll(async () => Promise.all([a.close(), b.close()]));

describe('GET /metrics', () => {
  it('answers in the Prometheus text format: every line a comment or `name{labels} value`', async () => {
    const res = await a.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    const lines = res.body.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(50);
    for (const l of lines) expect(l.startsWith('# HELP ') || l.startsWith('# TYPE ') || SAMPLE.test(l), l).toBe(true);
    const names = new Set(parse(res.body).map((s) => s.name));
    // Process metrics (collectDefaultMetrics) under their standard names, and ours.
    for (const n of [
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
      'readnext_warming_up',
      'readnext_ingest_backlog_events',
    ])
      expect(names).toContain(n);
    expect(res.body).toContain('# TYPE readnext_http_requests_total counter');
    expect(res.body).toContain('# TYPE readnext_http_request_duration_seconds histogram');
  });

  it('counts a recommendation under its route pattern, method and status class, and times it', async () => {
    const before = await scrape(a);
    const route = { route: '/v1/recommendations', method: 'GET', status_class: '2xx' };
    const res = await a.app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=w1&reader=r1&k=2' });
    expect(res.statusCode).toBe(200);
    const bad = await a.app.inject({ method: 'GET', url: '/v1/recommendations?placement=nowhere&reader=r1' });
    expect(bad.statusCode).toBe(400);
    const after = await scrape(a);
    expect(value(after, 'readnext_http_requests_total', route) - value(before, 'readnext_http_requests_total', route)).toBe(1);
    const rejected = { ...route, status_class: '4xx' };
    expect(value(after, 'readnext_http_requests_total', rejected) - value(before, 'readnext_http_requests_total', rejected)).toBe(1);
    // Never the raw URL: no label holds a query string.
    expect(after.some((s) => Object.values(s.labels).some((v) => v.includes('?')))).toBe(false);
    const timed = { route: '/v1/recommendations', method: 'GET' };
    expect(value(after, 'readnext_http_request_duration_seconds_count', timed)).toBe(
      value(before, 'readnext_http_request_duration_seconds_count', timed) + 2,
    );
    // Buckets are cumulative, bounded in seconds, and the +Inf one is the count.
    const buckets = after.filter(
      (s) => s.name === 'readnext_http_request_duration_seconds_bucket' && s.labels.route === timed.route && s.labels.method === 'GET',
    );
    expect(buckets.map((s) => s.labels.le)).toEqual([
      ...'0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 10'.split(' '),
      '+Inf',
    ]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.value).toBe(value(after, 'readnext_http_request_duration_seconds_count', timed));
    expect(value(after, 'readnext_http_request_duration_seconds_sum', timed)).toBeGreaterThan(0);
    expect(value(after, 'readnext_recommendations_total') - value(before, 'readnext_recommendations_total')).toBe(1);
  });

  it('labels a route with parameters by its pattern, and requests that match no route as unmatched', async () => {
    await a.app.inject({ method: 'GET', url: '/v1/admin/articles/w2', headers: admin });
    await a.app.inject({ method: 'GET', url: '/no/such/page' });
    const after = await scrape(a);
    expect(value(after, 'readnext_http_requests_total', { route: '/v1/admin/articles/:id', method: 'GET', status_class: '2xx' })).toBe(1);
    expect(value(after, 'readnext_http_requests_total', { route: 'unmatched', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(after.some((s) => s.labels.route === '/v1/admin/articles/w2' || s.labels.route === '/no/such/page')).toBe(false);
  });

  it('counts a rejected event under its reason, and the accepted ones', async () => {
    const res = await a.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: { events: [pageView(T0), read(T0, { dwell: 3 }), pageView(T0 - 10 * 86_400_000)] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 1, rejected: 2 });
    const after = await scrape(a);
    expect(value(after, 'readnext_events_rejected_total', { reason: 'unknown_field' })).toBe(1);
    expect(value(after, 'readnext_events_rejected_total', { reason: 'timestamp_out_of_range' })).toBe(1);
    expect(value(after, 'readnext_events_total', { outcome: 'accepted' })).toBe(1);
    expect(value(after, 'readnext_events_total', { outcome: 'rejected' })).toBe(2);
  });

  it('exposes faults and fallbacks per placement and kind from the serving counters', async () => {
    a.services.recommendations.byPlacement.faults.add('read-next', 'model');
    a.services.recommendations.byPlacement.fallbacks.add('read-next', 'model', 3);
    const after = await scrape(a);
    expect(value(after, 'readnext_recommender_faults_total', { placement: 'read-next', kind: 'model', role: 'serving' })).toBe(1);
    expect(value(after, 'readnext_recommender_fallbacks_total', { placement: 'read-next', kind: 'model' })).toBe(3);
  });

  it('reports the rollup lag and the events rolled up once a pass ran, and no lag before', async () => {
    expect((await scrape(a)).some((s) => s.name === 'readnext_rollup_lag_seconds')).toBe(false);
    await a.services.rollups.catchUp();
    const after = await scrape(a);
    const lag = after.find((s) => s.name === 'readnext_rollup_lag_seconds');
    // The fixed test clock: the pass took everything received before now − READNEXT_ROLLUP_LAG_MS (5 s).
    expect(lag?.value).toBeCloseTo(5, 6);
    expect(after.some((s) => s.name === 'readnext_rollup_events_total')).toBe(true);
  });

  it('needs the metrics token or the admin key: 401 without one or with a wrong one', async () => {
    const get = (headers: Record<string, string>) => a.app.inject({ method: 'GET', url: '/metrics', headers });
    const none = await get({});
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    expect((await get({ authorization: 'Bearer not-the-token-at-all-000000' })).statusCode).toBe(401);
    expect((await get({ authorization: `Bearer ${METRICS_TOKEN}` })).statusCode).toBe(200);
    expect((await get({ authorization: `Bearer ${ADMIN_KEY}` })).statusCode).toBe(200);
    expect((await get({ 'x-readnext-admin-key': ADMIN_KEY })).statusCode).toBe(200);
    // The metrics token opens /metrics only.
    expect(
      (await a.app.inject({ method: 'GET', url: '/v1/admin/serving/stats', headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))
        .statusCode,
    ).toBe(401);
  });

  it('without READNEXT_METRICS_TOKEN takes the admin key only', async () => {
    const t = await testApp();
    try {
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect(
        (await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).statusCode,
      ).toBe(401);
      expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: admin })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('refuses a READNEXT_METRICS_TOKEN shorter than a key', () => {
    expect(() => loadConfig({}, { READNEXT_METRICS_TOKEN: 'short' })).toThrow(/READNEXT_METRICS_TOKEN must be at least 24 characters/);
    expect(loadConfig({}, { READNEXT_METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
  });

  it('keeps two apps in one process apart: each has its own registry and counts', async () => {
    const [beforeA, beforeB] = await Promise.all([scrape(a), scrape(b)]);
    const route = { route: '/v1/recommendations', method: 'GET', status_class: '2xx' };
    for (let i = 0; i < 3; i++)
      expect((await b.app.inject({ method: 'GET', url: `/v1/recommendations?placement=read-next&reader=x${i}` })).statusCode).toBe(200);
    await b.app.inject({ method: 'POST', url: '/v1/events', payload: { events: [read(T0, { dwell: 1 })] } });
    const [afterA, afterB] = await Promise.all([scrape(a), scrape(b)]);
    expect(value(afterB, 'readnext_http_requests_total', route) - value(beforeB, 'readnext_http_requests_total', route)).toBe(3);
    expect(value(afterA, 'readnext_http_requests_total', route)).toBe(value(beforeA, 'readnext_http_requests_total', route));
    expect(value(afterB, 'readnext_events_rejected_total', { reason: 'unknown_field' })).toBe(1);
    expect(value(afterA, 'readnext_events_rejected_total', { reason: 'unknown_field' })).toBe(
      value(beforeA, 'readnext_events_rejected_total', { reason: 'unknown_field' }),
    );
  });
});

/** A recommender kind that always throws, to be deployed as a canary. */
const broken = defineKind({
  kind: 'broken',
  doc: 'throws on every request',
  params: {},
  create: ({ kind, version }) => ({
    kind,
    version,
    recommend: () => {
      throw new Error('model file is corrupt');
    },
  }),
});

describe('GET /metrics on a faulty canary', () => {
  it('counts the faults and fallbacks under placement and kind, and the canary check and its rollback', async () => {
    const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent' }, {});
    const services = await openServices(config, { clock: fixedClock(T0), registry: appRecommenders().register(broken) });
    const app = await createApp(appDeps(services));
    try {
      const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
        app.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });
      const articles = ['w1', 'w2', 'w3'].map((id, i) => ({
        id,
        title: id,
        section: 'world',
        publishedAt: new Date(T0 - (i + 1) * 3_600_000).toISOString(),
      }));
      expect((await call('POST', '/v1/admin/articles', { articles })).statusCode).toBe(200);
      const canary = {
        recommender: { kind: 'broken', version: '1' },
        percent: 50,
        guardrails: { maxErrorRate: 0.01, maxP99LatencyMs: 250, minCtrRatio: 0.5, minResponses: 1 },
      };
      expect((await call('POST', '/v1/admin/deployments/read-next/canary', canary)).statusCode).toBe(200);
      let canaryServed = 0;
      for (let i = 0; i < 40; i++) {
        const res = await app.inject({ method: 'GET', url: `/v1/recommendations?placement=read-next&article=w1&reader=r${i}` });
        expect(res.statusCode).toBe(200);
        if (res.json().arm === 'canary') canaryServed++;
      }
      expect(canaryServed).toBeGreaterThan(0);
      await services.recordWriter.flush();
      expect((await call('POST', '/v1/admin/canaries/check')).statusCode).toBe(200);
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: admin });
      const samples = parse(res.body);
      expect(value(samples, 'readnext_recommender_faults_total', { placement: 'read-next', kind: 'broken', role: 'serving' })).toBe(
        canaryServed,
      );
      expect(value(samples, 'readnext_recommender_fallbacks_total', { placement: 'read-next', kind: 'broken' })).toBe(canaryServed);
      expect(value(samples, 'readnext_canary_checks_total', { placement: 'read-next' })).toBe(1);
      expect(value(samples, 'readnext_canary_rollbacks_total', { placement: 'read-next' })).toBe(1);
    } finally {
      await app.close();
      await services.close();
    }
  });
});

describe('GET /metrics while the serving state is rebuilt at start', () => {
  it('says warming up (1) while /readyz answers 503 not_ready, then 0 once ready', async () => {
    const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent' }, {});
    // The replay is held between pinning its snapshot and reading it (as test/main/warm-start.test.ts does).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = (st: EventStore & ArticleStore): EventStore & ArticleStore =>
      Object.create(st, {
        scanSignals: {
          value: (since: number, onBatch: Parameters<EventStore['scanSignals']>[1], pinned?: () => void | Promise<void>) =>
            st.scanSignals(since, onBatch, async () => {
              await pinned?.();
              await gate;
            }),
        },
      }) as EventStore & ArticleStore;
    const services = await openServices(config, { clock: fixedClock(T0), warmInBackground: true, replayStore: held });
    const app = await createApp(appDeps(services));
    const warming = async () =>
      value(parse((await app.inject({ method: 'GET', url: '/metrics', headers: admin })).body), 'readnext_warming_up');
    try {
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      expect(await warming()).toBe(1);
      release();
      await services.warmedUp;
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect(await warming()).toBe(0);
    } finally {
      release();
      await app.close();
      await services.close();
    }
  });
});
