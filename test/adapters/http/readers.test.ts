import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { click, pageView, read, T0 } from '../../helpers/events.js';

let t: TestApp;
// An id as a cookie could hold it: a slash and a non-ASCII letter, URL-encoded in the path.
const GONE = 'reader/é 1';
const path = (id: string, tail = '') => `/v1/admin/readers/${encodeURIComponent(id)}${tail}`;

beforeAll(async () => {
  t = await testApp();
  for (const readerId of [GONE, 'other']) {
    const o = { readerId, sessionId: `s-${readerId}` };
    const r = await t.services.collector.ingest([pageView(T0 - 3000, o), click(T0 - 2000, o), read(T0 - 1000, o)], true);
    expect(r.accepted).toBe(3);
  }
});
afterAll(async () => t.close());

describe('reader privacy (admin API)', () => {
  it('needs the admin key', async () => {
    for (const [method, url] of [
      ['DELETE', path(GONE)],
      ['GET', path(GONE, '/export')],
    ] as const) {
      const res = await t.app.inject({ method, url });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/admin/readers/{id}', '/v1/admin/readers/{id}/export']));
  });

  it('GET .../export gives what was stored', async () => {
    const res = await t.app.inject({ url: path(GONE, '/export'), headers: admin });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ readerId: GONE, exposures: [], serves: [], truncated: [], limit: 100_000, exportedTs: T0 });
    expect(body.events.map((e: { type: string; readerId: string }) => [e.type, e.readerId])).toEqual([
      ['page_view', GONE],
      ['click', GONE],
      ['read', GONE],
    ]);
  });

  it('DELETE forgets the reader and says what it removed; then both routes answer 404 naming the id', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: path(GONE), headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      readerId: GONE,
      removed: { events: 3, exposures: 0, exposureSessions: 0, exposureUnpriced: 0, readerDays: 0, serves: 0 },
      erasure: 1,
    });
    expect(t.services.state.history(GONE)).toEqual([]);
    expect(t.services.state.history('other')).not.toEqual([]);
    for (const [method, url] of [
      ['DELETE', path(GONE)],
      ['GET', path(GONE, '/export')],
    ] as const) {
      const again = await t.app.inject({ method, url, headers: admin });
      expect(again.statusCode).toBe(404);
      expect(again.json().error).toMatchObject({ code: 'not_found', field: 'id' });
    }
    const other = await t.app.inject({ url: path('other', '/export'), headers: admin });
    expect(other.json().events).toHaveLength(3);
  });

  it('a bad id: 400 naming the field', async () => {
    const long = await t.app.inject({ method: 'DELETE', url: path('x'.repeat(129)), headers: admin });
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({ code: 'invalid_field', field: 'id' });
    const nul = await t.app.inject({ url: '/v1/admin/readers/x%00/export', headers: admin });
    expect(nul.statusCode).toBe(400);
    expect(nul.json().error).toMatchObject({ code: 'invalid_text', field: 'id' });
  });
});
