/**
 * The data report's *signal* part: is there anything to learn in the stored events? On a window of
 * live impressions, split in time, the offline lab (core/lab: the replay protocol, the MIND
 * per-impression metrics) measures how much the best recommender beats a random ranking, with a
 * paired bootstrap interval, and draws the learned ranker's learning curve. Tests:
 * test/app/data-signal.test.ts (a pure-noise world gives no signal, the default world does).
 */
import type { Article } from '../core/catalog/article.js';
import { DomainError } from '../core/kernel/errors.js';
import { seededRng, type Rng } from '../core/kernel/rng.js';
import { impressionsFromEvents, type ReadRow } from '../core/lab/events.js';
import { labScorers } from '../core/lab/heuristic.js';
import { impressionMetrics } from '../core/lab/metrics.js';
import { randomScorer, runProtocol, type ProtocolResult } from '../core/lab/protocols.js';
import type { LabImpression, LabScorer } from '../core/lab/types.js';
import { modelLabScorer } from '../core/ml/lab-scorer.js';
import { builtinRegistry } from '../core/recommend/kinds/index.js';
import type { RecommenderRegistry } from '../core/recommend/registry.js';
import type { LabImpressionRow } from './ports.js';

/**
 * What the signal check reads: LabEventStore (app/ports.ts, src/adapters/storage/lab.ts). A row's
 * `placement` is used when the store gives it; LabImpressionRow has none today, so every live
 * impression of the store counts until the adapter adds it.
 */
export interface SignalEventStore {
  labArticles(): Promise<Article[]>;
  labImpressions(): Promise<(LabImpressionRow & { placement?: string })[]>;
  labReads(): Promise<ReadRow[]>;
}

export interface DataSignalDeps {
  events: SignalEventStore;
  /** Recommender kinds tried as "the best recommender" (default: the built-in ones); the learned `model` is always tried. */
  registry?: RecommenderRegistry;
}

export interface DataSignalOptions {
  placement: string;
  /** The window, epoch ms: impressions in [sinceTs, untilTs) (default: all stored). Reads before it still make histories. */
  sinceTs?: number;
  untilTs?: number;
  seed: number;
  /** Share of the window's impressions, the latest, that is the test part (default 0.3). */
  testShare?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Most impressions used, the window's latest (default 100,000): the lab holds them in memory and refits on them six times. */
  maxImpressions?: number;
}

/** One metric's lift of the best recommender over random on the test part, paired per impression. */
export interface MetricLift {
  /** Mean over the impressions counted, best recommender. */
  best: number;
  /** Mean over the same impressions, random ranking. */
  random: number;
  /** best − random. */
  lift: number;
  /** 95% paired bootstrap percentile interval of the lift. */
  low: number;
  high: number;
  /** Test impressions counted (AUC: a click and a non-click; nDCG@10: a click). */
  impressions: number;
}

export interface LearningCurvePoint {
  /** Share of the training part used, its latest impressions: 0.1, 0.25, 0.5, 1. */
  share: number;
  trainImpressions: number;
  /** The learned ranker's mean per-impression AUC on the test part (null: no impression counted). */
  auc: number | null;
  /** Its standard error: sd of the per-impression AUCs / √n (null when n < 2). */
  se: number | null;
}

export interface DataSignal {
  placement: string;
  window: {
    sinceTs: number | null;
    untilTs: number | null;
    /** Live impressions of the placement in the window; the latest `maxImpressions` of them are used. */
    impressions: number;
    /** Impressions from this time on are the test part (null: too few impressions to split). */
    splitTs: number | null;
    train: { impressions: number; clicks: number };
    test: { impressions: number; clicks: number };
  };
  lift: {
    /** The recommender chosen as the best: highest AUC on the validation slice (the latest 20% of the training part). */
    best: string | null;
    /** Every candidate's validation AUC, in the order tried. */
    candidates: { label: string; validationAuc: number | null }[];
    auc: MetricLift | null;
    ndcg10: MetricLift | null;
    bootstrap: { resamples: number; method: 'paired percentile bootstrap over test impressions'; seed: number };
  };
  learningCurve: LearningCurvePoint[];
  /** The last step of the curve (50% → 100%: one doubling of the data). */
  moreData: {
    /** AUC(100%) − AUC(50%): the gain of the last doubling. */
    slope: number | null;
    /** Its standard error, paired over the test impressions. */
    se: number | null;
    /** slope > 2 se: more data would still help; null when undefined. */
    helps: boolean | null;
    sentence: string;
  };
  /** "no detectable signal (…)" when the AUC lift's interval contains zero, else the lift. */
  verdict: string;
}

