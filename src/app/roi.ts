/**
 * ROI under uncertainty (issue 19), the use cases: analyse a scenario document (`readnext roi`,
 * POST /v1/admin/roi), and close the loop with production (`readnext roi update`): replace the
 * priors of inputs that readnext measured (an experiment, an off-policy estimate, an offline
 * evaluation) by their posteriors, recompute, and store the revision with its sources.
 *
 * The document is core/roi's (scenario.ts) plus what this layer adds and strips before parsing:
 *   - documentation keys: top-level `description`, `currency`, `name`; per parameter `description`,
 *     `unit`, `measured_by` (a measurement source that `roi update` uses);
 *   - derived inputs `{"dist":"derived","expr":"a * b"}`: an expression over the other (non-derived)
 *     inputs, substituted into the options' expressions as a parenthesised sub-expression; its EVPPI
 *     is computed on its own samples like any input's, and a measurement can update it.
 *
 * Updating (Gelman et al., Bayesian Data Analysis, 3rd ed., §2.5): a measurement is a normal
 * likelihood x ~ N(θ, s²) (an experiment's relative effect and its standard error; the CLT holds at
 * A/B test sizes). A normal prior N(μ0, σ0²) gives the normal posterior
 *   σ1² = 1 / (1/σ0² + 1/s²),  μ1 = σ1² (μ0/σ0² + x/s²),
 * written into the document in place of the prior. Any other prior (a lognormal, a derived input)
 * is updated by sampling-importance-resampling on the Monte Carlo samples (Rubin 1988; Smith &
 * Gelfand 1992): weights w_i = φ((x − θ_i)/s), resampled systematically to an unweighted sample, whose
 * effective sample size (Σw)²/Σw² is reported: the posterior is exact up to Monte Carlo error, with
 * no normal assumption on the prior. `{"dist":"measured"}` is the measurement itself (a flat prior).
 */
import { DomainError } from '../core/kernel/errors.js';
import { seededRng } from '../core/kernel/rng.js';
import { parseScenario, sampleScenario, type ScenarioSamples } from '../core/roi/scenario.js';
import { evpi, evppiAll, evsi, optimalTestSize, quantileSorted, summarize, type TestSizeRow } from '../core/roi/voi.js';
import { normalPdf } from '../core/stats/distributions.js';
import type { ExperimentReport } from './analysis.js';
import { offPolicyEstimate } from './ope.js';
import type { ModelStore, RecordStore, RoiRevision, RoiStore } from './ports.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** Keys of the document this layer reads and removes before core/roi parses it. */
const DOC_META = ['description', 'currency', 'name', 'planned_test'] as const;
const PARAM_META = ['description', 'unit', 'measured_by'] as const;

/** A measured quantity: its estimate and standard error (a normal likelihood), and what it came from. */
export interface Measurement {
  source: string;
  mean: number;
  sd: number;
  /** One line for a person: which report, window and figure. */
  detail: string;
}

/** How one input was updated by `roi update`. */
export interface InputUpdate {
  parameter: string;
  source: string;
  measurement: { mean: number; sd: number; detail: string };
  prior: { mean: number; sd: number };
  posterior: { mean: number; sd: number };
  method: 'normal-normal' | 'sir' | 'measured';
  /** SIR only: effective sample size of the importance weights. */
  ess?: number;
}

export interface OptionFigures {
  mean: number;
  mean_se: number;
  quantiles: { p5: number; p25: number; p50: number; p75: number; p95: number };
  p_positive: number;
  p_best: number;
  /** Monte Carlo standard errors of the quantiles, P(> 0) and P(best) (monteCarloErrors). */
  quantiles_se: { p5: number; p25: number; p50: number; p75: number; p95: number };
  p_positive_se: number;
  p_best_se: number;
}

/** The analysis: the CLI contract's fields first (snake_case), then what the dashboard and people read. */
export interface RoiResult {
  options: Record<string, OptionFigures>;
  best: string;
  evpi: number;
  evpi_se: number;
  evppi: Record<string, number>;
  evppi_se: Record<string, number>;
  /** Inputs by EVPPI, highest first: "lift this uncertainty first". */
  ranking: string[];
  samples: number;
  seed: number;
  currency: string | null;
  /** Every input's mean and 5%–95% interval in the (posterior) sample. */
  inputs: Record<string, { mean: number; sd: number; p5: number; p95: number }>;
  updates: InputUpdate[];
  /** The document's planned test, when it has one: EVSI by size and the best size (n = 0: no test pays). */
  planned_test: PlannedTestResult | null;
}

