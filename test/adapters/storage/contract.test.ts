import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Article } from '../../../src/core/catalog/article.js';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import type { ExposureRecord, ServeRecord } from '../../../src/core/events/records.js';
import { randomUUID } from 'node:crypto';
import { timeOrderedUuid } from '../../../src/core/kernel/ids.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { DEFAULT_PLACEMENT } from '../../../src/core/recommend/placement.js';
import { parseExperiment } from '../../../src/core/experiments/experiment.js';
import { openStorage, parseDatabaseUrl, type OpenedStorage } from '../../../src/adapters/storage/open.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';
import { EXPOSURE_GRACE_MS } from '../../../src/core/analysis/metrics.js';

const T = Date.parse('2026-03-01T12:00:00Z');

const article = (id: string, over: Partial<Article> = {}): Article => ({
  id,
  url: `https://news.example/${id}`,
  title: `Title ${id}`,
  lead: 'Lead',
  body: null,
  section: 'world',
  tags: ['a', 'b'],
  author: null,
  publishedAt: T,
  updatedAt: null,
  expiresAt: null,
  embargoUntil: null,
  status: 'published',
  paywalled: false,
  language: 'en',
  ...over,
});

const readEvent = (id: string, over: Record<string, unknown> = {}): StoredEvent =>
  ({
    type: 'read',
    eventId: id,
    readerId: 'r1',
    sessionId: 's1',
    clientTs: T,
    articleId: 'a1',
    dwellMs: 1000,
    scroll: 0.5,
    recommId: null,
    receivedTs: T + 5,
    ...over,
  }) as StoredEvent;

const serve = (recommId: string, over: Partial<ServeRecord> = {}): ServeRecord => ({
  recommId,
  placement: 'read-next',
  experiment: null,
  phase: null,
  arm: null,
  hashVersion: null,
  recommenderKind: 'latest',
  recommenderVersion: '1',
  shadow: false,
  readerId: 'r1',
  sessionId: 's1',
  articleId: 'a1',
  latencyMs: 1.25,
  fallback: false,
  fault: false,
  slate: [{ articleId: 'a2', position: 1, score: 0.5, reason: 'latest' }],
  servedTs: T,
  ...over,
});

describe('database URLs', () => {
  it('chooses the backend from the URL', () => {
    expect(parseDatabaseUrl('sqlite:./data/x.db')).toEqual({ dialect: 'sqlite', path: './data/x.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' });
    expect(parseDatabaseUrl('sqlite:///tmp/x.db')).toEqual({ dialect: 'sqlite', path: '/tmp/x.db' });
    expect(parseDatabaseUrl('postgres://u@h/db').dialect).toBe('postgres');
    expect(() => parseDatabaseUrl('mysql://x')).toThrow(/unsupported database URL/);
    expect(() => parseDatabaseUrl('sqlite:')).toThrow(/needs a path/);
  });

  it('opens an in-memory SQLite database', async () => {
    const s = await openStorage('sqlite::memory:');
    expect(await s.countArticles()).toBe(0);
    await s.close();
  });
});

