/**
 * Off-policy estimators for "read next" slates: how many clicks per slate a candidate recommender
 * would have earned, estimated from the live placement's logs. Pure functions over logged rounds;
 * the only randomness is the optional seeded bootstrap.
 *
 * The logging policy. A placement that explores shows, with probability ε (a seeded hash per
 * request), a uniformly random K-permutation of the live top-N eligible list `pool` (N ≥ K), and
 * otherwise pool[0..K) in order. The marginal propensity of item a at 1-based position p ≤ K is
 *
 *   π0(a, p) = (1 − ε)·1[a = pool[p−1]] + (ε / N)·1[a ∈ pool]
 *
 * With shadow-slate exploration (share σ of the explored requests show one of the S shadows'
 * arrangements c_s whole, explore.ts) the uniform part takes (1 − σ) of ε and
 *
 *   π0(a, p) = (1 − ε)·1[a = pool[p−1]] + ε·((1 − σ) / N)·1[a ∈ pool] + ε·(σ / S)·#{s : c_s[p−1] = a}
 *
 * and every estimator here weights by it (the explored flag is used only by `replay` and
 * `estimateExamination`, which need the uniform slates alone). Anchor: Open Bandit Pipeline
 * (Saito, Aihara, Matsutani, Narita 2020) reports the same figures for its estimators.
 *
 * Expected failures (no exploration, too little support, a DR call without reward estimates, too
 * few rounds) are values: `{ ok: false, code, reason }`. Malformed rounds (a click vector of the
 * wrong length, a shown item the logging policy could not have shown) throw a DomainError
 * 'invalid_field' naming the round and field: they are a bug in whoever assembled the window.
 * Tests: test/core/ope/estimators.test.ts.
 */
import { DomainError } from '../kernel/errors.js';
import type { Rng } from '../kernel/rng.js';
import { normalQuantile } from '../stats/distributions.js';
import { weightedPoissonInterval } from '../stats/weighted-poisson.js';

/** One request of the placement, as logged, with the candidate's slate from the shadow log. */
export interface LoggedRound {
  /** The logged slate a[0..K). */
  readonly shown: readonly string[];
  /** c[p] ∈ {0, 1}, one per shown item. */
  readonly clicks: readonly number[];
  /** The live top-N list at that request (N ≥ K). */
  readonly pool: readonly string[];
  /** Exploration share in force, in [0, 1]. */
  readonly epsilon: number;
  /** Whether this request's slate was the uniformly random one. */
  readonly explored: boolean;
  /** The candidate's slate b[0..K'), K' ≤ K (shorter = fewer items). */
  readonly candidate: readonly string[];
  /** Reward-model estimate q̂(b[p], p) of P(click), one per candidate item (DR only). */
  readonly reward?: readonly number[];
  /**
   * Shadow-slate exploration (explore.ts): the share σ of explored requests that showed one
   * shadow's arrangement whole, the S arrangements of this request (pool items, one per free
   * slot), and which one was shown (null: the uniformly random slate, or not explored).
   */
  readonly shadows?: { readonly share: number; readonly slates: readonly (readonly string[])[]; readonly shown: number | null };
}

/** Whether the round's slate was the uniformly random one (what `replay` and `estimateExamination` need). */
export const uniformlyExplored = (r: LoggedRound): boolean => r.explored && (r.shadows?.shown ?? null) === null;

export type OpeEstimatorName = 'replay' | 'ips' | 'snips' | 'pbm' | 'dr';

/** How the interval was made: Wilson score, CLT on per-round contributions, delta method, percentile bootstrap, or Fay-Feuer gamma. */
export type OpeIntervalMethod = 'wilson' | 'clt' | 'delta' | 'bootstrap' | 'gamma';

export interface OpeFigure {
  readonly value: number;
  readonly se: number;
  /** 95% interval. */
  readonly ci: readonly [number, number];
}

export interface OpeEstimate {
  readonly estimator: OpeEstimatorName;
  /** Expected clicks per slate; for `replay`, clicks at position 1 per slate. */
  readonly perSlate: OpeFigure;
  /** Per shown item: perSlate / K (for `replay`, equal to perSlate: it covers one position). */
  readonly perItem: OpeFigure;
  /** K, the logged slate size. */
  readonly slateSize: number;
  /** Rounds used (for `replay`, the explored rounds where the candidate's first item was shown first). */
  readonly n: number;
  /** Kish effective sample size of the importance weights, on the scale of rounds (see `effectiveSampleSize`). */
  readonly ess: number;
  /** Share of the candidate's (item, position) choices, over all rounds, with π0 > 0. */
  readonly support: number;
  readonly interval: OpeIntervalMethod;
}

