/**
 * Value of information over Monte Carlo samples of each option's net value (issue 19). Pure: the
 * arrays come from the scenario sampler (or a test), the only randomness (EVSI's simulated test
 * results) comes from a seeded Rng. Notation: NB_d is option d's net value, one Float64Array of n
 * samples per option, all aligned (sample i of every option and input is one draw of the world);
 * d* is the option with the highest sample mean (first on ties).
 *
 * Monte Carlo standard errors: `mean_se` and EVPI's SE are the SE of a sample mean; EVPPI's and
 * EVSI's come from the influence function of the regression estimator (see `regressionVoi`).
 * Tests: test/core/roi/voi.test.ts (closed forms within 3 SE, a hand-enumerated discrete model,
 * the SE's calibration over 30 seeds).
 */
import { DomainError } from '../kernel/errors.js';
import type { Rng } from '../kernel/rng.js';
import { normalCdf, normalPdf } from '../stats/distributions.js';
import { type DesignBuffers, type DesignOptions, cholSolve, fitLeastSquares, fitted, smoothDesign } from './regression.js';

export type OptionSamples = ReadonlyMap<string, Float64Array>;

export interface Quantiles {
  readonly p5: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p95: number;
}

export interface OptionSummary {
  readonly mean: number;
  /** Monte Carlo SE of the mean: sd / √n (sd with n − 1). */
  readonly mean_se: number;
  readonly quantiles: Quantiles;
  /** Share of samples with value > 0. */
  readonly p_positive: number;
  /** Share of samples where this option has the highest value (the first such option on ties). */
  readonly p_best: number;
}

export interface Summary {
  readonly options: Record<string, OptionSummary>;
  /** The option with the highest mean (the first in the map's order on ties). */
  readonly best: string;
}

/** An estimate with its Monte Carlo standard error. */
export interface Estimate {
  readonly value: number;
  readonly se: number;
}

/**
 * Per option: mean and SE (sd/√n, sd with n − 1), quantiles 5/25/50/75/95, P(value > 0), and
 * P(best) = share of samples i where d = first argmax_d NB_d(i). Quantiles are numpy's default
 * (`np.quantile(..., method="linear")`, Hyndman & Fan 1996 type 7): with the sorted sample x_(0..n−1),
 * h = (n − 1)·q, Q(q) = x_(⌊h⌋) + (h − ⌊h⌋)·(x_(⌊h⌋+1) − x_(⌊h⌋)).
 *
 * @example summarize(new Map([['a', new Float64Array([0, 0])], ['b', new Float64Array([-1, 3])]])).best // 'b'
 */
export function summarize(options: OptionSamples): Summary {
  const { names, cols, n } = checkOptions(options);
  const bestCount = new Float64Array(cols.length);
  for (let i = 0; i < n; i++) bestCount[argmaxAt(cols, i)]!++;
  const out: Record<string, OptionSummary> = {};
  let best = 0;
  const means = cols.map((c) => meanSd(c));
  names.forEach((name, d) => {
    const c = cols[d]!;
    const { mean, sd } = means[d]!;
    if (mean > means[best]!.mean) best = d;
    let positive = 0;
    for (let i = 0; i < n; i++) if (c[i]! > 0) positive++;
    const sorted = Float64Array.from(c).sort();
    out[name] = {
      mean,
      mean_se: sd / Math.sqrt(n),
      quantiles: {
        p5: quantileSorted(sorted, 0.05),
        p25: quantileSorted(sorted, 0.25),
        p50: quantileSorted(sorted, 0.5),
        p75: quantileSorted(sorted, 0.75),
        p95: quantileSorted(sorted, 0.95),
      },
      p_positive: positive / n,
      p_best: bestCount[d]! / n,
    };
  });
  return { options: out, best: names[best]! };
}

/** Numpy's linear (type 7) quantile of an ascending sample, q in [0, 1]. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const f = Math.floor(h);
  const lo = sorted[f]!;
  return f + 1 < sorted.length ? lo + (h - f) * (sorted[f + 1]! - lo) : lo;
}

/**
 * Expected value of perfect information: EVPI = E[max_d NB_d] − max_d E[NB_d], estimated by
 * (1/n) Σ_i (max_d NB_d(i) − NB_{d*}(i)) (the same number, as d* maximises the sample means).
 * SE: the sample SD of the per-sample regret max_d NB_d(i) − NB_{d*}(i) over √n, i.e. d* taken
 * as known (its selection error is negligible unless two options' means are within their SE).
 * Source: e.g. Briggs, Claxton & Sculpher 2006, *Decision Modelling for Health Economic
 * Evaluation*, ch. 7; Strong, Oakley & Brennan 2014, eq. 2.
 *
 * @example evpi(new Map([['a', new Float64Array([0, 0])], ['b', new Float64Array([-1, 3])]])) // { value: 0.5, se: 0.5 }
 */
