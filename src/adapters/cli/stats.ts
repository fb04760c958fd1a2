/**
 * `readnext stats --input FILE|-`: one JSON document in, one JSON document out, over the pure
 * statistics core. The document format is a stable contract (outside checks use it; field names
 * are snake_case) and is documented in src/core/stats/README.md. An invalid document gives exit
 * code 2 and one line naming the field. Tests: test/adapters/cli/stats.test.ts.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  type AdjustMethod,
  type ArmStat,
  type Comparison,
  type Engine,
  type MomentStat,
  type NormalPrior,
  type Sides,
  adjustPValues,
  checkSrm,
  compareVariants,
  cupedRatioStat,
  cupedStat,
  DEFAULT_N_STAR,
  type Difference,
  meanStat,
  proportionStat,
  ratioStat,
} from '../../core/stats/index.js';
import { DomainError, isDomainError } from '../../core/kernel/errors.js';

/** Exit codes of this command; the same values as EXIT.ok / EXIT.usage in program.ts. */
const OK = 0;
const USAGE = 2;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const METRICS = ['mean', 'proportion', 'ratio'] as const;
type Metric = (typeof METRICS)[number];
const ENGINES: readonly Engine[] = ['frequentist', 'sequential', 'bayesian'];
const DIFFERENCES: readonly Difference[] = ['absolute', 'relative'];
const SIDES: readonly Sides[] = ['two', 'greater', 'less'];
const METHODS: readonly AdjustMethod[] = ['holm', 'bh', 'bonferroni', 'by'];

/** Fields a variant carries, per metric; the CUPED ones are optional but all-or-none. */
const VARIANT_FIELDS: Record<Metric, { required: string[]; optional: string[]; cuped: string[] }> = {
  mean: { required: ['n', 'sum', 'sum_squares'], optional: [], cuped: ['pre', 'sum_post_pre'] },
  proportion: { required: ['n', 'sum'], optional: ['sum_squares'], cuped: ['pre', 'sum_post_pre'] },
  ratio: {
    required: ['n', 'sum_m', 'sum_m2', 'sum_d', 'sum_d2', 'sum_md'],
    optional: [],
    cuped: ['pre', 'sum_m_mpre', 'sum_d_dpre', 'sum_m_dpre', 'sum_d_mpre'],
  },
};
const PRE_FIELDS: Record<Metric, string[]> = {
  mean: ['sum', 'sum_squares'],
  proportion: ['sum', 'sum_squares'],
  ratio: ['sum_m', 'sum_m2', 'sum_d', 'sum_d2', 'sum_md'],
};

const invalid = (field: string, reason: string): never => {
  throw new DomainError('invalid_field', `${field} ${reason}`, { field });
};

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function object(v: Json | undefined, field: string): Obj {
  if (!isObj(v)) invalid(field, 'must be an object');
  return v as Obj;
}

function onlyKeys(o: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) invalid(path ? `${path}.${k}` : k, 'is not a known field');
}

function number(v: Json | undefined, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(field, 'must be a finite number');
  return v as number;
}

function nonNegative(v: Json | undefined, field: string): number {
  const x = number(v, field);
  if (x < 0) invalid(field, 'must be a non-negative number');
  return x;
}

function positiveInteger(v: Json | undefined, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) invalid(field, 'must be a positive integer');
  return v as number;
}

function countUpTo(v: Json | undefined, n: number, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > n) invalid(field, `must be an integer between 0 and n (${n})`);
  return v as number;
}

function choice<T extends string>(v: Json | undefined, options: readonly T[], field: string, fallback?: T): T {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || !options.includes(v as T)) invalid(field, `must be one of ${options.map((o) => `"${o}"`).join(', ')}`);
  return v as T;
}

function probability(v: Json | undefined, field: string, fallback: number): number {
  if (v === undefined) return fallback;
  const x = number(v, field);
  if (!(x > 0 && x < 1)) invalid(field, 'must be a number between 0 and 1 (exclusive)');
  return x;
}

function array(v: Json | undefined, field: string): Json[] {
  if (!Array.isArray(v)) invalid(field, 'must be an array');
  return v as Json[];
}