export type OpeRefusalCode =
  'no_rounds' | 'no_exploration' | 'low_support' | 'low_ess' | 'missing_reward' | 'too_few_rounds' | 'no_matches' | 'no_clicks';

/** An estimate that cannot be made, with a one-line reason for a person. */
export interface OpeRefusal {
  readonly ok: false;
  readonly code: OpeRefusalCode;
  readonly reason: string;
}

export type OpeResult = { readonly ok: true; readonly estimate: OpeEstimate } | OpeRefusal;

/** Seeded percentile bootstrap over rounds, instead of the analytic interval. */
export interface BootstrapOptions {
  readonly rng: Rng;
  /** Resamples; default 1000. */
  readonly resamples?: number;
}

export interface IntervalOptions {
  /** When given, the interval and SE come from a percentile bootstrap over rounds (as Open Bandit Pipeline does). */
  readonly bootstrap?: BootstrapOptions;
  /**
   * `ips` only: 'gamma' (the default) is the Fay-Feuer interval for a weighted sum of click counts,
   * which holds its level with few clicks and large weights; 'clt' the normal interval on the
   * per-round contributions.
   */
  readonly interval?: 'gamma' | 'clt';
}

export interface PbmOptions extends IntervalOptions {
  /** Examination probabilities θ_1..θ_K (any positive scale, e.g. θ_p / θ_1 from `estimateExamination`). */
  readonly examination: readonly number[];
}

/**
 * Below this share of supported choices, more than half of the candidate's slate was never
 * possible under the logging policy; IPS counts those positions as zero clicks, so the estimate is
 * mostly a statement about the logging policy's blind spot, not about the candidate.
 */
export const MIN_SUPPORT = 0.5;

/**
 * Below about 100 effective rounds a CLT interval on a heavy-tailed weighted mean undercovers
 * (a handful of large weights decide the estimate). A rule of thumb, not a theorem: Kish's
 * (1965) ESS reads as "as good as this many equally weighted rounds".
 */
export const MIN_ESS = 100;

/**
 * The floor for `ips` with its default gamma interval, which holds its level at any ESS (Fay &
 * Feuer 1997): below about 30 effective rounds its interval spans most of what is plausible, so it
 * refuses as uninformative rather than as invalid. The CLT-based estimators keep MIN_ESS.
 */
export const MIN_ESS_GAMMA = 30;

/**
 * Default bootstrap resamples. Open Bandit Pipeline's `estimate_interval` defaults to 10 000; with
 * 1000 the Monte Carlo SE of a 2.5% quantile is √(0.025·0.975/1000)/φ(1.96) ≈ 0.085 SE, about 2%
 * of the interval's width, at a tenth of the cost.
 */
export const DEFAULT_RESAMPLES = 1000;

/** z_{0.975} = 1.959963984540054, the 95% two-sided normal quantile. */
const Z95 = normalQuantile(0.975);

const percent = (x: number): string => `${+(100 * x).toFixed(1)}%`;

const longest = (xs: readonly (readonly unknown[])[]): number => xs.reduce((m, x) => Math.max(m, x.length), 0);

/**
 * π0(a, p), the logging policy's marginal propensity of showing `item` at 1-based `position` (≤ K)
 * in this round: (1 − ε)·1[a = pool[p−1]] + ε·(1 − σ)/N·1[a ∈ pool] + ε·(σ/S)·#{s : c_s[p−1] = a},
 * with σ = 0 and no last term without shadow-slate exploration (see the module comment).
 *
 * @example loggingPropensity({ ...round, pool: ['x', 'y', 'z'], epsilon: 0.5 }, 'x', 1) // 2/3
 */
export function loggingPropensity(round: Pick<LoggedRound, 'pool' | 'epsilon' | 'shadows'>, item: string, position: number): number {
  const rank = round.pool.indexOf(item);
  if (rank < 0) return 0;
  const mix = round.shadows;
  const sigma = mix && mix.slates.length > 0 ? mix.share : 0;
  let same = 0;
  if (sigma > 0) for (const c of mix!.slates) if (c[position - 1] === item) same++;
  const shadowPart = sigma > 0 ? (sigma * same) / mix!.slates.length : 0;
  return (rank === position - 1 ? 1 - round.epsilon : 0) + round.epsilon * ((1 - sigma) / round.pool.length + shadowPart);
}

