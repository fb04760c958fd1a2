/**
 * One-input least-squares smoothers for the value-of-information regressions in voi.ts: E(Y | x)
 * estimated from Monte Carlo pairs (x_i, y_i). Two bases, chosen from the input:
 *
 * - an input with at most `maxLevels` distinct values (discrete, constant) gets one indicator per
 *   value, so the fit is the group mean: the exact conditional expectation of the sample;
 * - any other input gets a cubic regression spline, the cubic B-spline basis (de Boor 1978, *A
 *   Practical Guide to Splines*; Cox–de Boor recursion as in Piegl & Tiller, *The NURBS Book*,
 *   algorithm A2.2) on knots at the quantiles j/(K+1), j = 1..K, of the input, with the boundary
 *   knots at its minimum and maximum (K interior knots: K + 4 functions, intercept in the span as
 *   the B-splines sum to 1). Strong, Oakley & Brennan 2014 fit a GAM (mgcv's penalised cubic
 *   regression spline, basis size 10 by default); an unpenalised spline with a fixed small number
 *   of knots is the same model space without the smoothing-parameter search, and with 10^5
 *   samples and ~12 coefficients the penalty matters little (their overfitting bias is O(p/n)).
 *
 * Each row of the design has at most 4 non-zeros at consecutive columns, so X'X costs 16 products
 * a row and is banded; it is solved densely by Cholesky (p ≤ 64).
 */
import { DomainError } from '../kernel/errors.js';

/** The design matrix of a smoother, stored by rows of `width` consecutive non-zeros from `start[i]`. */
export interface Design {
  readonly kind: 'levels' | 'spline';
  /** Number of columns (coefficients). */
  readonly p: number;
  /** Non-zeros per row: 1 for levels, 4 for the spline. */
  readonly width: number;
  /** First non-zero column of each row. */
  readonly start: Int32Array;
  /** Row i's non-zeros at values[i·width .. i·width + width). */
  readonly values: Float64Array;
}

export interface DesignOptions {
  /** Interior knots of the spline; default 8 (12 coefficients). */
  readonly knots?: number;
  /** Inputs with at most this many distinct values are treated as discrete; default 32. */
  readonly maxLevels?: number;
}

export const DEFAULT_KNOTS = 8;
export const DEFAULT_MAX_LEVELS = 32;
/** Knots are placed from a systematic subsample of at most this many points (sorting all 10^6 is not needed). */
const KNOT_SUBSAMPLE = 20_000;

/** Buffers a caller reuses across inputs of one length (fewer allocations and GC pauses). */
export interface DesignBuffers {
  readonly start: Int32Array;
  /** At least 4·n long. */
  readonly values: Float64Array;
}

/** Builds the design for input x (finite values; checked by the caller), in `buffers` when given. */
export function smoothDesign(x: Float64Array, opts: DesignOptions = {}, buffers?: DesignBuffers): Design {
  const maxLevels = opts.maxLevels ?? DEFAULT_MAX_LEVELS;
  const interior = opts.knots ?? DEFAULT_KNOTS;
  if (!(Number.isInteger(interior) && interior >= 1 && interior <= 50)) {
    throw new DomainError('invalid_field', 'knots must be an integer in 1..50', { field: 'knots' });
  }
  if (!(Number.isInteger(maxLevels) && maxLevels >= 1 && maxLevels <= 64)) {
    throw new DomainError('invalid_field', 'maxLevels must be an integer in 1..64', { field: 'maxLevels' });
  }
  const n = x.length;
  const start = buffers && buffers.start.length === n ? buffers.start : new Int32Array(n);
  const values = buffers && buffers.values.length >= 4 * n ? buffers.values : new Float64Array(4 * n);
  const levels = distinctUpTo(x, maxLevels);
  if (levels !== null) return levelsDesign(x, levels, start, values);
  return splineDesign(x, interior, start, values);
}

/** The sorted distinct values of x when there are at most `max` of them, else null (stops early). */
function distinctUpTo(x: Float64Array, max: number): number[] | null {
  const seen = new Set<number>();
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!seen.has(v)) {
      seen.add(v === 0 ? 0 : v); // -0 and 0 are one level
      if (seen.size > max) return null;
    }
  }
  return [...seen].sort((a, b) => a - b);
}

