import { compareArms, type Comparison, type Engine } from '../stats/compare.js';
import { normalQuantile } from '../stats/distributions.js';
import { checkSrm, type SrmResult } from '../stats/srm.js';
import { cupedRatioStat, cupedStat, meanStat, proportionStat, ratioStat, type ArmStat } from '../stats/statistics.js';
import { MEASURES, PRE_MEASURES, type ArmSums, type Measure, type MetricDef } from './metrics.js';

export interface ArmFigure {
  arm: string;
  n: number;
  /** The metric's value in this arm (mean, share, or Σnum/Σden). */
  value: number | null;
}

export interface MetricResult {
  metric: string;
  name: string;
  arms: ArmFigure[];
  /** One per non-control arm, in order. */
  comparisons: (Comparison & { arm: string; verdict: string })[];
}

export interface GuardrailFigure {
  arm: string;
  responses: number;
  /** Share of responses where a recommender failed (and a fallback answered). */
  errorRate: number | null;
  meanLatencyMs: number | null;
  maxLatencyMs: number | null;
}

export interface ExperimentAnalysis {
  srm: SrmResult & { observed: number[]; weights: number[] };
  metrics: MetricResult[];
  /** Per response, not per reader: serving health of each arm. */
  guardrails: GuardrailFigure[];
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
    return { arm: a.name, responses: s.responses, errorRate: s.faults / s.responses, meanLatencyMs: s.latencySum / s.responses, maxLatencyMs: s.latencyMax };
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
  const cross = s.preCrossProducts[pair];
  if (cuped && PRE_MEASURES.has(k) && PRE_MEASURES.has(d) && cross !== undefined) {
    return cupedRatioStat({
      n: s.n, mPost: moment(k), dPost: moment(d), mPre: preMoment(k), dPre: preMoment(d),
      sumMPostMPre: s.sumPostPre[k], sumDPostDPre: s.sumPostPre[d], sumMPreDPre: cross.prePre,
      sumMPostDPost: s.crossProducts[pair] ?? 0, sumMPostDPre: cross.postPre, sumMPreDPost: cross.prePost, theta: null,
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
 * The plain-language verdict of one comparison (relative effects, frequentist or sequential: a
 * significant p-value; Bayesian: chance to win above 1 − alpha or below alpha).
 */
export function verdict(m: MetricDef, arm: string, c: Comparison, nPerArm: number, alpha: number, mde = 0.02): string {
  const significant = c.pValue !== null ? c.pValue < alpha : c.chanceToWin !== null && (c.chanceToWin > 1 - alpha || c.chanceToWin < alpha);
  if (c.error === null && significant) {
    const up = c.estimate > 0;
    const good = up !== m.inverse;
    return `${arm} ${up ? 'raises' : 'lowers'} ${m.name.toLowerCase()} by ${pct(Math.abs(c.estimate))} [${pct(c.ci[0])}, ${pct(c.ci[1])}]: ${good ? 'ship it' : 'do not ship it'}`;
  }
  const more = readersStillNeeded(nPerArm, c.se, mde, alpha);
  return Number.isFinite(more)
    ? `no detectable effect yet: about ${more} more readers per arm for a ${pct(mde)} minimum detectable effect`
    : 'no detectable effect yet: not enough data to estimate the sample size';
}

/**
 * Analyses every metric of an experiment from per-arm sums. `arms` lists the arms in the
 * experiment's order (the first is the control) with their designed weights; arms without any
 * exposed reader count as n = 0.
 */
export function analyseExperiment(
  metrics: readonly MetricDef[],
  arms: readonly { name: string; weight: number }[],
  sums: readonly ArmSums[],
  options: { engine: Engine; alpha: number; cuped?: boolean },
): ExperimentAnalysis {
  const cuped = options.cuped ?? true;
  const by = new Map(sums.map((s) => [s.arm, s]));
  const zeros = () => Object.fromEntries(MEASURES.map((k) => [k, 0])) as Record<Measure, number>;
  const empty = (arm: string): ArmSums => ({ arm, n: 0, sum: zeros(), sumSquares: zeros(), crossProducts: {}, pre: { sum: zeros(), sumSquares: zeros() }, sumPostPre: zeros(), preCrossProducts: {} });
  const ordered = arms.map((a) => by.get(a.name) ?? empty(a.name));
  const observed = ordered.map((s) => s.n);
  const weights = arms.map((a) => a.weight);
  const srm = { ...checkSrm(observed, weights), observed, weights };
  const results = metrics.map((m) => {
    const control = ordered[0]!;
    const comparisons = ordered.slice(1).map((t) => {
      const c = compareArms(stat(m, control, cuped), stat(m, t, cuped), { engine: options.engine, alpha: options.alpha, difference: 'relative', inverse: m.inverse });
      return { ...c, arm: t.arm, verdict: verdict(m, t.arm, c, Math.min(control.n, t.n), options.alpha) };
    });
    return { metric: m.id, name: m.name, arms: ordered.map((s) => ({ arm: s.arm, n: s.n, value: s.n === 0 ? null : value(m, s) })), comparisons };
  });
  return { srm, metrics: results, guardrails: [] };
}
