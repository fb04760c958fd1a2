import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, INGEST_KEY, testApp, type TestApp } from '../../helpers/app.js';
import { MAX_EVENTS_PER_BATCH } from '../../../src/app/collector.js';
import { DEFAULTS } from '../../../src/config/config.js';
import { click, impression, nextId, pageView, read, subscribe, T0 } from '../../helpers/events.js';
import { largestMaximalEvent, maximalEvent } from '../../helpers/maximal-events.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ corsOrigins: ['https://news.example'] });
});
afterAll(async () => t.close());

const post = (body: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/events',
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('POST /v1/events: valid batches', () => {
  it('accepts every browser type and stores it before replying', async () => {
    const events = [pageView(), impression(), click(), read()];
    const res = await post({ events });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 4, duplicates: 0, conflicts: 0, rejected: 0 });
    expect(body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    const stored = await t.services.storage.getEvents(events.map((e) => e.eventId));
    expect(stored).toHaveLength(4);
    expect(stored.every((e) => e.receivedTs === T0)).toBe(true);
  });

  it('takes text/plain bodies as JSON (navigator.sendBeacon)', async () => {
    const res = await post({ events: [read()] }, { 'content-type': 'text/plain;charset=UTF-8' });
    expect(res.statusCode).toBe(200);
    expect(res.json().accepted).toBe(1);
  });

  it('accepts a batch of 1000', async () => {
    const res = await post({ events: Array.from({ length: 1000 }, () => read()) });
    expect(res.statusCode).toBe(200);
    expect(res.json().accepted).toBe(1000);
  });

  it('accepts 1000 of the largest events the schema admits (ASCII) under the default body limit', async () => {
    const { type } = largestMaximalEvent();
    const ids = Array.from({ length: MAX_EVENTS_PER_BATCH }, () => nextId('max'));
    const payload = JSON.stringify({ events: ids.map((id) => maximalEvent(type, id)) });
    expect(payload.length).toBeGreaterThan(36 * 1_000_000); // about 37.7 MB
    const res = await post(payload);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: MAX_EVENTS_PER_BATCH, rejected: 0 });
  });

  it('reports a replay with the same payload as a duplicate, and with a different payload as a conflict', async () => {
    const e = read();
    expect((await post({ events: [e] })).json().accepted).toBe(1);
    const again = (await post({ events: [e] })).json();
    expect(again).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(again.results[0]).toEqual({ index: 0, eventId: e.eventId, status: 'duplicate' });
    const changed = (await post({ events: [{ ...e, dwellMs: 1 }] })).json();
    expect(changed).toMatchObject({ conflicts: 1 });
    expect(changed.results[0]).toMatchObject({ status: 'conflict', code: 'conflict' });
    const [stored] = await t.services.storage.getEvents([e.eventId]);
    expect(stored).toMatchObject({ dwellMs: 42_000 });
  });

  it('keeps ids with SQL metacharacters as data', async () => {
    const ids = ["1'; DROP TABLE events; --", 'a" OR "1"="1', '%_\\'];
    const res = await post({ events: ids.map((eventId) => read(T0, { eventId, readerId: eventId })) });
    expect(res.json().accepted).toBe(3);
    expect(await t.services.storage.getEvents(ids)).toHaveLength(3);
  });

  it('answers CORS preflights for configured origins only', async () => {
    const ok = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/events',
      headers: { origin: 'https://news.example', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('https://news.example');
    const no = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/events',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("lets a configured origin read Retry-After (the SDK's queue waits it out)", async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { origin: 'https://news.example' },
      payload: { events: [] },
    });
    expect(res.headers['access-control-allow-origin']).toBe('https://news.example');
    expect(String(res.headers['access-control-expose-headers'])).toMatch(/retry-after/i);
  });
});

