/**
 * Calibration: simulated experiments with fixed seeds (src/core/kernel/rng.ts, Mulberry32),
 * drawn as per-arm sufficient statistics (test/core/stats/simulate.ts: exact normal sums via
 * x̄ ~ N(μ, σ²/n) and (n − 1)s² ~ σ²χ²_{n−1}; exact binomial counts). Each figure comes from
 * 10,000 experiments, so its Monte Carlo SE is about 0.22 points at 5 % and 95 %: the bands below
 * sit ±4.5 SE around the nominal rate.
 */
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { type ArmStat, addStats, sequentialTest, welchTTest } from '../../../src/core/stats/index.js';
import { Sampler } from './simulate.js';

const EXPERIMENTS = 10_000;
const ALPHA = 0.05;

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

describe('A/A false-positive rate of the fixed-horizon Welch test at α = 0.05 is within [4.0 %, 6.0 %]', () => {
  it('mean metric: n = 1000 readers per arm, values N(10, 5²), relative effect', () => {
    const s = new Sampler(seededRng(20260101));
    let positives = 0;
    for (let i = 0; i < EXPERIMENTS; i++) {
      if (welchTTest(s.normalArm(1000, 10, 5), s.normalArm(1000, 10, 5), { alpha: ALPHA }).pValue! < ALPHA) positives++;
    }
    const rate = positives / EXPERIMENTS;
    console.info(`A/A false-positive rate, mean metric, fixed horizon: ${pct(rate)}`);
    expect(rate).toBeGreaterThanOrEqual(0.04);
    expect(rate).toBeLessThanOrEqual(0.06);
  });

  it('proportion metric: n = 1000 readers per arm converting with p = 0.10 (exact binomial), relative effect', () => {
    const s = new Sampler(seededRng(20260102));
    let positives = 0;
    for (let i = 0; i < EXPERIMENTS; i++) {
      if (welchTTest(s.binomialArm(1000, 0.1), s.binomialArm(1000, 0.1), { alpha: ALPHA }).pValue! < ALPHA) positives++;
    }
    const rate = positives / EXPERIMENTS;
    console.info(`A/A false-positive rate, proportion metric, fixed horizon: ${pct(rate)}`);
    expect(rate).toBeGreaterThanOrEqual(0.04);
    expect(rate).toBeLessThanOrEqual(0.06);
  });
});

describe('peeking: looking after each of 14 days', () => {
  it('keeps the sequential engine (N* = 5000) at or below 5 %, where the fixed-horizon test inflates', () => {
    // Each day 500 new readers join each arm (values N(10, 5²)); after day d an arm holds 500·d
    // readers, pooled with addStats. An experiment is a false positive if ANY of its 14 looks has
    // p < 0.05. The naive fixed-horizon peek is run on the first 2,000 experiments for contrast.
    const s = new Sampler(seededRng(20260103));
    const DAYS = 14;
    const PER_DAY = 500;
    const NAIVE = 2_000;
    let sequentialPositives = 0;
    let naivePositives = 0;
    for (let i = 0; i < EXPERIMENTS; i++) {
      let a: ArmStat = s.normalArm(PER_DAY, 10, 5);
      let b: ArmStat = s.normalArm(PER_DAY, 10, 5);
      let sequentialHit = false;
      let naiveHit = false;
      for (let day = 1; day <= DAYS; day++) {
        if (day > 1) {
          a = addStats(a, s.normalArm(PER_DAY, 10, 5));
          b = addStats(b, s.normalArm(PER_DAY, 10, 5));
        }
        if (sequentialTest(a, b, { alpha: ALPHA }).pValue! < ALPHA) sequentialHit = true;
        if (i < NAIVE && welchTTest(a, b, { alpha: ALPHA }).pValue! < ALPHA) naiveHit = true;
      }
      if (sequentialHit) sequentialPositives++;
      if (naiveHit) naivePositives++;
    }
    const sequentialRate = sequentialPositives / EXPERIMENTS;
    const naiveRate = naivePositives / NAIVE;
    console.info(`A/A false-positive rate over 14 daily looks: sequential ${pct(sequentialRate)}, fixed-horizon peeking ${pct(naiveRate)}`);
    expect(sequentialRate).toBeLessThanOrEqual(0.05);
    expect(naiveRate).toBeGreaterThan(0.1);
  });
});

describe('95 % confidence intervals cover a known true effect within [94.0 %, 96.0 %]', () => {
  it('control N(10, 5²) with 1000 readers, treatment N(10.5, 6²) with 1200: absolute 0.5, relative 5 %', () => {
    const s = new Sampler(seededRng(20260104));
    let absolute = 0;
    let relative = 0;
    for (let i = 0; i < EXPERIMENTS; i++) {
      const control = s.normalArm(1000, 10, 5);
      const treatment = s.normalArm(1200, 10.5, 6);
      const abs = welchTTest(control, treatment, { alpha: ALPHA, difference: 'absolute' }).ci;
      const rel = welchTTest(control, treatment, { alpha: ALPHA, difference: 'relative' }).ci;
      if (abs[0] <= 0.5 && 0.5 <= abs[1]) absolute++;
      if (rel[0] <= 0.05 && 0.05 <= rel[1]) relative++;
    }
    console.info(`95 % CI coverage: absolute ${pct(absolute / EXPERIMENTS)}, relative (delta method) ${pct(relative / EXPERIMENTS)}`);
    for (const covered of [absolute, relative]) {
      expect(covered / EXPERIMENTS).toBeGreaterThanOrEqual(0.94);
      expect(covered / EXPERIMENTS).toBeLessThanOrEqual(0.96);
    }
  });
});