export function evpi(options: OptionSamples): Estimate {
  const { cols, n } = checkOptions(options);
  const ref = cols[bestByMean(cols)]!;
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    const r = cols[argmaxAt(cols, i)]![i]! - ref[i]!;
    sum += r;
    sum2 += r * r;
  }
  const mean = sum / n;
  const variance = Math.max(0, (sum2 - n * mean * mean) / (n - 1));
  return { value: mean, se: Math.sqrt(variance / n) };
}

export interface EvppiOptions extends DesignOptions {
  /** Names the input in errors (field `inputs.<name>`); default "input". */
  readonly inputName?: string;
}

/**
 * Expected value of partial perfect information of one input X, by the regression method of
 * Strong, Oakley & Brennan 2014 (Med Decis Making 34:311–326, "Estimating multiparameter partial
 * expected value of perfect information from a probabilistic sensitivity analysis sample: a
 * nonparametric regression approach"):
 *
 *   EVPPI = E_X[max_d E(NB_d | X)] − max_d E[NB_d]  ≈  (1/n) Σ_i max_d ĝ_d(x_i) − max_d (1/n) Σ_i ĝ_d(x_i),
 *
 * with ĝ_d a smooth least-squares fit of NB_d on X (regression.ts: a cubic regression spline with
 * knots at quantiles, or group means for an input with few values). As in the paper's appendix,
 * the incremental values Δ_d = NB_d − NB_{d*} are regressed (D − 1 fits), and since the fit
 * contains the intercept Σ_i ĝ_d(x_i) = Σ_i NB_d(i), the estimate is (1/n) Σ_i max(0, max_d Δ̂_d(x_i)).
 * SE: see `regressionVoi`. Like every regression estimator it is biased upward by the noise in
 * the fit (O(p/n) in the paper's analysis), visible only when EVPPI is close to 0 and the decision
 * close to a tie.
 *
 * @example evppi(samples.inputs.get('p1')!, samples.options) // { value: 0.083, se: 0.001 }
 */
export function evppi(input: Float64Array, options: OptionSamples, opts: EvppiOptions = {}): Estimate {
  const prepared = prepare(options);
  return regressionVoi(input, prepared, opts.inputName ?? 'input', opts, workspace(prepared));
}

/** EVPPI of every input, sharing the per-option work: the same numbers as `evppi` one by one. */
export function evppiAll(
  inputs: ReadonlyMap<string, Float64Array>,
  options: OptionSamples,
  opts: DesignOptions = {},
): Map<string, Estimate> {
  const prepared = prepare(options);
  const work = workspace(prepared);
  const out = new Map<string, Estimate>();
  for (const [name, x] of inputs) out.set(name, regressionVoi(x, prepared, name, opts, work));
  return out;
}

/** A planned two-arm test of an uplift input u: n readers per arm, per-reader SD σ of the metric. */
export interface PlannedTest {
  /** Readers per arm (≥ 0; 0 = no test, EVSI 0; Infinity = perfect information on u). */
  readonly nPerArm: number;
  /** Per-reader standard deviation σ of the metric the test measures u on (same units as u). */
  readonly sdPerReader: number;
}

/**
 * Expected value of sample information of a planned A/B test measuring u: the test's estimate is
 * x = u + e, e ~ N(0, s²) with s² = 2σ²/n (difference of two means of n readers each), and
 *
 *   EVSI = E_x[max_d E(NB_d | x)] − max_d E[NB_d].
 *
 * Method: Strong, Oakley, Brennan & Breeze 2015 (Med Decis Making 35:570–583, "Estimating the
 * expected value of sample information using the probabilistic sensitivity analysis sample: a
 * fast nonparametric regression-based method"): simulate one test result x_i = u_i + s·z_i per
 * sample (z_i standard normal by Box–Muller from `rng`) and regress NB_d on x_i with the EVPPI
 * smoother; the estimate and SE are then EVPPI's with x in place of the input. Re-seeding the Rng
 * with the same seed for every n gives common random numbers, so EVSI(n) is smooth in n.
 * For a normal u and net values linear in u the closed form is `evsiNormalLinear`.
 *
 * @example evsi(samples.inputs.get('uplift')!, samples.options, { nPerArm: 10_000, sdPerReader: 2 }, seededRng(1))
 */