describe('POST /v1/events: bad batches get 4xx with a stable code', () => {
  it('malformed JSON: 400 invalid_json', async () => {
    const res = await post('{"events": [');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_json');
    const plain = await post('not json', { 'content-type': 'text/plain' });
    expect(plain.statusCode).toBe(400);
    expect(plain.json().error.code).toBe('invalid_json');
  });

  it('oversized body: 413 body_too_large', async () => {
    const res = await post({ events: [read(T0, { articleId: 'x'.repeat(100) })], pad: 'x'.repeat(DEFAULTS.bodyLimitBytes) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('body_too_large');
  });

  it('1001 events: 400 batch_size; 0 events too', async () => {
    const res = await post({ events: Array.from({ length: 1001 }, () => read()) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'batch_size', field: 'events' });
    expect((await post({ events: [] })).json().error.code).toBe('batch_size');
  });

  it('not an object, no events array, extra top-level field', async () => {
    expect((await post([read()])).json().error.code).toBe('invalid_body');
    expect((await post({ evts: [] })).json().error).toMatchObject({ code: 'unknown_field', field: 'evts' });
    expect((await post({})).json().error).toMatchObject({ code: 'missing_field', field: 'events' });
  });

  it('unsupported content type: 415', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/events', payload: '<x/>', headers: { 'content-type': 'application/xml' } });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });
});

describe('POST /v1/events: bad events are rejected one by one, good ones still stored', () => {
  const rejectOne = async (bad: unknown, headers: Record<string, string> = {}) => {
    const good = read();
    const res = await post({ events: [good, bad] }, headers);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toBe(1);
    expect(body.rejected).toBe(1);
    expect(await t.services.storage.getEvents([good.eventId])).toHaveLength(1);
    return body.results[1];
  };

  it('unknown type', async () => {
    expect(await rejectOne({ ...read(), type: 'purchase' })).toMatchObject({ status: 'rejected', code: 'unknown_type', field: 'type' });
  });

  it('unknown field, named in the reason (also nested)', async () => {
    const r = await rejectOne({ ...read(), dwell: 5 });
    expect(r).toMatchObject({ code: 'unknown_field', field: 'dwell' });
    expect(r.reason).toContain('dwell');
    const nested = await rejectOne(impression(T0, { items: [{ articleId: 'a', position: 1, score: 3 }] }));
    expect(nested).toMatchObject({ code: 'unknown_field', field: 'items/0/score' });
  });

  it('"__proto__" and "constructor" keys are unknown fields, never prototypes', async () => {
    const good = read();
    const raw = `{"events":[${JSON.stringify(good)},{"__proto__":{"polluted":true},"type":"read","eventId":"p1","readerId":"r","sessionId":"s","timestamp":"${new Date(T0).toISOString()}","articleId":"a","dwellMs":1,"scroll":0.1}]}`;
    const res = await post(raw);
    expect(res.json().results[1]).toMatchObject({ status: 'rejected', code: 'unknown_field', field: '__proto__' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await rejectOne({ ...read(), constructor: { prototype: { x: 1 } } })).toMatchObject({
      code: 'unknown_field',
      field: 'constructor',
    });
  });

  it('missing ids', async () => {
    for (const f of ['eventId', 'readerId', 'sessionId', 'timestamp']) {
      const e: Record<string, unknown> = read();
      delete e[f];
      expect(await rejectOne(e)).toMatchObject({ code: 'missing_field', field: f });
    }
    expect(await rejectOne({ ...read(), eventId: '' })).toMatchObject({ code: 'invalid_field', field: 'eventId' });
  });

  it('lone surrogates and NUL in strings', async () => {
    expect(await rejectOne(read(T0, { articleId: 'a\u0000b' }))).toMatchObject({ code: 'invalid_text', field: 'articleId' });
    expect(await rejectOne(read(T0, { readerId: 'r\ud800' }))).toMatchObject({ code: 'invalid_text', field: 'readerId' });
    // The same, as raw JSON escapes in the body (what a broken client sends).
    const good = read();
    const raw = `{"events":[${JSON.stringify(good)},{"type":"read","eventId":"x\\udc00","readerId":"r","sessionId":"s","timestamp":"${new Date(T0).toISOString()}","articleId":"a","dwellMs":1,"scroll":0.1}]}`;
    const res = await post(raw);
    expect(res.json().results[1]).toMatchObject({ code: 'invalid_text', field: 'eventId' });
  });

  it('refuses a body that is not valid UTF-8 (a CESU-8 surrogate, a stray byte) with 400 invalid_encoding, storing nothing', async () => {
    for (const [bad, type] of [
      [[0xed, 0xa0, 0x80], 'application/json'],
      [[0xff], 'application/json'],
      [[0xc3], 'text/plain;charset=UTF-8'],
    ] as const) {
      const e = read();
      const [head, tail] = JSON.stringify({ events: [{ ...e, articleId: 'a<>b' }] }).split('<>') as [string, string];
      const payload = Buffer.concat([Buffer.from(head), Buffer.from(bad), Buffer.from(tail)]);
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', payload, headers: { 'content-type': type } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'invalid_encoding', field: null });
      expect(await t.services.storage.getEvents([e.eventId])).toEqual([]);
    }
  });

  it('stores multi-byte UTF-8 text as sent, with and without a byte order mark', async () => {
    const text = 'r\u00e9sum\u00e9-\u65b0\u805e-\u{1F4F0}';
    const e = read(T0, { articleId: text });
    const body = JSON.stringify({ events: [e] });
    expect(body).toContain('\u{1F4F0}'); // sent raw, not escaped: the escape-free path
    const plain = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: Buffer.from(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(plain.json()).toMatchObject({ accepted: 1 });
    const e2 = read(T0, { articleId: text });
    const bom = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ events: [e2] }))]),
      headers: { 'content-type': 'application/json' },
    });
    expect(bom.json()).toMatchObject({ accepted: 1 });
    const stored = await t.services.storage.getEvents([e.eventId, e2.eventId]);
    expect(stored.map((s) => s.articleId)).toEqual([text, text]);
  });

  it('an empty JSON body is 400 invalid_json; a leading byte order mark is allowed', async () => {
    const empty = await post('');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe('invalid_json');
    const bom = await post(`\uFEFF${JSON.stringify({ events: [read()] })}`);
    expect(bom.json()).toMatchObject({ accepted: 1 });
  });

  it('negative, NaN-like and non-numeric revenue', async () => {
    const h = { 'x-readnext-ingest-key': INGEST_KEY };
    expect(await rejectOne(subscribe(T0, { revenue: -1 }), h)).toMatchObject({ code: 'invalid_field', field: 'revenue' });
    expect(await rejectOne(subscribe(T0, { revenue: 'NaN' }), h)).toMatchObject({ code: 'invalid_field', field: 'revenue' });
    expect(await rejectOne(subscribe(T0, { revenue: null }), h)).toMatchObject({ code: 'invalid_field', field: 'revenue' });
    // JSON has no NaN literal: a body carrying one is malformed JSON as a whole.
    const nan = await post(`{"events":[${JSON.stringify(subscribe()).replace('9.99', 'NaN')}]}`, h);
    expect(nan.statusCode).toBe(400);
    expect(nan.json().error.code).toBe('invalid_json');
    expect(await rejectOne(subscribe(T0, { currency: 'eur' }), h)).toMatchObject({ code: 'invalid_field', field: 'currency' });
  });

  it('subscribe without the ingest key; with it (or an admin key), accepted; with a wrong key, 401', async () => {
    expect(await rejectOne(subscribe())).toMatchObject({ code: 'ingest_key_required', field: 'type' });
    const ok = await post({ events: [subscribe()] }, { 'x-readnext-ingest-key': INGEST_KEY });
    expect(ok.json().accepted).toBe(1);
    const bearer = await post({ events: [subscribe()] }, { authorization: `Bearer ${INGEST_KEY}` });
    expect(bearer.json().accepted).toBe(1);
    const wrong = await post({ events: [subscribe()] }, { 'x-readnext-ingest-key': 'nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('unauthorized');
    // Scope admin implies ingest (app/keys.ts grants).
    expect((await post({ events: [subscribe()] }, admin)).json().accepted).toBe(1);
  });

  it('far-future and ancient timestamps; a timestamp without a zone', async () => {
    expect(await rejectOne(read(T0 + 5 * 60_000 + 1000))).toMatchObject({ code: 'timestamp_out_of_range', field: 'timestamp' });
    expect(await rejectOne(read(T0 - 24 * 3_600_000 - 1000))).toMatchObject({ code: 'timestamp_out_of_range', field: 'timestamp' });
    expect(await rejectOne(read(T0, { timestamp: '2026-03-01T12:00:00' }))).toMatchObject({ code: 'invalid_field', field: 'timestamp' });
    // Just inside both bounds is fine.
    const edge = await post({ events: [read(T0 + 5 * 60_000), read(T0 - 24 * 3_600_000)] });
    expect(edge.json().accepted).toBe(2);
  });

  it('out-of-range numbers and wrong types', async () => {
    expect(await rejectOne(read(T0, { scroll: 1.5 }))).toMatchObject({ code: 'invalid_field', field: 'scroll' });
    expect(await rejectOne(read(T0, { dwellMs: -5 }))).toMatchObject({ code: 'invalid_field', field: 'dwellMs' });
    expect(await rejectOne(click(T0, { position: 0 }))).toMatchObject({ code: 'invalid_field', field: 'position' });
    expect(await rejectOne(pageView(T0, { articleId: undefined }))).toMatchObject({ code: 'missing_field' });
    expect(await rejectOne('just a string')).toMatchObject({ code: 'invalid_event' });
    expect(await rejectOne({ ...read(), schemaVersion: 2 })).toMatchObject({ code: 'invalid_field', field: 'schemaVersion' });
  });

  it('echoes the event id of a rejected event when it has one', async () => {
    const id = nextId();
    expect(await rejectOne({ ...read(), eventId: id, type: 'nope' })).toMatchObject({ eventId: id });
  });
});
