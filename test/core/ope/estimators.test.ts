/**
 * Off-policy estimators against hand-worked rounds and a Monte Carlo closed form.
 *
 * Hand-worked window (K = 2, ε = ½ so π0 = ½·1[a = pool[p−1]] + 1/6 for a pool item):
 *
 *   round  pool   explored  shown  clicks  candidate  reward
 *   1      x y z  no        x y    1 0     x y        .5 .2
 *   2      x y z  yes       y z    0 1     x z        .4 .3
 *   3      y x z  yes       x y    1 1     x          .6
 *
 *   IPS weights w_ip = 1[b_p = a_p]/π0(a_p, p): round 1 [1/(2/3), 1/(2/3)] = [1.5, 1.5];
 *   round 2 [0 (x ≠ y), 1/(1/6) = 6]; round 3 [1/(1/6) = 6] (x is pool[1], not pool[0]).
 *   IPS y_i = Σ_p w_ip c_ip = [1.5, 6, 6]: V̂ = 4.5; sd = √((9 + 2.25 + 2.25)/2) = 2.598, SE = 1.5.
 *   SNIPS: R_1 = (1.5 + 6)/(1.5 + 6) = 1, R_2 = 6/(1.5 + 6) = 0.8, V̂ = 1.8; W̄ = [2.5, 2.5],
 *     ψ = [(0 − 0.8·1.5)/2.5, (6 − 0.8·6)/2.5, 0] = [−0.48, 0.48, 0], SE = √(0.4608/6) = 0.277128.
 *   PBM, θ = [1, ½]: weight = Σ_j 1[b_j = a]θ_j / Σ_j π0(a, j)θ_j.
 *     round 1: x at 1: 1/(2/3 + ½·1/6) = 4/3 (click); y at 2: ½/(1/6 + ½·2/3) = 1 (no click) → 4/3
 *     round 2: y: 0; z at 2: ½/(1/6 + ½·1/6) = 2 (click) → 2
 *     round 3: x at 1: 1/(1/6 + ½·2/3) = 2 (click); y: 0 → 2
 *     V̂ = 16/9 = 1.7778; deviations [−4/9, 2/9, 2/9], sd = √12/9, SE = 2/9.
 *   DR: y_i = Σ q̂ + Σ w(c − q̂): 0.7 + 1.5·0.5 + 1.5·(−0.2) = 1.15; 0.7 + 6·0.7 = 4.9; 0.6 + 6·0.4 = 3.0;
 *     V̂ = 3.016667, SE = 1.082564.
 *   ESS (IPS): per position (7.5)²/(1.5² + 6²) = 1.470588, mean 1.470588; PBM: positions
 *     (10/3)²/(16/9 + 4) = 1.923077 and 3²/(1 + 4) = 1.8, mean 1.861538.
 *   Replay: explored rounds 2 and 3; only round 3 shows b[0] = x first, click 1: V̂ = 1, n = 1,
 *     Wilson [1/(1 + z²), 1] = [0.206549, 1].
 * The same figures were recomputed with Python fractions (statistics.stdev); tolerance 1e-9.
 */
import { describe, expect, it } from 'vitest';
import { seededRng, type Rng } from '../../../src/core/kernel/rng.js';
import {
  checkSupport,
  dr,
  effectiveSampleSize,
  estimateExamination,
  ips,
  type LoggedRound,
  loggingPropensity,
  type OpeEstimate,
  type OpeResult,
  pbm,
  replay,
  snips,
  supportShare,
} from '../../../src/core/ope/index.js';
import { weightedPoissonInterval } from '../../../src/core/stats/weighted-poisson.js';

const hand: LoggedRound[] = [
  { pool: ['x', 'y', 'z'], epsilon: 0.5, explored: false, shown: ['x', 'y'], clicks: [1, 0], candidate: ['x', 'y'], reward: [0.5, 0.2] },
  { pool: ['x', 'y', 'z'], epsilon: 0.5, explored: true, shown: ['y', 'z'], clicks: [0, 1], candidate: ['x', 'z'], reward: [0.4, 0.3] },
  { pool: ['y', 'x', 'z'], epsilon: 0.5, explored: true, shown: ['x', 'y'], clicks: [1, 1], candidate: ['x'], reward: [0.6] },
];

