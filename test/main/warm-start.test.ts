import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/adapters/http/app.js';
import type { ArticleStore, EventStore } from '../../src/app/ports.js';
import { loadConfig } from '../../src/config/config.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { appDeps, openServices, type Services } from '../../src/main/services.js';
import { BACKENDS } from '../helpers/databases.js';
import { read, T0 } from '../helpers/events.js';
import { syntheticArticle } from '../../src/core/simulate/synthetic.js';

// A server listens before its serving state is rebuilt (src/main/services.ts, FreshFeed.replay).
// The replay is held by a gate between pinning its snapshot and reading it, so the order is fixed:
// numbered comments give the order in which things happen.

const HOUR = 3_600_000;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const articles = ['a', 'b', 'c', 'd'].map((id, i) => syntheticArticle(id, 'news', T0 - (i + 1) * HOUR, id.toUpperCase()));
const actor = { actor: 'test', reason: 'warm start' };
const POPULAR = { read: 1, click: 1, view: 0 };

/** The state's signal count and popularity scores: what "each event counted once" is checked on. */
function counts(s: Services, now: number): { signals: number; scores: Record<string, number> } {
  const pop = s.state.popularity(HOUR, POPULAR);
  return { signals: s.state.signals, scores: Object.fromEntries(articles.map((a) => [a.id, pop.score(a.id, now)])) };
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`a server warming up (${backend.name})`, () => {
    it('stores events before it is ready, serves "latest" without exposures meanwhile, and counts every event once', async () => {
      const { url, cleanup } = await backend.create();
      cleanups.push(cleanup);
      const config = loadConfig(
        { db: url, adminKey: 'warm-admin-key-0123456789abcdef', ingestKey: 'warm-ingest-key-0123456789abcdef', logLevel: 'silent' },
        {},
      );

      // 1. An earlier life of the server: the catalog, six reads, a running experiment on read-next.
      const before = await openServices(config, { clock: fixedClock(T0) });
      await before.catalog.upsert(articles);
      const earlier = ['r1', 'r2', 'r3'].flatMap((r, i) => [
        read(T0 - 600_000 + i, { readerId: r, articleId: 'a' }),
        read(T0 - 500_000 + i, { readerId: r, articleId: 'd' }),
      ]);
      expect((await before.collector.ingest(earlier, false)).accepted).toBe(6);
      await before.deployments.createExperiment(
        {
          id: 'exp',
          placement: 'read-next',
          arms: [
            { name: 'control', recommender: { kind: 'none', version: '1' } },
            { name: 'popular', recommender: { kind: 'popular', version: '1' } },
          ],
        },
        actor,
      );
      await before.deployments.startExperiment('exp', actor);
      await before.close();

      // 2. The restart: openServices returns once the replay's snapshot is pinned; the gate holds the scan.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let scanned = 0;
      const held = (s: EventStore & ArticleStore): EventStore & ArticleStore =>
        Object.create(s, {
          scanSignals: {
            value: (since: number, onBatch: Parameters<EventStore['scanSignals']>[1], pinned?: () => void | Promise<void>) =>
              s.scanSignals(
                since,
                (rows) => ((scanned += rows.length), onBatch(rows)),
                async () => {
                  await pinned?.();
                  await gate;
                },
              ),
          },
        }) as EventStore & ArticleStore;
      const now = T0 + 60_000;
      const logs: string[] = [];
      const services = await openServices(config, {
        clock: fixedClock(now),
        warmInBackground: true,
        replayStore: held,
        log: (m) => logs.push(m),
      });
      cleanups.push(() => services.close());
      const app = await createApp(appDeps(services));
      cleanups.push(() => app.close());

      // 3. Not ready: /readyz says so with its stable code.
      const notReady = await app.inject({ method: 'GET', url: '/readyz' });
      expect(notReady.statusCode).toBe(503);
      expect(notReady.json()).toMatchObject({ error: { code: 'not_ready' } });
      expect((notReady.json() as { error: { message: string } }).error.message).toContain('rebuilding the serving state');

      // 4. Events are stored and acknowledged meanwhile: four new reads of b, and a replay of an earlier event (a duplicate, not counted again).
      const during = ['r4', 'r5', 'r6', 'r7'].map((r, i) => read(now - 1000 + i, { readerId: r, articleId: 'b' }));
      const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [...during, earlier[0]] } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ accepted: 4, duplicates: 1 });

      // 5. Recommendations meanwhile: "latest", flagged fallback, outside the experiment, and no exposure written.
      const rec = await app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=a&reader=r9&k=2' });
      expect(rec.statusCode).toBe(200);
      expect(rec.json()).toMatchObject({ experiment: null, arm: null, fallback: true, recommender: { kind: 'latest' } });
      expect((rec.json() as { items: { articleId: string }[] }).items.map((i) => i.articleId)).toEqual(['b', 'c']);
      await services.recordWriter.flush();
      expect(await services.storage.listExposures('exp')).toEqual([]);
      expect(scanned).toBe(0);

      // 6. The scan reads its snapshot (the six earlier reads only), then the four buffered reads are applied.
      release();
      await services.warmedUp;
      expect(scanned).toBe(6);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect(
        logs.some(
          (l) => l.startsWith('serving state ready') && l.includes('6 reading signals and impressions replayed, 4 events stored meanwhile'),
        ),
      ).toBe(true);

      // 7. Counted once: the same counts as a state rebuilt from the database from scratch.
      const warm = counts(services, now);
      expect(warm.signals).toBe(10);
      const reference = await openServices(config, { clock: fixedClock(now) });
      try {
        expect(warm).toEqual(counts(reference, now));
      } finally {
        await reference.close();
      }

      // 8. Ready: the experiment serves again and writes its exposure.
      const after = await app.inject({ method: 'GET', url: '/v1/recommendations?placement=read-next&article=a&reader=r9&k=2' });
      expect(after.json()).toMatchObject({ experiment: 'exp' });
      await services.recordWriter.flush();
      expect((await services.storage.listExposures('exp')).map((e) => e.readerId)).toEqual(['r9']);
    });
  });
}
