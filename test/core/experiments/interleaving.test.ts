/**
 * Team-draft interleaving, the exact sign test and the per-reader analysis (core, pure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseInterleaving, signTest, teamDraft } from '../../../src/core/experiments/interleaving.js';

/** A coin that answers from a fixed script, and counts how often it was tossed. */
function scripted(...answers: boolean[]) {
  let i = 0;
  const coin = () => {
    const a = answers[i % answers.length]!;
    i++;
    return a;
  };
  return Object.assign(coin, { tosses: () => i });
}

const slate = (out: { id: string; team: 0 | 1 }[]) => out.map((o) => `${o.id}${o.team === 0 ? 'A' : 'B'}`).join(' ');

describe('teamDraft, worked by hand', () => {
  it('the JSDoc example: heads on each tie gives a A, b B, c A', () => {
    // picks (0,0): tie, heads → A takes a. (1,0): B has fewer → B takes b. (1,1): tie, heads → A's
    // best unused is c (b is taken). Two ties, so two tosses.
    const coin = scripted(true);
    expect(teamDraft(['a', 'b', 'c'], ['b', 'd'], 3, coin)).toEqual([
      { id: 'a', team: 0 },
      { id: 'b', team: 1 },
      { id: 'c', team: 0 },
    ]);
    expect(coin.tosses()).toBe(2);
  });

  it('tails on each tie lets B pick first: b B, a A, d B', () => {
    // (0,0): tails → B takes b. (0,1): A has fewer → a. (1,1): tails → B's next is d.
    expect(slate(teamDraft(['a', 'b', 'c'], ['b', 'd'], 3, scripted(false)))).toBe('bB aA dB');
  });

  it('the coin alone settles ties: heads then tails', () => {
    // (0,0) heads → A: a. (1,0) → B: x. (1,1) tails → B: y. (1,2) → A: b.
    expect(slate(teamDraft(['a', 'b'], ['x', 'y'], 4, scripted(true, false)))).toBe('aA xB yB bA');
  });

  it('skips items the other team already placed (duplicates)', () => {
    // A: x y z, B: x y w. (0,0) heads → A: x. B's best unused is y. (1,1) heads → A skips y: z. B: w.
    expect(slate(teamDraft(['x', 'y', 'z'], ['x', 'y', 'w'], 4, scripted(true)))).toBe('xA yB zA wB');
    // Identical lists: the teams alternate down the one ranking.
    expect(slate(teamDraft(['p', 'q', 'r'], ['p', 'q', 'r'], 3, scripted(false)))).toBe('pB qA rB');
  });

  it('when one list is exhausted, the other fills the slate without the coin', () => {
    // (0,0) heads → A: a. (1,0) → B: b. (1,1): A has nothing left → B: c, then B: d.
    const coin = scripted(true);
    expect(slate(teamDraft(['a'], ['b', 'c', 'd'], 4, coin))).toBe('aA bB cB dB');
    expect(coin.tosses()).toBe(1);
    // A's only item is taken by B: A is exhausted from the start.
    expect(slate(teamDraft(['b'], ['b', 'c'], 3, scripted(false)))).toBe('bB cB');
  });

  it('stops short of k when both lists run out, and gives nothing for k = 0 or two empty lists', () => {
    expect(slate(teamDraft(['a'], ['a'], 5, scripted(true)))).toBe('aA');
    expect(teamDraft(['a', 'b'], ['c'], 0, scripted(true))).toEqual([]);
    expect(teamDraft([], [], 3, scripted(true))).toEqual([]);
  });
});

