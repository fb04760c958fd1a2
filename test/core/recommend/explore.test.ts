import { describe, expect, it } from 'vitest';
import { exploreSlate, isExplored } from '../../../src/core/recommend/explore.js';
import type { ComposedSlate, SlateEntry } from '../../../src/core/recommend/slate.js';

const entry = (articleId: string, position: number, source = 0): SlateEntry => ({ articleId, position, score: null, reason: 'r', source });
const full = (ids: string[], pins: { slot: number; id: string }[] = []): ComposedSlate => {
  const items: SlateEntry[] = [];
  let next = 0;
  for (let p = 1; next < ids.length || pins.some((x) => x.slot === p); p++) {
    const pin = pins.find((x) => x.slot === p);
    items.push(pin ? entry(pin.id, p, -1) : entry(ids[next++]!, p));
  }
  return { items, fallback: false, faults: [] };
};

describe('exploreSlate', () => {
  const pool = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

  it('shows the pool in order when not explored, a reproducible random arrangement when explored', () => {
    const ex = { share: 0.05, pool: 10 };
    const kept = exploreSlate(full(pool), 5, ex, 'r1', false);
    expect(kept.slate.items.map((i) => i.articleId)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(kept.slate.items.map((i) => i.position)).toEqual([1, 2, 3, 4, 5]);
    // Each shown item is the pool's at its slot: (1 − ε) + ε / n.
    for (const p of kept.log.propensities) expect(p).toBeCloseTo(0.95 + 0.005, 15);
    expect(kept.log).toMatchObject({ share: 0.05, explored: false, pool });
    const a = exploreSlate(full(pool), 5, ex, 'r2', true);
    const b = exploreSlate(full(pool), 5, ex, 'r2', true);
    expect(a.slate.items).toEqual(b.slate.items);
    expect(new Set(a.slate.items.map((i) => i.articleId)).size).toBe(5);
    for (const [i, it] of a.slate.items.entries())
      expect(a.log.propensities[i]).toBeCloseTo((it.articleId === pool[i] ? 0.95 : 0) + 0.005, 15);
  });

  it('says fallback only when a shown item came from a fallback (the pool may reach into them unseen)', () => {
    const ex = { share: 0.05, pool: 10 };
    // The primary found 5, the fallbacks filled the pool's other 5: the composed pool is a fallback one.
    const f = full(pool);
    f.items.forEach((it, i) => (it.source = i < 5 ? 0 : 1));
    f.fallback = true;
    expect(exploreSlate(f, 5, ex, 'r1', false).slate.fallback).toBe(false);
    const shown = (recommId: string) => exploreSlate(f, 5, ex, recommId, true).slate;
    // Some explored arrangement shows a fallback's item: then it says so.
    const ids = Array.from({ length: 50 }, (_, i) => `x${i}`);
    const explored = ids.map(shown);
    expect(explored.some((s) => s.fallback)).toBe(true);
    for (const s of explored) expect(s.fallback).toBe(s.items.some((it) => it.source > 0));
    // A fault of the primary is a fallback whatever is shown.
    const faulty = { ...full(pool), faults: [{ index: 0, kind: 'co-read', message: 'boom' }] } as ComposedSlate;
    expect(exploreSlate(faulty, 5, ex, 'r1', false).slate.fallback).toBe(true);
  });

  it('logs the exact marginal P(item at slot): frequencies over 40,000 requests agree within 4 standard errors', () => {
    // The logging policy's marginal for pool item a at slot j is (1 − ε)·1[a = pool_j] + ε / n
    // (explore.ts). Counted over many recommIds, each (item, slot) frequency is a binomial share:
    // |f − π| <= 4·sqrt(π(1 − π)/N) for all 50 cells (a 4-sigma band: a false failure is below 1e-3 overall).
    const ex = { share: 0.3, pool: 10 };
    const N = 40_000;
    const counts = new Map<string, number>();
    let explored = 0;
    const logged = new Map<string, number>();
    for (let r = 0; r < N; r++) {
      const id = `req-${r}`;
      const e = isExplored('read-next', id, ex.share);
      if (e) explored++;
      const out = exploreSlate(full(pool), 5, ex, id, e);
      out.slate.items.forEach((it, j) => {
        const key = `${it.articleId}@${j}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        logged.set(key, out.log.propensities[j]!);
      });
    }
    // The explored share is a binomial share of N too.
    expect(Math.abs(explored / N - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / N));
    for (let j = 0; j < 5; j++)
      for (const a of pool) {
        const pi = (a === pool[j] ? 0.7 : 0) + 0.3 / 10;
        const f = (counts.get(`${a}@${j}`) ?? 0) / N;
        expect(Math.abs(f - pi)).toBeLessThan(4 * Math.sqrt((pi * (1 - pi)) / N));
        if (logged.has(`${a}@${j}`)) expect(logged.get(`${a}@${j}`)).toBeCloseTo(pi, 15);
      }
  });

  it("puts the shadows' choices in the pool after the live items, once each", () => {
    const ex = { share: 0.1, pool: 4 };
    const out = exploreSlate(full(['a', 'b', 'c', 'd']), 3, ex, 'y', false, [
      [entry('c', 1), entry('x', 2), entry('y', 3)],
      [entry('x', 1)],
    ]);
    expect(out.log.pool).toEqual(['a', 'b', 'c', 'd', 'x', 'y']);
    expect(out.slate.items.map((i) => i.articleId)).toEqual(['a', 'b', 'c']);
    for (const p of out.log.propensities) expect(p).toBeCloseTo(0.9 + 0.1 / 6, 15);
  });

  it('keeps pins at their slots (propensity 1) and closes up a short pool', () => {
    const ex = { share: 0.5, pool: 10 };
    const out = exploreSlate(full(['a', 'b', 'c'], [{ slot: 2, id: 'P' }]), 5, ex, 'x', true);
    expect(out.slate.items.map((i) => i.articleId)).toHaveLength(4);
    expect(out.slate.items[1]!.articleId).toBe('P');
    expect(out.log.propensities[1]).toBe(1);
    expect(out.log.pool).toEqual(['a', 'b', 'c']);
    expect(out.slate.items.map((i) => i.position)).toEqual([1, 2, 3, 4]);
    for (const j of [0, 2, 3]) expect(out.log.propensities[j]).toBeGreaterThanOrEqual(0.5 / 3);
  });

  it("shadow-slate exploration: each shadow's whole slate on ε·σ/S of requests, and the logged marginals are exact", () => {
    // π0(a, j) = (1 − ε)·1[a = pool_j] + ε·((1 − σ)/n + (σ/S)·#{s : c_s[j] = a}) (explore.ts), checked as
    // binomial shares over 40,000 request ids within 4 standard errors per (item, slot) cell.
    const ex = { share: 0.3, pool: 4, shadowShare: 0.6 };
    const live = ['a', 'b', 'c', 'd'];
    // Shadow 0 chooses x, a, y; shadow 1 chooses b, z: arrangements [x a y], [b z a] over pool [a b c d x y z].
    const shadows = [
      [entry('x', 1), entry('a', 2), entry('y', 3)],
      [entry('b', 1), entry('z', 2)],
    ];
    const pool = ['a', 'b', 'c', 'd', 'x', 'y', 'z'];
    const arr = [
      ['x', 'a', 'y'],
      ['b', 'z', 'a'],
    ];
    const first = exploreSlate(full(live), 3, ex, 'r0', true, shadows);
    expect(first.log.pool).toEqual(pool);
    expect(first.log.shadows).toMatchObject({ share: 0.6, slates: arr });
    const pi = (a: string, j: number) => (a === pool[j] ? 0.7 : 0) + 0.3 * (0.4 / 7 + (0.6 / 2) * arr.filter((c) => c[j] === a).length);
    const N = 40_000;
    const counts = new Map<string, number>();
    const whole = [0, 0];
    for (let r = 0; r < N; r++) {
      const id = `req-${r}`;
      const out = exploreSlate(full(live), 3, ex, id, isExplored('read-next', id, ex.share), shadows);
      const shown = out.slate.items.map((i) => i.articleId);
      const which = out.log.shadows!.shown;
      if (which !== null) {
        expect(shown).toEqual(arr[which]);
        whole[which]!++;
      }
      shown.forEach((a, j) => {
        counts.set(`${a}@${j}`, (counts.get(`${a}@${j}`) ?? 0) + 1);
        expect(out.log.propensities[j]).toBeCloseTo(pi(a, j), 15);
      });
    }
    for (const w of whole) expect(Math.abs(w / N - 0.09)).toBeLessThan(4 * Math.sqrt((0.09 * 0.91) / N));
    for (let j = 0; j < 3; j++)
      for (const a of pool) {
        const p = pi(a, j);
        expect(Math.abs((counts.get(`${a}@${j}`) ?? 0) / N - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N) + 1e-12);
      }
    // σ = 0 (or absent) keeps the uniform policy and logs no shadow part.
    expect(exploreSlate(full(live), 3, { share: 0.3, pool: 4 }, 'r0', true, shadows).log.shadows).toBeUndefined();
  });
});