/**
 * Kish's effective sample size (Kish 1965, Survey Sampling): ESS = (Σw)² / Σw², over the weights of
 * one slot; 0 when every weight is 0. For a slate, `weights[i][j]` is round i's weight in slot j
 * (a position) and the result is the mean over slots of each slot's ESS, so it reads in rounds:
 * all weights equal gives n.
 *
 * @example effectiveSampleSize([[1.5, 1.5], [0, 6], [6, 0]]) // (7.5²/38.25 + 7.5²/38.25) / 2 ≈ 1.4706
 */
export function effectiveSampleSize(weights: readonly (readonly number[])[], slots?: number): number {
  const m = slots ?? longest(weights);
  if (m === 0) return 0;
  let total = 0;
  for (let j = 0; j < m; j++) {
    let s = 0;
    let s2 = 0;
    for (const w of weights) {
      const x = w[j] ?? 0;
      s += x;
      s2 += x * x;
    }
    if (s2 > 0) total += (s * s) / s2;
  }
  return total / m;
}

/**
 * Share of the candidate's (item, position) choices, over all rounds, that the logging policy
 * could have made: #{(i, p): π0(b_ip, p) > 0} / #{(i, p)}. 0 when the candidate chose nothing.
 */
export function supportShare(rounds: readonly LoggedRound[]): number {
  let choices = 0;
  let supported = 0;
  for (const r of rounds) {
    for (let p = 0; p < r.candidate.length; p++) {
      choices++;
      if (loggingPropensity(r, r.candidate[p]!, p + 1) > 0) supported++;
    }
  }
  return choices === 0 ? 0 : supported / choices;
}

const invalid = (field: string, message: string): DomainError => new DomainError('invalid_field', `${field}: ${message}`, { field });

/**
 * Checks the rounds are ones this logging policy could have produced and returns K. Throws a
 * DomainError 'invalid_field' naming the first offending round and field.
 */
export function validateRounds(rounds: readonly LoggedRound[]): number {
  let k = 0;
  rounds.forEach((r, i) => {
    const at = `rounds[${i}]`;
    const size = r.shown.length;
    if (size === 0) throw invalid(`${at}.shown`, 'the logged slate is empty');
    if (i === 0) k = size;
    else if (size !== k) throw invalid(`${at}.shown`, `has ${size} items but rounds[0] has ${k}: one window has one slate size`);
    if (r.clicks.length !== k) throw invalid(`${at}.clicks`, `has ${r.clicks.length} entries for ${k} shown items`);
    r.clicks.forEach((c, p) => {
      if (c !== 0 && c !== 1) throw invalid(`${at}.clicks[${p}]`, `must be 0 or 1, got ${c}`);
    });
    if (!(r.epsilon >= 0 && r.epsilon <= 1)) throw invalid(`${at}.epsilon`, `must be in [0, 1], got ${r.epsilon}`);
    if (r.shadows !== undefined && !(r.shadows.share >= 0 && r.shadows.share <= 1))
      throw invalid(`${at}.shadows.share`, `must be in [0, 1], got ${r.shadows.share}`);
    if (r.pool.length < k) throw invalid(`${at}.pool`, `has ${r.pool.length} items, fewer than the ${k} shown`);
    if (new Set(r.pool).size !== r.pool.length) throw invalid(`${at}.pool`, 'lists an item twice');
    if (r.explored) {
      if (r.epsilon === 0) throw invalid(`${at}.explored`, 'is true while epsilon is 0');
      if (new Set(r.shown).size !== k) throw invalid(`${at}.shown`, 'lists an item twice');
      r.shown.forEach((a, p) => {
        if (!r.pool.includes(a))
          throw invalid(`${at}.shown[${p}]`, `'${a}' is not in the pool: the logging policy could not have shown it`);
      });
      const which = r.shadows?.shown ?? null;
      if (which !== null) {
        const c = r.shadows!.slates[which];
        if (c === undefined) throw invalid(`${at}.shadows.shown`, `names arrangement ${which} of ${r.shadows!.slates.length}`);
        r.shown.forEach((a, p) => {
          if (a !== c[p]) throw invalid(`${at}.shown[${p}]`, `'${a}' on a shadow's slate must be its item '${c[p]}'`);
        });
      }
    } else {
      if (r.epsilon === 1) throw invalid(`${at}.explored`, 'is false while epsilon is 1');
      r.shown.forEach((a, p) => {
        if (a !== r.pool[p]) throw invalid(`${at}.shown[${p}]`, `'${a}' on an unexplored slate must be pool[${p}] '${r.pool[p]}'`);
      });
    }
    if (r.candidate.length > k) throw invalid(`${at}.candidate`, `has ${r.candidate.length} items, more than the ${k} shown`);
    if (r.reward !== undefined) {
      if (r.reward.length !== r.candidate.length)
        throw invalid(`${at}.reward`, `has ${r.reward.length} entries for ${r.candidate.length} candidate items`);
      r.reward.forEach((q, p) => {
        if (!(q >= 0 && q <= 1)) throw invalid(`${at}.reward[${p}]`, `must be a probability in [0, 1], got ${q}`);
      });
    }
  });
  return k;
}

