/**
 * The simulation's orchestrator: runs a world's readers through the platform (in process or over
 * HTTP, a SimTarget) with an experiment running, takes the platform's report, and computes the
 * ground truth the report is judged against (the same seeded readers through each arm alone).
 * No I/O of its own: every effect goes through the target.
 *
 * Tested in test/app/sim-experiment.test.ts and, through the CLI, test/main/simulate-cli.test.ts.
 */
import { METRICS } from '../core/analysis/metrics.js';
import { parseExperiment, type Experiment } from '../core/experiments/experiment.js';
import type { Article } from '../core/catalog/article.js';
import { DomainError } from '../core/kernel/errors.js';
import { DAY_MS, parseIsoWithZone } from '../core/kernel/time.js';
import { runWorld, truthOf, type Tally } from '../core/simulate/run.js';
import { DEFAULT_WORLD, type WorldSpec } from '../core/simulate/world.js';
import type { Engine } from '../core/stats/compare.js';
import { normalQuantile } from '../core/stats/distributions.js';
import { frequentistDiff } from '../core/stats/effect.js';
import type { Decision } from '../core/analysis/report.js';
import type { ExperimentReport } from './analysis.js';
import type { SimTarget, SimTrainedModel } from './sim-control.js';
import type { RecommenderConfig } from '../core/recommend/types.js';
import { LAB_MODEL_DEFAULTS } from '../core/ml/lab-scorer.js';
import type { GbdtParams } from '../core/ml/gbdt.js';

/** The default world's start (Monday 2026-01-05 00:00 UTC), where the shipped worlds start too. */
export const DEFAULT_SIM_START_TS: number = parseIsoWithZone(DEFAULT_WORLD.startDate)!;

/** Where a run starts: `startTs` when given, else the world's start date (a fixed time, so a seed pins the whole run). */
export function simStartTs(world: WorldSpec, startTs?: number): number {
  return startTs ?? parseIsoWithZone(world.startDate)!;
}

export interface SimRunOptions {
  world: WorldSpec;
  /** The experiment JSON as `readnext experiment create` takes it; default the world's own. */
  experiment?: unknown;
  seed: number;
  /** Default: the world's. */
  readers?: number;
  /** Default: the world's. */
  days?: number;
  /** Epoch ms; default the world's startDate. */
  startTs?: number;
  /** A real catalog instead of the world's generated articles (dates rebased by the world). */
  catalog?: readonly Article[];
  /**
   * Simulated days before the experiment starts (default 0): the readers come and read while the
   * warm-up recommender (the control, or the first arm that is not a model to train) is live for
   * everyone, and the platform logs them. The experiment then starts at startTs + warmupDays and
   * runs `days` more days; what the report and the truth count begins there (each reader's first
   * widget request from then on). A `model` arm whose version is TRAINED gets the ranker trained on
   * the warm-up's logs at that moment.
   */
  warmupDays?: number;
  /** The boosting parameters of that training (default SIM_TRAINING_GBDT) and its seed (default the run's). */
  training?: { gbdt?: Partial<GbdtParams>; seed?: number };
  /** Called with the share of the run done, in [0, 1]. */
  onProgress?(share: number): void;
}

/**
 * The version that stands for "the model trained in this run": an experiment arm
 * `{"kind":"model","version":"trained"}` is served by the ranker the simulation trains on the
 * warm-up's logs when the experiment starts (its registry version replaces this word).
 */
export const TRAINED = 'trained';

/**
 * How the simulation trains: the lab's small-data trees (15 leaves of >= 50 rows, lambda 10, rate 0.05;
 * core/ml/lab-scorer.ts) with 100 rounds. A simulated warm-up logs thousands of clicks, not the
 * 10^4+ the GBDT's own defaults (200 rounds of 31 leaves) are sized for, and those overfit them.
 */
export const SIM_TRAINING_GBDT: Readonly<Partial<GbdtParams>> = Object.freeze({ ...LAB_MODEL_DEFAULTS, rounds: 100 });

const isTrained = (r: RecommenderConfig): boolean => r.kind === 'model' && r.version === TRAINED;

export interface SimExperimentResult {
  experimentId: string;
  /** One per look, in time order; the last is the final report. */
  reports: ExperimentReport[];
  tally: Tally;
  /** The model trained on the warm-up's logs (an arm's version TRAINED), else null. */
  model: SimTrainedModel | null;
}

/** The experiment a run uses, validated, and checked against the world's placement. */
function simExperiment(world: WorldSpec, input: unknown, startTs: number): { json: unknown; experiment: Experiment } {
  const json = input ?? world.experiment;
  const experiment = parseExperiment(json, startTs);
  if (experiment.placement !== world.placement.name)
    throw new DomainError(
      'invalid_field',
      `the experiment runs on placement "${experiment.placement}" but the world's widget is "${world.placement.name}"`,
      { field: 'placement' },
    );
  return { json, experiment };
}

