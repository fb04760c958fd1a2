import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { DecayedSums } from '../../../src/core/recommend/decay.js';
import { CoVisitation } from '../../../src/core/recommend/signals.js';

// DecayedSums is checked against the closed form computed directly, term by term:
//
//   score_key(t) = Σ_{e: key_e = key} w_e · 2^(-(t - t_e) / h)
//
// Tolerances, said out loud:
//   - hand-built cases: 1e-12 relative. The frame value and the factor each carry one pow() of an
//     exponent with at most a few hundred half-lives (rounding of x/h ≈ 300 · 1.1e-16 ≈ 3e-14 in the
//     exponent, so ≈ 2e-14 relative in 2^x), plus n additions of ≈ 1.1e-16 each.
//   - property: 1e-9 relative (many more terms and random spans), plus n · 2^-60 absolute where a
//     frame rebase may have dropped keys whose value had decayed below 2^-60 (decay.ts, rebase()).

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.parse('2026-03-02T12:00:00Z');

interface Ev {
  key: string;
  w: number;
  t: number;
}

function closedForm(events: readonly Ev[], key: string, t: number, h: number): number {
  let s = 0;
  for (const e of events) if (e.key === key) s += e.w * 2 ** (-(t - e.t) / h);
  return s;
}

function relErr(got: number, want: number): number {
  return want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
}

function build(events: readonly Ev[], h: number, start?: number): DecayedSums {
  const d = start === undefined ? new DecayedSums(h) : new DecayedSums(h, start);
  for (const e of events) d.add(e.key, e.w, e.t);
  return d;
}

