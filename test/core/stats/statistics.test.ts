/**
 * Sufficient statistics and their moments against numpy 2.4 on a small fixed sample
 * (np.mean, np.var(ddof=1), np.cov(ddof=1)); tolerance 1e-12 relative.
 *
 *   post = [2, 1, 5, 3, 0, 7.5, 4.25, 1]    pre = [0.3, 0.5, 0.9, 22, 1, 2, 3.5, 0]
 *   m    = [3, 0, 2, 5, 1, 4, 2, 6]          d   = [4, 1, 3, 5, 2, 6, 2, 7]
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addStats,
  computeTheta,
  covariance,
  cupedStat,
  meanStat,
  proportionStat,
  quantileStat,
  ratioStat,
  statMean,
  statUnadjustedMean,
  statVariance,
} from '../../../src/core/stats/index.js';

const post = [2, 1, 5, 3, 0, 7.5, 4.25, 1];
const pre = [0.3, 0.5, 0.9, 22, 1, 2, 3.5, 0];
const m = [3, 0, 2, 5, 1, 4, 2, 6];
const d = [4, 1, 3, 5, 2, 6, 2, 7];

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const sumsOf = (xs: number[]) => meanStat({ n: xs.length, sum: sum(xs), sumSquares: sum(xs.map((x) => x * x)) });
const dot = (xs: number[], ys: number[]) => sum(xs.map((x, i) => x * ys[i]!));
const close = (a: number, b: number, tol = 1e-12) => expect(Math.abs(a - b) / Math.abs(b)).toBeLessThan(tol);

describe('moments of sufficient statistics', () => {
  it('mean and sample variance match np.mean / np.var(ddof=1)', () => {
    const s = sumsOf(post);
    close(statMean(s), 2.96875);
    close(statVariance(s), 6.2578125);
  });

  it('covariance matches np.cov(ddof=1)', () => {
    close(covariance(8, sumsOf(post), sumsOf(pre), dot(post, pre)), 1.688392857142857);
  });

  it('a proportion is a mean with variance p(1 − p), no n/(n − 1) correction', () => {
    const p = proportionStat({ n: 28, sum: 14 });
    expect(statMean(p)).toBe(0.5);
    expect(statVariance(p)).toBe(0.25);
  });

  it('a ratio metric is Σm/Σd with the delta-method per-unit variance', () => {
    const r = ratioStat({ n: 8, numerator: sumsOf(m), denominator: sumsOf(d), sumProducts: dot(m, d) });
    close(statMean(r), 0.7666666666666667);
    // (var_m − 2r cov_md + r² var_d)/mean_d², from numpy's var / cov.
    close(statVariance(r), 0.033591534391534436);
  });

  it('CUPED: theta is pooled over both arms (arm membership ignored); adjusted variance matches numpy', () => {
    // Split the 8 units into two arms: the pooled theta must equal numpy's on all 8.
    const arm = (lo: number, hi: number) =>
      cupedStat({
        n: hi - lo,
        post: sumsOf(post.slice(lo, hi)),
        pre: sumsOf(pre.slice(lo, hi)),
        sumPostPre: dot(post.slice(lo, hi), pre.slice(lo, hi)),
        theta: null,
      });
    const theta = computeTheta(arm(0, 3), arm(3, 8));
    close(theta, 0.030429717169376532);
    const all = cupedStat({ n: 8, post: sumsOf(post), pre: sumsOf(pre), sumPostPre: dot(post, pre), theta });
    close(statMean(all), 2.8538778176856034); // mean of post − θ·pre
    close(statVariance(all), 6.206435182886347); // var of post − θ·pre
    expect(statUnadjustedMean(all)).toBe(2.96875);
  });

  it('theta is 0 (no adjustment) when the pre period has no variance', () => {
    const flat = (n: number) =>
      cupedStat({
        n,
        post: sumsOf(post.slice(0, n)),
        pre: meanStat({ n, sum: n, sumSquares: n }),
        sumPostPre: sum(post.slice(0, n)),
        theta: null,
      });
    expect(computeTheta(flat(4), flat(4))).toBe(0);
  });

  it('a quantile turns its CI back into a per-unit variance, floored at 1e-5 from n = 100', () => {
    const q = (n: number, width: number) =>
      quantileStat({ n, nStar: n, nu: 0.9, quantileHat: 1, quantileLower: 1 - width / 2, quantileUpper: 1 + width / 2 });
    close(statVariance(q(50, 0.392)), (50 - 1) * (0.392 / (2 * 1.959963984540054)) ** 2);
    expect(statVariance(q(1000, 0))).toBe(1e-5);
  });
});

describe('addStats pools without mutating (immutable add)', () => {
  it('pooling two halves equals the statistics of the whole sample', () => {
    const a = sumsOf(post.slice(0, 3));
    const b = sumsOf(post.slice(3));
    const before = JSON.stringify([a, b]);
    const pooled = addStats(a, b);
    expect(JSON.stringify([a, b])).toBe(before);
    expect(Object.isFrozen(pooled)).toBe(true);
    close(statMean(pooled), 2.96875);
    close(statVariance(pooled), 6.2578125);
  });

  it('resets a CUPED theta so it is re-estimated on the pooled data', () => {
    const c = cupedStat({ n: 8, post: sumsOf(post), pre: sumsOf(pre), sumPostPre: dot(post, pre), theta: 0.5 });
    expect(addStats(c, c).theta).toBeNull();
  });

  it('refuses to pool a quantile or mismatched kinds', () => {
    const q = quantileStat({ n: 10, nStar: 10, nu: 0.5, quantileHat: 1, quantileLower: 0, quantileUpper: 2 });
    expect(() => addStats(q, q)).toThrow(RangeError);
    expect(() =>
      addStats(sumsOf(post) as never, ratioStat({ n: 8, numerator: sumsOf(m), denominator: sumsOf(d), sumProducts: 1 }) as never),
    ).toThrow(RangeError);
  });

  it('is commutative and associative on sums (fast-check)', () => {
    const stat = fc
      .record({
        n: fc.integer({ min: 0, max: 1000 }),
        sum: fc.integer({ min: -1e6, max: 1e6 }),
        sumSquares: fc.integer({ min: 0, max: 1e9 }),
      })
      .map(meanStat);
    fc.assert(
      fc.property(stat, stat, stat, (x, y, z) => {
        expect(addStats(x, y)).toEqual(addStats(y, x));
        expect(addStats(addStats(x, y), z)).toEqual(addStats(x, addStats(y, z)));
      }),
      { numRuns: 200 },
    );
  });
});
