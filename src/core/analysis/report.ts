import { DEFAULT_GUARDRAIL_METRICS, DEFAULT_PRIMARY_METRIC } from '../experiments/experiment.js';
import { DomainError } from '../kernel/errors.js';
import { compareArms, type Comparison, type Engine } from '../stats/compare.js';
import { checkActiveShare, DATA_LOSS_THRESHOLD, type ActiveShareResult } from '../stats/data-quality.js';
import { normalQuantile } from '../stats/distributions.js';
import { holm } from '../stats/multiple-testing.js';
import { checkSrm, SRM_THRESHOLD, type SrmResult } from '../stats/srm.js';
import { cupedRatioStat, cupedStat, meanStat, proportionStat, ratioStat, statVariance, type ArmStat } from '../stats/statistics.js';
import { MEASURES, PRE_MEASURES, type ArmSums, type Measure, type MetricDef } from './metrics.js';

export interface ArmFigure {
  arm: string;
  n: number;
  /** The metric's value in this arm (mean, share, or Σnum/Σden). */
  value: number | null;
  /**
   * Standard error of `value` (unadjusted: sqrt(statVariance / n), the delta method for a ratio),
   * so that a reader of the report can put an interval on one arm; null when the arm has no reader.
   */
  se: number | null;
}

/**
 * primary: the ship decision rests on it; guardrail: must not be significantly harmed for a ship;
 * secondary: reported with Holm-adjusted p-values, never decides.
 */
export type MetricRole = 'primary' | 'guardrail' | 'secondary';

export interface MetricComparison extends Comparison {
  arm: string;
  /**
   * primary: Holm over the treatment arms; secondary: Holm over every secondary metric × treatment
   * arm; guardrail: null (see harmPValue). From `decisionPValue`.
   */
  adjustedPValue: number | null;
  /** Guardrails: one-sided p-value against "no harm" (the Bayesian engine: the chance to win); others null. */
  harmPValue: number | null;
  /**
   * primary, secondary: adjustedPValue <= alpha; guardrail: harmPValue <= alpha (harmed): a level-alpha test rejects at p <= alpha. Always false
   * when `tooFewEvents`.
   */
  significant: boolean;
  /**
   * Set (only) when an arm has too few events for the normal approximation (eventShortage): the
   * estimate and p-values are the engine's, but the comparison is not judged.
   */
  tooFewEvents?: true;
  /** One plain sentence about this metric and arm; never a ship decision (see ExperimentAnalysis.decisions). */
  verdict: string;
}

export interface MetricResult {
  metric: string;
  name: string;
  role: MetricRole;
  arms: ArmFigure[];
  /** One per non-control arm, in order. */
  comparisons: MetricComparison[];
}

export type Decision = 'ship' | 'do_not_ship' | 'keep_running' | 'untrustworthy';

/** The experiment-level decision for one treatment arm against the control. */
export interface ArmDecision {
  arm: string;
  decision: Decision;
  sentence: string;
}

/** Why the results cannot be trusted: srm, data_loss (one-sided), unbalanced_phase (weights changed without re-randomising). */
export interface TrustProblem {
  code: 'srm' | 'data_loss' | 'unbalanced_phase';
  message: string;
}

export interface DataQuality {
  /** Share of exposed readers with a page view after exposure, tested across arms (checkActiveShare). */
  activeShare: ActiveShareResult & {
    arms: { arm: string; n: number; active: number; share: number | null; pageViewsPerActive: number | null }[];
    /** Set when the check could not run. */
    note: string | null;
  };
}

export interface ExperimentAnalysis {
  srm: SrmResult & { observed: number[]; weights: number[] };
  dataQuality: DataQuality;
  /** Empty when the results can be trusted; otherwise every decision is "untrustworthy". */
  trust: TrustProblem[];
  /** What the decisions rest on. */
  design: { primaryMetric: string; guardrailMetrics: string[]; secondaryMetrics: string[]; alpha: number; adjustment: 'holm' };
  /** One per treatment arm, in order. */
  decisions: ArmDecision[];
  metrics: MetricResult[];
  /** Per response, not per reader: serving health of each arm. */
  guardrails: GuardrailFigure[];
}

export interface GuardrailFigure {
  arm: string;
  responses: number;
  /** Share of responses where a recommender failed (and a fallback answered). */
  errorRate: number | null;
  meanLatencyMs: number | null;
  maxLatencyMs: number | null;
}

