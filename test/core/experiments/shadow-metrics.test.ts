/**
 * Shadow-vs-live agreement metrics (core, pure): Jaccard@k, rank-biased overlap and the
 * nearest-rank percentile behind the latency columns. Worked values carry their arithmetic;
 * floating-point tolerance 1e-12.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jaccardAtK, percentile, rbo } from '../../../src/core/experiments/shadow.js';

const EPS = 1e-12;
const close = (got: number, want: number) => expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(EPS);

describe('jaccardAtK = |A_k ∩ B_k| / |A_k ∪ B_k|', () => {
  it('identical lists give 1, disjoint lists 0, two empty lists 1, one empty list 0', () => {
    close(jaccardAtK(['a', 'b', 'c'], ['a', 'b', 'c'], 3), 1);
    close(jaccardAtK(['a', 'b', 'c'], ['c', 'a', 'b'], 3), 1); // order does not matter
    close(jaccardAtK(['a', 'b'], ['x', 'y'], 2), 0);
    close(jaccardAtK([], [], 5), 1);
    close(jaccardAtK(['a'], [], 5), 0);
  });

  it('a partial overlap, at several depths', () => {
    const a = ['a', 'b', 'c', 'd'];
    const b = ['b', 'c', 'e', 'f'];
    // k = 4: ∩ = {b, c} (2), ∪ = {a, b, c, d, e, f} (6) → 2/6.
    close(jaccardAtK(a, b, 4), 1 / 3);
    // k = 2: {a, b} vs {b, c}: ∩ = {b}, ∪ = {a, b, c} → 1/3.
    close(jaccardAtK(a, b, 2), 1 / 3);
    // k = 3: {a, b, c} vs {b, c, e}: ∩ = 2, ∪ = 4 → 1/2.
    close(jaccardAtK(a, b, 3), 1 / 2);
    // k = 1: {a} vs {b} → 0.
    close(jaccardAtK(a, b, 1), 0);
    // k past both lengths compares the whole lists.
    close(jaccardAtK(a, b, 10), 1 / 3);
  });

  it('is symmetric and within [0, 1]', () => {
    const l = fc.uniqueArray(fc.constantFrom(...'abcdefgh'.split('')), { maxLength: 8 });
    fc.assert(
      fc.property(l, l, fc.integer({ min: 1, max: 10 }), (a, b, k) => {
        const j = jaccardAtK(a, b, k);
        expect(j).toBe(jaccardAtK(b, a, k));
        expect(j).toBeGreaterThanOrEqual(0);
        expect(j).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('rbo (extrapolated, Webber et al. 2010, eq. 32)', () => {
  it('identical lists give 1 and disjoint lists 0, for any p', () => {
    const ids = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 50 });
    fc.assert(
      fc.property(ids, fc.double({ min: 0.05, max: 0.99, noNaN: true }), (a, p) => {
        close(rbo(a, [...a], p), 1);
        close(
          rbo(
            a,
            a.map((x) => `other:${x}`),
            p,
          ),
          0,
        );
      }),
    );
    close(rbo([], []), 1);
    close(rbo(['a'], []), 0);
  });

  it('a swap below the top: A = [a, b, c], B = [a, c, b], p = 0.9 → 0.955', () => {
    // X_1 = |{a} ∩ {a}| = 1, X_2 = |{a,b} ∩ {a,c}| = 1, X_3 = 3.
    // Σ_{d=1..3} (X_d/d)·p^d = 1·0.9 + (1/2)·0.81 + 1·0.729 = 0.9 + 0.405 + 0.729 = 2.034
    // RBO_ext = (X_3/3)·p^3 + ((1 − p)/p)·Σ = 0.729 + (0.1/0.9)·2.034 = 0.729 + 0.226 = 0.955
    close(rbo(['a', 'b', 'c'], ['a', 'c', 'b'], 0.9), 0.955);
  });

  it('a swap at the top and new tails: A = [a, b, c, d], B = [b, a, e, f], p = 0.9 → 0.5085', () => {
    // X_1 = 0 ({a} vs {b}), X_2 = 2 ({a,b} vs {b,a}), X_3 = 2 (c, e new), X_4 = 2 (d, f new).
    // Σ = 0 + (2/2)·0.81 + (2/3)·0.729 + (2/4)·0.6561 = 0.81 + 0.486 + 0.32805 = 1.62405
    // RBO_ext = (2/4)·0.6561 + (0.1/0.9)·1.62405 = 0.32805 + 0.18045 = 0.5085
    close(rbo(['a', 'b', 'c', 'd'], ['b', 'a', 'e', 'f'], 0.9), 0.5085);
  });

  it("the shadow report's case: A = [c1, s1, w2], B = [w2, w3, w4], p = 0.9 → 0.27", () => {
    // X_1 = 0, X_2 = 0, X_3 = 1 (w2). Σ = (1/3)·0.729 = 0.243.
    // RBO_ext = (1/3)·0.729 + (0.1/0.9)·0.243 = 0.243 + 0.027 = 0.27
    close(rbo(['c1', 's1', 'w2'], ['w2', 'w3', 'w4']), 0.27);
  });

  it("lists of different length are compared to the shorter one's depth", () => {
    // k = 1, X_1 = 1: (1)·p + ((1 − p)/p)·(1·p) = p + 1 − p = 1.
    close(rbo(['a', 'b', 'c'], ['a'], 0.9), 1);
    close(rbo(['a', 'b', 'c'], ['a', 'c', 'b', 'z'], 0.9), 0.955);
  });

  it('is symmetric and within [0, 1]', () => {
    const l = fc.uniqueArray(fc.constantFrom(...'abcdefghij'.split('')), { maxLength: 10 });
    fc.assert(
      fc.property(l, l, fc.double({ min: 0.05, max: 0.99, noNaN: true }), (a, b, p) => {
        const r = rbo(a, b, p);
        close(r, rbo(b, a, p));
        expect(r).toBeGreaterThanOrEqual(-EPS);
        expect(r).toBeLessThanOrEqual(1 + EPS);
      }),
    );
  });
});

describe('percentile (nearest rank: the value at rank ⌈p/100 · n⌉ of the sorted values)', () => {
  it('the textbook example {15, 20, 35, 40, 50} (Wikipedia, "Percentile", nearest-rank method)', () => {
    const v = [40, 15, 50, 35, 20]; // unsorted on purpose
    expect(percentile(v, 5)).toBe(15);
    expect(percentile(v, 30)).toBe(20);
    expect(percentile(v, 40)).toBe(20);
    expect(percentile(v, 50)).toBe(35);
    expect(percentile(v, 100)).toBe(50);
    expect(percentile(v, 0)).toBe(15); // rank 0 is clamped to 1: the minimum
    expect(v).toEqual([40, 15, 50, 35, 20]); // the input is not sorted in place
  });

  it('p99 of 1..100 is 99, of 1..1000 is 990; of fewer than 100 values it is the maximum', () => {
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
    expect(
      percentile(
        Array.from({ length: 1000 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(990);
    expect(percentile([3, 1, 2], 99)).toBe(3);
  });

  it('no values: NaN', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it('always returns one of the values, monotone in p', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (v, p, q) => {
          const [lo, hi] = p <= q ? [p, q] : [q, p];
          expect(v).toContain(percentile(v, lo));
          expect(percentile(v, lo)).toBeLessThanOrEqual(percentile(v, hi));
        },
      ),
    );
  });
});