function ok(result: OpeResult): OpeEstimate {
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.estimate;
}

const Z = 1.959963984540054;
const TOL = 9; // toBeCloseTo digits: |error| < 5e-10

describe('hand-worked rounds', () => {
  it('propensity follows π0(a, p) = (1 − ε)·1[a = pool[p−1]] + ε/N·1[a ∈ pool]', () => {
    expect(loggingPropensity(hand[0]!, 'x', 1)).toBeCloseTo(2 / 3, 12);
    expect(loggingPropensity(hand[0]!, 'x', 2)).toBeCloseTo(1 / 6, 12);
    expect(loggingPropensity(hand[0]!, 'w', 1)).toBe(0);
    expect(supportShare(hand)).toBe(1);
  });

  it('propensity with shadow-slate exploration adds ε·(σ/S)·#{s : c_s[p−1] = a} and takes σ from the uniform part', () => {
    // ε = 0.5, N = 3, σ = 0.5, S = 2 with arrangements [z x] and [z y]:
    // π0(z, 1) = 0 + 0.5·(0.5/3 + 0.25·2) = 1/12 + 1/4 = 1/3; π0(x, 1) = 0.5 + 0.5·(0.5/3) = 7/12;
    // π0(x, 2) = 0.5·(0.5/3 + 0.25) = 5/24; π0(y, 2) = 0.5 + 0.5·(0.5/3 + 0.25) = 17/24.
    const r: LoggedRound = {
      pool: ['x', 'y', 'z'],
      epsilon: 0.5,
      explored: true,
      shown: ['z', 'x'],
      clicks: [0, 1],
      candidate: ['z', 'x'],
      shadows: {
        share: 0.5,
        slates: [
          ['z', 'x'],
          ['z', 'y'],
        ],
        shown: 0,
      },
    };
    expect(loggingPropensity(r, 'z', 1)).toBeCloseTo(1 / 3, 12);
    expect(loggingPropensity(r, 'x', 1)).toBeCloseTo(7 / 12, 12);
    expect(loggingPropensity(r, 'x', 2)).toBeCloseTo(5 / 24, 12);
    expect(loggingPropensity(r, 'y', 2)).toBeCloseTo(17 / 24, 12);
    // The uniform part alone is what replay may use: a shadow's slate is not uniform.
    expect(replay([r]).ok).toBe(false);
    // A shown slate that is not the named arrangement is a bug in whoever assembled the round.
    expect(() => ips([{ ...r, shown: ['x', 'z'] }])).toThrow(/shown\[0\]/);
  });

  it('ips with the gamma interval (the default): Fay-Feuer on t = Σ w·c, v = Σ w²·c, w_M', () => {
    // Weights by hand: round 0 matches x@1 and y@2 at π0 = 2/3 (w 1.5; a click on x), round 1 z@2 at
    // π0 = 1/6 (w 6; clicked), round 2 x@1 at 1/6 (w 6; clicked): t = 1.5 + 6 + 6 = 13.5,
    // v = 2.25 + 36 + 36 = 74.25, w_M = 6, n = 3.
    const e = ok(ips(hand));
    expect(e.interval).toBe('gamma');
    expect(e.perSlate.value).toBeCloseTo(4.5, TOL);
    const [lo, hi] = weightedPoissonInterval(13.5, 74.25, 6);
    expect(e.perSlate.ci[0]).toBeCloseTo(lo / 3, TOL);
    expect(e.perSlate.ci[1]).toBeCloseTo(hi / 3, TOL);
    expect(e.perItem.ci[1]).toBeCloseTo(hi / 6, TOL);
  });

  it('ips with the CLT interval', () => {
    const e = ok(ips(hand, { interval: 'clt' }));
    expect(e.perSlate.value).toBeCloseTo(4.5, TOL);
    expect(e.perSlate.se).toBeCloseTo(1.5, TOL);
    expect(e.perSlate.ci[0]).toBeCloseTo(4.5 - Z * 1.5, TOL);
    expect(e.perSlate.ci[1]).toBeCloseTo(4.5 + Z * 1.5, TOL);
    expect(e.perItem.value).toBeCloseTo(2.25, TOL);
    expect(e.perItem.se).toBeCloseTo(0.75, TOL);
    expect(e).toMatchObject({ estimator: 'ips', n: 3, slateSize: 2, support: 1, interval: 'clt' });
    expect(e.ess).toBeCloseTo(1.470588235294, TOL);
  });

  it('snips (delta method)', () => {
    const e = ok(snips(hand));
    expect(e.perSlate.value).toBeCloseTo(1.8, TOL);
    expect(e.perSlate.se).toBeCloseTo(0.27712812921102, TOL);
    expect(e.perSlate.ci[1]).toBeCloseTo(1.8 + Z * 0.27712812921102, TOL);
    expect(e.interval).toBe('delta');
  });

  it('pbm', () => {
    const e = ok(pbm(hand, { examination: [1, 0.5] }));
    expect(e.perSlate.value).toBeCloseTo(16 / 9, TOL);
    expect(e.perSlate.se).toBeCloseTo(2 / 9, TOL);
    expect(e.ess).toBeCloseTo(1.861538461538, TOL);
    // θ's scale cancels
    expect(ok(pbm(hand, { examination: [4, 2] })).perSlate.value).toBeCloseTo(16 / 9, TOL);
  });

  it('dr', () => {
    const e = ok(dr(hand));
    expect(e.perSlate.value).toBeCloseTo(3.016666666667, TOL);
    expect(e.perSlate.se).toBeCloseTo(1.08256382927, TOL);
    expect(e.ess).toBeCloseTo(1.470588235294, TOL);
  });

  it('replay with the Wilson interval', () => {
    const e = ok(replay(hand));
    expect(e).toMatchObject({ estimator: 'replay', n: 1, interval: 'wilson', ess: 1 });
    expect(e.perSlate.value).toBe(1);
    expect(e.perItem.value).toBe(1);
    expect(e.perSlate.ci[0]).toBeCloseTo(0.206549314377, TOL);
    expect(e.perSlate.ci[1]).toBe(1);
  });

  it('replay: Wilson 7/10 = [0.396778, 0.892209] (the textbook case)', () => {
    const rounds: LoggedRound[] = Array.from({ length: 10 }, (_, i) => ({
      pool: ['x', 'y'],
      epsilon: 0.2,
      explored: true,
      shown: ['x'],
      clicks: [i < 7 ? 1 : 0],
      candidate: ['x'],
    }));
    const e = ok(replay(rounds));
    expect(e.perSlate.value).toBeCloseTo(0.7, 12);
    expect(e.perSlate.ci[0]).toBeCloseTo(0.396778147461, TOL);
    expect(e.perSlate.ci[1]).toBeCloseTo(0.892208732594, TOL);
  });

  it('examination: θ_p/θ_1 = Σ c_ip / Σ c_i1 over explored rounds', () => {
    const result = estimateExamination(hand);
    expect(result.ok && result.theta).toEqual([1, 2]);
    expect(result.ok && result.n).toBe(2);
  });

  it('ESS is (Σw)²/Σw² per slot, averaged over slots', () => {
    expect(effectiveSampleSize([[1], [1], [1]])).toBe(3);
    expect(
      effectiveSampleSize([
        [1.5, 1.5],
        [0, 6],
        [6, 0],
      ]),
    ).toBeCloseTo(56.25 / 38.25, 12);
    expect(effectiveSampleSize([[0], [0]])).toBe(0);
  });

  it('a seeded bootstrap is reproducible', () => {
    const a = ok(ips(hand, { bootstrap: { rng: seededRng(7), resamples: 200 } }));
    const b = ok(ips(hand, { bootstrap: { rng: seededRng(7), resamples: 200 } }));
    expect(a).toEqual(b);
    expect(a.interval).toBe('bootstrap');
    expect(a.perSlate.value).toBeCloseTo(4.5, TOL);
  });
});

