/**
 * Mid-experiment power. Reference figures: GrowthBook's own test
 * (packages/stats/tests/test_midexperimentpower.py, TestMidExperimentPower):
 * control n = 500, mean 1, variance ≈ 1 and treatment mean 1.05 on the relative scale, target
 * MDE 5 %, power 80 %, alpha 5 %. Frequentist 25.45703125 (also a golden vector), sequential
 * (N* = 5000) 55.66796875 and Bayesian with prior N(0.05, 0.001) 13.9404296875, asserted upstream
 * to 4 decimal places; as bisection iterates they match bit for bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectMoments, meanStat, minimumDetectableEffect, normalQuantile, powerAt, scalingFactor } from '../../../src/core/stats/index.js';

const a = meanStat({ n: 500, sum: 499.99999999999994, sumSquares: 1499.999999999999 });
const b = meanStat({ n: 500, sum: 525.0000000000008, sumSquares: 1551.2499999999998 });
const m = effectMoments(a, b, 'relative');
const setting = { variance: m.se * m.se, pairwiseN: m.pairwiseN, alpha: 0.05 };

describe('scaling factor (GrowthBook MidExperimentPower)', () => {
  it('matches upstream for the frequentist, sequential and Bayesian engines', () => {
    expect(m.se * m.se).toBeCloseTo(0.008426853707414856, 15); // sigmahat2Delta in GrowthBook's front-end test
    expect(scalingFactor(setting, 0.05)).toEqual({ scalingFactor: 25.45703125, additionalUnits: 25457.03125 });
    expect(scalingFactor({ ...setting, sequentialNStar: 5000 }, 0.05).scalingFactor).toBe(55.66796875);
    expect(scalingFactor({ ...setting, prior: { mean: 0.05, variance: 0.001 } }, 0.05).scalingFactor).toBe(13.9404296875);
  });

  it('reaches the target power to 1e-5 (the bisection tolerance), 0 when already powered', () => {
    const k = scalingFactor(setting, 0.05).scalingFactor!;
    expect(Math.abs(powerAt(setting, 0.05, k) - 0.8)).toBeLessThan(1e-5);
    expect(scalingFactor(setting, 1).scalingFactor).toBe(0);
    expect(scalingFactor({ ...setting, variance: 0 }, 0.05).scalingFactor).toBeNull();
  });
});

describe('minimum detectable effect', () => {
  it('is where power reaches the target, close to (z_{1−α/2} + z_power)·SE', () => {
    const mde = minimumDetectableEffect(setting);
    expect(powerAt(setting, mde)).toBeCloseTo(0.8, 10);
    expect(mde / m.se).toBeCloseTo(normalQuantile(0.975) + normalQuantile(0.8), 3);
  });

  it('shrinks as the variance shrinks and grows with the power target (fast-check)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-8, max: 1, noNaN: true }), fc.double({ min: 1.1, max: 100, noNaN: true }), (variance, k) => {
        const s = { variance, pairwiseN: 1000 };
        expect(minimumDetectableEffect({ ...s, variance: variance / k })).toBeLessThan(minimumDetectableEffect(s));
        expect(minimumDetectableEffect(s, 0.9)).toBeGreaterThan(minimumDetectableEffect(s, 0.8));
      }),
      { numRuns: 100 },
    );
  });
});
