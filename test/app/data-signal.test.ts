/**
 * The data report's signal part on simulated newsrooms: the world writes its events through the
 * in-process platform (the real serving path, `popular` live) into SQLite; `dataSignal` reads them
 * back through the lab store. A world whose clicks are pure noise must give "no detectable signal"
 * (the AUC lift's interval contains 0); the default world must not (the interval is above 0).
 * Both worlds are made small and dense to stay fast: readers visit a median of 7 times a week
 * instead of 1.5, and click about 10× more often than by default (noiseRate 0.05, baseRate 0.6), so
 * that 1,000 readers over 2 days give about 6,000 impressions with a few hundred clicks.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataSignal, pairedBootstrap, quantileSorted, type DataSignal } from '../../src/app/data-signal.js';
import type { InProcessTarget } from '../../src/app/sim-platform.js';
import { openStorage } from '../../src/adapters/storage/open.js';
import { seededRng } from '../../src/core/kernel/rng.js';
import { runWorld } from '../../src/core/simulate/run.js';
import { parseWorld, type WorldSpec } from '../../src/core/simulate/world.js';
import { openInProcessTarget } from '../../src/main/sim-target.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'readnext-signal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const worldFile = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../worlds/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** Simulates `world` into a fresh SQLite file and runs dataSignal on its events. */
async function signalOf(name: string, world: WorldSpec, seed: number): Promise<DataSignal> {
  const db = `sqlite:${join(dir, `${name}.db`)}`;
  const start = Date.parse(world.startDate);
  const target = (await openInProcessTarget({ db, startTs: start })) as InProcessTarget;
  try {
    await target.deployLive(world.placement.name, { kind: 'popular', version: '1' });
    await runWorld(world, target, { seed, readers: 1000, days: 2 });
  } finally {
    await target.close();
  }
  const storage = await openStorage(db);
  try {
    return await dataSignal({ events: storage }, { placement: world.placement.name, sinceTs: start, untilTs: start + 2 * DAY, seed: 1 });
  } finally {
    await storage.close();
  }
}

describe('pairedBootstrap', () => {
  it('takes quantiles as numpy does (type 7)', () => {
    // np.quantile([1, 2, 3, 4], [0.25, 0.975]) = [1.75, 3.925]
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 12);
  });

  it('gives a point interval for constant differences, and the resampling distribution of a two-point one', () => {
    expect(pairedBootstrap([3, 2, 1], [2, 1, 0], 500, seededRng(1))).toEqual({ low: 1, high: 1 });
    // d = (0, 1): a resample's mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so the 2.5% and
    // 97.5% quantiles of 2000 resamples are 0 and 1 (P(fewer than 2.5% zeros) is negligible).
    expect(pairedBootstrap([0, 1], [0, 0], 2000, seededRng(2))).toEqual({ low: 0, high: 1 });
  });

  it('covers the mean difference of paired normal data with about the t interval (±10% in width)', () => {
    const rng = seededRng(3);
    const n = 400;
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const b = Array.from({ length: n }, normal);
    const a = b.map((x) => x + 0.1 + normal());
    const d = a.map((x, i) => x - b[i]!);
    const m = d.reduce((s, x) => s + x, 0) / n;
    const se = Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1) / n);
    const { low, high } = pairedBootstrap(a, b, 2000, seededRng(4));
    expect(low).toBeLessThan(m);
    expect(high).toBeGreaterThan(m);
    expect((high - low) / (2 * 1.966 * se)).toBeGreaterThan(0.9);
    expect((high - low) / (2 * 1.966 * se)).toBeLessThan(1.1);
  });
});

describe('dataSignal', () => {
  const empty = { labArticles: async () => [], labImpressions: async () => [], labReads: async () => [] };

  it('refuses a window whose until is not after since, naming the field', async () => {
    await expect(dataSignal({ events: empty }, { placement: 'read-next', sinceTs: 10, untilTs: 10, seed: 1 })).rejects.toMatchObject({
      code: 'invalid_field',
      field: 'until',
    });
  });

  it('says there is too little to tell on an empty window', async () => {
    const s = await dataSignal({ events: empty }, { placement: 'read-next', seed: 1 });
    expect(s.lift.auc).toBeNull();
    expect(s.learningCurve.map((p) => p.auc)).toEqual([null, null, null, null]);
    expect(s.moreData.helps).toBeNull();
    expect(s.verdict).toMatch(/^no detectable signal: too few test impressions/);
  });

  it('finds no detectable signal when clicks are pure noise', async () => {
    const world = parseWorld({ ...worldFile('noise'), readers: { visitsPerWeek: { median: 7 } }, clickModel: { noiseRate: 0.05 } });
    const s = await signalOf('noise', world, 5);
    expect(s.window.test.clicks).toBeGreaterThan(100);
    expect(s.lift.auc).not.toBeNull();
    expect(s.lift.auc!.low).toBeLessThanOrEqual(0);
    expect(s.lift.auc!.high).toBeGreaterThanOrEqual(0);
    expect(s.verdict.startsWith('no detectable signal')).toBe(true);
    expect(s.learningCurve.map((p) => p.share)).toEqual([0.1, 0.25, 0.5, 1]);
    expect(s.moreData.helps).toBe(false);
  }, 120_000);

  it('finds a signal in the default world: the lift interval is above zero', async () => {
    const world = parseWorld({ readers: { visitsPerWeek: { median: 7 } }, clickModel: { baseRate: 0.6 } });
    const s = await signalOf('default', world, 5);
    expect(s.window.test.clicks).toBeGreaterThan(100);
    expect(s.lift.auc!.low).toBeGreaterThan(0);
    expect(s.lift.ndcg10!.lift).toBeGreaterThan(0);
    expect(s.verdict.startsWith('signal:')).toBe(true);
    expect(s.learningCurve).toHaveLength(4);
    expect(s.learningCurve[3]!.auc).toBeGreaterThan(0.5);
  }, 120_000);
});
