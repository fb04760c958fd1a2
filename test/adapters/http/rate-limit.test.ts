/** Per-client rate limits on the public routes (429 rate_limited with Retry-After) and helmet's headers on the pages. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/adapters/http/app.js';
import { demoSite } from '../../../src/adapters/web/site.js';
import { DEFAULTS, loadConfig, type Config } from '../../../src/config/config.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { appDeps, openServices, type Services } from '../../../src/main/services.js';
import { admin, ADMIN_KEY, INGEST_KEY } from '../../helpers/app.js';
import { read, T0 } from '../../helpers/events.js';

let dir: string;
const opened: { app: FastifyInstance; services: Services }[] = [];

/** The real app with the demo site (a stand-in SDK file) and the dashboard (a stand-in build), on `over`'s settings. */
async function appWith(over: Partial<Config> = {}): Promise<FastifyInstance> {
  const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent', ...over }, {});
  const services = await openServices(config, { clock: fixedClock(T0) });
  const deps = appDeps(services, [demoSite({ articles: services.storage, clock: fixedClock(T0), sdkFile: join(dir, 'sdk.js') })]);
  const app = await createApp({ ...deps, dashboard: { dir: join(dir, 'dashboard') } });
  opened.push({ app, services });
  return app;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'readnext-rate-limit-'));
  writeFileSync(join(dir, 'sdk.js'), 'console.log("sdk");');
  mkdirSync(join(dir, 'dashboard'));
  writeFileSync(join(dir, 'dashboard', 'index.html'), '<!doctype html><title>dashboard</title>');
});
afterAll(async () => {
  for (const o of opened) {
    await o.app.close();
    await o.services.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

const recs = (app: FastifyInstance, remoteAddress = '10.0.0.1', headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=a1', remoteAddress, headers });
const events = (app: FastifyInstance, remoteAddress = '10.0.0.1') =>
  app.inject({ method: 'POST', url: '/v1/events', payload: { events: [read()] }, remoteAddress });

describe('rate limits on the public routes', () => {
  it('are off by default: the defaults are 0 and many requests from one address all pass', async () => {
    expect(DEFAULTS.rateLimitRecommendationsPerMin).toBe(0);
    expect(DEFAULTS.rateLimitEventsPerMin).toBe(0);
    expect(DEFAULTS.rateLimitSitePerMin).toBe(0);
    expect(DEFAULTS.trustProxy).toBe(false);
    const app = await appWith();
    for (let i = 0; i < 50; i++) {
      const res = await recs(app);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('answer 429 rate_limited with Retry-After past the limit, per client address and per route', async () => {
    const app = await appWith({ rateLimitRecommendationsPerMin: 3, rateLimitEventsPerMin: 2 });
    for (let i = 0; i < 3; i++) expect((await recs(app)).statusCode).toBe(200);
    const over = await recs(app);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/at most 3 a minute/), field: null } });
    const retry = Number(over.headers['retry-after']);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // Another client is not affected, and the events route counts apart.
    expect((await recs(app, '10.0.0.2')).statusCode).toBe(200);
    expect((await events(app)).statusCode).toBe(200);
    expect((await events(app)).statusCode).toBe(200);
    const ev = await events(app);
    expect(ev.statusCode).toBe(429);
    expect(ev.json()).toMatchObject({ error: { code: 'rate_limited', field: null } });
    expect(ev.headers['retry-after']).toBeDefined();
  });

  it('never limit the admin API, the ops routes nor the dashboard', async () => {
    const app = await appWith({ rateLimitRecommendationsPerMin: 1, rateLimitEventsPerMin: 1, rateLimitSitePerMin: 1 });
    for (let i = 0; i < 5; i++) {
      expect((await app.inject({ method: 'GET', url: '/v1/admin/articles', headers: admin, remoteAddress: '10.0.0.1' })).statusCode).toBe(
        200,
      );
      expect((await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/dashboard/', remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
    }
  });

  it('limit the site pages and the SDK', async () => {
    const app = await appWith({ rateLimitSitePerMin: 2 });
    for (const url of ['/', '/sdk.js']) {
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
      const over = await app.inject({ method: 'GET', url });
      expect(over.statusCode).toBe(429);
      expect(over.headers['retry-after']).toBeDefined();
    }
  });

  it('count per forwarded client address only behind a trusted proxy', async () => {
    const untrusted = await appWith({ rateLimitRecommendationsPerMin: 1 });
    expect((await recs(untrusted, '10.0.0.9', { 'x-forwarded-for': '203.0.113.1' })).statusCode).toBe(200);
    // Another forwarded address from the same peer: the header is not believed, same client.
    expect((await recs(untrusted, '10.0.0.9', { 'x-forwarded-for': '203.0.113.2' })).statusCode).toBe(429);
    const trusted = await appWith({ rateLimitRecommendationsPerMin: 1, trustProxy: ['10.0.0.9'] });
    expect((await recs(trusted, '10.0.0.9', { 'x-forwarded-for': '203.0.113.1' })).statusCode).toBe(200);
    expect((await recs(trusted, '10.0.0.9', { 'x-forwarded-for': '203.0.113.2' })).statusCode).toBe(200);
    expect((await recs(trusted, '10.0.0.9', { 'x-forwarded-for': '203.0.113.1' })).statusCode).toBe(429);
  });
});

describe('READNEXT_TRUST_PROXY and READNEXT_RATE_LIMIT_*', () => {
  const env = (e: Record<string, string>) => loadConfig({}, e);
  it('parse true/false, a hop count or addresses, and limits as integers >= 0', () => {
    expect(env({ READNEXT_TRUST_PROXY: 'TRUE' }).trustProxy).toBe(true);
    expect(env({ READNEXT_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(env({ READNEXT_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(env({ READNEXT_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(() => env({ READNEXT_TRUST_PROXY: 'proxy.local' })).toThrow(/READNEXT_TRUST_PROXY/);
    expect(env({ READNEXT_RATE_LIMIT_EVENTS_PER_MIN: '600' }).rateLimitEventsPerMin).toBe(600);
    expect(() => env({ READNEXT_RATE_LIMIT_RECOMMENDATIONS_PER_MIN: '-1' })).toThrow(/READNEXT_RATE_LIMIT_RECOMMENDATIONS_PER_MIN/);
  });
});

describe('security headers', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWith();
  });

  it("are on the demo site, with the site's own Content-Security-Policy intact", async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
    // Plain http: no HSTS.
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it("are on the dashboard, with the dashboard's own Content-Security-Policy intact", async () => {
    const res = await app.inject({ method: 'GET', url: '/dashboard/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['referrer-policy']).toBe('same-origin');
  });

  it('leave /sdk.js loadable from other origins (Cross-Origin-Resource-Policy: cross-origin)', async () => {
    const res = await app.inject({ method: 'GET', url: '/sdk.js', headers: { origin: 'https://news.example' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('send HSTS only over https (here through a trusted proxy)', async () => {
    const behind = await appWith({ trustProxy: true });
    const res = await behind.inject({ method: 'GET', url: '/', headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('are not added to the JSON API', async () => {
    const res = await recs(app);
    expect(res.headers['x-frame-options']).toBeUndefined();
  });
});
