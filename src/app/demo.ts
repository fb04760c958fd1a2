/**
 * `readnext demo`: the talk's story played on a simulated newsroom, on the platform's own use cases
 * (issue 21). One world run (core/simulate/run.ts runWorld) drives the readers through the
 * platform in process; at the end of chosen simulated days the story acts as a newsroom would:
 *
 *   1. backfill: the status quo live for `backfillDays`, with logged exploration on (5% of slates);
 *   2. measure: the data report (quality, signal, stability) of the backfill;
 *   3. ROI: the newspaper template (core/roi/template.ts) analysed, and which uncertainty to lift first;
 *   4. the best heuristic A/B-tested against the status quo for `heuristicDays`; shipped if it wins;
 *   5. the model trained on the logs, deployed in shadow for `shadowDays`; the shadow report and the
 *      off-policy estimate of the model on the logged exploration;
 *   6. the model as a canary for `canaryDays` (guardrails checked), then A/B-tested against what is
 *      live for `modelDays`;
 *   7. the ROI updated with what production measured (`measured_by`), and the decision; when the
 *      canary's guardrails rolled the model back, its A/B test never ran and its lift keeps the prior.
 *
 * Every figure printed is the platform's output on the simulated traffic: nothing is canned. The
 * experiment ids are the template's `measured_by` sources (heuristic-vs-status-quo,
 * model-vs-heuristic), so step 7 is `readnext roi update` on the template.
 */
import type { Article } from '../core/catalog/article.js';
import type { RecommenderConfig } from '../core/recommend/types.js';
import { DAY_MS } from '../core/kernel/time.js';
import { runWorld, type Tally } from '../core/simulate/run.js';
import type { SimPlatform } from '../core/simulate/platform.js';
import type { WorldSpec } from '../core/simulate/world.js';
import { newspaperTemplate } from '../core/roi/template.js';
import type { ExperimentReport } from './analysis.js';
import type { DataReport } from './data-report.js';
import type { OpeReport } from './ope.js';
import type { ShadowReport } from './reports.js';
import type { RoiResult } from './roi.js';
import type { Actor } from './ports.js';
import type { DeploymentAdmin } from './deploy-admin.js';
import type { CanaryCheck } from './canary.js';
import type { SimTrainedModel } from './sim-control.js';

/** How long each act of the story lasts, in simulated days, and how many readers play it. */
export interface DemoSchedule {
  readers: number;
  backfillDays: number;
  heuristicDays: number;
  shadowDays: number;
  canaryDays: number;
  modelDays: number;
}

/**
 * The full story reaches the live phase in about a minute and a half on a 2-core machine (README),
 * `--fast` in about half that. On the demo world 8,000 readers over a week give a 95% interval of
 * about ±5% on the relative uplift in articles read per reader once CUPED has the backfill as
 * pre-period (the heuristic measured +11.7% [+7.4%, +16.1%] with 10,000 readers, truth +10.4%).
 */
export const DEMO_SCHEDULES: Readonly<Record<'full' | 'fast', DemoSchedule>> = {
  full: { readers: 8_000, backfillDays: 14, heuristicDays: 7, shadowDays: 1, canaryDays: 1, modelDays: 7 },
  fast: { readers: 5_000, backfillDays: 7, heuristicDays: 4, shadowDays: 1, canaryDays: 1, modelDays: 4 },
};

export const storyDays = (s: DemoSchedule): number => s.backfillDays + s.heuristicDays + s.shadowDays + s.canaryDays + s.modelDays;

/** The experiment ids the ROI template's `measured_by` names (core/roi/template.ts). */
export const HEURISTIC_EXPERIMENT = 'heuristic-vs-status-quo';
export const MODEL_EXPERIMENT = 'model-vs-heuristic';
/** The ROI revisions' name (what the dashboard's ROI page shows). */
export const DEMO_ROI_NAME = 'default';
const EXPLORATION = { share: 0.05 };
const SHADOW_EXPLORATION = { share: 0.25 };
const CANARY_PERCENT = 10;
/** The canary's guardrails: at most 1% faults, p99 under 50 ms, CTR not confidently below 80% of live's. */
const CANARY_GUARDRAILS = { maxErrorRate: 0.01, maxP99LatencyMs: 50, minCtrRatio: 0.8 };
const DEMO: Actor = { actor: 'demo', reason: 'readnext demo' };

