/**
 * The `model` kind on one running server: the simulated newsroom writes its events through the
 * app services (SQLite file, simulated clock), `trainModel` stores a model, the admin deploys it
 * in shadow, then live through a canary, and the read-next route serves it; a version that does
 * not exist falls back through the chain, with the fault counted, never a 5xx.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/adapters/http/app.js';
import { InProcessTarget } from '../../src/app/sim-platform.js';
import { trainModel } from '../../src/app/training.js';
import { loadConfig } from '../../src/config/config.js';
import { runWorld } from '../../src/core/simulate/run.js';
import { DEFAULT_WORLD } from '../../src/core/simulate/world.js';
import { appDeps, openServices, type Services } from '../../src/main/services.js';
import { SimClock } from '../../src/main/sim-clock.js';
import { admin, ADMIN_KEY, INGEST_KEY } from '../helpers/app.js';

const DAY = 86_400_000;
const start = Date.parse(DEFAULT_WORLD.startDate);
const PLACEMENT = DEFAULT_WORLD.placement.name;
const BY = { actor: 'test', reason: null };
const dir = mkdtempSync(join(tmpdir(), 'readnext-model-'));
let services: Services;
let app: FastifyInstance;
let version: number;

const stats = async () => (await app.inject({ method: 'GET', url: '/v1/admin/serving/stats', headers: admin })).json();
const recommend = (reader: string, article: string) =>
  app.inject({ method: 'GET', url: `/v1/recommendations?placement=${PLACEMENT}&article=${article}&reader=${reader}&k=4` });

beforeAll(async () => {
  const config = loadConfig(
    {
      db: `sqlite:${join(dir, 'sim.db')}`,
      sqliteSynchronous: 'NORMAL',
      simClock: true,
      logLevel: 'silent',
      adminKey: ADMIN_KEY,
      ingestKey: INGEST_KEY,
    },
    {},
  );
  const clock = new SimClock();
  clock.set(start);
  services = await openServices(config, { clock });
  await services.warmedUp;
  const s = services;
  const target = new InProcessTarget({
    clock,
    catalog: s.catalog,
    recommendations: s.recommendations,
    collector: s.collector,
    deployments: s.deployments,
    experiments: s.placements,
    analysis: s.storage,
    rollups: s.rollups,
    recordWriter: s.recordWriter,
    close: async () => undefined,
  });
  await target.deployLive(PLACEMENT, { kind: 'popular', version: '1' });
  await runWorld(DEFAULT_WORLD, target, { seed: 5, readers: 500, days: 2 });
  const m = await trainModel(
    { models: s.storage, articles: s.storage, clock, timer: () => performance.now() },
    { placement: PLACEMENT, sinceTs: start + DAY / 2, untilTs: start + 2 * DAY, seed: 1, gbdt: { rounds: 20 } },
  );
  version = m.version;
  app = await createApp(appDeps(services));
}, 180_000);
afterAll(async () => {
  await app?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An article of the simulated catalog that is still recommendable, and a reader who read some. */
function someArticle(): string {
  return services.state.catalog.latest()[5]!.id;
}

describe('the model kind', () => {
  it('runs in shadow beside the live heuristic, without faults', async () => {
    await services.deployments.addShadow(PLACEMENT, { kind: 'model', version: String(version) }, BY);
    const before = await stats();
    const res = await recommend('sim-r000001', someArticle());
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().recommender.kind).toBe('popular');
    await services.recordWriter.flush();
    await new Promise((r) => setImmediate(r));
    const after = await stats();
    expect(after.shadowRuns).toBe(before.shadowRuns + 1);
    expect(after.shadowFaults).toBe(before.shadowFaults);
    await services.recordWriter.flush();
    const serves = await services.storage.listServes({ limit: 10, recommId: res.json().recommId });
    const shadow = serves.find((x) => x.shadow)!;
    expect(shadow.recommenderKind).toBe('model');
    expect(shadow.slate.length).toBe(4);
    expect(shadow.slate[0]!.reason).toBe(`ranked by model ${version}`);
  });

  it('goes live through a canary, then live, ranking per reader', async () => {
    await services.deployments.startCanary(
      PLACEMENT,
      {
        recommender: { kind: 'model', version: String(version) },
        percent: 50,
        guardrails: { maxErrorRate: 0.01, maxP99LatencyMs: 50, minCtrRatio: 0.5 },
      },
      BY,
    );
    const kinds = new Set<string>();
    for (let r = 0; r < 40; r++) kinds.add((await recommend(`sim-r${String(r).padStart(6, '0')}`, someArticle())).json().recommender.kind);
    expect([...kinds].sort()).toEqual(['model', 'popular']);
    await services.deployments.setLive(PLACEMENT, { kind: 'model', version: String(version) }, BY);
    const res = await recommend('sim-r000002', someArticle());
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.recommender).toEqual({ kind: 'model', version: String(version) });
    expect(body.fallback).toBe(false);
    expect(body.items).toHaveLength(4);
    expect(body.items[0].reason).toBe(`ranked by model ${version}`);
  });

  it('falls back through the chain when its version does not exist, counting the fault, never a 5xx', async () => {
    await services.deployments.setLive(PLACEMENT, { kind: 'model', version: '999999' }, BY);
    const before = await stats();
    const res = await recommend('sim-r000003', someArticle());
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.fallback).toBe(true);
    expect(body.items.length).toBeGreaterThan(0);
    const after = await stats();
    expect(after.faults).toBe(before.faults + 1);
    // A version that is not a number is refused the same way.
    await services.deployments.setLive(PLACEMENT, { kind: 'model', version: 'latest' }, BY);
    expect((await recommend('sim-r000003', someArticle())).statusCode).toBe(200);
  });
});
