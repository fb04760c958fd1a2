import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t?.close());

/**
 * The router decodes a percent-encoded path (`/v1/%61dmin/…` reaches `/v1/admin/…`) while the raw
 * URL keeps the escape: a check on the raw URL let these requests through without a key.
 */
describe('the admin API behind a percent-encoded path', () => {
  it.each([
    ['GET', '/v1/%61dmin/articles'],
    ['GET', '/v1/%61dmin/serves'],
    ['GET', '/v1/%61dmin/kpis'],
    ['GET', '/v1/%61dmin/exposures?experiment=x'],
    ['POST', '/v1/%61dmin/articles'],
    ['DELETE', '/v1/%61dmin/articles/a1'],
  ] as const)('%s %s without a key is 401', async (method, url) => {
    const res = await t.app.inject({ method, url, payload: method === 'POST' ? { id: 'a1' } : undefined });
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error.code).toBe('unauthorized');
  });

  it('with the admin key it still works', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/%61dmin/articles', headers: admin })).statusCode).toBe(200);
  });
});
