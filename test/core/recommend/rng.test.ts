import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RNG_VERSION, seededRng } from '../../../src/core/kernel/rng.js';

// Golden vectors: the first five uint32 outputs of Mulberry32, computed with the original C
// (uint32_t arithmetic, gcc -O2) independently of our TypeScript. next() · 2^32 is exact, so the
// comparison is exact too.
const GOLDEN: [seed: number, outputs: number[]][] = [
  [0, [1144304738, 1416247, 958946056, 627933444, 2007157716]],
  [1, [2693262067, 11749833, 2265367787, 4213581821, 4159151403]],
  [42, [2581720956, 1925393290, 3661312704, 2876485805, 750819978]],
  [0xdeadbeef, [4043151706, 1147597007, 3315858022, 1538288752, 2042435954]],
];

/** Pearson's χ² statistic of observed counts against equal expected counts. */
function chiSquare(counts: readonly number[]): number {
  const n = counts.reduce((s, c) => s + c, 0);
  const e = n / counts.length;
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}

describe('seededRng (Mulberry32)', () => {
  it('is version 1', () => {
    expect(RNG_VERSION).toBe(1);
  });

  it.each(GOLDEN)('seed %d matches the reference C outputs', (seed, outputs) => {
    const rng = seededRng(seed);
    expect(outputs.map(() => rng.next() * 2 ** 32)).toEqual(outputs);
  });

  it('takes the seed modulo 2^32', () => {
    const a = seededRng(-1);
    const b = seededRng(0xffffffff);
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()]);
  });

  it('gives the same stream for the same seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const a = seededRng(seed);
        const b = seededRng(seed);
        for (let i = 0; i < 20; i++) expect(a.next()).toBe(b.next());
      }),
      { seed: 20260101 },
    );
  });

  it('gives different streams for different seeds', () => {
    // 1000 consecutive seeds: no two share their first three outputs (a collision of 96 bits would
    // mean the seed is ignored, not bad luck).
    const seen = new Set<string>();
    for (let seed = 0; seed < 1000; seed++) {
      const r = seededRng(seed);
      seen.add(`${r.next()},${r.next()},${r.next()}`);
    }
    expect(seen.size).toBe(1000);
  });

  it('stays in [0, 1) and int(n) in [0, n)', () => {
    const rng = seededRng(7);
    for (let i = 0; i < 10_000; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      const k = rng.int(13);
      expect(Number.isInteger(k) && k >= 0 && k < 13).toBe(true);
    }
  });

  it('is roughly uniform: mean and χ² of next() on a frozen sample', () => {
    const rng = seededRng(2026);
    const n = 100_000;
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      sum += x;
      bins[Math.floor(x * 10)]!++;
    }
    // Mean of n U(0,1): sd = sqrt(1/12/n) ≈ 9.1e-4; tolerance 0.004 ≈ 4.4 sd.
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.004);
    // χ² with 9 degrees of freedom: 27.88 is its 99.9th percentile.
    expect(chiSquare(bins)).toBeLessThan(27.88);
  });

  it('int(n) and pick are roughly uniform (χ², 6 degrees of freedom, 99.9th percentile 22.46)', () => {
    const rng = seededRng(99);
    const ints = new Array<number>(7).fill(0);
    const picks = new Map<string, number>();
    const xs = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    for (let i = 0; i < 70_000; i++) {
      ints[rng.int(7)]!++;
      const p = rng.pick(xs);
      picks.set(p, (picks.get(p) ?? 0) + 1);
    }
    expect(chiSquare(ints)).toBeLessThan(22.46);
    expect(picks.size).toBe(7);
    expect(chiSquare([...picks.values()])).toBeLessThan(22.46);
  });

  it('refuses an empty pick and a bad n', () => {
    const rng = seededRng(1);
    expect(() => rng.pick([])).toThrow(RangeError);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(2.5)).toThrow(RangeError);
    expect(() => rng.int(Number.NaN)).toThrow(RangeError);
  });
});
