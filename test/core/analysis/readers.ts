/**
 * Simulated readers with realistic, skewed measures, aggregated straight into ArmSums (no
 * database), for the report's calibration and data-loss tests. Each reader has an engagement
 * λ ~ LogNormal(0, 1) (a few heavy readers, many light ones); given λ:
 *   sessions = 1 + Poisson(0.5 λ), page views = sessions + Poisson(0.8 λ · sessions) (0 for the 2 %
 *   whose exposure page view never arrives), impressions = page views, clicks ~ Bin(impressions, 0.04),
 *   reads ~ Bin(page views, 0.6), dwell per read LogNormal (median 30 s), subscribed ~ Bernoulli(0.01),
 *   revenue ∈ {4.99, 9.99, 99} when subscribed;
 * and the same measures over the CUPED pre-period drawn afresh from the same λ (so pre and post
 * correlate through λ, as they do in real traffic).
 */
import type { Rng } from '../../../src/core/kernel/rng.js';
import { CUPED_RATIO_PAIRS, MEASURES, RATIO_PAIRS, type ArmSums, type Measure } from '../../../src/core/analysis/metrics.js';

const M = MEASURES.length;
const IDX = Object.fromEntries(MEASURES.map((k, i) => [k, i])) as Record<Measure, number>;

export interface Population {
  size: number;
  /** size × M post values, then size × M pre values. */
  post: Float64Array;
  pre: Float64Array;
}

class Draw {
  private spare: number | null = null;
  constructor(readonly rng: Rng) {}
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.rng.next()));
    const t = 2 * Math.PI * this.rng.next();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }
  /** Knuth's product method (means here stay below ~100). */
  poisson(mean: number): number {
    const l = Math.exp(-mean);
    let k = 0;
    let p = this.rng.next();
    while (p > l) {
      k++;
      p *= this.rng.next();
    }
    return k;
  }
  binomial(n: number, p: number): number {
    let k = 0;
    for (let i = 0; i < n; i++) if (this.rng.next() < p) k++;
    return k;
  }
}

function reader(d: Draw, lambda: number, out: Float64Array, at: number): void {
  const sessions = 1 + d.poisson(Math.min(0.5 * lambda, 40));
  const lost = d.rng.next() < 0.02;
  const pageViews = lost ? 0 : sessions + d.poisson(Math.min(0.8 * lambda * sessions, 80));
  const clicks = d.binomial(pageViews, 0.04);
  const reads = d.binomial(pageViews, 0.6);
  let dwell = 0;
  for (let i = 0; i < reads; i++) dwell += Math.round(30_000 * Math.exp(0.8 * d.normal()));
  const subscribed = d.rng.next() < 0.01 ? 1 : 0;
  const revenue = subscribed ? [4.99, 9.99, 99][d.rng.int(3)]! : 0;
  out[at + IDX.impressions] = pageViews;
  out[at + IDX.clicks] = clicks;
  out[at + IDX.reads] = reads;
  out[at + IDX.dwellMs] = dwell;
  out[at + IDX.pageViews] = pageViews;
  out[at + IDX.sessions] = sessions;
  out[at + IDX.subscribed] = subscribed;
  out[at + IDX.revenue] = revenue;
}

export function population(rng: Rng, size: number): Population {
  const d = new Draw(rng);
  const post = new Float64Array(size * M);
  const pre = new Float64Array(size * M);
  for (let r = 0; r < size; r++) {
    const lambda = Math.exp(d.normal());
    reader(d, lambda, post, r * M);
    reader(d, lambda, pre, r * M);
  }
  return { size, post, pre };
}

/** Accumulates readers into one arm's sums; `drop(r)` silences a reader's events (data loss). */
export class ArmAccumulator {
  n = 0;
  active = 0;
  readonly s = new Float64Array(M);
  readonly q = new Float64Array(M);
  readonly ps = new Float64Array(M);
  readonly pq = new Float64Array(M);
  readonly pp = new Float64Array(M);
  readonly cross = new Float64Array(RATIO_PAIRS.length);
  readonly cpp = new Float64Array(CUPED_RATIO_PAIRS.length);
  readonly cop = new Float64Array(CUPED_RATIO_PAIRS.length);
  readonly cpo = new Float64Array(CUPED_RATIO_PAIRS.length);

  add(p: Population, r: number, silenced = false): void {
    const at = r * M;
    this.n++;
    // Silenced: the arm's page loses every beacon after exposure; the pre-period (before any arm) is intact.
    const post = (i: number) => (silenced ? 0 : p.post[i]!);
    if (post(at + IDX.pageViews) > 0) this.active++;
    for (let k = 0; k < M; k++) {
      const x = post(at + k);
      const y = p.pre[at + k]!;
      this.s[k]! += x;
      this.q[k]! += x * x;
      this.ps[k]! += y;
      this.pq[k]! += y * y;
      this.pp[k]! += x * y;
    }
    RATIO_PAIRS.forEach(([a, b], i) => (this.cross[i]! += post(at + IDX[a]) * post(at + IDX[b])));
    CUPED_RATIO_PAIRS.forEach(([a, b], i) => {
      this.cpp[i]! += p.pre[at + IDX[a]]! * p.pre[at + IDX[b]]!;
      this.cop[i]! += post(at + IDX[a]) * p.pre[at + IDX[b]]!;
      this.cpo[i]! += p.pre[at + IDX[a]]! * post(at + IDX[b]);
    });
  }

  /** The ArmSums the database would return. */
  sums(arm: string): ArmSums {
    const rec = (xs: Float64Array) => Object.fromEntries(MEASURES.map((k, i) => [k, xs[i]!])) as Record<Measure, number>;
    const pre = { sum: rec(this.ps), sumSquares: rec(this.pq) };
    // PRE_MEASURES only: the store reports 0 for measures without a pre-period.
    for (const k of ['sessions', 'impressions', 'clicks'] as const) pre.sum[k] = pre.sumSquares[k] = 0;
    const sumPostPre = rec(this.pp);
    for (const k of ['sessions', 'impressions', 'clicks'] as const) sumPostPre[k] = 0;
    return {
      arm,
      n: this.n,
      active: this.active,
      sum: rec(this.s),
      sumSquares: rec(this.q),
      crossProducts: Object.fromEntries(RATIO_PAIRS.map(([a, b], i) => [`${a}*${b}`, this.cross[i]!])),
      pre,
      sumPostPre,
      preCrossProducts: Object.fromEntries(
        CUPED_RATIO_PAIRS.map(([a, b], i) => [`${a}*${b}`, { prePre: this.cpp[i]!, postPre: this.cop[i]!, prePost: this.cpo[i]! }]),
      ),
    };
  }
}
