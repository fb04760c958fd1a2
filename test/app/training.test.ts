/**
 * The training use case end to end: the simulated newsroom (default world, few readers) writes
 * its events through the in-process platform into a SQLite file; `trainModel` replays them,
 * trains, evaluates on the later slice and stores the model in the registry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry, trainModel } from '../../src/app/training.js';
import type { InProcessTarget } from '../../src/app/sim-platform.js';
import { openStorage, type OpenedStorage } from '../../src/adapters/storage/open.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import type { TrainingEvent } from '../../src/core/ml/examples.js';
import { FEATURE_SPEC } from '../../src/core/ml/features.js';
import { loadRanker } from '../../src/core/ml/model.js';
import { runWorld } from '../../src/core/simulate/run.js';
import { DEFAULT_WORLD } from '../../src/core/simulate/world.js';
import { openInProcessTarget } from '../../src/main/sim-target.js';
import { storedEvent } from '../../src/core/simulate/synthetic.js';
import { BACKENDS, openBackend } from '../helpers/databases.js';

const DAY = 86_400_000;
const start = Date.parse(DEFAULT_WORLD.startDate);
const end = start + 2 * DAY;
const dir = mkdtempSync(join(tmpdir(), 'readnext-train-'));
let storage: OpenedStorage;

beforeAll(async () => {
  const db = `sqlite:${join(dir, 'sim.db')}`;
  const target = (await openInProcessTarget({ db, startTs: start })) as InProcessTarget;
  try {
    await target.deployLive(DEFAULT_WORLD.placement.name, { kind: 'popular', version: '1' });
    await runWorld(DEFAULT_WORLD, target, { seed: 3, readers: 600, days: 2 });
  } finally {
    await target.close();
  }
  storage = await openStorage(db);
}, 180_000);
afterAll(async () => {
  await storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

const deps = () => ({ models: storage, articles: storage, clock: fixedClock(end + DAY), timer: () => performance.now() });

describe('trainModel', () => {
  it('trains on the stored events, evaluates on the later slice and stores the model', async () => {
    const progress: string[] = [];
    const m = await trainModel(deps(), {
      placement: 'read-next',
      sinceTs: start + DAY / 2,
      untilTs: end,
      seed: 7,
      gbdt: { rounds: 30 },
      onProgress: (p) => progress.push(p.stage),
    });
    expect(m.version).toBeGreaterThan(0);
    expect(progress).toContain('events');
    expect(progress.filter((s) => s === 'train')).toHaveLength(30);
    expect(m.metrics.trainExamples).toBeGreaterThan(1000);
    expect(m.metrics.testExamples).toBeGreaterThan(200);
    expect(m.metrics.testFromTs).toBeGreaterThan(start + DAY / 2);
    // Better than chance on a later slice; the single signals are reported beside it.
    expect(m.metrics.auc).toBeGreaterThan(0.55);
    expect(Object.keys(m.metrics.featureAuc)).toContain('pop_short');
    expect(m.featureSpec.names).toEqual(FEATURE_SPEC.names);
    expect(m.window).toEqual({ sinceTs: start + DAY / 2, untilTs: end });

    const stored = await storage.getModel(m.version);
    expect(stored).toEqual(m);
    expect(loadRanker(stored!).ok).toBe(true);
    const registry = new ModelRegistry(storage);
    const listed = await registry.list();
    expect(listed.map((x) => x.version)).toContain(m.version);
    expect(listed[0]).not.toHaveProperty('model');
    const details = await registry.show(m.version);
    expect(details.trees).toBe(30);
    expect(details.importance).toHaveLength(FEATURE_SPEC.names.length);
  }, 120_000);

  it('is deterministic given the seed, and gives each model a new version', async () => {
    const opts = { placement: 'read-next', sinceTs: start + DAY, untilTs: end, seed: 11, gbdt: { rounds: 10 } };
    const a = await trainModel(deps(), opts);
    const b = await trainModel(deps(), opts);
    expect(b.version).toBeGreaterThan(a.version);
    expect(b.model).toEqual(a.model);
    expect(b.metrics.auc).toBe(a.metrics.auc);
    const registry = new ModelRegistry(storage);
    await registry.delete(b.version);
    expect(await storage.getModel(b.version)).toBeUndefined();
    await expect(registry.delete(b.version)).rejects.toMatchObject({ code: 'not_found' });
  }, 120_000);

  it('stops early on the latest share of the training slice when asked, and says so in the metrics', async () => {
    const opts = { placement: 'read-next', sinceTs: start + DAY / 2, untilTs: end, seed: 7, gbdt: { rounds: 200, learningRate: 0.5 } };
    const off = await trainModel(deps(), { ...opts, earlyStopping: 'off' });
    expect(off.model.trees).toHaveLength(200);
    expect(off.metrics.earlyStopping).toBeNull();
    const on = await trainModel(deps(), { ...opts, earlyStopping: { rounds: 5, validationShare: 0.2 } });
    const es = on.metrics.earlyStopping!;
    // A rate of 0.5 over-fits these few thousand examples within 200 rounds: it stops well before them.
    expect(es.bestRound).toBe(on.model.trees.length);
    expect(on.model.trees.length).toBeLessThan(200);
    expect(on.metrics.trees).toBe(on.model.trees.length);
    expect(es.validationExamples).toBeGreaterThan(0.15 * on.metrics.trainExamples);
    expect(es.validationExamples).toBeLessThan(0.25 * on.metrics.trainExamples);
    // 'auto' leaves a slice of at most 10,000 examples alone (scikit-learn's threshold).
    expect(on.metrics.trainExamples).toBeLessThanOrEqual(10_000);
    const auto = await trainModel(deps(), { ...opts, gbdt: { rounds: 20 } });
    expect(auto.metrics.earlyStopping).toBeNull();
    expect(auto.model.trees).toHaveLength(20);
  }, 120_000);

  it('refuses a window without impressions of the placement', async () => {
    await expect(trainModel(deps(), { placement: 'nowhere', sinceTs: start, untilTs: end, seed: 1 })).rejects.toMatchObject({
      code: 'invalid_state',
    });
    await expect(trainModel(deps(), { placement: 'read-next', sinceTs: end, untilTs: start, seed: 1 })).rejects.toMatchObject({
      code: 'invalid_field',
    });
  });
});

describe.each(BACKENDS)('the model registry on $name', (backend) => {
  it.skipIf(!backend.enabled)('stores, lists, reads and deletes models; versions are never reused', async () => {
    const { storage: db, cleanup } = await openBackend(backend);
    try {
      const m = (await storage.getModel((await storage.listModels())[0]!.version))!;
      const { version: _v, ...body } = m;
      const v1 = await db.putModel(body);
      const v2 = await db.putModel({ ...body, placement: 'sidebar', seed: 2 });
      expect(v2).toBeGreaterThan(v1);
      expect(await db.getModel(v1)).toEqual({ ...body, version: v1 });
      const listed = await db.listModels();
      expect(listed.map((x) => x.version)).toEqual([v2, v1]);
      expect(listed[0]).toEqual({ ...(({ model: _m, ...rest }) => rest)(body), placement: 'sidebar', seed: 2, version: v2 });
      expect((await db.listModels({ placement: 'sidebar' })).map((x) => x.version)).toEqual([v2]);
      expect(await db.deleteModel(v2)).toBe(true);
      expect(await db.deleteModel(v2)).toBe(false);
      expect(await db.getModel(v2)).toBeUndefined();
      expect(await db.putModel(body)).toBeGreaterThan(v2);
    } finally {
      await cleanup();
    }
  });

  it.skipIf(!backend.enabled)('streams the events training reads, in client-time order, within the window', async () => {
    const { storage: db, cleanup } = await openBackend(backend);
    try {
      const b = (id: string, ts: number) => ({ eventId: id, readerId: 'r', sessionId: 's', clientTs: ts, receivedTs: ts });
      const items = [
        { articleId: 'a2', position: 1, team: null },
        { articleId: 'a3', position: 2, team: null },
      ];
      await db.appendEvents([
        storedEvent.read(b('e3', start + 3000), { articleId: 'a2', dwellMs: 1000, scroll: 1 }),
        storedEvent.impression(b('e1', start + 1000), { recommId: 'rc', placement: 'read-next', articleId: 'a1', items }),
        storedEvent.click(b('e2', start + 2000), { recommId: 'rc', articleId: 'a2', position: 1 }),
        storedEvent.pageView(b('e0', start), { articleId: 'a1' }),
        storedEvent.read(b('e9', start + 9000), { articleId: 'a9', dwellMs: 1000, scroll: 1 }),
      ]);
      const got: TrainingEvent[] = [];
      const n = await db.scanTrainingEvents(start, start + 9000, (batch) => got.push(...batch));
      expect(n).toBe(4);
      expect(got.map((e) => e.type)).toEqual(['page_view', 'impression', 'click', 'read']);
      expect(got[1]!.items).toEqual(items);
    } finally {
      await cleanup();
    }
  });
});
