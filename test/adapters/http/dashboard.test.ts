import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/adapters/http/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { appDeps, openServices, type Services } from '../../../src/main/services.js';
import { admin, ADMIN_KEY, INGEST_KEY } from '../../helpers/app.js';
import { T0 } from '../../helpers/events.js';

const EIGHT_HOURS = 8 * 60 * 60 * 1000;
const INDEX = '<!doctype html><title>dashboard</title><script type="module" src="/dashboard/assets/index-abc123.js"></script>';
const SCRIPT = 'console.log("dashboard");';

let dist: string;
let services: Services;
const clock = fixedClock(T0);
const apps: FastifyInstance[] = [];

/** The real app with its dashboard on a temporary dist dir (or `dir`) and `max` sessions at most. */
async function appWith(o: { dir?: string; maxSessions?: number } = {}): Promise<FastifyInstance> {
  const app = await createApp({
    ...appDeps(services),
    dashboard: { dir: o.dir ?? dist, ...(o.maxSessions === undefined ? {} : { maxSessions: o.maxSessions }) },
  });
  apps.push(app);
  return app;
}

let app: FastifyInstance;
beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'readnext-dashboard-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), SCRIPT);
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dist, '.secret'), 'dotfile');
  const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent' }, {});
  services = await openServices(config, { clock });
  app = await appWith();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await services.close();
  rmSync(dist, { recursive: true, force: true });
});

/** Signs in; the cookie header to send back and the CSRF token. */
async function signIn(a: FastifyInstance = app, remoteAddress = '127.0.0.1', key = ADMIN_KEY) {
  const res = await a.inject({ method: 'POST', url: '/v1/dashboard/session', payload: { key }, remoteAddress });
  expect(res.statusCode, res.body).toBe(200);
  const value = /^readnext_session=([^;]+);/.exec(String(res.headers['set-cookie']))![1]!;
  return { cookie: `readnext_session=${value}`, csrf: (res.json() as { csrfToken: string }).csrfToken, res };
}

const article = (id: string) => ({
  id,
  title: `Title ${id}`,
  url: `https://news.example/${id}`,
  section: 'world',
  tags: ['x'],
  publishedAt: '2026-03-01T10:00:00Z',
});
const postArticle = (headers: Record<string, string>, id: string) =>
  app.inject({ method: 'POST', url: '/v1/admin/articles', headers, payload: { articles: [article(id)] } });
const errorCode = (res: LightMyRequestResponse) => (res.json() as { error: { code: string } }).error.code;

