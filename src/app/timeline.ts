import { analyseExperiment } from '../core/analysis/report.js';
import { METRICS, type ArmSums } from '../core/analysis/metrics.js';
import { decisionMetrics, unbalancedPhase } from '../core/experiments/experiment.js';
import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import { reportedPhase, type ServerRollups } from './analysis.js';
import type { ExperimentView } from './deploy-admin.js';
import type { AnalysisStore } from './ports.js';

/** One treatment arm at one time: its readers and its effect on the metric against the control. */
export interface TimelineArm {
  arm: string;
  /** The arm's exposed readers at that time. */
  n: number;
  /** Relative effect against the control, (m_t − m_c)/|m_c| (0.05 = +5%), as the report's comparisons; null when it cannot be computed (an arm without readers, no variance). */
  estimate: number | null;
  /** The always-valid (1 − alpha) confidence sequence at that time, in the units of `estimate`; null with it. */
  ci: [number, number] | null;
}

export interface TimelinePoint {
  /** Data-through time: every event received before it is in the figures. */
  ts: number;
  /** One per treatment arm, in the experiment's order. */
  arms: TimelineArm[];
}

export interface ExperimentTimeline {
  experiment: string;
  phase: number;
  metric: string;
  alpha: number;
  engine: 'sequential';
  /** Oldest first: one per stored snapshot of the phase, then the sums now (the last point is the report's figures). */
  points: TimelinePoint[];
}

/**
 * An experiment's estimate over time with its always-valid confidence sequence: one point per
 * snapshot of the phase's per-arm sums (taken by the rollups, app/rollups.ts snapshotWindows), and
 * a last point from the sums now, after catching the rollups up as the report does.
 *
 * Each point is the report's analysis of those sums (analyseExperiment, CUPED as the report's
 * default) with the sequential engine (core/stats/sequential.ts sequentialTest): for treatment t
 * against control c, the relative effect est = (m_t − m_c)/|m_c| with its delta-method SE, N =
 * n_c + n_t, s² = SE²·N, and the asymptotic confidence sequence
 *   est ± s·√(2(Nρ² + 1)/(N²ρ²) · ln(√(Nρ² + 1)/α)),  ρ = √((−2 ln α + ln(−2 ln α + 1))/N*), N* = 5000
 * (Waudby-Smith, Arnold, Wu, Wang, Ramdas, "Time-uniform central limit theory and asymptotic
 * confidence sequences", arXiv:2103.06476v7 eq. 9, as GrowthBook gbstats implements it). It covers
 * the true effect at every time at once with probability at least 1 − α, so the band may be looked
 * at every point, unlike a fixed-horizon interval. Tests: test/app/timeline.test.ts.
 *
 * `metric` defaults to the experiment's primary metric; one not in METRICS is an invalid_field.
 */
export async function experimentTimeline(
  experiments: ExperimentView,
  store: Pick<AnalysisStore, 'armSums' | 'listExperimentSnapshots'>,
  clock: Clock,
  id: string,
  opts: { phase?: number; metric?: string; alpha?: number; rollups: Pick<ServerRollups, 'catchUp'> },
): Promise<ExperimentTimeline> {
  const { e, phase, p, toTs } = reportedPhase(experiments, id, opts.phase, clock);
  const design = decisionMetrics(e);
  const metric = opts.metric ?? design.primaryMetric;
  if (!METRICS.some((m) => m.id === metric))
    throw new DomainError('invalid_field', `unknown metric "${metric}" (one of ${METRICS.map((m) => m.id).join(', ')})`, {
      field: 'metric',
    });
  const alpha = opts.alpha ?? 0.05;

  const rolled = await opts.rollups.catchUp({});
  const [current, snapshots] = await Promise.all([store.armSums(id, phase), store.listExperimentSnapshots(id, phase)]);
  const nowTs = Math.min(toTs, rolled.throughTs);
  const arms = e.arms.map((a, i) => ({ name: a.name, weight: p.weights[i] ?? a.weight }));
  const phaseProblem = unbalancedPhase(e, phase);
  const point = (ts: number, sums: readonly ArmSums[]): TimelinePoint => {
    const a = analyseExperiment(METRICS, arms, sums, { engine: 'sequential', alpha, ...design, phaseProblem });
    const m = a.metrics.find((x) => x.metric === metric)!;
    return {
      ts,
      arms: m.comparisons.map((c) => ({
        arm: c.arm,
        n: m.arms.find((x) => x.arm === c.arm)?.n ?? 0,
        estimate: c.error === null ? c.estimate : null,
        ci: c.error === null ? [c.ci[0], c.ci[1]] : null,
      })),
    };
  };
  // A snapshot at or after the data now (an ended phase's final one, or the rollups behind) would
  // repeat or outrun the last point: the sums now stand for it.
  const points = snapshots.filter((s) => s.ts < nowTs).map((s) => point(s.ts, s.sums));
  points.push(point(nowTs, current));
  return { experiment: id, phase, metric, alpha, engine: 'sequential', points };
}
