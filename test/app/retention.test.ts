import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kyselyOf } from '../../src/adapters/storage/testing.js';
import { DAY_MS, Retention } from '../../src/app/retention.js';
import { checkRetention, loadConfig } from '../../src/config/config.js';
import type { ServeRecord } from '../../src/core/events/records.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { openServices, type Services } from '../../src/main/services.js';
import { BACKENDS } from '../helpers/databases.js';
import { pageView, read, T0 } from '../helpers/events.js';

const serve = (recommId: string, servedTs: number): ServeRecord => ({
  recommId,
  placement: 'read-next',
  experiment: null,
  phase: null,
  arm: null,
  hashVersion: 1,
  recommenderKind: 'latest',
  recommenderVersion: '1',
  shadow: false,
  readerId: 'r1',
  sessionId: 's1',
  articleId: 'a1',
  latencyMs: 1,
  fallback: false,
  fault: false,
  slate: [{ articleId: 'a2', position: 1, score: 0.5, reason: null }],
  servedTs,
});

describe('READNEXT_RETENTION_DAYS', () => {
  it('is 0 (keep forever) by default, and refused shorter than the warm-up replay plus the future skew', () => {
    expect(loadConfig({}, {}).retentionDays).toBe(0);
    expect(loadConfig({}, { READNEXT_RETENTION_DAYS: '30' }).retentionDays).toBe(30);
    // 7 days of replay + 5 minutes of client clock ahead: 8 days at least.
    expect(loadConfig({}, { READNEXT_RETENTION_DAYS: '8' }).retentionDays).toBe(8);
    expect(() => loadConfig({}, { READNEXT_RETENTION_DAYS: '7' })).toThrow(
      expect.objectContaining({ code: 'invalid_config', field: 'READNEXT_RETENTION_DAYS' }),
    );
    expect(() => loadConfig({}, { READNEXT_RETENTION_DAYS: '-1' })).toThrow(expect.objectContaining({ field: 'READNEXT_RETENTION_DAYS' }));
    expect(loadConfig({}, { READNEXT_RETENTION_DAYS: '2', READNEXT_REPLAY_MS: String(DAY_MS) }).retentionDays).toBe(2);
    expect(() => checkRetention(1, DAY_MS, 300_000)).toThrow(/at least 2/);
    expect(() => checkRetention(0, 365 * DAY_MS, 300_000)).not.toThrow();
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`retention (${backend.name})`, () => {
    let cleanup: () => Promise<void>;
    let s: Services;
    const clock = fixedClock(T0 - 40 * DAY_MS);
    const count = async (table: 'events' | 'serves' | 'reader_days') =>
      Number(
        (
          await kyselyOf(s.storage)
            .selectFrom(table)
            .select((e) => e.fn.countAll().as('n'))
            .executeTakeFirst()
        )?.n,
      );

    beforeAll(async () => {
      const db = await backend.create();
      cleanup = db.cleanup;
      const config = loadConfig({ db: db.url, adminKey: 'admin-k', ingestKey: 'ingest-k', logLevel: 'silent' }, {});
      s = await openServices(config, { clock });
      // 1. Three events received 40 days ago, two received a day ago; a serve record of each time.
      const o = { readerId: 'r1', sessionId: 's1' };
      const old = [
        pageView(T0 - 40 * DAY_MS, o),
        read(T0 - 40 * DAY_MS + 1000, o),
        read(T0 - 40 * DAY_MS + 2000, { ...o, articleId: 'a3' }),
      ];
      expect((await s.collector.ingest(old, true)).accepted).toBe(3);
      await s.storage.appendServes([serve('old-1', T0 - 40 * DAY_MS)]);
      clock.set(T0 - DAY_MS);
      expect((await s.collector.ingest([pageView(T0 - DAY_MS, o), read(T0 - DAY_MS + 1000, o)], true)).accepted).toBe(2);
      await s.storage.appendServes([serve('new-1', T0 - DAY_MS)]);
      clock.set(T0);
    }, 60_000);

    afterAll(async () => {
      await s?.close();
      await cleanup?.();
    });

    it('deletes no event the rollups have not rolled up, then the old ones in batches, keeping the rollups', async () => {
      const batches: number[] = [];
      const store = {
        pruneEvents: async (ts: number, n: number) => {
          const k = await s.storage.pruneEvents(ts, n);
          batches.push(k);
          return k;
        },
        pruneServes: (ts: number, n: number) => s.storage.pruneServes(ts, n),
      };
      const retention = new Retention(store, clock, { days: 30, batch: 2 });
      // 2. Before any rollup pass, the cursor is at the start: the old serve goes, every event stays.
      expect(await retention.run()).toEqual({ events: 0, serves: 1, beforeTs: T0 - 30 * DAY_MS });
      expect(await count('events')).toBe(5);
      // 3. Once rolled up, the three old events go, two per batch; the recent ones and reader_days stay.
      await s.rollups.catchUp();
      const days = await count('reader_days');
      batches.length = 0;
      expect(await retention.run()).toEqual({ events: 3, serves: 0, beforeTs: T0 - 30 * DAY_MS });
      expect(batches).toEqual([2, 1]);
      expect(await count('events')).toBe(2);
      expect(await count('serves')).toBe(1);
      expect(await count('reader_days')).toBe(days);
      // 4. Nothing more to delete.
      expect(await retention.run()).toEqual({ events: 0, serves: 0, beforeTs: T0 - 30 * DAY_MS });
    });

    it('keeps everything when the retention is 0', async () => {
      const retention = new Retention(s.storage, clock, { days: 0 });
      expect(await retention.run()).toEqual({ events: 0, serves: 0, beforeTs: T0 });
    });
  });
}
