/**
 * The value of an ROI option: an arithmetic expression over the scenario's inputs, parsed once by
 * jsep (never `eval`) and evaluated by readnext over whole sample columns (one Float64Array per
 * node, scalars kept as numbers until they meet a column).
 *
 * The language: number literals, input names, unary - and +, binary + - * / and ^ (power,
 * right-associative, binding tighter than * and than unary minus: -2^2 = -4 as in mathematics,
 * 2^-1 = 0.5), comparisons < <= > >= == != (1 or 0), parentheses, and the functions below.
 * Anything else jsep can parse (members, strings, arrays, ternaries, && % ** …) is rejected naming
 * the field. Tests: test/core/roi/scenario.test.ts.
 */
import jsep from 'jsep';
import { DomainError } from '../kernel/errors.js';

/** Precedence of '^': above '*' and '/' (10) and jsep's '**' (11). */
const POW_PRECEDENCE = 12;

/*
 * jsep is configured globally (its operator tables are static): only this module uses it. jsep's
 * own '^' is bitwise XOR at precedence 4; here it becomes power. A unary minus or plus is parsed by
 * the hook below rather than jsep's unary rule, so that it takes a power chain as its operand.
 */
jsep.addBinaryOp('^', POW_PRECEDENCE, true);
jsep.hooks.add('gobble-token', function unaryOverPower(env) {
  const ch = this.char;
  if (ch !== '-' && ch !== '+') return;
  (this as unknown as { index: number }).index += 1;
  const operand = this.gobbleToken();
  if (!operand) this.throwError(`Expected expression after unary ${ch}`);
  const chain = [operand];
  for (;;) {
    this.gobbleSpaces();
    if (this.char !== '^') break;
    (this as unknown as { index: number }).index += 1;
    const exponent = this.gobbleToken();
    if (!exponent) this.throwError('Expected expression after ^');
    chain.push(exponent);
  }
  let argument = chain[chain.length - 1]!;
  for (let i = chain.length - 2; i >= 0; i--) argument = { type: 'BinaryExpression', operator: '^', left: chain[i]!, right: argument };
  env.node = { type: 'UnaryExpression', operator: ch, argument, prefix: true };
});

/** A value during evaluation: a scalar (from literals only) or one number per sample. */
type Value = number | Float64Array;

export interface EvalContext {
  /** Samples per column. */
  readonly n: number;
  readonly inputs: ReadonlyMap<string, Float64Array>;
  readonly horizonMonths: number;
  /** Annual rate r; pv() discounts continuously at δ = ln(1 + r). */
  readonly discountRate: number;
}

/** A parsed, checked expression. */
export interface Expression {
  readonly source: string;
  /** The input names the expression uses. */
  readonly inputs: readonly string[];
  /** One value per sample (a fresh array, length ctx.n). */
  evaluate(ctx: EvalContext): Float64Array;
}

type Node = (ctx: EvalContext) => Value;

const BINARY: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '^': (a, b) => Math.pow(a, b),
  '<': (a, b) => (a < b ? 1 : 0),
  '<=': (a, b) => (a <= b ? 1 : 0),
  '>': (a, b) => (a > b ? 1 : 0),
  '>=': (a, b) => (a >= b ? 1 : 0),
  '==': (a, b) => (a === b ? 1 : 0),
  '!=': (a, b) => (a !== b ? 1 : 0),
};

const UNARY_FUNCTIONS: Record<string, (a: number) => number> = {
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
};

const FUNCTIONS = ['min', 'max', 'abs', 'exp', 'log', 'sqrt', 'pow', 'if', 'pv'];

function map1(a: Value, f: (x: number) => number, n: number): Value {
  if (typeof a === 'number') return f(a);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(a[i]!);
  return out;
}

function map2(a: Value, b: Value, f: (x: number, y: number) => number, n: number): Value {
  if (typeof a === 'number') {
    if (typeof b === 'number') return f(a, b);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = f(a, b[i]!);
    return out;
  }
  const out = new Float64Array(n);
  if (typeof b === 'number') for (let i = 0; i < n; i++) out[i] = f(a[i]!, b);
  else for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
  return out;
}

/**
 * + − × ÷ written out per operator and per shape: a shared loop calling an operator function
 * slows down by 3–5x once V8 has seen several operators there (a megamorphic call per element).
 */
