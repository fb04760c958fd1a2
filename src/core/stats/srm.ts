/**
 * Sample ratio mismatch: did the arms receive the share of units their designed weights promise?
 * GrowthBook semantics (packages/back-end/src/util/stats.ts checkSrm). Golden cases:
 * test/core/stats/golden.test.ts.
 */
import { chiSquareSf } from './distributions.js';

/** GrowthBook's DEFAULT_SRM_THRESHOLD: flag a mismatch below this p-value. */
export const SRM_THRESHOLD = 0.001;

export interface SrmResult {
  /** Pearson statistic; null when the test was not run (fewer than 2 arms left, or no units). */
  readonly chi2: number | null;
  /** Arms kept − 1; null when the test was not run. */
  readonly df: number | null;
  readonly pValue: number;
  /** pValue < SRM_THRESHOLD. */
  readonly flag: boolean;
}

/**
 * Pearson chi-square goodness of fit of observed units against the designed weights:
 * χ² = Σ (o_i − e_i)²/e_i with e_i = w_i/Σw · Σo over the arms kept, p = 1 − F_{χ²}(χ², k − 1).
 * Arms with zero (or missing) weight or without an observed count are dropped first; p = 1 when
 * fewer than 2 arms remain or no units were observed. An arm with weight but 0 units stays in.
 * The upper tail is computed directly (precise for tiny p).
 *
 * @example checkSrm([1000, 1200], [0.5, 0.5]).pValue // 2.0079e-5
 */
export function checkSrm(observed: readonly number[], weights: readonly number[]): SrmResult {
  const kept: [number, number][] = [];
  let totalUnits = 0;
  let totalWeight = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    const o = observed[i];
    if (!w || o === undefined) continue;
    kept.push([o, w]);
    totalUnits += o;
    totalWeight += w;
  }
  if (kept.length < 2 || totalUnits === 0) return { chi2: null, df: null, pValue: 1, flag: false };
  let chi2 = 0;
  for (const [o, w] of kept) {
    const e = (w / totalWeight) * totalUnits;
    chi2 += ((o - e) * (o - e)) / e;
  }
  const df = kept.length - 1;
  const pValue = chiSquareSf(chi2, df);
  return { chi2, df, pValue, flag: pValue < SRM_THRESHOLD };
}
