import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { click, impression, pageView, read, T0 } from '../../helpers/events.js';

// GET /v1/admin/kpis through the collector and the app: 1 page view, 2 reads by one reader, a live
// impression of read-next with one click, on 2026-03-01 (T0); exact figures (app/kpis.ts has the rest).
let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/events',
    payload: { events: [pageView(T0), read(T0), read(T0 + 1000, { articleId: 'a2' }), impression(T0), click(T0 + 2000)] },
  });
  expect(res.json()).toMatchObject({ accepted: 5, rejected: 0 });
});
afterAll(async () => t.close());

describe('GET /v1/admin/kpis', () => {
  it('answers the KPIs per day of the window', async () => {
    const res = await t.app.inject({ url: '/v1/admin/kpis?since=2026-03-01&until=2026-03-03', headers: admin });
    expect(res.statusCode).toBe(200);
    const r = res.json();
    expect(r).toMatchObject({
      since: '2026-03-01T00:00:00.000Z',
      until: '2026-03-03T00:00:00.000Z',
      currency: 'EUR',
      placements: ['read-next'],
    });
    expect(r.days).toHaveLength(2);
    expect(r.days[0]).toMatchObject({
      day: '2026-03-01',
      pageViews: 1,
      reads: 2,
      readers: 1,
      readingReaders: 1,
      readsPerReader: 2,
      ctr: { 'read-next': { impressions: 1, clicks: 1, ctr: 1 } },
      subscriptions: 0,
      revenue: 0,
    });
    expect(r.days[1]).toMatchObject({ day: '2026-03-02', pageViews: 0, readsPerReader: null, ctr: {} });
    expect(r.revenueWarning).toBeNull();
  });

  it('defaults to the 14 days before now', async () => {
    const r = (await t.app.inject({ url: '/v1/admin/kpis', headers: admin })).json();
    expect(r.until).toBe(new Date(T0).toISOString());
    expect(r.since).toBe(new Date(T0 - 14 * 86_400_000).toISOString());
    expect(r.days).toHaveLength(15); // both ends are partial days
  });

  it('needs the admin key', async () => {
    expect((await t.app.inject({ url: '/v1/admin/kpis' })).statusCode).toBe(401);
  });

  it('bad bounds: 400 invalid_field naming the field', async () => {
    const bad = await t.app.inject({ url: '/v1/admin/kpis?since=march', headers: admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_field', field: 'since' });
    const long = await t.app.inject({ url: '/v1/admin/kpis?since=2026-01-01&until=2026-04-04', headers: admin });
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({ code: 'invalid_field', field: 'since' });
    const empty = await t.app.inject({ url: '/v1/admin/kpis?since=2026-03-02&until=2026-03-01', headers: admin });
    expect(empty.json().error).toMatchObject({ code: 'invalid_field', field: 'until' });
  });
});