/** One variant's statistics as an ArmStat, CUPED when `cuped` (the caller checks all-or-none). */
function variantStat(v: Obj, metric: Metric, cuped: boolean, path: string): ArmStat {
  const f = (k: string) => `${path}.${k}`;
  const n = positiveInteger(v.n, f('n'));
  const mean = (sum: Json | undefined, ss: Json | undefined, at: (k: string) => string, sumKey: string, ssKey: string): MomentStat =>
    meanStat({ n, sum: number(sum, at(sumKey)), sumSquares: nonNegative(ss, at(ssKey)) });
  let post: MomentStat | undefined;
  if (metric === 'mean') post = mean(v.sum, v.sum_squares, f, 'sum', 'sum_squares');
  // A proportion's sum_squares is accepted and ignored: for 0/1 values it equals sum.
  if (metric === 'proportion') post = proportionStat({ n, sum: countUpTo(v.sum, n, f('sum')) });
  if (post) {
    if (!cuped) return post;
    const pre = object(v.pre, f('pre'));
    const p = (k: string) => `${path}.pre.${k}`;
    onlyKeys(pre, PRE_FIELDS[metric], `${path}.pre`);
    const preStat: MomentStat =
      metric === 'proportion'
        ? proportionStat({ n, sum: countUpTo(pre.sum, n, p('sum')) })
        : mean(pre.sum, pre.sum_squares, p, 'sum', 'sum_squares');
    return cupedStat({ n, post, pre: preStat, sumPostPre: number(v.sum_post_pre, f('sum_post_pre')), theta: null });
  }
  const m = mean(v.sum_m, v.sum_m2, f, 'sum_m', 'sum_m2');
  const d = mean(v.sum_d, v.sum_d2, f, 'sum_d', 'sum_d2');
  const sumMd = number(v.sum_md, f('sum_md'));
  if (!cuped) return ratioStat({ n, numerator: m, denominator: d, sumProducts: sumMd });
  const pre = object(v.pre, f('pre'));
  onlyKeys(pre, PRE_FIELDS.ratio, `${path}.pre`);
  const p = (k: string) => `${path}.pre.${k}`;
  return cupedRatioStat({
    n,
    mPost: m,
    dPost: d,
    mPre: mean(pre.sum_m, pre.sum_m2, p, 'sum_m', 'sum_m2'),
    dPre: mean(pre.sum_d, pre.sum_d2, p, 'sum_d', 'sum_d2'),
    sumMPostDPost: sumMd,
    sumMPreDPre: number(pre.sum_md, p('sum_md')),
    sumMPostMPre: number(v.sum_m_mpre, f('sum_m_mpre')),
    sumDPostDPre: number(v.sum_d_dpre, f('sum_d_dpre')),
    sumMPostDPre: number(v.sum_m_dpre, f('sum_m_dpre')),
    sumMPreDPost: number(v.sum_d_mpre, f('sum_d_mpre')),
    theta: null,
  });
}

function compare(doc: Obj): Json {
  onlyKeys(doc, ['kind', 'metric', 'engine', 'difference', 'alpha', 'sides', 'n_star', 'prior', 'inverse', 'variants'], '');
  const metric = choice(doc.metric, METRICS, 'metric');
  const engine = choice(doc.engine, ENGINES, 'engine', 'frequentist');
  const difference = choice(doc.difference, DIFFERENCES, 'difference', 'relative');
  const alpha = probability(doc.alpha, 'alpha', 0.05);
  const sides = choice(doc.sides, SIDES, 'sides', 'two');
  if (engine === 'sequential' && sides !== 'two' && alpha >= 0.5) invalid('alpha', 'must be below 0.5 for a one-sided sequential test');
  let nStar = DEFAULT_N_STAR;
  if (doc.n_star !== undefined) {
    nStar = number(doc.n_star, 'n_star');
    if (!(nStar > 0)) invalid('n_star', 'must be a positive number');
  }
  let prior: NormalPrior | null = null;
  if (doc.prior !== undefined && doc.prior !== null) {
    const p = object(doc.prior, 'prior');
    onlyKeys(p, ['mean', 'variance'], 'prior');
    const variance = number(p.variance, 'prior.variance');
    if (!(variance > 0)) invalid('prior.variance', 'must be a positive number');
    prior = { mean: number(p.mean, 'prior.mean'), variance };
  }
  if (doc.inverse !== undefined && typeof doc.inverse !== 'boolean') invalid('inverse', 'must be true or false');
  const variants = array(doc.variants, 'variants');
  if (variants.length < 2) invalid('variants', 'must list the control and at least one other variant');
  const fields = VARIANT_FIELDS[metric];
  const objs = variants.map((v, i) => object(v, `variants[${i}]`));
  const cuped = objs[0]!.pre !== undefined;
  const names: string[] = [];
  const arms = objs.map((v, i) => {
    const path = `variants[${i}]`;
    onlyKeys(v, ['name', ...fields.required, ...fields.optional, ...fields.cuped], path);
    if (typeof v.name !== 'string' || v.name === '') invalid(`${path}.name`, 'must be a non-empty string');
    const name = v.name as string;
    const first = names.indexOf(name);
    if (first >= 0) invalid(`${path}.name`, `repeats variants[${first}].name "${name}"`);
    names.push(name);
    if ((v.pre !== undefined) !== cuped) {
      invalid(
        `${path}.pre`,
        cuped ? 'is required: variants[0] has pre-period statistics (CUPED)' : 'is not allowed: variants[0] has no pre-period statistics',
      );
    }
    return variantStat(v, metric, cuped, path);
  });
  const comparisons = compareVariants(arms, { engine, difference, alpha, sides, nStar, prior, inverse: doc.inverse === true });
  return { comparisons: comparisons.map((c, i) => comparisonJson(names[i + 1]!, c)) };
}

