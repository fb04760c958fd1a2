import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, ADMIN_KEY, testApp, type TestApp } from '../../helpers/app.js';
import { T0 } from '../../helpers/events.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const article = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  title: `Title ${id}`,
  url: `https://news.example/${id}`,
  section: 'world',
  tags: ['x'],
  publishedAt: '2026-03-01T10:00:00Z',
  ...over,
});

describe('health and documentation', () => {
  it('/healthz and /readyz answer without a key', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok', clock: 'real' });
    expect((await t.app.inject('/readyz')).json()).toMatchObject({ status: 'ready' });
  });

  it('/openapi.json documents the collector and admin routes', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/admin/articles', '/v1/admin/articles/{id}']));
  });

  it('unknown routes: 404 not_found', async () => {
    const res = await t.app.inject('/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });
});

describe('admin API', () => {
  it('needs the admin key', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/v1/admin/articles' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    const wrong = await t.app.inject({ method: 'GET', url: '/v1/admin/articles', headers: { authorization: 'Bearer wrong' } });
    expect(wrong.statusCode).toBe(401);
    const header = await t.app.inject({ method: 'GET', url: '/v1/admin/articles', headers: { 'x-readnext-admin-key': 'test-admin-key' } });
    expect(header.statusCode).toBe(200);
  });

  it('reads the Authorization scheme case-insensitively (RFC 9110), and only Bearer', async () => {
    const get = (authorization: string) => t.app.inject({ method: 'GET', url: '/v1/admin/articles', headers: { authorization } });
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) expect((await get(`${scheme} ${ADMIN_KEY}`)).statusCode, scheme).toBe(200);
    expect((await get(`Bearer\t ${ADMIN_KEY}  `)).statusCode).toBe(200);
    for (const bad of [`Basic ${ADMIN_KEY}`, `Bearer${ADMIN_KEY}`, 'Bearer ', ADMIN_KEY]) {
      const res = await get(bad);
      expect(res.statusCode, bad).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it('upserts, reads, lists, unpublishes and deletes articles', async () => {
    const up = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/articles',
      headers: admin,
      payload: { articles: [article('a1'), article('a2', { publishedAt: '2026-03-01T11:00:00+01:00' })] },
    });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ inserted: 2, updated: 0 });
    const again = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles: [article('a1')] } });
    expect(again.json()).toEqual({ inserted: 0, updated: 1 });

    const one = await t.app.inject({ method: 'GET', url: '/v1/admin/articles/a2', headers: admin });
    expect(one.json()).toMatchObject({ id: 'a2', publishedAt: '2026-03-01T10:00:00.000Z', status: 'published', paywalled: false });

    const put = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/articles/a3',
      headers: admin,
      payload: { title: 'Third', publishedAt: '2026-03-01T12:00:00Z', paywalled: true },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ inserted: 1, article: { id: 'a3', paywalled: true } });

    const list = await t.app.inject({ method: 'GET', url: '/v1/admin/articles?limit=2', headers: admin });
    expect(list.json().total).toBe(3);
    expect(list.json().items.map((a: { id: string }) => a.id)).toEqual(['a3', 'a1']);

    const un = await t.app.inject({ method: 'POST', url: '/v1/admin/articles/a1/unpublish', headers: admin });
    expect(un.json()).toEqual({ id: 'a1', status: 'unpublished' });
    expect((await t.services.storage.getArticle('a1'))?.status).toBe('unpublished');

    const del = await t.app.inject({ method: 'DELETE', url: '/v1/admin/articles/a1', headers: admin });
    expect(del.json()).toEqual({ id: 'a1', deleted: true });
    const gone = await t.app.inject({ method: 'DELETE', url: '/v1/admin/articles/a1', headers: admin });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('not_found');
  });

  it('rejects bad articles naming the field', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/articles',
      headers: admin,
      payload: { articles: [article('ok'), article('b', { publishedAt: '2026-03-01 10:00' })] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_field', field: 'articles/1/publishedAt' });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/articles',
      headers: admin,
      payload: { articles: [article('c', { headline: 'x' })] },
    });
    expect(unknown.json().error).toMatchObject({ code: 'unknown_field', field: 'articles/0/headline' });
    const { title: _t, ...untitled } = article('d');
    const missing = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles: [untitled] } });
    expect(missing.json().error).toMatchObject({ code: 'missing_field', field: 'articles/0/title' });
    const unknownPut = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/articles/e',
      headers: admin,
      payload: article('e', { headline: 'x' }),
    });
    expect(unknownPut.json().error).toMatchObject({ code: 'unknown_field', field: 'headline' });
    const mismatch = await t.app.inject({ method: 'PUT', url: '/v1/admin/articles/x', headers: admin, payload: article('y') });
    expect(mismatch.json().error).toMatchObject({ code: 'invalid_field', field: 'id' });
    const limit = await t.app.inject({ method: 'GET', url: '/v1/admin/articles?limit=0', headers: admin });
    expect(limit.statusCode).toBe(400);
    expect(limit.json().error).toMatchObject({ code: 'invalid_field', field: 'limit' });
    // Nothing of a rejected batch was stored.
    expect(await t.services.storage.getArticle('ok')).toBeUndefined();
  });

  it('shows serve and exposure records written through the record writer', async () => {
    const w = t.services.recordWriter;
    w.serve({
      recommId: 'rc-9',
      placement: 'read-next',
      experiment: 'exp',
      phase: 1,
      arm: 'b',
      hashVersion: 2,
      recommenderKind: 'popular',
      recommenderVersion: '1',
      shadow: false,
      readerId: 'r',
      sessionId: 's',
      articleId: 'a',
      latencyMs: 0.8,
      fallback: false,
      fault: false,
      slate: [{ articleId: 'a2', position: 1, score: 1, reason: 'popular' }],
      servedTs: T0,
    });
    w.exposure({ experiment: 'exp', phase: 1, arm: 'b', readerId: 'r', hashVersion: 2, exposedTs: T0 });
    const serves = await t.app.inject({ method: 'GET', url: '/v1/admin/serves?recommId=rc-9', headers: admin });
    expect(serves.json().items).toHaveLength(1);
    expect(serves.json().items[0]).toMatchObject({ recommId: 'rc-9', arm: 'b', servedAt: new Date(T0).toISOString() });
    const exp = await t.app.inject({ method: 'GET', url: '/v1/admin/exposures?experiment=exp', headers: admin });
    expect(exp.json().items).toEqual([expect.objectContaining({ readerId: 'r', arm: 'b', hashVersion: 2 })]);
  });
});
