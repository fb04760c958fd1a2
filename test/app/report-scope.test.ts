import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, INGEST_KEY, testApp, type TestApp } from '../helpers/app.js';
import { BACKENDS } from '../helpers/databases.js';
import { click, impression, pageView, read, subscribe, T0 } from '../helpers/events.js';

/**
 * What an experiment report is computed over, through the real API on both databases: the events
 * of exposed readers rolled up before their exposures are stored (lag 0 on SQLite, a record flush
 * longer than the lag), readers whose clock is 2 minutes slow, the SDK's order (the page view sent
 * before the recommendation request), another placement's widget, and revenue in three currencies.
 */
const SLOW_MS = 120_000;
const N = 12;

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`experiment report scope: ${backend.name}`, () => {
    let t: TestApp;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      const db = await backend.create();
      cleanup = db.cleanup;
      // Lag 0 where the database allows it (SQLite); PostgreSQL's shortest (its cursor is a receive
      // time). The record writer holds the exposures for 60 s: the rollups run before they are stored
      // (with the 1 s flush that happens by chance; here every time, so the test cannot pass by luck).
      t = await testApp({
        db: db.url,
        rollupLagMs: backend.name === 'sqlite' ? 0 : 1000,
        recordFlushIntervalMs: 60_000,
        currency: 'EUR',
        fxRates: { USD: 0.5 },
      });
      const articles = Array.from({ length: 6 }, (_, i) => ({
        id: `r${i}`,
        title: `T${i}`,
        section: 's',
        publishedAt: new Date(T0 - (i + 1) * 3_600_000).toISOString(),
      }));
      expect((await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } })).statusCode).toBe(
        200,
      );
    });
    afterAll(async () => {
      await t?.close();
      await cleanup?.();
    });

    it('counts every event of every exposed reader exactly once, on the server clock, the placement and one currency', async () => {
      const create = await t.app.inject({
        method: 'POST',
        url: '/v1/admin/experiments',
        headers: admin,
        payload: {
          id: 'scope',
          placement: 'read-next',
          layer: 'scope',
          arms: [
            { name: 'control', recommender: { kind: 'none', version: '1' } },
            { name: 'b', recommender: { kind: 'latest', version: '1' } },
          ],
        },
      });
      expect(create.statusCode).toBe(201);
      expect((await t.app.inject({ method: 'POST', url: '/v1/admin/experiments/scope/start', headers: admin })).statusCode).toBe(200);
      const post = async (events: unknown[], key = false) => {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/events',
          payload: { events },
          headers: key ? { authorization: `Bearer ${INGEST_KEY}` } : {},
        });
        expect(res.json().accepted).toBe(events.length);
      };

      const arms = new Map<string, string>();
      const currencies = ['EUR', 'USD', 'GBP'];
      for (let i = 0; i < N; i++) {
        const reader = `sc${i}`;
        const session = `ss${i}`;
        const skew = i % 3 === 0 ? -SLOW_MS : 0; // every third reader's clock is 2 minutes slow
        const at = (ms: number) => t.clock.now() + skew + ms;
        const who = { readerId: reader, sessionId: session };
        // The SDK's order: pageView() then widget(); here the page view is sent first (a flush before the request).
        await post([pageView(at(0), { ...who, articleId: 'r0' })]);
        t.clock.advance(100);
        const rec = (await t.app.inject(`/v1/recommendations?placement=read-next&article=r0&reader=${reader}&session=${session}`)).json();
        arms.set(reader, rec.arm);
        t.clock.advance(100);
        const events: unknown[] = [
          read(at(0), { ...who, articleId: 'r0' }),
          pageView(at(10), { ...who, articleId: 'r1' }),
          read(at(20), { ...who, articleId: 'r1' }),
          // A homepage widget of another placement: never in this experiment's CTR.
          impression(at(30), { ...who, recommId: `home-${i}`, placement: 'home', articleId: 'r1' }),
          click(at(40), { ...who, recommId: `home-${i}`, articleId: 'r2', placement: 'home' }),
        ];
        if (rec.items.length > 0) {
          events.push(
            impression(at(5), {
              ...who,
              recommId: rec.recommId,
              placement: 'read-next',
              articleId: 'r0',
              items: [{ articleId: rec.items[0].articleId, position: 1 }],
            }),
          );
          if (i % 2 === 0)
            events.push(
              click(at(6), { ...who, recommId: rec.recommId, articleId: rec.items[0].articleId, position: 1, placement: 'read-next' }),
            );
        }
        await post(events);
        if (i < 3) await post([subscribe(at(50), { ...who, revenue: 10, currency: currencies[i] })], true);
        t.clock.advance(100);
      }
      t.clock.advance(2000);
      // The rollups catch up while every exposure is still in the record writer's buffer.
      await t.services.rollups.catchUp();
      expect(t.services.recordWriter.written.exposures).toBe(0);
      t.clock.advance(2000);
      // The report stores the exposures (it flushes the record writer), then catches up: each takes
      // the events already rolled up; a second report changes nothing.
      const rep = (await t.app.inject({ method: 'GET', url: '/v1/admin/experiments/scope/report', headers: admin })).json();
      expect(t.services.recordWriter.written.exposures).toBe(N);
      const again = (await t.app.inject({ method: 'GET', url: '/v1/admin/experiments/scope/report', headers: admin })).json();
      expect(again.metrics).toEqual(rep.metrics);

      const byArm = (metric: string) =>
        new Map(
          rep.metrics
            .find((m: { metric: string }) => m.metric === metric)
            .arms.map((a: { arm: string; value: number; n: number }) => [a.arm, a]),
        );
      const readers = (arm: string) => [...arms].filter(([, a]) => a === arm).map(([r]) => r);
      for (const arm of ['control', 'b']) {
        const rs = readers(arm);
        expect(rs.length).toBeGreaterThan(0);
        // Two reads each, slow clocks included.
        expect(byArm('articles_read').get(arm)).toEqual({ arm, n: rs.length, value: 2, se: 0 });
        // Two page views in one session each: the page that made the exposure counts.
        expect(byArm('pages_per_session').get(arm)).toMatchObject({ value: 2 });
        // Revenue: 10 EUR (reader 0), 10 USD = 5 EUR (reader 1); reader 2's 10 GBP has no rate and is never added.
        const revenue = rs.reduce((a, r) => a + (r === 'sc0' ? 10 : r === 'sc1' ? 5 : 0), 0);
        expect((byArm('revenue_per_reader').get(arm) as { value: number }).value).toBeCloseTo(revenue / rs.length, 9);
        expect((byArm('conversion').get(arm) as { value: number }).value).toBeCloseTo(
          rs.filter((r) => ['sc0', 'sc1', 'sc2'].includes(r)).length / rs.length,
          9,
        );
      }
      // CTR: the read-next widget only (arm b shows it; every other reader of b clicked), not the homepage's.
      const b = readers('b').map((r) => Number(r.slice(2)));
      expect((byArm('ctr').get('b') as { value: number }).value).toBeCloseTo(b.filter((i) => i % 2 === 0).length / b.length, 9);
      expect((byArm('ctr').get('control') as { value: number | null }).value ?? 0).toBe(0);
      expect(rep.revenue).toEqual({
        currency: 'EUR',
        unpriced: [{ arm: arms.get('sc2'), currency: 'GBP', readers: 1, events: 1, amount: 10 }],
        warning: expect.stringMatching(/1 in GBP.*READNEXT_FX_RATES/),
      });
    });
  });
}
