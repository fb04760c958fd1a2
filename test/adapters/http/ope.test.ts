/**
 * GET /v1/admin/ope (issue 18): the admin endpoint of off-policy evaluation answers what
 * `offPolicyEstimate` and `readnext ope --json` answer on the same logs, and refuses what they refuse.
 * The logs: the simulated newsroom reading through the app services (SQLite file, simulated clock)
 * while the live placement explores 20% of its slates and `popular` runs in shadow.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/adapters/http/app.js';
import { runCli } from '../../../src/adapters/cli/program.js';
import { offPolicyEstimate } from '../../../src/app/ope.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { runWorld } from '../../../src/core/simulate/run.js';
import { DEFAULT_WORLD } from '../../../src/core/simulate/world.js';
import { cliDeps } from '../../../src/main/cli-deps.js';
import { appDeps, type Services } from '../../../src/main/services.js';
import { openSimServices } from '../../../src/main/sim-target.js';
import type { SimClock } from '../../../src/main/sim-clock.js';
import { ADMIN_KEY, INGEST_KEY, admin } from '../../helpers/app.js';

const DAY = 86_400_000;
const start = Date.parse(DEFAULT_WORLD.startDate);
const PLACEMENT = DEFAULT_WORLD.placement.name;
const BY = { actor: 'test', reason: null };
const dir = mkdtempSync(join(tmpdir(), 'readnext-ope-http-'));
const db = `sqlite:${join(dir, 'sim.db')}`;
let services: Services;
let clock: SimClock;
let app: FastifyInstance;
/** When exploration was turned off (after the simulated day). */
let offTs: number;

beforeAll(async () => {
  const opened = await openSimServices({
    db,
    startTs: start,
    config: { sqliteSynchronous: 'NORMAL', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY },
  });
  services = opened.services;
  clock = opened.clock;
  await opened.target.deployLive(PLACEMENT, { kind: 'co-read', version: '1' });
  await services.deployments.setExploration(PLACEMENT, { share: 0.2, pool: 10 }, BY);
  await services.deployments.addShadow(PLACEMENT, { kind: 'popular', version: '1' }, BY);
  await runWorld(DEFAULT_WORLD, opened.target, { seed: 5, readers: 300, days: 1 });
  await services.recordWriter.flush();
  app = await createApp(appDeps(services));
  // Exploration off, then an hour of live traffic logged without it.
  offTs = clock.now() + DAY;
  clock.set(offTs);
  await services.deployments.setExploration(PLACEMENT, null, BY);
  for (let i = 0; i < 20; i++) {
    const res = await app.inject({ url: `/v1/recommendations?placement=${PLACEMENT}&reader=r${i}&session=s${i}` });
    expect(res.statusCode).toBe(200);
  }
}, 240_000);
afterAll(async () => {
  await app?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

const iso = (ms: number) => new Date(ms).toISOString();
const ope = (qs: string, headers: Record<string, string> = admin) => app.inject({ url: `/v1/admin/ope?${qs}`, headers });

describe('GET /v1/admin/ope', () => {
  it('answers the estimate of offPolicyEstimate and of readnext ope --json on the same logs (the live recommender as candidate)', async () => {
    const until = start + 2 * DAY;
    const res = await ope(`placement=${PLACEMENT}&candidate=co-read@1&since=${iso(start)}&until=${iso(until)}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const direct = await offPolicyEstimate(services.storage, {
      placement: PLACEMENT,
      candidate: { kind: 'co-read', version: '1' },
      sinceTs: start,
      untilTs: until,
    });
    // Exactly equal: the same function on the same rows (compared as JSON, as both are sent).
    expect(body).toEqual(JSON.parse(JSON.stringify(direct)));
    expect(body.rounds).toBeGreaterThan(100);
    expect(body.explored).toBeGreaterThan(0);
    expect(body.live.recommender).toBe('co-read@1');
    // The live recommender's own choices are always in the logs: full support.
    expect(body.estimates.ips).toMatchObject({ ok: true, estimate: { support: 1, n: body.rounds } });

    const out: string[] = [];
    const deps = cliDeps({
      out: (l) => out.push(l),
      err: () => undefined,
      isTty: false,
      clock: fixedClock(until),
      env: { READNEXT_DB: db, READNEXT_SIM_CLOCK: '1' },
    });
    const args = ['ope', '--placement', PLACEMENT, '--candidate', 'co-read@1', '--since', iso(start), '--until', iso(until), '--json'];
    expect(await runCli(deps, args)).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual(body);
  });

  it('exploration off: 409 invalid_state saying so, naming the placement', async () => {
    const res = await ope(`placement=${PLACEMENT}&candidate=popular@1&since=${iso(offTs)}&until=${iso(offTs + 3_600_000)}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'invalid_state',
      field: 'placement',
      message: expect.stringMatching(/exploration is off/),
    });
  });

  it('a candidate the logs never showed: 409 invalid_state naming the candidate', async () => {
    const res = await ope(`placement=${PLACEMENT}&candidate=same-section@1&since=${iso(start)}&until=${iso(start + 2 * DAY)}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'invalid_state',
      field: 'candidate',
      message: expect.stringMatching(/same-section@1.*neither live nor a shadow/),
    });
  });

  it('a shadow with too small an effective sample size for every estimator: 409 invalid_state with each reason', async () => {
    // popular@1's slates on a day of 20% exploration over a pool of 10: the explored slates rarely
    // match them (seeded world: ESS 6 for IPS, 58 for PBM, below the 100 checkSupport asks).
    const res = await ope(`placement=${PLACEMENT}&candidate=popular@1&since=${iso(start)}&until=${iso(start + 2 * DAY)}`);
    expect(res.statusCode).toBe(409);
    const e = res.json().error;
    expect(e).toMatchObject({ code: 'invalid_state', field: 'candidate' });
    expect(e.message).toMatch(
      /^no estimator could evaluate popular@1 on \d+ logged slates \(\d+ explored\): replay (low_ess|low_support): .*; ips (low_ess|low_support): .*effective sample size/,
    );
  });

  it('bad parameters: 400 naming the field', async () => {
    const bad = await ope(`placement=${PLACEMENT}&candidate=popular`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_field', field: 'candidate', message: expect.stringMatching(/KIND@VERSION/) });
    const missing = await ope(`placement=${PLACEMENT}`);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({ code: 'missing_field', field: 'candidate' });
    const since = await ope(`placement=${PLACEMENT}&candidate=popular@1&since=yesterday`);
    expect(since.statusCode).toBe(400);
    expect(since.json().error).toMatchObject({ code: 'invalid_field', field: 'since' });
    const empty = await ope(`placement=${PLACEMENT}&candidate=popular@1&since=${iso(start + DAY)}&until=${iso(start)}`);
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatchObject({ code: 'invalid_field', field: 'until' });
    const extra = await ope(`placement=${PLACEMENT}&candidate=popular@1&day=1`);
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error).toMatchObject({ code: 'unknown_field', field: 'day' });
  });

  it('needs the admin key: 401', async () => {
    const res = await ope(`placement=${PLACEMENT}&candidate=popular@1`, {});
    expect(res.statusCode).toBe(401);
    const ingest = await ope(`placement=${PLACEMENT}&candidate=popular@1`, { authorization: `Bearer ${INGEST_KEY}` });
    expect([401, 403]).toContain(ingest.statusCode);
  });

  it('is in /openapi.json', async () => {
    const doc = (await app.inject('/openapi.json')).json();
    expect(Object.keys(doc.paths['/v1/admin/ope'].get.responses)).toEqual(expect.arrayContaining(['400', '401', '409']));
  });
});