describe('DecayedSums', () => {
  it('hand-worked: 1 at 0 and 2 at h, read at 2h: 1·2^-2 + 2·2^-1 = 1.25', () => {
    const h = 30 * MIN;
    const d = build(
      [
        { key: 'a', w: 1, t: 0 },
        { key: 'a', w: 2, t: h },
      ],
      h,
    );
    expect(relErr(d.get('a', 2 * h), 1.25)).toBeLessThan(1e-12);
    // Before the events the value grows back: at 0 it is 1 + 2·2^1 = 5.
    expect(relErr(d.get('a', 0), 5)).toBeLessThan(1e-12);
    expect(d.get('missing', 2 * h)).toBe(0);
  });

  it('refuses a non-positive half-life', () => {
    expect(() => new DecayedSums(0)).toThrow(RangeError);
    expect(() => new DecayedSums(Number.NaN)).toThrow(RangeError);
  });

  it('matches the closed form on epoch-ms timestamps (the first add rebases the frame from 0)', () => {
    const h = 30 * MIN;
    const rng = seededRng(11);
    const events: Ev[] = [];
    for (let i = 0; i < 200; i++) events.push({ key: rng.pick(['a', 'b', 'c', 'd']), w: 1 + rng.int(3), t: NOW - rng.int(48 * HOUR) });
    events.sort((x, y) => x.t - y.t);
    const d = build(events, h);
    for (const t of [NOW - 24 * HOUR, NOW, NOW + 5 * MIN, NOW + 10 * HOUR]) {
      for (const key of ['a', 'b', 'c', 'd']) expect(relErr(d.get(key, t), closedForm(events, key, t, h))).toBeLessThan(1e-12);
    }
  });

  it('matches the closed form across frame rebases (adds more than 200 half-lives apart)', () => {
    const h = HOUR;
    // The frame starts at 0 and moves when an add lies more than 200 half-lives past it:
    //   add at 240 h: x = 240 > 200, rebase to 240 h; 'old' (3·2^-240) and the first 'both' (2^-240)
    //                 fall below 2^-60 and are dropped, then 'both' gets 2.
    //   adds at 250, 410 and 420 h: x = 10, 170 and 180, same frame.
    //   add at 565 h: x = 325, rebase to 565 h; everything then is below 2^-60 (≈ 2^-145) and dropped.
    const events: Ev[] = [
      { key: 'old', w: 3, t: 0 },
      { key: 'both', w: 1, t: 0 },
      { key: 'both', w: 2, t: 240 * h },
      { key: 'late', w: 1, t: 250 * h },
      { key: 'late', w: 5, t: 410 * h },
      { key: 'both', w: 1, t: 420 * h },
      { key: 'both', w: 4, t: 565 * h },
      { key: 'late', w: 1, t: 570 * h },
    ];
    const d = new DecayedSums(h);
    events.forEach((e, i) => {
      d.add(e.key, e.w, e.t);
      // The frame sits where the header says: factor(ref) = 1.
      expect(d.factor(e.t < 240 * h ? 0 : e.t < 565 * h ? 240 * h : 565 * h)).toBe(1);
      const seen = events.slice(0, i + 1);
      for (const t of [e.t, e.t + 10 * h]) {
        for (const key of ['old', 'both', 'late']) {
          // 1e-12 relative, plus what a rebase may drop: under 2^-60 per event (see the header).
          const want = closedForm(seen, key, t, h);
          expect(Math.abs(d.get(key, t) - want)).toBeLessThanOrEqual(1e-12 * want + seen.length * 2 ** -60);
        }
      }
    });
    // The surviving keys are exact to 1e-12 relative after both rebases (what was dropped is
    // ≈ 2^-150 relative to them).
    for (const t of [570 * h, 571 * h, 600 * h]) {
      for (const key of ['both', 'late']) expect(relErr(d.get(key, t), closedForm(events, key, t, h))).toBeLessThan(1e-12);
      // 'old' was dropped at the first rebase: exactly 0 instead of ≈ 3·2^-570.
      expect(d.get('old', t)).toBe(0);
    }
    expect(d.size).toBe(2);
  });

  it('gives the same sums when events arrive out of time order, including before the frame', () => {
    const h = 45 * MIN;
    const rng = seededRng(5);
    const events: Ev[] = [];
    // Spread over 300 half-lives so that adding in shuffled order moves the frame and then adds
    // events up to ~300 half-lives behind it (negative exponents).
    for (let i = 0; i < 300; i++) events.push({ key: rng.pick(['a', 'b', 'c']), w: 0.5 + rng.next(), t: NOW + rng.int(300 * h) });
    const inOrder = [...events].sort((x, y) => x.t - y.t);
    const shuffled = [...events];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const a = build(inOrder, h, NOW);
    const b = build(shuffled, h, NOW);
    const end = NOW + 300 * h;
    for (const t of [end - 20 * h, end, end + 3 * h]) {
      for (const key of ['a', 'b', 'c']) {
        const want = closedForm(events, key, t, h);
        expect(relErr(a.get(key, t), want)).toBeLessThan(1e-12);
        expect(relErr(b.get(key, t), want)).toBeLessThan(1e-12);
      }
    }
  });

  it('orders keys by raw() exactly as by get() at any time', () => {
    const h = 20 * MIN;
    const rng = seededRng(17);
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const events: Ev[] = [];
    for (let i = 0; i < 2000; i++) events.push({ key: rng.pick(keys), w: 1, t: NOW + rng.int(250 * h) });
    events.sort((x, y) => x.t - y.t);
    const d = build(events, h);
    const present = keys.filter((k) => d.raw(k) > 0);
    expect(present.length).toBeGreaterThan(30);
    for (const t of [NOW - 100 * h, NOW, NOW + 100 * h, NOW + 250 * h, NOW + 600 * h]) {
      // Every key's value at t is raw · factor(t), the same factor for all: the order is time-invariant.
      for (const k of present) expect(relErr(d.get(k, t), d.raw(k) * d.factor(t))).toBeLessThan(1e-15);
      for (const x of present) {
        for (const y of present) if (d.raw(x) > d.raw(y)) expect(d.get(x, t)).toBeGreaterThanOrEqual(d.get(y, t));
      }
      const byRaw = [...present].sort((x, y) => d.raw(y) - d.raw(x) || (x < y ? -1 : 1));
      const byGet = [...present].sort((x, y) => d.get(y, t) - d.get(x, t) || (x < y ? -1 : 1));
      expect(byGet).toEqual(byRaw);
    }
  });

  describe('property: get(key, t) equals the closed form', () => {
    const h = fc.integer({ min: MIN, max: 24 * HOUR });
    const event = (span: number) =>
      fc
        .record({
          key: fc.constantFrom('a', 'b', 'c'),
          w: fc.double({ min: 0.01, max: 100, noNaN: true }),
          u: fc.double({ min: 0, max: 1, noNaN: true }),
        })
        .map((e) => ({ ...e, span }));

    it('across rebases (events over up to 400 half-lives, read at or after the last one): 1e-9 relative + n·2^-60', () => {
      fc.assert(
        fc.property(
          h,
          fc.integer({ min: 1, max: 400 }),
          fc.array(event(0), { minLength: 1, maxLength: 60 }),
          fc.double({ min: 0, max: 30, noNaN: true }),
          (hl, spanHl, raw, after) => {
            const events: Ev[] = raw.map((e) => ({ key: e.key, w: e.w, t: NOW + Math.round(e.u * spanHl * hl) }));
            const d = build(events, hl, NOW);
            const last = Math.max(...events.map((e) => e.t));
            const t = last + Math.round(after * hl);
            for (const key of ['a', 'b', 'c']) {
              const want = closedForm(events, key, t, hl);
              expect(Math.abs(d.get(key, t) - want)).toBeLessThanOrEqual(1e-9 * want + events.length * 2 ** -60);
            }
          },
        ),
        { seed: 424242, numRuns: 300 },
      );
    });

    it('without a rebase (under 200 half-lives from the frame), at any time before, during or after: 1e-9 relative', () => {
      fc.assert(
        fc.property(
          h,
          fc.array(event(0), { minLength: 1, maxLength: 60 }),
          fc.double({ min: -50, max: 300, noNaN: true }),
          (hl, raw, at) => {
            const events: Ev[] = raw.map((e) => ({ key: e.key, w: e.w, t: NOW + Math.round(e.u * 150 * hl) }));
            const d = build(events, hl, NOW);
            const t = NOW + Math.round(at * hl);
            for (const key of ['a', 'b', 'c']) expect(relErr(d.get(key, t), closedForm(events, key, t, hl))).toBeLessThan(1e-9);
          },
        ),
        { seed: 777, numRuns: 300 },
      );
    });
  });

  it('property: CoVisitation totals and counts match the closed form for reads up to 24 h late, in any order', () => {
    // Same closed form with w = 1 per read; events may arrive up to 24 h late (config eventMaxPastMs),
    // which is up to 1440 half-lives at the smallest half-life (1 min). 1e-9 relative + n·2^-60.
    fc.assert(
      fc.property(
        fc.integer({ min: MIN, max: 24 * HOUR }),
        fc.array(
          fc.record({
            key: fc.constantFrom('a', 'b', 'c'),
            reader: fc.constantFrom('r1', 'r2'),
            late: fc.integer({ min: 0, max: 24 * HOUR }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (hl, raw, after) => {
          const co = new CoVisitation({ halfLifeMs: hl, windowMs: 6 * HOUR, lookback: 10, maxNeighbours: 300 });
          const events: Ev[] = raw.map((e) => ({ key: e.key, w: 1, t: NOW - e.late }));
          raw.forEach((e, i) => co.add({ kind: 'read', readerId: e.reader, articleId: e.key, ts: events[i]!.t }));
          const t = Math.max(...events.map((e) => e.t)) + Math.round(after * hl);
          const tol = (want: number) => 1e-9 * want + events.length * 2 ** -60;
          const total = events.reduce((sum, e) => sum + 2 ** (-(t - e.t) / hl), 0);
          expect(Math.abs(co.totalAt(t) - total)).toBeLessThanOrEqual(tol(total));
          for (const key of ['a', 'b', 'c']) {
            const want = closedForm(events, key, t, hl);
            expect(Math.abs(co.count(key, t) - want)).toBeLessThanOrEqual(tol(want));
          }
        },
      ),
      { seed: 8080, numRuns: 300 },
    );
  });
});
