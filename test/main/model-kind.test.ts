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
import { trainModel } from '../../src/app/training.js';
import { runWorld } from '../../src/core/simulate/run.js';
import { DEFAULT_WORLD } from '../../src/core/simulate/world.js';
import { runCli } from '../../src/adapters/cli/program.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { cliDeps } from '../../src/main/cli-deps.js';
import { appDeps, type Services } from '../../src/main/services.js';
import { openSimServices } from '../../src/main/sim-target.js';
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
  const opened = await openSimServices({
    db: `sqlite:${join(dir, 'sim.db')}`,
    startTs: start,
    config: { sqliteSynchronous: 'NORMAL', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY },
  });
  services = opened.services;
  const { clock, target } = opened;
  const s = services;
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

/** Runs `readnext ARGS` in process on the simulated database. */
async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    cliDeps({
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      isTty: false,
      clock: fixedClock(start + 2 * DAY),
      env: { READNEXT_DB: `sqlite:${join(dir, 'sim.db')}`, READNEXT_SIM_CLOCK: '1' },
    }),
    args,
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('readnext train and readnext model', () => {
  it('trains from the stored events and lists, shows, compares and deletes models', async () => {
    const t = await cli(
      'train',
      '--placement',
      PLACEMENT,
      '--since',
      '2026-01-05T12:00:00Z',
      '--until',
      '2026-01-07',
      '--seed',
      '3',
      '--rounds',
      '5',
    );
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const m = /^stored model (\d+) for placement "read-next": AUC 0\.\d{4} /.exec(t.out);
    expect(m, t.out).not.toBeNull();
    const v = Number(m![1]);
    expect(t.out).toContain(`readnext deploy shadow add read-next model@${v}`);

    const list = await cli('model', 'list', '--json');
    expect(JSON.parse(list.out).map((x: { version: number }) => x.version)).toEqual([v, version]);
    expect((await cli('model', 'list')).out.split('\n')).toHaveLength(2);
    const show = await cli('model', 'show', String(v));
    expect(show.code).toBe(0);
    expect(show.out).toContain('features v2 (25), 5 trees');
    expect(show.out).toContain('importance (share of split gain):');
    const cmp = await cli('model', 'compare', String(version), String(v));
    expect(cmp.code).toBe(0);
    expect(cmp.out).toMatch(/test AUC\s+0\.\d{4}\s+0\.\d{4}/);

    // Deployed models are not deleted; others are.
    await services.deployments.addShadow(PLACEMENT, { kind: 'model', version: String(v) }, BY);
    const refused = await cli('model', 'delete', String(v));
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`model ${v} is deployed (read-next shadows)`);
    await services.deployments.removeShadow(PLACEMENT, { kind: 'model', version: String(v) }, BY);
    expect((await cli('model', 'delete', String(v))).out).toBe(`deleted model ${v}`);
    expect((await cli('model', 'show', String(v))).err).toBe(`readnext: no model version ${v}`);
  }, 60_000);

  it('refuses bad options with one line and exit code 2', async () => {
    expect((await cli('train')).err).toMatch(/--placement/);
    const bad = await cli('train', '--placement', PLACEMENT, '--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--since must be a day');
    const empty = await cli('train', '--placement', 'nowhere', '--since', '2026-01-05', '--until', '2026-01-06');
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('no impressions of placement "nowhere"');
  });
});
