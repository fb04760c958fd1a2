/**
 * The ROI over the admin API (issue 19): POST /v1/admin/roi answers what `readnext roi --json`
 * prints for the same document; an invalid document is a 400 naming the field; updates are stored
 * as revisions and listed; no key is a 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyseScenario } from '../../../src/app/roi.js';
import { admin, testApp, type TestApp } from '../../helpers/app.js';

const DOC = {
  samples: 10000,
  seed: 3,
  parameters: { p1: { dist: 'normal', mean: 1, sd: 1 }, p2: { dist: 'lognormal', p5: 0.5, p95: 2 } },
  options: { a: '0', b: 'p1 - p2' },
};

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

describe('the ROI admin routes', () => {
  it('POST /v1/admin/roi gives the analysis of the CLI for the same document', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/roi', headers: admin, payload: DOC });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(analyseScenario(DOC))));
    expect(res.json().best).toBe('a'); // E[p2] ≈ 1.13 > E[p1] = 1
  });

  it('answers 400 naming the field for an invalid document, 401 without the key', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/roi',
      headers: admin,
      payload: { ...DOC, options: { a: '0', b: 'p1 - p9' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_field', field: 'options.b' });
    expect(bad.json().error.message).toContain('p9');
    const anon = await t.app.inject({ method: 'POST', url: '/v1/admin/roi', payload: DOC });
    expect(anon.statusCode).toBe(401);
  });

  it('stores updates as revisions and lists them', async () => {
    const first = await t.app.inject({ method: 'POST', url: '/v1/admin/roi/update?name=http', headers: admin, payload: DOC });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ name: 'http', previous: null });
    const second = await t.app.inject({ method: 'POST', url: '/v1/admin/roi/update?name=http', headers: admin, payload: DOC });
    expect(second.json().previous).toBe(first.json().revision);
    const list = await t.app.inject({ url: '/v1/admin/roi/revisions?name=http', headers: admin });
    expect(list.json().revisions.map((r: { id: number }) => r.id)).toEqual([first.json().revision, second.json().revision]);
    const measured = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/roi/update',
      headers: admin,
      payload: {
        ...DOC,
        parameters: { ...DOC.parameters, p1: { dist: 'normal', mean: 1, sd: 1, measured_by: 'experiment:missing:articles_read' } },
      },
    });
    expect(measured.statusCode).toBe(404);
    expect(measured.json().error.message).toContain('missing');
  });
});