/** Guardrail figures per arm, in the experiment's arm order. */
export function guardrailFigures(
  arms: readonly { name: string }[],
  sums: readonly { arm: string; responses: number; faults: number; latencySum: number; latencyMax: number }[],
): GuardrailFigure[] {
  const by = new Map(sums.map((s) => [s.arm, s]));
  return arms.map((a) => {
    const s = by.get(a.name);
    if (!s || s.responses === 0) return { arm: a.name, responses: 0, errorRate: null, meanLatencyMs: null, maxLatencyMs: null };
    return {
      arm: a.name,
      responses: s.responses,
      errorRate: s.faults / s.responses,
      meanLatencyMs: s.latencySum / s.responses,
      maxLatencyMs: s.latencyMax,
    };
  });
}

/**
 * The engine's statistic for a metric in one arm. With CUPED asked, mean and proportion metrics
 * are adjusted by the same measure over the 14 days before exposure (regression adjustment), and
 * ratio metrics m/d by their pre-period ratio (GrowthBook's CUPED for ratio metrics: the adjusted
 * ratio m̄/d̄ − θ·m̄_pre/d̄_pre, by the delta method over the four means); theta is pooled across the
 * two arms of each comparison by the engines. Pages per session stays unadjusted: sessions before
 * exposure are not kept (PRE_MEASURES).
 */
function stat(m: MetricDef, s: ArmSums, cuped: boolean): ArmStat {
  const moment = (k: Measure) => meanStat({ n: s.n, sum: s.sum[k], sumSquares: s.sumSquares[k] });
  const preMoment = (k: Measure) => meanStat({ n: s.n, sum: s.pre.sum[k], sumSquares: s.pre.sumSquares[k] });
  const k = m.numerator;
  if (cuped && m.kind !== 'ratio') {
    const postStat = m.kind === 'proportion' ? proportionStat({ n: s.n, sum: s.sum[k] }) : moment(k);
    const preStat = m.kind === 'proportion' ? proportionStat({ n: s.n, sum: s.pre.sum[k] }) : preMoment(k);
    return cupedStat({ n: s.n, post: postStat, pre: preStat, sumPostPre: s.sumPostPre[k], theta: null });
  }
  if (m.kind === 'proportion') return proportionStat({ n: s.n, sum: s.sum[k] });
  if (m.kind === 'mean') return moment(k);
  const d = m.denominator!;
  const pair = `${k}*${d}`;
  // An arm with no exposed reader has no sums at all: zeros, so both arms of a comparison get the
  // same kind of statistic (a plain ratio against a CUPED one cannot be compared).
  const cross = s.preCrossProducts[pair] ?? { prePre: 0, postPre: 0, prePost: 0 };
  if (cuped && PRE_MEASURES.has(k) && PRE_MEASURES.has(d)) {
    return cupedRatioStat({
      n: s.n,
      mPost: moment(k),
      dPost: moment(d),
      mPre: preMoment(k),
      dPre: preMoment(d),
      sumMPostMPre: s.sumPostPre[k],
      sumDPostDPre: s.sumPostPre[d],
      sumMPreDPre: cross.prePre,
      sumMPostDPost: s.crossProducts[pair] ?? 0,
      sumMPostDPre: cross.postPre,
      sumMPreDPost: cross.prePost,
      theta: null,
    });
  }
  return ratioStat({ n: s.n, numerator: moment(k), denominator: moment(d), sumProducts: s.crossProducts[pair] ?? 0 });
}