/** A document made ready for core/roi: the core document, the derived inputs, and each input's measurement source. */
export interface PreparedScenario {
  core: Obj;
  derived: Map<string, string>;
  measuredBy: Map<string, string>;
  currency: string | null;
  name: string | null;
  plannedTest: PlannedTestSpec | null;
}

/**
 * A planned A/B test of an uplift input (`planned_test` in the document): its EVSI by test size and
 * the size that maximises EVSI minus the test's cost (core/roi/voi.ts evsi, optimalTestSize).
 */
export interface PlannedTestSpec {
  /** The uplift input the test measures (a parameter or a derived input). */
  input: string;
  /** Per-reader standard deviation of the metric on the input's scale (for a relative uplift in articles read: their coefficient of variation). */
  sd_per_reader: number;
  /** Readers entering the test per day, both arms. */
  readers_per_day: number;
  /** Expected loss per reader in the test (the worse arm's shortfall), in the document's currency. */
  loss_per_reader: number;
  /** Value lost per day the decision waits, in the document's currency (default 0). */
  delay_cost_per_day: number;
  /** Cost of running any test (default 0). */
  fixed_cost: number;
  /** Largest test size considered, readers per arm (default 10,000,000). */
  max_readers_per_arm: number;
}

export interface PlannedTestResult {
  input: string;
  /** EVPPI of the input: what a test of infinite size would be worth. */
  evppi: number;
  table: TestSizeRow[];
  best: TestSizeRow;
}

const invalid = (field: string, message: string): DomainError => new DomainError('invalid_field', `${field}: ${message}`, { field });
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SOURCE = /^(experiment|ope|offline):.+/;

/** Strips the documentation keys, pulls out derived inputs and `measured_by`; the rest is core/roi's to validate. */
export function prepareScenario(doc: unknown): PreparedScenario {
  if (!isObj(doc)) throw invalid('document', 'must be a JSON object');
  const core: Obj = {};
  for (const [k, v] of Object.entries(doc)) if (!(DOC_META as readonly string[]).includes(k)) core[k] = v;
  const plannedTest = doc.planned_test === undefined ? null : parsePlannedTest(doc.planned_test);
  const currency = doc.currency === undefined ? null : doc.currency;
  if (currency !== null && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)))
    throw invalid('currency', 'must be an ISO 4217 code such as "EUR"');
  const name = doc.name === undefined ? null : doc.name;
  if (name !== null && (typeof name !== 'string' || name.length === 0 || name.length > 100))
    throw invalid('name', 'must be a string of 1 to 100 characters');
  if (doc.description !== undefined && typeof doc.description !== 'string') throw invalid('description', 'must be a string');
  const derived = new Map<string, string>();
  const measuredBy = new Map<string, string>();
  if (isObj(doc.parameters)) {
    const params: Obj = {};
    for (const [p, spec] of Object.entries(doc.parameters)) {
      if (!isObj(spec)) {
        params[p] = spec;
        continue;
      }
      const clean: Obj = {};
      for (const [k, v] of Object.entries(spec)) if (!(PARAM_META as readonly string[]).includes(k)) clean[k] = v;
      for (const k of ['description', 'unit'] as const)
        if (spec[k] !== undefined && typeof spec[k] !== 'string') throw invalid(`parameters.${p}.${k}`, 'must be a string');
      if (spec.measured_by !== undefined) {
        if (typeof spec.measured_by !== 'string' || !SOURCE.test(spec.measured_by))
          throw invalid(
            `parameters.${p}.measured_by`,
            'must be "experiment:ID:METRIC[:ARM]", "ope:PLACEMENT:KIND@VERSION" or "offline:MODEL"',
          );
        measuredBy.set(p, spec.measured_by);
      }
      if (clean.dist === 'derived') {
        if (!IDENT.test(p)) throw invalid(`parameters.${p}`, 'a parameter name is a letter or _ then letters, digits or _');
        const keys = Object.keys(clean).filter((k) => k !== 'dist' && k !== 'expr');
        if (keys.length > 0) throw invalid(`parameters.${p}.${keys[0]}`, 'is not a field of a derived input (dist, expr)');
        if (typeof clean.expr !== 'string' || clean.expr.trim() === '')
          throw invalid(`parameters.${p}.expr`, 'must be an expression over the other inputs');
        derived.set(p, clean.expr);
        continue;
      }
      params[p] = clean;
    }
    // A derived input names base inputs only (no chains): checked by core/roi when its expression is parsed as an option.
    for (const [p, expr] of derived)
      for (const q of derived.keys())
        if (new RegExp(`\\b${q}\\b`).test(expr))
          throw invalid(`parameters.${p}.expr`, `names the derived input "${q}": derived inputs name base inputs only`);
    core.parameters = params;
    if (isObj(doc.options)) {
      const options: Obj = {};
      for (const [o, expr] of Object.entries(doc.options)) options[o] = typeof expr === 'string' ? substitute(expr, derived) : expr;
      // The derived inputs' own samples, as extra options split off after sampling.
      for (const [p, expr] of derived) options[derivedOption(p)] = expr;
      core.options = options;
    }
  }
  if (plannedTest !== null) {
    const params = isObj(doc.parameters) ? doc.parameters : {};
    if (!(plannedTest.input in params)) throw invalid('planned_test.input', `"${plannedTest.input}" is not an input of the document`);
  }
  return { core, derived, measuredBy, currency: currency as string | null, name: name as string | null, plannedTest };
}