/** What the story needs from the platform (main/demo.ts binds it to the services). */
export interface DemoDeps {
  /** The world's calls into the platform (the in-process simulation target). */
  platform: SimPlatform;
  deployments: Pick<
    DeploymentAdmin,
    | 'get'
    | 'put'
    | 'setLive'
    | 'addShadow'
    | 'removeShadow'
    | 'setExploration'
    | 'startCanary'
    | 'stopCanary'
    | 'createExperiment'
    | 'startExperiment'
    | 'stopExperiment'
  >;
  /** The experiment's report at the platform's clock, rollups caught up. */
  report(id: string): Promise<ExperimentReport>;
  dataReport(sinceTs: number, untilTs: number): Promise<DataReport>;
  train(placement: string, sinceTs: number, untilTs: number, seed: number): Promise<SimTrainedModel>;
  shadowReport(placement: string, sinceTs: number): Promise<ShadowReport>;
  ope(placement: string, candidate: RecommenderConfig, sinceTs: number, untilTs: number): Promise<OpeReport>;
  checkCanaries(): Promise<CanaryCheck[]>;
  /** The reports' rollups caught up (at each day's end: a running experiment's daily snapshot for its chart over time). */
  catchUp(): Promise<void>;
  /** Analyses the document with its `{"dist":"measured"}` inputs only, and stores it as a revision (the prior's). */
  roiAnalyse(doc: unknown, name: string): Promise<RoiResult>;
  /** `readnext roi update`: resolves `measured_by`, stores a revision. */
  roiUpdate(doc: unknown, name: string): Promise<RoiResult>;
  /** Serve and exposure records written (before a report of the shadow). */
  flush(): Promise<void>;
}

export interface DemoOptions {
  world: WorldSpec;
  seed: number;
  schedule: DemoSchedule;
  /** Start of the simulated clock (midnight UTC; the story's days follow). */
  startTs: number;
  catalog?: readonly Article[];
  /** A dashboard link for a page (`#/experiments/ID`), or null without a server. */
  link(hash: string): string | null;
  print(line: string): void;
  /** Progress of a long step, share in [0, 1] (a bar on a terminal). */
  progress?(label: string, share: number): void;
}

/** One step's result: its number, title, lines printed, and the figures a test or the JSON reads. */
export interface DemoStep {
  step: number;
  title: string;
  lines: string[];
  figures: Record<string, unknown>;
}

export interface DemoResult {
  steps: DemoStep[];
  tally: Tally;
  /** End of the story on the simulated clock. */
  storyEndTs: number;
  model: SimTrainedModel | null;
  heuristicShipped: boolean;
  modelShipped: boolean;
}

