/**
 * ROI input distributions. Quantiles against SciPy 1.17.1 (scipy.stats norm, lognorm, beta,
 * triang, uniform, rv_discrete .ppf; PERT as beta(1 + λ(m−a)/(b−a), 1 + λ(b−m)/(b−a), loc=a,
 * scale=b−a); computed once with `python3 -c "from scipy import stats; …"` and pasted here):
 * 1e-12 relative where the quantile is a closed form on our normal quantile (normal, lognormal,
 * triangular, uniform), 1e-7 relative where jstat's beta inverse does the work (beta, PERT): its
 * Newton iteration stops at a 1e-8 step, and its worst error against SciPy over 400 u in
 * (0.0005, 0.9995) for ten (alpha, beta) pairs was 5.5e-8 (beta(0.5, 0.5)), far below Monte
 * Carlo error (about 1e-3 relative at n = 200,000).
 * Sample moments: within 4 Monte Carlo standard errors at a fixed seed.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/core/kernel/errors.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { distributionOf, parseDistribution, type DistSpec } from '../../../src/core/roi/distributions.js';
import { standardNormals } from '../../../src/core/roi/scenario.js';

const rel = (a: number, b: number) => (b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b));
const U = [0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999];
const EXACT = 1e-12;
const JSTAT_BETA = 1e-7;

// [name, the parameter's JSON, SciPy quantiles at U, SciPy mean, SciPy sd, tolerance]
const CASES: [string, unknown, number[], number, number, number][] = [
  [
    'normal(3, 2)',
    { dist: 'normal', mean: 3, sd: 2 },
    [-3.1804646123356264, -0.2897072539029457, 1.6510204996078366, 3.0, 4.348979500392163, 6.289707253902945, 9.180464612335626],
    3,
    2,
    EXACT,
  ],
  [
    'lognormal {mu: 1, sigma: 0.5}',
    { dist: 'lognormal', mu: 1, sigma: 0.5 },
    [
      0.5797744368398611, 1.1943154625015757, 1.9401302789180261, 2.718281828459045, 3.808536044832714, 6.186854588195452,
      12.744708337272852,
    ],
    3.080216848918031,
    1.6415718456238662,
    EXACT,
  ],
  [
    'lognormal {p5: 2, p95: 50}',
    { dist: 'lognormal', p5: 2, p95: 50 },
    [
      0.48621190857450564, 1.9999999999999984, 5.168683085707895, 9.999999999999998, 19.34728795358211, 49.999999999999986,
      205.67163871650888,
    ],
    16.139757924286204,
    20.4467092492268,
    EXACT,
  ],
  [
    'lognormal {mean: 10, sd: 5}',
    { dist: 'lognormal', mean: 10, sd: 5 },
    [
      2.0776701250549867, 4.112438514513884, 6.503869833417421, 8.944271909999161, 12.300369172358495, 19.453178380092208,
      38.504668780316024,
    ],
    10,
    5,
    EXACT,
  ],
  [
    'beta(2, 5)',
    { dist: 'beta', alpha: 2, beta: 5 },
    [
      0.008255492787746678, 0.06284989170835438, 0.16116291679032652, 0.26444998329566005, 0.3894794852007245, 0.5818034092520259,
      0.818613866919134,
    ],
    0.2857142857142857,
    0.15971914124998499,
    JSTAT_BETA,
  ],
  [
    'beta(0.5, 0.5)',
    { dist: 'beta', alpha: 0.5, beta: 0.5 },
    [
      2.4673990709169446e-6, 0.0061558297024311365, 0.14644660940672624, 0.4999999999999999, 0.8535533905932737, 0.9938441702975689,
      0.999997532600929,
    ],
    0.5,
    0.3535533905932738,
    JSTAT_BETA,
  ],
  [
    'beta(2, 3) on [10, 20]',
    { dist: 'beta', alpha: 2, beta: 3, min: 10, max: 20 },
    [
      10.130229473708143, 10.976114628864144, 12.430220837560762, 13.857275681323895, 15.436782854190803, 17.51395374269818,
      19.359618608971665,
    ],
    14,
    2,
    JSTAT_BETA,
  ],
  [
    'triangular(0, 3, 10)',
    { dist: 'triangular', min: 0, mode: 3, max: 10 },
    [0.17320508075688773, 1.224744871391589, 2.73861278752583, 4.083920216900384, 5.816699867329622, 8.12917130661303, 9.73542486889354],
    4.333333333333334,
    2.0949675149960894,
    EXACT,
  ],
  [
    'triangular(0, 0, 10): mode at min',
    { dist: 'triangular', min: 0, mode: 0, max: 10 },
    [0.005001250625390474, 0.25320565519103666, 1.339745962155614, 2.9289321881345245, 5.0, 7.763932022500209, 9.683772233983163],
    3.333333333333333,
    2.3570226039551585,
    EXACT,
  ],
  [
    'pert(2, 5, 14), λ = 4 by default',
    { dist: 'pert', min: 2, mode: 5, max: 14 },
    [2.121221454604853, 2.917284696947947, 4.325163314647654, 5.765722045468369, 7.450166777283389, 9.888899816013664, 12.53583404466226],
    6,
    2.138089935299395,
    JSTAT_BETA,
  ],
  [
    'pert(0, 1, 2), λ = 2',
    { dist: 'pert', min: 0, mode: 1, max: 2, lambda: 2 },
    [0.03674050771762322, 0.27070072434316755, 0.6527036446661394, 1.0, 1.3472963553338606, 1.7292992756568322, 1.9632594922823767],
    1,
    0.4472135954999579,
    JSTAT_BETA,
  ],
  [
    'pert(0, 10, 10): mode at max',
    { dist: 'pert', min: 0, mode: 10, max: 10 },
    [2.51188643150958, 5.492802716530588, 7.57858283255199, 8.705505632961241, 9.44087511294902, 9.897937816869884, 9.997999199519663],
    8.333333333333334,
    1.4085904245475276,
    JSTAT_BETA,
  ],
  ['uniform(-1, 3)', { dist: 'uniform', min: -1, max: 3 }, [-0.996, -0.8, 0.0, 1.0, 2.0, 2.8, 2.996], 1, 1.1547005383792515, EXACT],
];

describe('quantiles, means and sds against SciPy', () => {
  it.each(CASES)('%s', (_name, json, quantiles, mean, sd, tol) => {
    const d = distributionOf(parseDistribution(json, 'parameters.x'));
    U.forEach((u, i) => expect(rel(d.quantile(u), quantiles[i]!), `u = ${u}`).toBeLessThanOrEqual(tol));
    expect(rel(d.mean, mean)).toBeLessThanOrEqual(1e-12);
    expect(rel(d.sd, sd)).toBeLessThanOrEqual(1e-12);
  });

  it('lognormal {p5, p95} puts exactly 5% below p5 and 5% above p95 (1e-12)', () => {
    const d = distributionOf(parseDistribution({ dist: 'lognormal', p5: 0.8, p95: 120 }, 'x'));
    expect(rel(d.quantile(0.05), 0.8)).toBeLessThan(1e-12);
    expect(rel(d.quantile(0.95), 120)).toBeLessThan(1e-12);
  });

  it('discrete: the first value whose cumulative probability reaches u (SciPy rv_discrete.ppf), values sorted', () => {
    // stats.rv_discrete(values=([1, 3, 5], [0.5, 0.3, 0.2])).ppf([0.1, 0.49, 0.51, 0.79, 0.81, 0.999]) -> [1, 1, 3, 3, 5, 5]; mean 2.4, sd 1.5620499351813306
    const d = distributionOf(parseDistribution({ dist: 'discrete', values: [5, 1, 3], probs: [0.2, 0.5, 0.3] }, 'x'));
    expect([0.1, 0.49, 0.51, 0.79, 0.81, 0.999].map((u) => d.quantile(u))).toEqual([1, 1, 3, 3, 5, 5]);
    expect(rel(d.mean, 2.4)).toBeLessThan(1e-12);
    expect(rel(d.sd, 1.5620499351813306)).toBeLessThan(1e-12);
  });

  it('constant: its value at every u, sd 0', () => {
    const d = distributionOf(parseDistribution({ dist: 'constant', value: 7.25 }, 'x'));
    expect([0.001, 0.5, 0.999].map((u) => d.quantile(u))).toEqual([7.25, 7.25, 7.25]);
    expect([d.mean, d.sd]).toEqual([7.25, 0]);
  });

  it('measured: a normal with the measurement times scale; unresolved is an error naming the field', () => {
    const spec = parseDistribution({ dist: 'measured', source: 'experiment:exp1:read_depth', scale: 0.5 }, 'parameters.m');
    const d = distributionOf(spec, { mean: 0.04, sd: 0.01 });
    expect([d.mean, d.sd]).toEqual([0.02, 0.005]);
    expect(() => distributionOf(spec, undefined, 'parameters.m.source')).toThrow(
      /^parameters\.m\.source: no measurement found for experiment:exp1:read_depth/,
    );
  });
});

/** Mean and sd of a sample, with the Monte Carlo standard errors: sd/√n and, by the delta method, √((m4 − s⁴)/n)/(2s). */
function moments(x: Float64Array): { mean: number; sd: number; meanSe: number; sdSe: number } {
  const n = x.length;
  let s = 0;
  for (const v of x) s += v;
  const mean = s / n;
  let m2 = 0;
  let m4 = 0;
  for (const v of x) {
    const d2 = (v - mean) ** 2;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= n;
  m4 /= n;
  const sd = Math.sqrt(m2);
  return { mean, sd, meanSe: sd / Math.sqrt(n), sdSe: Math.sqrt((m4 - m2 * m2) / n) / (2 * sd) };
}

describe('sampling from normal scores: sample moments within 4 Monte Carlo SEs of the closed forms (n = 200,000, seed 11)', () => {
  const z = standardNormals(seededRng(11), 200_000);

  it.each(CASES.map(([name, json]) => [name, json] as const))('%s', (_name, json) => {
    const d = distributionOf(parseDistribution(json, 'x'));
    const m = moments(d.fromNormal(z));
    expect(Math.abs(m.mean - d.mean)).toBeLessThan(4 * m.meanSe);
    expect(Math.abs(m.sd - d.sd)).toBeLessThan(4 * m.sdSe);
  });

  it('the standard normals themselves: mean 0, sd 1', () => {
    const m = moments(z);
    expect(Math.abs(m.mean)).toBeLessThan(4 * m.meanSe);
    expect(Math.abs(m.sd - 1)).toBeLessThan(4 * m.sdSe);
  });

  it('discrete: only the given values, with frequencies within 4 SEs (√(p(1−p)/n)) of the probabilities', () => {
    const values = [-2, 0.5, 10, 3];
    const probs = [0.1, 0.45, 0.05, 0.4];
    const x = distributionOf(parseDistribution({ dist: 'discrete', values, probs }, 'x')).fromNormal(z);
    const counts = new Map<number, number>();
    for (const v of x) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, 0.5, 3, 10]);
    values.forEach((v, i) => {
      const p = probs[i]!;
      expect(Math.abs(counts.get(v)! / z.length - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / z.length));
    });
  });

  it('constant: exactly its value in every sample', () => {
    const x = distributionOf({ dist: 'constant', value: -3.5 }).fromNormal(z);
    expect(x.every((v) => v === -3.5)).toBe(true);
  });

  it('a PERT sample stays within [min, max]', () => {
    const x = distributionOf(parseDistribution({ dist: 'pert', min: 2, mode: 3, max: 9 }, 'x')).fromNormal(z);
    expect(x.every((v) => v >= 2 && v <= 9)).toBe(true);
  });
});