function value(m: MetricDef, s: ArmSums): number | null {
  if (m.kind === 'ratio') return s.sum[m.denominator!] > 0 ? s.sum[m.numerator] / s.sum[m.denominator!] : null;
  return s.n > 0 ? s.sum[m.numerator] / s.n : null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Readers per arm still needed to detect a relative effect `mde` with 80% power at `alpha`
 * (two-sided): the standard error shrinks as 1/sqrt(n), so with the current SE at n readers per arm,
 *   n_needed = n · ((z_{1-alpha/2} + z_{0.8}) · SE / mde)²
 * (the usual two-sample sample-size formula, e.g. Kohavi, Tang, Xu, "Trustworthy Online Controlled
 * Experiments", 2020, ch. 17, written in terms of the observed SE).
 */
export function readersStillNeeded(nPerArm: number, se: number, mde: number, alpha: number): number {
  if (!(se > 0) || !(nPerArm > 0)) return Number.NaN;
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(0.8);
  return Math.max(0, Math.ceil(nPerArm * ((z * se) / mde) ** 2 - nPerArm));
}

/**
 * The two-sided p-value a decision uses: the engine's (frequentist, sequential), or for the
 * Bayesian engine 2·min(P, 1 − P) with P its chance to win; with the flat prior the report uses,
 * the posterior of the effect is N(est, SE²), P = Φ(est/SE) and 2·min(P, 1 − P) is the two-sided
 * z-test p-value. 1 when the engine fell back to its uninformative default.
 */
export function decisionPValue(c: Comparison): number {
  if (c.error !== null) return 1;
  if (c.pValue !== null) return c.pValue;
  return c.chanceToWin === null ? 1 : Math.min(1, 2 * Math.min(c.chanceToWin, 1 - c.chanceToWin));
}

const fmtP = (p: number) => (p < 0.0001 ? p.toExponential(1) : p.toPrecision(2));

/** "b raises articles read per reader by 4.1% [2.0%, 6.2%]". */
export function effectPhrase(m: MetricDef, arm: string, c: Comparison): string {
  return `${arm} ${c.estimate > 0 ? 'raises' : 'lowers'} ${m.name.toLowerCase()} by ${pct(Math.abs(c.estimate))} [${pct(c.ci[0])}, ${pct(c.ci[1])}]`;
}

/** What the primary metric still needs: "about N more readers per arm for a 2.0% minimum detectable effect". */
function stillNeeded(c: Comparison, nPerArm: number, alpha: number, mde: number): string {
  const more = readersStillNeeded(nPerArm, c.se, mde, alpha);
  if (!Number.isFinite(more)) return 'not enough data to estimate the sample size';
  if (more === 0) return `the experiment can already detect a ${pct(mde)} effect, so a larger one is unlikely`;
  return `about ${more} more readers per arm for a ${pct(mde)} minimum detectable effect`;
}

/**
 * Fewest readers with the event, and without it, each arm needs before a proportion metric's
 * comparison is judged. The engines compare arms through a normal approximation (Welch / z on the
 * delta-method relative difference), which for a binomial count holds only when np ≥ 10 and
 * n(1 − p) ≥ 10 (Moore, Notz, Fligner, "The Basic Practice of Statistics", ch. "Binomial
 * distributions": "the Normal approximation can be used when both np ≥ 10 and n(1 − p) ≥ 10").
 * Experimentation platforms gate rare-event metrics the same way: GrowthBook shows a metric's
 * result only once each variation has its "minimum sample size" of conversions.
 * Below it the approximation is badly miscalibrated: 8 of 1344 against 2 of 1318 readers gets a
 * one-sided p of 0.00011 where Fisher's exact test gives 0.058 (test/core/analysis/rare-events.test.ts).
 */
export const MIN_EVENTS_PER_ARM = 10;

/** Readers with the event (`events`) out of `n`, in one arm. */
export interface EventCount {
  arm: string;
  events: number;
  n: number;
}

/**
 * The two arms' counts when a proportion metric has too few events to judge: either arm with fewer
 * than MIN_EVENTS_PER_ARM readers with the event or without it. Null when it can be judged, and
 * for mean and ratio metrics (their per-arm sums are not counts of readers).
 *
 * @example eventShortage(conversion, control, b) // [{ arm: 'control', events: 8, n: 1344 }, { arm: 'b', events: 2, n: 1318 }]
 */
export function eventShortage(m: MetricDef, control: ArmSums, treatment: ArmSums): [EventCount, EventCount] | null {
  if (m.kind !== 'proportion') return null;
  const counts: [EventCount, EventCount] = [
    { arm: control.arm, events: control.sum[m.numerator], n: control.n },
    { arm: treatment.arm, events: treatment.sum[m.numerator], n: treatment.n },
  ];
  const enough = counts.every((c) => c.events >= MIN_EVENTS_PER_ARM && c.n - c.events >= MIN_EVENTS_PER_ARM);
  return enough ? null : counts;
}

/** "8 of 1344 readers in control, 2 of 1318 in b". */
const countsPhrase = (counts: readonly EventCount[]) =>
  counts.map((c, i) => `${c.events} of ${c.n}${i === 0 ? ' readers' : ''} in ${c.arm}`).join(', ');

/** Why a comparison with too few events is not judged: "too few events to judge subscription conversion: 8 of 1344 readers in control, 2 of 1318 in b (…)". */
export function tooFewEventsPhrase(m: MetricDef, counts: readonly EventCount[], yet = ''): string {
  return `too few events to judge ${m.name.toLowerCase()}${yet}: ${countsPhrase(counts)} (each arm needs at least ${MIN_EVENTS_PER_ARM} readers with it and ${MIN_EVENTS_PER_ARM} without)`;
}

/** The verdict of a comparison with too few events, by role: it is never significant. */
export function tooFewEventsVerdict(m: MetricDef, role: MetricRole, counts: readonly EventCount[]): string {
  const phrase = tooFewEventsPhrase(m, counts);
  if (role === 'guardrail') return `${phrase}: not judged, so it cannot block shipping`;
  if (role === 'secondary') return `${phrase}; secondary`;
  return phrase;
}

/**
 * The sentence for one metric and arm, by role. `p` is the adjusted two-sided p-value (primary,
 * secondary) or the one-sided harm p-value (guardrail); `significant` says whether it is below alpha.
 */
export function verdict(
  m: MetricDef,
  role: MetricRole,
  arm: string,
  c: Comparison,
  p: number,
  significant: boolean,
  nPerArm: number,
  alpha: number,
  mde = 0.02,
): string {
  const effect = effectPhrase(m, arm, c);
  if (role === 'guardrail')
    return significant
      ? `${effect}: guardrail harmed (one-sided p = ${fmtP(p)})`
      : `guardrail not significantly harmed (one-sided p = ${fmtP(p)})`;
  if (role === 'secondary')
    return significant
      ? `${effect} (Holm-adjusted p = ${fmtP(p)}; secondary, does not decide)`
      : `no significant difference (Holm-adjusted p = ${fmtP(p)}; secondary)`;
  return significant && c.error === null
    ? `${effect} (p = ${fmtP(p)}${p !== decisionPValue(c) ? ', Holm-adjusted over the arms' : ''})`
    : `no detectable effect yet (p = ${fmtP(p)}): ${stillNeeded(c, nPerArm, alpha, mde)}`;
}

/**
 * The experiment-level decision for one arm (the rule is in analyseExperiment's comment).
 * `primary` carries the Holm-adjusted p-value over the arms, and its per-arm counts when it has
 * too few events to be judged (eventShortage: then it is not measured yet, whatever its p-value);
 * `harmed` the guardrails whose one-sided harm test is significant for this arm; `untested` the
 * guardrails that could not be tested (an engine error, or too few events).
 */
export function decide(
  primary: {
    metric: MetricDef;
    comparison: Comparison;
    adjustedPValue: number;
    nPerArm: number;
    tooFewEvents?: readonly EventCount[] | null;
  },
  harmed: readonly { metric: MetricDef; comparison: Comparison; harmPValue: number }[],
  guardrailNames: readonly string[],
  arm: string,
  alpha: number,
  trust: readonly TrustProblem[],
  mde = 0.02,
  untested: readonly { name: string; error: string }[] = [],
): ArmDecision {
  if (trust.length > 0)
    return { arm, decision: 'untrustworthy', sentence: `do not trust these results: ${trust.map((t) => t.message).join('; ')}` };
  const { metric: m, comparison: c, adjustedPValue: p } = primary;
  const harms = harmed.map((h) => `${effectPhrase(h.metric, arm, h.comparison)} (one-sided p = ${fmtP(h.harmPValue)})`).join(' and ');
  const watch = harmed.length > 0 ? `; meanwhile ${harms}, which would block shipping` : '';
  if (primary.tooFewEvents)
    return { arm, decision: 'keep_running', sentence: `${tooFewEventsPhrase(m, primary.tooFewEvents, ' yet')}${watch}` };
  if (c.error === null && p <= alpha) {
    const effect = `${effectPhrase(m, arm, c)} (p = ${fmtP(p)})`;
    if (c.estimate > 0 === m.inverse) return { arm, decision: 'do_not_ship', sentence: `${effect}: do not ship it` };
    if (harmed.length > 0) return { arm, decision: 'do_not_ship', sentence: `${effect} but ${harms}: do not ship it as it is` };
    const guards =
      guardrailNames.length > 0 ? ` with no guardrail significantly harmed (${guardrailNames.map((g) => g.toLowerCase()).join(', ')})` : '';
    // A guardrail the engine could not test (no data in an arm, zero variance) cannot show harm:
    // it does not block the decision, but the sentence says so, so nobody reads it as cleared.
    const caveat = untested.length > 0 ? ` (not testable: ${untested.map((u) => `${u.name.toLowerCase()}: ${u.error}`).join('; ')})` : '';
    return { arm, decision: 'ship', sentence: `${effect}${guards}${caveat}: ship it` };
  }
  return {
    arm,
    decision: 'keep_running',
    sentence: `no detectable effect on ${m.name.toLowerCase()} yet (p = ${fmtP(p)}): ${stillNeeded(c, primary.nPerArm, alpha, mde)}${watch}`,
  };
}

/**
 * The data-quality check from per-arm sums: the share of exposed readers with a page view after
 * exposure (ArmSums.active), tested across arms. Page views, because the treatment cannot
 * plausibly change whether one is sent: the SDK sends the page view of the page that made the
 * exposure whatever the arm (before or with the widget's request, counted through
 * EXPOSURE_GRACE_MS), so a missing one means lost beacons. Any event would not do: a status-quo
 * arm shows no widget and sends no impressions or clicks, and reads follow the recommendations.
 * Page views per active reader are shown, not tested: a widget that works legitimately changes them
 * (pages per session is a metric under test).
 */
export function dataQuality(ordered: readonly ArmSums[]): DataQuality {
  const r = checkActiveShare(
    ordered.map((s) => s.active),
    ordered.map((s) => s.n),
  );
  const anyActive = ordered.some((s) => s.active > 0);
  return {
    activeShare: {
      ...r,
      arms: ordered.map((s) => ({
        arm: s.arm,
        n: s.n,
        active: s.active,
        share: s.n > 0 ? s.active / s.n : null,
        pageViewsPerActive: s.active > 0 ? s.sum.pageViews / s.active : null,
      })),
      note:
        r.chi2 !== null
          ? null
          : ordered.filter((s) => s.n > 0).length < 2
            ? 'not run: fewer than two arms with readers'
            : !anyActive
              ? "not run: no exposed reader sent a page view (the check needs the SDK's page_view events)"
              : 'not run: every exposed reader sent a page view, nothing is lost',
    },
  };
}

/**
 * Analyses an experiment from per-arm sums. `arms` lists the arms in the experiment's order (the
 * first is the control) with their designed weights; arms without any exposed reader count as
 * n = 0. The decision per treatment arm:
 *   1. untrustworthy when SRM flags, the data-quality check flags (one-sided data loss), or the
 *      phase changed weights without re-randomising (`unbalancedPhase`, passed in): every decision
 *      and every metric's verdict says "do not trust these results";
 *   2. the primary metric's two-sided p-values are Holm-adjusted over the treatment arms, so the
 *      chance that any arm of an A/A experiment gets a decision stays at most alpha;
 *   3. ship: the primary is significantly better and no guardrail is significantly harmed, each
 *      guardrail tested one-sided at alpha without adjustment (the usual practice: more guardrails
 *      only make "ship" harder, so the false-ship rate stays at most alpha/2; Schultzberg,
 *      Ankargren, Frånberg, "Risk-aware product decisions in A/B tests with multiple metrics",
 *      Spotify, 2024);
 *   4. do_not_ship: the primary is significantly worse, or significantly better while a guardrail
 *      is harmed (both inside the primary's rejection region, so 2 keeps holding);
 *   5. keep_running otherwise, naming any harmed guardrail (a guardrail alone never makes a
 *      decision: with G guardrails at one-sided alpha, A/A experiments would get one in up to G·alpha).
 * A proportion metric with too few events in an arm for the normal approximation (eventShortage:
 * fewer than 10 readers with the event, or without it) keeps its estimate and p-values but is not
 * judged: never significant, so it neither ships nor blocks; as the primary it keeps the experiment
 * running, as a guardrail it is named as not testable (the p-values still enter the Holm families,
 * which only makes the other comparisons more conservative).
 * Secondary metrics (the rest) get Holm-adjusted p-values over secondary metrics × arms and never
 * decide. Defaults: test/core/analysis/calibration.test.ts measures the A/A rate of decisions.
 */
export function analyseExperiment(
  metrics: readonly MetricDef[],
  arms: readonly { name: string; weight: number }[],
  sums: readonly ArmSums[],
  options: {
    engine: Engine;
    alpha: number;
    cuped?: boolean;
    /** Default DEFAULT_PRIMARY_METRIC; must be among `metrics`. */
    primaryMetric?: string;
    /** Default DEFAULT_GUARDRAIL_METRICS (those among `metrics`, less the primary). */
    guardrailMetrics?: readonly string[];
    /** Why this phase is untrustworthy by design (unbalancedPhase), or null. */
    phaseProblem?: string | null;
  },
): ExperimentAnalysis {
  const { alpha, engine } = options;
  const cuped = options.cuped ?? true;
  const ids = metrics.map((m) => m.id);
  const primaryId = options.primaryMetric ?? DEFAULT_PRIMARY_METRIC;
  if (!ids.includes(primaryId))
    throw new DomainError('invalid_field', `primary metric "${primaryId}" is not among the analysed metrics (${ids.join(', ')})`, {
      field: 'primaryMetric',
    });
  const guardIds = (options.guardrailMetrics ?? DEFAULT_GUARDRAIL_METRICS.filter((g) => ids.includes(g))).filter((g) => g !== primaryId);
  for (const g of guardIds)
    if (!ids.includes(g))
      throw new DomainError('invalid_field', `guardrail metric "${g}" is not among the analysed metrics (${ids.join(', ')})`, {
        field: 'guardrailMetrics',
      });
  const role = (id: string): MetricRole => (id === primaryId ? 'primary' : guardIds.includes(id) ? 'guardrail' : 'secondary');

  const by = new Map(sums.map((s) => [s.arm, s]));
  const zeros = () => Object.fromEntries(MEASURES.map((k) => [k, 0])) as Record<Measure, number>;
  const empty = (arm: string): ArmSums => ({
    arm,
    n: 0,
    active: 0,
    sum: zeros(),
    sumSquares: zeros(),
    crossProducts: {},
    pre: { sum: zeros(), sumSquares: zeros() },
    sumPostPre: zeros(),
    preCrossProducts: {},
  });
  const ordered = arms.map((a) => by.get(a.name) ?? empty(a.name));
  const observed = ordered.map((s) => s.n);
  const weights = arms.map((a) => a.weight);
  const srm = { ...checkSrm(observed, weights), observed, weights };
  const quality = dataQuality(ordered);
  const trust: TrustProblem[] = [];
  if (srm.flag)
    trust.push({
      code: 'srm',
      message: `sample ratio mismatch (readers ${observed.join(' vs ')} for weights ${weights.map((w) => Number(w.toFixed(4))).join(' vs ')}, p = ${fmtP(srm.pValue)} < ${SRM_THRESHOLD})`,
    });
  if (quality.activeShare.flag) {
    const shares = quality.activeShare.arms.map((a) => `${a.arm} ${a.share === null ? '-' : pct(a.share)}`).join(', ');
    trust.push({
      code: 'data_loss',
      message: `one-sided data loss: the share of exposed readers with a page view afterwards differs between arms (${shares}; p = ${fmtP(quality.activeShare.pValue)} < ${DATA_LOSS_THRESHOLD}), so one arm's events are likely being lost (blocked beacons, a broken page)`,
    });
  }
  if (options.phaseProblem) trust.push({ code: 'unbalanced_phase', message: options.phaseProblem });
  const untrusted =
    trust.length > 0
      ? `do not trust these results (${trust.map((t) => (t.code === 'srm' ? 'sample ratio mismatch' : t.code === 'data_loss' ? 'one-sided data loss' : 'weights changed without re-randomising')).join(', ')})`
      : null;

  const control = ordered[0]!;
  const treatments = ordered.slice(1);
  // Each metric's statistic per arm, computed once: the two-sided comparisons and the guardrails'
  // one-sided harm tests both read them.
  const stats = new Map(
    metrics.map((m) => [m.id, { control: stat(m, control, cuped), treatments: treatments.map((t) => stat(m, t, cuped)) }]),
  );
  const compared = metrics.map((m) => ({
    m,
    comparisons: stats
      .get(m.id)!
      .treatments.map((ts) => compareArms(stats.get(m.id)!.control, ts, { engine, alpha, difference: 'relative', inverse: m.inverse })),
  }));
  // Holm families: the primary over arms; the secondaries over metrics × arms.
  const primaryAdjusted = holm(compared.find((x) => x.m.id === primaryId)!.comparisons.map(decisionPValue));
  const secondary = compared.filter((x) => role(x.m.id) === 'secondary');
  const secondaryAdjusted = holm(secondary.flatMap((x) => x.comparisons.map(decisionPValue)));
  const harmP = (m: MetricDef, i: number, c: Comparison): number => {
    if (c.error !== null) return 1;
    if (engine === 'bayesian') return c.chanceToWin ?? 1;
    const s = stats.get(m.id)!;
    const lower = compareArms(s.control, s.treatments[i]!, {
      engine,
      alpha,
      difference: 'relative',
      sides: m.inverse ? 'greater' : 'less',
    });
    return lower.error === null && lower.pValue !== null ? lower.pValue : 1;
  };

  const results: MetricResult[] = compared.map(({ m, comparisons }) => {
    const r = role(m.id);
    const secondaryAt = secondary.findIndex((x) => x.m.id === m.id) * treatments.length;
    return {
      metric: m.id,
      name: m.name,
      role: r,
      arms: ordered.map((s) => ({
        arm: s.arm,
        n: s.n,
        value: s.n === 0 ? null : value(m, s),
        se: s.n === 0 ? null : Math.sqrt(statVariance(stat(m, s, false)) / s.n),
      })),
      comparisons: comparisons.map((c, i) => {
        const t = treatments[i]!;
        const adjustedPValue = r === 'primary' ? primaryAdjusted[i]! : r === 'secondary' ? secondaryAdjusted[secondaryAt + i]! : null;
        const harmPValue = r === 'guardrail' ? harmP(m, i, c) : null;
        const p = (adjustedPValue ?? harmPValue)!;
        const few = eventShortage(m, control, t);
        const significant = few === null && c.error === null && p <= alpha;
        return {
          ...c,
          arm: t.arm,
          adjustedPValue,
          harmPValue,
          significant,
          ...(few ? { tooFewEvents: true as const } : {}),
          verdict:
            untrusted ?? (few ? tooFewEventsVerdict(m, r, few) : verdict(m, r, t.arm, c, p, significant, Math.min(control.n, t.n), alpha)),
        };
      }),
    };
  });

  const primaryResult = results.find((x) => x.role === 'primary')!;
  const primaryDef = metrics.find((m) => m.id === primaryId)!;
  const guardResults = guardIds.map((g) => results.find((x) => x.metric === g)!);
  const decisions = treatments.map((t, i) => {
    const pc = primaryResult.comparisons[i]!;
    const harmed = guardResults
      .filter((g) => g.comparisons[i]!.significant)
      .map((g) => ({
        metric: metrics.find((m) => m.id === g.metric)!,
        comparison: g.comparisons[i]!,
        harmPValue: g.comparisons[i]!.harmPValue!,
      }));
    // A guardrail with too few events is not measured yet: like one the engine could not test, it
    // cannot block, and a "ship" sentence names it.
    const untested = guardResults.flatMap((g) => {
      const few = eventShortage(
        metrics.find((m) => m.id === g.metric)!,
        control,
        t,
      );
      const error = g.comparisons[i]!.error;
      if (few) return [{ name: g.name, error: `too few events (${countsPhrase(few)})` }];
      return error !== null ? [{ name: g.name, error }] : [];
    });
    return decide(
      {
        metric: primaryDef,
        comparison: pc,
        adjustedPValue: pc.adjustedPValue!,
        nPerArm: Math.min(control.n, t.n),
        tooFewEvents: eventShortage(primaryDef, control, t),
      },
      harmed,
      guardResults.map((g) => g.name),
      t.arm,
      alpha,
      trust,
      0.02,
      untested,
    );
  });
  return {
    srm,
    dataQuality: quality,
    trust,
    design: {
      primaryMetric: primaryId,
      guardrailMetrics: guardIds,
      secondaryMetrics: secondary.map((x) => x.m.id),
      alpha,
      adjustment: 'holm',
    },
    decisions,
    metrics: results,
    guardrails: [],
  };
}