const refuse = (code: OpeRefusalCode, reason: string): OpeRefusal => ({ ok: false, code, reason });

const mean = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
};

/** Sample standard deviation (n − 1). */
const sampleSd = (xs: ArrayLike<number>, m = mean(xs)): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
};

/** Type-7 (linear interpolation) quantile of sorted values, as numpy's default. */
const quantileSorted = (sorted: Float64Array, q: number): number => {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
};

/**
 * Percentile bootstrap over rounds: B resamples of n round indices drawn with replacement by the
 * seeded rng; SE = sample sd of the B statistics, interval = their 2.5% and 97.5% quantiles
 * (type 7). Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 6 and 13.
 */
function bootstrap(
  n: number,
  options: BootstrapOptions,
  statistic: (counts: Float64Array) => number,
): { se: number; ci: [number, number] } {
  const b = options.resamples ?? DEFAULT_RESAMPLES;
  if (!Number.isInteger(b) || b < 2) throw invalid('bootstrap.resamples', `must be an integer ≥ 2, got ${b}`);
  const stats = new Float64Array(b);
  const counts = new Float64Array(n);
  for (let s = 0; s < b; s++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[options.rng.int(n)]! += 1;
    stats[s] = statistic(counts);
  }
  const se = sampleSd(stats);
  stats.sort();
  return { se, ci: [quantileSorted(stats, 0.025), quantileSorted(stats, 0.975)] };
}

function figures(
  estimator: OpeEstimatorName,
  k: number,
  perItemDivisor: number,
  value: number,
  se: number,
  ci: readonly [number, number],
  rest: { n: number; ess: number; support: number; interval: OpeIntervalMethod },
): OpeResult {
  const d = perItemDivisor;
  return {
    ok: true,
    estimate: {
      estimator,
      perSlate: { value, se, ci: [ci[0], ci[1]] },
      perItem: { value: value / d, se: se / d, ci: [ci[0] / d, ci[1] / d] },
      slateSize: k,
      ...rest,
    },
  };
}

/**
 * The estimators whose value is the mean of per-round contributions y_i: SE = sd(y)/√n and the
 * 95% interval V̂ ± z_{0.975}·SE (CLT), or the bootstrap when asked.
 */
function meanOfContributions(
  estimator: OpeEstimatorName,
  k: number,
  y: Float64Array,
  weights: number[][],
  slots: number,
  rounds: readonly LoggedRound[],
  options: IntervalOptions,
): OpeResult {
  const n = y.length;
  const value = mean(y);
  const common = { n, ess: effectiveSampleSize(weights, slots), support: supportShare(rounds) };
  if (options.bootstrap) {
    const { se, ci } = bootstrap(n, options.bootstrap, (counts) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += counts[i]! * y[i]!;
      return s / n;
    });
    return figures(estimator, k, k, value, se, ci, { ...common, interval: 'bootstrap' });
  }
  const se = sampleSd(y, value) / Math.sqrt(n);
  return figures(estimator, k, k, value, se, [value - Z95 * se, value + Z95 * se], { ...common, interval: 'clt' });
}

const maxCandidateLength = (rounds: readonly LoggedRound[]): number => longest(rounds.map((r) => r.candidate));

/** Item-position IPS weights w_ip = 1[b_p = a_p] / π0(a_p, p), rounds × positions of the candidate. */
function itemPositionWeights(rounds: readonly LoggedRound[]): number[][] {
  return rounds.map((r) => r.candidate.map((b, p) => (b === r.shown[p] ? 1 / loggingPropensity(r, b, p + 1) : 0)));
}