function parsePlannedTest(x: Json): PlannedTestSpec {
  if (!isObj(x)) throw invalid('planned_test', 'must be an object');
  const known = ['input', 'sd_per_reader', 'readers_per_day', 'loss_per_reader', 'delay_cost_per_day', 'fixed_cost', 'max_readers_per_arm'];
  for (const k of Object.keys(x))
    if (!known.includes(k)) throw invalid(`planned_test.${k}`, `unknown field (allowed: ${known.join(', ')})`);
  if (typeof x.input !== 'string') throw invalid('planned_test.input', 'must name an input');
  const num = (k: string, ok: (v: number) => boolean, what: string, fallback?: number): number => {
    const v = x[k];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw invalid(`planned_test.${k}`, `must be ${what}`);
    return v;
  };
  return {
    input: x.input,
    sd_per_reader: num('sd_per_reader', (v) => v > 0, 'a number > 0'),
    readers_per_day: num('readers_per_day', (v) => v > 0, 'a number > 0'),
    loss_per_reader: num('loss_per_reader', (v) => v >= 0, 'a number >= 0'),
    delay_cost_per_day: num('delay_cost_per_day', (v) => v >= 0, 'a number >= 0', 0),
    fixed_cost: num('fixed_cost', (v) => v >= 0, 'a number >= 0', 0),
    max_readers_per_arm: num('max_readers_per_arm', (v) => Number.isInteger(v) && v >= 100, 'an integer >= 100', 10_000_000),
  };
}

const derivedOption = (p: string): string => `\u0000derived:${p}`;

/** Each derived input's name in `expr` replaced by its parenthesised expression (names are identifiers; expressions hold no strings). */
function substitute(expr: string, derived: ReadonlyMap<string, string>): string {
  let out = expr;
  for (const [p, d] of derived) out = out.replace(new RegExp(`\\b${p}\\b`, 'g'), `(${d})`);
  return out;
}

/** Samples a prepared scenario: the options' values and every input's samples (derived ones included). */
function sample(prepared: PreparedScenario, measured: ReadonlyMap<string, { mean: number; sd: number }>): ScenarioSamples {
  const scenario = parseScenario(prepared.core);
  const s = sampleScenario(scenario, measured);
  const options = new Map<string, Float64Array>();
  const inputs = new Map(s.inputs);
  for (const [o, v] of s.options) {
    if (o.startsWith('\u0000derived:')) inputs.set(o.slice('\u0000derived:'.length), v);
    else options.set(o, v);
  }
  return { ...s, inputs, options };
}

function moments(x: Float64Array): { mean: number; sd: number } {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i]!;
  m /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - m) ** 2;
  return { mean: m, sd: Math.sqrt(v / Math.max(1, x.length - 1)) };
}

/**
 * Sampling-importance-resampling of the joint sample on one input's column: weights φ((x − θ_i)/s),
 * systematic resampling (Kitagawa 1996) with a seeded offset. Returns the resampled samples and the
 * weights' ESS. Throws when no sample has weight (the measurement is far outside the prior).
 */