/** A relative change, signed (+4.6%). */
const pct = (x: number, digits = 1): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(digits)}%`;
/** A share (12.8%). */
const share = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
const money = (x: number, currency: string | null): string =>
  `${x < 0 ? '-' : ''}${Math.abs(x) >= 1e6 ? `${(Math.abs(x) / 1e6).toFixed(2)}M` : `${Math.round(Math.abs(x) / 1000)}k`} ${currency ?? ''}`.trim();
const day = (ts: number): string => new Date(ts).toISOString().slice(0, 10);

/** The primary metric's comparison of a report's first treatment arm: estimate, interval, decision. */
export function primaryResult(r: ExperimentReport): {
  metric: string;
  arm: string;
  estimate: number;
  ci: [number, number];
  decision: string;
  verdict: string;
} {
  const metric = r.design.primaryMetric;
  const m = r.metrics.find((x) => x.metric === metric)!;
  const c = m.comparisons[0]!;
  const d = r.decisions.find((x) => x.arm === c.arm);
  return {
    metric,
    arm: c.arm,
    estimate: c.estimate,
    ci: [c.ci[0], c.ci[1]],
    decision: d?.decision ?? 'keep_running',
    verdict: d?.sentence ?? '',
  };
}

/** The demo's ROI document: the newspaper template as `readnext roi init` prints it. */
export function demoScenario(): Record<string, unknown> {
  return newspaperTemplate();
}

/**
 * Plays the story (see the module's comment) and returns each step's figures. Nothing is printed
 * but through `print`; the platform is touched only through `deps`.
 */
export async function playDemo(deps: DemoDeps, o: DemoOptions): Promise<DemoResult> {
  const s = o.schedule;
  const placement = o.world.placement.name;
  const arms = o.world.experiment.arms as { name: string; recommender: RecommenderConfig }[];
  const statusQuo = arms[0]!.recommender;
  const heuristic = arms[1]?.recommender ?? { kind: 'co-read', version: '1' };
  const steps: DemoStep[] = [];
  const say = (step: number, title: string, lines: string[], figures: Record<string, unknown>) => {
    steps.push({ step, title, lines, figures });
    o.print(`${step}/7 ${title}`);
    for (const l of lines) o.print(`    ${l}`);
  };
  const see = (hash: string): string[] => {
    const l = o.link(hash);
    return l ? [`see ${l}`] : [];
  };
  const { startTs } = o;
  const heuristicStart = startTs + s.backfillDays * DAY_MS;
  const shadowStart = heuristicStart + s.heuristicDays * DAY_MS;
  const canaryStart = shadowStart + s.shadowDays * DAY_MS;
  const modelStart = canaryStart + s.canaryDays * DAY_MS;
  const storyEndTs = modelStart + s.modelDays * DAY_MS;
  const days = storyDays(s);
  let model: SimTrainedModel | null = null;
  let modelRc: RecommenderConfig | null = null;
  let live: RecommenderConfig = statusQuo;
  let heuristicShipped = false;
  let modelShipped = false;
  const doc = demoScenario();

  // Step 1: the status quo live, exploration on.
  await deps.platform.setTime(startTs);
  if (await deps.deployments.get(placement)) await deps.deployments.setLive(placement, statusQuo, DEMO);
  else await deps.deployments.put(placement, { live: statusQuo }, 0, DEMO);
  await deps.deployments.setExploration(placement, EXPLORATION, DEMO);

  const acts = new Map<number, (now: number) => Promise<void>>();
  // End of the backfill: steps 1-3, then the heuristic's A/B test starts.
  acts.set(s.backfillDays, async (now) => {
    const dr = await deps.dataReport(startTs, now);
    const events = dr.quality.events;
    say(
      1,
      `backfilled ${s.backfillDays} simulated days of the status quo (${recName(statusQuo)} live, ${EXPLORATION.share * 100}% of slates explored)`,
      [
        `${events.toLocaleString('en')} events of ${s.readers.toLocaleString('en')} simulated readers (${day(startTs)} to ${day(now - 1)}), ${dr.quality.rejections.total} rejected`,
        ...see('#/overview'),
      ],
      { events, readers: s.readers, byType: dr.quality.byType },
    );
    const sig = dr.signal;
    const auc = sig?.lift.auc;
    const alerts = dr.alerts.length;
    say(
      2,
      'measured the data: quality, signal, stability',
      [
        `quality: ${share(dr.quality.impressionsWithoutServe.share, 2)} of impressions without a serve record, ${share(dr.quality.clicksWithoutImpression.share, 2)} of clicks without an impression, ${dr.quality.duplicates} duplicates`,
        auc
          ? `signal: the best recommender (${sig!.lift.best}) ranks clicks above non-clicks with AUC ${auc.best.toFixed(3)} against random's ${auc.random.toFixed(3)} (lift ${auc.lift.toFixed(3)}, 95% [${auc.low.toFixed(3)}, ${auc.high.toFixed(3)}]): ${auc.low > 0 ? 'there is something to learn' : 'no better than random, as far as these logs tell'}`
          : 'signal: too few clicks to measure',
        `stability: ${alerts === 0 ? 'no drift alert' : `${alerts} drift alert${alerts === 1 ? '' : 's'} over ${s.backfillDays} days (the first: ${dr.alerts[0]!.message})`}`,
        ...see('#/data'),
      ],
      { auc: auc ?? null, alerts, quality: dr.quality },
    );
    const roi = await deps.roiAnalyse(doc, DEMO_ROI_NAME);
    say(3, 'estimated the ROI of the three scenarios before spending on any', [...roiLines(roi), ...see('#/roi')], {
      roi: roiFigures(roi),
    });
    // Step 4 starts: the heuristic against the status quo.
    await deps.deployments.createExperiment(
      {
        id: HEURISTIC_EXPERIMENT,
        placement,
        description: `the best heuristic (${recName(heuristic)}) against the status quo (${recName(statusQuo)})`,
        primaryMetric: 'articles_read',
        arms: [
          { name: 'status-quo', recommender: statusQuo },
          { name: 'heuristic', recommender: heuristic },
        ],
      },
      DEMO,
    );
    await deps.deployments.startExperiment(HEURISTIC_EXPERIMENT, DEMO);
  });

  // End of the heuristic's test: its result; ship it if it wins; train the model; shadow it.
  acts.set(s.backfillDays + s.heuristicDays, async (now) => {
    const r = await deps.report(HEURISTIC_EXPERIMENT);
    const p = primaryResult(r);
    await deps.deployments.stopExperiment(HEURISTIC_EXPERIMENT, DEMO);
    heuristicShipped = p.decision === 'ship';
    if (heuristicShipped) {
      live = heuristic;
      await deps.deployments.setLive(placement, heuristic, DEMO);
    }
    say(
      4,
      `A/B-tested the best heuristic (${recName(heuristic)}) against the status quo for ${s.heuristicDays} days`,
      [
        `${p.metric} ${pct(p.estimate)} (95% interval ${pct(p.ci[0])} to ${pct(p.ci[1])}), ${r.srm.flag ? `sample ratio mismatch (p = ${r.srm.pValue.toExponential(1)})` : 'no sample ratio mismatch'}`,
        `verdict: ${p.verdict || p.decision.replace(/_/g, ' ')}`,
        heuristicShipped
          ? `shipped: ${recName(heuristic)} is now live`
          : `not shipped: no detectable effect, ${recName(statusQuo)} stays live`,
        ...see(`#/experiments/${HEURISTIC_EXPERIMENT}`),
      ],
      { ...p, srmP: r.srm.pValue, shipped: heuristicShipped },
    );
    // Step 5: the model, trained on the latest week of logs (the test's two arms, and the explored slates).
    o.progress?.('training the model', 0);
    model = await deps.train(placement, Math.max(startTs, now - 7 * DAY_MS), now, o.seed);
    o.progress?.('training the model', 1);
    modelRc = { kind: 'model', version: model.version };
    await deps.deployments.addShadow(placement, modelRc, DEMO);
    // More exploration while the model is in shadow: off-policy estimates need explored slates
    // where the model's choices were shown, and 5% of a day's slates hold too few of them.
    await deps.deployments.setExploration(placement, SHADOW_EXPLORATION, DEMO);
  });

  // End of the shadow: the shadow report and the off-policy estimate; the canary starts.
  acts.set(s.backfillDays + s.heuristicDays + s.shadowDays, async (now) => {
    await deps.flush();
    const sh = await deps.shadowReport(placement, shadowStart);
    const cmp = sh.shadows.find((x) => x.shadow.kind === 'model');
    const ope = await deps.ope(placement, modelRc!, startTs, now);
    const est = Object.entries(ope.estimates);
    const ok = est.filter(([, e]) => e.ok) as [
      string,
      { ok: true; estimate: { perSlate: { value: number; ci: readonly [number, number] } } },
    ][];
    const refused = est.filter(([, e]) => !e.ok) as [string, { ok: false; reason: string }][];
    const m = model!;
    say(
      5,
      `trained the model on the logs (version ${m.version}: ${m.trainExamples.toLocaleString('en')} impressions, offline AUC ${m.auc === null ? 'n/a' : m.auc.toFixed(3)}) and ran it in shadow for ${s.shadowDays} day${s.shadowDays === 1 ? '' : 's'}`,
      [
        cmp
          ? `shadow: ${cmp.pairs.toLocaleString('en')} requests, p99 ${cmp.shadow.latencyMs.p99.toFixed(2)} ms against live's ${(sh.live[0]?.latencyMs.p99 ?? 0).toFixed(2)} ms, overlap with live (Jaccard) ${cmp.jaccard.toFixed(2)}, next reads in its slate ${share(cmp.shadowHitRate)} against live's ${share(cmp.liveHitRate)}`
          : 'shadow: no request served yet',
        ...(ok.length > 0
          ? ok.map(
              ([name, e]) =>
                `off-policy (${name}): the model would earn ${e.estimate.perSlate.value.toFixed(4)} clicks per slate, 95% [${e.estimate.perSlate.ci[0].toFixed(4)}, ${e.estimate.perSlate.ci[1].toFixed(4)}], against live's measured ${ope.live.clicksPerSlate.toFixed(4)}`,
            )
          : []),
        ...(ok.length > 0
          ? []
          : [
              `off-policy: every estimator refused (${ope.explored.toLocaleString('en')} explored of ${ope.rounds.toLocaleString('en')} logged slates); ${refused[0]![0]}: ${refused[0]![1].reason}`,
            ]),
        ...see('#/shadow'),
      ],
      { shadow: cmp ?? null, ope: { rounds: ope.rounds, explored: ope.explored, live: ope.live, estimates: ope.estimates } },
    );
    await deps.deployments.removeShadow(placement, modelRc!, DEMO);
    await deps.deployments.setExploration(placement, EXPLORATION, DEMO);
    await deps.deployments.startCanary(placement, { recommender: modelRc!, percent: CANARY_PERCENT, guardrails: CANARY_GUARDRAILS }, DEMO);
  });

  // End of the canary: its guardrails; the model's A/B test starts.
  acts.set(s.backfillDays + s.heuristicDays + s.shadowDays + s.canaryDays, async () => {
    await deps.flush();
    const checks = await deps.checkCanaries();
    const c = checks.find((x) => x.placement === placement);
    const breached = !c || c.breaches.length > 0;
    if (c && !c.rolledBack) await deps.deployments.stopCanary(placement, DEMO);
    const lines = c
      ? [
          `canary (${CANARY_PERCENT}% of readers) for ${s.canaryDays} day${s.canaryDays === 1 ? '' : 's'}: ${c.responses.toLocaleString('en')} responses, error rate ${share(c.errorRate, 2)}, p99 ${c.p99LatencyMs.toFixed(2)} ms, CTR ${c.canaryCtr?.toFixed(4) ?? 'n/a'} against live's ${c.liveCtr?.toFixed(4) ?? 'n/a'}: ${c.breaches.length === 0 ? 'guardrails held' : `rolled back (${c.breaches.join('; ')})`}`,
        ]
      : ['canary: no check'];
    if (!breached) {
      await deps.deployments.createExperiment(
        {
          id: MODEL_EXPERIMENT,
          placement,
          description: `the learned ranker against what is live (${recName(live)})`,
          primaryMetric: 'articles_read',
          arms: [
            { name: heuristicShipped ? 'heuristic' : 'status-quo', recommender: live },
            { name: 'model', recommender: modelRc! },
          ],
        },
        DEMO,
      );
      await deps.deployments.startExperiment(MODEL_EXPERIMENT, DEMO);
      lines.push(`then started the A/B test of the model against ${recName(live)} (50/50)`);
    }
    canaryBreached = breached;
    canaryLines = lines;
  });

  let canaryBreached = false;
  let canaryLines: string[] = [];

  // End of the story: the model's result; the ROI updated.
  acts.set(days, async () => {
    let figures: Record<string, unknown> = { canaryBreached };
    const lines = [...canaryLines];
    if (!canaryBreached) {
      const r = await deps.report(MODEL_EXPERIMENT);
      const p = primaryResult(r);
      await deps.deployments.stopExperiment(MODEL_EXPERIMENT, DEMO);
      modelShipped = p.decision === 'ship';
      if (modelShipped) await deps.deployments.setLive(placement, modelRc!, DEMO);
      lines.push(
        `${p.metric} ${pct(p.estimate)} (95% interval ${pct(p.ci[0])} to ${pct(p.ci[1])}) over ${s.modelDays} days: ${p.verdict || p.decision.replace(/_/g, ' ')}`,
        modelShipped ? `shipped: the model (version ${model!.version}) is now live` : `not shipped: ${recName(live)} stays live`,
      );
      figures = { ...figures, ...p, shipped: modelShipped };
    }
    say(
      6,
      `released the model by a canary, then an A/B test against ${heuristicShipped ? 'the heuristic' : 'the status quo'}`,
      [...lines, ...see(`#/experiments/${MODEL_EXPERIMENT}`)],
      figures,
    );
    const before = steps.find((x) => x.step === 3)!.figures.roi as RoiFigures;
    // A rolled-back canary never started the model's A/B test: its uplift keeps the prior, and the
    // heuristic's measured uplift still updates the ROI.
    const roi = await deps.roiUpdate(canaryBreached ? withoutMeasurement(doc, 'model_online_lift') : doc, DEMO_ROI_NAME);
    say(7, 'updated the ROI with what production measured', [...roiUpdateLines(before, roi), ...see('#/roi')], { roi: roiFigures(roi) });
  });

  let done = 0;
  const tally = await runWorld(o.world, deps.platform, {
    seed: o.seed,
    readers: s.readers,
    days,
    startTs,
    catalog: o.catalog ? [...o.catalog] : undefined,
    onProgress: (share) => {
      if (share - done >= 0.01) {
        done = share;
        o.progress?.('simulating', share);
      }
    },
    onDayEnd: async (d, now) => {
      const act = acts.get(d);
      if (act) await act(now);
      else if (d < days) await deps.catchUp();
    },
  });
  return { steps, tally, storyEndTs, model, heuristicShipped, modelShipped };
}

