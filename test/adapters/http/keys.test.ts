import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { admin, INGEST_KEY, testApp, type TestApp } from '../../helpers/app.js';
import { subscribe } from '../../helpers/events.js';

let t: TestApp;
afterAll(async () => t?.close());

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
/** Creates a key through the admin API; answers the key itself and its id. */
async function createKey(name: string, scopes: string[] | string): Promise<{ key: string; id: string }> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/keys', headers: admin, payload: { name, scopes } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
/** 403 missing_scope whose message names the scope wanted. */
function expectMissing(res: LightMyRequestResponse, scope: string): void {
  expect(res.statusCode).toBe(403);
  expect(res.json().error.code).toBe('missing_scope');
  expect(res.json().error.message).toMatch(new RegExp(`needs a key with scope ${scope}\\b`));
}

let read: string;
let write: string;
let readWrite: string;
beforeAll(async () => {
  t = await testApp();
  read = (await createKey('dashboards', 'read')).key;
  write = (await createKey('cms', ['write'])).key;
  readWrite = (await createKey('ops', 'read,write')).key;
});

describe('scopes on the admin API, the collector and /metrics', () => {
  it('admin GET needs read: a write-only or ingest key gets 403 naming read', async () => {
    const get = (key: string) => t.app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: bearer(key) });
    expect((await get(read)).statusCode).toBe(200);
    expect((await get(readWrite)).statusCode).toBe(200);
    expectMissing(await get(write), 'read');
    expectMissing(await get(INGEST_KEY), 'read');
    expectMissing(await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer(INGEST_KEY) }), 'read');
    expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer(read) })).statusCode).toBe(200);
  });

  it('admin mutations need write: a read key gets 403 naming write, a write key reaches validation', async () => {
    const post = (key: string) => t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: bearer(key), payload: { nope: 1 } });
    expectMissing(await post(read), 'write');
    expectMissing(await post(INGEST_KEY), 'write');
    expect((await post(write)).statusCode).toBe(400); // past the key: the body is checked
    // POST /v1/admin/roi computes and stores nothing: a read.
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/roi', headers: bearer(read), payload: {} })).statusCode).toBe(400);
  });

  it('key management and reader privacy need admin: read,write gets 403 naming admin', async () => {
    for (const [method, url] of [
      ['GET', '/v1/admin/keys'],
      ['POST', '/v1/admin/keys'],
      ['DELETE', '/v1/admin/keys/admin'],
      ['POST', '/v1/admin/keys/admin/revoke'],
      ['DELETE', '/v1/admin/readers/r1'],
      ['GET', '/v1/admin/readers/r1/export'],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: bearer(readWrite), payload: method === 'POST' ? {} : undefined });
      expectMissing(res, 'admin');
    }
    // An admin key gets past the check: there is no such reader.
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/readers/r1/export', headers: admin })).statusCode).toBe(404);
  });

  it('server-to-server events need ingest: a read,write key gets 403 naming ingest; admin implies it', async () => {
    const post = (key: string) =>
      t.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(key), payload: { events: [subscribe()] } });
    expectMissing(await post(readWrite), 'ingest');
    expect((await post(INGEST_KEY)).json().accepted).toBe(1);
  });

  it('no key or an unknown key stays 401', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/deployments' })).statusCode).toBe(401);
    const unknown = await t.app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: bearer('rn_unknown') });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error.code).toBe('unauthorized');
  });
});

describe('/v1/admin/keys', () => {
  it('lists keys without hashes or keys; the environment keys are not stored', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/admin/keys', headers: admin });
    expect(res.statusCode).toBe(200);
    const keys = res.json().keys as { id: string; name: string; scopes: string[]; prefix: string; revokedTs: null }[];
    // Made at the same (fixed) time: in id order.
    expect(keys.map((k) => [k.name, k.scopes]).sort()).toEqual([
      ['cms', ['write']],
      ['dashboards', ['read']],
      ['ops', ['read', 'write']],
    ]);
    const dashboards = keys.find((k) => k.name === 'dashboards')!;
    expect(dashboards.prefix).toBe(read.slice(0, 8));
    expect(dashboards.revokedTs).toBeNull();
    expect(res.body).not.toContain(read);
    expect(res.body).not.toMatch(/hash/);
  });

  it('revokes a key (DELETE or POST .../revoke): 401 from then on; an unknown id is 404', async () => {
    const a = await createKey('temp a', 'read');
    const b = await createKey('temp b', 'read');
    const get = (key: string) => t.app.inject({ method: 'GET', url: '/v1/admin/deployments', headers: bearer(key) });
    expect((await get(a.key)).statusCode).toBe(200);
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/admin/keys/${a.id}`, headers: admin });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ id: a.id, name: 'temp a', revokedTs: expect.any(Number) });
    expect((await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${b.id}/revoke`, headers: admin })).statusCode).toBe(200);
    for (const k of [a.key, b.key]) {
      const res = await get(k);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toMatch(/revoked/);
    }
    const missing = await t.app.inject({ method: 'DELETE', url: '/v1/admin/keys/k_missing', headers: admin });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'not_found', field: 'id' });
  });

  it('answers 400 naming the field for bad input', async () => {
    const post = (payload: unknown) => t.app.inject({ method: 'POST', url: '/v1/admin/keys', headers: admin, payload: payload as object });
    const cases: [unknown, string, string][] = [
      [{ name: 'x', scopes: 'read,root' }, 'invalid_field', 'scopes'],
      [{ name: 'x', scopes: [] }, 'invalid_field', 'scopes'],
      [{ name: 'x', scopes: [1] }, 'invalid_field', 'scopes'],
      [{ name: '', scopes: 'read' }, 'invalid_field', 'name'],
      [{ name: 'a\nb', scopes: 'read' }, 'invalid_field', 'name'],
      [{ scopes: 'read' }, 'missing_field', 'name'],
      [{ name: 'x' }, 'missing_field', 'scopes'],
      [{ name: 'x', scopes: 'read', extra: 1 }, 'unknown_field', 'extra'],
    ];
    for (const [payload, code, field] of cases) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error, JSON.stringify(payload)).toMatchObject({ code, field });
    }
  });
});