export function evsi(u: Float64Array, options: OptionSamples, test: PlannedTest, rng: Rng, opts: EvppiOptions = {}): Estimate {
  checkTest(test);
  const prepared = prepare(options);
  const name = opts.inputName ?? 'input';
  checkInput(u, prepared.n, name);
  if (test.nPerArm === 0) return { value: 0, se: 0 };
  const s = Number.isFinite(test.nPerArm) ? test.sdPerReader * Math.sqrt(2 / test.nPerArm) : 0;
  const x = new Float64Array(u.length);
  for (let i = 0; i < u.length; i += 2) {
    // Box–Muller: two independent N(0, 1) from two uniforms; 1 − U is in (0, 1].
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const theta = 2 * Math.PI * rng.next();
    x[i] = u[i]! + s * r * Math.cos(theta);
    if (i + 1 < u.length) x[i + 1] = u[i + 1]! + s * r * Math.sin(theta);
  }
  return regressionVoi(x, prepared, name, opts, workspace(prepared));
}

/** An option whose conditional expected net value is linear in the uplift: E(NB_d | u) = intercept + slope·u. */
export interface LinearOption {
  readonly intercept: number;
  readonly slope: number;
}

/**
 * Closed-form EVSI for u ~ N(μ0, σ0²) and E(NB_d | u) = a_d + b_d·u (other inputs independent of u
 * enter a_d through their means). After the test the posterior mean of u is
 * m = (σ0²·x + s²·μ0)/(σ0² + s²), whose preposterior distribution is N(μ0, τ²), τ² = σ0⁴/(σ0² + s²),
 * s² = 2σ²/n (Raiffa & Schlaifer 1961; Strong et al. 2015, section 2), so
 *
 *   EVSI = E_m[max_d (a_d + b_d·m)] − max_d (a_d + b_d·μ0).
 *
 * E_m[max_d ...] is exact: on each interval [l, r] of the upper envelope where line d is the
 * maximum, with α = (l − μ0)/τ, β = (r − μ0)/τ,
 * E[(a + b·m)·1{l < m < r}] = (a + b·μ0)(Φ(β) − Φ(α)) − b·τ·(φ(β) − φ(α)).
 * For two options this is μΦ(μ/σ) + σφ(μ/σ) − max(0, μ) with μ = Δa + Δb·μ0, σ = |Δb|·τ.
 * n = Infinity gives EVPPI(u) (τ = σ0); n = 0 gives 0.
 *
 * @example evsiNormalLinear(new Map([['a', { intercept: 0, slope: 0 }], ['b', { intercept: 0, slope: 1 }]]), { mean: 0, sd: 1 }, { nPerArm: Infinity, sdPerReader: 1 }) // φ(0) = 0.3989
 */
export function evsiNormalLinear(
  options: ReadonlyMap<string, LinearOption>,
  prior: { readonly mean: number; readonly sd: number },
  test: PlannedTest,
): number {
  checkTest(test);
  if (options.size === 0) throw new DomainError('invalid_field', 'options: at least one option is needed', { field: 'options' });
  for (const [name, o] of options) {
    if (!Number.isFinite(o.intercept) || !Number.isFinite(o.slope)) {
      throw new DomainError('invalid_field', `options.${name}: intercept and slope must be finite numbers`, { field: `options.${name}` });
    }
  }
  if (!Number.isFinite(prior.mean) || !(prior.sd >= 0) || !Number.isFinite(prior.sd)) {
    throw new DomainError('invalid_field', 'prior: mean must be finite and sd a finite number ≥ 0', { field: 'prior' });
  }
  const lines = [...options.values()];
  const mu = prior.mean;
  const now = Math.max(...lines.map((l) => l.intercept + l.slope * mu));
  if (test.nPerArm === 0 || prior.sd === 0) return 0;
  const v0 = prior.sd * prior.sd;
  const s2 = Number.isFinite(test.nPerArm) ? (2 * test.sdPerReader * test.sdPerReader) / test.nPerArm : 0;
  const tau = Math.sqrt((v0 * v0) / (v0 + s2));
  if (tau === 0) return 0;
  // Breakpoints of the upper envelope: every pairwise crossing (D is small), sorted.
  const cuts: number[] = [];
  for (let a = 0; a < lines.length; a++) {
    for (let b = a + 1; b < lines.length; b++) {
      const ds = lines[a]!.slope - lines[b]!.slope;
      if (ds !== 0) cuts.push((lines[b]!.intercept - lines[a]!.intercept) / ds);
    }
  }
  cuts.sort((x, y) => x - y);
  const edges = [-Infinity, ...cuts, Infinity];
  let expected = 0;
  for (let k = 0; k + 1 < edges.length; k++) {
    const l = edges[k]!;
    const r = edges[k + 1]!;
    if (!(r > l)) continue;
    const mid = l === -Infinity ? (r === Infinity ? mu : r - 1) : r === Infinity ? l + 1 : (l + r) / 2;
    let top = lines[0]!;
    for (const line of lines) if (line.intercept + line.slope * mid > top.intercept + top.slope * mid) top = line;
    const alpha = (l - mu) / tau;
    const beta = (r - mu) / tau;
    const mass = normalCdf(beta) - normalCdf(alpha);
    const dens = (Number.isFinite(beta) ? normalPdf(beta) : 0) - (Number.isFinite(alpha) ? normalPdf(alpha) : 0);
    expected += (top.intercept + top.slope * mu) * mass - top.slope * tau * dens;
  }
  return Math.max(0, expected - now);
}

