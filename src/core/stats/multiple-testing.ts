/**
 * Multiple-testing corrections of a family of p-values (e.g. every goal metric × treatment arm).
 * Holm and Benjamini–Hochberg follow GrowthBook (packages/shared/src/experiments/experiments.ts
 * adjustPValuesHolmBonferroni / adjustPValuesBenjaminiHochberg); Bonferroni and
 * Benjamini–Yekutieli follow their papers and agree with statsmodels' multipletests. Adjusted
 * p-values come back in input order. Tests: test/core/stats/golden.test.ts and
 * test/core/stats/multiple-testing.test.ts (properties).
 */
import { normalQuantile } from './distributions.js';

export type AdjustMethod = 'holm' | 'bh' | 'bonferroni' | 'by';

/** Indices of `p` sorted by value, ties kept in input order. */
function order(p: readonly number[], direction: 1 | -1): number[] {
  return p.map((_, i) => i).sort((i, j) => direction * (p[i]! - p[j]!) || i - j);
}

/**
 * Holm step-down (Holm 1979): sort ascending, p̃_(i) = max_{j ≤ i} min(1, (m − j) p_(j)) with
 * 0-based j.
 *
 * @example holm([0.01, 0.04, 0.03, 0.005]) // [0.03, 0.06, 0.06, 0.02]
 */
export function holm(p: readonly number[]): number[] {
  const m = p.length;
  const out = new Array<number>(m);
  let running = 0;
  order(p, 1).forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p[idx]!));
    out[idx] = running;
  });
  return out;
}

/**
 * Benjamini–Hochberg step-up (1995), controlling the false discovery rate: sort descending,
 * p̃ = min over larger-or-equal ranks of min(1, p · m / rank) with rank the 1-based ascending rank.
 *
 * @example benjaminiHochberg([0.01, 0.04, 0.03]) // [0.03, 0.04, 0.04]
 */
export function benjaminiHochberg(p: readonly number[]): number[] {
  return stepUp(p, 1);
}

/**
 * Benjamini–Yekutieli (2001): BH with the factor c(m) = Σ_{i=1..m} 1/i, valid under any
 * dependence between the tests.
 *
 * @example benjaminiYekutieli([0.01, 0.5]) // [0.03, 0.75]
 */
export function benjaminiYekutieli(p: readonly number[]): number[] {
  let c = 0;
  for (let i = 1; i <= p.length; i++) c += 1 / i;
  return stepUp(p, c);
}

function stepUp(p: readonly number[], factor: number): number[] {
  const m = p.length;
  const out = new Array<number>(m);
  let running = 1;
  order(p, -1).forEach((idx, i) => {
    // p · (m / rank): with rank = m the factor is exactly 1, so p̃ never rounds below p.
    running = Math.min(running, Math.min(1, factor * p[idx]! * (m / (m - i))));
    out[idx] = running;
  });
  return out;
}

/** Bonferroni: min(1, m · p). *
 * @example bonferroni([0.01, 0.4]) // [0.02, 0.8]
 */
export function bonferroni(p: readonly number[]): number[] {
  return p.map((x) => Math.min(1, x * p.length));
}

/**
 * Adjusted p-values and rejections for a family: reject when the adjusted p <= alpha, the definition
 * of a level-alpha test (statsmodels' multipletests rejects so; GrowthBook's "significant" is p < alpha,
 * which differs only on the boundary).
 *
 * @example adjustPValues('holm', [0.025, 0.03]) // { adjusted: [0.05, 0.05], reject: [true, true] }
 */
export function adjustPValues(method: AdjustMethod, p: readonly number[], alpha = 0.05): { adjusted: number[]; reject: boolean[] } {
  const adjusted =
    method === 'holm' ? holm(p) : method === 'bh' ? benjaminiHochberg(p) : method === 'by' ? benjaminiYekutieli(p) : bonferroni(p);
  return { adjusted, reject: adjusted.map((x) => x <= alpha) };
}

/**
 * An ad-hoc CI consistent with an adjusted p-value (GrowthBook adjustedCI): back out
 * sd = |lift / z_{1−p̃/2}| and return lift ± z_{1−α/2} sd, so the interval excludes 0 exactly when
 * p̃ < α. Normal, two-sided.
 *
 * @example adjustedCI(0.05, 0.1, 0.05) // ≈ [0, 0.2]: the interval touches 0 at the threshold
 */
export function adjustedCI(adjustedP: number, lift: number, alpha: number): [number, number] {
  const sd = Math.abs(lift / normalQuantile(1 - adjustedP / 2));
  const w = normalQuantile(1 - alpha / 2) * sd;
  return [lift - w, lift + w];
}