const VALIDATION_SHARE = 0.2;
const CURVE_SHARES = [0.1, 0.25, 0.5, 1] as const;
/** Fewest test impressions counted by AUC for a verdict. */
const MIN_IMPRESSIONS = 30;

/** Impressions with at least one labelled click, for the counts. */
const clicksOf = (log: readonly LabImpression[]) => log.reduce((a, imp) => a + imp.candidates.filter((c) => c.clicked === true).length, 0);

/** `log` (time order) split where its latest `share` begins; the cut is an impression's time, so ties stay together. */
function splitLatest(log: readonly LabImpression[], share: number): [LabImpression[], LabImpression[], number | null] {
  if (log.length < 2) return [[...log], [], null];
  const cut = log[Math.min(log.length - 1, Math.floor(log.length * (1 - share)))]!.ts;
  return [log.filter((i) => i.ts < cut), log.filter((i) => i.ts >= cut), cut];
}

/** Per test impression, its AUC and nDCG@10 from the protocol's ranks (null: not counted). */
function perImpression(test: readonly LabImpression[], r: ProtocolResult): { auc: (number | null)[]; ndcg10: (number | null)[] } {
  const auc: (number | null)[] = [];
  const ndcg10: (number | null)[] = [];
  test.forEach((imp, i) => {
    const m = impressionMetrics(
      imp.candidates.map((c) => (c.clicked ? 1 : 0)),
      r.ranks[i]!,
    );
    auc.push(m.auc);
    ndcg10.push(m.ndcg10);
  });
  return { auc, ndcg10 };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n − 1 in the denominator). */
function sd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * The q-quantile of sorted `xs`, linear interpolation between order statistics (numpy's default
 * `np.quantile(xs, q)`, "type 7" of Hyndman and Fan 1996): h = (n − 1)·q, x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 */
export function quantileSorted(xs: readonly number[], q: number): number {
  const h = (xs.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(xs.length - 1, lo + 1);
  return xs[lo]! + (h - lo) * (xs[hi]! - xs[lo]!);
}

/**
 * Paired percentile bootstrap of a mean difference (Efron and Tibshirani, "An Introduction to the
 * Bootstrap", 1993, ch. 13): with d_i = a_i − b_i over the n pairs, draw B resamples of n indices
 * with replacement (uniform, from `rng`), take each resample's mean of d, and return the 2.5% and
 * 97.5% quantiles of those B means (type 7, as numpy). Pairing keeps what a and b share (the same
 * impressions, the same clicks) out of the interval's width. Tests: test/app/data-signal.test.ts.
 *
 * @example
 * pairedBootstrap([1, 1, 1], [0, 0, 0], 2000, seededRng(1)) // { low: 1, high: 1 }
 */
export function pairedBootstrap(a: readonly number[], b: readonly number[], resamples: number, rng: Rng): { low: number; high: number } {
  const n = a.length;
  const d = a.map((x, i) => x - b[i]!);
  const means = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)]!;
    means[r] = s / n;
  }
  means.sort((x, y) => x - y);
  return { low: quantileSorted(means, 0.025), high: quantileSorted(means, 0.975) };
}

/** One metric's lift over the impressions where both values are defined (the same set for AUC and nDCG across scorers). */
function liftOf(best: readonly (number | null)[], random: readonly (number | null)[], resamples: number, rng: Rng): MetricLift | null {
  const a: number[] = [];
  const b: number[] = [];
  best.forEach((x, i) => {
    const y = random[i];
    if (x !== null && y !== null && y !== undefined) {
      a.push(x);
      b.push(y);
    }
  });
  if (a.length < MIN_IMPRESSIONS) return null;
  const { low, high } = pairedBootstrap(a, b, resamples, rng);
  const ma = mean(a);
  const mb = mean(b);
  return { best: ma, random: mb, lift: ma - mb, low, high, impressions: a.length };
}