/** What a test costs: readers exposed to the worse arm, and the value lost while waiting for the result. */
export interface TestCost {
  /** Expected loss per reader in the test (the worse arm's expected per-reader shortfall, as a cost ≥ 0 per reader per arm). */
  readonly lossPerReader: number;
  /** Value lost per day the decision waits (≥ 0); default 0. */
  readonly delayCostPerDay?: number;
  /** Readers per day entering the test, both arms together (> 0); needed when delayCostPerDay > 0. */
  readonly readersPerDay?: number;
  /** Cost of running any test at all (≥ 0), charged for n > 0; default 0. */
  readonly fixedCost?: number;
}

export interface TestSizeRow {
  /** Readers per arm (0 = no test). */
  readonly n: number;
  readonly evsi: number;
  readonly evsi_se: number;
  readonly cost: number;
  /** evsi − cost. */
  readonly net: number;
}

export interface TestSizeGrid {
  /** Smallest n > 0; default 100. */
  readonly min?: number;
  /** Largest n; default 10,000,000. */
  readonly max?: number;
  /** Grid points per factor of 10; default 4 (100, 178, 316, 562, 1000, ...). */
  readonly perDecade?: number;
}

/**
 * The test size n (readers per arm) maximising EVSI(n) − cost(n) over n = 0 and a geometric grid
 * n_k = round(min · 10^(k/perDecade)) up to max, with
 *
 *   cost(n) = fixedCost + n·lossPerReader + delayCostPerDay · (2n / readersPerDay)   (n > 0),  cost(0) = 0,
 *
 * i.e. the readers on the worse arm times their expected shortfall plus the value lost during the
 * 2n/readersPerDay days the test needs (a simple linear delay; no discounting). EVSI(n) comes from
 * `evsiAt` (the closed form, or the regression `evsi` with a fixed seed for common random
 * numbers). Returns every row and the best one (the smallest n among equal nets, so n = 0 when no
 * test pays). A grid search, not an optimiser: the answer is known to the grid's resolution.
 *
 * @example optimalTestSize((n) => ({ value: evsiNormalLinear(opts, prior, { nPerArm: n, sdPerReader: 2 }), se: 0 }), { lossPerReader: 0.001 })
 */