// Monte Carlo world: 6 items, pool = a random order of all 6 per request (N = 6), K = 3, ε = 0.3.
// P(click on a at p) = θ_p·α(a). The candidate always shows d, a, f, so its true expected clicks
// per slate are Σ_p θ_p α(b_p) = 1·0.25 + 0.6·0.5 + 0.35·0.15 = 0.6025. With these seeds the 95%
// intervals covered the truth in 189 (ips), 190 (snips), 189 (pbm), 194 (dr) and 194 (replay,
// truth θ_1·α(d) = 0.25) of 200 runs; mean SE 0.072, 0.061, 0.036, 0.062, 0.043.
const ITEMS = ['a', 'b', 'c', 'd', 'e', 'f'];
const ALPHA: Record<string, number> = { a: 0.5, b: 0.45, c: 0.4, d: 0.25, e: 0.2, f: 0.15 };
const THETA = [1, 0.6, 0.35];
const EPS = 0.3;
const K = 3;
const CANDIDATE = ['d', 'a', 'f'];
const TRUTH = THETA.reduce((s, t, p) => s + t * ALPHA[CANDIDATE[p]!]!, 0);

function shuffled(xs: readonly string[], rng: Rng): string[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function simulate(n: number, rng: Rng, candidate: (pool: string[]) => string[] = () => CANDIDATE): LoggedRound[] {
  return Array.from({ length: n }, () => {
    const pool = shuffled(ITEMS, rng);
    const explored = rng.next() < EPS;
    const shown = (explored ? shuffled(pool, rng) : pool).slice(0, K);
    const clicks = shown.map((a, p) => (rng.next() < THETA[p]! * ALPHA[a]! ? 1 : 0));
    const b = candidate(pool);
    // A deliberately wrong reward model (half the truth plus 0.05): DR stays unbiased.
    const reward = b.map((item, p) => 0.5 * THETA[p]! * ALPHA[item]! + 0.05);
    return { pool, epsilon: EPS, explored, shown, clicks, candidate: b, reward };
  });
}

describe('Monte Carlo against the closed form', () => {
  const estimators = {
    ips: (r: LoggedRound[]) => ips(r),
    snips: (r: LoggedRound[]) => snips(r),
    pbm: (r: LoggedRound[]) => pbm(r, { examination: THETA }),
    dr: (r: LoggedRound[]) => dr(r),
  };

  it(`ips, snips, pbm, dr: within 3 SE of Σ θ_p α(b_p) = ${TRUTH}, and 95% intervals cover it in [0.90, 0.99] of 200 runs`, () => {
    const reps = 200;
    const n = 2000;
    const rng = seededRng(20260601);
    const covered: Record<string, number> = { ips: 0, snips: 0, pbm: 0, dr: 0, replay: 0 };
    const sums: Record<string, number> = { ips: 0, snips: 0, pbm: 0, dr: 0, replay: 0 };
    const ses: Record<string, number> = { ips: 0, snips: 0, pbm: 0, dr: 0, replay: 0 };
    const replayTruth = THETA[0]! * ALPHA[CANDIDATE[0]!]!;
    for (let rep = 0; rep < reps; rep++) {
      const rounds = simulate(n, rng);
      for (const [name, estimate] of Object.entries(estimators)) {
        const e = ok(estimate(rounds));
        if (rep === 0) expect(Math.abs(e.perSlate.value - TRUTH), name).toBeLessThan(3 * e.perSlate.se);
        if (e.perSlate.ci[0] <= TRUTH && TRUTH <= e.perSlate.ci[1]) covered[name]!++;
        sums[name]! += e.perSlate.value;
        ses[name]! += e.perSlate.se;
      }
      const r = ok(replay(rounds));
      if (r.perSlate.ci[0] <= replayTruth && replayTruth <= r.perSlate.ci[1]) covered.replay!++;
      sums.replay! += r.perSlate.value;
      ses.replay! += r.perSlate.se;
    }
    for (const name of Object.keys(covered)) {
      const truth = name === 'replay' ? replayTruth : TRUTH;
      // The mean of 200 estimates is within 3 (mean SE)/√200 of the truth: no bias at that resolution.
      expect(Math.abs(sums[name]! / reps - truth), name).toBeLessThan((3 * ses[name]!) / reps / Math.sqrt(reps));
      expect(covered[name]! / reps, name).toBeGreaterThanOrEqual(0.9);
      expect(covered[name]! / reps, name).toBeLessThanOrEqual(0.99);
    }
  });

  it('replay estimates θ_1·α(b_0) within 3 SE on one large window', () => {
    const e = ok(replay(simulate(20000, seededRng(11))));
    expect(Math.abs(e.perSlate.value - THETA[0]! * ALPHA.d!)).toBeLessThan(3 * e.perSlate.se);
  });

  it('examination ratios θ_p/θ_1 within 3 SE of [1, 0.6, 0.35]', () => {
    const result = estimateExamination(simulate(20000, seededRng(12)));
    if (!result.ok) throw new Error(result.reason);
    expect(result.theta[0]).toBe(1);
    for (const p of [1, 2]) expect(Math.abs(result.theta[p]! - THETA[p]!)).toBeLessThan(3 * result.se[p]!);
  });

  it('candidate = the logging slate: IPS ≈ the clicks seen on unexplored slates', () => {
    const rounds = simulate(4000, seededRng(13), (pool) => pool.slice(0, K));
    const unexplored = rounds.filter((r) => !r.explored);
    const observed = unexplored.reduce((s, r) => s + r.clicks.reduce((a, c) => a + c, 0), 0) / unexplored.length;
    const e = ok(ips(rounds));
    // Two estimates of the same quantity; the tolerance is 3 SE of IPS plus 3 SE of the observed mean (≈ 0.02).
    expect(Math.abs(e.perSlate.value - observed)).toBeLessThan(3 * e.perSlate.se + 0.02);
    expect(e.support).toBe(1);
  });

  it('candidate = the logging policy with exploration off: IPS equals the observed clicks exactly (weights 1)', () => {
    const rounds = simulate(500, seededRng(14), (pool) => pool.slice(0, K)).map((r) => ({
      ...r,
      epsilon: 0,
      explored: false,
      shown: r.pool.slice(0, K),
    }));
    const observed = rounds.reduce((s, r) => s + r.clicks.reduce((a, c) => a + c, 0), 0) / rounds.length;
    const e = ok(ips(rounds));
    expect(e.perSlate.value).toBeCloseTo(observed, 12);
    expect(e.ess).toBeCloseTo(500, 9);
  });

  it('a percentile bootstrap agrees with the CLT interval on a large window (ends within 10% of its width)', () => {
    const rounds = simulate(3000, seededRng(15));
    const clt = ok(ips(rounds));
    const boot = ok(ips(rounds, { bootstrap: { rng: seededRng(16), resamples: 400 } }));
    const width = clt.perSlate.ci[1] - clt.perSlate.ci[0];
    expect(Math.abs(boot.perSlate.ci[0] - clt.perSlate.ci[0])).toBeLessThan(0.1 * width);
    expect(Math.abs(boot.perSlate.ci[1] - clt.perSlate.ci[1])).toBeLessThan(0.1 * width);
    const sn = ok(snips(rounds, { bootstrap: { rng: seededRng(17), resamples: 400 } }));
    expect(Math.abs(sn.perSlate.se - ok(snips(rounds)).perSlate.se)).toBeLessThan(0.15 * sn.perSlate.se);
  });
});

describe('refusals', () => {
  const window = simulate(3000, seededRng(21));

  it('no rounds, and no exploration', () => {
    expect(checkSupport([])).toMatchObject({ ok: false, code: 'no_rounds' });
    expect(ips([])).toMatchObject({ ok: false, code: 'no_rounds' });
    const unexplored = window.filter((r) => !r.explored);
    expect(checkSupport(unexplored)).toEqual({
      ok: false,
      code: 'no_exploration',
      reason: 'no explored slates in the window (exploration is off): nothing to estimate from',
    });
    expect(replay(unexplored)).toMatchObject({ ok: false, code: 'no_exploration' });
    expect(estimateExamination(unexplored)).toMatchObject({ ok: false, code: 'no_exploration' });
  });

  it('too little support: the candidate shows items outside the pool', () => {
    const outside = window.map((r, i) => ({ ...r, candidate: i % 10 === 0 ? r.candidate : ['u', 'v', 'w'] }));
    const check = checkSupport(outside);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.code).toBe('low_support');
    expect(!check.ok && check.reason).toMatch(
      /^the candidate's choices have too little support: 10(\.0)?% of its \(item, position\) choices were ever possible under the logging policy \(need 50%\)$/,
    );
  });

  it('effective sample size below the threshold', () => {
    const check = checkSupport(window.slice(0, 300), { estimator: 'snips' });
    expect(check).toMatchObject({ ok: false, code: 'low_ess' });
    expect(!check.ok && check.reason).toMatch(/^effective sample size \d+ is below 100$/);
    // ips's gamma interval holds its level at small ESS: its floor is 30 (MIN_ESS_GAMMA).
    const few = checkSupport(window.slice(0, 60));
    expect(few).toMatchObject({ ok: false, code: 'low_ess' });
    expect(!few.ok && few.reason).toMatch(/^effective sample size \d+ is below 30$/);
    const all = checkSupport(window);
    expect(all.ok && all.ess).toBeGreaterThanOrEqual(30);
    const passed = checkSupport(window, { minEss: 20 });
    expect(passed.ok).toBe(true);
    expect(checkSupport(window, { estimator: 'pbm', examination: THETA, minEss: 20 }).ok).toBe(true);
  });

  it('dr without reward estimates', () => {
    const noReward = window.map((r, i) => (i === 5 ? { ...r, reward: undefined } : r));
    expect(dr(noReward)).toMatchObject({ ok: false, code: 'missing_reward' });
    expect(checkSupport(noReward, { estimator: 'dr', minEss: 1 })).toMatchObject({ ok: false, code: 'missing_reward' });
  });

  it('replay with no matching first item, examination without clicks at position 1', () => {
    const never = window.map((r) => ({ ...r, candidate: ['u'], reward: undefined }));
    expect(replay(never)).toMatchObject({ ok: false, code: 'no_matches' });
    const noClicks = window.map((r) => ({ ...r, clicks: [0, ...r.clicks.slice(1)] }));
    expect(estimateExamination(noClicks)).toMatchObject({ ok: false, code: 'no_clicks' });
  });

  it('malformed rounds throw a DomainError naming the field', () => {
    const bad = (patch: Partial<LoggedRound>) => [hand[0]!, { ...hand[1]!, ...patch }];
    expect(() => ips(bad({ clicks: [1] }))).toThrow(/rounds\[1\]\.clicks: has 1 entries for 2 shown items/);
    expect(() => ips(bad({ shown: ['y', 'q'] }))).toThrow(/rounds\[1\]\.shown\[1\]: 'q' is not in the pool/);
    expect(() => ips(bad({ explored: false }))).toThrow(/rounds\[1\]\.shown\[0\]: 'y' on an unexplored slate must be pool\[0\] 'x'/);
    expect(() => ips(bad({ epsilon: 1.5 }))).toThrow(/rounds\[1\]\.epsilon/);
    expect(() => pbm(hand, { examination: [1] })).toThrow(/examination: has 1 values for 2 positions/);
  });
});
