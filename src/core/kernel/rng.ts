/**
 * Randomness is a parameter: core code that samples (train/test splits, negative sampling, Monte
 * Carlo, synthetic data) takes an `Rng` built from a seed that comes from config or a test, so every
 * run can be reproduced. Nothing here reads Math.random or the clock.
 *
 * @example
 * const rng = seededRng(42);
 * rng.pick(['a', 'b', 'c']) // the same letter on every run with seed 42
 */
export interface Rng {
  /** Uniform in [0, 1), in steps of 2^-32. */
  next(): number;
  /** Uniform integer in [0, n); n a positive integer at most 2^32. */
  int(n: number): number;
  /** A uniformly chosen element; throws a RangeError on an empty list. */
  pick<T>(xs: readonly T[]): T;
}

/**
 * Version of the stream `seededRng` produces for a given seed. A recorded seed reproduces a run
 * only under the same version: change the generator, bump this, and keep the old one if any stored
 * artifact depends on it. Pinned by the golden vectors in test/core/recommend/rng.test.ts.
 */
export const RNG_VERSION = 1;

const TWO_32 = 4294967296;

/**
 * Mulberry32 (Tommy Ettinger, 2017, public domain; as listed in bryc's "PRNG shootout"): a 32-bit
 * state advanced by the Weyl increment 0x6D2B79F5, each output a bijective mix of the state.
 * Period 2^32, passes gjrand and PractRand up to about 2^32 outputs; plenty for tests and
 * simulations, not for cryptography. In C, with uint32 arithmetic:
 *
 *   z = (state += 0x6D2B79F5);
 *   z = (z ^ (z >> 15)) * (z | 1);
 *   z ^= z + (z ^ (z >> 7)) * (z | 61);
 *   return z ^ (z >> 14);
 *
 * `next()` is that output / 2^32 (exact in a double). The seed is taken modulo 2^32 (ToUint32).
 * `int(n)` is floor(next() · n): its bias is below n / 2^32 (< 2.4e-7 for n ≤ 1000).
 */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let z = Math.imul(state ^ (state >>> 15), state | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  const next = (): number => nextUint32() / TWO_32;
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    return Math.floor(next() * n);
  };
  return {
    next,
    int,
    pick<T>(xs: readonly T[]): T {
      if (xs.length === 0) throw new RangeError('Rng.pick: empty list');
      return xs[int(xs.length)]!;
    },
  };
}
