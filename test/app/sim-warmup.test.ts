/**
 * The simulation's warm-up and the model it trains (issue 17): the world runs `warmupDays` with a
 * heuristic live for everyone and logged, then the experiment starts; a `model` arm with version
 * "trained" is served by the ranker trained on the warm-up's logs at that moment, in the
 * experiment and in each arm's ground-truth run alike (the warm-up is the same there, training is
 * seeded). In process, small worlds.
 */
import { describe, expect, it } from 'vitest';
import type { SimTarget } from '../../src/app/sim-control.js';
import { runSimExperiment, simGroundTruth, TRAINED } from '../../src/app/sim-experiment.js';
import { DEFAULT_WORLD } from '../../src/core/simulate/world.js';
import { openInProcessTarget } from '../../src/main/sim-target.js';
import { forwardingTarget } from '../helpers/sim-forward.js';

const DAY = 86_400_000;
const start = Date.parse(DEFAULT_WORLD.startDate);
const open = () => openInProcessTarget({ startTs: start });
const PLACEMENT = DEFAULT_WORLD.placement.name;
const heuristics = {
  id: 'warmup-latest-vs-co-read',
  placement: PLACEMENT,
  arms: [
    { name: 'control', recommender: { kind: 'latest', version: '1' } },
    { name: 'co-read', recommender: { kind: 'co-read', version: '1' } },
  ],
};
const modelExperiment = {
  id: 'warmup-model',
  placement: PLACEMENT,
  arms: [
    { name: 'co-read', recommender: { kind: 'co-read', version: '1' } },
    { name: 'model', recommender: { kind: 'model', version: TRAINED } },
  ],
};

async function run<T>(f: (t: SimTarget) => Promise<T>): Promise<T> {
  const t = await open();
  try {
    return await f(t);
  } finally {
    await t.close();
  }
}

describe('a warm-up before the experiment', () => {
  it('counts readers from the experiment start only, and the report has the warm-up as the pre-period', async () => {
    const r = await run((t) =>
      runSimExperiment(t, { world: DEFAULT_WORLD, experiment: heuristics, seed: 4, readers: 400, days: 1, warmupDays: 1 }),
    );
    const expStart = start + DAY;
    expect(r.model).toBeNull();
    expect(r.tally.endTs).toBe(start + 2 * DAY);
    const exposed = r.tally.readers.filter((x) => x.exposedTs !== null);
    expect(exposed.length).toBeGreaterThan(100);
    for (const x of exposed) expect(x.exposedTs!).toBeGreaterThanOrEqual(expStart);
    const report = r.reports.at(-1)!;
    expect(report.fromTs).toBe(expStart);
    const primary = report.metrics.find((m) => m.metric === 'articles_read')!;
    expect(primary.arms.reduce((a, x) => a + x.n, 0)).toBe(exposed.length);
  }, 120_000);
});

describe('a model arm trained on the warm-up', () => {
  const opts = { world: DEFAULT_WORLD, experiment: modelExperiment, seed: 6, readers: 1500, days: 1, warmupDays: 2 };

  it('is trained at the experiment start and served in its arm', async () => {
    const r = await run((t) => runSimExperiment(t, opts));
    expect(r.model).not.toBeNull();
    expect(r.model!.version).toBe('1');
    expect(r.model!.trainExamples).toBeGreaterThan(1000);
    expect(r.model!.trainClickRate).toBeGreaterThan(0);
    const report = r.reports.at(-1)!;
    const ctr = report.metrics.find((m) => m.metric === 'ctr')!;
    expect(ctr.arms.map((a) => a.arm)).toEqual(['co-read', 'model']);
    for (const a of ctr.arms) expect(a.n, a.arm).toBeGreaterThan(100);
  }, 180_000);

  it('has a truth of its own, the same on every run (the warm-up and the training are the same)', async () => {
    const a = await simGroundTruth(open, opts);
    const b = await simGroundTruth(open, opts);
    expect(b).toEqual(a);
    expect(a.map((t) => t.arm)).toEqual(['co-read', 'model']);
    expect(a[1]!.truth.ctr).not.toBe(a[0]!.truth.ctr);
  }, 240_000);

  it('needs warm-up days, and a platform that can train', async () => {
    await expect(run((t) => runSimExperiment(t, { ...opts, warmupDays: 0 }))).rejects.toMatchObject({ field: 'warmupDays' });
    // Over HTTP there is no train(): the same calls without it.
    await expect(run((t) => runSimExperiment(forwardingTarget(t), opts))).rejects.toMatchObject({ code: 'invalid_state' });
  }, 120_000);
});
