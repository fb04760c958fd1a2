/**
 * Properties of the engines that must hold for any data (fast-check): intervals shrink with n,
 * tests and intervals agree, swapping arms mirrors the result, adjusted p-values keep order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type SampleMeanStat,
  adjustPValues,
  bayesianTest,
  benjaminiHochberg,
  benjaminiYekutieli,
  bonferroni,
  checkSrm,
  holm,
  meanStat,
  sequentialTest,
  welchTTest,
} from '../../../src/core/stats/index.js';

/** An arm with mean mu and per-unit standard deviation sd over n units, as exact sums. */
const arm = (n: number, mu: number, sd: number): SampleMeanStat =>
  meanStat({ n, sum: n * mu, sumSquares: (n - 1) * sd * sd + n * mu * mu });

const armArb = fc.record({
  n: fc.integer({ min: 5, max: 100_000 }),
  mu: fc.double({ min: 0.5, max: 50, noNaN: true }),
  sd: fc.double({ min: 0.1, max: 30, noNaN: true }),
});

const width = (ci: readonly [number, number]) => ci[1] - ci[0];

describe('confidence and credible intervals shrink as n grows', () => {
  it('for every engine, multiplying both arms by k > 1 narrows the interval', () => {
    fc.assert(
      fc.property(armArb, armArb, fc.double({ min: 1.5, max: 50, noNaN: true }), (a, b, k) => {
        const small = [arm(a.n, a.mu, a.sd), arm(b.n, b.mu, b.sd)] as const;
        const big = [arm(Math.round(a.n * k), a.mu, a.sd), arm(Math.round(b.n * k), b.mu, b.sd)] as const;
        for (const difference of ['absolute', 'relative'] as const) {
          expect(width(welchTTest(...big, { difference }).ci)).toBeLessThan(width(welchTTest(...small, { difference }).ci));
          expect(width(sequentialTest(...big, { difference }).ci)).toBeLessThan(width(sequentialTest(...small, { difference }).ci));
          expect(width(bayesianTest(...big, { difference }).ci)).toBeLessThan(width(bayesianTest(...small, { difference }).ci));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('frequentist tests', () => {
  it('two-sided absolute p-value is symmetric under swapping the arms; the estimate and CI mirror', () => {
    fc.assert(
      fc.property(armArb, armArb, (x, y) => {
        const a = arm(x.n, x.mu, x.sd);
        const b = arm(y.n, y.mu, y.sd);
        for (const test of [welchTTest, sequentialTest]) {
          const ab = test(a, b, { difference: 'absolute' });
          const ba = test(b, a, { difference: 'absolute' });
          expect(ba.pValue).toBeCloseTo(ab.pValue!, 12);
          expect(ba.estimate).toBeCloseTo(-ab.estimate, 10);
          expect(ba.ci[0]).toBeCloseTo(-ab.ci[1], 8);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('p < alpha exactly when the interval excludes 0 (fixed horizon and confidence sequence)', () => {
    fc.assert(
      fc.property(
        armArb,
        armArb,
        fc.constantFrom(0.01, 0.05, 0.1),
        fc.constantFrom('absolute' as const, 'relative' as const),
        (x, y, alpha, difference) => {
          for (const r of [
            welchTTest(arm(x.n, x.mu, x.sd), arm(y.n, y.mu, y.sd), { alpha, difference }),
            sequentialTest(arm(x.n, x.mu, x.sd), arm(y.n, y.mu, y.sd), { alpha, difference }),
          ]) {
            const excludes = r.ci[0] > 0 || r.ci[1] < 0;
            // Skip the measure-zero boundary where rounding decides.
            if (Math.abs(r.pValue! - alpha) > 1e-9) expect(r.pValue! < alpha).toBe(excludes);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one-sided p-values of the fixed-horizon test add up to 1 and halve the two-sided one', () => {
    fc.assert(
      fc.property(armArb, armArb, (x, y) => {
        const a = arm(x.n, x.mu, x.sd);
        const b = arm(y.n, y.mu, y.sd);
        const g = welchTTest(a, b, { sides: 'greater' }).pValue!;
        const l = welchTTest(a, b, { sides: 'less' }).pValue!;
        expect(g + l).toBeCloseTo(1, 12);
        expect(Math.min(g, l) * 2).toBeCloseTo(welchTTest(a, b).pValue!, 12);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Bayesian engine', () => {
  it('risk of control − risk of treatment = posterior mean; inverse flips chance to win', () => {
    fc.assert(
      fc.property(armArb, armArb, (x, y) => {
        const a = arm(x.n, x.mu, x.sd);
        const b = arm(y.n, y.mu, y.sd);
        const r = bayesianTest(a, b);
        expect(r.risk[0] - r.risk[1]).toBeCloseTo(r.estimate, 10);
        expect(r.risk[0]).toBeGreaterThanOrEqual(0);
        expect(r.risk[1]).toBeGreaterThanOrEqual(0);
        const inv = bayesianTest(a, b, { inverse: true });
        expect(inv.chanceToWin + r.chanceToWin).toBeCloseTo(1, 12);
      }),
      { numRuns: 200 },
    );
  });
});

describe('multiple testing', () => {
  const family = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 });

  it('adjusted p-values are ≥ raw, ≤ 1 and keep the order of the raw p-values', () => {
    fc.assert(
      fc.property(family, (p) => {
        for (const adjust of [holm, benjaminiHochberg, benjaminiYekutieli, bonferroni]) {
          const q = adjust(p);
          p.forEach((pi, i) => {
            expect(q[i]).toBeGreaterThanOrEqual(pi);
            expect(q[i]).toBeLessThanOrEqual(1);
            p.forEach((pj, j) => {
              if (pi <= pj) expect(q[i]).toBeLessThanOrEqual(q[j]!);
            });
          });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('orders the methods: BH ≤ Holm ≤ Bonferroni and BH ≤ BY', () => {
    fc.assert(
      fc.property(family, (p) => {
        const [h, bh, by, bf] = [holm(p), benjaminiHochberg(p), benjaminiYekutieli(p), bonferroni(p)];
        p.forEach((_, i) => {
          expect(bh[i]).toBeLessThanOrEqual(h[i]! + 1e-15);
          expect(h[i]).toBeLessThanOrEqual(bf[i]! + 1e-15);
          expect(bh[i]).toBeLessThanOrEqual(by[i]! + 1e-15);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('rejects exactly the adjusted p-values at or below alpha', () => {
    expect(adjustPValues('bonferroni', [0.01, 0.02, 0.04], 0.05)).toEqual({ adjusted: [0.03, 0.06, 0.12], reject: [true, false, false] });
    // The boundary: an adjusted p equal to alpha is a rejection (a level-alpha test).
    expect(adjustPValues('bonferroni', [0.025, 0.5], 0.05)).toEqual({ adjusted: [0.05, 1], reject: [true, false] });
  });
});

describe('SRM', () => {
  it('an exact split gives χ² = 0, p = 1; weights only matter through their ratios', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 6 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (w, unit, scale) => {
          const observed = w.map((x) => x * unit);
          const exact = checkSrm(observed, w);
          expect(exact.chi2).toBeLessThan(1e-20); // 0 up to rounding of the expected counts
          expect(exact.pValue).toBeCloseTo(1, 9);
          expect(exact.df).toBe(w.length - 1);
          const skewed = observed.map((o, i) => (i === 0 ? o + 7 : o));
          expect(
            checkSrm(
              skewed,
              w.map((x) => x * scale),
            ).pValue,
          ).toBeCloseTo(checkSrm(skewed, w).pValue, 10);
        },
      ),
      { numRuns: 200 },
    );
  });
});
