/**
 * An ROI scenario document (the JSON `readnext roi --input` reads) validated into a `Scenario`,
 * and its Monte Carlo samples: every input drawn through a Gaussian copula, every option's value
 * evaluated over the draws. Pure and seeded: the same document gives the same arrays.
 *
 * Document (docs: notes/roi-design.md):
 *   { "samples": 200000, "seed": 1, "horizon_months": 36, "discount_rate": 0.08,
 *     "parameters": { "p1": {"dist": "normal", "mean": 1, "sd": 1}, … },
 *     "correlations": [ {"between": ["p1", "p2"], "rho": 0.5} ],
 *     "options": { "a": "0", "b": "p1 - p2" } }
 */
import { DomainError } from '../kernel/errors.js';
import { seededRng, type Rng } from '../kernel/rng.js';
import { distributionOf, parseDistribution, shown, type DistSpec, type Measurement } from './distributions.js';
import { compileExpression, type Expression } from './expression.js';

export const MIN_SAMPLES = 1_000;
export const MAX_SAMPLES = 2_000_000;
export const DEFAULT_SAMPLES = 100_000;
export const DEFAULT_SEED = 1;
export const DEFAULT_HORIZON_MONTHS = 36;

/** Below this pivot the correlation matrix counts as not positive definite. */
const PD_TOLERANCE = 1e-10;

const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names jsep reads as literals, so an expression could never refer to them. */
const RESERVED_NAMES = new Set(['true', 'false', 'null', 'this']);
const TOP_LEVEL_KEYS = ['samples', 'seed', 'horizon_months', 'discount_rate', 'parameters', 'correlations', 'options', 'description'];

export interface Correlation {
  readonly between: readonly [string, string];
  /** Correlation of the two inputs' normal scores (the Gaussian copula's parameter, not of the values). */
  readonly rho: number;
}

export interface Scenario {
  readonly samples: number;
  readonly seed: number;
  readonly horizonMonths: number;
  /** Annual rate; pv() discounts continuously at ln(1 + rate). */
  readonly discountRate: number;
  /** In document order, which is the order the inputs draw from the seeded stream. */
  readonly parameters: ReadonlyMap<string, DistSpec>;
  readonly correlations: readonly Correlation[];
  readonly options: ReadonlyMap<string, Expression>;
}

export interface ScenarioSamples {
  readonly n: number;
  /** One column of n draws per parameter. */
  readonly inputs: Map<string, Float64Array>;
  /** Net value per sample of each option. */
  readonly options: Map<string, Float64Array>;
}

