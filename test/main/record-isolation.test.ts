import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/adapters/http/app.js';
import { demoSite } from '../../src/adapters/web/site.js';
import { loadConfig } from '../../src/config/config.js';
import type { ExposureRecord, ServeRecord } from '../../src/core/events/records.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { appDeps, openServices, type Services } from '../../src/main/services.js';
import { BACKENDS } from '../helpers/databases.js';
import { T0 } from '../helpers/events.js';
import { builtSdk } from '../helpers/sdk.js';
import { syntheticArticle } from '../../src/core/simulate/synthetic.js';

// Issue 13, item 1: one bad record must never sink a batch of others. On PostgreSQL a NUL in text
// failed the record writer's whole batch, and the readers in it were never written again.

const HOUR = 3_600_000;
const ADMIN = 'isolation-admin-key-0123456789abcdef';
const admin = { authorization: `Bearer ${ADMIN}` };
const actor = { actor: 'test', reason: 'issue 13' };
const articles = ['a', 'b', 'c'].map((id, i) => syntheticArticle(id, 'news', T0 - (i + 1) * HOUR, id.toUpperCase()));
const readers = Array.from({ length: 100 }, (_, i) => `reader-${String(i).padStart(3, '0')}`);

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`one poisoned record among 100 readers (${backend.name})`, () => {
    let services: Services;
    let app: FastifyInstance;
    let cleanup: () => Promise<void>;
    const logs: string[] = [];

    beforeAll(async () => {
      const db = await backend.create();
      // A flush interval of a minute: the test flushes, so every record of a step is in one batch.
      const config = loadConfig(
        {
          db: db.url,
          adminKey: ADMIN,
          ingestKey: 'isolation-ingest-key-0123456789abcdef',
          logLevel: 'silent',
          recordFlushIntervalMs: 60_000,
        },
        {},
      );
      services = await openServices(config, { clock: fixedClock(T0), log: (m) => logs.push(m) });
      app = await createApp({
        ...appDeps(services),
        plugins: [demoSite({ articles: services.storage, clock: fixedClock(T0), sdkFile: await builtSdk() })],
      });
      cleanup = async () => {
        await app.close();
        await services.close();
        await db.cleanup();
      };
      await services.catalog.upsert(articles);
      await services.deployments.createExperiment(
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
      await services.deployments.startExperiment('exp', actor);
    });
    afterAll(async () => cleanup?.());

    const recommend = (reader: string) =>
      app.inject({ method: 'GET', url: `/v1/recommendations?placement=read-next&article=a&reader=${reader}` });

    it('the route refuses a reader id that events would refuse, naming "reader", and writes nothing for it', async () => {
      const nul = await recommend('x%00');
      expect(nul.statusCode).toBe(400);
      expect(nul.json()).toEqual({ error: { code: 'invalid_text', message: '"reader" contains a NUL character', field: 'reader' } });
      const long = await recommend('r'.repeat(129));
      expect(long.statusCode).toBe(400);
      expect(long.json()).toMatchObject({ error: { code: 'invalid_field', field: 'reader' } });
      // Bytes that are not UTF-8 (a lone surrogate's encoding) are not decoded into a lone surrogate:
      // the value arrives as the text "%ED%A0%80", which is valid text and is served.
      const surrogate = await recommend('%ED%A0%80');
      expect(surrogate.statusCode).toBe(200);
      await services.recordWriter.flush();
      const stored = (await services.storage.listExposures('exp')).map((e) => e.readerId);
      expect(stored).toEqual(['%ED%A0%80']);
      expect(services.recordWriter.written).toMatchObject({ refused: 0, dropped: 0 });
    });

    it("other routes that look an id up refuse a NUL too, the demo site's article page included (a 500 on PostgreSQL before)", async () => {
      for (const url of [
        '/articles/a%00',
        '/v1/admin/articles/a%00',
        '/v1/admin/experiments/exp%00',
        '/v1/admin/exposures?experiment=exp%00',
        '/v1/admin/serves?recommId=x%00',
      ]) {
        const res = await app.inject({ method: 'GET', url, headers: admin });
        expect({ url, status: res.statusCode, code: (res.json() as { error: { code: string } }).error.code }).toEqual({
          url,
          status: 400,
          code: 'invalid_text',
        });
      }
    });

    it("a record the database refuses, put straight into the writer among 100 readers' exposures and serves, leaves all 100 stored", async () => {
      const first = readers.slice(0, 50);
      for (const r of first) expect((await recommend(r)).statusCode).toBe(200);
      // The poisoned records reach the writer directly (the route refuses them now). A NUL is
      // refused by PostgreSQL only (SQLite stores it); a missing reader id by both (NOT NULL).
      const exposure: ExposureRecord = { experiment: 'exp', phase: 1, arm: 'control', readerId: 'x\u0000', hashVersion: 2, exposedTs: T0 };
      services.recordWriter.exposure(exposure);
      services.recordWriter.exposure({ ...exposure, readerId: null as unknown as string });
      const serve: ServeRecord = {
        recommId: 'poisoned',
        placement: 'read-next',
        experiment: null,
        phase: null,
        arm: null,
        hashVersion: null,
        recommenderKind: 'popular',
        recommenderVersion: '1',
        shadow: false,
        readerId: 'x\u0000',
        sessionId: null,
        articleId: 'a',
        latencyMs: 1,
        fallback: false,
        fault: false,
        slate: [],
        servedTs: T0,
      };
      services.recordWriter.serve(serve);
      services.recordWriter.serve({ ...serve, readerId: 'clean', recommId: null as unknown as string });
      for (const r of readers.slice(50)) expect((await recommend(r)).statusCode).toBe(200);
      await services.recordWriter.flush();

      const stored = new Set((await services.storage.listExposures('exp')).map((e) => e.readerId));
      for (const r of readers) expect(stored.has(r), r).toBe(true);
      const serves = await services.storage.listServes({ limit: 1000 });
      for (const r of readers)
        expect(
          serves.some((s) => s.readerId === r),
          r,
        ).toBe(true);
      const refused = backend.name === 'postgres' ? 4 : 2;
      expect(services.recordWriter.written).toMatchObject({ refused, dropped: 0 });
      expect(stored.has('x\u0000')).toBe(backend.name === 'sqlite');
      // Logged once per kind and reason; counted in the serving stats.
      const refusals = logs.filter((l) => l.startsWith('the database refused'));
      expect(refusals).toHaveLength(backend.name === 'postgres' ? 4 : 2);
      expect(refusals.some((l) => l.includes('exposure') && l.includes('reader "x\\u0000"'))).toBe(backend.name === 'postgres');
      const stats = (await app.inject({ method: 'GET', url: '/v1/admin/serving/stats', headers: admin })).json() as {
        recordsRefused: number;
        recordsDropped: number;
      };
      expect(stats).toMatchObject({ recordsRefused: refused, recordsDropped: 0 });
    });

    it('a reader whose exposure write failed (not refused) is written on their next request', async () => {
      const reader = 'reader-after-outage';
      const append = services.storage.appendExposures.bind(services.storage);
      services.storage.appendExposures = async () => {
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
      };
      try {
        expect((await recommend(reader)).statusCode).toBe(200);
        await services.recordWriter.flush();
      } finally {
        services.storage.appendExposures = append;
      }
      expect((await services.storage.listExposures('exp')).some((e) => e.readerId === reader)).toBe(false);
      expect(logs.some((l) => l.startsWith('could not write 1 exposure records: Connection terminated'))).toBe(true);
      expect((await recommend(reader)).statusCode).toBe(200);
      await services.recordWriter.flush();
      expect((await services.storage.listExposures('exp')).filter((e) => e.readerId === reader)).toHaveLength(1);
    });
  });
}
