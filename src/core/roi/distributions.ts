/**
 * The uncertain inputs of an ROI scenario: a parameter's JSON (`{"dist": "pert", "min": …}`) is
 * validated into a `DistSpec` and turned into a `Distribution`, whose quantile function maps the
 * uniform scores of the Gaussian copula (scenario.ts) to values. Quantiles come from jstat where it
 * is accurate enough (beta, hence PERT; triangular) and from closed forms on the project's own
 * normal quantile elsewhere; test/core/roi/distributions.test.ts checks every one against SciPy.
 *
 * Errors are DomainError('invalid_field', '<field path>: <what is wrong>', { field }), one per bad
 * thing, the field path given by the caller (`parameters.p1`) plus the key (`parameters.p1.sd`).
 */
import jstatPkg from 'jstat';
import { DomainError } from '../kernel/errors.js';
import { normalCdf, normalQuantile } from '../stats/distributions.js';

const { jStat } = jstatPkg;

/** z_{0.95}: a 90% interval [p5, p95] is mu ± Z95 · sigma on the log scale. */
export const Z95 = 1.6448536269514722;

/** Tolerance on a discrete distribution's probabilities summing to 1. */
export const PROBS_SUM_TOLERANCE = 1e-9;

/** A validated distribution. Lognormal is normalised to {mu, sigma} whatever form it was given in. */
export type DistSpec =
  | { readonly dist: 'normal'; readonly mean: number; readonly sd: number }
  | { readonly dist: 'lognormal'; readonly mu: number; readonly sigma: number }
  | { readonly dist: 'beta'; readonly alpha: number; readonly beta: number; readonly min: number; readonly max: number }
  | { readonly dist: 'triangular'; readonly min: number; readonly mode: number; readonly max: number }
  | { readonly dist: 'pert'; readonly min: number; readonly mode: number; readonly max: number; readonly lambda: number }
  | { readonly dist: 'uniform'; readonly min: number; readonly max: number }
  | { readonly dist: 'discrete'; readonly values: readonly number[]; readonly probs: readonly number[] }
  | { readonly dist: 'constant'; readonly value: number }
  | { readonly dist: 'measured'; readonly source: string; readonly scale: number };

export type DistName = DistSpec['dist'];

export const DIST_NAMES: readonly DistName[] = [
  'normal',
  'lognormal',
  'beta',
  'triangular',
  'pert',
  'uniform',
  'discrete',
  'constant',
  'measured',
];

/** What readnext measured for a `measured` input: the posterior mean and sd of the quantity. */
export interface Measurement {
  readonly mean: number;
  readonly sd: number;
}

/**
 * A distribution on the real line, sampled through its quantile function so that the Gaussian
 * copula can correlate any two inputs.
 */
export interface Distribution {
  readonly mean: number;
  readonly sd: number;
  /** F⁻¹(u) for u in [0, 1]. */
  quantile(u: number): number;
  /** x_i = F⁻¹(Φ(z_i)) for standard normal scores z (the normal and lognormal skip Φ: mean + sd·z, exp(mu + sigma·z)). */
  fromNormal(z: Float64Array, out?: Float64Array): Float64Array;
}

/** Keys every parameter may carry besides its distribution's own: documentation for the reader of the file. */
const DOC_KEYS = ['dist', 'description', 'unit'];

const MEASURED_SOURCE = /^(experiment:[^:]+:.+|ope:[^:]+:.+|offline:.+)$/;

const invalid = (field: string, what: string): DomainError => new DomainError('invalid_field', `${field}: ${what}`, { field });

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * A document's value as an error message quotes it: its JSON, or "an object" / "an array" when it
 * is nested too deeply for JSON.stringify (which then throws a RangeError: that was a 500).
 */
export function shown(v: unknown): string {
  try {
    return String(JSON.stringify(v));
  } catch {
    return Array.isArray(v) ? 'an array' : 'an object';
  }
}