const invalid = (field: string, what: string): DomainError => new DomainError('invalid_field', `${field}: ${what}`, { field });

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function optionalNumber(doc: Record<string, unknown>, key: string, fallback: number, check: (v: number) => string | undefined): number {
  const v = doc[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(key, `must be a finite number, got ${shown(v)}`);
  const problem = check(v);
  if (problem !== undefined) throw invalid(key, `${problem}, got ${v}`);
  return v;
}

/**
 * Validates a scenario document; every error is DomainError('invalid_field') naming the field
 * (`samples`, `parameters.p1.sd`, `correlations[0].rho`, `options.b`, …).
 *
 * @example parseScenario({ parameters: { p1: { dist: 'normal', mean: 1, sd: 1 } }, options: { a: '0', b: 'p1' } }).samples // 100000
 */
export function parseScenario(json: unknown): Scenario {
  if (!isRecord(json)) throw invalid('scenario', 'must be a JSON object with "parameters" and "options"');
  for (const key of Object.keys(json)) {
    if (!TOP_LEVEL_KEYS.includes(key)) throw invalid(key, `unknown field (allowed: ${TOP_LEVEL_KEYS.join(', ')})`);
  }
  if (json.description !== undefined && typeof json.description !== 'string') throw invalid('description', 'must be a string');
  const samples = optionalNumber(json, 'samples', DEFAULT_SAMPLES, (v) =>
    Number.isInteger(v) && v >= MIN_SAMPLES && v <= MAX_SAMPLES ? undefined : `must be an integer from ${MIN_SAMPLES} to ${MAX_SAMPLES}`,
  );
  const seed = optionalNumber(json, 'seed', DEFAULT_SEED, (v) => (Number.isSafeInteger(v) ? undefined : 'must be an integer'));
  const horizonMonths = optionalNumber(json, 'horizon_months', DEFAULT_HORIZON_MONTHS, (v) =>
    v > 0 ? undefined : 'must be greater than 0',
  );
  const discountRate = optionalNumber(json, 'discount_rate', 0, (v) => (v > -1 ? undefined : 'must be greater than -1'));

  if (!isRecord(json.parameters)) throw invalid('parameters', 'must be an object of named distributions');
  const parameters = new Map<string, DistSpec>();
  for (const [name, spec] of Object.entries(json.parameters)) {
    if (!PARAMETER_NAME.test(name) || RESERVED_NAMES.has(name)) {
      throw invalid(
        `parameters.${name}`,
        'a parameter name is a letter or _ then letters, digits or _ (and not true, false, null or this)',
      );
    }
    parameters.set(name, parseDistribution(spec, `parameters.${name}`));
  }

  const correlations = parseCorrelations(json.correlations, parameters);
  // Checked here, not only when sampling: a matrix that is not positive definite is a document error.
  cholesky(parameters, correlations);

  if (!isRecord(json.options) || Object.keys(json.options).length === 0) {
    throw invalid('options', 'must be an object with at least one option, e.g. {"status_quo": "0", "model": "p1 - p2"}');
  }
  const names = new Set(parameters.keys());
  const options = new Map<string, Expression>();
  for (const [name, source] of Object.entries(json.options)) {
    const field = `options.${name}`;
    if (name.length === 0) throw invalid('options', 'option names must be non-empty');
    if (typeof source !== 'string') throw invalid(field, `must be a string expression such as "p1 - p2", got ${shown(source)}`);
    options.set(name, compileExpression(source, names, field));
  }
  return { samples, seed, horizonMonths, discountRate, parameters, correlations, options };
}

function parseCorrelations(x: unknown, parameters: ReadonlyMap<string, DistSpec>): Correlation[] {
  if (x === undefined) return [];
  if (!Array.isArray(x)) throw invalid('correlations', 'must be an array of {"between": [a, b], "rho": r}');
  const seen = new Set<string>();
  return x.map((c: unknown, i): Correlation => {
    const field = `correlations[${i}]`;
    if (!isRecord(c)) throw invalid(field, 'must be an object {"between": [a, b], "rho": r}');
    for (const key of Object.keys(c))
      if (key !== 'between' && key !== 'rho') throw invalid(`${field}.${key}`, 'unknown field (allowed: between, rho)');
    const between = c.between;
    if (!Array.isArray(between) || between.length !== 2 || !between.every((b) => typeof b === 'string')) {
      throw invalid(`${field}.between`, 'must be two parameter names');
    }
    const [a, b] = between as [string, string];
    for (const [j, name] of [a, b].entries()) {
      if (!parameters.has(name)) throw invalid(`${field}.between[${j}]`, `unknown parameter "${name}"`);
    }
    if (a === b) throw invalid(`${field}.between`, `a parameter cannot be correlated with itself ("${a}")`);
    const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
    if (seen.has(key)) throw invalid(`${field}.between`, `the pair ${a}, ${b} is given twice`);
    seen.add(key);
    const rho = c.rho;
    if (typeof rho !== 'number' || !Number.isFinite(rho) || rho < -1 || rho > 1) {
      throw invalid(`${field}.rho`, `must be a number from -1 to 1, got ${shown(rho)}`);
    }
    return { between: [a, b], rho };
  });
}

/**
 * The Cholesky factor L (R = L Lᵀ, lower triangular; Golub & Van Loan, Matrix Computations,
 * 4th ed., Alg. 4.2.1) of the correlation matrix of the parameters that appear in a correlation,
 * in document order; the other parameters are independent and need none. Throws on `correlations`
 * when R is not positive definite (a pivot below 1e-10).
 */
function cholesky(parameters: ReadonlyMap<string, DistSpec>, correlations: readonly Correlation[]): { names: string[]; L: number[][] } {
  const involved = new Set(correlations.flatMap((c) => [...c.between]));
  const names = [...parameters.keys()].filter((p) => involved.has(p));
  const index = new Map(names.map((p, i) => [p, i]));
  const k = names.length;
  const R: number[][] = names.map((_, i) => names.map((__, j) => (i === j ? 1 : 0)));
  for (const { between, rho } of correlations) {
    const i = index.get(between[0])!;
    const j = index.get(between[1])!;
    R[i]![j] = rho;
    R[j]![i] = rho;
  }
  const L = names.map(() => new Array<number>(k).fill(0));
  for (let j = 0; j < k; j++) {
    let d = R[j]![j]!;
    for (let m = 0; m < j; m++) d -= L[j]![m]! ** 2;
    if (!(d > PD_TOLERANCE)) {
      throw invalid(
        'correlations',
        `the correlation matrix of ${names.join(', ')} is not positive definite (the rhos contradict each other, or one is ±1)`,
      );
    }
    const ljj = Math.sqrt(d);
    L[j]![j] = ljj;
    for (let i = j + 1; i < k; i++) {
      let s = R[i]![j]!;
      for (let m = 0; m < j; m++) s -= L[i]![m]! * L[j]![m]!;
      L[i]![j] = s / ljj;
    }
  }
  return { names, L };
}

/** The distinct `measured` sources of a scenario, in document order: what the caller must resolve. */
export function measuredSources(s: Scenario): string[] {
  const out = new Set<string>();
  for (const spec of s.parameters.values()) if (spec.dist === 'measured') out.add(spec.source);
  return [...out];
}

/**
 * n standard normals by Marsaglia's polar method (Marsaglia & Bray, SIAM Review
 * 6(3), 1964): u, v uniform on (−1, 1) until 0 < s = u² + v² < 1, then u·f and v·f with
 * f = √(−2 ln s / s). Box–Muller without the sine and cosine: twice as fast here.
 *
 * @example standardNormals(seededRng(1), 4) // Float64Array(4), the same on every run
 */
export function standardNormals(rng: Rng, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rng.next() - 1;
      v = 2 * rng.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    out[i] = u * f;
    if (i + 1 < n) out[i + 1] = v * f;
  }
  return out;
}

