import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { read, T0 } from '../../helpers/events.js';

let t: TestApp;
const HOUR = 3_600_000;

const article = (id: string, section: string, hoursAgo: number, over: Record<string, unknown> = {}) => ({
  id,
  title: `Title ${id}`,
  url: `https://news.example/${id}`,
  section,
  publishedAt: new Date(T0 - hoursAgo * HOUR).toISOString(),
  ...over,
});

beforeAll(async () => {
  t = await testApp();
  const articles = [
    article('w1', 'world', 1),
    article('w2', 'world', 2),
    article('w3', 'world', 3),
    article('w4', 'world', 4),
    article('s1', 'sport', 1),
    article('s2', 'sport', 5),
    article('s3', 'sport', 6),
    article('old', 'world', 100), // past the 72 h TTL
    article('embargoed', 'world', 1, { embargoUntil: new Date(T0 + HOUR).toISOString() }),
  ];
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } });
  expect(res.statusCode).toBe(200);
});
afterAll(async () => t.close());

const rec = (qs: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url: `/v1/recommendations?${qs}`, headers });
const ids = (body: { items: { articleId: string }[] }) => body.items.map((i) => i.articleId);

describe('GET /v1/recommendations', () => {
  it('answers with the documented shape and records a serve row', async () => {
    const res = await rec('placement=read-next&article=w1&reader=r1&session=s1&k=3');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('private, no-store');
    const body = res.json();
    expect(body).toMatchObject({
      placement: 'read-next',
      experiment: null,
      phase: null,
      arm: null,
      hashVersion: null,
      recommender: { kind: 'co-read', version: '1' },
    });
    expect(body.recommId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.items).toHaveLength(3);
    expect(body.items.map((i: { position: number }) => i.position)).toEqual([1, 2, 3]);
    expect(body.items[0]).toEqual({
      articleId: expect.any(String),
      title: expect.any(String),
      url: expect.any(String),
      position: 1,
      reason: expect.any(String),
    });
    // Never the current, an expired or an embargoed article.
    expect(ids(body)).not.toContain('w1');
    expect(ids(body)).not.toContain('old');
    expect(ids(body)).not.toContain('embargoed');

    const serves = (await t.app.inject({ method: 'GET', url: `/v1/admin/serves?recommId=${body.recommId}`, headers: admin })).json().items;
    expect(serves).toHaveLength(1);
    expect(serves[0]).toMatchObject({
      recommId: body.recommId,
      placement: 'read-next',
      recommenderKind: 'co-read',
      shadow: false,
      readerId: 'r1',
      articleId: 'w1',
      fallback: body.fallback,
    });
    expect(serves[0].slate.map((s: { articleId: string }) => s.articleId)).toEqual(ids(body));
    expect(serves[0].latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('with no reading yet, co-read has nothing and the fallback chain (same-section first) fills the slate, flagged', async () => {
    const body = (await rec('placement=read-next&article=w1&k=2')).json();
    expect(body.fallback).toBe(true);
    expect(ids(body)).toEqual(['w2', 'w3']);
  });

  it('an unknown article still gets an answer, flagged fallback', async () => {
    const res = await rec('placement=read-next&article=does-not-exist&k=4');
    expect(res.statusCode).toBe(200);
    expect(res.json().fallback).toBe(true);
    expect(res.json().items.length).toBe(4);
  });

  it('learns co-reads from ingested events within the request that follows', async () => {
    // Readers who read s2 then w4: w4 becomes s2's co-read neighbour (minSupport 2).
    const events = ['x1', 'x2', 'x3'].flatMap((r, i) => [
      read(T0 - 30 * 60_000 + i, { readerId: r, articleId: 's2' }),
      read(T0 - 20 * 60_000 + i, { readerId: r, articleId: 'w4' }),
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
    expect(res.json().accepted).toBe(6);
    const body = (await rec('placement=read-next&article=s2&k=1')).json();
    expect(ids(body)).toEqual(['w4']);
    expect(body.fallback).toBe(false);
    expect(body.items[0].reason).toMatch(/readers of this/);
  });

  it('excludes what the reader already read', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: { events: [read(T0 - 60_000, { readerId: 'reader-w', articleId: 'w2' })] },
    });
    const body = (await rec('placement=read-next&article=w1&reader=reader-w&k=3')).json();
    expect(ids(body)).not.toContain('w2');
    // Opted out: no reader state is used, so w2 may come back.
    const anon = (await rec('placement=read-next&article=w1&reader=reader-w&k=3&optout=1')).json();
    expect(ids(anon)).toContain('w2');
  });

  it('readers of one article share its ranking, each with their own filter; /v1/admin/serving/stats counts it', async () => {
    const stats = async () => (await t.app.inject({ method: 'GET', url: '/v1/admin/serving/stats', headers: admin })).json();
    const before = await stats();
    const a = (await rec('placement=read-next&article=s2&reader=share-a&k=3')).json();
    const b = (await rec('placement=read-next&article=s2&reader=share-b&k=3')).json();
    expect(ids(b)).toEqual(ids(a));
    expect(ids(a)).not.toContain('s2');
    const after = await stats();
    expect(after.requests - before.requests).toBe(2);
    expect(after.sharedSlates - before.sharedSlates).toBe(2);
    expect(after.ownSlates).toBe(before.ownSlates);
    expect(after.sharedRankings).toBeGreaterThan(0);
  });

  it('rejects a bad k or placement with 400 and a code', async () => {
    for (const [qs, code, field] of [
      ['placement=read-next&k=0', 'invalid_field', 'k'],
      ['placement=read-next&k=abc', 'invalid_field', 'k'],
      ['placement=read-next&k=21', 'invalid_field', 'k'],
      ['placement=nope', 'unknown_placement', 'placement'],
      ['k=3', 'missing_field', 'placement'],
      ['placement=read-next&colour=red', 'unknown_field', 'colour'],
    ] as const) {
      const res = await rec(qs);
      expect(res.statusCode, qs).toBe(400);
      expect(res.json().error, qs).toMatchObject({ code, field });
    }
  });
});

describe('deployments admin API', () => {
  it('reads the default placement and changes it with a revision check', async () => {
    const cur = (await t.app.inject({ method: 'GET', url: '/v1/admin/deployments/read-next', headers: admin })).json();
    expect(cur).toMatchObject({ name: 'read-next', live: { kind: 'co-read' }, defaultK: 5, ttlHours: 72 });
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/deployments/sidebar`,
      headers: admin,
      payload: {
        live: { kind: 'latest', version: '3', params: { sameSection: true } },
        fallbacks: [{ kind: 'popular', version: '1' }],
        pins: [{ slot: 1, articleId: 's3' }],
        blocked: ['w2'],
        maxPerSection: 2,
      },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'sidebar', revision: 1 });
    const body = (await rec('placement=sidebar&article=w1&k=4')).json();
    expect(body.recommender).toEqual({ kind: 'latest', version: '3' });
    expect(body.items[0]).toMatchObject({ articleId: 's3', reason: "editor's pick" });
    expect(ids(body)).not.toContain('w2');
    // Two world articles at most (diversity cap), the pin does not count.
    expect(ids(body).filter((id) => id.startsWith('w')).length).toBeLessThanOrEqual(2);

    const stale = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/deployments/sidebar?revision=0',
      headers: admin,
      payload: { live: { kind: 'none', version: '1' } },
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('conflict');
    const ok = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/deployments/sidebar',
      headers: { ...admin, 'if-match': '"1"' },
      payload: { live: { kind: 'none', version: '1' }, fallbacks: [] },
    });
    expect(ok.json().revision).toBe(2);
    // The status quo serves nothing, and the response is still recorded.
    const none = (await rec('placement=sidebar&article=w1')).json();
    expect(none.items).toEqual([]);
    expect(none.recommender).toEqual({ kind: 'none', version: '1' });
    const serves = (await t.app.inject({ method: 'GET', url: `/v1/admin/serves?recommId=${none.recommId}`, headers: admin })).json().items;
    expect(serves).toHaveLength(1);
  });

  it('the status quo shows nothing, not even editorial pins or fallbacks', async () => {
    const put = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/deployments/status-quo',
      headers: admin,
      payload: { live: { kind: 'none', version: '1' }, pins: [{ slot: 1, articleId: 's3' }] },
    });
    expect(put.statusCode).toBe(200);
    const body = (await rec('placement=status-quo&article=w1&k=3')).json();
    expect(body.items).toEqual([]);
    expect(body.fallback).toBe(false);
  });

  it('rejects unknown kinds and params naming the field', async () => {
    const kind = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/deployments/x',
      headers: admin,
      payload: { live: { kind: 'magic', version: '1' } },
    });
    expect(kind.statusCode).toBe(400);
    expect(kind.json().error).toMatchObject({ code: 'unknown_recommender', field: 'live.kind' });
    const param = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/deployments/x',
      headers: admin,
      payload: { live: { kind: 'popular', version: '1', params: { halfLife: 3 } } },
    });
    expect(param.json().error).toMatchObject({ code: 'unknown_field', field: 'live.params.halfLife' });
    const name = await t.app.inject({ method: 'PUT', url: '/v1/admin/deployments/Bad%20Name', headers: admin, payload: {} });
    expect(name.json().error).toMatchObject({ code: 'invalid_field', field: 'name' });
  });

  it('unpublishing an article removes it from slates at once', async () => {
    const before = ids((await rec('placement=read-next&article=s1&k=5')).json());
    expect(before).toContain('s2');
    await t.app.inject({ method: 'POST', url: '/v1/admin/articles/s2/unpublish', headers: admin });
    const after = ids((await rec('placement=read-next&article=s1&k=5')).json());
    expect(after).not.toContain('s2');
  });
});

describe('an unhandled error', () => {
  it('answers 500 with a stable code and logs the error with the request id, method and URL', async () => {
    const logged: { obj: Record<string, unknown>; msg: string }[] = [];
    const { createApp } = await import('../../../src/adapters/http/app.js');
    const { appDeps } = await import('../../../src/main/services.js');
    const broken = {
      prepare: () => undefined,
      recommend: () => {
        throw new Error('boom');
      },
    };
    const app = await createApp({
      ...appDeps(t.services),
      recommendations: broken as never,
      errorLog: { error: (obj, msg) => logged.push({ obj: obj as Record<string, unknown>, msg }) },
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=w1' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'internal', message: 'internal error', field: null } });
      expect(logged).toHaveLength(1);
      expect(logged[0]!.msg).toBe('unhandled error');
      expect((logged[0]!.obj.err as Error).message).toBe('boom');
      expect(logged[0]!.obj).toMatchObject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=w1' });
      expect(typeof logged[0]!.obj.reqId).toBe('string');
    } finally {
      await app.close();
    }
  });
});
