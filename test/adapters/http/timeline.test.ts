import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { read, T0 } from '../../helpers/events.js';

// GET /v1/admin/experiments/:id/timeline: snapshots taken by the server's rollups as its clock
// moves (every hour of data by default), and the last point equal to the sequential report's figures.

const HOUR = 3_600_000;
let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  const articles = Array.from({ length: 4 }, (_, i) => ({
    id: `t${i}`,
    title: `T${i}`,
    section: 's',
    publishedAt: new Date(T0 - (i + 1) * HOUR).toISOString(),
  }));
  expect((await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } })).statusCode).toBe(200);
  const create = await t.app.inject({
    method: 'POST',
    url: '/v1/admin/experiments',
    headers: admin,
    payload: {
      id: 'tl-1',
      placement: 'read-next',
      layer: 'tl',
      arms: [
        { name: 'control', recommender: { kind: 'none', version: '1' } },
        { name: 'b', recommender: { kind: 'latest', version: '1' } },
      ],
    },
  });
  expect(create.statusCode).toBe(201);
});
afterAll(async () => t.close());

const get = (url: string) => t.app.inject({ method: 'GET', url, headers: admin });

/** `count` new readers get a recommendation (an exposure) and read once (control) or twice (b), an hour passes. */
async function hourOfTraffic(from: number, count: number) {
  const events = [];
  for (let i = from; i < from + count; i++) {
    const r = (await t.app.inject(`/v1/recommendations?placement=read-next&article=t0&reader=tr${i}&session=ts${i}`)).json();
    const ts = t.clock.now() + 1000;
    for (let j = 0; j < (r.arm === 'b' ? 2 : 1) + (i % 2); j++)
      events.push(read(ts + j, { readerId: `tr${i}`, sessionId: `ts${i}`, articleId: 't1' }));
  }
  t.clock.advance(1000);
  expect((await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events } })).json().accepted).toBe(events.length);
  t.clock.advance(HOUR);
}

describe('GET /v1/admin/experiments/:id/timeline', () => {
  it('404 for an unknown experiment, 409 before the start', async () => {
    const missing = await get('/v1/admin/experiments/nope/timeline');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'not_found', field: 'id' });
    const draft = await get('/v1/admin/experiments/tl-1/timeline');
    expect(draft.statusCode).toBe(409);
    expect(draft.json().error.code).toBe('invalid_state');
  });

  it('one point per hour of data (a snapshot at each look), the last one the sequential report', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/experiments/tl-1/start', headers: admin })).statusCode).toBe(200);
    // Four hours of traffic, the timeline looked at after each (each look catches the rollups up).
    for (let h = 0; h < 4; h++) {
      await hourOfTraffic(h * 20, 20);
      expect((await get('/v1/admin/experiments/tl-1/timeline')).statusCode).toBe(200);
    }
    const res = await get('/v1/admin/experiments/tl-1/timeline?alpha=0.05');
    expect(res.statusCode).toBe(200);
    const tl = res.json();
    expect(tl).toMatchObject({ experiment: 'tl-1', phase: 1, metric: 'articles_read', alpha: 0.05, engine: 'sequential' });
    // The looks' data-through times are 1, 2, 3, 4 hours (and 1 s) after the start less the 5 s lag:
    // the first has less than an hour of data, so snapshots at the 2nd, 3rd and 4th; the 4th is now,
    // which the sums now stand for.
    expect(tl.points.length).toBe(3);
    const ns = tl.points.map((p: { arms: { n: number }[] }) => p.arms[0]!.n);
    expect(ns[0]).toBeLessThan(ns[1]);
    expect(ns[1]).toBeLessThan(ns[2]);
    expect(ns[0]).toBeGreaterThan(0);
    for (const p of tl.points) {
      expect(p.arms.map((a: { arm: string }) => a.arm)).toEqual(['b']);
      const [a] = p.arms;
      expect(a.ci[0]).toBeLessThan(a.estimate);
      expect(a.ci[1]).toBeGreaterThan(a.estimate);
    }
    const report = (await get('/v1/admin/experiments/tl-1/report?engine=sequential')).json();
    const reads = report.metrics.find((m: { metric: string }) => m.metric === 'articles_read').comparisons[0];
    const last = tl.points.at(-1).arms[0];
    expect(tl.points.at(-1).ts).toBe(report.dataThroughTs);
    expect(last.estimate).toBeCloseTo(reads.estimate, 12);
    expect(last.ci[0]).toBeCloseTo(reads.ci[0], 12);
    expect(last.ci[1]).toBeCloseTo(reads.ci[1], 12);
  });

  it('400 naming the field for an unknown metric, a phase it does not have or a bad alpha; any report metric works', async () => {
    const bad = await get('/v1/admin/experiments/tl-1/timeline?metric=nope');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_field', field: 'metric' });
    const phase = await get('/v1/admin/experiments/tl-1/timeline?phase=7');
    expect(phase.statusCode).toBe(400);
    expect(phase.json().error.field).toBe('phase');
    const alpha = await get('/v1/admin/experiments/tl-1/timeline?alpha=2');
    expect(alpha.statusCode).toBe(400);
    expect(alpha.json().error.field).toMatch(/alpha/);
    const ctr = await get('/v1/admin/experiments/tl-1/timeline?metric=conversion');
    expect(ctr.statusCode).toBe(200);
    expect(ctr.json().metric).toBe('conversion');
  });

  it('needs the admin key', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/experiments/tl-1/timeline' })).statusCode).toBe(401);
  });
});