function arithmetic(op: '+' | '-' | '*' | '/', a: Value, b: Value, n: number): Value {
  if (typeof a === 'number' && typeof b === 'number') return BINARY[op]!(a, b);
  const out = new Float64Array(n);
  if (typeof a === 'number') {
    const y = b as Float64Array;
    if (op === '+') for (let i = 0; i < n; i++) out[i] = a + y[i]!;
    else if (op === '-') for (let i = 0; i < n; i++) out[i] = a - y[i]!;
    else if (op === '*') for (let i = 0; i < n; i++) out[i] = a * y[i]!;
    else for (let i = 0; i < n; i++) out[i] = a / y[i]!;
  } else if (typeof b === 'number') {
    if (op === '+') for (let i = 0; i < n; i++) out[i] = a[i]! + b;
    else if (op === '-') for (let i = 0; i < n; i++) out[i] = a[i]! - b;
    else if (op === '*') for (let i = 0; i < n; i++) out[i] = a[i]! * b;
    else for (let i = 0; i < n; i++) out[i] = a[i]! / b;
  } else {
    if (op === '+') for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
    else if (op === '-') for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
    else if (op === '*') for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
    else for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!;
  }
  return out;
}

function negate(a: Value, n: number): Value {
  if (typeof a === 'number') return -a;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = -a[i]!;
  return out;
}

const ARITHMETIC = new Set(['+', '-', '*', '/']);

const at = (v: Value, i: number): number => (typeof v === 'number' ? v : v[i]!);

/**
 * pv(monthly, s): present value at month 0 of `monthly` per month flowing continuously from month
 * s (clamped to [0, H]) to the horizon H, discounted at δ = ln(1 + r) per year:
 * ∫_s^H monthly · e^(−δt/12) dt = monthly · 12/δ · (e^(−δs/12) − e^(−δH/12)), and monthly · (H − s) when δ = 0.
 */
export function presentValue(monthly: number, startMonth: number, horizonMonths: number, discountRate: number): number {
  const s = Math.min(Math.max(startMonth, 0), horizonMonths);
  const delta = Math.log1p(discountRate);
  if (delta === 0) return monthly * (horizonMonths - s);
  return ((monthly * 12) / delta) * (Math.exp((-delta * s) / 12) - Math.exp((-delta * horizonMonths) / 12));
}

/** if(cond, a, b): a where cond ≠ 0, b where cond = 0, NaN where cond is NaN. */
const choose = (c: number, a: number, b: number): number => (Number.isNaN(c) ? Number.NaN : c !== 0 ? a : b);

/**
 * The deepest expression tree compiled: compiling and evaluating recurse once per level, and a sum
 * of 50,000 terms overflowed the stack (a 500 on POST /v1/admin/roi). Written formulas stay far below.
 */
export const MAX_EXPRESSION_DEPTH = 256;

/** Whether a jsep tree is deeper than `max` levels, walked without recursion. */
function depthOver(root: jsep.Expression, max: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const child of Object.values(node as object)) {
      for (const c of Array.isArray(child) ? child : [child]) {
        if (c !== null && typeof c === 'object' && typeof (c as { type?: unknown }).type === 'string') stack.push([c, depth + 1]);
      }
    }
  }
  return false;
}

/**
 * Parses and checks `source` against the known input names; errors name `field` (e.g. `options.b`).
 *
 * @example compileExpression('pv(p1 * 1000, 6) - 5e4', new Set(['p1']), 'options.model')
 */