function resample(
  s: ScenarioSamples,
  column: Float64Array,
  m: { mean: number; sd: number },
  seed: number,
  field: string,
): { s: ScenarioSamples; ess: number } {
  const n = column.length;
  const w = new Float64Array(n);
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    const x = normalPdf((m.mean - column[i]!) / m.sd);
    w[i] = x;
    sum += x;
    sum2 += x * x;
  }
  if (!(sum > 0)) throw invalid(field, `the measurement ${m.mean} ± ${m.sd} is outside every sample of the prior: widen the prior`);
  const ess = (sum * sum) / sum2;
  const idx = new Int32Array(n);
  const u0 = seededRng(seed ^ 0x5eed).next() / n;
  let c = w[0]! / sum;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const u = u0 + i / n;
    while (u > c && j < n - 1) c += w[++j]! / sum;
    idx[i] = j;
  }
  const pick = (a: Float64Array): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = a[idx[i]!]!;
    return out;
  };
  const inputs = new Map([...s.inputs].map(([k, v]) => [k, pick(v)] as const));
  const options = new Map([...s.options].map(([k, v]) => [k, pick(v)] as const));
  return { s: { ...s, inputs, options }, ess };
}

const QUANTILES = [
  ['p5', 0.05],
  ['p25', 0.25],
  ['p50', 0.5],
  ['p75', 0.75],
  ['p95', 0.95],
] as const;

/**
 * Monte Carlo standard errors of each option's figures over n independent samples:
 *   - a share p (P(> 0), P(best)): √(p(1 − p)/n), binomial;
 *   - the q-quantile: √(q(1 − q)/n) / f(x_q) (the asymptotic variance of a sample quantile, e.g.
 *     Serfling 1980, §2.3.3), with the density's inverse 1/f(x_q) estimated by the difference
 *     quotient (x_(q+h) − x_(q−h)) / 2h of the sorted sample, h = √(q(1 − q)/n) (the
 *     Siddiqui–Bloch–Gastwirth estimator, bandwidth of order n^(−1/2)); 0 for a constant option.
 * (After sampling-importance-resampling the samples hold repeats: these then understate the error.)
 */
function monteCarloErrors(
  options: Record<string, Omit<OptionFigures, 'quantiles_se' | 'p_positive_se' | 'p_best_se'>>,
  samples: ReadonlyMap<string, Float64Array>,
): Record<string, OptionFigures> {
  const out: Record<string, OptionFigures> = {};
  for (const [name, o] of Object.entries(options)) {
    const x = Float64Array.from(samples.get(name)!).sort();
    const n = x.length;
    const share = (p: number): number => Math.sqrt((p * (1 - p)) / n);
    const qse = {} as OptionFigures['quantiles_se'];
    for (const [k, q] of QUANTILES) {
      const h = Math.sqrt((q * (1 - q)) / n);
      const lo = quantileSorted(x, Math.max(0, q - h));
      const hi = quantileSorted(x, Math.min(1, q + h));
      qse[k] = ((hi - lo) / (Math.min(1, q + h) - Math.max(0, q - h))) * share(q);
    }
    out[name] = { ...o, quantiles_se: qse, p_positive_se: share(o.p_positive), p_best_se: share(o.p_best) };
  }
  return out;
}

/**
 * Analyses a document: samples it (measured inputs resolved by `measurements`, keyed by parameter),
 * applies SIR updates for the measurements of non-normal inputs, and computes the options' figures,
 * EVPI and every input's EVPPI with their Monte Carlo standard errors.
 */