/** A run's phases: when the experiment starts, what serves before it, whether a model is trained then. */
interface SimPlan {
  startTs: number;
  warmupDays: number;
  /** startTs + warmupDays. */
  expStart: number;
  json: unknown;
  experiment: Experiment;
  /** The warm-up's recommender: the control, or the first arm that is not a model to train. */
  warmup: RecommenderConfig;
  train: boolean;
}

/** The run's plan, with the checks a warm-up needs (the experiment validated at its own start). */
function simPlan(opts: SimRunOptions): SimPlan {
  const startTs = simStartTs(opts.world, opts.startTs);
  const warmupDays = opts.warmupDays ?? 0;
  if (!Number.isInteger(warmupDays) || warmupDays < 0)
    throw new DomainError('invalid_field', `warmupDays must be a whole number of days >= 0, got ${warmupDays}`, { field: 'warmupDays' });
  const expStart = startTs + warmupDays * DAY_MS;
  const { json, experiment } = simExperiment(opts.world, opts.experiment, expStart);
  const train = experiment.arms.some((a) => isTrained(a.recommender));
  if (train && warmupDays === 0)
    throw new DomainError(
      'invalid_field',
      `an arm serves the model trained in this run (version "${TRAINED}"): it needs warm-up days to learn from (--warmup-days)`,
      { field: 'warmupDays' },
    );
  const warmup = experiment.arms.find((a) => !isTrained(a.recommender))?.recommender;
  if (!warmup)
    throw new DomainError('invalid_field', `every arm is a model to train: one arm must be a recommender that serves the warm-up`, {
      field: 'arms',
    });
  return { startTs, warmupDays, expStart, json, experiment, warmup, train };
}

/**
 * Runs the world through the plan's phases: the clock at the start; the warm-up recommender live
 * (when there is a warm-up); at the experiment's start `begin` (at once without a warm-up, else at
 * the end of the last warm-up day); then `afterDay` at the end of each experiment day.
 */
async function runPlanned(
  target: SimTarget,
  opts: SimRunOptions,
  plan: SimPlan,
  hooks: { begin(): Promise<void>; afterDay?(): Promise<void>; onProgress?(share: number): void },
): Promise<Tally> {
  const { startTs, warmupDays } = plan;
  await target.setTime(startTs);
  if (warmupDays === 0) await hooks.begin();
  else await target.deployLive(plan.experiment.placement, plan.warmup);
  return runWorld(opts.world, target, {
    seed: opts.seed,
    readers: opts.readers,
    days: (opts.days ?? opts.world.days) + warmupDays,
    startTs,
    measureFrom: plan.expStart,
    catalog: opts.catalog ? [...opts.catalog] : undefined,
    onProgress: hooks.onProgress,
    onDayEnd: async (day) => {
      if (day === warmupDays && warmupDays > 0) await hooks.begin();
      else if (day > warmupDays) await hooks.afterDay?.();
    },
  });
}

/** Trains the run's model on the warm-up's logs [startTs, expStart) (the target must be able to). */
async function trainOnWarmup(
  target: SimTarget,
  opts: SimRunOptions,
  placement: string,
  startTs: number,
  expStart: number,
): Promise<SimTrainedModel> {
  if (!target.train)
    throw new DomainError(
      'invalid_state',
      `this platform cannot train here (over HTTP): train with \`readnext train --db\` on the server's database and name its version instead of "${TRAINED}"`,
    );
  return target.train(placement, {
    sinceTs: startTs,
    untilTs: expStart,
    seed: opts.training?.seed ?? opts.seed,
    gbdt: opts.training?.gbdt ?? SIM_TRAINING_GBDT,
  });
}

/** `r` with the trained model's version in place of TRAINED. */
const resolved = (r: RecommenderConfig, model: SimTrainedModel | null): RecommenderConfig =>
  isTrained(r) && model ? { ...r, version: model.version } : r;

/** The experiment JSON with the trained model's version in every TRAINED arm. */
function withModel(json: unknown, model: SimTrainedModel | null): unknown {
  if (!model) return json;
  const copy = structuredClone(json) as { arms: { recommender: RecommenderConfig }[] };
  for (const arm of copy.arms) arm.recommender = resolved(arm.recommender, model);
  return copy;
}

