/**
 * A recommender kind registered from outside core, as a learned model will be: defined with its
 * params spec, `create` and an async `prepare` (its artifact), put in the registry given to
 * openServices, then deployed through the HTTP admin API live and as a shadow, with no switch to
 * edit anywhere. SQLite in memory, clock fixed at T0.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/adapters/http/app.js';
import { loadConfig } from '../../src/config/config.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { defineKind } from '../../src/core/recommend/registry.js';
import { appRecommenders } from '../../src/main/recommenders.js';
import { appDeps, openServices, type Services } from '../../src/main/services.js';
import { admin, ADMIN_KEY, INGEST_KEY } from '../helpers/app.js';
import { T0 } from '../helpers/events.js';

const HOUR = 3_600_000;
/** Artifacts loaded, by version: each is loaded once and kept while its version and params stay. */
const prepared: string[] = [];

/** The desk's picks, "loaded" per version (a stand-in for a model file), at most `max` of them. */
const editorsPicks = defineKind({
  kind: 'editors-picks',
  doc: 'articles chosen by the desk, in their order',
  params: { max: { type: 'integer', default: 3, min: 1, max: 10, doc: 'most picks shown' } },
  async prepare({ version }) {
    prepared.push(version);
    return version === '1' ? ['p3', 'p1', 'p2'] : ['p2', 'p3'];
  },
  create: ({ kind, version, params }, _state, picks: string[]) => ({
    kind,
    version,
    recommend: (ctx, limit) =>
      picks
        .filter((id) => ctx.eligible(id))
        .slice(0, Math.min(limit, params.max))
        .map((id, i) => ({ articleId: id, score: -i, reason: 'chosen by the desk' })),
  }),
});

let services: Services;
let app: FastifyInstance;
const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
  app.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });

beforeAll(async () => {
  const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent' }, {});
  services = await openServices(config, { clock: fixedClock(T0), registry: appRecommenders().register(editorsPicks) });
  app = await createApp(appDeps(services));
  const articles = ['p1', 'p2', 'p3', 'x1'].map((id, i) => ({
    id,
    title: `Title ${id}`,
    section: 'world',
    publishedAt: new Date(T0 - (i + 1) * HOUR).toISOString(),
  }));
  expect((await call('POST', '/v1/admin/articles', { articles })).statusCode).toBe(200);
});
afterAll(async () => {
  await app.close();
  await services.close();
});

describe('a recommender kind registered outside core', () => {
  it('is deployed live through the admin API and serves the next request', async () => {
    const res = await call('POST', '/v1/admin/deployments/read-next/live', {
      recommender: { kind: 'editors-picks', version: '1', params: { max: 2 } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().live).toEqual({ kind: 'editors-picks', version: '1', params: { max: 2 } });
    const rec = (await app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=x1&k=3' })).json();
    expect(rec.recommender).toEqual({ kind: 'editors-picks', version: '1' });
    expect(rec.items.map((i: { articleId: string }) => i.articleId).slice(0, 2)).toEqual(['p3', 'p1']);
    expect(rec.items[0].reason).toBe('chosen by the desk');
    expect(prepared).toEqual(['1']);
  });

  it('runs as a shadow; the live artifact is kept across the refresh, the new version loaded once', async () => {
    const res = await call('POST', '/v1/admin/deployments/read-next/shadows', { recommender: { kind: 'editors-picks', version: '2' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().shadows).toEqual([{ kind: 'editors-picks', version: '2' }]);
    const rec = (await app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=x1&k=3' })).json();
    let shadow: { slate: { articleId: string }[] } | undefined;
    await expect
      .poll(
        async () =>
          (shadow = (await call('GET', `/v1/admin/serves?recommId=${rec.recommId}`))
            .json()
            .items.find((s: { shadow: boolean }) => s.shadow)),
        { timeout: 5_000, interval: 10 },
      )
      .toBeDefined();
    expect(shadow!.slate.map((i) => i.articleId)).toEqual(['p2', 'p3']);
    expect(prepared).toEqual(['1', '2']);
  });

  it('an unknown param is a 400 naming the field, and nothing is deployed', async () => {
    const res = await call('POST', '/v1/admin/deployments/read-next/live', {
      recommender: { kind: 'editors-picks', version: '3', params: { maxx: 2 } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'unknown_field', field: 'live.params.maxx' });
    const out = await call('POST', '/v1/admin/deployments/read-next/shadows', {
      recommender: { kind: 'editors-picks', version: '3', params: { max: 11 } },
    });
    expect(out.statusCode).toBe(400);
    expect(out.json().error).toMatchObject({ code: 'invalid_field', field: 'shadows/1.params.max' });
    expect((await call('GET', '/v1/admin/deployments/read-next')).json().live).toEqual({
      kind: 'editors-picks',
      version: '1',
      params: { max: 2 },
    });
    expect(prepared).toEqual(['1', '2']);
  });

  it('is unknown to a registry that does not hold it', () => {
    expect(() => appRecommenders().validate({ kind: 'editors-picks', version: '1' })).toThrow(/unknown recommender kind "editors-picks"/);
    expect(() => appRecommenders().register(editorsPicks, editorsPicks)).toThrow(/already registered/);
  });
});