/** A copy of the ROI document in which `parameter` is not measured (its `measured_by` removed): it keeps its prior. */
export function withoutMeasurement(doc: Record<string, unknown>, parameter: string): Record<string, unknown> {
  const copy = structuredClone(doc);
  const spec = (copy.parameters as Record<string, Record<string, unknown>> | undefined)?.[parameter];
  if (spec === undefined) throw new Error(`the ROI document has no parameter ${parameter}`);
  delete spec.measured_by;
  return copy;
}

const recName = (r: RecommenderConfig): string => (r.kind === 'model' ? `model ${r.version}` : r.kind);

/** What the story keeps of an ROI analysis: each option's mean, 90% interval and P(best), the best option, EVPI, the top of the EVPPI ranking. */
export interface RoiFigures {
  currency: string | null;
  best: string;
  options: Record<string, { mean: number; p5: number; p95: number; pBest: number }>;
  evpi: number;
  ranking: { input: string; evppi: number }[];
  plannedTest: { input: string; readersPerArm: number; net: number } | null;
}

export function roiFigures(r: RoiResult): RoiFigures {
  return {
    currency: r.currency,
    best: r.best,
    options: Object.fromEntries(
      Object.entries(r.options).map(([k, v]) => [k, { mean: v.mean, p5: v.quantiles.p5, p95: v.quantiles.p95, pBest: v.p_best }]),
    ),
    evpi: r.evpi,
    ranking: r.ranking.slice(0, 3).map((input) => ({ input, evppi: r.evppi[input] ?? 0 })),
    plannedTest: r.planned_test
      ? { input: r.planned_test.input, readersPerArm: r.planned_test.best.n, net: r.planned_test.best.net }
      : null,
  };
}

