import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { kyselyOf } from '../../src/adapters/storage/testing.js';
import type { OpenedStorage } from '../../src/adapters/storage/open.js';
import { loadConfig } from '../../src/config/config.js';
import type { ExposureRecord, ServeRecord } from '../../src/core/events/records.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import type { ArticleStore, EventStore } from '../../src/app/ports.js';
import { openServices, type Services } from '../../src/main/services.js';
import { BACKENDS } from '../helpers/databases.js';
import { click, impression, pageView, read, T0 } from '../helpers/events.js';

const GONE = 'reader-forget-me-7';
const KEPT = 'reader-keep-me-8';

const serve = (readerId: string, recommId: string): ServeRecord => ({
  recommId,
  placement: 'read-next',
  experiment: 'exp-1',
  phase: 1,
  arm: 'control',
  hashVersion: 1,
  recommenderKind: 'latest',
  recommenderVersion: '1',
  shadow: false,
  readerId,
  sessionId: `s-${readerId}`,
  articleId: 'a1',
  latencyMs: 1,
  fallback: false,
  fault: false,
  slate: [{ articleId: 'a2', position: 1, score: 0.5, reason: null }],
  servedTs: T0,
});

const exposure = (readerId: string): ExposureRecord => ({
  experiment: 'exp-1',
  phase: 1,
  arm: 'control',
  readerId,
  hashVersion: 1,
  exposedTs: T0,
  sessionId: `s-${readerId}`,
  articleId: 'a1',
});

/** Every row of every table, as JSON text per table (the migrations' own bookkeeping included). */
async function everyRow(storage: OpenedStorage): Promise<Map<string, string[]>> {
  const db = kyselyOf(storage);
  const names =
    storage.dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
      : await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(
          db,
        );
  const out = new Map<string, string[]>();
  for (const { name } of names.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    out.set(
      name,
      rows.rows.map((r) => JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))),
    );
  }
  return out;
}

