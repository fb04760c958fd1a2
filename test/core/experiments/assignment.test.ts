/**
 * Assignment of readers to arms (core, pure): determinism within a phase, the split against the
 * weights, coverage, layers, phases, weight validation and experiment parsing. Property tests use
 * fast-check; its seed is printed on a failure, so any counterexample can be replayed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignArm,
  normaliseWeights,
  overlaps,
  parseExperiment,
  phaseSeed,
  type Experiment,
  type Phase,
} from '../../../src/core/experiments/experiment.js';
import type { HashVersion } from '../../../src/core/experiments/hash.js';
import { domainError } from '../../helpers/errors.js';

const T = Date.parse('2026-03-01T12:00:00Z');

/** A running experiment in phase 1 with the given weights and coverage (arms a0, a1, ...). */
function running(weights: readonly number[], over: Partial<Experiment> = {}, coverage = 1): Experiment {
  const phase1: Phase = { phase: 1, startedTs: T, weights: [...weights], coverage, reRandomised: false };
  return {
    id: 'exp',
    placement: 'read-next',
    kind: 'ab',
    description: null,
    layer: 'default',
    rangeStart: 0,
    rangeEnd: 1,
    coverage,
    arms: weights.map((w, i) => ({ name: `a${i}`, recommender: { kind: 'latest', version: '1' }, weight: w })),
    hashVersion: 2,
    seed: 'exp',
    status: 'running',
    phase: 1,
    phases: [phase1],
    createdTs: T,
    startedTs: T,
    stoppedTs: null,
    ...over,
  };
}

/** The experiment after a change of weights/coverage: a new phase, re-randomised or not. */
function nextPhase(e: Experiment, weights: readonly number[], coverage = e.coverage, reRandomised = false): Experiment {
  const phase = e.phase + 1;
  return {
    ...e,
    phase,
    coverage,
    arms: e.arms.map((a, i) => ({ ...a, weight: weights[i]! })),
    phases: [...e.phases, { phase, startedTs: T + phase, weights: [...weights], coverage, reRandomised }],
  };
}

/** 2 to 5 positive weights summing to 1 (from integers, so every arm has a real share). */
const weightsArb = fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 5 }).map((ws) => {
  const s = ws.reduce((a, b) => a + b, 0);
  return ws.map((w) => w / s);
});
const readerArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const seedArb = fc.string({ minLength: 1, maxLength: 20 });
const versionArb = fc.constantFrom<HashVersion>(1, 2);