describe('teamDraft properties', () => {
  const list = fc.uniqueArray(fc.constantFrom(...'abcdefghijkl'.split('')), { maxLength: 10 });
  const args = fc.tuple(list, list, fc.integer({ min: 0, max: 15 }), fc.infiniteStream(fc.boolean()));

  it('no duplicates; the slate is as long as k allows and both lists can fill', () => {
    fc.assert(
      fc.property(args, ([a, b, k, coins]) => {
        const out = teamDraft(a, b, k, () => coins.next().value as boolean);
        expect(new Set(out.map((o) => o.id)).size).toBe(out.length);
        expect(out.length).toBe(Math.min(k, new Set([...a, ...b]).size));
      }),
      { numRuns: 1000 },
    );
  });

  it("every item comes from its team's list, and each team picks in its own rank order", () => {
    fc.assert(
      fc.property(args, ([a, b, k, coins]) => {
        const out = teamDraft(a, b, k, () => coins.next().value as boolean);
        for (const t of [0, 1] as const) {
          const own = t === 0 ? a : b;
          const ranks = out.filter((o) => o.team === t).map((o) => own.indexOf(o.id));
          expect(ranks.every((r) => r >= 0)).toBe(true);
          expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('team pick counts differ by at most 1 while both lists still have unused items', () => {
    fc.assert(
      fc.property(args, ([a, b, k, coins]) => {
        const out = teamDraft(a, b, k, () => coins.next().value as boolean);
        const used = new Set<string>();
        const picks = [0, 0];
        for (const o of out) {
          // Checked before each pick: once a list is exhausted the other team may run ahead.
          if (!a.some((x) => !used.has(x)) || !b.some((x) => !used.has(x))) break;
          used.add(o.id);
          picks[o.team]!++;
          expect(Math.abs(picks[0]! - picks[1]!)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('signTest (two-sided exact, ties dropped)', () => {
  // Reference values by hand from the binomial coefficients, p = min(1, 2·Σ_{i<=m} C(n, i) / 2^n);
  // the n = 20 case is also R's binom.test(5, 20)$p.value = 0.04138947 and a standard sign-test
  // table entry (Conover, Practical Nonparametric Statistics, table A3).
  it.each([
    [1, 9, (2 * (1 + 10)) / 1024], // 0.021484375
    [9, 1, (2 * (1 + 10)) / 1024],
    [2, 8, (2 * (1 + 10 + 45)) / 1024], // 0.109375
    [0, 5, 2 / 32], // 0.0625
    [0, 10, 2 / 1024], // 0.001953125
    [5, 15, (2 * (1 + 20 + 190 + 1140 + 4845 + 15504)) / 1048576], // 0.041389465332031
    [5, 5, 1], // 2·638/1024 > 1, capped
    [1, 0, 1],
    [0, 0, 1],
  ])('signTest(%i, %i) = %f', (wins, losses, expected) => {
    expect(Math.abs(signTest(wins, losses) - expected)).toBeLessThanOrEqual(1e-12);
  });

  it('matches an exact BigInt binomial sum for n up to 1,000 (relative tolerance 1e-9: the log-space sum is approximate)', () => {
    function exact(w: number, l: number): number {
      const n = w + l;
      if (n === 0) return 1;
      const m = Math.min(w, l);
      let c = 1n;
      let sum = 1n;
      for (let i = 1; i <= m; i++) {
        c = (c * BigInt(n - i + 1)) / BigInt(i);
        sum += c;
      }
      return Math.min(1, (2 * Number(sum)) / 2 ** n);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 500 }), (w, l) => {
        const want = exact(w, l);
        const got = signTest(w, l);
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * want);
        expect(signTest(l, w)).toBe(got);
      }),
      { numRuns: 300 },
    );
  });
});

describe('analyseInterleaving', () => {
  it('one reader is one vote, however many clicks: per-reader preference disagrees with pooled clicks here', () => {
    // r1 clicked team A 10 times over many sessions; r2 and r3 each clicked B once; r4 tied 1–1.
    // Pooled clicks say A (11 vs 3), but readers say B, 2 to 1: preference (1 − 2)/3, p = 2·(1 + 3)/8 → 1.
    const out = analyseInterleaving(
      new Map([
        ['r1', { a: 10, b: 0 }],
        ['r2', { a: 0, b: 1 }],
        ['r3', { a: 0, b: 1 }],
        ['r4', { a: 1, b: 1 }],
      ]),
    );
    expect(out).toEqual({
      readersPreferringA: 1,
      readersPreferringB: 2,
      readersTied: 1,
      clicksA: 11,
      clicksB: 3,
      preference: -1 / 3,
      pValue: 1,
    });
  });

  it('nine readers for A and one for B: preference 0.8 and the sign-test p of n = 10, 1 vs 9', () => {
    const m = new Map<string, { a: number; b: number }>();
    for (let i = 0; i < 9; i++) m.set(`a${i}`, { a: 2, b: 1 });
    m.set('b0', { a: 0, b: 3 });
    m.set('t0', { a: 0, b: 0 });
    const out = analyseInterleaving(m);
    expect(out).toMatchObject({ readersPreferringA: 9, readersPreferringB: 1, readersTied: 1, clicksA: 18, clicksB: 12 });
    expect(out.preference).toBeCloseTo(0.8, 12);
    expect(out.pValue).toBeCloseTo(0.021484375, 12);
  });

  it('nobody: preference 0, p = 1', () => {
    expect(analyseInterleaving(new Map())).toEqual({
      readersPreferringA: 0,
      readersPreferringB: 0,
      readersTied: 0,
      clicksA: 0,
      clicksB: 0,
      preference: 0,
      pValue: 1,
    });
  });
});
