import { describe, expect, it } from 'vitest';
import { checkActiveShare, DATA_LOSS_THRESHOLD } from '../../../src/core/stats/data-quality.js';

/**
 * Reference values from SciPy 1.17.1:
 *   scipy.stats.chi2_contingency([[a_i, n_i − a_i] for each arm], correction=False)[0:2]
 * Tolerance: 1e-9 relative on χ², 1e-6 relative on p (our χ² upper tail is computed directly).
 */
const cases: [string, number[], number[], number, number][] = [
  ['19 % of one arm silent, 2,000 per arm', [1960, 1590], [2000, 2000], 342.7856025039124, 1.5784219320567662e-76],
  ['healthy, 1,000 per arm', [970, 955], [1000, 1000], 3.116883116883117, 0.07748486513264485],
  ['three arms, unequal sizes', [480, 950, 1430], [500, 1000, 1500], 0.7492507492507493, 0.6875468030290605],
  ['a status-quo arm with fewer page views', [980, 797], [1000, 1000], 169.02069543317577, 1.2107651381615043e-38],
];

describe('checkActiveShare: Pearson chi-square of the active share across arms', () => {
  it.each(cases)('matches scipy chi2_contingency(correction=False): %s', (_what, active, n, chi2, p) => {
    const r = checkActiveShare(active, n);
    expect(Math.abs(r.chi2! - chi2)).toBeLessThanOrEqual(1e-9 * chi2);
    expect(Math.abs(r.pValue - p)).toBeLessThanOrEqual(1e-6 * p);
    expect(r.df).toBe(n.length - 1);
    expect(r.flag).toBe(p < DATA_LOSS_THRESHOLD);
  });

  it('equals the squared pooled two-proportion z statistic (hand-worked)', () => {
    // p̂ = 3550/4000 = 0.8875; a₁ − n₁p̂ = 185; χ² = 2 · 185² / (2000 · 0.8875 · 0.1125) = 68450 / 199.6875.
    expect(checkActiveShare([1960, 1590], [2000, 2000]).chi2).toBeCloseTo(68450 / 199.6875, 9);
  });

  it('flags below 0.001 only, like SRM', () => {
    expect(DATA_LOSS_THRESHOLD).toBe(0.001);
    // χ² = 7.40, p = 0.0065 (scipy): suspicious at 0.05, not flagged.
    const r = checkActiveShare([950, 920], [1000, 1000]);
    expect(r.pValue).toBeGreaterThan(0.001);
    expect(r.pValue).toBeLessThan(0.05);
    expect(r.flag).toBe(false);
  });

  it('is not run without two arms with readers or without variation', () => {
    for (const [a, n] of [
      [
        [5, 0],
        [10, 0],
      ],
      [
        [0, 0],
        [10, 10],
      ],
      [
        [10, 10],
        [10, 10],
      ],
      [[3], [5]],
    ]) {
      expect(checkActiveShare(a!, n!)).toEqual({ chi2: null, df: null, pValue: 1, flag: false });
    }
  });
});