describe('determinism', () => {
  it('the same reader always gets the same arm within a phase, for any reader id (non-ASCII included), seed and hash version', () => {
    fc.assert(
      fc.property(
        weightsArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        seedArb,
        versionArb,
        readerArb,
        fc.array(readerArb, { maxLength: 5 }),
        (w, cov, seed, v, reader, others) => {
          const e = running(w, { seed, hashVersion: v }, cov);
          const first = assignArm(e, reader);
          // Other readers in between and a stored/reloaded copy (JSON, as the database holds it) change nothing.
          for (const o of others) assignArm(e, o);
          expect(assignArm(e, reader)).toEqual(first);
          expect(assignArm(JSON.parse(JSON.stringify(e)) as Experiment, reader)).toEqual(first);
          if (first) expect(first.name).toBe(e.arms[first.arm]!.name);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the observed split over 20,000 readers', () => {
  // Each reader falls in arm i with probability p_i = coverage·w_i, so the observed share over n
  // readers has binomial SD sqrt(p_i(1 − p_i)/n) <= sqrt(0.25/20000) ≈ 0.0035. We accept
  // |observed − p_i| <= 5·SD + slack: 5 SD because fast-check draws ~60 (arm, run) comparisons per
  // run and a hash that splits like a fair die would still fail one with probability < 4e-5;
  // plus a grid slack because v2 positions are multiples of 1/10,000, so a range holds up to one grid
  // point more or less than its width says. Arm i owns one range [c_i, c_i + coverage·w_i) (c_i the
  // cumulative weight, GrowthBook's bucket ranges), so its slack is 1e-4; the readers left out fall in
  // the k gaps after the k ranges, so theirs is k·1e-4 (a 5-arm test at coverage 0.9998 has 0.0002 of
  // width spread over 5 gaps that can hold 5 grid points). The SD is taken at the share the grid allows
  // (p + slack, capped at 0.5), since for tiny p the count is nearer Poisson than normal.
  const N = 20_000;
  const readers = Array.from({ length: N }, (_, i) => `reader-${i}`);

  it('every arm gets its weight × coverage, and 1 − coverage stays out', () => {
    fc.assert(
      fc.property(weightsArb, fc.double({ min: 0.2, max: 1, noNaN: true }), seedArb, (w, cov, seed) => {
        const e = running(w, { seed }, cov);
        const counts = new Array<number>(w.length + 1).fill(0);
        for (const r of readers) {
          const got = assignArm(e, r);
          counts[got ? got.arm : w.length]!++;
        }
        const expected = [...w.map((wi) => wi * cov), 1 - cov];
        expected.forEach((p, i) => {
          const slack = (i === w.length ? w.length : 1) * 1e-4;
          const q = Math.min(0.5, p + slack);
          const tolerance = 5 * Math.sqrt((q * (1 - q)) / N) + slack;
          expect(Math.abs(counts[i]! / N - p), `arm ${i}: ${counts[i]} of ${N}, expected share ${p}`).toBeLessThanOrEqual(tolerance);
        });
      }),
      { numRuns: 20 },
    );
  });

  it('a 50/30/20 split on a fixed seed, hash v1 and v2', () => {
    for (const hashVersion of [1, 2] as const) {
      const e = running([0.5, 0.3, 0.2], { seed: 'homepage-rn-2026', hashVersion });
      const counts = [0, 0, 0];
      for (const r of readers) counts[assignArm(e, r)!.arm]!++;
      // v1 positions are multiples of 1/1000: one grid point is worth 1e-3 of share.
      [0.5, 0.3, 0.2].forEach((p, i) =>
        expect(Math.abs(counts[i]! / N - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / N) + (hashVersion === 1 ? 1e-3 : 1e-4)),
      );
    }
  });
});

describe('coverage', () => {
  it('coverage 0 assigns nobody; coverage 1 assigns everybody (one layer slice covering [0, 1))', () => {
    fc.assert(
      fc.property(weightsArb, readerArb, (w, r) => {
        expect(assignArm(running(w, {}, 0), r)).toBeUndefined();
        expect(assignArm(running(w, {}, 1), r)).toBeDefined();
      }),
    );
  });

  it('lowering coverage never moves an assigned reader to another arm: they stay or leave', () => {
    fc.assert(
      fc.property(
        weightsArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        seedArb,
        versionArb,
        readerArb,
        (w, c1, c2, seed, v, r) => {
          const [low, high] = c1 <= c2 ? [c1, c2] : [c2, c1];
          const before = assignArm(running(w, { seed, hashVersion: v }, high), r);
          const after = assignArm(running(w, { seed, hashVersion: v }, low), r);
          if (after) expect(after).toEqual(before);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('layers (namespaces)', () => {
  it('two experiments with disjoint ranges of one layer never both assign a reader; together they cover the layer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 999 }),
        fc.string({ minLength: 1, maxLength: 10 }),
        fc.array(readerArb, { minLength: 1, maxLength: 50 }),
        (cut, layer, readers) => {
          const x = cut / 1000;
          const a = running([0.5, 0.5], { id: 'a', seed: 'a', layer, rangeStart: 0, rangeEnd: x });
          const b = running([0.5, 0.5], { id: 'b', seed: 'b', layer, rangeStart: x, rangeEnd: 1 });
          expect(overlaps(a, b)).toBe(false);
          for (const r of readers) {
            const inA = assignArm(a, r) !== undefined;
            const inB = assignArm(b, r) !== undefined;
            expect(inA && inB).toBe(false);
            // With coverage 1 every reader of the layer is in exactly one of the two slices.
            expect(inA || inB).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a slice takes its share of readers (20,000 readers, 30% slice, 5 SD)', () => {
    const e = running([0.5, 0.5], { layer: 'homepage', rangeStart: 0.2, rangeEnd: 0.5 });
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (assignArm(e, `reader-${i}`)) n++;
    // The layer hash is v1 (GrowthBook namespaces): positions are multiples of 1/1000.
    expect(Math.abs(n / 20_000 - 0.3)).toBeLessThanOrEqual(5 * Math.sqrt((0.3 * 0.7) / 20_000) + 1e-3);
  });

  it('overlaps: same layer and intersecting [start, end) slices only', () => {
    const s = (layer: string, rangeStart: number, rangeEnd: number) => ({ layer, rangeStart, rangeEnd });
    expect(overlaps(s('L', 0, 0.6), s('L', 0.5, 1))).toBe(true);
    expect(overlaps(s('L', 0, 1), s('L', 0.2, 0.3))).toBe(true);
    expect(overlaps(s('L', 0, 0.5), s('L', 0.5, 1))).toBe(false); // touching ends: [0, 0.5) and [0.5, 1) are disjoint
    expect(overlaps(s('L', 0, 1), s('M', 0, 1))).toBe(false);
    // Slices on a 1/1000 grid overlap exactly when some point of the finer 1/2000 grid lies in both.
    const end = fc.integer({ min: 0, max: 1000 });
    fc.assert(
      fc.property(fc.tuple(end, end), fc.tuple(end, end), ([a0, a1], [b0, b1]) => {
        // parseExperiment refuses empty slices (start < end), so they are not generated.
        fc.pre(a0 !== a1 && b0 !== b1);
        const a = s('L', Math.min(a0, a1) / 1000, Math.max(a0, a1) / 1000);
        const b = s('L', Math.min(b0, b1) / 1000, Math.max(b0, b1) / 1000);
        const shared = Array.from({ length: 2000 }, (_, k) => k / 2000).some(
          (m) => m >= a.rangeStart && m < a.rangeEnd && m >= b.rangeStart && m < b.rangeEnd,
        );
        expect(overlaps(a, b)).toBe(shared);
        expect(overlaps(b, a)).toBe(shared);
      }),
    );
  });
});

describe('phases', () => {
  it('a new phase with changed weights keeps the earlier arm of an exposed reader', () => {
    fc.assert(
      fc.property(
        weightsArb,
        seedArb,
        readerArb,
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 5, maxLength: 5 }),
        (w1, seed, r, raw) => {
          const e1 = running(w1, { seed });
          const first = assignArm(e1, r)!;
          const w2 = raw.slice(0, w1.length);
          const s2 = w2.reduce((a, b) => a + b, 0);
          const e2 = nextPhase(
            e1,
            w2.map((x) => x / s2),
          );
          expect(assignArm(e2, r, { arm: first.name, phase: 1 })).toEqual(first);
          // Still kept two changes later, as long as no phase re-randomised.
          const e3 = nextPhase(e2, w1, 0.5);
          expect(assignArm(e3, r, { arm: first.name, phase: 1 })).toEqual(first);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a reader first seen in the new phase is hashed with the new weights', () => {
    const e1 = running([0.5, 0.5]);
    const e2 = nextPhase(e1, [0.1, 0.9]);
    let a0 = 0;
    for (let i = 0; i < 20_000; i++) if (assignArm(e2, `new-${i}`)!.arm === 0) a0++;
    expect(Math.abs(a0 / 20_000 - 0.1)).toBeLessThanOrEqual(5 * Math.sqrt((0.1 * 0.9) / 20_000) + 1e-4);
  });

  it('a re-randomised phase ignores the earlier arm: assignment follows the new seed', () => {
    fc.assert(
      fc.property(weightsArb, seedArb, readerArb, (w, seed, r) => {
        const e1 = running(w, { seed });
        const first = assignArm(e1, r)!;
        const e2 = nextPhase(e1, w, 1, true);
        expect(phaseSeed(e2, 2)).not.toBe(phaseSeed(e2, 1));
        const fresh = assignArm(e2, r);
        expect(assignArm(e2, r, { arm: first.name, phase: 1 })).toEqual(fresh);
        // The phase after it (not re-randomised) keeps the arm drawn in the re-randomised phase.
        const e3 = nextPhase(e2, w, 1, false);
        expect(phaseSeed(e3, 3)).toBe(phaseSeed(e3, 2));
        expect(assignArm(e3, r, { arm: fresh!.name, phase: 2 })).toEqual(fresh);
      }),
      { numRuns: 500 },
    );
  });

  it('re-randomising really reshuffles: about half of 2,000 readers change arm on a 50/50 split (5 SD)', () => {
    const e1 = running([0.5, 0.5]);
    const e2 = nextPhase(e1, [0.5, 0.5], 1, true);
    let moved = 0;
    for (let i = 0; i < 2000; i++) {
      const r = `reader-${i}`;
      const first = assignArm(e1, r)!;
      if (assignArm(e2, r, { arm: first.name, phase: 1 })!.arm !== first.arm) moved++;
    }
    expect(Math.abs(moved / 2000 - 0.5)).toBeLessThanOrEqual(5 * Math.sqrt(0.25 / 2000));
  });

  it('an earlier arm that no longer exists is ignored; an "earlier" from the current phase changes nothing', () => {
    const e2 = nextPhase(running([0.5, 0.5]), [0.2, 0.8]);
    expect(assignArm(e2, 'r-1', { arm: 'gone', phase: 1 })).toEqual(assignArm(e2, 'r-1'));
    const fresh = assignArm(e2, 'r-1')!;
    const other = e2.arms[1 - fresh.arm]!.name;
    expect(assignArm(e2, 'r-1', { arm: other, phase: 2 })).toEqual(fresh);
  });
});

describe('normaliseWeights', () => {
  it('normalises weights whose sum is within 0.001 of 1 (result sums to 1 within 1e-12, proportions kept)', () => {
    fc.assert(
      fc.property(weightsArb, fc.double({ min: -0.000999, max: 0.000999, noNaN: true }), (w, delta) => {
        const off = w.map((x) => Math.min(1, x * (1 + delta)));
        const got = normaliseWeights(off);
        expect(Math.abs(got.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
        got.forEach((g, i) => expect(Math.abs(g / got[0]! - off[i]! / off[0]!)).toBeLessThanOrEqual(1e-12));
      }),
    );
    expect(normaliseWeights([0.5, 0.5005])).toEqual([0.5 / 1.0005, 0.5005 / 1.0005]);
  });

  it('rejects sums off by more than 0.001 with invalid_weights', () => {
    fc.assert(
      fc.property(
        weightsArb,
        fc.oneof(fc.double({ min: -0.9, max: -0.0011, noNaN: true }), fc.double({ min: 0.0011, max: 0.9, noNaN: true })),
        (w, delta) => {
          const off = w.map((x) => x * (1 + delta));
          const err = domainError(() => normaliseWeights(off));
          // A weight pushed above 1 is caught first, by the per-weight check.
          expect(err.code).toBe(off.some((x) => x > 1) ? 'invalid_field' : 'invalid_weights');
        },
      ),
    );
    expect(domainError(() => normaliseWeights([0.5, 0.502])).code).toBe('invalid_weights');
    expect(domainError(() => normaliseWeights([0.3, 0.3, 0.3])).code).toBe('invalid_weights');
  });

  it('rejects a negative, non-finite or above-1 weight, naming it', () => {
    for (const [w, field] of [
      [[0.5, -0.1, 0.6], 'arms/1/weight'],
      [[Number.NaN, 1], 'arms/0/weight'],
      [[1.5, -0.5], 'arms/0/weight'],
    ] as const) {
      expect(domainError(() => normaliseWeights(w))).toMatchObject({ code: 'invalid_field', field });
    }
    expect(domainError(() => normaliseWeights([0.5, 0.6], 'weights'))).toMatchObject({ code: 'invalid_weights', field: 'weights' });
  });
});

describe('parseExperiment', () => {
  const arms = [
    { name: 'control', recommender: { kind: 'none', version: '1' } },
    { name: 'treatment', recommender: { kind: 'co-read', version: '2', params: { minSupport: 3 } } },
  ];

  it('fills the documented defaults: A/B, layer "default", the whole range, full coverage, equal weights, hash v2, seed = id, a draft', () => {
    expect(parseExperiment({ id: 'rn-1', placement: 'read-next', arms }, T)).toEqual({
      id: 'rn-1',
      placement: 'read-next',
      kind: 'ab',
      description: null,
      layer: 'default',
      rangeStart: 0,
      rangeEnd: 1,
      coverage: 1,
      arms: [
        { name: 'control', recommender: { kind: 'none', version: '1' }, weight: 0.5 },
        { name: 'treatment', recommender: { kind: 'co-read', version: '2', params: { minSupport: 3 } }, weight: 0.5 },
      ],
      hashVersion: 2,
      seed: 'rn-1',
      status: 'draft',
      phase: 0,
      phases: [],
      createdTs: T,
      startedTs: null,
      stoppedTs: null,
      primaryMetric: 'articles_read',
      guardrailMetrics: ['conversion', 'dwell_per_read'],
    });
  });

  it('normalises weights within tolerance', () => {
    const e = parseExperiment(
      {
        id: 'rn-2',
        placement: 'read-next',
        arms: [
          { ...arms[0], weight: 0.3 },
          { ...arms[1], weight: 0.7004 },
        ],
      },
      T,
    );
    expect(e.arms.map((a) => a.weight).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  const base = { id: 'rn-3', placement: 'read-next', arms };
  it.each([
    ['not an object', [], 'invalid_body', undefined],
    ['an unknown field', { ...base, colour: 'red' }, 'unknown_field', 'colour'],
    ['a bad id', { ...base, id: 'has space' }, 'invalid_field', 'id'],
    ['an empty placement', { ...base, placement: '' }, 'invalid_field', 'placement'],
    ['an unknown kind', { ...base, kind: 'bandit' }, 'invalid_field', 'kind'],
    ['a range that is not a pair', { ...base, range: [0.5] }, 'invalid_field', 'range'],
    ['a range end above 1', { ...base, range: [0, 2] }, 'invalid_field', 'range/1'],
    ['a range start below 0', { ...base, range: [-0.1, 1] }, 'invalid_field', 'range/0'],
    ['an empty range', { ...base, range: [0.5, 0.5] }, 'invalid_field', 'range'],
    ['coverage above 1', { ...base, coverage: 1.5 }, 'invalid_field', 'coverage'],
    ['a single arm', { ...base, arms: [arms[0]] }, 'invalid_field', 'arms'],
    [
      'an interleaving with three arms',
      { ...base, kind: 'interleaving', arms: [...arms, { name: 'third', recommender: { kind: 'latest', version: '1' } }] },
      'invalid_field',
      'arms',
    ],
    ['two arms with one name', { ...base, arms: [arms[0], { ...arms[1], name: 'control' }] }, 'invalid_field', 'arms/1/name'],
    ['a bad arm name', { ...base, arms: [arms[0], { ...arms[1], name: '-x' }] }, 'invalid_field', 'arms/1/name'],
    ['an unknown arm field', { ...base, arms: [{ ...arms[0], colour: 'red' }, arms[1]] }, 'unknown_field', 'arms/0/colour'],
    ['an arm without recommender', { ...base, arms: [{ name: 'control' }, arms[1]] }, 'invalid_field', 'arms/0/recommender'],
    ['an arm that is not an object', { ...base, arms: [arms[0], 'b'] }, 'invalid_field', 'arms/1'],
    [
      'weights summing to 1.1',
      {
        ...base,
        arms: [
          { ...arms[0], weight: 0.5 },
          { ...arms[1], weight: 0.6 },
        ],
      },
      'invalid_weights',
      'arms',
    ],
    [
      'a weight above 1',
      {
        ...base,
        arms: [
          { ...arms[0], weight: 1.5 },
          { ...arms[1], weight: -0.5 },
        ],
      },
      'invalid_field',
      'arms/0/weight',
    ],
    ['hash version 3', { ...base, hashVersion: 3 }, 'invalid_field', 'hashVersion'],
    ['an empty seed', { ...base, seed: '' }, 'invalid_field', 'seed'],
  ] as const)('rejects %s', (_what, input, code, field) => {
    expect(domainError(() => parseExperiment(input, T))).toMatchObject({ code, field });
  });
});