/** Step 3's lines: each scenario's net value with its 90% interval and P(best); what to measure first. */
function roiLines(r: RoiResult): string[] {
  const f = roiFigures(r);
  const top = f.ranking[0];
  return [
    ...Object.entries(f.options).map(([k, v]) =>
      v.p5 === 0 && v.p95 === 0
        ? `${k}: the reference (net value 0), best in ${share(v.pBest, 0)} of the futures`
        : `${k}: net value ${money(v.mean, f.currency)} (90% ${money(v.p5, f.currency)} to ${money(v.p95, f.currency)}), best in ${share(v.pBest, 0)} of the futures`,
    ),
    top
      ? `lift first: ${top.input} (worth up to ${money(top.evppi, f.currency)} to know, of ${money(f.evpi, f.currency)} for knowing everything); an A/B test measures it`
      : 'nothing is worth measuring: the decision is clear',
    ...(f.plannedTest
      ? [
          f.plannedTest.readersPerArm > 0
            ? `an A/B test of ${f.plannedTest.input} pays best with ${f.plannedTest.readersPerArm.toLocaleString('en')} readers per arm (expected value of its information net of its cost ${money(f.plannedTest.net, f.currency)})`
            : `no A/B test of ${f.plannedTest.input} pays for itself`,
        ]
      : []),
  ];
}