/** Estimators other than replay need n ≥ 2 for an SE. */
function tooFew(rounds: readonly LoggedRound[]): OpeRefusal | null {
  if (rounds.length === 0) return refuse('no_rounds', 'no logged rounds in the window: nothing to estimate from');
  if (rounds.length < 2) return refuse('too_few_rounds', `${rounds.length} logged round: a standard error needs at least 2`);
  return null;
}

/**
 * Replay (Li, Chu, Langford, Wang 2011, "Unbiased offline evaluation of contextual-bandit-based
 * news article recommendation algorithms", WSDM; the Yahoo! front-page method), at position 1:
 * on explored rounds only (a uniformly random permutation, so shown[0] is uniform on the pool), a
 * round counts when b[0] = shown[0], and
 *
 *   V̂ = Σ_{counted} c_i1 / #counted,
 *
 * the candidate's position-1 CTR (clicks at position 1 per slate). SE = √(V̂(1 − V̂)/n); the 95%
 * interval is Wilson's score interval (Wilson 1927):
 *   (V̂ + z²/2n ± z·√(V̂(1 − V̂)/n + z²/4n²)) / (1 + z²/n).
 * Unbiased for the rounds whose b[0] is in the pool; `support` says how many those are.
 *
 * @example
 * const result = replay(rounds);
 * if (result.ok) result.estimate.perSlate.value; // position-1 CTR of b[0]
 */
