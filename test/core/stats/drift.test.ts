import { describe, expect, it } from 'vitest';
import {
  binCounts,
  decileEdges,
  expectedNullPsi,
  kolmogorovSf,
  ksTwoSample,
  psiCategorical,
  psiFromCounts,
  psiLevel,
  psiNumeric,
  twoProportionTest,
} from '../../../src/core/stats/drift.js';
import { seededRng } from '../../../src/core/kernel/rng.js';

// Reference values were computed outside this code base with scipy 1.17.1 (scipy.special.kolmogorov,
// scipy.stats.ks_2samp, scipy.stats.chi2_contingency) or by hand, as noted at each case.

describe('psi', () => {
  it('matches a hand-worked case: (0.6−0.5)ln(0.6/0.5) + (0.4−0.5)ln(0.4/0.5) = 0.0405465 (to 1e-7)', () => {
    const r = psiFromCounts([50, 50], [60, 40]);
    expect(r.psi).toBeCloseTo(0.1 * Math.log(1.2) - 0.1 * Math.log(0.8), 12);
    expect(r.psi).toBeCloseTo(0.0405465, 7);
    expect(r.level).toBe('stable');
  });

  it('matches a hand-worked three-bin case with an empty bin (epsilon 1e-4), to 1e-9', () => {
    // Reference shares 0.5, 0.3, 0.2; current 0.7, 0.3, 0 → the empty share becomes 1e-4:
    // (0.7−0.5)ln(1.4) + 0 + (1e-4−0.2)ln(1e-4/0.2) = 0.067294 + 1.519421 = 1.586715.
    const r = psiFromCounts([50, 30, 20], [70, 30, 0]);
    const expected = 0.2 * Math.log(1.4) + (1e-4 - 0.2) * Math.log(1e-4 / 0.2);
    expect(r.psi).toBeCloseTo(expected, 9);
    expect(r.psi).toBeCloseTo(1.586715, 5);
    expect(r.level).toBe('significant');
    expect(r.bins[2]).toMatchObject({ expected: 0.2, actual: 0 });
  });

  it('is 0 for identical shares, for a bin empty on both sides, and for an empty sample', () => {
    expect(psiFromCounts([10, 20, 0], [100, 200, 0]).psi).toBe(0);
    expect(psiFromCounts([10, 20], [0, 0]).psi).toBe(0);
  });

  it('categorical: the union of the categories, a new category scored against epsilon', () => {
    const r = psiCategorical({ world: 50, sport: 50 }, { world: 60, sport: 40 });
    expect(r.psi).toBeCloseTo(0.0405465, 7);
    const n = psiCategorical({ world: 100 }, { world: 90, culture: 10 });
    // (0.9−1)ln(0.9) + (0.1−1e-4)ln(0.1/1e-4) = 0.010536 + 0.690085 = 0.700621
    expect(n.psi).toBeCloseTo(-0.1 * Math.log(0.9) + (0.1 - 1e-4) * Math.log(0.1 / 1e-4), 9);
    expect(n.bins.map((b) => b.label)).toEqual(['culture', 'world']);
  });

  it('levels: < 0.1 stable, 0.1 to 0.2 moderate, > 0.2 significant', () => {
    expect(psiLevel(0.0999)).toBe('stable');
    expect(psiLevel(0.1)).toBe('moderate');
    expect(psiLevel(0.2)).toBe('moderate');
    expect(psiLevel(0.2001)).toBe('significant');
  });

  it('decile edges and bins: each decile of the reference holds a tenth of it', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(decileEdges(xs)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(binCounts(xs, decileEdges(xs))).toEqual(new Array(10).fill(10));
    expect(decileEdges([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Mostly zeros: ties collapse the edges, the largest value is never an edge.
    expect(decileEdges([0, 0, 0, 0, 0, 0, 0, 0, 1, 5])).toEqual([0, 1]);
    expect(decileEdges([3, 3, 3])).toEqual([]);
    expect(psiNumeric([3, 3, 3], [3, 3]).psi).toBe(0);
  });

  it('numeric: near 0 for two samples of one distribution, within the null expectation; large for a shifted one', () => {
    const rng = seededRng(7);
    const gauss = (mu: number) => () => mu + Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const a = Array.from({ length: 20_000 }, gauss(0));
    const b = Array.from({ length: 20_000 }, gauss(0));
    const c = Array.from({ length: 20_000 }, gauss(0.5));
    const same = psiNumeric(a, b);
    // E[PSI] under the null ≈ 9 (1/20000 + 1/20000) = 0.0009; allow 4x.
    expect(same.psi).toBeLessThan(4 * expectedNullPsi(10, 20_000, 20_000));
    // A half-standard-deviation shift: PSI ≈ 0.25 for normal deciles (about δ², Yurdakul 2018); allow ±0.05.
    expect(psiNumeric(a, c).psi).toBeGreaterThan(0.2);
    expect(psiNumeric(a, c).psi).toBeLessThan(0.3);
  });
});

describe('kolmogorov-smirnov', () => {
  it.each([
    [0.3, 0.9999906941986655],
    [0.5, 0.9639452436648751],
    [0.8, 0.5441424115741981],
    [1.0, 0.26999967167735456],
    [1.1799, 0.12351204971188676],
    [1.18, 0.1234538094297657],
    [1.3581, 0.0499996304316674],
    [2.0, 0.0006709252557796953],
    [3.0, 3.045995948942526e-8],
  ])('kolmogorovSf(%s) = scipy.special.kolmogorov, to 1e-12 relative', (lambda, expected) => {
    expect(Math.abs(kolmogorovSf(lambda) - expected) / expected).toBeLessThan(1e-12);
  });

  it('kolmogorovSf: 1 at 0 and below, decreasing', () => {
    expect(kolmogorovSf(0)).toBe(1);
    expect(kolmogorovSf(-1)).toBe(1);
    for (let l = 0.1; l < 4; l += 0.1) expect(kolmogorovSf(l + 0.1)).toBeLessThanOrEqual(kolmogorovSf(l));
  });

  it('D equals scipy.stats.ks_2samp on small samples, with ties (exact)', () => {
    expect(ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]).d).toBe(0.5);
    expect(ksTwoSample([1, 1, 2, 2, 3], [1, 2, 2, 3, 3, 3]).d).toBeCloseTo(0.3, 12);
  });

  it('D and the asymptotic p equal scipy on 25 vs 26 values (D to 1e-12; p = kolmogorov(√(nm/(n+m))·D) to 1e-9)', () => {
    const a = [
      0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05,
      -0.32, -0.4, 1.06, -2.47,
    ];
    const b = [
      2.2, 1.66, 1.38, 0.2, 0.36, 0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31, 3.29, -0.27, -0.37, -0.38, -0.6, 1.02, 0.16, 1.05, 0.47, 0.6,
      1.41, 0.09, 1.2,
    ];
    const r = ksTwoSample(a, b);
    // scipy.stats.ks_2samp(a, b).statistic
    expect(r.d).toBeCloseTo(0.24153846153846156, 12);
    // scipy.special.kolmogorov(0.8622990071183109); scipy 1.17's own method='asymp' uses the finite-n
    // kstwo law instead (0.3736), which we do not reproduce.
    expect(r.pValue).toBeCloseTo(0.4468291629164295, 9);
    expect([r.n, r.m]).toEqual([25, 26]);
  });

  it('empty samples: D 0, p 1; NaN left out', () => {
    expect(ksTwoSample([], [1, 2])).toEqual({ d: 0, pValue: 1, n: 0, m: 2 });
    expect(ksTwoSample([1, NaN, 2], [1, 2]).d).toBe(0);
  });
});

describe('two-proportion test', () => {
  it('z² equals scipy.stats.chi2_contingency([[100, 900], [70, 930]], correction=False) = 5.785920925747347, p = 0.01615503207374043 (1e-9)', () => {
    const r = twoProportionTest(100, 1000, 70, 1000);
    expect(r.z * r.z).toBeCloseTo(5.785920925747347, 9);
    expect(r.z).toBeLessThan(0);
    expect(r.pValue).toBeCloseTo(0.01615503207374043, 9);
  });

  it('p = 1 when a side is empty or nothing varies', () => {
    expect(twoProportionTest(0, 0, 1, 10).pValue).toBe(1);
    expect(twoProportionTest(0, 10, 0, 10).pValue).toBe(1);
  });
});