/**
 * One simulated experiment, in this order:
 *   1. the platform's clock is set to the start;
 *   2. the experiment's first arm (its control) goes live on the placement, so readers outside the
 *      experiment and the platform's fallback serve what the control serves;
 *   3. the experiment is created and started;
 *   4. the world runs; with `looks: 'daily'` a report is taken at the end of every simulated day;
 *   5. the final report is taken (unless the last daily look already was at the end).
 *
 * @example const { reports } = await runSimExperiment(target, { world: DEFAULT_WORLD, seed: 1, readers: 500, days: 2 });
 */
export async function runSimExperiment(
  target: SimTarget,
  opts: SimRunOptions & { looks?: 'final' | 'daily'; engine?: Engine; alpha?: number },
): Promise<SimExperimentResult> {
  const plan = simPlan(opts);
  const { experiment } = plan;
  const placement = experiment.placement;
  const look = { engine: opts.engine, alpha: opts.alpha };
  let experimentId = '';
  let model: SimTrainedModel | null = null;
  const reports: ExperimentReport[] = [];
  const tally = await runPlanned(target, opts, plan, {
    // Steps 2-3, after the warm-up's training when there is one.
    begin: async () => {
      if (plan.train) model = await trainOnWarmup(target, opts, placement, plan.startTs, plan.expStart);
      await target.deployLive(placement, resolved(experiment.arms[0]!.recommender, model));
      experimentId = await target.startExperiment(withModel(plan.json, model));
    },
    afterDay: opts.looks === 'daily' ? async () => void reports.push(await target.report(experimentId, look)) : undefined,
    onProgress: opts.onProgress,
  });
  // The final report, 1 ms after the run's end: the last minute's events are received at the end
  // itself, and a report counts the events received before its time. It replaces a daily look
  // taken at the end, which could not count them yet.
  await target.setTime(tally.endTs + 1);
  if (reports.at(-1)?.toTs === tally.endTs) reports.pop();
  reports.push(await target.report(experimentId, look));
  return { experimentId, reports, tally, model };
}

/** One arm's true value of every metric (METRICS ids and ad_revenue_per_reader). */
export interface ArmTruth {
  arm: string;
  truth: Record<string, number>;
}

/**
 * The ground truth by common random numbers: for each arm of the experiment, in order and one at a
 * time, a fresh target (`open`), the arm's recommender live for everyone (no experiment), the same
 * seeded readers; the truth is the world's own tally of what they did (truthOf). Readers behave
 * identically under every arm up to the consequences of the slates they are shown, so differences
 * between arms are the recommenders' effects and nothing else.
 */
export async function simGroundTruth(open: () => Promise<SimTarget>, opts: SimRunOptions): Promise<ArmTruth[]> {
  const plan = simPlan(opts);
  const { experiment } = plan;
  const out: ArmTruth[] = [];
  const arms = experiment.arms;
  for (const [i, arm] of arms.entries()) {
    const target = await open();
    try {
      // The warm-up is the experiment run's (same readers, same recommender, nothing exposed yet),
      // so a model trained on it here is the one the experiment served (training is seeded).
      const tally = await runPlanned(target, opts, plan, {
        begin: async () => {
          const model = isTrained(arm.recommender)
            ? await trainOnWarmup(target, opts, experiment.placement, plan.startTs, plan.expStart)
            : null;
          await target.deployLive(experiment.placement, resolved(arm.recommender, model));
        },
        onProgress: opts.onProgress ? (share: number) => opts.onProgress!((i + share) / arms.length) : undefined,
      });
      out.push({ arm: arm.name, truth: truthOf(tally) });
    } finally {
      await target.close();
    }
  }
  return out;
}

/** One metric in one arm: what the platform measured, its interval, and the truth. */
export interface SimMetricEntry {
  metric: string;
  arm: string;
  /** The report's value of the metric in this arm; null when the arm has no exposed reader (or no denominator). */
  estimate: number | null;
  /** The arm's own (1 − alpha) interval: estimate ± z·se (ArmFigure.se); null with the estimate. */
  ci: [number, number] | null;
  truth: number | null;
  /** Treatment arms: the difference against the control as the report computes it (relative). */
  effect?: { estimate: number; ci: [number, number]; truth: number | null; covered: boolean | null };
}

/**
 * The `readnext simulate --json` contract:
 * `{"world","seed","readers","days","warmupDays","model","experiment","engine","alpha","metrics":[...],"truthOnly":[...],"verdict":{...}}`.
 * - `metrics`: one entry per report metric per arm (SimMetricEntry);
 * - `truthOnly`: the world's figures the platform does not measure (ad revenue per reader), per arm;
 * - `verdict`: `decision` = the report's decision per treatment arm (ship, do_not_ship,
 *   keep_running, untrustworthy); `pick` = the arm the newsroom ends up serving (the shipped arm
 *   with the best estimate of the primary metric, else the control); `truthBest` = the arm with the
 *   best true primary metric (ties, within 1e-9 relative, go to the earlier arm, so in a world
 *   where nothing differs it is the control); `correct` = pick is truthBest.
 */