export function compileExpression(source: string, inputNames: ReadonlySet<string>, field: string): Expression {
  const fail = (what: string): never => {
    throw new DomainError('invalid_field', `${field}: ${what}`, { field });
  };
  let ast: jsep.Expression;
  try {
    ast = jsep(source);
  } catch (e) {
    const err = e as { index?: number; description?: string; message?: string };
    const column = typeof err.index === 'number' ? err.index + 1 : undefined;
    const why = err.description ?? err.message ?? String(e);
    return fail(column === undefined ? `syntax error: ${why}` : `syntax error at column ${column}: ${why}`);
  }
  if (depthOver(ast, MAX_EXPRESSION_DEPTH)) fail(`nested more than ${MAX_EXPRESSION_DEPTH} levels deep (split it into derived inputs)`);
  if (ast.type === 'Compound') {
    const body = (ast as jsep.Compound).body;
    fail(body.length === 0 ? 'empty expression' : 'syntax error: expected one expression (an operator is missing between two terms?)');
  }
  const used = new Set<string>();

  const compile = (node: jsep.Expression): Node => {
    switch (node.type) {
      case 'Literal': {
        const { value, raw } = node as jsep.Literal;
        if (typeof value === 'number') return () => value;
        if (typeof value === 'string') return fail(`string literals are not allowed (${raw})`);
        return fail(`literal ${raw} is not allowed (only numbers)`);
      }
      case 'Identifier': {
        const name = (node as jsep.Identifier).name;
        if (!inputNames.has(name)) return fail(`unknown input "${name}"`);
        used.add(name);
        return (ctx) => ctx.inputs.get(name)!;
      }
      case 'UnaryExpression': {
        const { operator, argument } = node as jsep.UnaryExpression;
        if (operator !== '-' && operator !== '+') return fail(`operator ${operator} is not supported`);
        const arg = compile(argument);
        if (operator === '+') return arg;
        return (ctx) => negate(arg(ctx), ctx.n);
      }
      case 'BinaryExpression': {
        const { operator, left, right } = node as jsep.BinaryExpression;
        const f = BINARY[operator];
        if (f === undefined) return fail(`operator ${operator} is not supported${operator === '**' ? ' (use ^)' : ''}`);
        const l = compile(left);
        const r = compile(right);
        if (ARITHMETIC.has(operator)) {
          const op = operator as '+' | '-' | '*' | '/';
          return (ctx) => arithmetic(op, l(ctx), r(ctx), ctx.n);
        }
        return (ctx) => map2(l(ctx), r(ctx), f, ctx.n);
      }
      case 'CallExpression':
        return compileCall(node as jsep.CallExpression);
      case 'MemberExpression':
        return fail('member access (a.b, a[b]) is not allowed');
      case 'ConditionalExpression':
        return fail('the ternary c ? a : b is not supported (use if(c, a, b))');
      case 'ThisExpression':
        return fail('"this" is not allowed');
      case 'ArrayExpression':
        return fail('arrays are not allowed');
      default:
        return fail(`${node.type} is not allowed`);
    }
  };

  const compileCall = (node: jsep.CallExpression): Node => {
    if (node.callee.type === 'MemberExpression') return fail('member access (a.b, a[b]) is not allowed');
    if (node.callee.type !== 'Identifier') return fail('only calls of named functions are allowed');
    const name = (node.callee as jsep.Identifier).name;
    if (!FUNCTIONS.includes(name)) return fail(`unknown function "${name}" (functions: ${FUNCTIONS.join(', ')})`);
    const args = node.arguments.map(compile);
    const arity = (k: number): void => {
      if (args.length !== k) fail(`${name}() takes ${k} argument${k === 1 ? '' : 's'}, got ${args.length}`);
    };
    const unary = UNARY_FUNCTIONS[name];
    if (unary !== undefined) {
      arity(1);
      const a = args[0]!;
      return (ctx) => map1(a(ctx), unary, ctx.n);
    }
    switch (name) {
      case 'min':
      case 'max': {
        if (args.length === 0) fail(`${name}() needs at least one argument`);
        const f = name === 'min' ? Math.min : Math.max;
        return (ctx) => args.map((a) => a(ctx)).reduce((acc, v) => map2(acc, v, f, ctx.n));
      }
      case 'pow': {
        arity(2);
        const [a, b] = args as [Node, Node];
        return (ctx) => map2(a(ctx), b(ctx), Math.pow, ctx.n);
      }
      case 'pv': {
        arity(2);
        const [a, b] = args as [Node, Node];
        return (ctx) => map2(a(ctx), b(ctx), (m, s) => presentValue(m, s, ctx.horizonMonths, ctx.discountRate), ctx.n);
      }
      default: {
        // if(cond, a, b): both branches are evaluated over every sample, then chosen per sample.
        arity(3);
        const [c, a, b] = args as [Node, Node, Node];
        return (ctx) => {
          const cv = c(ctx);
          const av = a(ctx);
          const bv = b(ctx);
          if (typeof cv === 'number' && typeof av === 'number' && typeof bv === 'number') return choose(cv, av, bv);
          const out = new Float64Array(ctx.n);
          for (let i = 0; i < ctx.n; i++) out[i] = choose(at(cv, i), at(av, i), at(bv, i));
          return out;
        };
      }
    }
  };

  const root = compile(ast);
  return {
    source,
    inputs: [...used],
    evaluate(ctx) {
      const v = root(ctx);
      if (typeof v === 'number') return new Float64Array(ctx.n).fill(v);
      // An expression like `p1` or `min(p1)` returns the input's own column: copy it, so callers own the result.
      for (const column of ctx.inputs.values()) if (column === v) return Float64Array.from(v);
      return v;
    },
  };
}