function num(x: Record<string, unknown>, key: string, field: string, check?: (v: number) => string | undefined, fallback?: number): number {
  const v = x[key];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw invalid(`${field}.${key}`, `missing (${String(x.dist)} needs ${key})`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${field}.${key}`, `must be a finite number, got ${shown(v)}`);
  const problem = check?.(v);
  if (problem !== undefined) throw invalid(`${field}.${key}`, `${problem}, got ${v}`);
  return v;
}

const positive = (v: number): string | undefined => (v > 0 ? undefined : 'must be greater than 0');

function onlyKeys(x: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(x)) {
    if (!DOC_KEYS.includes(key) && !allowed.includes(key)) {
      throw invalid(`${field}.${key}`, `unknown field for ${String(x.dist)} (allowed: ${allowed.join(', ')})`);
    }
  }
  for (const key of ['description', 'unit']) {
    if (x[key] !== undefined && typeof x[key] !== 'string') throw invalid(`${field}.${key}`, 'must be a string');
  }
}

function minMax(x: Record<string, unknown>, field: string): { min: number; max: number } {
  const min = num(x, 'min', field);
  const max = num(x, 'max', field);
  if (!(max > min)) throw invalid(`${field}.max`, `must be greater than min (${min}), got ${max}`);
  return { min, max };
}

function numberArray(v: unknown, field: string): number[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid(field, 'must be a non-empty array of numbers');
  return v.map((e, i) => {
    if (typeof e !== 'number' || !Number.isFinite(e)) throw invalid(`${field}[${i}]`, `must be a finite number, got ${shown(e)}`);
    return e;
  });
}

/**
 * Lognormal from one of three forms: {mu, sigma} (of ln X); {p5, p95}, the 90% interval, so
 * mu = (ln p5 + ln p95)/2 and sigma = (ln p95 − ln p5)/(2 z_0.95); {mean, sd} of X itself, so
 * sigma² = ln(1 + sd²/mean²) and mu = ln mean − sigma²/2 (the lognormal's moments).
 */
function parseLognormal(x: Record<string, unknown>, field: string): DistSpec {
  const form = 'p5' in x || 'p95' in x ? 'interval' : 'mean' in x || 'sd' in x ? 'moments' : 'log';
  const forms = 'give exactly one of {mu, sigma}, {p5, p95} or {mean, sd}';
  if (form === 'interval') {
    onlyKeys(x, ['p5', 'p95'], field);
    const p5 = num(x, 'p5', field, positive);
    const p95 = num(x, 'p95', field, positive);
    if (!(p5 < p95)) throw invalid(`${field}.p95`, `must be greater than p5 (${p5}), got ${p95}`);
    return { dist: 'lognormal', mu: (Math.log(p5) + Math.log(p95)) / 2, sigma: (Math.log(p95) - Math.log(p5)) / (2 * Z95) };
  }
  if (form === 'moments') {
    for (const key of ['mu', 'sigma']) if (key in x) throw invalid(`${field}.${key}`, forms);
    onlyKeys(x, ['mean', 'sd'], field);
    const mean = num(x, 'mean', field, positive);
    const sd = num(x, 'sd', field, positive);
    const s2 = Math.log1p((sd * sd) / (mean * mean));
    return { dist: 'lognormal', mu: Math.log(mean) - s2 / 2, sigma: Math.sqrt(s2) };
  }
  onlyKeys(x, ['mu', 'sigma'], field);
  if (!('mu' in x) && !('sigma' in x)) throw invalid(`${field}.mu`, `missing (lognormal: ${forms})`);
  return { dist: 'lognormal', mu: num(x, 'mu', field), sigma: num(x, 'sigma', field, positive) };
}

/**
 * Validates one parameter's JSON at `field` (e.g. `parameters.p1`).
 *
 * @example parseDistribution({ dist: 'lognormal', p5: 1, p95: 10 }, 'parameters.cost') // { dist: 'lognormal', mu: 1.151…, sigma: 0.6999… }
 */
export function parseDistribution(x: unknown, field: string): DistSpec {
  if (!isRecord(x)) throw invalid(field, 'must be an object like {"dist": "normal", "mean": 0, "sd": 1}');
  const dist = x.dist;
  if (typeof dist !== 'string' || !(DIST_NAMES as readonly string[]).includes(dist)) {
    throw invalid(`${field}.dist`, `unknown distribution ${shown(dist)} (one of ${DIST_NAMES.join(', ')})`);
  }
  const name = dist as DistName;
  switch (name) {
    case 'normal':
      onlyKeys(x, ['mean', 'sd'], field);
      return { dist: 'normal', mean: num(x, 'mean', field), sd: num(x, 'sd', field, positive) };
    case 'lognormal':
      return parseLognormal(x, field);
    case 'beta': {
      onlyKeys(x, ['alpha', 'beta', 'min', 'max'], field);
      const alpha = num(x, 'alpha', field, positive);
      const beta = num(x, 'beta', field, positive);
      if ('min' in x || 'max' in x) return { dist: 'beta', alpha, beta, ...minMax(x, field) };
      return { dist: 'beta', alpha, beta, min: 0, max: 1 };
    }
    case 'triangular':
    case 'pert': {
      onlyKeys(x, name === 'pert' ? ['min', 'mode', 'max', 'lambda'] : ['min', 'mode', 'max'], field);
      const { min, max } = minMax(x, field);
      const mode = num(x, 'mode', field, (v) => (v >= min && v <= max ? undefined : `must be between min (${min}) and max (${max})`));
      if (name === 'triangular') return { dist: name, min, mode, max };
      return { dist: name, min, mode, max, lambda: num(x, 'lambda', field, positive, 4) };
    }
    case 'uniform':
      onlyKeys(x, ['min', 'max'], field);
      return { dist: 'uniform', ...minMax(x, field) };
    case 'discrete': {
      onlyKeys(x, ['values', 'probs'], field);
      const values = numberArray(x.values, `${field}.values`);
      const probs = numberArray(x.probs, `${field}.probs`);
      if (probs.length !== values.length) throw invalid(`${field}.probs`, `has ${probs.length} entries for ${values.length} values`);
      probs.forEach((p, i) => {
        if (p < 0) throw invalid(`${field}.probs[${i}]`, `must not be negative, got ${p}`);
      });
      const sum = probs.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > PROBS_SUM_TOLERANCE)
        throw invalid(`${field}.probs`, `must sum to 1 (within ${PROBS_SUM_TOLERANCE}), sum to ${sum}`);
      return { dist: 'discrete', values, probs };
    }
    case 'constant':
      onlyKeys(x, ['value'], field);
      return { dist: 'constant', value: num(x, 'value', field) };
    case 'measured': {
      onlyKeys(x, ['source', 'scale'], field);
      const source = x.source;
      if (typeof source !== 'string' || !MEASURED_SOURCE.test(source)) {
        throw invalid(
          `${field}.source`,
          `must be "experiment:ID:METRIC", "ope:PLACEMENT:CANDIDATE" or "offline:MODEL", got ${shown(source)}`,
        );
      }
      const scale = num(x, 'scale', field, (v) => (v !== 0 ? undefined : 'must not be 0'), 1);
      return { dist: 'measured', source, scale };
    }
  }
}

/** Applies `q` to Φ(z_i): the copula's uniform scores, then the quantile function. */
function viaUniform(q: (u: number) => number): (z: Float64Array, out?: Float64Array) => Float64Array {
  return (z, out = new Float64Array(z.length)) => {
    for (let i = 0; i < z.length; i++) out[i] = q(normalCdf(z[i]!));
    return out;
  };
}

function normal(mean: number, sd: number): Distribution {
  return {
    mean,
    sd,
    quantile: (u) => mean + sd * normalQuantile(u),
    fromNormal: (z, out = new Float64Array(z.length)) => {
      for (let i = 0; i < z.length; i++) out[i] = mean + sd * z[i]!;
      return out;
    },
  };
}

/** Beta(alpha, beta) on [min, max]: mean min + w·a/(a+b), variance w²·ab/((a+b)²(a+b+1)), w = max − min. */
function scaledBeta(alpha: number, beta: number, min: number, max: number): Distribution {
  const w = max - min;
  const s = alpha + beta;
  const quantile = (u: number): number => min + w * jStat.beta.inv(u, alpha, beta);
  return { mean: min + (w * alpha) / s, sd: w * Math.sqrt((alpha * beta) / (s * s * (s + 1))), quantile, fromNormal: viaUniform(quantile) };
}

/**
 * The sampling distribution of a spec; a `measured` spec needs its measurement (a normal with the
 * measured mean and sd, both times `scale`), and without one throws naming `field`.
 *
 * Closed forms used for mean and sd: lognormal E = e^(mu+sigma²/2), Var = (e^(sigma²) − 1)e^(2mu+sigma²);
 * triangular E = (a+b+c)/3, Var = (a²+b²+c²−ab−ac−bc)/18; PERT (Vose, Risk Analysis 3rd ed., 2008)
 * = Beta(1 + λ(m−a)/(b−a), 1 + λ(b−m)/(b−a)) on [a, b], so E = (a + λm + b)/(λ + 2); uniform
 * E = (a+b)/2, sd = (b−a)/√12.
 *
 * @example distributionOf({ dist: 'uniform', min: 0, max: 10 }).quantile(0.25) // 2.5
 */
export function distributionOf(spec: DistSpec, measured?: Measurement, field = 'source'): Distribution {
  switch (spec.dist) {
    case 'normal':
      return normal(spec.mean, spec.sd);
    case 'measured': {
      if (measured === undefined) throw invalid(field, `no measurement found for ${spec.source}`);
      if (!Number.isFinite(measured.mean) || !Number.isFinite(measured.sd) || measured.sd < 0) {
        throw invalid(field, `the measurement of ${spec.source} is not a finite mean and sd >= 0 (${measured.mean}, ${measured.sd})`);
      }
      return normal(spec.scale * measured.mean, Math.abs(spec.scale) * measured.sd);
    }
    case 'lognormal': {
      const { mu, sigma } = spec;
      const s2 = sigma * sigma;
      return {
        mean: Math.exp(mu + s2 / 2),
        sd: Math.sqrt(Math.expm1(s2)) * Math.exp(mu + s2 / 2),
        quantile: (u) => Math.exp(mu + sigma * normalQuantile(u)),
        fromNormal: (z, out = new Float64Array(z.length)) => {
          for (let i = 0; i < z.length; i++) out[i] = Math.exp(mu + sigma * z[i]!);
          return out;
        },
      };
    }
    case 'beta':
      return scaledBeta(spec.alpha, spec.beta, spec.min, spec.max);
    case 'pert': {
      const { min: a, mode: m, max: b, lambda } = spec;
      return scaledBeta(1 + (lambda * (m - a)) / (b - a), 1 + (lambda * (b - m)) / (b - a), a, b);
    }
    case 'triangular': {
      const { min: a, mode: c, max: b } = spec;
      const quantile = (u: number): number => jStat.triangular.inv(u, a, b, c);
      return {
        mean: (a + b + c) / 3,
        sd: Math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18),
        quantile,
        fromNormal: viaUniform(quantile),
      };
    }
    case 'uniform': {
      const { min, max } = spec;
      const quantile = (u: number): number => min + (max - min) * u;
      return { mean: (min + max) / 2, sd: (max - min) / Math.sqrt(12), quantile, fromNormal: viaUniform(quantile) };
    }
    case 'discrete':
      return discrete(spec.values, spec.probs);
    case 'constant': {
      const { value } = spec;
      return {
        mean: value,
        sd: 0,
        quantile: () => value,
        fromNormal: (z, out = new Float64Array(z.length)) => out.fill(value),
      };
    }
  }
}

/**
 * Discrete: values sorted ascending (so the copula keeps its order: a higher score, a higher value)
 * with cumulative probabilities normalised to end at exactly 1; F⁻¹(u) is the first value whose
 * cumulative probability is ≥ u (binary search). Each sample is exactly one of the values.
 */
function discrete(values: readonly number[], probs: readonly number[]): Distribution {
  const order = values.map((_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const sorted = order.map((i) => values[i]!);
  const total = probs.reduce((a, b) => a + b, 0);
  const cum: number[] = [];
  let acc = 0;
  for (const i of order) cum.push((acc += probs[i]! / total));
  cum[cum.length - 1] = 1;
  const mean = values.reduce((s, v, i) => s + v * probs[i]!, 0) / total;
  const variance = values.reduce((s, v, i) => s + (v - mean) * (v - mean) * probs[i]!, 0) / total;
  const quantile = (u: number): number => {
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! >= u) hi = mid;
      else lo = mid + 1;
    }
    return sorted[lo]!;
  };
  return { mean, sd: Math.sqrt(variance), quantile, fromNormal: viaUniform(quantile) };
}