export function optimalTestSize(
  evsiAt: (nPerArm: number) => { readonly value: number; readonly se?: number },
  cost: TestCost,
  grid: TestSizeGrid = {},
): { table: TestSizeRow[]; best: TestSizeRow } {
  const min = grid.min ?? 100;
  const max = grid.max ?? 10_000_000;
  const perDecade = grid.perDecade ?? 4;
  if (!(Number.isInteger(min) && min >= 1))
    throw new DomainError('invalid_field', 'grid.min must be an integer ≥ 1', { field: 'grid.min' });
  if (!(Number.isInteger(max) && max >= min))
    throw new DomainError('invalid_field', 'grid.max must be an integer ≥ grid.min', { field: 'grid.max' });
  if (!(Number.isInteger(perDecade) && perDecade >= 1 && perDecade <= 100)) {
    throw new DomainError('invalid_field', 'grid.perDecade must be an integer in 1..100', { field: 'grid.perDecade' });
  }
  const loss = nonNegative(cost.lossPerReader, 'lossPerReader');
  const delay = nonNegative(cost.delayCostPerDay ?? 0, 'delayCostPerDay');
  const fixed = nonNegative(cost.fixedCost ?? 0, 'fixedCost');
  const perDay = cost.readersPerDay;
  if (delay > 0 && !(perDay !== undefined && Number.isFinite(perDay) && perDay > 0)) {
    throw new DomainError('invalid_field', 'readersPerDay must be a number > 0 when delayCostPerDay > 0', { field: 'readersPerDay' });
  }
  const ns = [0];
  for (let k = 0; ; k++) {
    const v = Math.round(min * 10 ** (k / perDecade));
    if (v > max) break;
    if (v > ns[ns.length - 1]!) ns.push(v);
  }
  if (ns[ns.length - 1] !== max) ns.push(max);
  const table = ns.map((n): TestSizeRow => {
    if (n === 0) return { n, evsi: 0, evsi_se: 0, cost: 0, net: 0 };
    const e = evsiAt(n);
    const c = fixed + n * loss + (delay > 0 ? (delay * 2 * n) / perDay! : 0);
    return { n, evsi: e.value, evsi_se: e.se ?? 0, cost: c, net: e.value - c };
  });
  let best = table[0]!;
  for (const row of table) if (row.net > best.net) best = row;
  return { table, best };
}

// ---------------------------------------------------------------------------------------------
// The regression estimator shared by EVPPI and EVSI
// ---------------------------------------------------------------------------------------------

interface Prepared {
  readonly n: number;
  /** Δ_d = NB_d − NB_{d*} for every d ≠ d*. */
  readonly diffs: Float64Array[];
}

/** Per-sample buffers of the regression, reused across inputs. */
interface Workspace {
  readonly design: DesignBuffers;
  readonly fits: Float64Array[];
  readonly psi: Float64Array;
  readonly weight: Float64Array;
}

function workspace({ n, diffs }: Prepared): Workspace {
  return {
    design: { start: new Int32Array(n), values: new Float64Array(4 * n) },
    fits: diffs.map(() => new Float64Array(n)),
    psi: new Float64Array(n),
    weight: new Float64Array(n),
  };
}

function prepare(options: OptionSamples): Prepared {
  const { cols, n } = checkOptions(options);
  const ref = bestByMean(cols);
  const base = cols[ref]!;
  const diffs: Float64Array[] = [];
  cols.forEach((c, d) => {
    if (d === ref) return;
    const diff = new Float64Array(n);
    for (let i = 0; i < n; i++) diff[i] = c[i]! - base[i]!;
    diffs.push(diff);
  });
  return { n, diffs };
}

/**
 * T = (1/n) Σ_i h(x_i), h(x) = max(0, max_d Δ̂_d(x)), Δ̂_d(x) = B(x)'β̂_d the least-squares fit
 * of Δ_d on the design B of x.
 *
 * SE: the influence function of T (delta method for a plug-in estimator, e.g. van der Vaart 1998,
 * *Asymptotic Statistics*, ch. 20; OLS's influence (X'X/n)⁻¹B_i e_i, heteroskedasticity-robust as
 * White's sandwich). With w_d(x) the indicator that Δ̂_d wins and is positive at x,
 * a_d = Σ_i w_d(x_i)·B(x_i)/n = ∂T/∂β_d and residuals e_{d,i} = Δ_d(i) − Δ̂_d(x_i):
 *
 *   ψ_i = (h(x_i) − T)/n + Σ_d a_d'(X'X)⁻¹ B(x_i) e_{d,i},    SE² = Σ_i ψ_i².
 *
 * The first term is the Monte Carlo error of averaging h over the sampled x, the second the
 * error of the fitted ĝ (Strong et al. 2014 get the latter by sampling β from N(β̂, V̂); the
 * delta method is its first-order version, and needs no extra passes per draw). It omits the
 * fit's O(p/n) upward bias and the spline's approximation error; test/core/roi/voi.test.ts
 * checks its calibration over 30 seeds.
 */
