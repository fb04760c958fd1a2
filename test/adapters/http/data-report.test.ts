import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { read, T0 } from '../../helpers/events.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  const res = await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events: [read(T0), read(T0, { dwellMs: -1 })] } });
  expect(res.json()).toMatchObject({ accepted: 1, rejected: 1 });
});
afterAll(async () => t.close());

describe('GET /v1/admin/data/report', () => {
  it('answers the report, with the collector rejections of the day', async () => {
    const res = await t.app.inject({ url: '/v1/admin/data/report?since=2026-03-01&until=2026-03-02', headers: admin });
    expect(res.statusCode).toBe(200);
    const r = res.json();
    expect(r.quality.events).toBe(1);
    expect(r.quality.rejections).toEqual({
      total: 1,
      byReason: { invalid_field: 1 },
      byDay: [{ day: '2026-03-01', reason: 'invalid_field', count: 1 }],
    });
    expect(r.signal).toBeNull();
    expect(r.stability.days.map((d: { day: string }) => d.day)).toEqual(['2026-03-01']);
  });

  it('needs the admin key', async () => {
    const res = await t.app.inject({ url: '/v1/admin/data/report' });
    expect(res.statusCode).toBe(401);
  });

  it('bad bounds: 400 invalid_field naming the field', async () => {
    const res = await t.app.inject({ url: '/v1/admin/data/report?since=march', headers: admin });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_field', field: 'since' });
    const empty = await t.app.inject({ url: '/v1/admin/data/report?since=2026-03-02&until=2026-03-01', headers: admin });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatchObject({ code: 'invalid_field', field: 'until' });
    const extra = await t.app.inject({ url: '/v1/admin/data/report?day=1', headers: admin });
    expect(extra.statusCode).toBe(400);
  });
});
