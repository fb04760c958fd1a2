import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_KEY, testApp, type TestApp } from '../../helpers/app.js';
import { pageView, read, subscribe } from '../../helpers/events.js';

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const post = (events: unknown[], headers: Record<string, string>, url = '/v1/events') =>
  t.app.inject({ method: 'POST', url, payload: JSON.stringify({ events }), headers: { 'content-type': 'text/plain', ...headers } });

describe('POST /v1/events: the bot filter', () => {
  it('drops a crawler\'s events with 200, stores nothing, and counts them under "bot"', async () => {
    const events = [pageView(), read()];
    const res = await post(events, { 'user-agent': GOOGLEBOT });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 0, rejected: 0, filtered: 2 });
    expect(body.results).toEqual(
      events.map((e, index) => ({
        index,
        eventId: e.eventId,
        status: 'filtered',
        code: 'bot',
        reason: expect.stringMatching(/bot filter/),
      })),
    );
    expect(await t.services.storage.getEvents(events.map((e) => e.eventId))).toEqual([]);
    expect(t.services.collector.counts.rejected.get('bot')).toBe(2);
    const counted = await t.services.storage.rejectionCounts('2000-01-01', '2100-01-01');
    expect(counted.filter((c) => c.reason === 'bot').reduce((a, c) => a + c.count, 0)).toBe(2);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer test-admin-key' } });
    expect(metrics.body).toMatch(/readnext_events_rejected_total\{reason="bot"\} 2/);
  });

  it("never drops readnext's SDK (?sdk=readnext), headless Chromium, or the ingest key's posts", async () => {
    const sdk = await post([read()], { 'user-agent': GOOGLEBOT }, '/v1/events?sdk=readnext');
    expect(sdk.json()).toMatchObject({ accepted: 1 });
    const headless = await post([read()], { 'user-agent': HEADLESS });
    expect(headless.json()).toMatchObject({ accepted: 1 });
    const server = await post([subscribe()], { 'user-agent': 'curl/8.4.0', 'x-readnext-ingest-key': INGEST_KEY });
    expect(server.json()).toMatchObject({ accepted: 1 });
    expect(t.services.collector.counts.rejected.get('bot')).toBe(2);
  });
});
