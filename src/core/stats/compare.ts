/**
 * One entry point over the three engines: compare every treatment arm with the control (the first
 * arm), the shape the CLI (`readnext stats`) and the experiment report use.
 */
import { type BayesianOptions, type NormalPrior, bayesianTest } from './bayesian.js';
import type { Difference } from './effect.js';
import { type Sides, welchTTest } from './frequentist.js';
import { DEFAULT_N_STAR, sequentialTest } from './sequential.js';
import type { ArmStat } from './statistics.js';

export type Engine = 'frequentist' | 'sequential' | 'bayesian';

export interface CompareOptions {
  readonly engine: Engine;
  /** Default 'relative'. */
  readonly difference?: Difference;
  /** Default 0.05. */
  readonly alpha?: number;
  /** Frequentist and sequential engines; default 'two'. The Bayesian interval is always two-sided. */
  readonly sides?: Sides;
  /** Sequential tuning N*; default 5000. */
  readonly nStar?: number;
  /** Bayesian prior on the relative effect; default flat. */
  readonly prior?: NormalPrior | null;
  /** Lower is better: flips the Bayesian chance to win and risks. */
  readonly inverse?: boolean;
}

/** One treatment arm against control; null where the engine produces no such figure. */
export interface Comparison {
  readonly estimate: number;
  readonly se: number;
  readonly df: number | null;
  readonly ci: readonly [number, number];
  readonly pValue: number | null;
  readonly chanceToWin: number | null;
  readonly risk: readonly [number, number] | null;
  /** Why the engine fell back to its uninformative default, if it did. */
  readonly error: string | null;
}

/**
 * Compares `treatment` with `control` using the chosen engine.
 *
 * @example compareArms(control, treatment, { engine: 'bayesian' }).chanceToWin
 */
export function compareArms(control: ArmStat, treatment: ArmStat, options: CompareOptions): Comparison {
  const { engine, difference = 'relative', alpha = 0.05, sides = 'two', nStar = DEFAULT_N_STAR, prior = null, inverse = false } = options;
  if (engine === 'bayesian') {
    const bayes: BayesianOptions = { alpha, difference, prior, inverse };
    const r = bayesianTest(control, treatment, bayes);
    return { estimate: r.estimate, se: r.se, df: null, ci: r.ci, pValue: null, chanceToWin: r.chanceToWin, risk: r.risk, error: r.error };
  }
  const r =
    engine === 'sequential'
      ? sequentialTest(control, treatment, { alpha, sides, difference, nStar })
      : welchTTest(control, treatment, { alpha, sides, difference });
  return { estimate: r.estimate, se: r.se, df: r.df, ci: r.ci, pValue: r.pValue, chanceToWin: null, risk: null, error: r.error };
}

/**
 * Compares each arm after the first with the first (the control), in order.
 *
 * @example compareVariants([control, b, c], { engine: 'frequentist' }).map((r) => r.pValue)
 */
export function compareVariants(arms: readonly ArmStat[], options: CompareOptions): Comparison[] {
  const [control, ...treatments] = arms;
  if (!control) return [];
  return treatments.map((t) => compareArms(control, t, options));
}
