import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const SHAPE = {
  error: {
    code: expect.any(String),
    message: expect.any(String),
    field: expect.toSatisfy((f: unknown) => f === null || typeof f === 'string'),
  },
};

describe('every error in the one shape', () => {
  it("a URL that does not decode (a lone surrogate's UTF-8): 400 bad_request, not Fastify's own body", async () => {
    for (const url of ['/v1/admin/articles/%ED%A0%80', '/v1/admin/experiments/%E0%A4%A']) {
      const res = await t.app.inject({ method: 'GET', url, headers: admin });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toEqual(SHAPE);
      expect(res.json().error.code).toBe('bad_request');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('a path segment over the router limit: 414 url_too_long', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/admin/articles/${'x'.repeat(600)}`, headers: admin });
    expect(res.statusCode).toBe(414);
    expect(res.json()).toEqual(SHAPE);
    expect(res.json().error.code).toBe('url_too_long');
  });

  it('names query-string and route fields bare, body fields by their path', async () => {
    const query = await t.app.inject({ method: 'GET', url: '/v1/admin/articles?limit=abc', headers: admin });
    expect(query.json().error).toMatchObject({ code: 'invalid_field', field: 'limit' });
    const unknown = await t.app.inject({ method: 'GET', url: '/v1/admin/serves?colour=red', headers: admin });
    expect(unknown.json().error).toMatchObject({ code: 'unknown_field', field: 'colour' });
    const missing = await t.app.inject({ method: 'GET', url: '/v1/admin/exposures', headers: admin });
    expect(missing.json().error).toMatchObject({ code: 'missing_field', field: 'experiment' });
    const param = await t.app.inject({ method: 'GET', url: `/v1/admin/articles/${'x'.repeat(300)}`, headers: admin });
    expect(param.json().error).toMatchObject({ code: 'invalid_field', field: 'id' });
    const body = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles: [], extra: 1 } });
    expect(body.json().error).toMatchObject({ code: 'unknown_field', field: 'extra' });
    const recs = await t.app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&k=0' });
    expect(recs.json().error).toMatchObject({ code: 'invalid_field', field: 'k' });
  });

  it('the OpenAPI document lists the error codes', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    const error = doc.paths['/v1/events'].post.responses['400'].content['application/json'].schema.properties.error;
    expect(error.properties.code.enum).toEqual(
      expect.arrayContaining([
        'invalid_field',
        'invalid_encoding',
        'bad_request',
        'request_timeout',
        'headers_too_large',
        'url_too_long',
        'internal',
      ]),
    );
  });

  it('an unsupported media type: the same shape', async () => {
    const media = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: '<events/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(media.statusCode).toBe(415);
    expect(media.json()).toEqual(SHAPE);
  });
});