describe('parseDistribution: one DomainError invalid_field per bad thing, naming the field', () => {
  const fails = (json: unknown, field: string, message: RegExp) => {
    let error: unknown;
    try {
      parseDistribution(json, 'parameters.p1');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid_field');
    expect((error as DomainError).field).toBe(field);
    expect((error as DomainError).message).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: `));
    expect((error as DomainError).message).toMatch(message);
  };

  it.each<[string, unknown, string, RegExp]>([
    ['unknown dist', { dist: 'gamma', shape: 2 }, 'parameters.p1.dist', /unknown distribution "gamma"/],
    ['no dist', { mean: 1, sd: 1 }, 'parameters.p1.dist', /unknown distribution undefined/],
    ['not an object', 3, 'parameters.p1', /must be an object/],
    ['missing sd', { dist: 'normal', mean: 1 }, 'parameters.p1.sd', /missing/],
    ['negative sd', { dist: 'normal', mean: 1, sd: -1 }, 'parameters.p1.sd', /greater than 0, got -1/],
    ['zero sd', { dist: 'normal', mean: 1, sd: 0 }, 'parameters.p1.sd', /greater than 0/],
    ['sd a string', { dist: 'normal', mean: 1, sd: '1' }, 'parameters.p1.sd', /finite number/],
    [
      'a field the distribution does not have',
      { dist: 'normal', mean: 1, sd: 1, sigma: 2 },
      'parameters.p1.sigma',
      /unknown field for normal/,
    ],
    ['p5 >= p95', { dist: 'lognormal', p5: 5, p95: 5 }, 'parameters.p1.p95', /greater than p5/],
    ['p5 <= 0', { dist: 'lognormal', p5: 0, p95: 5 }, 'parameters.p1.p5', /greater than 0/],
    ['p95 alone', { dist: 'lognormal', p95: 5 }, 'parameters.p1.p5', /missing/],
    ['two lognormal forms', { dist: 'lognormal', mean: 5, sd: 1, mu: 1 }, 'parameters.p1.mu', /exactly one of/],
    ['lognormal with nothing', { dist: 'lognormal' }, 'parameters.p1.mu', /missing/],
    ['lognormal sigma <= 0', { dist: 'lognormal', mu: 0, sigma: 0 }, 'parameters.p1.sigma', /greater than 0/],
    ['beta alpha <= 0', { dist: 'beta', alpha: 0, beta: 1 }, 'parameters.p1.alpha', /greater than 0/],
    ['beta with min only', { dist: 'beta', alpha: 1, beta: 1, min: 3 }, 'parameters.p1.max', /missing/],
    ['min >= max', { dist: 'uniform', min: 2, max: 1 }, 'parameters.p1.max', /greater than min/],
    [
      'mode outside [min, max]',
      { dist: 'triangular', min: 0, mode: 11, max: 10 },
      'parameters.p1.mode',
      /between min \(0\) and max \(10\)/,
    ],
    ['pert lambda <= 0', { dist: 'pert', min: 0, mode: 1, max: 2, lambda: -1 }, 'parameters.p1.lambda', /greater than 0/],
    ['probs not summing to 1', { dist: 'discrete', values: [1, 2], probs: [0.5, 0.4] }, 'parameters.p1.probs', /must sum to 1/],
    ['a negative prob', { dist: 'discrete', values: [1, 2], probs: [1.5, -0.5] }, 'parameters.p1.probs[1]', /not be negative/],
    [
      'probs and values of different lengths',
      { dist: 'discrete', values: [1, 2, 3], probs: [0.5, 0.5] },
      'parameters.p1.probs',
      /2 entries for 3 values/,
    ],
    ['empty values', { dist: 'discrete', values: [], probs: [] }, 'parameters.p1.values', /non-empty/],
    ['a value that is not a number', { dist: 'discrete', values: [1, 'x'], probs: [0.5, 0.5] }, 'parameters.p1.values[1]', /finite number/],
    ['constant without value', { dist: 'constant' }, 'parameters.p1.value', /missing/],
    ['measured with a bad source', { dist: 'measured', source: 'survey:42' }, 'parameters.p1.source', /experiment:ID:METRIC/],
    ['measured with scale 0', { dist: 'measured', source: 'offline:gbdt', scale: 0 }, 'parameters.p1.scale', /not be 0/],
    ['description not a string', { dist: 'constant', value: 1, description: 4 }, 'parameters.p1.description', /string/],
  ])('%s', (_name, json, field, message) => fails(json, field, message));

  it('probs summing to 1 within 1e-9 pass; description and unit are allowed', () => {
    const spec = parseDistribution(
      { dist: 'discrete', values: [1, 2, 3], probs: [0.1, 0.2, 0.7 + 5e-10], description: 'd', unit: 'EUR' },
      'x',
    );
    expect(spec).toEqual({ dist: 'discrete', values: [1, 2, 3], probs: [0.1, 0.2, 0.7 + 5e-10] });
  });

  it('normalises every lognormal form to {mu, sigma}', () => {
    const spec = parseDistribution({ dist: 'lognormal', p5: 1, p95: Math.exp(2 * 1.6448536269514722) }, 'x') as Extract<
      DistSpec,
      { dist: 'lognormal' }
    >;
    expect(rel(spec.mu, 1.6448536269514722)).toBeLessThan(1e-15);
    expect(rel(spec.sigma, 1)).toBeLessThan(1e-15);
  });
});