export interface SimulationJson {
  world: string;
  seed: number;
  readers: number | null;
  days: number | null;
  /** Days simulated before the experiment started (0: it started with the run). */
  warmupDays: number;
  /** The model trained on the warm-up's logs for a TRAINED arm, else null. */
  model: SimTrainedModel | null;
  experiment: string;
  engine: Engine;
  alpha: number;
  metrics: SimMetricEntry[];
  truthOnly: { metric: string; arm: string; truth: number }[];
  verdict: { primaryMetric: string; decision: Record<string, Decision>; pick: string; truthBest: string; correct: boolean };
}

export function simulationJson(input: {
  world: string;
  seed: number;
  readers?: number | null;
  days?: number | null;
  warmupDays?: number;
  model?: SimTrainedModel | null;
  experimentId: string;
  report: ExperimentReport;
  truth: readonly ArmTruth[];
}): SimulationJson {
  const { report } = input;
  const truthOf = new Map(input.truth.map((t) => [t.arm, t.truth]));
  const trueValue = (arm: string, metric: string): number | null => {
    const v = truthOf.get(arm)?.[metric];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  // The arm's own interval: the report gives intervals for differences only, so this one is the
  // normal interval around the arm's value with the figure's standard error (ArmFigure.se), at the
  // report's level (alpha 0.05: 95%).
  const z = normalQuantile(1 - report.alpha / 2);
  const metrics: SimMetricEntry[] = [];
  for (const m of report.metrics) {
    const control = m.arms[0]?.arm;
    for (const a of m.arms) {
      const entry: SimMetricEntry = {
        metric: m.metric,
        arm: a.arm,
        estimate: a.value,
        ci: a.value === null || a.se === null ? null : [a.value - z * a.se, a.value + z * a.se],
        truth: trueValue(a.arm, m.metric),
      };
      const c = m.comparisons.find((x) => x.arm === a.arm);
      if (c && control !== undefined) {
        const tc = trueValue(control, m.metric);
        // The report's difference is relative to the control's (unadjusted) mean; the truth is the same ratio of the true values.
        const truth = tc === null || entry.truth === null ? null : frequentistDiff(tc, entry.truth, true);
        const ci: [number, number] = [c.ci[0], c.ci[1]];
        entry.effect = { estimate: c.estimate, ci, truth, covered: truth === null ? null : ci[0] <= truth && truth <= ci[1] };
      }
      metrics.push(entry);
    }
  }
  const reported = new Set(report.metrics.map((m) => m.metric));
  const truthOnly = input.truth.flatMap((t) =>
    Object.entries(t.truth)
      .filter(([metric]) => !reported.has(metric))
      .map(([metric, truth]) => ({ metric, arm: t.arm, truth })),
  );
  return {
    world: input.world,
    seed: input.seed,
    readers: input.readers ?? null,
    days: input.days ?? null,
    warmupDays: input.warmupDays ?? 0,
    model: input.model ?? null,
    experiment: input.experimentId,
    engine: report.engine,
    alpha: report.alpha,
    metrics,
    truthOnly,
    verdict: verdictOf(report, input.truth),
  };
}

function verdictOf(report: ExperimentReport, truth: readonly ArmTruth[]): SimulationJson['verdict'] {
  const primaryMetric = report.design.primaryMetric;
  const sign = METRICS.find((m) => m.id === primaryMetric)?.inverse ? -1 : 1;
  const primary = report.metrics.find((m) => m.metric === primaryMetric);
  const control = primary?.arms[0]?.arm ?? truth[0]?.arm ?? '';
  const decision = Object.fromEntries(report.decisions.map((d) => [d.arm, d.decision]));
  // The arm the newsroom serves after reading the report.
  let pick = control;
  let pickValue = Number.NEGATIVE_INFINITY;
  for (const d of report.decisions) {
    const v = primary?.arms.find((a) => a.arm === d.arm)?.value;
    if (d.decision === 'ship' && v !== null && v !== undefined && sign * v > pickValue) {
      pick = d.arm;
      pickValue = sign * v;
    }
  }
  let truthBest: string | null = null;
  let best = 0;
  for (const t of truth) {
    const v = t.truth[primaryMetric];
    if (v === undefined || !Number.isFinite(v)) continue;
    if (truthBest === null || sign * v > best + 1e-9 * Math.max(1, Math.abs(best))) {
      truthBest = t.arm;
      best = sign * v;
    }
  }
  return { primaryMetric, decision, pick, truthBest: truthBest ?? control, correct: pick === (truthBest ?? control) };
}