const fmt = (x: number) => (x >= 0 ? `+${x.toFixed(3)}` : x.toFixed(3));

/**
 * Is there anything to learn on the window? In order:
 *   1. load the window's live impressions of the placement (with every read, for histories), keep
 *      the latest `maxImpressions` (100,000), and split them in time: the latest `testShare` (0.3)
 *      is the test part;
 *   2. choose the best recommender: every built-in heuristic and the learned ranker (the lab's
 *      `model`, core/ml/lab-scorer.ts) fitted on the training part's earlier 80% and scored on its
 *      latest 20% (the validation slice; replay protocol); the highest mean AUC wins. Choosing on
 *      validation, never on the test part, keeps the winner's curse out of the lift;
 *   3. the lift: the winner and a random ranking fitted on the whole training part and scored on
 *      the test part (replay); per impression AUC and nDCG@10 (MIND's definitions, core/lab/metrics.ts);
 *      the 95% interval of the mean difference by a paired percentile bootstrap over test
 *      impressions (B = 2000 resamples, seeded `seed`);
 *   4. the learning curve: the learned ranker trained on the latest 10%, 25%, 50%, 100% of the
 *      training part, its AUC on the same test part each time; the last step (one doubling) as
 *      AUC(100%) − AUC(50%) with the standard error of the paired per-impression differences;
 *      "more data would still help" when it exceeds twice that error;
 *   5. the verdict: "no detectable signal" when the AUC lift's interval contains zero (or fewer
 *      than 30 test impressions count), else the lift.
 * Throws DomainError invalid_field (field `until`) when until is not after since.
 *
 * @example
 * const s = await dataSignal({ events: storage }, { placement: 'read-next', sinceTs, untilTs, seed: 1 });
 * s.verdict // 'signal: model beats a random ranking by +0.120 AUC (95% CI +0.080 to +0.160) …'
 */
