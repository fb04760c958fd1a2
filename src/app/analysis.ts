import { analyseExperiment, guardrailFigures, type ExperimentAnalysis } from '../core/analysis/report.js';
import { METRICS } from '../core/analysis/metrics.js';
import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { Engine } from '../core/stats/compare.js';
import type { Deployments } from './deployments.js';
import type { AnalysisStore } from './ports.js';

export interface ExperimentReport extends ExperimentAnalysis {
  experiment: string;
  phase: number;
  fromTs: number;
  toTs: number;
  engine: Engine;
  alpha: number;
  /** Per-reader revenue cap applied (winsorising), or null. */
  revenueCap: number | null;
  cuped: boolean;
}

/**
 * The experiment report: 1. the phase's window (its start until the next phase, the stop, or now),
 * 2. per-arm sums pushed down to the database, 3. SRM against the phase's designed weights and every
 * metric compared with the control arm, with a verdict.
 */
export async function experimentReport(
  deployments: Deployments,
  store: AnalysisStore,
  clock: Clock,
  id: string,
  opts: { phase?: number; engine?: Engine; alpha?: number; revenueCap?: number; cuped?: boolean } = {},
): Promise<ExperimentReport> {
  const e = deployments.getExperiment(id)?.experiment;
  if (!e) throw new DomainError('not_found', `no experiment "${id}"`, { field: 'id' });
  if (e.phase === 0) throw new DomainError('invalid_state', `experiment "${id}" has not started`, { field: 'status' });
  const phase = opts.phase ?? e.phase;
  const p = e.phases.find((x) => x.phase === phase);
  if (!p) throw new DomainError('invalid_field', `experiment "${id}" has no phase ${phase}`, { field: 'phase' });
  const next = e.phases.find((x) => x.phase === phase + 1);
  const toTs = next?.startedTs ?? e.stoppedTs ?? clock.now();
  const engine = opts.engine ?? 'frequentist';
  const alpha = opts.alpha ?? 0.05;
  const [sums, serves] = await Promise.all([store.armSums(id, phase, toTs, { revenueCap: opts.revenueCap }), store.serveSums(id, phase)]);
  const arms = e.arms.map((a, i) => ({ name: a.name, weight: p.weights[i] ?? a.weight }));
  const analysis = analyseExperiment(METRICS, arms, sums, { engine, alpha, cuped: opts.cuped ?? true });
  return { experiment: id, phase, fromTs: p.startedTs, toTs, engine, alpha, ...analysis, guardrails: guardrailFigures(arms, serves), revenueCap: opts.revenueCap ?? null, cuped: opts.cuped ?? true };
}