/** Step 7's lines: the measured inputs (prior to posterior), the options' intervals before and after, the decision. */
function roiUpdateLines(before: RoiFigures, r: RoiResult): string[] {
  const after = roiFigures(r);
  const lines = r.updates.map(
    (u) =>
      `${u.parameter}: prior ${pct(u.prior.mean)} ± ${pct(u.prior.sd).slice(1)} -> measured ${pct(u.measurement.mean)} ± ${pct(u.measurement.sd).slice(1)} -> posterior ${pct(u.posterior.mean)} ± ${pct(u.posterior.sd).slice(1)}`,
  );
  for (const [k, v] of Object.entries(after.options)) {
    const b = before.options[k];
    if (!b || k === 'status_quo') continue;
    lines.push(
      `${k}: 90% interval ${money(b.p5, after.currency)} to ${money(b.p95, after.currency)} -> ${money(v.p5, after.currency)} to ${money(v.p95, after.currency)}, P(best) ${share(b.pBest, 0)} -> ${share(v.pBest, 0)}`,
    );
  }
  lines.push(
    `decision: ${after.best === 'model' ? 'build the model' : after.best === 'heuristic' ? 'keep the heuristic; the model does not pay' : 'do nothing; neither scenario pays'} (expected value of still-missing information ${money(after.evpi, after.currency)}, was ${money(before.evpi, before.currency)})`,
  );
  return lines;
}