function regressionVoi(x: Float64Array, prepared: Prepared, name: string, opts: DesignOptions, work: Workspace): Estimate {
  const { n, diffs } = prepared;
  checkInput(x, n, name);
  if (diffs.length === 0) return { value: 0, se: 0 };
  const design = smoothDesign(x, opts, work.design);
  const fit = fitLeastSquares(design, diffs);
  const { p, width, start, values } = design;
  const D = diffs.length;
  const fits = fit.coef.map((b, d) => fitted(design, b, work.fits[d]));
  // h_i (kept in psi) and a_d = Σ_i w_d(x_i) B(x_i) / n.
  const psi = work.psi;
  const a = diffs.map(() => new Float64Array(p));
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let h = 0;
    let w = -1;
    for (let d = 0; d < D; d++) {
      const f = fits[d]![i]!;
      if (f > h) {
        h = f;
        w = d;
      }
    }
    psi[i] = h;
    sum += h;
    if (w >= 0) {
      const ad = a[w]!;
      const s = start[i]!;
      for (let k = 0; k < width; k++) ad[s + k]! += values[i * width + k]!;
    }
  }
  const value = sum / n;
  // ψ_i = (h_i − T)/n + Σ_d [B(x_i)'(X'X)⁻¹a_d]·e_{d,i}
  for (let i = 0; i < n; i++) psi[i] = (psi[i]! - value) / n;
  const weight = work.weight;
  for (let d = 0; d < D; d++) {
    const ad = a[d]!;
    for (let k = 0; k < p; k++) ad[k]! /= n;
    fitted(design, cholSolve(fit.chol, p, ad), weight);
    const y = diffs[d]!;
    const f = fits[d]!;
    for (let i = 0; i < n; i++) psi[i]! += weight[i]! * (y[i]! - f[i]!);
  }
  let var_ = 0;
  for (let i = 0; i < n; i++) var_ += psi[i]! * psi[i]!;
  return { value, se: Math.sqrt(var_) };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function checkOptions(options: OptionSamples): { names: string[]; cols: Float64Array[]; n: number } {
  if (options.size === 0) throw new DomainError('invalid_field', 'options: at least one option is needed', { field: 'options' });
  const names = [...options.keys()];
  const cols = [...options.values()];
  const n = cols[0]!.length;
  if (n < 2) throw new DomainError('invalid_field', 'options: at least 2 samples are needed', { field: 'options' });
  names.forEach((name, d) => {
    const c = cols[d]!;
    if (c.length !== n) {
      throw new DomainError('invalid_field', `options.${name}: ${c.length} samples where the others have ${n}`, {
        field: `options.${name}`,
      });
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(c[i]!)) {
        throw new DomainError('invalid_field', `options.${name}: sample ${i} is ${c[i]}, not a finite number`, {
          field: `options.${name}`,
        });
      }
    }
  });
  return { names, cols, n };
}

function checkInput(x: Float64Array, n: number, name: string): void {
  const field = `inputs.${name}`;
  if (x.length !== n) throw new DomainError('invalid_field', `${field}: ${x.length} samples where the options have ${n}`, { field });
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]!)) throw new DomainError('invalid_field', `${field}: sample ${i} is ${x[i]}, not a finite number`, { field });
  }
}

function checkTest(test: PlannedTest): void {
  if (!(test.nPerArm >= 0) || (Number.isFinite(test.nPerArm) && !Number.isInteger(test.nPerArm))) {
    throw new DomainError('invalid_field', 'test.nPerArm must be an integer ≥ 0 (or Infinity)', { field: 'test.nPerArm' });
  }
  if (!(test.sdPerReader > 0) || !Number.isFinite(test.sdPerReader)) {
    throw new DomainError('invalid_field', 'test.sdPerReader must be a finite number > 0', { field: 'test.sdPerReader' });
  }
}

function nonNegative(v: number, field: string): number {
  if (!(v >= 0) || !Number.isFinite(v)) throw new DomainError('invalid_field', `${field} must be a finite number ≥ 0`, { field });
  return v;
}

function meanSd(c: Float64Array): { mean: number; sd: number } {
  let sum = 0;
  for (let i = 0; i < c.length; i++) sum += c[i]!;
  const mean = sum / c.length;
  let ss = 0;
  for (let i = 0; i < c.length; i++) ss += (c[i]! - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / (c.length - 1)) };
}

function bestByMean(cols: Float64Array[]): number {
  let best = 0;
  let bestMean = -Infinity;
  cols.forEach((c, d) => {
    let sum = 0;
    for (let i = 0; i < c.length; i++) sum += c[i]!;
    if (sum / c.length > bestMean) {
      bestMean = sum / c.length;
      best = d;
    }
  });
  return best;
}

/** First d with the largest cols[d][i]. */
function argmaxAt(cols: Float64Array[], i: number): number {
  let best = 0;
  let v = cols[0]![i]!;
  for (let d = 1; d < cols.length; d++) {
    if (cols[d]![i]! > v) {
      v = cols[d]![i]!;
      best = d;
    }
  }
  return best;
}
