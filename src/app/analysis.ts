import { analyseExperiment, guardrailFigures, type ExperimentAnalysis } from '../core/analysis/report.js';
import { METRICS } from '../core/analysis/metrics.js';
import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { Engine } from '../core/stats/compare.js';
import type { Deployments } from './deployments.js';
import type { AnalysisStore, RollupProgress } from './ports.js';
import { AnalysisRollups, type RollupOptions } from './rollups.js';

/**
 * Longest time a report served by a server spends catching the rollups up, milliseconds: under
 * sustained peak ingestion they can be minutes behind (the background share, BACKGROUND_SHARE), and
 * a report should answer within a request's patience, stating `dataThroughTs`.
 */
export const REPORT_CATCH_UP_MS = 5000;

/**
 * Rollup settings of a report made outside a server (the CLI, which serves no request): passes of
 * about half a second. A pass holds the database's write lock on SQLite, and a server on the same
 * file waits for it (busy timeout 5 s) before it can commit events: fixed passes of 50,000 events
 * could hold it for seconds.
 */
export const DEFAULT_ROLLUP: RollupOptions = { lagMs: 5000, batchEvents: 5000, adaptive: { targetMs: 500, min: 500, max: 50_000 } };

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
  /** Events received up to this time are in the figures (the rollups lag ingestion by a few seconds). */
  dataThroughTs: number;
}

/**
 * The experiment report: 1. the phase's window (its start until the next phase, the stop, or now),
 * 2. the rollups caught up, then per-arm sums pushed down to the database (one row per exposed reader), 3. SRM against the phase's designed weights and every
 * metric compared with the control arm, with a verdict.
 */
export async function experimentReport(
  deployments: Deployments,
  store: AnalysisStore,
  clock: Clock,
  id: string,
  opts: { phase?: number; engine?: Engine; alpha?: number; revenueCap?: number; cuped?: boolean; rollups?: { catchUp(o: { maxMs?: number }): Promise<RollupProgress> } } = {},
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
  // A server's rollups catch up for at most REPORT_CATCH_UP_MS (the report then says how far its data
  // goes); a report made outside a server (the CLI) catches up fully.
  const rolled = await (opts.rollups ? opts.rollups.catchUp({ maxMs: REPORT_CATCH_UP_MS }) : new AnalysisRollups(store, deployments, clock, DEFAULT_ROLLUP).catchUp());
  const [sums, serves] = await Promise.all([store.armSums(id, phase, { revenueCap: opts.revenueCap }), store.serveSums(id, phase)]);
  const arms = e.arms.map((a, i) => ({ name: a.name, weight: p.weights[i] ?? a.weight }));
  const analysis = analyseExperiment(METRICS, arms, sums, { engine, alpha, cuped: opts.cuped ?? true });
  return { experiment: id, phase, fromTs: p.startedTs, toTs, engine, alpha, ...analysis, guardrails: guardrailFigures(arms, serves), revenueCap: opts.revenueCap ?? null, cuped: opts.cuped ?? true, dataThroughTs: Math.min(toTs, rolled.throughTs) };
}
