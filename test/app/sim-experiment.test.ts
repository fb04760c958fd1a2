import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SimTarget } from '../../src/app/sim-control.js';
import { runSimExperiment, simGroundTruth } from '../../src/app/sim-experiment.js';
import type { SimSlate } from '../../src/core/simulate/platform.js';
import { truthOf } from '../../src/core/simulate/run.js';
import { DEFAULT_WORLD, parseWorld, type WorldSpec } from '../../src/core/simulate/world.js';
import { openInProcessTarget } from '../../src/main/sim-target.js';
import { forwardingTarget } from '../helpers/sim-forward.js';

const SMALL = { readers: 400, days: 2 };
const start = Date.parse(DEFAULT_WORLD.startDate);

/** The target, recording each reader's arm at their first widget request (the exposure). */
function recordingArms(t: SimTarget): { target: SimTarget; arms: Map<string, string | null> } {
  const arms = new Map<string, string | null>();
  const target = forwardingTarget(t, {
    async recommend(req): Promise<SimSlate> {
      const slate = await t.recommend(req);
      if (!arms.has(req.readerId)) arms.set(req.readerId, slate.experiment?.arm ?? null);
      return slate;
    },
  });
  return { target, arms };
}

describe('runSimExperiment (in process, a small world)', () => {
  it('reports what the world did: exposed readers and reads per arm match its tally', async () => {
    const { target, arms } = recordingArms(await openInProcessTarget({ startTs: start }));
    let result;
    try {
      result = await runSimExperiment(target, { world: DEFAULT_WORLD, seed: 11, ...SMALL, looks: 'daily' });
    } finally {
      await target.close();
    }
    const { reports, tally, experimentId } = result;
    expect(experimentId).toBe(DEFAULT_WORLD.experiment.id);
    // One look per day; the last is the final report, at the run's end.
    expect(reports).toHaveLength(SMALL.days);
    const final = reports.at(-1)!;
    expect(final.toTs).toBe(tally.endTs + 1);

    const exposed = tally.readers.filter((r) => r.exposedTs !== null);
    expect(exposed.length).toBeGreaterThan(20);
    // Every metric in every arm: the report's figure is the world's own tally of that arm's readers
    // (truthOf over them), exactly for counts and to 1e-9 for ratios.
    for (const m of final.metrics) {
      for (const fig of m.arms) {
        const mine = exposed.filter((r) => arms.get(r.readerId) === fig.arm);
        expect(fig.n, `${m.metric} ${fig.arm}`).toBe(mine.length);
        const truth = truthOf({ ...tally, readers: mine })[m.metric]!;
        if (Number.isNaN(truth)) expect(fig.value ?? Number.NaN, `${m.metric} ${fig.arm}`).toBeNaN();
        else expect(fig.value, `${m.metric} ${fig.arm}`).toBeCloseTo(truth, 9);
      }
    }
    const reads = final.metrics.find((m) => m.metric === 'articles_read')!;
    const total = reads.arms.reduce((a, f) => a + f.n * f.value!, 0);
    expect(Math.round(total)).toBe(exposed.reduce((a, r) => a + r.reads, 0));
    expect(final.srm.observed.reduce((a, b) => a + b, 0)).toBe(exposed.length);
    // The earlier look saw fewer readers.
    expect(reports[0]!.srm.observed.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(exposed.length);
  }, 120_000);
});

describe('simGroundTruth (common random numbers)', () => {
  const world = (name: string): WorldSpec =>
    parseWorld(JSON.parse(readFileSync(new URL(`../../worlds/${name}.json`, import.meta.url), 'utf8')));

  it('in the null world, every arm has the same truth', async () => {
    const w = world('null');
    const truth = await simGroundTruth(() => openInProcessTarget({ startTs: start }), { world: w, seed: 5, ...SMALL });
    expect(truth.map((t) => t.arm)).toEqual((w.experiment.arms as { name: string }[]).map((a) => a.name));
    const [first, ...rest] = truth;
    expect(Object.keys(first!.truth)).toEqual(expect.arrayContaining(['articles_read', 'ctr', 'conversion', 'ad_revenue_per_reader']));
    expect(first!.truth.articles_read).toBeGreaterThan(0);
    for (const t of rest) {
      for (const [metric, v] of Object.entries(first!.truth)) {
        if (Number.isNaN(v)) expect(t.truth[metric], `${t.arm} ${metric}`).toBeNaN();
        else expect(t.truth[metric], `${t.arm} ${metric}`).toBeCloseTo(v, 12);
      }
    }
  }, 120_000);

  it('in the default world, the same seed gives the same truth, and the arms differ', async () => {
    const open = () => openInProcessTarget({ startTs: start });
    const a = await simGroundTruth(open, { world: DEFAULT_WORLD, seed: 9, ...SMALL });
    const b = await simGroundTruth(open, { world: DEFAULT_WORLD, seed: 9, ...SMALL });
    expect(b).toEqual(a);
    expect(a[1]!.truth.ctr).not.toBe(a[0]!.truth.ctr);
  }, 120_000);
});
