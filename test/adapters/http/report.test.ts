import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { read, T0 } from '../../helpers/events.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  const articles = Array.from({ length: 6 }, (_, i) => ({
    id: `r${i}`,
    title: `T${i}`,
    section: 's',
    publishedAt: new Date(T0 - (i + 1) * 3_600_000).toISOString(),
  }));
  expect((await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } })).statusCode).toBe(200);
});
afterAll(async () => t.close());

describe('GET /v1/admin/experiments/:id/report', () => {
  it('reports business metrics per arm from exposures and events, with SRM and verdicts', async () => {
    const create = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/experiments',
      headers: admin,
      payload: {
        id: 'rep-1',
        placement: 'read-next',
        layer: 'rep',
        arms: [
          { name: 'control', recommender: { kind: 'none', version: '1' } },
          { name: 'b', recommender: { kind: 'latest', version: '1' } },
        ],
      },
    });
    expect(create.statusCode).toBe(201);
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/experiments/rep-1/start', headers: admin })).statusCode).toBe(200);
    // 40 readers get a recommendation (and so an exposure), then each reads twice (b) or once (control).
    const arms = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const r = (await t.app.inject(`/v1/recommendations?placement=read-next&article=r0&reader=rd${i}&session=s${i}`)).json();
      arms.set(`rd${i}`, r.arm);
    }
    t.clock.advance(1000);
    const events = [...arms].flatMap(([reader, arm]) =>
      Array.from({ length: arm === 'b' ? 2 : 1 }, (_, j) =>
        read(T0 + 1000 + j, { readerId: reader, sessionId: `s-${reader}`, articleId: 'r1' }),
      ),
    );
    expect((await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events } })).json().accepted).toBe(events.length);
    t.clock.advance(1000);
    // The rollups lag ingestion by READNEXT_ROLLUP_LAG_MS (5 s): one second after the reads they are not in yet, and the report says so.
    const early = (await t.app.inject({ method: 'GET', url: '/v1/admin/experiments/rep-1/report', headers: admin })).json();
    expect(early.dataThroughTs).toBe(t.clock.now() - 5000);
    expect(early.metrics.find((m: { metric: string }) => m.metric === 'articles_read').arms.map((a: { value: number }) => a.value)).toEqual(
      [0, 0],
    );
    t.clock.advance(5000);

    const res = await t.app.inject({ method: 'GET', url: '/v1/admin/experiments/rep-1/report', headers: admin });
    expect(res.statusCode).toBe(200);
    const rep = res.json();
    const nB = [...arms.values()].filter((a) => a === 'b').length;
    expect(rep).toMatchObject({
      experiment: 'rep-1',
      phase: 1,
      engine: 'frequentist',
      srm: { observed: [40 - nB, nB], weights: [0.5, 0.5] },
      dataThroughTs: t.clock.now() - 5000,
    });
    const read1 = rep.metrics.find((m: { metric: string }) => m.metric === 'articles_read');
    expect(read1.arms).toEqual([
      { arm: 'control', n: 40 - nB, value: 1, se: 0 },
      { arm: 'b', n: nB, value: 2, se: 0 },
    ]);
    // Zero variance in both arms: the engine cannot analyse the pair and says so plainly.
    expect(read1.comparisons[0].verdict).toMatch(/no detectable effect yet/);
    const dwell = rep.metrics.find((m: { metric: string }) => m.metric === 'dwell_per_read');
    expect(dwell.arms.map((a: { value: number }) => a.value)).toEqual([42_000, 42_000]);
    expect(rep.metrics.map((m: { metric: string }) => m.metric)).toEqual([
      'ctr',
      'articles_read',
      'pages_per_session',
      'dwell_per_read',
      'conversion',
      'revenue_per_reader',
    ]);
    expect(rep.metrics.map((m: { role: string }) => m.role)).toEqual([
      'secondary',
      'primary',
      'secondary',
      'guardrail',
      'guardrail',
      'secondary',
    ]);
    // The experiment's primary and guardrails (the defaults here), one decision for the one treatment arm.
    expect(rep.design).toEqual({
      primaryMetric: 'articles_read',
      guardrailMetrics: ['conversion', 'dwell_per_read'],
      secondaryMetrics: ['ctr', 'pages_per_session', 'revenue_per_reader'],
      alpha: 0.05,
      adjustment: 'holm',
    });
    expect(rep.decisions).toEqual([
      { arm: 'b', decision: 'keep_running', sentence: expect.stringMatching(/^no detectable effect on articles read per reader yet/) },
    ]);
    // These readers sent reads but no page view: the data-loss check cannot run and says why.
    expect(rep.dataQuality.activeShare).toMatchObject({
      flag: false,
      pValue: 1,
      note: "not run: no exposed reader sent a page view (the check needs the SDK's page_view events)",
    });
    expect(rep.trust).toEqual([]);

    // Guardrails per arm from the serve records: 40 responses in all, no faults.
    expect(rep.guardrails.map((g: { arm: string }) => g.arm)).toEqual(['control', 'b']);
    expect(rep.guardrails.reduce((a: number, g: { responses: number }) => a + g.responses, 0)).toBe(40);
    expect(rep.guardrails.every((g: { errorRate: number | null }) => g.errorRate === 0)).toBe(true);
    const bad = await t.app.inject({ method: 'GET', url: '/v1/admin/experiments/nope/report', headers: admin });
    expect(bad.statusCode).toBe(404);
  });

  it('PATCH weights without reRandomise warns, and that phase\'s report is "do not trust" in the JSON', async () => {
    const body = {
      id: 'rep-w',
      placement: 'read-next',
      layer: 'rep-w',
      primaryMetric: 'ctr',
      guardrailMetrics: ['articles_read'],
      arms: [
        { name: 'control', recommender: { kind: 'none', version: '1' } },
        { name: 'b', recommender: { kind: 'latest', version: '1' } },
      ],
    };
    const create = await t.app.inject({ method: 'POST', url: '/v1/admin/experiments', headers: admin, payload: body });
    expect(create.json()).toMatchObject({ primaryMetric: 'ctr', guardrailMetrics: ['articles_read'] });
    const badMetric = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/experiments',
      headers: admin,
      payload: { ...body, id: 'rep-x', guardrailMetrics: ['conversion', 'clicks'] },
    });
    expect(badMetric.statusCode).toBe(400);
    expect(badMetric.json().error).toMatchObject({ code: 'invalid_field', field: 'guardrailMetrics/1' });
    expect((await t.app.inject({ method: 'POST', url: '/v1/admin/experiments/rep-w/start', headers: admin })).statusCode).toBe(200);
    const changed = await t.app.inject({
      method: 'PATCH',
      url: '/v1/admin/experiments/rep-w',
      headers: admin,
      payload: { weights: [0.2, 0.8] },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      phase: 2,
      warning: expect.stringMatching(
        /^phase 2 has weights 0\.2,0\.8 where phase 1 had 0\.5,0\.5, without re-randomising: .*"reRandomise": true\)$/,
      ),
    });
    const rep = (await t.app.inject({ method: 'GET', url: '/v1/admin/experiments/rep-w/report', headers: admin })).json();
    expect(rep.design.primaryMetric).toBe('ctr');
    expect(rep.trust.map((x: { code: string }) => x.code)).toEqual(['unbalanced_phase']);
    expect(rep.decisions[0]).toMatchObject({
      decision: 'untrustworthy',
      sentence: expect.stringMatching(/^do not trust these results: phase 2 has weights/),
    });
    for (const m of rep.metrics)
      expect(m.comparisons[0].verdict).toBe('do not trust these results (weights changed without re-randomising)');
    const again = await t.app.inject({
      method: 'PATCH',
      url: '/v1/admin/experiments/rep-w',
      headers: admin,
      payload: { weights: [0.5, 0.5], reRandomise: true },
    });
    expect(again.json()).toMatchObject({ phase: 3, warning: null });
  });
});
