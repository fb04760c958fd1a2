/**
 * Draws per-arm sufficient statistics directly, from a seeded Rng, for the calibration tests.
 *
 * - Normal metric, n units of N(μ, σ²): the sufficient statistics are drawn EXACTLY, not
 *   approximated: x̄ ~ N(μ, σ²/n) and (n − 1)s²/σ² ~ χ²_{n−1}, independent (Cochran's theorem);
 *   Σx = n x̄ and Σx² = (n − 1)s² + n x̄².
 * - 0/1 metric: Binomial(n, p) drawn exactly as a count of n Bernoulli trials (n ≤ a few thousand).
 * Normals by Box–Muller; χ² as 2·Gamma(k/2) by Marsaglia & Tsang (ACM TOMS 26(3), 2000).
 */
import { type Rng } from '../../../src/core/kernel/rng.js';
import { type ProportionStat, type SampleMeanStat, meanStat, proportionStat } from '../../../src/core/stats/index.js';

export class Sampler {
  private spare: number | null = null;
  constructor(private readonly rng: Rng) {}

  /** Uniform in (0, 1]: never 0, so logs stay finite. */
  private uniformOpen(): number {
    return 1 - this.rng.next();
  }

  /** Standard normal by the Box–Muller transform (the second variate is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniformOpen()));
    const t = 2 * Math.PI * this.rng.next();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }

  /** Gamma(shape a ≥ 1, scale 1) by Marsaglia & Tsang's squeeze-rejection method. */
  gamma(a: number): number {
    const d = a - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const u = this.uniformOpen();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Sufficient statistics of n iid N(mu, sd²) values (exact in distribution). */
  normalArm(n: number, mu: number, sd: number): SampleMeanStat {
    const mean = mu + (sd / Math.sqrt(n)) * this.normal();
    const ss = sd * sd * 2 * this.gamma((n - 1) / 2); // (n − 1)s² = σ² χ²_{n−1}
    return meanStat({ n, sum: n * mean, sumSquares: ss + n * mean * mean });
  }

  /** Conversions of n readers converting with probability p, counted trial by trial (exact). */
  binomialArm(n: number, p: number): ProportionStat {
    let sum = 0;
    for (let i = 0; i < n; i++) if (this.rng.next() < p) sum++;
    return proportionStat({ n, sum });
  }
}