const readerEvents = (readerId: string) => {
  const o = { readerId, sessionId: `s-${readerId}` };
  return [
    pageView(T0 - 60_000, o),
    impression(T0 - 50_000, { ...o, recommId: `rec-${readerId}` }),
    click(T0 - 40_000, { ...o, recommId: `rec-${readerId}` }),
    read(T0 - 30_000, { ...o, articleId: 'a2' }),
    read(T0 - 20_000, { ...o, articleId: 'a3' }),
  ];
};

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`forget and export a reader (${backend.name})`, () => {
    let cleanup: () => Promise<void>;
    let config: ReturnType<typeof loadConfig>;
    let a: Services;
    let b: Services;
    /** A server: its pollers run (services.ts placementTimer). */
    let c: Services;

    beforeAll(async () => {
      const db = await backend.create();
      cleanup = db.cleanup;
      config = loadConfig({ db: db.url, adminKey: 'admin-k', ingestKey: 'ingest-k', logLevel: 'silent' }, {});
      const clock = fixedClock(T0);
      a = await openServices(config, { clock });
      // 1. Process A stores both readers' events, serves and exposures, and per-reader rollup rows.
      for (const r of [GONE, KEPT]) {
        const reply = await a.collector.ingest(readerEvents(r), true);
        expect(reply.accepted).toBe(5);
      }
      await a.storage.appendServes([serve(GONE, 'rec-g1'), serve(GONE, 'rec-g2'), serve(KEPT, 'rec-k1')]);
      await a.storage.appendExposures([exposure(GONE), exposure(KEPT)]);
      const k = kyselyOf(a.storage);
      for (const r of [GONE, KEPT]) {
        // By the exposure's id, as the rollups keep them (migrations 0021 and 0024).
        await sql`insert into exposure_session_ids (exposure_id, session_id) select id, ${`s-${r}`} from exposures where reader_id = ${r}`.execute(
          k,
        );
        await k
          .insertInto('exposure_unpriced')
          .values({ experiment: 'exp-1', phase: 1, reader_id: r, currency: 'XTS', events: 1, amount: 2 })
          .execute();
        for (const day of [20_512, 20_513])
          await k
            .insertInto('reader_days')
            .values({ day, reader_id: r, impressions: 1, clicks: 1, reads: 2, dwell_ms: 84_000, page_views: 1, subscribed: 0, revenue: 0 })
            .execute();
      }
      // 2. Process B opens the same database later: its replay puts both readers in its memory.
      b = await openServices(config, { clock });
      c = await openServices(config, { clock, background: true });
      for (const s of [a, b]) s.exposures.note('exp-1', GONE, 'control', 1);
    }, 60_000);

    afterAll(async () => {
      await c?.close();
      await b?.close();
      await a?.close();
      await cleanup?.();
    });

    it('exports what was stored', async () => {
      const x = await a.readers.export(GONE);
      expect(x.readerId).toBe(GONE);
      expect(x.events.map((e) => e.type)).toEqual(['page_view', 'impression', 'click', 'read', 'read']);
      expect(x.events.every((e) => e.readerId === GONE)).toBe(true);
      expect(x.exposures).toEqual([exposure(GONE)]);
      expect(x.serves.map((s) => s.recommId)).toEqual(['rec-g1', 'rec-g2']);
      expect(x.serves[0]).toMatchObject({ readerId: GONE, slate: [{ articleId: 'a2', position: 1, score: 0.5 }] });
      expect(x.truncated).toEqual([]);
      const cut = await a.readers.export(GONE, 2);
      expect(cut.events).toHaveLength(2);
      expect(cut.truncated).toEqual(['events']);
    });

    it('forgets the reader in every table and in both processes, and nobody else', async () => {
      expect(b.state.history(GONE)).toEqual(['a3', 'a2', 'a1']);
      expect(c.state.history(GONE)).toEqual(['a3', 'a2', 'a1']);
      const before = await everyRow(a.storage);
      const mentions = (rows: Map<string, string[]>, id: string) => [...rows.values()].flat().filter((r) => r.includes(id)).length;
      // 3. A forgets the reader: every per-reader row goes, counted per table.
      const answer = await a.readers.forget(GONE);
      expect(answer).toEqual({
        readerId: GONE,
        removed: { events: 5, exposures: 1, exposureSessions: 1, exposureUnpriced: 1, readerDays: 2, serves: 2 },
        erasure: 1,
      });
      const after = await everyRow(a.storage);
      expect(mentions(before, GONE)).toBe(12);
      expect(mentions(after, GONE)).toBe(0);
      // The other reader's rows are all there, unchanged.
      const kept = (rows: Map<string, string[]>) => [...rows.values()].flat().filter((r) => r.includes(KEPT));
      expect(kept(after)).toEqual(kept(before));
      expect(after.get('reader_erasures')).toHaveLength(1);
      // 4. A's memory forgot at once; B's still holds the reader until it polls.
      expect(a.state.history(GONE)).toEqual([]);
      expect([...a.state.readerIds()]).not.toContain(GONE);
      expect(a.exposures.earlier('exp-1', GONE)).toBeUndefined();
      expect(b.state.history(GONE)).toEqual(['a3', 'a2', 'a1']);
      expect(b.exposures.earlier('exp-1', GONE)).toBeDefined();
      // 5. B polls the erasures (as its deploy-version timer does): the reader is gone from its memory.
      expect(await b.readers.poll()).toBe(1);
      expect(b.state.history(GONE)).toEqual([]);
      expect([...b.state.readerIds()]).not.toContain(GONE);
      expect(b.exposures.earlier('exp-1', GONE)).toBeUndefined();
      expect(b.state.history(KEPT)).toEqual(['a3', 'a2', 'a1']);
      expect(await b.readers.poll()).toBe(0);
      // The server's own timer does the same within its deploy poll period (250 ms).
      await vi.waitFor(() => expect(c.state.history(GONE)).toEqual([]), { timeout: 5000, interval: 50 });
      expect(c.state.history(KEPT)).toEqual(['a3', 'a2', 'a1']);
      expect(c.readers.appliedErasure).toBe(1);
      // A applies its own erasure without scanning again; a counter created after the forget never sees the reader.
      expect(await a.readers.poll()).toBe(1);
      for (const s of [a, b]) {
        const co = s.state.coVisitation({ halfLifeMs: 86_400_000, windowMs: 3_600_000, lookback: 10, maxNeighbours: 20 });
        expect([...co.readerIds()]).toEqual([KEPT]);
      }
    });

    it('answers not_found for a reader with nothing stored, and invalid_field for a bad id', async () => {
      await expect(a.readers.forget(GONE)).rejects.toMatchObject({ code: 'not_found', field: 'id' });
      await expect(a.readers.export(GONE)).rejects.toMatchObject({ code: 'not_found', field: 'id' });
      await expect(a.readers.forget('x'.repeat(129))).rejects.toMatchObject({ code: 'invalid_field', field: 'id' });
      await expect(a.readers.export('')).rejects.toMatchObject({ code: 'invalid_field', field: 'id' });
      // No erasure is recorded for nothing.
      expect(await a.storage.lastReaderErasure()).toBe(1);
    });

    it('a process whose replay read the database before a forget forgets the reader once the replay is done', async () => {
      const o = { readerId: 'reader-late-9', sessionId: 's-late' };
      expect((await a.collector.ingest([read(T0 - 10_000, { ...o, articleId: 'a4' })], true)).accepted).toBe(1);
      // 1. D starts: its replay's snapshot is pinned (the late reader's read is in it), then held.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const held = (st: EventStore & ArticleStore): EventStore & ArticleStore =>
        Object.create(st, {
          scanSignals: {
            value: (since: number, onBatch: Parameters<EventStore['scanSignals']>[1], pinned?: () => void | Promise<void>) =>
              st.scanSignals(since, onBatch, async () => {
                await pinned?.();
                await gate;
              }),
          },
        }) as EventStore & ArticleStore;
      const d = await openServices(config, { clock: fixedClock(T0), warmInBackground: true, replayStore: held });
      try {
        // 2. A forgets the reader; D's poll finds nothing of theirs in memory yet.
        await a.readers.forget('reader-late-9');
        expect(await d.readers.poll()).toBe(1);
        // 3. The replay goes on from its snapshot, then D forgets the reader again.
        release();
        await d.warmedUp;
        expect(d.warmingUp()).toBeUndefined();
        expect(d.state.history('reader-late-9')).toEqual([]);
        expect(d.state.history(KEPT)).toEqual(['a3', 'a2', 'a1']);
      } finally {
        release();
        await d.close();
      }
    });
  });
}
