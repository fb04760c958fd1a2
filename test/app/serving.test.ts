import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { openServices } from '../../src/main/services.js';
import { tempDir } from '../helpers/databases.js';
import { read, T0 } from '../helpers/events.js';
import { syntheticArticle } from '../../src/core/simulate/synthetic.js';

const dir = tempDir();
afterAll(() => dir.remove());
const HOUR = 3_600_000;

const articles = ['a', 'b', 'c', 'd'].map((id, i) => syntheticArticle(id, i % 2 ? 'x' : 'y', T0 - (i + 1) * HOUR, id.toUpperCase()));

describe('fresh serving state', () => {
  it('is rebuilt from stored articles and events at start', async () => {
    const config = loadConfig({ db: `sqlite:${join(dir.path, 'fresh.db')}`, adminKey: 'a', ingestKey: 'i', logLevel: 'silent' }, {});
    const first = await openServices(config, { clock: fixedClock(T0) });
    await first.catalog.upsert(articles);
    const events = ['r1', 'r2', 'r3'].flatMap((r, i) => [
      read(T0 - 600_000 + i, { readerId: r, articleId: 'a' }),
      read(T0 - 500_000 + i, { readerId: r, articleId: 'd' }),
    ]);
    expect((await first.collector.ingest(events, false)).accepted).toBe(6);
    const live = first.recommendations.recommend({
      placement: 'read-next',
      articleId: 'a',
      readerId: null,
      sessionId: null,
      k: 1,
      optOut: false,
    });
    expect(live.items.map((i) => i.articleId)).toEqual(['d']);
    await first.close();

    const second = await openServices(config, { clock: fixedClock(T0 + 60_000) });
    try {
      const again = second.recommendations.recommend({
        placement: 'read-next',
        articleId: 'a',
        readerId: null,
        sessionId: null,
        k: 1,
        optOut: false,
      });
      expect(again.items.map((i) => i.articleId)).toEqual(['d']);
      expect(again.fallback).toBe(false);
      // Reader history came back too: r1 read d, so d is not recommended to r1.
      const r1 = second.recommendations.recommend({
        placement: 'read-next',
        articleId: 'a',
        readerId: 'r1',
        sessionId: null,
        k: 1,
        optOut: false,
      });
      expect(r1.items.map((i) => i.articleId)).not.toContain('d');
    } finally {
      await second.close();
    }
  });

  it('picks up articles imported by another process on the next catalog poll', async () => {
    const config = loadConfig({ db: `sqlite:${join(dir.path, 'poll.db')}`, adminKey: 'a', ingestKey: 'i', logLevel: 'silent' }, {});
    const clock = fixedClock(T0);
    const server = await openServices(config, { clock });
    const other = await openServices(config, { clock });
    try {
      await other.storage.upsertArticles(articles, T0);
      expect(server.state.catalog.get('a')).toBeUndefined();
      clock.advance(5000);
      expect(await server.feed.pollCatalog()).toBe(4);
      expect(server.state.catalog.get('a')?.title).toBe('A');
    } finally {
      await other.close();
      await server.close();
    }
  });
});

describe('a recommender fault', () => {
  it('never reaches the reader: the fallback answers, the fault is counted and logged once', async () => {
    const logs: string[] = [];
    const config = loadConfig({ db: 'sqlite::memory:', adminKey: 'a', ingestKey: 'i', logLevel: 'silent' }, {});
    const s = await openServices(config, { clock: fixedClock(T0), log: (m) => logs.push(m) });
    try {
      await s.catalog.upsert(articles);
      const placement = s.placements.get('read-next')!;
      const broken = {
        kind: 'co-read',
        version: 'broken',
        recommend: () => {
          throw new Error('model file missing');
        },
      };
      placement.chain = [broken, ...placement.chain.slice(1)];
      for (let i = 0; i < 3; i++) {
        const res = s.recommendations.recommend({
          placement: 'read-next',
          articleId: 'a',
          readerId: null,
          sessionId: null,
          k: 2,
          optOut: false,
        });
        expect(res.items).toHaveLength(2);
        expect(res.fallback).toBe(true);
      }
      expect(s.recommendations.counters).toMatchObject({ requests: 3, faults: 3, fallbacks: 3 });
      expect(logs.filter((l) => l.includes('model file missing'))).toHaveLength(1);
      await s.recordWriter.flush();
      const serves = await s.storage.listServes({ limit: 10 });
      expect(serves.every((r) => r.fault && r.fallback)).toBe(true);
    } finally {
      await s.close();
    }
  });
});
