/**
 * ROI scenarios: the document's validation, the expression language evaluated over sample
 * columns, the Gaussian copula and reproducibility. Tolerances: expressions are exact or 1e-12
 * relative against hand-computed closed forms; correlations within 4 Monte Carlo SEs on Fisher's
 * z scale (1/√(n−3) for Pearson; √(1.06/(n−3)) for Spearman, Fieller, Hartley & Pearson 1957).
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/core/kernel/errors.js';
import { compileExpression, presentValue } from '../../../src/core/roi/expression.js';
import { measuredSources, parseScenario, sampleScenario } from '../../../src/core/roi/scenario.js';

const rel = (a: number, b: number) => (b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b));

/** The DomainError thrown by f, checked to be invalid_field on `field` with a message starting "<field>: ". */
function errorOf(f: () => unknown, field: string): DomainError {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DomainError);
  const d = error as DomainError;
  expect(d.code).toBe('invalid_field');
  expect(d.field).toBe(field);
  expect(d.message.startsWith(`${field}: `)).toBe(true);
  return d;
}

describe('expressions over sample columns', () => {
  const n = 5;
  const p1 = Float64Array.from([-2, -0.5, 0, 1.5, 3]);
  const p2 = Float64Array.from([4, 1, 2, -1, 0.25]);
  const names = new Set(['p1', 'p2']);
  const ctx = {
    n,
    inputs: new Map([
      ['p1', p1],
      ['p2', p2],
    ]),
    horizonMonths: 36,
    discountRate: 0,
  };
  const run = (source: string, c = ctx) => [...compileExpression(source, names, 'options.x').evaluate(c)];
  const each = (f: (a: number, b: number) => number) => [...p1].map((a, i) => f(a, p2[i]!));

  it('precedence: 2 + 3 * 4 ^ 2 = 50; ^ is right-associative and binds tighter than unary minus', () => {
    expect(run('2 + 3 * 4 ^ 2')).toEqual([50, 50, 50, 50, 50]);
    expect(run('2 ^ 3 ^ 2')[0]).toBe(512);
    expect(run('-2 ^ 2')[0]).toBe(-4);
    expect(run('(-2) ^ 2')[0]).toBe(4);
    expect(run('2 ^ -1')[0]).toBe(0.5);
    expect(run('2 * -3 ^ 2 + 1')[0]).toBe(-17);
    expect(run('(2 + 3) * 4')[0]).toBe(20);
    expect(run('10 - 4 - 3')[0]).toBe(3);
    expect(run('12 / 3 / 2')[0]).toBe(2);
    expect(run('1e3 * .5')[0]).toBe(500);
  });

  it('unary minus and plus over columns', () => {
    expect(run('-p1')).toEqual(each((a) => -a));
    expect(run('- -p1')).toEqual(each((a) => a));
    expect(run('+p2')).toEqual(each((_, b) => b));
    expect(run('-p1 ^ 2')).toEqual(each((a) => -(a * a)));
    expect(run('p2 - -p1')).toEqual(each((a, b) => b + a));
  });

  it('arithmetic between columns and scalars', () => {
    expect(run('p1 * p2 - p2 / 4 + 1')).toEqual(each((a, b) => a * b - b / 4 + 1));
    expect(run('3 - p1')).toEqual(each((a) => 3 - a));
  });

  it('comparisons give 1 or 0', () => {
    expect(run('p1 > p2')).toEqual(each((a, b) => (a > b ? 1 : 0)));
    expect(run('p1 >= 0')).toEqual([0, 0, 1, 1, 1]);
    expect(run('p1 < 0')).toEqual([1, 1, 0, 0, 0]);
    expect(run('p1 <= 0')).toEqual([1, 1, 1, 0, 0]);
    expect(run('p1 == 0')).toEqual([0, 0, 1, 0, 0]);
    expect(run('p1 != 0')).toEqual([1, 1, 0, 1, 1]);
    expect(run('1 + (p1 > 0) * 2')).toEqual([1, 1, 1, 3, 3]);
  });

  it('if(), min and max with several arguments, abs, exp, log, sqrt, pow', () => {
    expect(run('if(p1 > 0, p1, p2)')).toEqual(each((a, b) => (a > 0 ? a : b)));
    expect(run('if(1, 2, 3)')).toEqual([2, 2, 2, 2, 2]);
    expect(run('min(p1, p2, 0.5)')).toEqual(each((a, b) => Math.min(a, b, 0.5)));
    expect(run('max(p1, p2, 0.5, -p1)')).toEqual(each((a, b) => Math.max(a, b, 0.5, -a)));
    expect(run('min(p1)')).toEqual([...p1]);
    expect(run('abs(p1)')).toEqual(each((a) => Math.abs(a)));
    expect(run('exp(p1)')).toEqual(each((a) => Math.exp(a)));
    expect(run('log(abs(p2))')).toEqual(each((_, b) => Math.log(Math.abs(b))));
    expect(run('sqrt(abs(p1))')).toEqual(each((a) => Math.sqrt(Math.abs(a))));
    expect(run('pow(p2, 2)')).toEqual(each((_, b) => b ** 2));
  });

  it('a bare input returns a copy, not the input column', () => {
    const out = compileExpression('p1', names, 'options.x').evaluate(ctx);
    expect(out).not.toBe(p1);
    expect([...out]).toEqual([...p1]);
  });

  it('pv(): 1000 a month from month 6 to 36 at 8% a year = 1000·12/δ·(e^(−6δ/12) − e^(−36δ/12)), δ = ln 1.08 (1e-12)', () => {
    // 26260.280028900732 by the closed form; scipy.integrate.quad of 1000·1.08^(−t/12) over [6, 36] gives 26260.28002890074.
    const c = { ...ctx, discountRate: 0.08 };
    expect(rel(presentValue(1000, 6, 36, 0.08), 26260.280028900732)).toBeLessThan(1e-12);
    expect(rel(run('pv(1000, 6)', c)[0]!, 26260.280028900732)).toBeLessThan(1e-12);
    const delta = Math.log(1.08);
    const closed = (m: number, s: number) => ((m * 12) / delta) * (Math.exp((-delta * s) / 12) - Math.exp((-delta * 36) / 12));
    run('pv(p2 * 100, p1 + 3)', c).forEach((v, i) => expect(rel(v, closed(p2[i]! * 100, p1[i]! + 3))).toBeLessThan(1e-12));
  });

  it('pv() with δ = 0 is monthly · (H − s), and the start month is clamped to [0, H]', () => {
    expect(run('pv(1000, 6)')[0]).toBe(30_000);
    expect(run('pv(1000, -5)')[0]).toBe(36_000);
    expect(run('pv(1000, 40)')[0]).toBe(0);
    expect(presentValue(1000, 100, 36, 0.08)).toBe(0);
    expect(rel(presentValue(1000, -3, 36, 0.08), presentValue(1000, 0, 36, 0.08))).toBe(0);
  });

  it.each<[string, RegExp]>([
    ['p3 + 1', /unknown input "p3"/],
    ['foo(p1)', /unknown function "foo"/],
    ['p1 +', /syntax error at column 5/],
    ['(p1 + 2', /syntax error at column 8: Unclosed \(/],
    ['p1 p2', /syntax error: expected one expression/],
    ['', /empty expression/],
    ['p1.x', /member access/],
    ['p1[0]', /member access/],
    ['Math.max(p1, 2)', /member access/],
    ['"abc"', /string literals are not allowed/],
    ["p1 + 'abc'", /string literals are not allowed/],
    ['true', /literal true is not allowed/],
    ['this', /"this" is not allowed/],
    ['[p1]', /arrays are not allowed/],
    ['p1 > 0 ? 1 : 2', /use if\(c, a, b\)/],
    ['p1 % 2', /operator % is not supported/],
    ['p1 ** 2', /operator \*\* is not supported \(use \^\)/],
    ['p1 && p2', /operator && is not supported/],
    ['!p1', /operator ! is not supported/],
    ['pv(p1)', /pv\(\) takes 2 arguments, got 1/],
    ['if(p1, 1)', /if\(\) takes 3 arguments/],
    ['min()', /min\(\) needs at least one argument/],
  ])('%j is rejected naming the option', (source, message) => {
    expect(errorOf(() => compileExpression(source, names, 'options.b'), 'options.b').message).toMatch(message);
  });
});

const base = {
  samples: 20_000,
  seed: 3,
  parameters: { p1: { dist: 'normal', mean: 1, sd: 1 }, p2: { dist: 'normal', mean: 0, sd: 2 } },
  options: { a: '0', b: 'p1 - p2' },
};

describe('parseScenario', () => {
  it('fills the defaults: 100,000 samples, seed 1, 36 months, no discounting', () => {
    const s = parseScenario({ parameters: base.parameters, options: base.options });
    expect([s.samples, s.seed, s.horizonMonths, s.discountRate, s.correlations]).toEqual([100_000, 1, 36, 0, []]);
    expect([...s.parameters.keys()]).toEqual(['p1', 'p2']);
    expect([...s.options.keys()]).toEqual(['a', 'b']);
    expect(s.options.get('b')!.inputs).toEqual(['p1', 'p2']);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['not an object', { parameters: 3 }, 'parameters', /must be an object/],
    ['unknown dist', { parameters: { p1: { dist: 'weibull' } } }, 'parameters.p1.dist', /unknown distribution "weibull"/],
    ['missing sd', { parameters: { p1: { dist: 'normal', mean: 1 } } }, 'parameters.p1.sd', /missing/],
    ['negative sd', { parameters: { p1: { dist: 'normal', mean: 1, sd: -2 } } }, 'parameters.p1.sd', /greater than 0, got -2/],
    ['p5 >= p95', { parameters: { p1: { dist: 'lognormal', p5: 9, p95: 3 } } }, 'parameters.p1.p95', /greater than p5/],
    [
      'probs not summing to 1',
      { parameters: { p1: { dist: 'discrete', values: [0, 1], probs: [0.3, 0.3] } } },
      'parameters.p1.probs',
      /sum to 1/,
    ],
    ['a bad parameter name', { parameters: { '1p': { dist: 'constant', value: 1 } } }, 'parameters.1p', /parameter name/],
    ['a reserved parameter name', { parameters: { true: { dist: 'constant', value: 1 } } }, 'parameters.true', /parameter name/],
    ['samples below 1,000', { samples: 999 }, 'samples', /integer from 1000 to 2000000, got 999/],
    ['samples above 2,000,000', { samples: 2_000_001 }, 'samples', /integer from 1000 to 2000000/],
    ['samples not an integer', { samples: 1500.5 }, 'samples', /integer/],
    ['samples a string', { samples: '5000' }, 'samples', /finite number/],
    ['seed not an integer', { seed: 0.5 }, 'seed', /integer/],
    ['horizon 0', { horizon_months: 0 }, 'horizon_months', /greater than 0/],
    ['discount rate -1', { discount_rate: -1 }, 'discount_rate', /greater than -1/],
    ['an unknown top-level field', { sample: 5000 }, 'sample', /unknown field/],
    ['an option naming an unknown input', { options: { a: '0', b: 'p1 - p3' } }, 'options.b', /unknown input "p3"/],
    ['an option with a syntax error', { options: { a: '0', b: 'p1 - * p2' } }, 'options.b', /syntax error at column 6/],
    ['an option that is not a string', { options: { a: 0 } }, 'options.a', /must be a string expression/],
    ['no options', { options: {} }, 'options', /at least one option/],
    ['an empty option name', { options: { '': '0' } }, 'options', /non-empty/],
    ['correlations not an array', { correlations: {} }, 'correlations', /must be an array/],
    [
      'a correlation with an unknown parameter',
      { correlations: [{ between: ['p1', 'p9'], rho: 0.2 }] },
      'correlations[0].between[1]',
      /unknown parameter "p9"/,
    ],
    [
      'a correlation of a parameter with itself',
      { correlations: [{ between: ['p1', 'p1'], rho: 0.2 }] },
      'correlations[0].between',
      /itself/,
    ],
    [
      'a pair given twice',
      {
        correlations: [
          { between: ['p1', 'p2'], rho: 0.2 },
          { between: ['p2', 'p1'], rho: 0.3 },
        ],
      },
      'correlations[1].between',
      /twice/,
    ],
    ['rho above 1', { correlations: [{ between: ['p1', 'p2'], rho: 1.5 }] }, 'correlations[0].rho', /from -1 to 1, got 1.5/],
    ['rho of 1: not positive definite', { correlations: [{ between: ['p1', 'p2'], rho: 1 }] }, 'correlations', /not positive definite/],
  ])('%s', (_name, change, field, message) => {
    expect(errorOf(() => parseScenario({ ...base, ...change }), field).message).toMatch(message);
  });

  it('rejects a correlation matrix that is not positive definite, naming `correlations`', () => {
    const doc = {
      ...base,
      parameters: { ...base.parameters, p3: { dist: 'uniform', min: 0, max: 1 } },
      correlations: [
        { between: ['p1', 'p2'], rho: 0.9 },
        { between: ['p2', 'p3'], rho: 0.9 },
        { between: ['p1', 'p3'], rho: -0.9 },
      ],
    };
    expect(errorOf(() => parseScenario(doc), 'correlations').message).toMatch(/p1, p2, p3 is not positive definite/);
  });
});

describe('sampleScenario', () => {
  it('is deterministic: the same seed gives the same arrays, another seed others', () => {
    const doc = {
      ...base,
      parameters: {
        ...base.parameters,
        q: { dist: 'pert', min: 0, mode: 1, max: 4 },
        d: { dist: 'discrete', values: [1, 2], probs: [0.5, 0.5] },
      },
      correlations: [{ between: ['p1', 'q'], rho: 0.4 }],
      options: { a: '0', b: 'p1 - p2 + q * d' },
    };
    const first = sampleScenario(parseScenario(doc));
    const again = sampleScenario(parseScenario(doc));
    for (const key of ['p1', 'p2', 'q', 'd']) expect(again.inputs.get(key)).toEqual(first.inputs.get(key));
    expect(again.options.get('b')).toEqual(first.options.get('b'));
    const other = sampleScenario(parseScenario({ ...doc, seed: 4 }));
    expect(other.options.get('b')).not.toEqual(first.options.get('b'));
    expect(first.n).toBe(20_000);
    expect(first.options.get('a')!.every((v) => v === 0)).toBe(true);
  });

  it('the options are the expressions applied to the input columns', () => {
    const r = sampleScenario(parseScenario(base));
    const p1 = r.inputs.get('p1')!;
    const p2 = r.inputs.get('p2')!;
    r.options.get('b')!.forEach((v, i) => expect(v).toBe(p1[i]! - p2[i]!));
  });

  it('changing one input to a constant leaves the other inputs’ draws unchanged', () => {
    const a = sampleScenario(parseScenario(base));
    const b = sampleScenario(parseScenario({ ...base, parameters: { ...base.parameters, p1: { dist: 'constant', value: 2 } } }));
    expect(b.inputs.get('p2')).toEqual(a.inputs.get('p2'));
    expect(b.inputs.get('p1')!.every((v) => v === 2)).toBe(true);
  });

  it('Gaussian copula: Pearson correlations of normal inputs within 4 SEs of rho on Fisher z (n = 100,000)', () => {
    const doc = {
      samples: 100_000,
      seed: 5,
      parameters: {
        x: { dist: 'normal', mean: 0, sd: 1 },
        y: { dist: 'normal', mean: 10, sd: 3 },
        w: { dist: 'normal', mean: 0, sd: 1 },
        v: { dist: 'normal', mean: -1, sd: 0.5 },
      },
      correlations: [
        { between: ['x', 'y'], rho: 0.5 },
        { between: ['y', 'v'], rho: -0.3 },
        { between: ['x', 'v'], rho: 0.2 },
      ],
      options: { a: 'x + y + w + v' },
    };
    const r = sampleScenario(parseScenario(doc));
    const se = 1 / Math.sqrt(100_000 - 3);
    const check = (a: string, b: string, rho: number) =>
      expect(Math.abs(Math.atanh(pearson(r.inputs.get(a)!, r.inputs.get(b)!)) - Math.atanh(rho))).toBeLessThan(4 * se);
    check('x', 'y', 0.5);
    check('y', 'v', -0.3);
    check('x', 'v', 0.2);
    check('w', 'x', 0);
    check('w', 'y', 0);
  });

  it('Gaussian copula on non-normal inputs: Spearman = (6/π) asin(rho/2) within 4 SEs on Fisher z (n = 100,000)', () => {
    // (6/π) asin(0.25) = 0.4825837395309975 (Kruskal 1958: Spearman's rho of a bivariate normal).
    const doc = {
      samples: 100_000,
      seed: 6,
      parameters: { q: { dist: 'pert', min: 0, mode: 2, max: 10 }, l: { dist: 'lognormal', p5: 1, p95: 100 } },
      correlations: [{ between: ['l', 'q'], rho: 0.5 }],
      options: { a: 'q * l' },
    };
    const r = sampleScenario(parseScenario(doc));
    const rs = pearson(ranks(r.inputs.get('q')!), ranks(r.inputs.get('l')!));
    expect(Math.abs(Math.atanh(rs) - Math.atanh(0.4825837395309975))).toBeLessThan(4 * Math.sqrt(1.06 / (100_000 - 3)));
  });

  it('constant and discrete inputs take exactly their values', () => {
    const r = sampleScenario(
      parseScenario({
        ...base,
        parameters: {
          ...base.parameters,
          c: { dist: 'constant', value: 0.1 },
          d: { dist: 'discrete', values: [3, 7], probs: [0.25, 0.75] },
        },
        correlations: [{ between: ['d', 'p1'], rho: 0.3 }],
      }),
    );
    expect(r.inputs.get('c')!.every((v) => v === 0.1)).toBe(true);
    const d = r.inputs.get('d')!;
    expect(d.every((v) => v === 3 || v === 7)).toBe(true);
    const share = d.filter((v) => v === 7).length / d.length;
    expect(Math.abs(share - 0.75)).toBeLessThan(4 * Math.sqrt((0.75 * 0.25) / d.length));
  });

  it('measured inputs: the sources to resolve, a normal from the measurement, an error naming the field when unresolved', () => {
    const s = parseScenario({
      ...base,
      parameters: {
        ...base.parameters,
        uplift: { dist: 'measured', source: 'experiment:exp-7:articles_per_reader' },
        again: { dist: 'measured', source: 'experiment:exp-7:articles_per_reader', scale: 2 },
        ope: { dist: 'measured', source: 'ope:home:gbdt-v3' },
      },
      options: { a: '0', b: 'uplift + again + ope' },
    });
    expect(measuredSources(s)).toEqual(['experiment:exp-7:articles_per_reader', 'ope:home:gbdt-v3']);
    errorOf(
      () => sampleScenario(s, new Map([['experiment:exp-7:articles_per_reader', { mean: 0.05, sd: 0.01 }]])),
      'parameters.ope.source',
    );
    const r = sampleScenario(
      s,
      new Map([
        ['experiment:exp-7:articles_per_reader', { mean: 0.05, sd: 0.01 }],
        ['ope:home:gbdt-v3', { mean: 0, sd: 0 }],
      ]),
    );
    const u = r.inputs.get('uplift')!;
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    expect(Math.abs(mean - 0.05)).toBeLessThan((4 * 0.01) / Math.sqrt(u.length));
    // Two parameters with one source are two independent draws of it (correlate them to tie them).
    const again = r.inputs.get('again')!;
    const againMean = again.reduce((a, b) => a + b, 0) / again.length;
    expect(Math.abs(againMean - 0.1)).toBeLessThan((4 * 0.02) / Math.sqrt(again.length));
    expect(r.inputs.get('ope')!.every((v) => v === 0)).toBe(true);
  });

  it('an option that is not finite in some samples is an error naming it', () => {
    const s = parseScenario({ ...base, options: { a: '0', b: 'log(p1)' } });
    expect(errorOf(() => sampleScenario(s), 'options.b').message).toMatch(/not a finite number in \d+ of 20000 samples/);
  });
});

function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks 0..n−1 (the continuous inputs here have no ties). */
function ranks(x: Float64Array): Float64Array {
  const order = Array.from(x.keys()).sort((i, j) => x[i]! - x[j]!);
  const r = new Float64Array(x.length);
  order.forEach((i, k) => (r[i] = k));
  return r;
}