export function replay(rounds: readonly LoggedRound[]): OpeResult {
  const k = validateRounds(rounds);
  if (rounds.length === 0) return refuse('no_rounds', 'no logged rounds in the window: nothing to estimate from');
  const explored = rounds.filter(uniformlyExplored);
  if (explored.length === 0)
    return refuse('no_exploration', 'no uniformly explored slates in the window (exploration is off): nothing to replay');
  const weights = explored.map((r) => [r.candidate.length > 0 && r.candidate[0] === r.shown[0] ? 1 : 0]);
  let n = 0;
  let clicks = 0;
  explored.forEach((r, i) => {
    if (weights[i]![0] === 1) {
      n++;
      clicks += r.clicks[0]!;
    }
  });
  if (n === 0) {
    return refuse(
      'no_matches',
      `none of the ${explored.length} explored slates showed the candidate's first item first: nothing to replay`,
    );
  }
  const v = clicks / n;
  const z2 = Z95 * Z95;
  const centre = (v + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((v * (1 - v)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  const se = Math.sqrt((v * (1 - v)) / n);
  return figures('replay', k, 1, v, se, [Math.max(0, centre - half), Math.min(1, centre + half)], {
    n,
    ess: effectiveSampleSize(weights, 1),
    support: supportShare(rounds),
    interval: 'wilson',
  });
}

/**
 * Item-position IPS (Li, Kim, Zitouni 2018, "Offline evaluation of ranking policies with click
 * models", KDD, the item-position model; Swaminathan et al. 2017, "Off-policy evaluation for
 * slate recommendation", NeurIPS):
 *
 *   V̂ = (1/n) Σ_i y_i,   y_i = Σ_{p ≤ K'_i} 1[b_ip = a_ip]·c_ip / π0(a_ip, p).
 *
 * Unbiased when a click on an item depends only on the item and its position. Interval, by
 * default: the Fay-Feuer gamma interval (stats/weighted-poisson.ts) for n·V̂ = Σ w_ip·c_ip read
 * as a weighted sum of click counts (Poisson, conservative for Bernoulli clicks) with the matched
 * weights known once the slates are logged, divided by n; w_M is the largest weight of any matched
 * (item, position). It leaves out the variance of which slots matched, Σ w²·q² against the clicks'
 * Σ w²·q, negligible at click rates q of a few percent. Chosen because a candidate far from the
 * live recommender is matched mostly on explored slates, with weights 1/π0 in the tens and a
 * handful of clicks, where the normal interval undercovers. Or, asked: CLT on the per-round y_i
 * (V̂ ± 1.96·sd(y)/√n), or the bootstrap. SE is sd(y)/√n in every case.
 *
 * @example ips(rounds) // { ok: true, estimate: { perSlate: { value, se, ci }, perItem, n, ess, support, ... } }
 */
export function ips(rounds: readonly LoggedRound[], options: IntervalOptions = {}): OpeResult {
  const k = validateRounds(rounds);
  const few = tooFew(rounds);
  if (few) return few;
  const weights = itemPositionWeights(rounds);
  const y = new Float64Array(rounds.length);
  // For the gamma interval: t = Σ w·c, v = Σ w²·c and the largest weight a click could carry.
  let t = 0;
  let v = 0;
  let wMax = 0;
  rounds.forEach((r, i) => {
    let s = 0;
    weights[i]!.forEach((w, p) => {
      s += w * r.clicks[p]!;
      v += w * w * r.clicks[p]!;
      if (w > wMax) wMax = w;
    });
    y[i] = s;
    t += s;
  });
  if (options.bootstrap || options.interval === 'clt' || wMax === 0)
    return meanOfContributions('ips', k, y, weights, maxCandidateLength(rounds), rounds, options);
  const n = rounds.length;
  const value = t / n;
  const [lo, hi] = weightedPoissonInterval(t, v, wMax);
  return figures('ips', k, k, value, sampleSd(y, value) / Math.sqrt(n), [lo / n, hi / n], {
    n,
    ess: effectiveSampleSize(weights, maxCandidateLength(rounds)),
    support: supportShare(rounds),
    interval: 'gamma',
  });
}

/**
 * Self-normalised item-position IPS, normalised per position (Swaminathan & Joachims 2015, "The
 * self-normalized estimator for counterfactual learning", NeurIPS; per position as in Li et al.
 * 2018): with w_ip = 1[b_ip = a_ip] / π0(a_ip, p), whose expectation is 1 under logging,
 *
 *   V̂ = Σ_p R_p,   R_p = Σ_i w_ip c_ip / Σ_i w_ip   (R_p = 0 when Σ_i w_ip = 0).
 *
 * Interval by the delta method: with W̄_p = (1/n) Σ_i w_ip, each round's influence is
 * ψ_i = Σ_p (w_ip c_ip − R_p w_ip) / W̄_p, Var(V̂) ≈ Σ_i ψ_i² / (n(n − 1)) (the covariance
 * between positions of one round is inside ψ_i), interval V̂ ± 1.96·SE; or the bootstrap.
 */
export function snips(rounds: readonly LoggedRound[], options: IntervalOptions = {}): OpeResult {
  const k = validateRounds(rounds);
  const few = tooFew(rounds);
  if (few) return few;
  const n = rounds.length;
  const m = maxCandidateLength(rounds);
  const weights = itemPositionWeights(rounds);
  const ratio = (counts: ArrayLike<number> | null): { value: number; r: number[]; wbar: number[] } => {
    const sy = new Array<number>(m).fill(0);
    const sw = new Array<number>(m).fill(0);
    weights.forEach((ws, i) => {
      const c = counts ? counts[i]! : 1;
      if (c === 0) return;
      ws.forEach((w, p) => {
        sw[p]! += c * w;
        sy[p]! += c * w * rounds[i]!.clicks[p]!;
      });
    });
    const r = sy.map((s, p) => (sw[p]! > 0 ? s / sw[p]! : 0));
    return { value: r.reduce((a, b) => a + b, 0), r, wbar: sw.map((s) => s / n) };
  };
  const { value, r, wbar } = ratio(null);
  const common = { n, ess: effectiveSampleSize(weights, m), support: supportShare(rounds) };
  if (options.bootstrap) {
    const { se, ci } = bootstrap(n, options.bootstrap, (counts) => ratio(counts).value);
    return figures('snips', k, k, value, se, ci, { ...common, interval: 'bootstrap' });
  }
  let s2 = 0;
  weights.forEach((ws, i) => {
    let psi = 0;
    ws.forEach((w, p) => {
      if (wbar[p]! > 0) psi += (w * rounds[i]!.clicks[p]! - r[p]! * w) / wbar[p]!;
    });
    s2 += psi * psi;
  });
  const se = Math.sqrt(s2 / (n * (n - 1)));
  return figures('snips', k, k, value, se, [value - Z95 * se, value + Z95 * se], { ...common, interval: 'delta' });
}

/**
 * IPS under the position-based click model (Li, Kim, Zitouni 2018, the PBM estimator): P(click on
 * a at k) = θ_k·α(a). Each shown item a at logged position k gets
 *
 *   w_ik = Σ_{j ≤ K'} 1[b_ij = a]·θ_j / Σ_{j ≤ K} π0(a, j)·θ_j,   V̂ = (1/n) Σ_i Σ_k w_ik·c_ik,
 *
 * unbiased for Σ_j θ_j α(b_j) under the PBM, and with far smaller weights than item-position IPS
 * because an item shown anywhere informs every position. θ may be on any scale (it cancels).
 * Interval: CLT on the per-round contributions, or the bootstrap. ESS is over logged positions.
 */
export function pbm(rounds: readonly LoggedRound[], options: PbmOptions): OpeResult {
  const k = validateRounds(rounds);
  const theta = options.examination;
  if (theta.length < k) throw invalid('examination', `has ${theta.length} values for ${k} positions`);
  theta.forEach((t, j) => {
    if (!(t > 0 && Number.isFinite(t))) throw invalid(`examination[${j}]`, `must be a positive number, got ${t}`);
  });
  const few = tooFew(rounds);
  if (few) return few;
  let thetaK = 0;
  for (let j = 0; j < k; j++) thetaK += theta[j]!;
  const y = new Float64Array(rounds.length);
  const weights = rounds.map((r, i) => {
    const n = r.pool.length;
    const ws = r.shown.map((a) => {
      let num = 0;
      r.candidate.forEach((b, j) => {
        if (b === a) num += theta[j]!;
      });
      if (num === 0) return 0;
      // Σ_j π0(a, j)θ_j = (1 − ε)·θ_{rank(a)+1}·1[rank(a) < K] + (ε/N)·Σ_{j ≤ K} θ_j without shadows;
      // with them π0 has a part per slot (loggingPropensity). a is in the pool (validated).
      if (r.shadows === undefined || r.shadows.slates.length === 0) {
        const rank = r.pool.indexOf(a);
        return num / ((rank < k ? (1 - r.epsilon) * theta[rank]! : 0) + (r.epsilon / n) * thetaK);
      }
      let den = 0;
      for (let j = 0; j < k; j++) den += loggingPropensity(r, a, j + 1) * theta[j]!;
      return num / den;
    });
    let s = 0;
    ws.forEach((w, p) => (s += w * r.clicks[p]!));
    y[i] = s;
    return ws;
  });
  return meanOfContributions('pbm', k, y, weights, k, rounds, options);
}

/**
 * Doubly robust, item-position form (Dudík, Langford, Li 2011, "Doubly robust policy evaluation
 * and learning", ICML): with a reward model q̂(b_p, p) ≈ P(click),
 *
 *   V̂ = (1/n) Σ_i [ Σ_p q̂(b_ip, p) + Σ_p 1[b_ip = a_ip]·(c_ip − q̂(b_ip, p)) / π0(a_ip, p) ],
 *
 * unbiased when either the propensities or the reward model are right. Needs `reward` on every
 * round (refused otherwise). Interval: CLT on the per-round contributions, or the bootstrap; ESS
 * is that of the IPS weights.
 */
export function dr(rounds: readonly LoggedRound[], options: IntervalOptions = {}): OpeResult {
  const k = validateRounds(rounds);
  const missing = rounds.findIndex((r) => r.reward === undefined);
  if (missing >= 0) {
    return refuse(
      'missing_reward',
      `rounds[${missing}] has no reward estimates: doubly robust needs q̂ for every candidate item on every round`,
    );
  }
  const few = tooFew(rounds);
  if (few) return few;
  const weights = itemPositionWeights(rounds);
  const y = new Float64Array(rounds.length);
  rounds.forEach((r, i) => {
    let s = 0;
    r.reward!.forEach((q, p) => (s += q + weights[i]![p]! * (r.clicks[p]! - q)));
    y[i] = s;
  });
  return meanOfContributions('dr', k, y, weights, maxCandidateLength(rounds), rounds, options);
}

export type ExaminationResult =
  | {
      readonly ok: true;
      /** θ_p / θ_1 for p = 1..K (θ_1 / θ_1 = 1). */
      readonly theta: readonly number[];
      /** Delta-method SE of each ratio (0 for position 1). */
      readonly se: readonly number[];
      /** Clicks at each position over the explored rounds. */
      readonly clicks: readonly number[];
      /** Explored rounds used. */
      readonly n: number;
    }
  | OpeRefusal;

/**
 * Relative examination probabilities from the explored rounds. Under a uniformly random
 * permutation every pool item is equally likely at every position, so under the PBM
 * E[c_ip] = θ_p·ᾱ_i with ᾱ_i the mean α over round i's pool, the same for every p; hence
 *
 *   θ̂_p / θ̂_1 = Σ_i c_ip / Σ_i c_i1   (explored rounds i),
 *
 * a ratio of means, with delta-method SE √(Σ_i (c_ip − r_p c_i1)² / (n(n − 1))) / c̄_1
 * (Li et al. 2018 estimate θ from randomised result lists the same way). Refused without
 * explored rounds or without a click at position 1.
 *
 * @example estimateExamination(rounds) // { ok: true, theta: [1, 0.61, 0.34], se: [0, 0.02, 0.015], ... }
 */
export function estimateExamination(rounds: readonly LoggedRound[]): ExaminationResult {
  const k = validateRounds(rounds);
  const explored = rounds.filter(uniformlyExplored);
  if (explored.length === 0)
    return refuse('no_exploration', 'no uniformly explored slates in the window (exploration is off): nothing to estimate from');
  const n = explored.length;
  const clicks = new Array<number>(k).fill(0);
  for (const r of explored) r.clicks.forEach((c, p) => (clicks[p]! += c));
  const first = clicks[0]!;
  if (first === 0) return refuse('no_clicks', `no clicks at position 1 on the ${n} explored slates: the ratios θ_p / θ_1 are undefined`);
  const theta = clicks.map((c) => c / first);
  const se = theta.map((t, p) => {
    if (p === 0 || n < 2) return 0;
    let s2 = 0;
    for (const r of explored) s2 += (r.clicks[p]! - t * r.clicks[0]!) ** 2;
    return Math.sqrt(s2 / (n * (n - 1))) / (first / n);
  });
  return { ok: true, theta, se, clicks, n };
}

export interface CheckSupportOptions {
  /** Whose importance weights the ESS is taken over; default 'ips' (snips and dr share its weights). */
  readonly estimator?: OpeEstimatorName;
  /** Required when estimator is 'pbm'. */
  readonly examination?: readonly number[];
  /** Default MIN_SUPPORT. */
  readonly minSupport?: number;
  /** Default MIN_ESS, or MIN_ESS_GAMMA for 'ips' (whose default interval is the gamma one). */
  readonly minEss?: number;
}

export type SupportCheck = { readonly ok: true; readonly support: number; readonly ess: number; readonly explored: number } | OpeRefusal;

/**
 * Whether the window can say anything about the candidate, checked in order: there are rounds;
 * some were explored; at least `minSupport` of the candidate's (item, position) choices had π0 > 0;
 * the estimator's weights have ESS ≥ `minEss`; for 'dr', every round carries reward estimates.
 * Returns the first failure as a one-line reason.
 *
 * @example checkSupport(rounds) // { ok: false, code: 'low_ess', reason: 'effective sample size 12 is below 100' }
 */
export function checkSupport(rounds: readonly LoggedRound[], options: CheckSupportOptions = {}): SupportCheck {
  const { estimator = 'ips', minSupport = MIN_SUPPORT } = options;
  const minEss = options.minEss ?? (estimator === 'ips' ? MIN_ESS_GAMMA : MIN_ESS);
  validateRounds(rounds);
  if (rounds.length === 0) return refuse('no_rounds', 'no logged rounds in the window: nothing to estimate from');
  const explored = rounds.reduce((s, r) => s + (r.explored ? 1 : 0), 0);
  if (explored === 0) return refuse('no_exploration', 'no explored slates in the window (exploration is off): nothing to estimate from');
  const support = supportShare(rounds);
  if (support < minSupport) {
    return refuse(
      'low_support',
      `the candidate's choices have too little support: ${percent(support)} of its (item, position) choices were ever possible under the logging policy (need ${percent(minSupport)})`,
    );
  }
  if (estimator === 'dr') {
    const missing = rounds.findIndex((r) => r.reward === undefined);
    if (missing >= 0)
      return refuse(
        'missing_reward',
        `rounds[${missing}] has no reward estimates: doubly robust needs q̂ for every candidate item on every round`,
      );
  }
  let ess: number;
  if (estimator === 'replay') {
    ess = rounds.filter((r) => uniformlyExplored(r) && r.candidate.length > 0 && r.candidate[0] === r.shown[0]).length;
  } else if (estimator === 'pbm') {
    if (!options.examination)
      throw new DomainError('missing_field', 'examination: the pbm check needs examination probabilities', { field: 'examination' });
    const result = pbm(rounds, { examination: options.examination });
    ess = result.ok ? result.estimate.ess : 0;
  } else {
    ess = effectiveSampleSize(itemPositionWeights(rounds), maxCandidateLength(rounds));
  }
  if (ess < minEss) return refuse('low_ess', `effective sample size ${Math.round(ess)} is below ${minEss}`);
  return { ok: true, support, ess, explored };
}
