import { analyseExperiment, guardrailFigures, type ExperimentAnalysis } from '../core/analysis/report.js';
import { DEFAULT_REVENUE_CURRENCY, METRICS, type RevenueCurrency } from '../core/analysis/metrics.js';
import { decisionMetrics, unbalancedPhase, type Experiment } from '../core/experiments/experiment.js';
import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { Engine } from '../core/stats/compare.js';
import type { ExperimentView } from './deploy-admin.js';
import type { AnalysisStore, RollupProgress, UnpricedRevenue } from './ports.js';
import { AnalysisRollups, type RollupOptions } from './rollups.js';

/**
 * Pass sizes of a report's rollups made outside a server (the CLI, which serves no request; its lag
 * and currency are the configured ones): passes of about half a second. A pass holds the
 * database's write lock on SQLite, and a server on the same file waits for it (busy timeout 5 s)
 * before it can commit events: fixed passes of 50,000 events could hold it for seconds.
 */
export const OFFLINE_ROLLUP_PASSES: Pick<RollupOptions, 'batchEvents' | 'adaptive'> = {
  batchEvents: 5000,
  adaptive: { targetMs: 500, min: 500, max: 50_000 },
};

/** A server's rollups as its reports use them (see reportRollups). */
export interface ServerRollups {
  catchUp(o: { maxMs?: number }): Promise<RollupProgress>;
  /** The currency revenue is rolled up in (default DEFAULT_REVENUE_CURRENCY). */
  readonly money?: RevenueCurrency;
}

/**
 * A server's rollups for its reports: each report catches them up for at most `maxMs`
 * (READNEXT_REPORT_CATCH_UP_MS) and then says how far its data goes (`dataThroughTs`), since under
 * sustained peak ingestion the rollups can be minutes behind and a report should answer within a
 * request's patience.
 */
export function reportRollups(rollups: Pick<AnalysisRollups, 'catchUp' | 'money'>, maxMs: number): ServerRollups {
  return { catchUp: (o) => rollups.catchUp({ maxMs: Math.min(maxMs, o.maxMs ?? maxMs) }), money: rollups.money };
}

/**
 * The experiment and the phase a report is about (default: the current one), with the phase's end:
 * the next phase's start, the stop, or now. not_found, invalid_state (not started) or invalid_field
 * (no such phase) otherwise. Shared by the report and its timeline (app/timeline.ts).
 */
export function reportedPhase(
  experiments: ExperimentView,
  id: string,
  phaseAsked: number | undefined,
  clock: Clock,
): { e: Experiment; phase: number; p: Experiment['phases'][number]; toTs: number } {
  const e = experiments.getExperiment(id)?.experiment;
  if (!e) throw new DomainError('not_found', `no experiment "${id}"`, { field: 'id' });
  if (e.phase === 0) throw new DomainError('invalid_state', `experiment "${id}" has not started`, { field: 'status' });
  const phase = phaseAsked ?? e.phase;
  const p = e.phases.find((x) => x.phase === phase);
  if (!p) throw new DomainError('invalid_field', `experiment "${id}" has no phase ${phase}`, { field: 'phase' });
  const toTs = e.phases.find((x) => x.phase === phase + 1)?.startedTs ?? e.stoppedTs ?? clock.now();
  return { e, phase, p, toTs };
}

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
  /**
   * The currency of revenue_per_reader, and the revenue left out of it because its currency has no
   * rate (READNEXT_FX_RATES), per arm and currency: never added in, and flagged here when present.
   */
  revenue: { currency: string; unpriced: UnpricedRevenue[]; warning: string | null };
}

/**
 * The experiment report: 1. the phase's window (its start until the next phase, the stop, or now),
 * 2. the rollups caught up, then per-arm sums pushed down to the database (one row per exposed reader), 3. SRM against the phase's designed weights, the
 * one-sided data-loss check and whether the phase changed weights without re-randomising, every metric compared with the control arm
 * in its role (the experiment's primary, guardrail or secondary metrics), and one decision per treatment arm (analyseExperiment).
 */
export async function experimentReport(
  experiments: ExperimentView,
  store: AnalysisStore,
  clock: Clock,
  id: string,
  opts: { phase?: number; engine?: Engine; alpha?: number; revenueCap?: number; cuped?: boolean } &
    /** A server's rollups, caught up as far as it lets a report wait (reportRollups). */
    (
      | { rollups: ServerRollups; rollup?: never }
      /** Outside a server (the CLI): the configured lag (READNEXT_ROLLUP_LAG_MS) and currency (default DEFAULT_REVENUE_CURRENCY); caught up fully. */
      | { rollups?: never; rollup: { lagMs: number; money?: RevenueCurrency } }
    ),
): Promise<ExperimentReport> {
  const { e, phase, p, toTs } = reportedPhase(experiments, id, opts.phase, clock);
  const engine = opts.engine ?? 'frequentist';
  const alpha = opts.alpha ?? 0.05;
  // A server's rollups catch up for as long as the server lets a report wait (the report then says
  // how far its data goes); a report made outside a server (the CLI) catches up fully.
  const money = (opts.rollups ? opts.rollups.money : opts.rollup.money) ?? DEFAULT_REVENUE_CURRENCY;
  const rolled = await (opts.rollups
    ? opts.rollups.catchUp({})
    : new AnalysisRollups(store, experiments, clock, { ...OFFLINE_ROLLUP_PASSES, lagMs: opts.rollup.lagMs, money }).catchUp());
  const [sums, serves, unpriced] = await Promise.all([
    store.armSums(id, phase, { revenueCap: opts.revenueCap }),
    store.serveSums(id, phase),
    store.unpricedRevenue(id, phase),
  ]);
  const arms = e.arms.map((a, i) => ({ name: a.name, weight: p.weights[i] ?? a.weight }));
  const analysis = analyseExperiment(METRICS, arms, sums, {
    engine,
    alpha,
    cuped: opts.cuped ?? true,
    ...decisionMetrics(e),
    phaseProblem: unbalancedPhase(e, phase),
  });
  return {
    experiment: id,
    phase,
    fromTs: p.startedTs,
    toTs,
    engine,
    alpha,
    ...analysis,
    guardrails: guardrailFigures(arms, serves),
    revenueCap: opts.revenueCap ?? null,
    cuped: opts.cuped ?? true,
    dataThroughTs: Math.min(toTs, rolled.throughTs),
    revenue: { currency: money.currency, unpriced, warning: unpricedWarning(money.currency, unpriced) },
  };
}

/** The report's flag for revenue left out: which currencies, how many events, and what to configure. */
function unpricedWarning(currency: string, unpriced: readonly UnpricedRevenue[]): string | null {
  if (unpriced.length === 0) return null;
  const by = new Map<string, number>();
  for (const u of unpriced) by.set(u.currency, (by.get(u.currency) ?? 0) + u.events);
  const list = [...by].map(([c, n]) => `${n} in ${c}`).join(', ');
  return `revenue per reader leaves out subscribe events in a currency without a rate to ${currency} (${list}): set READNEXT_FX_RATES (${[...by.keys()].map((c) => `${c}=<${currency} per ${c}>`).join(',')}) to count them`;
}
