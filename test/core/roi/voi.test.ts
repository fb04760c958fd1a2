/**
 * Value of information (src/core/roi/voi.ts) against closed forms and a hand-enumerated model.
 * Samples are drawn with a seeded Rng through Φ⁻¹ (normalQuantile), so every figure is fixed.
 * Tolerances: Monte Carlo estimates within 3 of their own standard errors of the exact value
 * (about 1 failure in 370 per figure if the SE is right); the SE's calibration over 30 seeds is
 * checked separately (coverage of ±2 SE, and the spread of the 30 estimates against the SEs).
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/core/kernel/errors.js';
import { type Rng, seededRng } from '../../../src/core/kernel/rng.js';
import { evpi, evppi, evppiAll, evsi, evsiNormalLinear, optimalTestSize, summarize } from '../../../src/core/roi/voi.js';
import { normalCdf, normalPdf, normalQuantile } from '../../../src/core/stats/distributions.js';

/** n draws of N(mean, sd²) as Φ⁻¹ of the Rng's uniforms (shifted by 2^-33 off 0). */
function normals(rng: Rng, n: number, mean = 0, sd = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + sd * normalQuantile(rng.next() + 2 ** -33);
  return out;
}

function map(n: number, f: (i: number) => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

/** E[max(0, Y)] − max(0, μ) for Y ~ N(μ, σ²): μΦ(μ/σ) + σφ(μ/σ) − max(0, μ). */
const normalVoi = (mu: number, sigma: number): number => mu * normalCdf(mu / sigma) + sigma * normalPdf(mu / sigma) - Math.max(0, mu);

/** |estimate − truth| ≤ k·SE, with the numbers in the message when it fails. */
function within(e: { value: number; se: number }, truth: number, k = 3): void {
  expect(Math.abs(e.value - truth), `${e.value} ± ${e.se} vs ${truth}`).toBeLessThanOrEqual(k * e.se);
}

/** The example: a = 0, b = p1 − p2, p1 ~ N(1, 1), p2 ~ N(0, 2²); z ~ N(0, 1) affects nothing. */
function twoOptions(seed: number, n: number) {
  const rng = seededRng(seed);
  const p1 = normals(rng, n, 1, 1);
  const p2 = normals(rng, n, 0, 2);
  const z = normals(rng, n);
  const options = new Map([
    ['a', new Float64Array(n)],
    ['b', map(n, (i) => p1[i]! - p2[i]!)],
  ]);
  return { p1, p2, z, options };
}

const EVPI_TWO = normalVoi(1, Math.sqrt(5)); // b ~ N(1, 5)
const EVPPI_P1 = normalCdf(1) + normalPdf(1) - 1; // E(b | p1) = p1 ~ N(1, 1)
const EVPPI_P2 = normalCdf(0.5) + 2 * normalPdf(0.5) - 1; // E(b | p2) = 1 − p2 ~ N(1, 2²)

describe('summarize', () => {
  it("gives numpy's linear quantiles (np.quantile([1, 2, 3, 4, 10], [.05, .25, .5, .75, .95]) = 1.2, 2, 3, 4, 8.8)", () => {
    const s = summarize(new Map([['x', new Float64Array([4, 10, 1, 3, 2])]]));
    const q = s.options.x!.quantiles;
    expect([q.p5, q.p25, q.p50, q.p75, q.p95].map((v) => Number(v.toFixed(12)))).toEqual([1.2, 2, 3, 4, 8.8]);
    expect(s.options.x!.mean).toBe(4);
    expect(s.options.x!.mean_se).toBeCloseTo(Math.sqrt(12.5 / 5), 12); // sample variance 12.5
  });

  it('gives the normal model its mean, quantiles, P(> 0) and P(best) (3 SE; quantiles to 0.02)', () => {
    const n = 200_000;
    const { options } = twoOptions(1, n);
    const s = summarize(options);
    const b = s.options.b!;
    expect(s.best).toBe('b');
    expect(Math.abs(b.mean - 1)).toBeLessThanOrEqual(3 * b.mean_se);
    expect(b.mean_se).toBeCloseTo(Math.sqrt(5 / n), 4);
    const pPos = normalCdf(1 / Math.sqrt(5));
    const binSe = Math.sqrt((pPos * (1 - pPos)) / n);
    expect(Math.abs(b.p_positive - pPos)).toBeLessThanOrEqual(3 * binSe);
    expect(b.p_best).toBe(b.p_positive); // a = 0: b is best exactly when b > 0
    expect(s.options.a!.p_best + b.p_best).toBe(1);
    const q = b.quantiles;
    const z = (p: number) => 1 + Math.sqrt(5) * normalQuantile(p);
    for (const [got, p] of [
      [q.p5, 0.05],
      [q.p25, 0.25],
      [q.p50, 0.5],
      [q.p75, 0.75],
      [q.p95, 0.95],
    ] as const)
      expect(Math.abs(got - z(p))).toBeLessThan(0.02);
  });

  it('counts ties for the first option and picks the first best mean', () => {
    const s = summarize(
      new Map([
        ['x', new Float64Array([1, 2])],
        ['y', new Float64Array([1, 2])],
      ]),
    );
    expect(s.best).toBe('x');
    expect(s.options.x!.p_best).toBe(1);
    expect(s.options.y!.p_best).toBe(0);
  });
});

describe('EVPI and EVPPI against closed forms (200,000 samples, within 3 SE)', () => {
  const { p1, p2, z, options } = twoOptions(2, 200_000);

  it('EVPI = μΦ(μ/σ) + σφ(μ/σ) − max(0, μ), μ = 1, σ = √5', () => {
    const e = evpi(options);
    within(e, EVPI_TWO);
    expect(e.se).toBeLessThan(0.01 * EVPI_TWO);
  });

  it('EVPPI(p1) = Φ(1) + φ(1) − 1 and EVPPI(p2) = Φ(0.5) + 2φ(0.5) − 1', () => {
    within(evppi(p1, options), EVPPI_P1);
    within(evppi(p2, options), EVPPI_P2);
  });

  it('is about 0 for an input that does not change the decision (within 3 SE of 0, and < 1e-4)', () => {
    // E(b | z) = 1 everywhere; only the fit's noise in the sparse far tail of z can dip below 0.
    const e = evppi(z, options);
    within(e, 0);
    expect(e.value).toBeLessThan(1e-4);
  });

  it('evppiAll gives the same numbers as evppi', () => {
    const all = evppiAll(
      new Map([
        ['p1', p1],
        ['p2', p2],
      ]),
      options,
    );
    expect(all.get('p1')).toEqual(evppi(p1, options));
    expect(all.get('p2')).toEqual(evppi(p2, options));
  });

  it('stays small for an irrelevant input when the decision is a near tie (the fit noise bias)', () => {
    // b' = p1 − p2 − 1 has mean 0: the noise of the fitted E(b' | z) crosses 0, which is the
    // estimator's O(√(p/n)) upward bias; EVPI is 0.89 here.
    const tied = new Map([
      ['a', options.get('a')!],
      ['b', map(200_000, (i) => p1[i]! - p2[i]! - 1)],
    ]);
    const e = evppi(z, tied);
    expect(e.value).toBeGreaterThanOrEqual(0);
    expect(e.value).toBeLessThan(0.005);
  });

  it('follows a nonlinear and a kinked conditional mean (spline): EVPPI = 2φ(1) and φ(½) − ½(1 − Φ(½))', () => {
    const n = 200_000;
    const rng = seededRng(3);
    const x = normals(rng, n);
    const e = normals(rng, n);
    // b = x² − 1 + 2e: E(b | x) = x² − 1, E[max(0, x² − 1)] = 2φ(1) (and E b = 0).
    const square = evppi(
      x,
      new Map([
        ['a', new Float64Array(n)],
        ['b', map(n, (i) => x[i]! ** 2 - 1 + 2 * e[i]!)],
      ]),
    );
    within(square, 2 * normalPdf(1));
    // b = max(x, 0) − ½ + e: E[max(0, max(x, 0) − ½)] = E[(x − ½)+], and E b = φ(0) − ½ < 0.
    const kink = evppi(
      x,
      new Map([
        ['a', new Float64Array(n)],
        ['b', map(n, (i) => Math.max(x[i]!, 0) - 0.5 + e[i]!)],
      ]),
    );
    within(kink, normalPdf(0.5) - 0.5 * (1 - normalCdf(0.5)));
  });
});

describe('a discrete model enumerated by hand', () => {
  // A ∈ {0, 1, 2} with P = .2, .5, .3; B ∈ {−1, +1} with P = .6, .4; independent.
  // Options: a = 1, b = A(1 + B), c = 1.5 − 0.5A. Joint table (prob: a, b, c → best):
  //   (0,−1) .12: 1, 0, 1.5 → c 1.5     (0,+1) .08: 1, 0, 1.5 → c 1.5
  //   (1,−1) .30: 1, 0, 1.0 → a 1 (tie with c: a first)    (1,+1) .20: 1, 2, 1.0 → b 2
  //   (2,−1) .18: 1, 0, 0.5 → a 1       (2,+1) .12: 1, 4, 0.5 → b 4
  // E a = 1, E b = .4 + .48 = .88, E c = 1.5 − .5·1.1 = .95: a is best by mean.
  // E max = .18 + .12 + .30 + .40 + .18 + .48 = 1.66, so EVPI = 0.66.
  // Given A (E(1 + B) = 0.8): A=0: max(1, 0, 1.5) = 1.5; A=1: max(1, .8, 1) = 1; A=2: max(1, 1.6, .5) = 1.6
  //   → EVPPI(A) = .2·1.5 + .5·1 + .3·1.6 − 1 = 0.28.
  // Given B (E A = 1.1): B=−1: max(1, 0, .95) = 1; B=+1: max(1, 2.2, .95) = 2.2 → EVPPI(B) = .6 + .88 − 1 = 0.48.
  // P(best): a .48, b .32, c .20; P(> 0): a 1, b .32, c 1.
  const n = 100_000;
  const rng = seededRng(4);
  const A = map(n, () => {
    const u = rng.next();
    return u < 0.2 ? 0 : u < 0.7 ? 1 : 2;
  });
  const B = map(n, () => (rng.next() < 0.6 ? -1 : 1));
  const options = new Map([
    ['a', map(n, () => 1)],
    ['b', map(n, (i) => A[i]! * (1 + B[i]!))],
    ['c', map(n, (i) => 1.5 - 0.5 * A[i]!)],
  ]);

  it('matches EVPI = 0.66, EVPPI(A) = 0.28, EVPPI(B) = 0.48 within 3 SE', () => {
    within(evpi(options), 0.66);
    within(evppi(A, options), 0.28);
    within(evppi(B, options), 0.48);
  });

  it('matches P(best) and P(> 0) within 3 binomial SE', () => {
    const s = summarize(options);
    expect(s.best).toBe('a');
    const check = (got: number, p: number) => expect(Math.abs(got - p)).toBeLessThanOrEqual(3 * Math.sqrt((p * (1 - p)) / n) + 1e-12);
    check(s.options.a!.p_best, 0.48);
    check(s.options.b!.p_best, 0.32);
    check(s.options.c!.p_best, 0.2);
    check(s.options.b!.p_positive, 0.32);
    expect(s.options.a!.p_positive).toBe(1);
    expect(s.options.c!.p_positive).toBe(1);
  });
});

describe('standard errors are calibrated (30 seeds × 20,000 samples)', () => {
  // For each estimator: the share of seeds whose estimate is within 2 SE of the exact value
  // (expected 95%; asserted ≥ 25/30, P(≤ 24 | 95%) ≈ 1.6%), and the ratio of the 30 estimates'
  // SD to the root mean square of the reported SEs (expected 1; asserted in [0.7, 1.4], about
  // ±2.5 times the SD's own relative error of 1/√58 ≈ 13%).
  const seeds = Array.from({ length: 30 }, (_, k) => 100 + k);
  const n = 20_000;
  const C = 0.7;
  const runs = seeds.map((seed) => {
    const { p1, p2, options } = twoOptions(seed, n);
    const rng = seededRng(seed + 1000);
    const x = normals(rng, n);
    const e = normals(rng, n);
    const zero = new Float64Array(n);
    const square = new Map([
      ['a', zero],
      ['b', map(n, (i) => x[i]! ** 2 - C + 2 * e[i]!)],
    ]);
    const tie = new Map([
      ['a', zero],
      ['b', map(n, (i) => x[i]! ** 2 - 1 + 2 * e[i]!)],
    ]);
    return { evpi: evpi(options), p1: evppi(p1, options), p2: evppi(p2, options), square: evppi(x, square), tie: evppi(x, tie) };
  });
  const stats = (key: keyof (typeof runs)[number], truth: number) => {
    const est = runs.map((r) => r[key]);
    const covered = est.filter((e) => Math.abs(e.value - truth) <= 2 * e.se).length;
    const mean = est.reduce((s, e) => s + e.value, 0) / est.length;
    const sd = Math.sqrt(est.reduce((s, e) => s + (e.value - mean) ** 2, 0) / (est.length - 1));
    const rmsSe = Math.sqrt(est.reduce((s, e) => s + e.se * e.se, 0) / est.length);
    return {
      covered,
      ratio: sd / rmsSe,
      text: `${key}: ${covered}/30 within 2 SE, SD/SE ${(sd / rmsSe).toFixed(3)}, (mean − truth)/SE ${((mean - truth) / rmsSe).toFixed(3)}`,
    };
  };

  it.each([
    ['evpi', EVPI_TWO],
    ['p1', EVPPI_P1],
    ['p2', EVPPI_P2],
    // b = x² − 0.7 + 2e: E[max(0, x² − c)] − 0.3 = 2(√c φ(√c) + (1 − c)(1 − Φ(√c))) − 0.3, c = 0.7
    ['square', 2 * (Math.sqrt(C) * normalPdf(Math.sqrt(C)) + (1 - C) * (1 - normalCdf(Math.sqrt(C)))) - 0.3],
  ] as const)('%s: coverage of ±2 SE and SD/SE ratio', (key, truth) => {
    const s = stats(key, truth);
    expect(s.covered, s.text).toBeGreaterThanOrEqual(25);
    expect(s.ratio, s.text).toBeGreaterThan(0.7);
    expect(s.ratio, s.text).toBeLessThan(1.4);
  });

  it('is conservative when the options tie exactly in mean (b = x² − 1 + 2e, E b = 0)', () => {
    // The delta method takes d* as fixed; at an exact tie −max_d mean NB_d moves with the data
    // and offsets part of the first term's noise (and biases the estimate down by ≈ 0.4·sd(b)/√n).
    const s = stats('tie', 2 * normalPdf(1));
    expect(s.covered, s.text).toBeGreaterThanOrEqual(25);
    expect(s.ratio, s.text).toBeLessThan(1);
  });
});

describe('EVSI of a planned A/B test', () => {
  // Uplift u ~ N(0.01, 0.02²); net values a = 0, b = 100u − 1.2 + w with w ~ N(0, 1) another input,
  // so E(b | u) = 100u − 1.2 (intercept −1.2, slope 100) and E b = −0.2; per-reader SD σ = 1.
  const n = 200_000;
  const rng = seededRng(5);
  const u = normals(rng, n, 0.01, 0.02);
  const w = normals(rng, n);
  const options = new Map([
    ['a', new Float64Array(n)],
    ['b', map(n, (i) => 100 * u[i]! - 1.2 + w[i]!)],
  ]);
  const lines = new Map([
    ['a', { intercept: 0, slope: 0 }],
    ['b', { intercept: -1.2, slope: 100 }],
  ]);
  const prior = { mean: 0.01, sd: 0.02 };
  const closed = (nPerArm: number) => evsiNormalLinear(lines, prior, { nPerArm, sdPerReader: 1 });

  it('closed form: two options reduce to normalVoi(μ, |Δb|τ), τ² = σ0⁴/(σ0² + 2σ²/n)', () => {
    for (const nPerArm of [100, 5000, 1e6]) {
      const tau = Math.sqrt(0.02 ** 4 / (0.02 ** 2 + 2 / nPerArm));
      expect(closed(nPerArm)).toBeCloseTo(normalVoi(-0.2, 100 * tau), 12);
    }
    expect(closed(Infinity)).toBeCloseTo(normalVoi(-0.2, 2), 12); // EVPPI(u)
    expect(closed(0)).toBe(0);
  });

  it('closed form with three options matches numerical integration (scipy.integrate.quad, 1e-10)', () => {
    // python: from scipy import integrate, stats; import numpy as np
    //   tau = np.sqrt(0.02**4 / (0.02**2 + 2/5000)); f = lambda m: max(0, -1 + 50*m, 0.5 - 30*m) * stats.norm.pdf(m, 0.01, tau)
    //   integrate.quad(f, -1, 1, points=[0.02, 1/60], epsabs=1e-13)[0] - max(0, -1 + 0.5, 0.5 - 0.3)  →  0.18754313181242666
    const three = new Map([
      ['a', { intercept: 0, slope: 0 }],
      ['b', { intercept: -1, slope: 50 }],
      ['c', { intercept: 0.5, slope: -30 }],
    ]);
    expect(evsiNormalLinear(three, prior, { nPerArm: 5000, sdPerReader: 1 })).toBeCloseTo(SCIPY_THREE, 10);
  });

  it('regression EVSI (Strong et al. 2015) matches the closed form within 3 SE, rises with n, tends to EVPPI(u)', () => {
    const ns = [100, 1000, 10_000, 100_000, 10_000_000];
    const got = ns.map((nPerArm) => evsi(u, options, { nPerArm, sdPerReader: 1 }, seededRng(9)));
    got.forEach((e, k) => within(e, closed(ns[k]!)));
    for (let k = 1; k < ns.length; k++) expect(closed(ns[k]!)).toBeGreaterThan(closed(ns[k - 1]!));
    for (let k = 1; k < ns.length; k++) expect(got[k]!.value).toBeGreaterThan(got[k - 1]!.value);
    const perfect = evppi(u, options);
    within(perfect, closed(Infinity));
    expect(Math.abs(got[got.length - 1]!.value - perfect.value)).toBeLessThan(0.002 * perfect.value + 2 * perfect.se);
    expect(evsi(u, options, { nPerArm: 0, sdPerReader: 1 }, seededRng(9))).toEqual({ value: 0, se: 0 });
  });

  it('is reproducible for a seed', () => {
    const t = { nPerArm: 2000, sdPerReader: 1 };
    expect(evsi(u, options, t, seededRng(11))).toEqual(evsi(u, options, t, seededRng(11)));
  });
});

describe('optimal test size', () => {
  const lines = new Map([
    ['a', { intercept: 0, slope: 0 }],
    ['b', { intercept: -1.2, slope: 100 }],
  ]);
  const prior = { mean: 0.01, sd: 0.02 };
  const at = (nPerArm: number) => ({ value: evsiNormalLinear(lines, prior, { nPerArm, sdPerReader: 1 }) });

  it('with no cost tests as large as the grid allows', () => {
    const r = optimalTestSize(at, { lossPerReader: 0 });
    expect(r.best.n).toBe(10_000_000);
    expect(r.table[0]).toEqual({ n: 0, evsi: 0, evsi_se: 0, cost: 0, net: 0 });
    expect(r.table.slice(1, 6).map((row) => row.n)).toEqual([100, 178, 316, 562, 1000]);
    expect(r.table.length).toBe(1 + 5 * 4 + 1);
  });

  it('with a huge cost does not test (n = 0)', () => {
    expect(optimalTestSize(at, { lossPerReader: 1e3 }).best.n).toBe(0);
    expect(optimalTestSize(at, { lossPerReader: 0, fixedCost: 1e3 }).best.n).toBe(0);
  });

  it('charges n·loss + delay·2n/readersPerDay + fixed and picks the largest net on the grid', () => {
    const cost = { lossPerReader: 2e-6, delayCostPerDay: 0.01, readersPerDay: 50_000, fixedCost: 0.05 };
    const r = optimalTestSize(at, cost, { min: 1000, max: 1_000_000, perDecade: 10 });
    for (const row of r.table.slice(1)) {
      expect(row.cost).toBeCloseTo(0.05 + row.n * 2e-6 + (0.01 * 2 * row.n) / 50_000, 12);
      expect(row.net).toBeCloseTo(row.evsi - row.cost, 12);
    }
    const best = Math.max(...r.table.map((row) => row.net));
    expect(r.best.net).toBe(best);
    expect(r.best.n).toBeGreaterThan(1000);
    expect(r.best.n).toBeLessThan(1_000_000); // an interior optimum: EVSI saturates, cost keeps rising
  });

  it('rejects a delay cost without a traffic figure', () => {
    expect(() => optimalTestSize(at, { lossPerReader: 0, delayCostPerDay: 1 })).toThrow(DomainError);
  });
});

describe('bad input', () => {
  it('names the field', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof DomainError ? `${e.code} ${e.field}` : String(e);
      }
      return 'no error';
    };
    expect(err(() => summarize(new Map()))).toBe('invalid_field options');
    expect(
      err(() =>
        evpi(
          new Map([
            ['a', new Float64Array(3)],
            ['b', new Float64Array(2)],
          ]),
        ),
      ),
    ).toBe('invalid_field options.b');
    expect(err(() => evpi(new Map([['a', new Float64Array([1, Number.NaN])]])))).toBe('invalid_field options.a');
    const ok = new Map([['a', new Float64Array(3)]]);
    expect(err(() => evppi(new Float64Array(2), ok, { inputName: 'p1' }))).toBe('invalid_field inputs.p1');
    expect(err(() => evsi(new Float64Array(3), ok, { nPerArm: 1.5, sdPerReader: 1 }, seededRng(1)))).toBe('invalid_field test.nPerArm');
    expect(err(() => evsi(new Float64Array(3), ok, { nPerArm: 10, sdPerReader: 0 }, seededRng(1)))).toBe('invalid_field test.sdPerReader');
  });
});

const SCIPY_THREE = 0.18754313181242666; // scipy 1.17.1, the python lines above