export async function dataSignal(deps: DataSignalDeps, o: DataSignalOptions): Promise<DataSignal> {
  if (o.sinceTs !== undefined && o.untilTs !== undefined && !(o.untilTs > o.sinceTs))
    throw new DomainError('invalid_field', 'the signal window is empty: until must be after since', { field: 'until' });
  const resamples = o.resamples ?? 2000;
  const testShare = o.testShare ?? 0.3;
  // 1. The window, split in time.
  const [articleList, rows, reads] = await Promise.all([deps.events.labArticles(), deps.events.labImpressions(), deps.events.labReads()]);
  const articles = new Map(articleList.map((a) => [a.id, a]));
  const inWindow = rows.filter(
    (r) =>
      (r.placement === undefined || r.placement === o.placement) &&
      (o.sinceTs === undefined || r.ts >= o.sinceTs) &&
      (o.untilTs === undefined || r.ts < o.untilTs),
  );
  const all = impressionsFromEvents(inWindow, reads);
  const log = all.slice(Math.max(0, all.length - (o.maxImpressions ?? 100_000)));
  const [train, test, splitTs] = splitLatest(log, testShare);

  const scorers = labScorers(deps.registry ?? builtinRegistry(), new Map([['model', (c, ctx) => modelLabScorer(c, ctx)]]));
  const build = (label: string): LabScorer => scorers.factories.get(label)!({}, { articles, seed: o.seed });
  const candidates = scorers.all.filter((l) => l !== 'random');
  const run = (s: LabScorer, fit: readonly LabImpression[], on: readonly LabImpression[]) =>
    runProtocol(s, fit, on, articles, { protocol: 'replay', seed: o.seed });

  // 2. The best recommender, on the validation slice.
  const [fitPart, validation] = splitLatest(train, VALIDATION_SHARE);
  const tried: DataSignal['lift']['candidates'] = [];
  for (const label of candidates) {
    const r = validation.length > 0 ? await run(build(label), fitPart, validation) : undefined;
    tried.push({ label, validationAuc: r?.metrics.auc ?? null });
  }
  const ranked = tried.filter((c) => c.validationAuc !== null).sort((a, b) => b.validationAuc! - a.validationAuc!);
  const best = ranked[0]?.label ?? null;

  // 3. The lift on the test part.
  let auc: MetricLift | null = null;
  let ndcg10: MetricLift | null = null;
  let bestResult: ProtocolResult | undefined;
  if (best !== null && test.length > 0) {
    bestResult = await run(build(best), train, test);
    const random = perImpression(test, await run(randomScorer(o.seed), train, test));
    const winner = perImpression(test, bestResult);
    const rng = seededRng(o.seed);
    auc = liftOf(winner.auc, random.auc, resamples, rng);
    ndcg10 = liftOf(winner.ndcg10, random.ndcg10, resamples, rng);
  }

  // 4. The learning curve of the learned ranker.
  const curve: LearningCurvePoint[] = [];
  const curveAucs: (number | null)[][] = [];
  for (const share of CURVE_SHARES) {
    const slice = share === 1 ? train : train.slice(train.length - Math.round(train.length * share));
    const r =
      test.length === 0 || slice.length === 0
        ? undefined
        : share === 1 && best === 'model' && bestResult
          ? bestResult
          : await run(modelLabScorer({}, { articles, seed: o.seed }), slice, test);
    const values = r ? perImpression(test, r).auc : [];
    curveAucs.push(values);
    const xs = values.filter((x): x is number => x !== null);
    curve.push({
      share,
      trainImpressions: slice.length,
      auc: xs.length > 0 ? mean(xs) : null,
      se: xs.length > 1 ? sd(xs) / Math.sqrt(xs.length) : null,
    });
  }
  const moreData = lastStep(curveAucs[2]!, curveAucs[3]!);

  // 5. The verdict.
  const verdict =
    auc === null
      ? `no detectable signal: too few test impressions with a click and a non-click (need ${MIN_IMPRESSIONS})`
      : auc.low <= 0 && auc.high >= 0
        ? `no detectable signal: the best recommender (${best}) beats a random ranking by ${fmt(auc.lift)} AUC, 95% CI ${fmt(auc.low)} to ${fmt(auc.high)}, which contains zero`
        : `${auc.lift > 0 ? 'signal' : 'worse than random'}: ${best} beats a random ranking by ${fmt(auc.lift)} AUC (95% CI ${fmt(auc.low)} to ${fmt(auc.high)})` +
          (ndcg10 ? ` and ${fmt(ndcg10.lift)} nDCG@10 (95% CI ${fmt(ndcg10.low)} to ${fmt(ndcg10.high)})` : '') +
          `, on ${auc.impressions} test impressions`;

  return {
    placement: o.placement,
    window: {
      sinceTs: o.sinceTs ?? null,
      untilTs: o.untilTs ?? null,
      impressions: inWindow.length,
      splitTs,
      train: { impressions: train.length, clicks: clicksOf(train) },
      test: { impressions: test.length, clicks: clicksOf(test) },
    },
    lift: {
      best,
      candidates: tried,
      auc,
      ndcg10,
      bootstrap: { resamples, method: 'paired percentile bootstrap over test impressions', seed: o.seed },
    },
    learningCurve: curve,
    moreData,
    verdict,
  };
}

/**
 * The learning curve's last step: the mean over test impressions of d_i = AUC_i(100%) − AUC_i(50%)
 * (both defined), its standard error sd(d) / √n, and whether it exceeds two standard errors
 * (about a one-sided 2.5% test of "the last doubling of the data helped").
 */
function lastStep(half: readonly (number | null)[], full: readonly (number | null)[]): DataSignal['moreData'] {
  const d: number[] = [];
  full.forEach((x, i) => {
    const y = half[i];
    if (x !== null && y !== null && y !== undefined) d.push(x - y);
  });
  if (d.length < 2)
    return { slope: null, se: null, helps: null, sentence: 'The learning curve is undefined: too few test impressions were counted.' };
  const slope = mean(d);
  const se = sd(d) / Math.sqrt(d.length);
  const helps = slope > 2 * se;
  const step = `doubling the training data (50% → 100%) changed the learned ranker's AUC by ${fmt(slope)} (standard error ${se.toFixed(3)})`;
  return {
    slope,
    se,
    helps,
    sentence: helps
      ? `More data would still help: ${step}, more than twice its standard error.`
      : `More data of the same kind is unlikely to help much: ${step}, within twice its standard error.`,
  };
}