export function analyseScenario(doc: unknown, measurements: ReadonlyMap<string, Measurement> = new Map()): RoiResult {
  const prepared = prepareScenario(doc);
  const params = (prepared.core.parameters ?? {}) as Obj;
  const updates: InputUpdate[] = [];
  const updated: Obj = { ...params };
  const sirs: { parameter: string; m: Measurement }[] = [];
  const measuredSources = new Map<string, { mean: number; sd: number }>();
  for (const [p, m] of measurements) {
    const field = `parameters.${p}`;
    if (!(p in params) && !prepared.derived.has(p)) throw invalid(field, 'no such input to update');
    if (!(m.sd > 0) || !Number.isFinite(m.mean))
      throw invalid(`${field}.measured_by`, `the measurement ${m.source} has no usable estimate (${m.mean} ± ${m.sd})`);
    const spec = params[p];
    if (isObj(spec) && spec.dist === 'measured') {
      measuredSources.set(String(spec.source), m);
      updates.push({
        parameter: p,
        source: m.source,
        measurement: m,
        prior: { mean: NaN, sd: Infinity },
        posterior: m,
        method: 'measured',
      });
    } else if (isObj(spec) && spec.dist === 'normal' && typeof spec.mean === 'number' && typeof spec.sd === 'number' && spec.sd > 0) {
      const v1 = 1 / (1 / spec.sd ** 2 + 1 / m.sd ** 2);
      const mean = v1 * (spec.mean / spec.sd ** 2 + m.mean / m.sd ** 2);
      updated[p] = { dist: 'normal', mean, sd: Math.sqrt(v1) };
      updates.push({
        parameter: p,
        source: m.source,
        measurement: m,
        prior: { mean: spec.mean, sd: spec.sd },
        posterior: { mean, sd: Math.sqrt(v1) },
        method: 'normal-normal',
      });
    } else sirs.push({ parameter: p, m });
  }
  const ready: PreparedScenario = { ...prepared, core: { ...prepared.core, parameters: updated } };
  let s = sample(ready, measuredSources);
  const seed = typeof prepared.core.seed === 'number' ? prepared.core.seed : 1;
  for (const { parameter, m } of sirs) {
    const col = s.inputs.get(parameter)!;
    const prior = moments(col);
    const r = resample(s, col, m, seed + updates.length, `parameters.${parameter}`);
    s = r.s;
    updates.push({
      parameter,
      source: m.source,
      measurement: m,
      prior,
      posterior: moments(s.inputs.get(parameter)!),
      method: 'sir',
      ess: r.ess,
    });
  }
  const sum = summarize(s.options);
  const e = evpi(s.options);
  const evppiValue: Record<string, number> = {};
  const evppiSe: Record<string, number> = {};
  const inputs: RoiResult['inputs'] = {};
  const varying = new Map<string, Float64Array>();
  for (const [name, x] of s.inputs) {
    const mo = moments(x);
    const sorted = Float64Array.from(x).sort();
    inputs[name] = { mean: mo.mean, sd: mo.sd, p5: quantileSorted(sorted, 0.05), p95: quantileSorted(sorted, 0.95) };
    if (mo.sd > 0) varying.set(name, x);
  }
  // Every input's EVPPI (Strong, Oakley & Brennan 2014, core/roi/voi.ts); a constant's is 0.
  const all = evppiAll(varying, s.options);
  for (const name of s.inputs.keys()) {
    const r = all.get(name);
    evppiValue[name] = r?.value ?? 0;
    evppiSe[name] = r?.se ?? 0;
  }
  let planned: PlannedTestResult | null = null;
  const t = prepared.plannedTest;
  if (t !== null) {
    const u = s.inputs.get(t.input)!;
    // Common random numbers: the same seeded test noise for every size (EVSI smooth in n).
    const at = (n: number) =>
      evsi(u, s.options, { nPerArm: n, sdPerReader: t.sd_per_reader }, seededRng(seed ^ 0x7e57), { inputName: t.input });
    const r = optimalTestSize(
      at,
      {
        lossPerReader: t.loss_per_reader,
        delayCostPerDay: t.delay_cost_per_day,
        readersPerDay: t.readers_per_day,
        fixedCost: t.fixed_cost,
      },
      { min: 100, max: t.max_readers_per_arm, perDecade: 4 },
    );
    planned = { input: t.input, evppi: evppiValue[t.input] ?? 0, table: r.table, best: r.best };
  }
  const ranking = Object.keys(evppiValue).sort((a, b) => evppiValue[b]! - evppiValue[a]! || (a < b ? -1 : 1));
  return {
    options: monteCarloErrors(sum.options, s.options),
    best: sum.best,
    evpi: e.value,
    evpi_se: e.se,
    evppi: evppiValue,
    evppi_se: evppiSe,
    ranking,
    samples: s.n,
    seed,
    currency: prepared.currency,
    inputs,
    updates,
    planned_test: planned,
  };
}

// ---- measurements from what readnext stored, and the loop with production

