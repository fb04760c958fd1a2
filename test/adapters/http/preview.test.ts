/**
 * GET /v1/admin/preview (real app, SQLite in memory, clock fixed at T0): every deployed
 * recommender's slate side by side, the live one equal to what /v1/recommendations serves, and
 * nothing written or counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { read, T0 } from '../../helpers/events.js';

let t: TestApp;
const HOUR = 3_600_000;
const P = 'pv';

const article = (id: string, section: string, hoursAgo: number) => ({
  id,
  title: `Title ${id}`,
  url: `https://news.example/${id}`,
  section,
  publishedAt: new Date(T0 - hoursAgo * HOUR).toISOString(),
});

const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: admin, ...(payload === undefined ? {} : { payload }) });

interface Slate {
  role: string;
  experiment: string | null;
  arm: string | null;
  recommender: { kind: string; version: string };
  fallback: boolean;
  items: { articleId: string; title: string; position: number; reason: string }[];
}
const ids = (s: { items: { articleId: string }[] }) => s.items.map((i) => i.articleId);
const preview = async (qs: string): Promise<{ k: number; revision: number; warming: boolean; slates: Slate[] }> => {
  const res = await call('GET', `/v1/admin/preview?${qs}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

beforeAll(async () => {
  t = await testApp();
  // Newest first: c1, w1, s1, w2, w3, w4, s2, c2.
  const articles = [
    article('w1', 'world', 1),
    article('w2', 'world', 2),
    article('w3', 'world', 3),
    article('w4', 'world', 4),
    article('s1', 'sport', 1.5),
    article('s2', 'sport', 5),
    article('c1', 'culture', 0.5),
    article('c2', 'culture', 6),
  ];
  expect((await call('POST', '/v1/admin/articles', { articles })).statusCode).toBe(200);
  // Live: the latest of the article's section; shadow: the latest of all; a canary; a running A/B test.
  const put = await call('PUT', `/v1/admin/deployments/${P}`, {
    live: { kind: 'latest', version: '1', params: { sameSection: true } },
    fallbacks: [],
    shadows: [{ kind: 'latest', version: 'all' }],
  });
  expect(put.statusCode, put.body).toBe(200);
  const canary = await call('POST', `/v1/admin/deployments/${P}/canary`, {
    recommender: { kind: 'popular', version: 'c' },
    percent: 5,
    guardrails: { maxErrorRate: 0.01, maxP99LatencyMs: 250, minCtrRatio: 0.9 },
  });
  expect(canary.statusCode, canary.body).toBe(200);
  const exp = await call('POST', '/v1/admin/experiments', {
    id: 'pv-ab',
    placement: P,
    layer: 'pv',
    arms: [
      { name: 'control', recommender: { kind: 'none', version: '1' }, weight: 0.5 },
      { name: 'treatment', recommender: { kind: 'latest', version: 'ab' }, weight: 0.5 },
    ],
  });
  expect(exp.statusCode, exp.body).toBe(201);
  expect((await call('POST', '/v1/admin/experiments/pv-ab/start')).statusCode).toBe(200);
});
afterAll(async () => t.close());

describe('GET /v1/admin/preview', () => {
  it('gives the live, shadow, canary and arm slates side by side, with titles, positions and reasons', async () => {
    const p = await preview(`placement=${P}&article=w1&k=3`);
    expect(p).toMatchObject({ k: 3, warming: false });
    expect(p.slates.map((s) => [s.role, s.recommender.kind, s.recommender.version, s.experiment, s.arm])).toEqual([
      ['live', 'latest', '1', null, null],
      ['shadow', 'latest', 'all', null, null],
      ['canary', 'popular', 'c', null, null],
      ['arm', 'none', '1', 'pv-ab', 'control'],
      ['arm', 'latest', 'ab', 'pv-ab', 'treatment'],
    ]);
    const [live, shadow, , control, treatment] = p.slates as [Slate, Slate, Slate, Slate, Slate];
    expect(ids(live)).toEqual(['w2', 'w3', 'w4']);
    expect(ids(shadow)).toEqual(['c1', 's1', 'w2']);
    expect(ids(control)).toEqual([]);
    expect(ids(treatment)).toEqual(['c1', 's1', 'w2']);
    expect(live.items[0]).toMatchObject({ articleId: 'w2', title: 'Title w2', position: 1 });
    expect(live.items.map((i) => i.position)).toEqual([1, 2, 3]);
    expect(live.items.every((i) => i.reason.length > 0)).toBe(true);
  });

  it('gives the live slate /v1/recommendations serves on the same request, and writes and counts nothing', async () => {
    const before = (await call('GET', '/v1/admin/serving/stats')).json();
    const servesBefore = (await call('GET', '/v1/admin/serves?limit=1000')).json().items.length;
    const p = await preview(`placement=${P}&article=w3&k=4`);
    const stats = (await call('GET', '/v1/admin/serving/stats')).json();
    expect(stats).toEqual(before);
    expect((await call('GET', '/v1/admin/serves?limit=1000')).json().items.length).toBe(servesBefore);
    expect((await call('GET', '/v1/admin/exposures?experiment=pv-ab')).json().items).toEqual([]);

    // An anonymous reader is in no experiment or canary: served by the live recommender.
    const rec = await t.app.inject({ method: 'GET', url: `/v1/recommendations?placement=${P}&article=w3&k=4` });
    expect(rec.statusCode).toBe(200);
    const served = rec.json();
    expect(served.recommender).toEqual({ kind: 'latest', version: '1' });
    const live = p.slates[0]!;
    expect(live.items.map(({ articleId, title, position, reason }) => ({ articleId, title, position, reason }))).toEqual(
      served.items.map(({ articleId, title, position, reason }: Slate['items'][number]) => ({ articleId, title, position, reason })),
    );
    expect(live.fallback).toBe(served.fallback);
    // The check above sees writes: the served request wrote its live and shadow records.
    expect((await call('GET', '/v1/admin/serves?limit=1000')).json().items.length).toBeGreaterThan(servesBefore);
  });

  it('leaves out what the reader has read', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: { events: [read(T0, { readerId: 'pv-reader', articleId: 'w2' })] },
    });
    expect(res.json().accepted, res.body).toBe(1);
    await expect.poll(async () => ids((await preview(`placement=${P}&article=w1&k=3&reader=pv-reader`)).slates[0]!)).toEqual(['w3', 'w4']);
    expect(ids((await preview(`placement=${P}&article=w1&k=3`)).slates[0]!)).toEqual(['w2', 'w3', 'w4']);
    // The reader was not assigned to the experiment by the preview.
    expect((await call('GET', '/v1/admin/exposures?experiment=pv-ab')).json().items).toEqual([]);
  });

  it('refuses an unknown placement, a bad k, and a request without the admin key', async () => {
    const unknown = await call('GET', '/v1/admin/preview?placement=nowhere&article=w1');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({ code: 'unknown_placement', field: 'placement' });
    const k = await call('GET', `/v1/admin/preview?placement=${P}&k=0`);
    expect(k.statusCode).toBe(400);
    const anon = await t.app.inject({ method: 'GET', url: `/v1/admin/preview?placement=${P}` });
    expect(anon.statusCode).toBe(401);
  });

  it('GET /v1/admin/articles?q= finds titles containing the text; total counts the matches', async () => {
    const res = await call('GET', '/v1/admin/articles?q=TITLE%20W&limit=2');
    expect(res.statusCode).toBe(200);
    expect(res.json().total).toBe(4);
    expect(res.json().items.map((a: { id: string }) => a.id)).toEqual(['w1', 'w2']);
    const sport = await call('GET', '/v1/admin/articles?q=title&section=sport');
    expect(sport.json()).toMatchObject({ total: 2 });
    expect((await call('GET', '/v1/admin/articles?q=%25')).json()).toMatchObject({ total: 0, items: [] });
  });
});