function comparisonJson(variant: string, c: Comparison): Json {
  return {
    variant,
    estimate: c.estimate,
    se: c.se,
    df: c.df,
    ci: [c.ci[0], c.ci[1]],
    p_value: c.pValue,
    chance_to_win: c.chanceToWin,
    risk: c.risk ? [c.risk[0], c.risk[1]] : null,
  };
}

function srm(doc: Obj): Json {
  onlyKeys(doc, ['kind', 'observed', 'weights'], '');
  const observed = array(doc.observed, 'observed').map((v, i) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) invalid(`observed[${i}]`, 'must be a non-negative integer');
    return v as number;
  });
  const weights = array(doc.weights, 'weights').map((v, i) => nonNegative(v, `weights[${i}]`));
  const r = checkSrm(observed, weights);
  return { chi2: r.chi2, df: r.df, p_value: r.pValue, flag: r.flag };
}

function adjust(doc: Obj): Json {
  onlyKeys(doc, ['kind', 'method', 'alpha', 'p_values'], '');
  const method = choice(doc.method, METHODS, 'method');
  const alpha = probability(doc.alpha, 'alpha', 0.05);
  const p = array(doc.p_values, 'p_values').map((v, i) => {
    const x = number(v, `p_values[${i}]`);
    if (x < 0 || x > 1) invalid(`p_values[${i}]`, 'must be a number between 0 and 1');
    return x;
  });
  const r = adjustPValues(method, p, alpha);
  return { adjusted: r.adjusted, reject: r.reject };
}

/** JSON with open bounds as the strings "Infinity" / "-Infinity" (JSON has no infinities) and NaN as null. */
function stringify(value: Json): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== 'number' || Number.isFinite(v)) return v;
    if (Number.isNaN(v)) return null;
    return v > 0 ? 'Infinity' : '-Infinity';
  });
}

/**
 * Analyses one stats document. Returns exit code 0 and the output JSON, or 2 and one error line
 * naming the field (`readnext: variants[1].n must be a positive integer`).
 *
 * @example runStatsCommand('{"kind":"srm","observed":[1000,1200],"weights":[0.5,0.5]}').output // {"chi2":18.18…,"df":1,"p_value":2.0e-5,"flag":true}
 */
export function runStatsCommand(inputText: string): { code: 0 | 2; output: string } {
  let doc: Json;
  try {
    doc = JSON.parse(inputText) as Json;
  } catch (e) {
    return { code: USAGE, output: `readnext: input is not valid JSON: ${(e as Error).message.split('\n')[0]}` };
  }
  try {
    if (!isObj(doc)) invalid('input', 'must be a JSON object');
    const o = doc as Obj;
    const kind = choice(o.kind, ['compare', 'srm', 'adjust'] as const, 'kind');
    const result = kind === 'compare' ? compare(o) : kind === 'srm' ? srm(o) : adjust(o);
    return { code: OK, output: stringify(result) };
  } catch (e) {
    if (isDomainError(e)) return { code: USAGE, output: `readnext: ${e.message}` };
    throw e;
  }
}

/** Reads the document: a file path, or standard input for `-`. */
export async function readStatsInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export interface StatsIo {
  /** Defaults to `readStatsInput` (file, or stdin for `-`). */
  readInput?(path: string): Promise<string>;
  out(line: string): void;
  /** Records the exit code and prints the one error line (on stderr). */
  fail(code: number, line: string): void;
}

/**
 * Adds `readnext stats --input FILE` to the program.
 *
 * @example registerStats(program, { out: deps.out, fail: (code, line) => { deps.err(line); result.code = code; } })
 */
export function registerStats(program: Command, io: StatsIo): Command {
  return program
    .command('stats')
    .description('analyse one JSON document (compare arms, SRM check, p-value adjustment) and print one JSON document')
    .requiredOption('--input <file>', 'the JSON document to analyse; - reads standard input')
    .action(async (o: { input: string }) => {
      let text: string;
      try {
        text = await (io.readInput ?? readStatsInput)(o.input);
      } catch (e) {
        io.fail(USAGE, `readnext: cannot read ${o.input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        return;
      }
      const r = runStatsCommand(text);
      if (r.code === OK) io.out(r.output);
      else io.fail(r.code, r.output);
    });
}
