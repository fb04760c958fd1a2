/**
 * The measurements `roi update` reads (app/roi.ts resolveMeasurement), one per kind of source:
 *   - experiment:ID:METRIC[:ARM]: the report's relative effect and its standard error, as they are;
 *   - offline:MODEL: (AUC_m − ½)/(AUC_f − ½) − 1 with Hanley–McNeil standard errors combined by the
 *     delta method; the figures below computed by hand (Python, 1e-12): AUC 0.70 against the best
 *     feature's 0.65 (a feature at 0.40 counts as 0.60) on 1,000 clicks and 9,000 non-clicks:
 *     SE(0.70) = 0.00958454717212665, SE(0.65) = 0.009807317494145708, lift 1/3, SE 0.10808564330260896;
 *   - ope:PLACEMENT:KIND@VERSION: the candidate's off-policy clicks per slate over the live ones on
 *     the same logged requests (a simulated day exploring 20%), r = v/ℓ − 1, with the delta method.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExperimentReport } from '../../src/app/analysis.js';
import { offPolicyEstimate } from '../../src/app/ope.js';
import { resolveMeasurement, type RoiSourceDeps } from '../../src/app/roi.js';
import type { ModelRecord } from '../../src/core/ml/model.js';
import { runWorld } from '../../src/core/simulate/run.js';
import { DEFAULT_WORLD } from '../../src/core/simulate/world.js';
import { openSimServices } from '../../src/main/sim-target.js';

const report = (comparisons: { arm: string; estimate: number; se: number }[]): ExperimentReport =>
  ({
    phase: 1,
    metrics: [{ metric: 'articles_read', comparisons: comparisons.map((c) => ({ ...c, error: null })) }],
  }) as unknown as ExperimentReport;

const deps = (over: Partial<RoiSourceDeps> = {}): RoiSourceDeps => ({
  experimentReport: async () => report([{ arm: 'model', estimate: 0.021, se: 0.008 }]),
  records: {} as RoiSourceDeps['records'],
  models: { getModel: async () => undefined },
  now: Date.UTC(2026, 2, 1),
  ...over,
});

describe('resolveMeasurement', () => {
  it("experiment: the arm's relative effect and SE; an arm must be named when there are several", async () => {
    const m = await resolveMeasurement('experiment:e1:articles_read', deps(), 'f');
    expect(m).toMatchObject({ mean: 0.021, sd: 0.008 });
    const two = deps({
      experimentReport: async () =>
        report([
          { arm: 'a', estimate: 0.01, se: 0.01 },
          { arm: 'b', estimate: 0.03, se: 0.02 },
        ]),
    });
    await expect(resolveMeasurement('experiment:e1:articles_read', two, 'f')).rejects.toThrow(/name one/);
    expect(await resolveMeasurement('experiment:e1:articles_read:b', two, 'f')).toMatchObject({ mean: 0.03, sd: 0.02 });
    await expect(resolveMeasurement('experiment:e1:dwell', deps(), 'parameters.x.measured_by')).rejects.toThrow(
      /parameters\.x\.measured_by/,
    );
    await expect(resolveMeasurement('experiment:e1', deps(), 'f')).rejects.toThrow(/experiment:ID:METRIC/);
  });

  it('offline: the relative AUC lift above chance over the best feature, Hanley–McNeil and the delta method', async () => {
    const model = {
      metrics: { auc: 0.7, featureAuc: { a: 0.65, b: 0.4, c: null }, testClickRate: 0.1, testExamples: 10000 },
    } as unknown as ModelRecord;
    const m = await resolveMeasurement('offline:3', deps({ models: { getModel: async (v) => (v === 3 ? model : undefined) } }), 'f');
    expect(m.mean).toBeCloseTo(1 / 3, 12);
    expect(m.sd).toBeCloseTo(0.10808564330260896, 12);
    await expect(resolveMeasurement('offline:4', deps(), 'f')).rejects.toThrow(/no model 4/);
    await expect(resolveMeasurement('offline:x', deps(), 'f')).rejects.toThrow(/offline:MODEL/);
  });

  describe('ope', () => {
    const dir = mkdtempSync(join(tmpdir(), 'readnext-roi-ope-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('the candidate over the live recommender on the logged requests, with the delta-method SE', async () => {
      const start = Date.parse(DEFAULT_WORLD.startDate);
      const { services, target, clock } = await openSimServices({
        db: `sqlite:${join(dir, 'sim.db')}`,
        startTs: start,
        config: { sqliteSynchronous: 'NORMAL' },
      });
      try {
        const placement = DEFAULT_WORLD.placement.name;
        await target.deployLive(placement, { kind: 'co-read', version: '1' });
        await services.deployments.setExploration(placement, { share: 0.2, pool: 10 }, { actor: 'test', reason: null });
        await runWorld(DEFAULT_WORLD, target, { seed: 3, readers: 300, days: 1 });
        await services.recordWriter.flush();
        const now = clock.now();
        const m = await resolveMeasurement(`ope:${placement}:co-read@1`, deps({ records: services.storage, now }), 'f');
        const r = await offPolicyEstimate(services.storage, {
          placement,
          candidate: { kind: 'co-read', version: '1' },
          sinceTs: now - 14 * 86_400_000,
          untilTs: now,
        });
        const e = r.estimates.snips;
        expect(e.ok).toBe(true);
        if (!e.ok) return;
        const l = r.live.clicksPerSlate;
        const seL = (r.live.ci[1] - r.live.ci[0]) / (2 * 1.959963984540054);
        const ratio = e.estimate.perSlate.value / l;
        expect(m.mean).toBeCloseTo(ratio - 1, 12);
        expect(m.sd).toBeCloseTo(Math.sqrt(e.estimate.perSlate.se ** 2 + ratio ** 2 * seL ** 2) / l, 12);
        await expect(resolveMeasurement(`ope:${placement}:model`, deps({ records: services.storage, now }), 'f')).rejects.toThrow(
          /KIND@VERSION/,
        );
      } finally {
        await services.close();
      }
    }, 120_000);
  });
});
