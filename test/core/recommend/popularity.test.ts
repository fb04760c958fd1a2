import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { Popularity } from '../../../src/core/recommend/signals.js';

/** The ranking by definition: every article with a signal, by decreasing decayed sum, ties by id. */
function reference(sums: Map<string, number>): string[] {
  return [...sums].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
}

describe('Popularity.ranking', () => {
  it('equals a full sort after every refresh, whether few or many articles changed', () => {
    const halfLife = 3_600_000;
    const weights = { read: 1, click: 0.5, view: 0 };
    for (const seed of [1, 2, 3]) {
      const rng = seededRng(seed);
      const pop = new Popularity(halfLife, weights, 1000);
      const sums = new Map<string, number>();
      let t = 0;
      for (let step = 0; step < 400; step++) {
        // Mostly a few signals per step (the incremental path), sometimes a burst (the full sort).
        const n = rng.next() < 0.1 ? 200 : 1 + Math.floor(rng.next() * 4);
        for (let i = 0; i < n; i++) {
          const id = `a${Math.floor(rng.next() ** 2 * 500)}`;
          const kind = rng.next() < 0.7 ? 'read' : 'click';
          pop.add({ kind, readerId: 'r', articleId: id, ts: t });
          // Sums at a common reference time (0): decay multiplies every sum by one factor, so the order is theirs.
          sums.set(id, (sums.get(id) ?? 0) + weights[kind] * 2 ** (t / halfLife));
        }
        t += 60_000;
        expect(pop.ranking(t)).toEqual(reference(sums));
      }
    }
  });

  it('keeps its ranking until refreshMs has passed', () => {
    const pop = new Popularity(3_600_000, { read: 1, click: 1, view: 0 }, 1000);
    pop.add({ kind: 'read', readerId: 'r', articleId: 'a', ts: 0 });
    expect(pop.ranking(0)).toEqual(['a']);
    pop.add({ kind: 'read', readerId: 'r', articleId: 'b', ts: 10 });
    pop.add({ kind: 'read', readerId: 'r', articleId: 'b', ts: 10 });
    expect(pop.ranking(500)).toEqual(['a']);
    expect(pop.ranking(1000)).toEqual(['b', 'a']);
  });
});
