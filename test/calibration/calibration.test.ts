import { describe, expect, it } from 'vitest';
import {
  acceptanceBand,
  bandPassProbability,
  binomialCdf,
  chiSquareQuantile,
  effectRun,
  loadWorld,
  meanZSquare,
  nullRun,
  trueEffect,
  wilsonInterval,
  zSquareBand,
  type EffectRun,
  type NullRun,
  type RunSize,
} from '../../bench/calibrate.js';

/**
 * The calibration of issue 16 in a bounded form (`npm run calibrate` runs it in full: 500 runs per
 * world). Every run drives the whole platform in process (assignment, serving, records, rollups,
 * report) on a fresh database, seeds 1..RUNS.
 *
 * The bands come from the binomial distribution, not from a guess: a count of hits over RUNS runs
 * is Binomial(RUNS, p) when each run hits with probability p, and the band is the widest one that
 * a correct platform (p = 5% false positives; p = 5% misses of a 95% interval) leaves with
 * probability at most TAIL on each side (acceptanceBand). With RUNS = 100 and TAIL = 0.001 that is
 * 0..13 hits: a rate of at most 13%. Zero hits is not unlikely enough at 100 runs (0.95^100 = 0.6%)
 * for a lower bound, so the count can only fail upwards; what it catches (bandPassProbability): a
 * platform whose true false-positive rate (or miss rate) is 15% fails 65% of the time, 20%: 95%,
 * 25%: 99.8%.
 * The standard errors are checked directly as well (zSquareBand: the mean squared z-score,
 * ((estimate − truth)/se)², is χ²(n)/n when the SEs are right; band [0.62, 1.49] at 100 runs and
 * TAIL): reported SEs at 80% of the true ones fail it 60% of the time, at 71% 96%; at 133% of them
 * 77%, at 143% 96%. Only this check sees intervals that are too wide, which the counts cannot.
 */
const RUNS = 100;
const TAIL = 0.001;
/** Per run: small enough for the file to take about 2 minutes on the 2-core CI machine. */
const SIZE: RunSize = { readers: 400, days: 2 };
/** The truth of the small-effect world: common random numbers over 20 times the readers of a run. */
const TRUTH_SIZE: RunSize = { readers: SIZE.readers * 20, days: SIZE.days };

describe('the binomial figures the bands rest on', () => {
  it('binomialCdf agrees with the sum of the probability mass function', () => {
    // P(X = 0) = 0.95^60; P(X <= 3) summed by hand from C(60, k) 0.05^k 0.95^(60−k).
    expect(binomialCdf(0, 60, 0.05)).toBeCloseTo(0.95 ** 60, 12);
    let sum = 0;
    let c = 1;
    for (let k = 0; k <= 3; k++) {
      if (k > 0) c = (c * (60 - k + 1)) / k;
      sum += c * 0.05 ** k * 0.95 ** (60 - k);
    }
    expect(binomialCdf(3, 60, 0.05)).toBeCloseTo(sum, 12);
    expect(binomialCdf(60, 60, 0.05)).toBe(1);
  });

  it('wilsonInterval matches SciPy 1.x (binomtest(25, 500).proportion_ci(method="wilson"))', () => {
    const [lo, hi] = wilsonInterval(25, 500);
    expect(lo).toBeCloseTo(0.034093745243849435, 12);
    expect(hi).toBeCloseTo(0.0727681611715476, 12);
  });

  it('the bands used below, and what they catch', () => {
    const band = acceptanceBand(RUNS, 0.05, TAIL);
    expect(band).toEqual({ lo: 0, hi: 13 });
    // A correct platform passes (almost) always; a broken one fails most of the time.
    expect(bandPassProbability(band, RUNS, 0.05)).toBeGreaterThan(0.999);
    expect(bandPassProbability(band, RUNS, 0.2)).toBeLessThan(0.05);
    // SciPy: chi2.ppf(0.95, 1) = 3.841458820694124; chi2.ppf([0.001, 0.999], 100) / 100 = [0.61917939, 1.49449253].
    expect(chiSquareQuantile(0.95, 1)).toBeCloseTo(3.841458820694124, 8);
    const [zlo, zhi] = zSquareBand(RUNS, TAIL);
    expect(zlo).toBeCloseTo(0.61917939, 6);
    expect(zhi).toBeCloseTo(1.49449253, 6);
  });
});

describe('calibration through the whole platform, in process (bounded)', () => {
  const band = acceptanceBand(RUNS, 0.05, TAIL);
  const [zlo, zhi] = zSquareBand(RUNS, TAIL);

  it(
    `null world, ${RUNS} A/B experiments: false positives of the frequentist and the sequential engine`,
    { timeout: 240_000 },
    async () => {
      const world = loadWorld('null');
      const runs: NullRun[] = [];
      for (let seed = 1; seed <= RUNS; seed++) runs.push(await nullRun(world, seed, SIZE));
      const frequentist = runs.filter((r) => r.significant).length;
      const sequential = runs.filter((r) => r.sequentialHits > 0).length;
      const z = meanZSquare(runs, 0);
      const summary = { frequentist, sequential, band, meanZSquare: z.mean, zBand: [zlo, zhi] };
      // Every run measured something: readers in both arms.
      expect(runs.every((r) => r.n.length === 2 && r.n.every((n) => n > 0))).toBe(true);
      // Frequentist at alpha 0.05: at most band.hi false positives in RUNS (rate <= 13%).
      expect(frequentist, JSON.stringify(summary)).toBeLessThanOrEqual(band.hi);
      expect(frequentist).toBeGreaterThanOrEqual(band.lo);
      // Sequential with a look every day: at most 5% by design, so the same upper bound.
      expect(sequential, JSON.stringify(summary)).toBeLessThanOrEqual(band.hi);
      expect(z.n).toBe(RUNS);
      expect(z.mean, JSON.stringify(summary)).toBeGreaterThanOrEqual(zlo);
      expect(z.mean, JSON.stringify(summary)).toBeLessThanOrEqual(zhi);
    },
  );

  it(`small-effect world, ${RUNS} A/B experiments: the 95% interval covers the true effect`, { timeout: 240_000 }, async () => {
    const world = loadWorld('small-effect');
    const truth = await trueEffect(world, 1_000_000, TRUTH_SIZE);
    const runs: EffectRun[] = [];
    for (let seed = 1; seed <= RUNS; seed++) runs.push(await effectRun(world, seed, SIZE));
    const misses = runs.filter((r) => r.ci[0] > truth.effect || r.ci[1] < truth.effect).length;
    const z = meanZSquare(runs, truth.effect);
    const summary = { truth: truth.effect, misses, band, meanZSquare: z.mean, zBand: [zlo, zhi] };
    // The world's treatment does something, and the truth says so.
    expect(truth.effect).toBeGreaterThan(0);
    expect(misses, JSON.stringify(summary)).toBeLessThanOrEqual(band.hi);
    expect(misses).toBeGreaterThanOrEqual(band.lo);
    expect(z.mean, JSON.stringify(summary)).toBeGreaterThanOrEqual(zlo);
    expect(z.mean, JSON.stringify(summary)).toBeLessThanOrEqual(zhi);
  });
});
