/**
 * The server's heavy jobs in a worker thread (src/main/jobs.ts, job-worker.ts): training over
 * POST /v1/admin/models/train and the data report run on a second connection to the same database,
 * while the server keeps answering. On SQLite (a file: an in-memory database cannot be opened twice
 * and trains in process) and on PostgreSQL when READNEXT_TEST_PG is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/adapters/http/app.js';
import { ModelAdmin } from '../../src/app/model-admin.js';
import { DomainError } from '../../src/core/kernel/errors.js';
import { jobRunner, workerEntry } from '../../src/main/jobs.js';
import { appDeps } from '../../src/main/services.js';
import { admin, testApp, type TestApp } from '../helpers/app.js';
import { BACKENDS } from '../helpers/databases.js';
import { T0 } from '../helpers/events.js';
import { loadModelLog, modelLog } from '../helpers/model-log.js';

const DAY = 86_400_000;

describe('jobRunner', () => {
  it('gives no runner on an in-memory database (it cannot be opened twice): the jobs run in process', () => {
    expect(jobRunner({ db: 'sqlite::memory:', sqliteSynchronous: 'FULL' }, () => T0)).toBeUndefined();
    expect(jobRunner({ db: 'sqlite:/tmp/x.db', sqliteSynchronous: 'FULL' }, () => T0)).toBeTypeOf('function');
  });

  it('runs the worker from the TypeScript sources under the tests, and from the bundle beside it when built', () => {
    const e = workerEntry();
    expect(e.eval).toBe(true);
    if (e.eval) expect(e.code).toMatch(/tsImport\(".*\/src\/main\/job-worker\.ts"/);
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`jobs in a worker thread (${backend.name})`, () => {
    let t: TestApp;
    let db: { url: string; cleanup(): Promise<void> };

    beforeAll(async () => {
      db = await backend.create();
      t = await testApp({ db: db.url });
      await loadModelLog(t.services.storage, modelLog({ start: T0 - 2 * DAY }), T0 - 3 * DAY);
    });
    afterAll(async () => {
      await t?.close();
      await db?.cleanup();
    });

    const train = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'POST', url: '/v1/admin/models/train', headers: admin, payload });

    it('trains in the worker and answers the stored model, created at the server clock', async () => {
      const res = await train({ placement: 'read-next', seed: 3 });
      expect(res.statusCode, res.body).toBe(200);
      const m = res.json();
      expect(m.placement).toBe('read-next');
      expect(m.window).toEqual({ sinceTs: T0 - 7 * DAY, untilTs: T0 });
      // The worker asks the server's (fixed) clock when it stores the model.
      expect(m.createdAt).toBe(new Date(T0).toISOString());
      expect(m.trees).toBeGreaterThan(0);
      expect(m.metrics.trainExamples + m.metrics.testExamples).toBe(16_000);
      // The main thread's store sees the model the worker stored.
      expect((await t.app.inject({ url: '/v1/admin/models', headers: admin })).json().items[0].version).toBe(m.version);
    }, 120_000);

    it('answers other requests while a training runs, before the training answers; one training at a time', async () => {
      // In this test numbered comments give the order the responses must arrive in.
      const order: string[] = [];
      // 1. The training starts: its request is handled, and its worker thread boosts the trees.
      const training = train({ placement: 'read-next', seed: 4 }).then((r) => {
        order.push('train');
        return r;
      });
      // 2. Meanwhile an admin GET is answered, saying what is training (asked until the handler has started it)...
      let during = await t.app.inject({ url: '/v1/admin/models', headers: admin });
      while (during.json().training === null && order.length === 0) {
        await new Promise((r) => setTimeout(r, 5));
        during = await t.app.inject({ url: '/v1/admin/models', headers: admin });
      }
      order.push('models');
      expect(during.json().training).toEqual({ placement: 'read-next', startedTs: T0 });
      // ...then a cheap GET...
      const health = await t.app.inject({ url: '/healthz' });
      order.push('health');
      expect(health.statusCode).toBe(200);
      // ...and a second training is refused.
      const second = await train({ placement: 'read-next' });
      order.push('second');
      expect(second.statusCode).toBe(409);
      expect(second.json().error.code).toBe('conflict');
      // 3. The training answers last.
      const done = await training;
      expect(done.statusCode, done.body).toBe(200);
      expect(order).toEqual(['models', 'health', 'second', 'train']);
      expect((await t.app.inject({ url: '/v1/admin/models', headers: admin })).json().training).toBeNull();
    }, 120_000);

    it("maps the worker's domain errors to the same codes: 409 invalid_state without impressions", async () => {
      const res = await train({ placement: 'nowhere' });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('invalid_state');
      expect(res.json().error.message).toMatch(/no impressions of placement "nowhere"/);
    });

    it('builds the data report in the worker; its refusals keep their code and field', async () => {
      const res = await t.app.inject({ url: '/v1/admin/data/report?since=2026-02-27&until=2026-03-01', headers: admin });
      expect(res.statusCode, res.body).toBe(200);
      const r = res.json();
      expect(r.generatedTs).toBe(T0);
      expect(r.quality.byType.impression).toBe(4000);
      expect(r.stability.days.map((d: { day: string }) => d.day)).toEqual(['2026-02-27', '2026-02-28']);
      const empty = await t.app.inject({ url: '/v1/admin/data/report?since=2026-03-02&until=2026-03-01', headers: admin });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().error).toMatchObject({ code: 'invalid_field', field: 'until' });
    }, 120_000);

    it('a worker that fails answers 500 internal, saying what failed and why', async () => {
      const broken = { eval: true as const, code: "throw new Error('the worker could not start')" };
      const run = jobRunner({ db: db.url, sqliteSynchronous: 'NORMAL' }, () => T0, broken)!;
      await expect(run({ kind: 'data-report', opts: { sinceTs: T0 - DAY, untilTs: T0, now: T0 } })).rejects.toThrow(
        new DomainError('internal', 'the data report failed in its worker thread: the worker could not start'),
      );
      const s = t.services.storage;
      const models = new ModelAdmin({
        store: s,
        articles: s,
        clock: t.clock,
        timer: () => 0,
        trainer: (opts) => run({ kind: 'train', opts }),
      });
      const app = await createApp({ ...appDeps(t.services), models });
      try {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/admin/models/train',
          headers: admin,
          payload: { placement: 'read-next' },
        });
        expect(res.statusCode).toBe(500);
        expect(res.json().error).toEqual({
          code: 'internal',
          message: 'the training of placement "read-next" failed in its worker thread: the worker could not start',
          field: null,
        });
        // The failed training no longer holds the slot.
        expect(models.training).toBeNull();
      } finally {
        await app.close();
      }
    });
  });
}