function levelsDesign(x: Float64Array, levels: number[], start: Int32Array, values: Float64Array): Design {
  const index = new Map<number, number>();
  levels.forEach((v, k) => index.set(v, k));
  const n = x.length;
  values.fill(1, 0, n);
  for (let i = 0; i < n; i++) start[i] = index.get(x[i] === 0 ? 0 : x[i]!)!;
  return { kind: 'levels', p: levels.length, width: 1, start, values };
}

function splineDesign(x: Float64Array, interior: number, start: Int32Array, values: Float64Array): Design {
  const n = x.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // Knot quantiles (numpy linear, type 7) of a systematic subsample; duplicates and knots at the
  // boundary are dropped, so a spike of equal values cannot make an empty interval.
  const stride = Math.max(1, Math.floor(n / KNOT_SUBSAMPLE));
  const sub = new Float64Array(Math.ceil(n / stride));
  for (let i = 0, k = 0; i < n; i += stride) sub[k++] = x[i]!;
  sub.sort();
  const inner: number[] = [];
  for (let j = 1; j <= interior; j++) {
    const h = ((sub.length - 1) * j) / (interior + 1);
    const f = Math.floor(h);
    const q = sub[f]! + (h - f) * ((sub[Math.min(f + 1, sub.length - 1)] ?? 0) - sub[f]!);
    if (q > lo && q < hi && (inner.length === 0 || q > inner[inner.length - 1]!)) inner.push(q);
  }
  // Knot vector t: lo ×4, interior, hi ×4. Functions B_0..B_{p−1}, p = inner + 4.
  const t = new Float64Array(inner.length + 8);
  t.fill(lo, 0, 4);
  inner.forEach((v, k) => (t[4 + k] = v));
  t.fill(hi, 4 + inner.length);
  const p = inner.length + 4;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    // Knot span s with t[s] ≤ v < t[s+1], s in 3..p−1 (v = hi falls in the last span).
    let a = 3;
    let b = p; // invariant: t[a] ≤ v, and v < t[b] or b = p
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (v >= t[m]!) a = m;
      else b = m;
    }
    const s = a;
    // Cox–de Boor for degree 3 (A2.2 unrolled): every denominator is ≥ t[s+1] − t[s] > 0.
    const l1 = v - t[s]!;
    const l2 = v - t[s - 1]!;
    const l3 = v - t[s - 2]!;
    const r1 = t[s + 1]! - v;
    const r2 = t[s + 2]! - v;
    const r3 = t[s + 3]! - v;
    // degree 1
    let tmp = 1 / (r1 + l1);
    let n0 = r1 * tmp;
    let n1 = l1 * tmp;
    // degree 2
    tmp = n0 / (r1 + l2);
    n0 = r1 * tmp;
    let saved = l2 * tmp;
    tmp = n1 / (r2 + l1);
    n1 = saved + r2 * tmp;
    let n2 = l1 * tmp;
    // degree 3
    tmp = n0 / (r1 + l3);
    n0 = r1 * tmp;
    saved = l3 * tmp;
    tmp = n1 / (r2 + l2);
    n1 = saved + r2 * tmp;
    saved = l2 * tmp;
    tmp = n2 / (r3 + l1);
    n2 = saved + r3 * tmp;
    const n3 = l1 * tmp;
    start[i] = s - 3;
    const o = 4 * i;
    values[o] = n0;
    values[o + 1] = n1;
    values[o + 2] = n2;
    values[o + 3] = n3;
  }
  return { kind: 'spline', p, width: 4, start, values };
}

/** A least-squares fit of several responses on one design: the Cholesky factor of X'X and the coefficients. */
export interface LeastSquaresFit {
  readonly design: Design;
  /** Lower Cholesky factor of X'X (+ a ridge of 1e-10 · max diag against columns without data), row-major p×p. */
  readonly chol: Float64Array;
  /** Coefficients per response. */
  readonly coef: Float64Array[];
}