/** What resolving a measurement source reads. */
export interface RoiSourceDeps {
  /** The experiment's report (app/analysis.ts experimentReport, bound by the caller). */
  experimentReport(id: string): Promise<ExperimentReport>;
  records: RecordStore;
  models: Pick<ModelStore, 'getModel'>;
  now: number;
}

/** Default window of an `ope:` source: the 14 days before now. */
const OPE_WINDOW_MS = 14 * 86_400_000;

/**
 * A measurement from its source, as a normal likelihood on a relative scale:
 *   - `experiment:ID:METRIC[:ARM]`: the arm's relative effect on METRIC against the control (the
 *     report's estimate and standard error, CUPED as the report does); ARM defaults to the only
 *     treatment arm.
 *   - `ope:PLACEMENT:KIND@VERSION`: the candidate's off-policy clicks per slate relative to the live
 *     recommender's on the same logged requests, over the last 14 days: the first estimator that
 *     answered of snips, ips, dr; r = v̂/ℓ − 1 with the delta-method standard error
 *     se_r = √(se_v² + r̂'²·se_ℓ²)/ℓ, r̂' = v̂/ℓ (the two treated as independent: conservative).
 *   - `offline:MODEL`: the model's relative AUC lift above chance over its best single feature,
 *     (AUC_m − ½)/(AUC_f − ½) − 1, standard errors of each AUC by Hanley & McNeil (1982, Radiology
 *     143:29), combined by the delta method as independent (conservative: the two are positively correlated).
 * DomainError 'invalid_field' naming `field` when the source is malformed or says nothing yet.
 */
export async function resolveMeasurement(source: string, deps: RoiSourceDeps, field: string): Promise<Measurement> {
  const [kind, ...rest] = source.split(':');
  if (kind === 'experiment') {
    const [id, metric, armName] = rest;
    if (!id || !metric || rest.length > 3) throw invalid(field, `"${source}" is not experiment:ID:METRIC[:ARM]`);
    const report = await deps.experimentReport(id);
    const m = report.metrics.find((x) => x.metric === metric);
    if (!m) throw invalid(field, `experiment ${id} has no metric "${metric}" (${report.metrics.map((x) => x.metric).join(', ')})`);
    const comparisons = armName === undefined ? m.comparisons : m.comparisons.filter((c) => c.arm === armName);
    if (comparisons.length !== 1)
      throw invalid(
        field,
        armName === undefined
          ? `experiment ${id} has ${m.comparisons.length} treatment arms: name one (experiment:${id}:${metric}:ARM)`
          : `experiment ${id} has no treatment arm "${armName}"`,
      );
    const c = comparisons[0]!;
    if (!(c.se > 0) || !Number.isFinite(c.estimate))
      throw invalid(field, `experiment ${id} has no estimate of ${metric} yet${c.error ? `: ${c.error}` : ''}`);
    return {
      source,
      mean: c.estimate,
      sd: c.se,
      detail: `experiment ${id} phase ${report.phase}, ${metric} of ${c.arm} against the control: ${(100 * c.estimate).toFixed(2)}% ± ${(100 * c.se).toFixed(2)}% (SE)`,
    };
  }
  if (kind === 'ope') {
    const [placement, candidate] = rest;
    const at = candidate?.lastIndexOf('@') ?? -1;
    if (!placement || !candidate || rest.length !== 2 || at <= 0) throw invalid(field, `"${source}" is not ope:PLACEMENT:KIND@VERSION`);
    const req = {
      placement,
      candidate: { kind: candidate.slice(0, at), version: candidate.slice(at + 1) },
      sinceTs: deps.now - OPE_WINDOW_MS,
      untilTs: deps.now,
    };
    const r = await offPolicyEstimate(deps.records, req);
    const e = (['snips', 'ips', 'dr'] as const).map((n) => r.estimates[n]).find((x) => x.ok);
    if (!e || !e.ok)
      throw invalid(
        field,
        `no off-policy estimate of ${candidate} on ${placement}: ${(r.estimates.snips as { reason?: string }).reason ?? 'every estimator refused'}`,
      );
    const l = r.live.clicksPerSlate;
    const seL = (r.live.ci[1] - r.live.ci[0]) / (2 * 1.959963984540054);
    if (!(l > 0)) throw invalid(field, `the live recommender of ${placement} has no clicks in the window: no relative estimate`);
    const v = e.estimate.perSlate;
    const ratio = v.value / l;
    return {
      source,
      mean: ratio - 1,
      sd: Math.sqrt(v.se ** 2 + ratio ** 2 * seL ** 2) / l,
      detail: `${e.estimate.estimator} on ${r.rounds} logged requests (${r.explored} explored): ${v.value.toFixed(4)} clicks per slate against the live ${l.toFixed(4)}`,
    };
  }
  if (kind === 'offline') {
    const version = Number(rest[0]);
    if (rest.length !== 1 || !Number.isSafeInteger(version)) throw invalid(field, `"${source}" is not offline:MODEL (a model version)`);
    const m = await deps.models.getModel(version);
    if (!m) throw invalid(field, `no model ${version}`);
    const auc = m.metrics.auc;
    const feats = Object.values(m.metrics.featureAuc).filter((x): x is number => x !== null);
    const best = Math.max(...feats.map((x) => Math.max(x, 1 - x)));
    const pos = Math.round(m.metrics.testClickRate * m.metrics.testExamples);
    const neg = m.metrics.testExamples - pos;
    if (auc === null || feats.length === 0 || pos === 0 || neg === 0 || !(best > 0.5))
      throw invalid(field, `model ${version} has no test AUC to compare`);
    const se = (a: number): number => {
      // Hanley & McNeil (1982): Q1 = A/(2 − A), Q2 = 2A²/(1 + A).
      const q1 = a / (2 - a);
      const q2 = (2 * a * a) / (1 + a);
      return Math.sqrt((a * (1 - a) + (pos - 1) * (q1 - a * a) + (neg - 1) * (q2 - a * a)) / (pos * neg));
    };
    const r = (auc - 0.5) / (best - 0.5);
    return {
      source,
      mean: r - 1,
      sd: Math.sqrt(se(auc) ** 2 + r ** 2 * se(best) ** 2) / (best - 0.5),
      detail: `model ${version}: test AUC ${auc.toFixed(4)} against its best single feature's ${best.toFixed(4)} on ${m.metrics.testExamples} test examples`,
    };
  }
  throw invalid(field, `"${source}": a source is experiment:..., ope:... or offline:...`);
}

