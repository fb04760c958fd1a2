import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { weightedPoissonInterval } from '../../../src/core/stats/weighted-poisson.js';

describe('weightedPoissonInterval (Fay & Feuer 1997)', () => {
  it("is Garwood's exact Poisson interval with unit weights (published table values, 4 significant digits)", () => {
    // Garwood (1936) 95% limits, e.g. Ulm (1990) Table 1: x = 0 → [0, 3.689]; 1 → [0.0253, 5.572]; 5 → [1.6235, 11.668].
    expect(weightedPoissonInterval(0, 0, 1)[0]).toBe(0);
    expect(weightedPoissonInterval(0, 0, 1)[1]).toBeCloseTo(3.689, 3);
    const one = weightedPoissonInterval(1, 1, 1);
    expect(one[0]).toBeCloseTo(0.0253, 4);
    expect(one[1]).toBeCloseTo(5.572, 3);
    const five = weightedPoissonInterval(5, 5, 1);
    expect(five[0]).toBeCloseTo(1.6235, 4);
    expect(five[1]).toBeCloseTo(11.668, 3);
  });

  it('scales with a common weight w: w times the unit-weight interval (1e-9)', () => {
    const [l1, u1] = weightedPoissonInterval(7, 7, 1);
    const [lw, uw] = weightedPoissonInterval(7 * 60, 7 * 3600, 60);
    expect(lw / 60).toBeCloseTo(l1, 9);
    expect(uw / 60).toBeCloseTo(u1, 9);
  });

  it('holds its level with few events and unequal weights, where the normal interval does not (2,000 seeded draws)', () => {
    // T = 1·X1 + 60·X2, X1 ~ Poisson(20), X2 ~ Poisson(0.1): E[T] = 26. Coverage must be at least
    // 0.95 − 3·sqrt(0.95·0.05/2000) ≈ 0.935; the normal interval t ± 1.96·sqrt(v) misses whenever X2 = 0 and
    // X1 is low, and covers far less often.
    const rng = seededRng(7);
    const poisson = (lambda: number): number => {
      let k = 0;
      let p = Math.exp(-lambda);
      let s = p;
      const u = rng.next();
      while (u > s) {
        k++;
        p *= lambda / k;
        s += p;
      }
      return k;
    };
    let gamma = 0;
    let normal = 0;
    const N = 2000;
    for (let i = 0; i < N; i++) {
      const x1 = poisson(20);
      const x2 = poisson(0.1);
      const t = x1 + 60 * x2;
      const v = x1 + 3600 * x2;
      const [lo, hi] = weightedPoissonInterval(t, v, 60);
      if (lo <= 26 && 26 <= hi) gamma++;
      if (Math.abs(t - 26) <= 1.959963984540054 * Math.sqrt(v)) normal++;
    }
    expect(gamma / N).toBeGreaterThanOrEqual(0.935);
    expect(normal / N).toBeLessThan(gamma / N);
  });

  it('refuses impossible arguments', () => {
    expect(() => weightedPoissonInterval(-1, 0, 1)).toThrow(RangeError);
    expect(() => weightedPoissonInterval(1, 1, 0)).toThrow(RangeError);
  });
});