// One contract, every backend (Gorse's baseTestSuite, Kysely's DIALECTS loop): no mocks.
for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`storage contract: ${backend.name}`, () => {
    let storage: OpenedStorage;
    let url: string;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ storage, url, cleanup } = await openBackend(backend));
    });
    afterAll(async () => cleanup?.());

    it('applies migrations once: reopening the same database migrates nothing and keeps data', async () => {
      await storage.upsertArticles([article('keep')], T);
      const again = await openStorage(url, { sqlite: { synchronous: 'NORMAL' } });
      expect(await again.getArticle('keep')).toBeDefined();
      await again.close();
    });

    it('upserts articles idempotently and reads them back unchanged', async () => {
      const a = article('a-1', {
        tags: ['Ukraine', 'Kyiv'],
        paywalled: true,
        expiresAt: T + 3_600_000,
        lead: "O'Brien; DROP TABLE articles;--",
      });
      expect(await storage.upsertArticles([a, article('a-2')], T)).toEqual({ inserted: 2, updated: 0 });
      expect(await storage.upsertArticles([a, article('a-2')], T)).toEqual({ inserted: 0, updated: 2 });
      expect(await storage.getArticle('a-1')).toEqual(a);
      await storage.upsertArticles([{ ...a, title: 'New title' }], T);
      expect((await storage.getArticle('a-1'))?.title).toBe('New title');
      expect(await storage.getArticle('nope')).toBeUndefined();
    });

    it('finds the articles stored since a time (imports made by other processes)', async () => {
      await storage.upsertArticles([article('s-1')], T + 10_000);
      await storage.upsertArticles([article('s-2')], T + 20_000);
      expect((await storage.articlesStoredSince(T + 15_000)).map((a) => a.id)).toEqual(['s-2']);
      await storage.setArticleStatus('s-1', 'retracted', T + 30_000);
      expect((await storage.articlesStoredSince(T + 25_000)).map((a) => [a.id, a.status])).toEqual([['s-1', 'retracted']]);
    });

    it('lists newest first, filters by section, changes status and deletes', async () => {
      await storage.upsertArticles(
        [article('old', { publishedAt: T - 1000, section: 'sport' }), article('new', { publishedAt: T + 1000, section: 'sport' })],
        T,
      );
      const sport = await storage.listArticles({ limit: 10, offset: 0, section: 'sport' });
      expect(sport.map((a) => a.id)).toEqual(['new', 'old']);
      expect(await storage.setArticleStatus('old', 'unpublished', T)).toBe(true);
      expect((await storage.getArticle('old'))?.status).toBe('unpublished');
      expect(await storage.setArticleStatus('missing', 'retracted', T)).toBe(false);
      expect(await storage.deleteArticle('old')).toBe(true);
      expect(await storage.deleteArticle('old')).toBe(false);
    });

    it('appends events once: replays are duplicates, a changed payload is a conflict and the first stands', async () => {
      const e1 = readEvent('ev-1');
      expect(await storage.appendEvents([e1, readEvent('ev-2')])).toEqual(['accepted', 'accepted']);
      // A replay arrives later: a different receive time does not make it a different event.
      expect(await storage.appendEvents([{ ...e1, receivedTs: T + 999 }])).toEqual(['duplicate']);
      expect(await storage.appendEvents([readEvent('ev-1', { dwellMs: 999 })])).toEqual(['conflict']);
      const [stored] = await storage.getEvents(['ev-1']);
      expect(stored).toEqual(e1);
    });

    it('handles an id repeated inside one batch', async () => {
      const out = await storage.appendEvents([
        readEvent('dup-1'),
        readEvent('dup-1'),
        readEvent('dup-1', { scroll: 1 }),
        readEvent('dup-2'),
      ]);
      expect(out).toEqual(['accepted', 'duplicate', 'conflict', 'accepted']);
    });

    it('handles replays spread over a large batch (multi-row inserts)', async () => {
      const batch = Array.from({ length: 150 }, (_, i) => readEvent(`big-${i}`));
      batch[20] = readEvent('big-10'); // same payload as #10: duplicate
      batch[100] = readEvent('big-5', { dwellMs: 7 }); // other payload: conflict
      batch[149] = readEvent('big-140');
      const out = await storage.appendEvents(batch);
      expect(out.filter((o) => o === 'accepted')).toHaveLength(147);
      expect([out[10], out[20], out[5], out[100], out[140], out[149]]).toEqual([
        'accepted',
        'duplicate',
        'accepted',
        'conflict',
        'accepted',
        'duplicate',
      ]);
      expect((await storage.getEvents(['big-5']))[0]).toMatchObject({ dwellMs: 1000 });
    });

    it('stores every field verbatim whatever its characters: array-literal and JSON metacharacters, "NULL", all types', async () => {
      const nasty = ['{a,b}', '"quoted"', 'back\\slash\\', 'NULL', 'null', ' spaced ', 'tab\tand\r', '\\"', '', 'ü€𝄞'];
      const events: StoredEvent[] = nasty.map(
        (x, i) =>
          ({
            type: 'impression',
            eventId: `nasty-${i}-${x}`,
            readerId: x,
            sessionId: x,
            clientTs: T - i,
            receivedTs: T + i,
            recommId: x,
            placement: x,
            articleId: i % 2 ? null : x,
            items: [{ articleId: x, position: 1, team: i % 3 ? null : x }],
            experiment: x,
            phase: i,
            arm: x,
            hashVersion: 1,
            recommender: { kind: x, version: x },
            shadow: i % 2 === 0,
          }) as StoredEvent,
      );
      events.push(
        {
          type: 'subscribe',
          eventId: 'nasty-sub',
          readerId: 'r',
          sessionId: 's',
          clientTs: T,
          receivedTs: T,
          plan: '{,}',
          revenue: 0.1 + 0.2,
          currency: 'EUR',
          articleId: null,
        } as StoredEvent,
        {
          type: 'read',
          eventId: 'nasty-read',
          readerId: 'r',
          sessionId: 's',
          clientTs: T,
          receivedTs: T,
          articleId: 'a',
          dwellMs: 2_147_483_647,
          scroll: 1e-7,
          recommId: null,
        } as StoredEvent,
        {
          type: 'page_view',
          eventId: 'nasty-pv',
          readerId: 'r',
          sessionId: 's',
          clientTs: 0,
          receivedTs: 8_640_000_000_000_000,
          articleId: null,
          page: '/',
          url: null,
          referrer: 'https://x/?a="1"&b=\\',
        } as StoredEvent,
      );
      expect(await storage.appendEvents(events)).toEqual(events.map(() => 'accepted'));
      const back = new Map((await storage.getEvents(events.map((e) => e.eventId))).map((e) => [e.eventId, e]));
      for (const e of events) expect(back.get(e.eventId), e.eventId).toEqual(e);
      // And the replay of each is a duplicate, not a conflict: what was stored compares equal.
      expect(await storage.appendEvents(events)).toEqual(events.map(() => 'duplicate'));
    });

    it('stores ids with SQL metacharacters and any Unicode as plain data', async () => {
      const ids = ["x'); DROP TABLE events;--", 'a"b\\c%_', 'émoji 🎉 中文', 'line\nbreak'];
      expect(await storage.appendEvents(ids.map((id) => readEvent(id, { readerId: id })))).toEqual(ids.map(() => 'accepted'));
      const back = await storage.getEvents(ids);
      expect(back.map((e) => e.eventId).sort()).toEqual([...ids].sort());
      expect(await storage.countEvents()).toBeGreaterThanOrEqual(ids.length);
    });

    it('stores every event type and reads it back', async () => {
      const events: StoredEvent[] = [
        {
          type: 'page_view',
          eventId: 't-pv',
          readerId: 'r',
          sessionId: 's',
          clientTs: T,
          articleId: null,
          page: '/',
          url: null,
          referrer: null,
          receivedTs: T,
        },
        {
          type: 'impression',
          eventId: 't-imp',
          readerId: 'r',
          sessionId: 's',
          clientTs: T,
          recommId: 'rc',
          placement: 'read-next',
          articleId: 'a',
          items: [{ articleId: 'b', position: 1, team: null }],
          experiment: 'exp',
          phase: 1,
          arm: 'b',
          hashVersion: 2,
          recommender: { kind: 'co-read', version: '3' },
          shadow: false,
          receivedTs: T,
        },
        {
          type: 'click',
          eventId: 't-cl',
          readerId: 'r',
          sessionId: 's',
          clientTs: T,
          recommId: 'rc',
          articleId: 'b',
          position: 1,
          placement: null,
          receivedTs: T,
        },
        {
          type: 'subscribe',
          eventId: 't-sub',
          readerId: 'r',
          sessionId: 's',
          clientTs: T,
          plan: 'annual',
          revenue: 99.5,
          currency: 'EUR',
          articleId: null,
          receivedTs: T,
        },
      ];
      expect(await storage.appendEvents(events)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
      const back = await storage.getEvents(events.map((e) => e.eventId));
      expect(new Map(back.map((e) => [e.eventId, e]))).toEqual(new Map(events.map((e) => [e.eventId, e])));
    });

    it('appends a large batch in one call', async () => {
      const many = Array.from({ length: 5000 }, (_, i) => readEvent(`bulk-${i}`));
      const out = await storage.appendEvents(many);
      expect(out.every((o) => o === 'accepted')).toBe(true);
    });

    it('writes an exposure once per experiment, phase and reader', async () => {
      const e = { experiment: 'exp-1', phase: 1, arm: 'control', readerId: 'r1', hashVersion: 2, exposedTs: T };
      await storage.appendExposures([e, { ...e, arm: 'b', exposedTs: T + 10 }]);
      await storage.appendExposures([
        { ...e, exposedTs: T + 20 },
        { ...e, phase: 2, arm: 'b', exposedTs: T + 30 },
      ]);
      expect(await storage.listExposures('exp-1')).toEqual([e, { ...e, phase: 2, arm: 'b', exposedTs: T + 30 }]);
    });

    it('stores serve records, shadow slates included', async () => {
      const live = serve('rc-1');
      const shadow = serve('rc-1', { shadow: true, recommenderKind: 'model', recommenderVersion: '7', slate: [], latencyMs: 12.5 });
      await storage.appendServes([live, shadow]);
      const back = await storage.listServes({ limit: 10, recommId: 'rc-1' });
      expect(back).toHaveLength(2);
      expect(back).toEqual(expect.arrayContaining([live, shadow]));
    });

    it('finds serves by a UUIDv7 recommId around the time it carries, and by any recommId anywhere', async () => {
      await storage.putPlacement({ ...DEFAULT_PLACEMENT, name: 'lookup' }, 0, T, { actor: 'test', reason: 'lookup' }, 'create');
      const id = (ms: number) => timeOrderedUuid(ms, randomUUID());
      const near = serve(id(T), { placement: 'lookup', servedTs: T });
      const nearShadow = serve(near.recommId, {
        placement: 'lookup',
        servedTs: T,
        shadow: true,
        recommenderKind: 'model',
        recommenderVersion: '2',
      });
      const far = serve(id(T), { placement: 'lookup', servedTs: T + 3_600_000 }); // written an hour from its id's time
      const elsewhere = serve(id(T + 5), { placement: 'not-a-placement', servedTs: T + 5 });
      const others = Array.from({ length: 50 }, (_, i) => serve(id(T + i), { placement: 'lookup', servedTs: T + i }));
      await storage.appendServes([...others, near, nearShadow, far, elsewhere]);
      expect(await storage.listServes({ limit: 10, recommId: near.recommId })).toEqual([nearShadow, near]);
      expect(await storage.listServes({ limit: 10, recommId: far.recommId })).toEqual([far]);
      expect(await storage.listServes({ limit: 10, recommId: elsewhere.recommId })).toEqual([elsewhere]);
      expect(await storage.listServes({ limit: 10, recommId: id(T) })).toEqual([]);
      expect(await storage.listServes({ limit: 1, recommId: near.recommId })).toEqual([nearShadow]);
    });

    it('keeps the first key stored under an id or a hash, and revokes a live key once', async () => {
      const k = {
        id: 'admin',
        name: 'admin',
        scopes: ['admin' as const],
        hash: 'h1',
        prefix: 'rn_abcde',
        createdTs: T,
        revokedTs: undefined,
      };
      expect(await storage.listKeys()).toEqual([]);
      expect(await storage.insertKey(k)).toBe(true);
      expect(await storage.insertKey({ ...k, hash: 'h2' })).toBe(false); // the id is taken
      expect(await storage.insertKey({ ...k, id: 'k_2' })).toBe(false); // the hash is taken
      const rw = {
        ...k,
        id: 'k_3',
        name: 'ci',
        scopes: ['read' as const, 'write' as const],
        hash: 'h3',
        prefix: undefined,
        createdTs: T + 1,
      };
      expect(await storage.insertKey(rw)).toBe(true);
      expect(await storage.listKeys()).toEqual([k, rw]);
      expect(await storage.revokeKey('k_3', T + 5)).toEqual({ ...rw, revokedTs: T + 5 });
      expect(await storage.revokeKey('k_3', T + 9)).toEqual({ ...rw, revokedTs: T + 5 }); // the first revocation stands
      expect(await storage.revokeKey('nope', T)).toBeUndefined();
    });

    it('streams reading signals since a time, oldest first', async () => {
      const base = T + 10 * 86_400_000; // later than every other event of this suite
      const events: StoredEvent[] = [
        readEvent('sig-2', { clientTs: base + 2, readerId: 'sr', articleId: 'b' }),
        readEvent('sig-1', { clientTs: base + 1, readerId: 'sr', articleId: 'a' }),
        {
          type: 'click',
          eventId: 'sig-3',
          readerId: 'sr',
          sessionId: 's',
          clientTs: base + 3,
          recommId: 'x',
          articleId: 'c',
          position: 1,
          placement: null,
          receivedTs: base,
        },
        {
          type: 'page_view',
          eventId: 'sig-4',
          readerId: 'sr',
          sessionId: 's',
          clientTs: base + 4,
          articleId: null,
          page: '/',
          url: null,
          referrer: null,
          receivedTs: base,
        },
        {
          type: 'subscribe',
          eventId: 'sig-5',
          readerId: 'sr',
          sessionId: 's',
          clientTs: base + 5,
          plan: 'p',
          revenue: 1,
          currency: 'EUR',
          articleId: 'd',
          receivedTs: base,
        },
        readEvent('sig-0', { clientTs: base - 1, readerId: 'sr', articleId: 'z' }),
      ];
      await storage.appendEvents(events);
      const got: unknown[] = [];
      const n = await storage.scanSignals(base, (rows) => got.push(...rows));
      expect(n).toBe(3);
      expect(got).toEqual([
        { type: 'read', readerId: 'sr', articleId: 'a', clientTs: base + 1 },
        { type: 'read', readerId: 'sr', articleId: 'b', clientTs: base + 2 },
        { type: 'click', readerId: 'sr', articleId: 'c', clientTs: base + 3 },
      ]);
    });

    it('stores placements with a compare-and-set on the revision', async () => {
      const cfg = { ...DEFAULT_PLACEMENT, name: 'contract' };
      const by = { actor: 'tester', reason: 'contract' };
      const v0 = await storage.deployVersion();
      expect(await storage.putPlacement(cfg, 0, T, by, 'create')).toBe(1);
      expect(await storage.putPlacement(cfg, 0, T, by, 'create')).toBeUndefined();
      expect(await storage.putPlacement({ ...cfg, defaultK: 3 }, 1, T + 1, by, 'deploy')).toBe(2);
      expect(await storage.putPlacement({ ...cfg, defaultK: 4 }, 1, T + 2, by, 'deploy')).toBeUndefined();
      expect(await storage.getPlacement('contract')).toEqual({
        name: 'contract',
        config: { ...cfg, defaultK: 3 },
        revision: 2,
        updatedTs: T + 1,
      });
      expect((await storage.listPlacements()).map((p) => p.name)).toContain('contract');
      // Each successful write: one revision row, one audit row, one deploy-version step; lost CAS writes leave no trace.
      expect((await storage.getPlacementRevision('contract', 1))?.config).toEqual(cfg);
      expect((await storage.listPlacementRevisions('contract')).map((r) => [r.revision, r.actor])).toEqual([
        [2, 'tester'],
        [1, 'tester'],
      ]);
      expect(await storage.deployVersion()).toBe(v0 + 2);
      const audit = await storage.listAudit({ limit: 10, target: 'placement:contract' });
      expect(audit.map((a) => a.action)).toEqual(['deploy', 'create']);
      expect(audit[0]).toMatchObject({ actor: 'tester', reason: 'contract', details: { revision: 2 } });
    });

    it('stores experiments with a compare-and-set on the revision, audited', async () => {
      const e = parseExperiment(
        {
          id: 'exp-c',
          placement: 'read-next',
          arms: [
            { name: 'a', recommender: { kind: 'latest', version: '1' } },
            { name: 'b', recommender: { kind: 'popular', version: '1' } },
          ],
        },
        T,
      );
      const by = { actor: 'tester', reason: null };
      expect(await storage.putExperiment(e, 0, T, by, 'create')).toBe(1);
      expect(await storage.putExperiment(e, 0, T, by, 'create')).toBeUndefined();
      expect(await storage.putExperiment({ ...e, status: 'running', phase: 1 }, 1, T, by, 'start')).toBe(2);
      expect(await storage.getExperiment('exp-c')).toEqual({ experiment: { ...e, status: 'running', phase: 1 }, revision: 2 });
      expect((await storage.listExperiments()).map((x) => x.experiment.id)).toContain('exp-c');
      expect((await storage.listAudit({ limit: 5, target: 'experiment:exp-c' })).map((a) => a.action)).toEqual(['start', 'create']);
    });

    it('sums per-reader measures per arm from first exposure, in SQL (hand-worked)', async () => {
      const t = T + 20 * 86_400_000;
      const to = t + 3_600_000;
      const ev = (id: string, reader: string, session: string, at: number, rest: Record<string, unknown>) =>
        ({ eventId: id, readerId: reader, sessionId: session, clientTs: at, receivedTs: at, ...rest }) as StoredEvent;
      await storage.appendExposures([
        { experiment: 'exp-m', phase: 1, arm: 'control', readerId: 'mA', hashVersion: 2, exposedTs: t },
        { experiment: 'exp-m', phase: 1, arm: 'control', readerId: 'mB', hashVersion: 2, exposedTs: t },
        { experiment: 'exp-m', phase: 1, arm: 'b', readerId: 'mC', hashVersion: 2, exposedTs: t },
      ]);
      const imp = {
        type: 'impression',
        recommId: 'r',
        placement: 'read-next',
        articleId: 'a',
        items: [{ articleId: 'x', position: 1, team: null }],
        experiment: 'exp-m',
        phase: 1,
        arm: 'control',
        hashVersion: 2,
        recommender: null,
        shadow: false,
      };
      await storage.appendEvents([
        ev('m1', 'mA', 's1', t + 1, imp),
        ev('m2', 'mA', 's1', t + 2, { ...imp }),
        ev('m3', 'mA', 's1', t + 3, { type: 'click', recommId: 'r', articleId: 'x', position: 1, placement: 'read-next' }),
        ev('m4', 'mA', 's1', t + 4, { type: 'read', articleId: 'x', dwellMs: 1000, scroll: 1, recommId: null }),
        ev('m5', 'mA', 's1', t + 5, { type: 'page_view', articleId: 'x', page: null, url: null, referrer: null }),
        ev('m6', 'mA', 's0', t - 86_400_000, { type: 'read', articleId: 'y', dwellMs: 99, scroll: 1, recommId: null }), // the day before exposure: pre-period
        ev('m6b', 'mA', 's0', t - 10, { type: 'read', articleId: 'y', dwellMs: 77, scroll: 1, recommId: null }), // exposure day, before it: neither
        ev('m7', 'mC', 's3', t + 1, { type: 'subscribe', plan: 'p', revenue: 9.5, currency: 'EUR', articleId: null }),
        ev('m8', 'mC', 's3', t + 2, { type: 'read', articleId: 'x', dwellMs: 500, scroll: 1, recommId: null }),
        ev('m9', 'mC', 's4', t + 3, { type: 'read', articleId: 'y', dwellMs: 1500, scroll: 1, recommId: null }),
        ev('m10', 'mC', 's5', to, { type: 'read', articleId: 'z', dwellMs: 7, scroll: 1, recommId: null }), // after the window
      ]);
      const progress = await storage.advanceRollups(
        [{ experiment: 'exp-m', phase: 1, fromTs: t, toTs: to, placement: 'read-next' }],
        to + 10_000,
        1_000_000,
      );
      expect(progress).toMatchObject({ caughtUp: true, throughTs: to + 10_000 });
      expect(progress.events).toBeGreaterThanOrEqual(11);
      const sums = await storage.armSums('exp-m', 1);
      expect(sums.map((x) => x.arm)).toEqual(['b', 'control']); // ordered by arm name
      const byArm = new Map(sums.map((x) => [x.arm, x]));
      const zero = { impressions: 0, clicks: 0, reads: 0, dwellMs: 0, pageViews: 0, sessions: 0, subscribed: 0, revenue: 0 };
      // control: A = {2 impressions, 1 click, 1 read of 1000 ms, 1 page view, 1 session}, B = zeros.
      expect(byArm.get('control')).toEqual({
        arm: 'control',
        n: 2,
        active: 1, // A sent a page view after exposure, B nothing
        sum: { ...zero, impressions: 2, clicks: 1, reads: 1, dwellMs: 1000, pageViews: 1, sessions: 1 },
        sumSquares: { ...zero, impressions: 4, clicks: 1, reads: 1, dwellMs: 1_000_000, pageViews: 1, sessions: 1 },
        crossProducts: { 'clicks*impressions': 2, 'pageViews*sessions': 1, 'dwellMs*reads': 1000 },
        // CUPED pre-period (the 14 whole days before the exposure's day; sessions have none): A read once, 99 ms, the day before.
        pre: { sum: { ...zero, reads: 1, dwellMs: 99 }, sumSquares: { ...zero, reads: 1, dwellMs: 9801 } },
        sumPostPre: { ...zero, reads: 1, dwellMs: 99_000 },
        // CUPED for ratios: dwell/read pre·pre 99·1, post·pre 1000·1, pre·post 99·1 (CTR has no pre-period per placement: not adjusted).
        preCrossProducts: { 'dwellMs*reads': { prePre: 99, postPre: 1000, prePost: 99 } },
      });
      // b: C = {2 reads of 2000 ms in 2 sessions (s3, s4) + the subscribe's session s3, subscribed, 9.5 revenue}.
      expect(byArm.get('b')).toEqual({
        arm: 'b',
        n: 1,
        active: 0, // C read and subscribed but sent no page view
        sum: { ...zero, reads: 2, dwellMs: 2000, sessions: 2, subscribed: 1, revenue: 9.5 },
        sumSquares: { ...zero, reads: 4, dwellMs: 4_000_000, sessions: 4, subscribed: 1, revenue: 90.25 },
        crossProducts: { 'clicks*impressions': 0, 'pageViews*sessions': 0, 'dwellMs*reads': 4000 },
        pre: { sum: zero, sumSquares: zero },
        sumPostPre: zero,
        preCrossProducts: { 'dwellMs*reads': { prePre: 0, postPre: 0, prePost: 0 } },
      });
      // Revenue capped at 5 per reader: C's 9.5 counts as 5.
      const capped = new Map((await storage.armSums('exp-m', 1, { revenueCap: 5 })).map((x) => [x.arm, x]));
      expect(capped.get('b')).toMatchObject({ sum: { revenue: 5 }, sumSquares: { revenue: 25 } });
      // A second pass with nothing new changes nothing.
      expect(
        await storage.advanceRollups(
          [{ experiment: 'exp-m', phase: 1, fromTs: t, toTs: to, placement: 'read-next' }],
          to + 20_000,
          1_000_000,
        ),
      ).toMatchObject({ events: 0, caughtUp: true });
      expect(await storage.armSums('exp-m', 1)).toEqual(sums);
    });

    it('skips events too old to matter to any exposure instead of rolling up all history', async () => {
      const D = 86_400_000;
      const t1 = T + 400 * D;
      const old = (i: number, at: number) => readEvent(`old-${i}`, { readerId: 'skip-r', clientTs: at, receivedTs: at });
      // 30 days ago and 20 days ago: before the floor (16 days + 1 before the cutoff); 10 days ago: after it.
      await storage.appendEvents([old(1, t1 - 30 * D), old(2, t1 - 20 * D), old(3, t1 - 10 * D), old(4, t1 - 10 * D + 1)]);
      const p = await storage.advanceRollups([], t1, 1_000_000);
      expect(p).toMatchObject({ events: 2, caughtUp: true });
      // A window starting earlier keeps older events in: nothing was lost for an experiment running then.
      await storage.appendEvents([old(5, t1 + 1000)]);
      expect(
        await storage.advanceRollups(
          [{ experiment: 'x', phase: 1, fromTs: t1 - 40 * D, toTs: null, placement: 'read-next' }],
          t1 + 2000,
          1_000_000,
        ),
      ).toMatchObject({ events: 1 });
    });

    it('prunes reader days that no pre-period still to be taken can reach, and keeps them for a phase that started earlier', async () => {
      const D = 86_400_000;
      const t2 = T + 450 * D; // between the skip test's events and the next test's
      const days = async () =>
        (await kyselyOf(storage).selectFrom('reader_days').select('day').where('reader_id', '=', 'prune-r').orderBy('day').execute()).map(
          (r) => Number(r.day),
        );
      // Days are receive days (the client's time places nothing). Received 20 and 3 days ago: a phase
      // that started 30 days ago can still expose readers whose pre-period reaches 44 days back, so both stay.
      const at = (i: number, ago: number) => readEvent(`prune-${i}`, { readerId: 'prune-r', clientTs: t2, receivedTs: t2 - ago * D });
      await storage.appendEvents([at(1, 20), at(2, 3)]);
      await storage.advanceRollups(
        [{ experiment: 'prune-x', phase: 1, fromTs: t2 - 30 * D, toTs: null, placement: 'read-next' }],
        t2,
        1_000_000,
      );
      expect(await days()).toEqual([Math.floor(t2 / D) - 20, Math.floor(t2 / D) - 3]);
      // Without that phase the floor is 15 days before the cutoff: the day 20 days back goes.
      await storage.appendEvents([at(3, 0)]);
      await storage.advanceRollups([], t2 + 1000, 1_000_000);
      expect(await days()).toEqual([Math.floor(t2 / D) - 3, Math.floor(t2 / D)]);
    });

    it('rolls up the same sums whatever the batches, the order of exposures and events and how late exposures are stored (against a direct computation)', async () => {
      const rng = seededRng(7);
      const D = 86_400_000;
      const G = EXPOSURE_GRACE_MS;
      const t0 = T + 500 * D; // after every other test's events: the PostgreSQL cursor is a receive time
      const readers = Array.from({ length: 40 }, (_, i) => `q${i}`);
      const types = ['impression', 'click', 'read', 'page_view', 'subscribe'] as const;
      const rounds = 6;
      const roundMs = D / 2;
      const phaseEnd = t0 + 2.5 * D;
      const win = [{ experiment: 'exp-q', phase: 1, fromTs: t0, toTs: phaseEnd, placement: 'read-next' }];
      const money = { currency: 'EUR', rates: { USD: 0.5 } };
      const rates: Record<string, number> = { EUR: 1, USD: 0.5 }; // GBP has none: reported apart
      const exposures: ExposureRecord[] = [];
      const events: StoredEvent[] = [];
      let n = 0;
      const rest = (type: (typeof types)[number], article: string): Record<string, unknown> =>
        type === 'impression'
          ? {
              recommId: `rq${n}`,
              placement: rng.next() < 0.7 ? 'read-next' : 'home',
              articleId: article,
              items: [{ articleId: 'x', position: 1, team: null }],
              experiment: null,
              phase: null,
              arm: null,
              hashVersion: null,
              recommender: null,
              shadow: false,
            }
          : type === 'click'
            ? {
                recommId: `rq${n}`,
                articleId: 'x',
                position: 1,
                placement: rng.next() < 0.7 ? 'read-next' : rng.next() < 0.5 ? 'home' : null,
              }
            : type === 'read'
              ? { articleId: 'x', dwellMs: 100 + rng.int(5000), scroll: 0.5, recommId: null }
              : type === 'page_view'
                ? { articleId: article, page: null, url: null, referrer: null }
                : { plan: 'p', revenue: 1 + rng.int(20), currency: ['EUR', 'EUR', 'USD', 'GBP'][rng.int(4)], articleId: null };
      const sessionOf = (reader: string, ts: number) => `${reader}-s${Math.floor(ts / (3 * 3_600_000))}`;
      for (let r = 0; r < rounds; r++) {
        const from = t0 + r * roundMs;
        // Some exposures of this round are stored before its events (the server writes them when it
        // answers), others only after the round's events were rolled up (a slow record writer, lag 0).
        const fresh = readers
          .filter((x) => !exposures.some((e) => e.readerId === x) && rng.next() < 0.3)
          .map((x) => {
            const exposedTs = from + rng.int(roundMs - 2000);
            return {
              experiment: 'exp-q',
              phase: 1,
              arm: rng.next() < 0.5 ? 'a' : 'b',
              readerId: x,
              hashVersion: 2,
              exposedTs,
              sessionId: sessionOf(x, exposedTs),
              articleId: 'p1',
            };
          });
        const late = fresh.filter(() => rng.next() < 0.5);
        await storage.appendExposures(fresh.filter((x) => !late.includes(x)));
        const batch: StoredEvent[] = [];
        for (let k = 0; k < 150; k++) {
          const reader = readers[rng.int(readers.length)]!;
          // Received this round, never before the last round's cutoff (the PostgreSQL cursor); client
          // time anything, up to 16 days older (a wrong clock, a late event): it places nothing.
          const receivedTs = from + rng.int(roundMs - 1000);
          const clientTs = receivedTs - rng.int(16 * D);
          const type = types[rng.int(types.length)]!;
          batch.push({
            type,
            eventId: `q-${n++}`,
            readerId: reader,
            sessionId: sessionOf(reader, receivedTs),
            clientTs,
            receivedTs,
            ...rest(type, rng.next() < 0.5 ? 'p1' : 'p2'),
          } as StoredEvent);
        }
        // The page view of the page that made each exposure, sent before the widget's request (or after it).
        for (const x of fresh) {
          const receivedTs = Math.max(from, x.exposedTs - rng.int(2 * G));
          batch.push({
            type: 'page_view',
            eventId: `q-${n++}`,
            readerId: x.readerId,
            sessionId: x.sessionId,
            clientTs: receivedTs - 120_000,
            receivedTs,
            articleId: 'p1',
            page: null,
            url: null,
            referrer: null,
          } as StoredEvent);
        }
        batch.sort((x, y) => x.receivedTs - y.receivedTs);
        for (let i = 0; i < batch.length; i += 37) await storage.appendEvents(batch.slice(i, i + 37));
        events.push(...batch);
        // Passes of random sizes up to the end of the round.
        const pass = async (cutoff: number) => {
          for (;;) if ((await storage.advanceRollups(win, cutoff, 1 + rng.int(80), money)).caughtUp) break;
        };
        await pass(from + roundMs / 2);
        await storage.appendExposures(late);
        await pass(from + roundMs);
        exposures.push(...fresh);
      }
      // Direct computation from the events, per reader, then per arm.
      const measures = (xs: StoredEvent[]) => ({
        impressions: xs.filter((e) => e.type === 'impression' && e.placement === 'read-next').length,
        clicks: xs.filter((e) => e.type === 'click' && e.placement === 'read-next').length,
        reads: xs.filter((e) => e.type === 'read').length,
        dwellMs: xs.reduce((a, e) => a + (e.type === 'read' ? e.dwellMs : 0), 0),
        pageViews: xs.filter((e) => e.type === 'page_view').length,
        sessions: new Set(xs.map((e) => e.sessionId)).size,
        subscribed: xs.some((e) => e.type === 'subscribe') ? 1 : 0,
        revenue: xs.reduce(
          (a, e) => a + (e.type === 'subscribe' && rates[e.currency] !== undefined ? e.revenue * rates[e.currency]! : 0),
          0,
        ),
      });
      const want = new Map<
        string,
        {
          n: number;
          s: Record<string, number>;
          q: Record<string, number>;
          ps: Record<string, number>;
          pp: Record<string, number>;
          x: Record<string, { prePre: number; postPre: number; prePost: number }>;
        }
      >();
      const unpriced = new Map<string, { events: number; amount: number; readers: Set<string> }>();
      for (const x of exposures) {
        const mine = events.filter((e) => e.readerId === x.readerId);
        const preEnd = Math.floor((x.exposedTs - G) / D) * D;
        const isPost = (e: StoredEvent) =>
          e.receivedTs < phaseEnd &&
          (e.receivedTs >= x.exposedTs ||
            (e.type === 'page_view' && e.sessionId === x.sessionId && e.articleId === x.articleId && e.receivedTs >= x.exposedTs - G));
        const postEvents = mine.filter(isPost);
        const post = measures(postEvents);
        const pre = {
          ...measures(mine.filter((e) => e.receivedTs >= preEnd - 14 * D && e.receivedTs < preEnd)),
          sessions: 0,
          impressions: 0,
          clicks: 0,
        };
        for (const e of postEvents) {
          if (e.type !== 'subscribe' || rates[e.currency] !== undefined) continue;
          const u = unpriced.get(`${x.arm} ${e.currency}`) ?? { events: 0, amount: 0, readers: new Set<string>() };
          u.events++;
          u.amount += e.revenue;
          u.readers.add(x.readerId);
          unpriced.set(`${x.arm} ${e.currency}`, u);
        }
        const w = want.get(x.arm) ?? { n: 0, s: {}, q: {}, ps: {}, pp: {}, x: {} };
        w.n++;
        for (const [m, d] of [['dwellMs', 'reads']] as const) {
          const c = (w.x[`${m}*${d}`] ??= { prePre: 0, postPre: 0, prePost: 0 });
          c.prePre += pre[m] * pre[d];
          c.postPre += post[m] * pre[d];
          c.prePost += pre[m] * post[d];
        }
        for (const [k, v] of Object.entries(post)) {
          const p = pre[k as keyof typeof pre];
          w.s[k] = (w.s[k] ?? 0) + v;
          w.q[k] = (w.q[k] ?? 0) + v * v;
          w.ps[k] = (w.ps[k] ?? 0) + p;
          w.pp[k] = (w.pp[k] ?? 0) + v * p;
        }
        want.set(x.arm, w);
      }
      // The test means something: late exposures, grace page views before exposure, other placements and currencies all occurred.
      expect(exposures.length).toBeGreaterThan(20);
      expect(unpriced.size).toBeGreaterThan(0);
      const got = await storage.armSums('exp-q', 1);
      expect(got.map((g) => g.arm)).toEqual([...want.keys()].sort());
      const close = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 1e6) / 1e6]));
      for (const g of got) {
        const w = want.get(g.arm)!;
        expect({
          n: g.n,
          s: close(g.sum),
          q: close(g.sumSquares),
          ps: close(g.pre.sum),
          pp: close(g.sumPostPre),
          x: g.preCrossProducts,
        }).toEqual({ n: w.n, s: close(w.s), q: close(w.q), ps: close(w.ps), pp: close(w.pp), x: w.x });
      }
      const gotUnpriced = await storage.unpricedRevenue('exp-q', 1);
      expect(gotUnpriced).toEqual(
        [...unpriced]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, u]) => ({
            arm: k.split(' ')[0],
            currency: k.split(' ')[1],
            readers: u.readers.size,
            events: u.events,
            amount: u.amount,
          })),
      );
    });

    it('sums serve records per arm for guardrails', async () => {
      await storage.appendServes([
        serve('g1', { experiment: 'exp-g', phase: 1, arm: 'a', latencyMs: 1 }),
        serve('g2', { experiment: 'exp-g', phase: 1, arm: 'a', latencyMs: 3, fault: true }),
        serve('g3', { experiment: 'exp-g', phase: 1, arm: 'b', latencyMs: 2 }),
        serve('g4', { experiment: 'exp-g', phase: 1, arm: 'b', latencyMs: 50, shadow: true }), // shadows do not count
        serve('g5', { experiment: 'exp-g', phase: 2, arm: 'b', latencyMs: 9 }), // other phase
      ]);
      expect(await storage.serveSums('exp-g', 1)).toEqual([
        { arm: 'a', responses: 2, faults: 1, latencySum: 4, latencySumSquares: 10, latencyMax: 3 },
        { arm: 'b', responses: 1, faults: 0, latencySum: 2, latencySumSquares: 4, latencyMax: 2 },
      ]);
    });

    it('answers a ping', async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });
  });
}
