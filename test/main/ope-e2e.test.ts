/**
 * Logged exploration and off-policy evaluation on one running app (issue 18): the simulated
 * newsroom reads through the app services (SQLite file, simulated clock) while the live placement
 * explores 20% of its slates (half of those one shadow's slate whole) and two candidates run in shadow; `offPolicyEstimate` and
 * `readnext ope` estimate the candidates from those logs, and refuse what the logs cannot say.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/adapters/cli/program.js';
import { offPolicyEstimate } from '../../src/app/ope.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { runWorld } from '../../src/core/simulate/run.js';
import { DEFAULT_WORLD } from '../../src/core/simulate/world.js';
import { cliDeps } from '../../src/main/cli-deps.js';
import type { Services } from '../../src/main/services.js';
import { openSimServices } from '../../src/main/sim-target.js';
import { ADMIN_KEY, INGEST_KEY } from '../helpers/app.js';

const DAY = 86_400_000;
const start = Date.parse(DEFAULT_WORLD.startDate);
const PLACEMENT = DEFAULT_WORLD.placement.name;
const BY = { actor: 'test', reason: null };
const dir = mkdtempSync(join(tmpdir(), 'readnext-ope-'));
const db = `sqlite:${join(dir, 'sim.db')}`;
let services: Services;

beforeAll(async () => {
  const opened = await openSimServices({
    db,
    startTs: start,
    config: { sqliteSynchronous: 'NORMAL', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY },
  });
  services = opened.services;
  const s = services;
  const target = opened.target;
  await target.deployLive(PLACEMENT, { kind: 'co-read', version: '1' });
  await s.deployments.setExploration(PLACEMENT, { share: 0.2, pool: 10, shadowShare: 0.5 }, BY);
  await s.deployments.addShadow(PLACEMENT, { kind: 'popular', version: '1' }, BY);
  await s.deployments.addShadow(PLACEMENT, { kind: 'latest', version: '1' }, BY);
  await runWorld(DEFAULT_WORLD, target, { seed: 3, readers: 400, days: 2 });
  await s.recordWriter.flush();
}, 240_000);
afterAll(async () => {
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('logged exploration', () => {
  it('logs every live slate with its propensities, a fifth of them explored', async () => {
    const serves = (await services.storage.servesSince(PLACEMENT, 0, 1_000_000)).filter((s) => !s.shadow);
    const logged = serves.filter((s) => s.exploration);
    expect(logged.length).toBeGreaterThan(500);
    // Experiments and the canary are never explored; here every live slate of the placement is logged.
    expect(logged.length).toBe(serves.filter((s) => s.recommenderKind === 'co-read').length);
    const explored = logged.filter((s) => s.exploration!.explored).length / logged.length;
    // A binomial share of ~0.2: within 4 standard errors.
    expect(Math.abs(explored - 0.2)).toBeLessThan(4 * Math.sqrt((0.2 * 0.8) / logged.length));
    const shadowRecords = new Map<string, string[]>();
    for (const s of await services.storage.servesSince(PLACEMENT, 0, 1_000_000))
      if (s.shadow)
        shadowRecords.set(
          `${s.recommId}:${s.recommenderKind}`,
          s.slate.map((i) => i.articleId),
        );
    let wholeShadows = 0;
    for (const s of logged.slice(0, 400)) {
      const ex = s.exploration!;
      // π0(a, j) = 0.8·1[a = pool_j] + 0.2·(0.5/n + (0.5/S)·#{s : c_s[j] = a}) with S = 2 shadows (explore.ts).
      expect(ex.shadows!.slates).toHaveLength(2);
      s.slate.forEach((it, j) => {
        const n = ex.pool.length;
        const same = ex.shadows!.slates.filter((c) => c[j] === it.articleId).length;
        const expected = (it.articleId === ex.pool[j] ? 0.8 : 0) + 0.2 * (0.5 / n + 0.25 * same);
        expect(ex.propensities[j]).toBeCloseTo(expected, 12);
      });
      if (!ex.explored) expect(s.slate.map((i) => i.articleId)).toEqual(ex.pool.slice(0, s.slate.length));
      const which = ex.shadows!.shown;
      if (which !== null) {
        wholeShadows++;
        const kind = ['popular', 'latest'][which]!;
        const own = shadowRecords.get(`${s.recommId}:${kind}`)!;
        // The shown slate is c_s: that shadow's own items (as its shadow record logged them), then the pool's others in order.
        const mine = new Set(own);
        const arrangement = [...own, ...ex.pool.filter((id) => !mine.has(id))].slice(0, s.slate.length);
        expect(s.slate.map((i) => i.articleId)).toEqual(arrangement);
      }
    }
    expect(wholeShadows).toBeGreaterThan(10);
  });
});

describe('off-policy evaluation', () => {
  it('estimates a shadow candidate with every estimator that has support, beside the live figure', async () => {
    const r = await offPolicyEstimate(services.storage, {
      placement: PLACEMENT,
      candidate: { kind: 'popular', version: '1' },
      sinceTs: start,
      untilTs: start + 3 * DAY,
    });
    expect(r.rounds).toBeGreaterThan(300);
    expect(r.explored).toBeGreaterThan(0.1 * r.rounds);
    expect(r.live.recommender).toBe('co-read@1');
    expect(r.live.clicksPerSlate).toBeGreaterThan(0);
    const ipsR = r.estimates.ips;
    if (ipsR.ok) {
      expect(ipsR.estimate.perSlate.ci[0]).toBeLessThanOrEqual(ipsR.estimate.perSlate.value);
      expect(ipsR.estimate.perSlate.ci[1]).toBeGreaterThanOrEqual(ipsR.estimate.perSlate.value);
      expect(ipsR.estimate.n).toBe(r.rounds);
    } else expect(ipsR.code).toMatch(/low_support|low_ess/);
    expect(r.estimates.dr.ok).toBe(false);
    expect((r.estimates.dr as { reason: string }).reason).toMatch(/not a model/);
  });

  it('evaluates the live recommender itself: IPS agrees with its measured clicks on the exploited slates', async () => {
    const r = await offPolicyEstimate(services.storage, {
      placement: PLACEMENT,
      candidate: { kind: 'co-read', version: '1' },
      sinceTs: start,
      untilTs: start + 3 * DAY,
    });
    const e = r.estimates.ips;
    expect(e.ok).toBe(true);
    if (!e.ok) return;
    expect(e.estimate.support).toBe(1);
    // Its estimate and the measured figure (which mixes in the explored slates) agree within both intervals' reach.
    const half = (e.estimate.perSlate.ci[1] - e.estimate.perSlate.ci[0]) / 2 + (r.live.ci[1] - r.live.ci[0]) / 2;
    expect(Math.abs(e.estimate.perSlate.value - r.live.clicksPerSlate)).toBeLessThan(half);
  });

  it('refuses, exit code 2 and one line, a candidate the logs never showed and a window without exploration', async () => {
    await expect(
      offPolicyEstimate(services.storage, {
        placement: PLACEMENT,
        candidate: { kind: 'same-section', version: '1' },
        sinceTs: start,
        untilTs: start + 3 * DAY,
      }),
    ).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringMatching(/neither live nor a shadow/) });
    const out: string[] = [];
    const err: string[] = [];
    const deps = cliDeps({
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      isTty: false,
      clock: fixedClock(start + 3 * DAY),
      env: { READNEXT_DB: db, READNEXT_SIM_CLOCK: '1' },
    });
    const run = (args: string[]) => runCli(deps, args);
    expect(await run(['ope', '--placement', PLACEMENT, '--candidate', 'same-section@1', '--since', new Date(start).toISOString()])).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/same-section@1.*neither live nor a shadow/);
    err.length = 0;
    // Before the window began nothing was explored.
    expect(
      await run([
        'ope',
        '--placement',
        PLACEMENT,
        '--candidate',
        'popular@1',
        '--since',
        new Date(start - 5 * DAY).toISOString(),
        '--until',
        new Date(start - DAY).toISOString(),
      ]),
    ).toBe(2);
    expect(err).toEqual([expect.stringMatching(/exploration is off/)]);
    out.length = 0;
    expect(
      await run(['ope', '--placement', PLACEMENT, '--candidate', 'popular@1', '--since', new Date(start).toISOString(), '--json']),
    ).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ candidate: 'popular@1', placement: PLACEMENT });
  });
});