describe('sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie of 32 random bytes and answers the CSRF token', async () => {
    const { cookie, csrf, res } = await signIn();
    expect(res.headers['set-cookie']).toMatch(/^readnext_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=28800$/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie).not.toContain(ADMIN_KEY);
    expect(Object.keys(res.json() as object)).toEqual(['csrfToken']);
    const again = await signIn();
    expect(again.cookie).not.toBe(cookie);
    expect(again.csrf).not.toBe(csrf);
  });

  it('adds Secure when the client came over https (X-Forwarded-Proto)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/dashboard/session',
      headers: { 'x-forwarded-proto': 'https' },
      payload: { key: ADMIN_KEY },
    });
    expect(res.headers['set-cookie']).toMatch(/; Max-Age=28800; Secure$/);
  });

  it('refuses a wrong key (401 unauthorized, no cookie), a key without scope read (403) and a body without one (400)', async () => {
    const wrong = await app.inject({ method: 'POST', url: '/v1/dashboard/session', payload: { key: 'nope' }, remoteAddress: '10.0.0.1' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'unauthorized', field: 'key' } });
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const ingest = await app.inject({
      method: 'POST',
      url: '/v1/dashboard/session',
      payload: { key: INGEST_KEY },
      remoteAddress: '10.0.0.1',
    });
    // A valid key without scope read: a session has its key's scopes, and the dashboard needs read.
    expect(ingest.statusCode).toBe(403);
    expect(ingest.json()).toMatchObject({ error: { code: 'missing_scope', field: 'key' } });
    expect(ingest.json().error.message).toMatch(/scope read/);
    expect(ingest.headers['set-cookie']).toBeUndefined();
    const none = await app.inject({ method: 'POST', url: '/v1/dashboard/session', payload: {} });
    expect(none.statusCode).toBe(400);
    expect(errorCode(none)).toBe('missing_field');
  });

  it('after 10 failed sign-ins from one address in a minute: 429 rate_limited with Retry-After, even with the right key', async () => {
    const ip = '10.9.9.9';
    const attempt = (key: string) => app.inject({ method: 'POST', url: '/v1/dashboard/session', payload: { key }, remoteAddress: ip });
    for (let i = 0; i < 10; i++) expect((await attempt(`guess-${i}`)).statusCode).toBe(401);
    clock.advance(20_000);
    const limited = await attempt(ADMIN_KEY);
    expect(limited.statusCode).toBe(429);
    expect(errorCode(limited)).toBe('rate_limited');
    expect(limited.headers['retry-after']).toBe('40');
    // Another address is not affected.
    expect((await signIn(app, '10.9.9.10')).res.statusCode).toBe(200);
    clock.advance(40_000);
    expect((await signIn(app, ip)).res.statusCode).toBe(200);
  });

  it('GET /v1/dashboard/session: the CSRF token while the cookie is live, else 401', async () => {
    const { cookie, csrf } = await signIn();
    const res = await app.inject({ method: 'GET', url: '/v1/dashboard/session', headers: { cookie: `theme=dark; ${cookie}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ csrfToken: csrf });
    expect(res.headers['cache-control']).toBe('no-store');
    for (const headers of [{}, { cookie: 'readnext_session=forged' }, { cookie: 'readnext_session=' }, admin]) {
      const r = await app.inject({ method: 'GET', url: '/v1/dashboard/session', headers });
      expect(r.statusCode, JSON.stringify(headers)).toBe(401);
      expect(errorCode(r)).toBe('unauthorized');
    }
  });
});

describe('the admin API with the session cookie', () => {
  it('GET needs no CSRF token; without a cookie or key it is still 401', async () => {
    const { cookie } = await signIn();
    const res = await app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: { cookie } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toHaveProperty('items');
    expect((await app.inject({ method: 'GET', url: '/v1/admin/deployments' })).statusCode).toBe(401);
    const forged = await app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: { cookie: 'readnext_session=forged' } });
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ error: { code: 'unauthorized', message: expect.stringMatching(/sign in again/) } });
  });

  it('a POST needs the session x-csrf-token: none or a wrong one 403 forbidden (nothing changes), the right one passes', async () => {
    const { cookie, csrf } = await signIn();
    const other = await signIn();
    const attempts: Record<string, string>[] = [
      { cookie },
      { cookie, 'x-csrf-token': 'wrong' },
      { cookie, 'x-csrf-token': '' },
      { cookie, 'x-csrf-token': other.csrf },
    ];
    for (const headers of attempts) {
      const res = await postArticle(headers, 'csrf-refused');
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'forbidden', field: null } });
    }
    expect((await app.inject({ method: 'GET', url: '/v1/admin/articles/csrf-refused', headers: { cookie } })).statusCode).toBe(404);
    const ok = await postArticle({ cookie, 'x-csrf-token': csrf }, 'csrf-ok');
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/admin/articles/csrf-ok', headers: { cookie } })).statusCode).toBe(200);
  });

  it('has the scopes of the key signed in with, and ends when that key is revoked', async () => {
    const viewer = await services.keys.create('viewer', 'read');
    const { cookie, csrf } = await signIn(app, '127.0.0.1', viewer.key);
    expect((await app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: { cookie } })).statusCode).toBe(200);
    const post = await postArticle({ cookie, 'x-csrf-token': csrf }, 'by-viewer');
    expect(post.statusCode).toBe(403);
    expect(post.json().error).toMatchObject({ code: 'missing_scope', message: expect.stringMatching(/scope write/) });
    await services.keys.revoke(viewer.info.id);
    const after = await app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.message).toMatch(/revoked/);
  });

  it('the admin key path is unchanged: no CSRF token needed, and it wins over a cookie', async () => {
    expect((await postArticle(admin, 'by-key')).statusCode).toBe(200);
    expect((await postArticle({ ...admin, cookie: 'readnext_session=forged' }, 'by-key-2')).statusCode).toBe(200);
    const wrongKey = await postArticle({ authorization: 'Bearer wrong', cookie: (await signIn()).cookie }, 'by-key-3');
    expect(wrongKey.statusCode).toBe(401);
  });
});

describe('sign-out and expiry', () => {
  it('DELETE needs the CSRF token, ends the session and clears the cookie', async () => {
    const { cookie, csrf } = await signIn();
    const refused = await app.inject({ method: 'DELETE', url: '/v1/dashboard/session', headers: { cookie } });
    expect(refused.statusCode).toBe(403);
    expect(errorCode(refused)).toBe('forbidden');
    const res = await app.inject({ method: 'DELETE', url: '/v1/dashboard/session', headers: { cookie, 'x-csrf-token': csrf } });
    expect(res.statusCode).toBe(204);
    expect(res.headers['set-cookie']).toBe('readnext_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
    expect((await app.inject({ method: 'GET', url: '/v1/dashboard/session', headers: { cookie } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: { cookie } })).statusCode).toBe(401);
    const twice = await app.inject({ method: 'DELETE', url: '/v1/dashboard/session', headers: { cookie, 'x-csrf-token': csrf } });
    expect(twice.statusCode).toBe(401);
  });

  it('a session ends 8 hours after sign-in (fixed clock)', async () => {
    const { cookie } = await signIn();
    const get = () => app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: { cookie } });
    clock.advance(EIGHT_HOURS - 1);
    expect((await get()).statusCode).toBe(200);
    clock.advance(1);
    expect((await get()).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/dashboard/session', headers: { cookie } })).statusCode).toBe(401);
  });

  it('holds at most maxSessions: signing in beyond ends the oldest', async () => {
    const small = await appWith({ maxSessions: 2 });
    const [a, b, c] = [await signIn(small), await signIn(small), await signIn(small)];
    const live = async (cookie: string) =>
      (await small.inject({ method: 'GET', url: '/v1/dashboard/session', headers: { cookie } })).statusCode;
    expect([await live(a.cookie), await live(b.cookie), await live(c.cookie)]).toEqual([401, 200, 200]);
  });
});

describe('the single-page app under /dashboard/', () => {
  const expectSecurityHeaders = (res: LightMyRequestResponse) => {
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    );
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('same-origin');
  };

  it('/dashboard redirects to /dashboard/, keeping the query', async () => {
    const res = await app.inject('/dashboard?x=1');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/dashboard/?x=1');
    expectSecurityHeaders(res);
  });

  it('index.html: no-cache, the security headers, with no session needed', async () => {
    const res = await app.inject('/dashboard/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toBe(INDEX);
    expectSecurityHeaders(res);
  });

  it('client routes answer index.html; assets are immutable; a missing asset is a 404', async () => {
    for (const path of ['/dashboard/experiments/42', '/dashboard/roi', '/dashboard/deployments/'])
      expect((await app.inject(path)).body, path).toBe(INDEX);
    const js = await app.inject('/dashboard/assets/index-abc123.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-length']).toBe(String(Buffer.byteLength(SCRIPT)));
    expect(js.body).toBe(SCRIPT);
    expectSecurityHeaders(js);
    const svg = await app.inject('/dashboard/favicon.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
    const missing = await app.inject('/dashboard/assets/index-old999.js');
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('not_found');
  });

  it('never serves a file outside the dir or a dotfile', async () => {
    for (const path of [
      '/dashboard/..%2F..%2Fpackage.json',
      '/dashboard/%2e%2e/%2e%2e/package.json',
      '/dashboard/.secret',
      '/dashboard/assets/..%2Findex.html',
    ]) {
      const res = await app.inject(path);
      // The client-side fallback (index.html) or a 404, never the file.
      if (res.statusCode === 200) expect(res.body, path).toBe(INDEX);
      else expect(res.statusCode, path).toBe(404);
    }
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await app.inject('/dashboard/assets/index-abc123.js');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    const again = await app.inject({ url: '/dashboard/assets/index-abc123.js', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const head = await app.inject({ method: 'HEAD', url: '/dashboard/' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(INDEX)));
  });

  it('not built: 503 with a one-line page saying to run npm run build', async () => {
    const unbuilt = await appWith({ dir: join(dist, 'absent') });
    for (const path of ['/dashboard/', '/dashboard/roi']) {
      const res = await unbuilt.inject(path);
      expect(res.statusCode, path).toBe(503);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('npm run build');
      expect(res.body.trim().split('\n')).toHaveLength(1);
      expectSecurityHeaders(res);
    }
  });
});