/** Ordinary least squares β = (X'X)⁻¹ X'y for each response y (same length as the design). */
export function fitLeastSquares(design: Design, ys: readonly Float64Array[]): LeastSquaresFit {
  const { p, width, start, values } = design;
  const n = start.length;
  const xtx = new Float64Array(p * p);
  const xty = ys.map(() => new Float64Array(p));
  if (width === 4) {
    // The spline: 10 products for the lower triangle of the 4×4 block, 4 per response.
    for (let i = 0; i < n; i++) {
      const s = start[i]!;
      const o = 4 * i;
      const v0 = values[o]!;
      const v1 = values[o + 1]!;
      const v2 = values[o + 2]!;
      const v3 = values[o + 3]!;
      const r0 = s * p + s;
      const r1 = r0 + p;
      const r2 = r1 + p;
      const r3 = r2 + p;
      xtx[r0]! += v0 * v0;
      xtx[r1]! += v1 * v0;
      xtx[r1 + 1]! += v1 * v1;
      xtx[r2]! += v2 * v0;
      xtx[r2 + 1]! += v2 * v1;
      xtx[r2 + 2]! += v2 * v2;
      xtx[r3]! += v3 * v0;
      xtx[r3 + 1]! += v3 * v1;
      xtx[r3 + 2]! += v3 * v2;
      xtx[r3 + 3]! += v3 * v3;
      for (let d = 0; d < ys.length; d++) {
        const y = ys[d]![i]!;
        const xy = xty[d]!;
        xy[s]! += v0 * y;
        xy[s + 1]! += v1 * y;
        xy[s + 2]! += v2 * y;
        xy[s + 3]! += v3 * y;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const s = start[i]!;
      const o = i * width;
      for (let a = 0; a < width; a++) {
        const va = values[o + a]!;
        const row = (s + a) * p + s;
        for (let b = 0; b <= a; b++) xtx[row + b]! += va * values[o + b]!;
      }
      for (let d = 0; d < ys.length; d++) {
        const y = ys[d]![i]!;
        const xy = xty[d]!;
        for (let a = 0; a < width; a++) xy[s + a]! += values[o + a]! * y;
      }
    }
  }
  let maxDiag = 0;
  for (let a = 0; a < p; a++) maxDiag = Math.max(maxDiag, xtx[a * p + a]!);
  for (let a = 0; a < p; a++) xtx[a * p + a]! += 1e-10 * maxDiag;
  const chol = cholesky(xtx, p);
  return { design, chol, coef: xty.map((b) => cholSolve(chol, p, b)) };
}

/** Fitted values B(x_i)'β of every row, into `out` (allocated when omitted). */
export function fitted(design: Design, coef: Float64Array, out: Float64Array = new Float64Array(design.start.length)): Float64Array {
  const { start, values, width } = design;
  const n = start.length;
  if (width === 4) {
    for (let i = 0; i < n; i++) {
      const s = start[i]!;
      const o = 4 * i;
      out[i] = values[o]! * coef[s]! + values[o + 1]! * coef[s + 1]! + values[o + 2]! * coef[s + 2]! + values[o + 3]! * coef[s + 3]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const s = start[i]!;
      const o = i * width;
      let f = 0;
      for (let a = 0; a < width; a++) f += values[o + a]! * coef[s + a]!;
      out[i] = f;
    }
  }
  return out;
}

/** Cholesky–Banachiewicz on the lower triangle of a symmetric positive definite p×p matrix. */
function cholesky(m: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = m[i * p + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * p + k]! * l[j * p + k]!;
      if (i === j) l[i * p + i] = Math.sqrt(Math.max(sum, Number.MIN_VALUE));
      else l[i * p + j] = sum / l[j * p + j]!;
    }
  }
  return l;
}

/** Solves (L L') z = b. */
export function cholSolve(l: Float64Array, p: number, b: Float64Array): Float64Array {
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * y[k]!;
    y[i] = s / l[i * p + i]!;
  }
  const z = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * z[k]!;
    z[i] = s / l[i * p + i]!;
  }
  return z;
}
