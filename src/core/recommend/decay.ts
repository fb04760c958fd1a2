/**
 * Exponentially time-decayed sums, the standard "trending" counter:
 *
 *   score_a(t) = Σ_e w_e · 2^(-(t - t_e) / h)          (h = half-life)
 *
 * Stored in a reference frame so that an update costs O(1) and the ordering of items never has to be
 * recomputed just because time passed (every score decays by the same factor):
 *
 *   S_a = Σ_e w_e · 2^((t_e - t_ref) / h),   score_a(t) = S_a · 2^(-(t - t_ref) / h)
 *
 * When (t_e - t_ref)/h grows large the frame is moved forward (all S scaled down) to stay far from
 * floating-point overflow (2^1023). Events older than the frame are handled the same way (negative
 * exponent), so replaying history out of order gives the same sums.
 */
/** A DecayedSums as its readers see it: frame values, the factor to values at t, and a change counter. */
export interface DecayedRow {
  readonly values: ReadonlyMap<string, number>;
  readonly changes: number;
  factor(t: number): number;
}

export class DecayedSums implements DecayedRow {
  private readonly sums = new Map<string, number>();
  private ref: number;
  /** Moves on every change of a frame value (add, delete, rebase): lets callers cache what they derived from the values. */
  changes = 0;
  /** Exponent beyond which the frame is moved: 2^200 keeps ~800 doublings of head-room. */
  private static readonly REBASE_AT = 200;

  constructor(
    readonly halfLifeMs: number,
    start = 0,
  ) {
    if (!(halfLifeMs > 0)) throw new RangeError('halfLifeMs must be positive');
    this.ref = start;
  }

  add(key: string, weight: number, t: number): void {
    let x = (t - this.ref) / this.halfLifeMs;
    if (x > DecayedSums.REBASE_AT) {
      this.rebase(t);
      x = 0;
    }
    this.changes++;
    this.sums.set(key, (this.sums.get(key) ?? 0) + weight * 2 ** x);
  }

  /** The decayed sum of `key` at time `t`. */
  get(key: string, t: number): number {
    const s = this.sums.get(key);
    return s === undefined ? 0 : s * 2 ** (-(t - this.ref) / this.halfLifeMs);
  }

  /** Frame value, only comparable with other keys of this instance (ordering is time-invariant). */
  raw(key: string): number {
    return this.sums.get(key) ?? 0;
  }

  /** Scale from frame values to values at time t. */
  factor(t: number): number {
    return 2 ** (-(t - this.ref) / this.halfLifeMs);
  }

  /** The frame values by key (decayed value at t = frame value × factor(t)); read-only view. */
  get values(): ReadonlyMap<string, number> {
    return this.sums;
  }

  entries(): IterableIterator<[string, number]> {
    return this.sums.entries();
  }

  get size(): number {
    return this.sums.size;
  }

  delete(key: string): void {
    this.changes++;
    this.sums.delete(key);
  }

  private rebase(t: number): void {
    this.changes++;
    const f = 2 ** (-(t - this.ref) / this.halfLifeMs);
    for (const [k, v] of this.sums) {
      const nv = v * f;
      // Contributions that decayed below 2^-60 of a unit are gone for any practical ranking.
      if (nv < 2 ** -60) this.sums.delete(k);
      else this.sums.set(k, nv);
    }
    this.ref = t;
  }
}