/** The measurements a document asks for: each input's `measured_by` (unless `measuredBy` is false: plain analysis), and every `{"dist":"measured"}` input's source. */
export async function measurementsOf(
  doc: unknown,
  deps: RoiSourceDeps,
  opts: { measuredBy?: boolean } = {},
): Promise<Map<string, Measurement>> {
  const prepared = prepareScenario(doc);
  const out = new Map<string, Measurement>();
  if (opts.measuredBy ?? true)
    for (const [p, source] of prepared.measuredBy) out.set(p, await resolveMeasurement(source, deps, `parameters.${p}.measured_by`));
  for (const [p, spec] of Object.entries((prepared.core.parameters ?? {}) as Obj))
    if (isObj(spec) && spec.dist === 'measured' && typeof spec.source === 'string' && !out.has(p))
      out.set(p, await resolveMeasurement(spec.source, deps, `parameters.${p}.source`));
  return out;
}

/**
 * `readnext roi update`: resolves the document's measurements, analyses it with the posteriors, and
 * stores the revision under `name` (the document's `name`, else "default") with its sources. Returns
 * the revision and the one before it (null for the first), so a caller can show what changed.
 */
export async function updateScenario(
  doc: unknown,
  deps: RoiSourceDeps & { store: RoiStore },
  opts: { name?: string } = {},
): Promise<{ revision: RoiRevision<unknown, InputUpdate[], RoiResult>; previous: RoiRevision<unknown, InputUpdate[], RoiResult> | null }> {
  const prepared = prepareScenario(doc);
  const name = opts.name ?? prepared.name ?? 'default';
  const measurements = await measurementsOf(doc, deps);
  const result = analyseScenario(doc, measurements);
  const before = (await deps.store.listRoiRevisions(name)) as RoiRevision<unknown, InputUpdate[], RoiResult>[];
  const createdTs = deps.now;
  const id = await deps.store.addRoiRevision({ name, createdTs, document: doc, sources: result.updates, result });
  return { revision: { id, name, createdTs, document: doc, sources: result.updates, result }, previous: before.at(-1) ?? null };
}
