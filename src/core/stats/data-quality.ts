/**
 * One-sided data loss: exposures are written by the server, so when one arm's beacons are lost
 * (an ad blocker that targets the treatment's widget script, a broken SDK build in one arm) the
 * sample ratio stays right and only the events vanish. The check compares, across arms, the share
 * of exposed readers who sent anything at all afterwards. Tests: test/core/stats/data-quality.test.ts.
 */
import { chiSquareSf } from './distributions.js';
import { SRM_THRESHOLD, type SrmResult } from './srm.js';

/**
 * Flag below this p-value: SRM's threshold (0.001), for the same reasons. The check runs on every
 * look at every experiment, so at 0.05 one healthy experiment in twenty looked at once would be
 * flagged, and far more of those looked at daily; the losses it is for are large at report sizes
 * (19 % of one arm's readers silent gives p far below 1e-10 with 2,000 readers per arm).
 */
export const DATA_LOSS_THRESHOLD = SRM_THRESHOLD;

/** The same fields as SRM's result (a Pearson statistic, its p-value and the flag at DATA_LOSS_THRESHOLD); chi2 and df are null when the test was not run (fewer than 2 arms with readers, or every reader active, or none). */
export type ActiveShareResult = SrmResult;

/**
 * Pearson chi-square test of homogeneity (Pearson 1900) of the active share across arms, on the
 * k × 2 table (active, not active) of the arms with readers:
 *   p̂ = Σa_i / Σn_i, E_i = n_i p̂ (active) and n_i (1 − p̂) (not),
 *   χ² = Σ_i [(a_i − n_i p̂)² / (n_i p̂) + (a_i − n_i p̂)² / (n_i (1 − p̂))] = Σ_i (a_i − n_i p̂)² / (n_i p̂ (1 − p̂)),
 *   p = 1 − F_{χ²}(χ², k − 1).
 * The same as scipy.stats.chi2_contingency(table, correction=False); with two arms, χ² is the
 * square of the pooled two-proportion z statistic. p = 1 when fewer than two arms have readers or
 * p̂ is 0 or 1 (no variation to test).
 *
 * @example checkActiveShare([1960, 1590], [2000, 2000]).flag // true
 */
export function checkActiveShare(active: readonly number[], n: readonly number[]): ActiveShareResult {
  const kept: [number, number][] = [];
  let totalActive = 0;
  let total = 0;
  for (let i = 0; i < n.length; i++) {
    const ni = n[i]!;
    if (!(ni > 0)) continue;
    const ai = Math.min(Math.max(active[i] ?? 0, 0), ni);
    kept.push([ai, ni]);
    totalActive += ai;
    total += ni;
  }
  const share = total > 0 ? totalActive / total : 0;
  if (kept.length < 2 || share <= 0 || share >= 1) return { chi2: null, df: null, pValue: 1, flag: false };
  let chi2 = 0;
  for (const [a, ni] of kept) chi2 += (a - ni * share) ** 2 / (ni * share * (1 - share));
  const df = kept.length - 1;
  const pValue = chiSquareSf(chi2, df);
  return { chi2, df, pValue, flag: pValue < DATA_LOSS_THRESHOLD };
}