/**
 * Draws the scenario. 1. Every parameter, in document order, takes n standard normals from one
 * stream seeded with `seed` (constants too, so that changing one input's distribution leaves the
 * others' draws unchanged). 2. The correlated ones are mixed, z' = L z per sample. 3. Each input
 * is F⁻¹(Φ(z')) (distributions.ts). 4. Each option is evaluated over the input columns; a NaN or
 * infinite value is an error on `options.<name>`. `measured` maps a measured parameter's source to
 * the measurement; a missing one is an error on `parameters.<name>.source`.
 *
 * @example sampleScenario(parseScenario(doc)).options.get('b') // Float64Array(100000)
 */
export function sampleScenario(s: Scenario, measured: ReadonlyMap<string, Measurement> = new Map()): ScenarioSamples {
  const n = s.samples;
  const dists = [...s.parameters].map(
    ([name, spec]) =>
      [name, distributionOf(spec, spec.dist === 'measured' ? measured.get(spec.source) : undefined, `parameters.${name}.source`)] as const,
  );
  const rng = seededRng(s.seed);
  const z = new Map<string, Float64Array>();
  for (const [name] of dists) z.set(name, standardNormals(rng, n));
  if (s.correlations.length > 0) {
    const { names, L } = cholesky(s.parameters, s.correlations);
    const cols = names.map((p) => z.get(p)!);
    // Row j of L z uses z_0..z_j: going from the last row up, each column is rewritten after every use of it.
    for (let j = names.length - 1; j >= 0; j--) {
      const zj = cols[j]!;
      const row = L[j]!;
      const ljj = row[j]!;
      for (let i = 0; i < n; i++) zj[i] = ljj * zj[i]!;
      for (let m = 0; m < j; m++) {
        const lm = row[m]!;
        if (lm === 0) continue;
        const zm = cols[m]!;
        for (let i = 0; i < n; i++) zj[i] = zj[i]! + lm * zm[i]!;
      }
    }
  }
  const inputs = new Map<string, Float64Array>();
  for (const [name, dist] of dists) {
    const col = z.get(name)!;
    inputs.set(name, dist.fromNormal(col, col));
  }
  const ctx = { n, inputs, horizonMonths: s.horizonMonths, discountRate: s.discountRate };
  const options = new Map<string, Float64Array>();
  for (const [name, expr] of s.options) {
    const values = expr.evaluate(ctx);
    let bad = 0;
    for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!)) bad++;
    if (bad > 0) {
      throw invalid(
        `options.${name}`,
        `is not a finite number in ${bad} of ${n} samples (log or sqrt of a negative number, a division by 0?)`,
      );
    }
    options.set(name, values);
  }
  return { n, inputs, options };
}
