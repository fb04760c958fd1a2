import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PairCounts } from '../../../src/core/kernel/pair-counts.js';

type Op = { op: 'add'; key: number; by: number } | { op: 'delete'; key: number } | { op: 'deleteFirst' };

const ops = fc.array(
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ op: fc.constant('add' as const), key: fc.integer({ min: 0, max: 40 }), by: fc.integer({ min: 1, max: 3 }) }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteFirst' as const) }) },
  ),
  { maxLength: 300 },
);

/** The same operations on a Map: insertion order as a Map keeps it, or sorted by key. */
function model(list: readonly Op[], sorted: boolean): [number, number][] {
  const m = new Map<number, number>();
  for (const o of list) {
    if (o.op === 'add') m.set(o.key, (m.get(o.key) ?? 0) + o.by);
    else if (o.op === 'delete') m.delete(o.key);
    else {
      const first = sorted ? [...m.keys()].sort((a, b) => a - b)[0] : m.keys().next().value;
      if (first !== undefined) m.delete(first);
    }
  }
  const entries = [...m.entries()];
  return sorted ? entries.sort((a, b) => a[0] - b[0]) : entries;
}

function run(list: readonly Op[], sorted: boolean): PairCounts {
  const c = new PairCounts(sorted);
  for (const o of list) {
    if (o.op === 'add') c.add(o.key, o.by);
    else if (o.op === 'delete') c.delete(o.key);
    else c.deleteFirst();
  }
  return c;
}

const pairs = (c: PairCounts) => {
  const out: [number, number][] = [];
  c.forEach((k, n) => out.push([k, n]));
  return out;
};

describe('PairCounts', () => {
  for (const sorted of [true, false]) {
    it(`holds what a Map holds, ${sorted ? 'sorted by key' : 'in insertion order'}, after any adds and deletes`, () => {
      fc.assert(
        fc.property(ops, (list) => {
          const c = run(list, sorted);
          const want = model(list, sorted);
          expect(pairs(c)).toEqual(want);
          expect(c.size).toBe(want.length);
          for (let k = 0; k <= 41; k++) expect(c.get(k)).toBe(want.find(([key]) => key === k)?.[1] ?? 0);
        }),
        { numRuns: 500, seed: 17 },
      );
    });
  }

  it('keeps a key set again in its place and puts one deleted and added again last (insertion order)', () => {
    const c = new PairCounts(false);
    c.add(5);
    c.add(2);
    c.add(5);
    expect(pairs(c)).toEqual([
      [5, 2],
      [2, 1],
    ]);
    expect(c.delete(5)).toBe(true);
    expect(c.delete(5)).toBe(false);
    c.add(5);
    expect(pairs(c)).toEqual([
      [2, 1],
      [5, 1],
    ]);
    c.deleteFirst();
    c.deleteFirst();
    c.deleteFirst();
    expect(c.size).toBe(0);
    expect(c.get(2)).toBe(0);
  });
});
