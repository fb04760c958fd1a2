import { METRICS } from '../analysis/metrics.js';
import { DomainError } from '../kernel/errors.js';
import { badTextReason } from '../kernel/strings.js';
import type { RecommenderConfig } from '../recommend/types.js';
import { bucketRanges, chooseArm, hash, inNamespace, type HashVersion } from './hash.js';

export type ExperimentKind = 'ab' | 'interleaving';
export type ExperimentStatus = 'draft' | 'running' | 'stopped';

export interface Arm {
  name: string;
  recommender: RecommenderConfig;
  /** Share of the experiment's traffic, in [0, 1]; the arms' weights sum to 1. */
  weight: number;
}

export interface Phase {
  phase: number;
  startedTs: number;
  weights: number[];
  coverage: number;
  /** True when this phase re-randomised readers (a new seed); false keeps earlier arms. */
  reRandomised: boolean;
}

/**
 * An experiment on one placement. Readers are hashed into arms (GrowthBook-compatible), inside
 * the experiment's slice [rangeStart, rangeEnd) of its layer: experiments of one layer own disjoint
 * slices and are mutually exclusive. Changing weights or coverage of a running experiment opens a
 * new phase; analysis is per phase.
 */
export interface Experiment {
  id: string;
  placement: string;
  kind: ExperimentKind;
  description: string | null;
  layer: string;
  rangeStart: number;
  rangeEnd: number;
  /** Audience share of the layer slice that enters the experiment, [0, 1]. */
  coverage: number;
  arms: Arm[];
  hashVersion: HashVersion;
  seed: string;
  status: ExperimentStatus;
  /** 0 while a draft; 1 at start; +1 at each change of weights or coverage. */
  phase: number;
  phases: Phase[];
  createdTs: number;
  startedTs: number | null;
  stoppedTs: number | null;
  /**
   * The metric the ship decision rests on (a METRICS id), fixed when the experiment is created.
   * Absent from definitions stored before it existed: DEFAULT_PRIMARY_METRIC (decisionMetrics).
   */
  primaryMetric?: string;
  /** Metrics that must not be significantly harmed for "ship" (METRICS ids); absent: DEFAULT_GUARDRAIL_METRICS. */
  guardrailMetrics?: string[];
}

/**
 * The default primary metric: articles read per exposed reader, the newsroom's goal for a read-next
 * widget (more articles read), measured per reader so that it counts every exposed reader.
 */
export const DEFAULT_PRIMARY_METRIC = 'articles_read';

/**
 * The default guardrails: subscription conversion (the money; a widget that distracts from the
 * paywall offer must not ship) and mean dwell per read (reading depth; more but shallower reads,
 * i.e. click-bait, must not ship). Revenue per reader carries nearly the information of conversion
 * with a far noisier measure, so it stays a secondary metric.
 */
export const DEFAULT_GUARDRAIL_METRICS: readonly string[] = Object.freeze(['conversion', 'dwell_per_read']);

/** The experiment's primary and guardrail metrics, with the defaults where its definition has none. */
export function decisionMetrics(e: Pick<Experiment, 'primaryMetric' | 'guardrailMetrics'>): {
  primaryMetric: string;
  guardrailMetrics: string[];
} {
  const primaryMetric = e.primaryMetric ?? DEFAULT_PRIMARY_METRIC;
  return { primaryMetric, guardrailMetrics: e.guardrailMetrics ?? DEFAULT_GUARDRAIL_METRICS.filter((m) => m !== primaryMetric) };
}

const sameWeights = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((w, i) => Math.abs(w - b[i]!) <= 1e-9);

/**
 * Why a phase's comparisons cannot be trusted by design, or null: its weights differ from those of
 * an earlier phase with the same assignment seed (no re-randomisation in between). Readers exposed
 * in that earlier phase keep their arm (assignArm, step 2) while new readers are drawn with the new
 * weights, so the arms hold returning and new readers in different proportions: the observed shares
 * miss the phase's weights (SRM by construction), and since returning readers behave differently
 * from new ones, every comparison is biased too (Kohavi, Tang, Xu, "Trustworthy Online Controlled
 * Experiments", 2020, ch. 21 on ramp-up and SRM causes). Changing coverage alone keeps the arms'
 * proportions and is fine.
 *
 * @example unbalancedPhase(exp, 2) // 'phase 2 changed the weights from 0.5,0.5 to 0.2,0.8 without re-randomising: …'
 */
export function unbalancedPhase(e: Pick<Experiment, 'phases'>, phase: number): string | null {
  const p = e.phases.find((x) => x.phase === phase);
  if (!p || p.reRandomised) return null;
  let first = 1;
  for (const q of e.phases) if (q.phase <= phase && q.reRandomised) first = q.phase;
  const earlier = e.phases.find((q) => q.phase >= first && q.phase < phase && !sameWeights(q.weights, p.weights));
  if (!earlier) return null;
  const w = (ws: readonly number[]) => ws.map((x) => Number(x.toFixed(4))).join(',');
  return `phase ${phase} has weights ${w(p.weights)} where phase ${earlier.phase} had ${w(earlier.weights)}, without re-randomising: readers exposed before kept their arm, so the arms mix returning and new readers in different proportions; the observed shares miss the weights (a sample ratio mismatch by construction) and every comparison of this phase is biased. Analyse the phases before the change, or change weights with a new assignment (CLI --re-randomise, API "reRandomise": true)`;
}

export const EXPERIMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Largest tolerated |Σ weights − 1|; within it the weights are normalised. */
export const WEIGHT_TOLERANCE = 0.001;

/** Normalises weights that sum to 1 ± 0.001; rejects others (they signal a typo, not rounding). */
export function normaliseWeights(weights: readonly number[], field = 'arms'): number[] {
  weights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 1)
      throw new DomainError('invalid_field', `${field}/${i}/weight must be a number in [0, 1]`, { field: `${field}/${i}/weight` });
  });
  const sum = weights.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > WEIGHT_TOLERANCE) {
    throw new DomainError('invalid_weights', `arm weights sum to ${sum}, which differs from 1 by more than ${WEIGHT_TOLERANCE}`, {
      field: `${field}`,
    });
  }
  return weights.map((w) => w / sum);
}

/** The seed of a phase: re-randomising a phase changes the seed, so assignment is drawn afresh. */
export function phaseSeed(e: Pick<Experiment, 'seed' | 'phases'>, phase: number): string {
  let last = 1;
  for (const p of e.phases) if (p.phase <= phase && p.reRandomised) last = p.phase;
  return last === 1 ? e.seed : `${e.seed}:phase${last}`;
}

/**
 * Which arm a reader gets, or undefined when the reader is outside the experiment.
 *   1. the reader must fall in the experiment's slice of its layer (namespace hash, v1);
 *   2. a reader already exposed in an earlier phase keeps that arm unless the phase re-randomised;
 *   3. otherwise hash(seed, reader, version) picks a bucket range (coverage × weights).
 *
 * @example
 * assignArm(exp, 'reader-42') // { arm: 1, name: 'b' } or undefined
 */
export function assignArm(
  e: Experiment,
  readerId: string,
  earlier?: { arm: string; phase: number },
): { arm: number; name: string } | undefined {
  // 1.
  if (!(e.rangeStart === 0 && e.rangeEnd === 1) && !inNamespace(readerId, { id: e.layer, start: e.rangeStart, end: e.rangeEnd }))
    return undefined;
  const current = e.phases[e.phases.length - 1];
  if (!current) return undefined;
  // 2.
  if (earlier && earlier.phase < current.phase && phaseSeed(e, earlier.phase) === phaseSeed(e, current.phase)) {
    const i = e.arms.findIndex((a) => a.name === earlier.arm);
    if (i >= 0) return { arm: i, name: earlier.arm };
  }
  // 3.
  const n = hash(phaseSeed(e, current.phase), readerId, e.hashVersion)!;
  const i = chooseArm(n, bucketRanges(e.arms.length, current.coverage, current.weights));
  return i < 0 ? undefined : { arm: i, name: e.arms[i]!.name };
}

/**
 * The first phase of the current assignment (the phases sharing the current phase's seed) when an
 * earlier phase shares it, so that a reader exposed since then keeps that arm (assignArm, step 2);
 * undefined when no earlier exposure can matter: the current phase starts a new assignment, or the
 * reader is outside the experiment's slice of its layer (step 1). Serving needs a reader's earlier
 * exposure, from this process's memory or the database, only when this is defined.
 *
 * @example
 * carryOverFrom(exp, 'reader-42') // 1 in phase 2 after phase 1 with one seed; undefined in phase 1
 */
export function carryOverFrom(e: Experiment, readerId: string): number | undefined {
  const current = e.phases[e.phases.length - 1];
  if (!current) return undefined;
  // Loops, not closures: serving calls this on every request to a placement with an experiment.
  let first = 1;
  for (const p of e.phases) if (p.phase <= current.phase && p.reRandomised) first = p.phase;
  let earlier = false;
  for (const q of e.phases) if (q.phase >= first && q.phase < current.phase) earlier = true;
  if (!earlier) return undefined;
  if (!(e.rangeStart === 0 && e.rangeEnd === 1) && !inNamespace(readerId, { id: e.layer, start: e.rangeStart, end: e.rangeEnd }))
    return undefined;
  return first;
}

/** Two running experiments of one layer overlap when their slices intersect. */
export function overlaps(
  a: Pick<Experiment, 'layer' | 'rangeStart' | 'rangeEnd'>,
  b: Pick<Experiment, 'layer' | 'rangeStart' | 'rangeEnd'>,
): boolean {
  return a.layer === b.layer && a.rangeStart < b.rangeEnd && b.rangeStart < a.rangeEnd;
}

const text = (v: unknown, field: string, max: number, pattern?: RegExp): string => {
  if (typeof v !== 'string' || v === '' || v.length > max || badTextReason(v) || (pattern && !pattern.test(v))) {
    throw new DomainError('invalid_field', `${field} must be a string of 1 to ${max} characters${pattern ? ` matching ${pattern}` : ''}`, {
      field,
    });
  }
  return v;
};

const fraction = (v: unknown, field: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1)
    throw new DomainError('invalid_field', `${field} must be a number in [0, 1]`, { field });
  return v;
};

export interface ExperimentInput {
  id: string;
  placement: string;
  kind?: ExperimentKind;
  description?: string | null;
  layer?: string;
  range?: [number, number];
  coverage?: number;
  arms: { name: string; recommender: RecommenderConfig; weight?: number }[];
  hashVersion?: number;
  seed?: string;
  /** A METRICS id; default DEFAULT_PRIMARY_METRIC. */
  primaryMetric?: string;
  /** METRICS ids, distinct, without the primary; default DEFAULT_GUARDRAIL_METRICS (less the primary). */
  guardrailMetrics?: string[];
}

const METRIC_IDS = METRICS.map((m) => m.id);

const metricId = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || !METRIC_IDS.includes(v))
    throw new DomainError('invalid_field', `${field} must be one of ${METRIC_IDS.join(', ')}`, { field });
  return v;
};

/**
 * Validates a new experiment (admin API body, CLI file). Recommender configs are checked by the
 * caller, which can build them. Weights default to equal; interleaving takes exactly two arms.
 * The primary metric defaults to DEFAULT_PRIMARY_METRIC and the guardrails to
 * DEFAULT_GUARDRAIL_METRICS (less the primary); both are fixed at creation, before any data.
 */
export function parseExperiment(input: unknown, now: number): Experiment {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new DomainError('invalid_body', 'an experiment must be a JSON object');
  const o = input as Record<string, unknown>;
  const known = [
    'id',
    'placement',
    'kind',
    'description',
    'layer',
    'range',
    'coverage',
    'arms',
    'hashVersion',
    'seed',
    'primaryMetric',
    'guardrailMetrics',
  ];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new DomainError('unknown_field', `unknown field "${k}"`, { field: k });
  const id = text(o.id, 'id', 128, EXPERIMENT_ID);
  const placement = text(o.placement, 'placement', 64);
  const kind = (o.kind ?? 'ab') as ExperimentKind;
  if (kind !== 'ab' && kind !== 'interleaving')
    throw new DomainError('invalid_field', 'kind must be "ab" or "interleaving"', { field: 'kind' });
  const description = o.description === undefined || o.description === null ? null : text(o.description, 'description', 2000);
  const layer = o.layer === undefined ? 'default' : text(o.layer, 'layer', 64);
  let rangeStart = 0;
  let rangeEnd = 1;
  if (o.range !== undefined) {
    if (!Array.isArray(o.range) || o.range.length !== 2)
      throw new DomainError('invalid_field', 'range must be [start, end] within [0, 1]', { field: 'range' });
    rangeStart = fraction(o.range[0], 'range/0');
    rangeEnd = fraction(o.range[1], 'range/1');
    if (!(rangeStart < rangeEnd)) throw new DomainError('invalid_field', 'range start must be below its end', { field: 'range' });
  }
  const coverage = o.coverage === undefined ? 1 : fraction(o.coverage, 'coverage');
  if (!Array.isArray(o.arms) || o.arms.length < 2 || o.arms.length > 20)
    throw new DomainError('invalid_field', 'arms must be an array of 2 to 20 arms', { field: 'arms' });
  if (kind === 'interleaving' && o.arms.length !== 2)
    throw new DomainError('invalid_field', 'an interleaving experiment has exactly two arms (the two teams)', { field: 'arms' });
  const names = new Set<string>();
  const rawArms = o.arms.map((a, i) => {
    const f = `arms/${i}`;
    if (a === null || typeof a !== 'object')
      throw new DomainError('invalid_field', `${f} must be {name, recommender, weight}`, { field: f });
    const q = a as Record<string, unknown>;
    for (const k of Object.keys(q))
      if (!['name', 'recommender', 'weight'].includes(k))
        throw new DomainError('unknown_field', `unknown field "${f}/${k}"`, { field: `${f}/${k}` });
    const name = text(q.name, `${f}/name`, 64, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
    if (names.has(name)) throw new DomainError('invalid_field', `two arms are named "${name}"`, { field: `${f}/name` });
    names.add(name);
    const r = q.recommender as Record<string, unknown> | undefined;
    if (!r || typeof r !== 'object' || typeof r.kind !== 'string' || typeof r.version !== 'string') {
      throw new DomainError('invalid_field', `${f}/recommender must be {kind, version, params}`, { field: `${f}/recommender` });
    }
    const recommender: RecommenderConfig = {
      kind: r.kind,
      version: r.version,
      ...(r.params === undefined ? {} : { params: r.params as Record<string, unknown> }),
    };
    return { name, recommender, weight: q.weight };
  });
  const weights = rawArms.every((a) => a.weight === undefined)
    ? rawArms.map(() => 1 / rawArms.length)
    : normaliseWeights(rawArms.map((a) => a.weight as number));
  const hashVersion = o.hashVersion === undefined ? 2 : o.hashVersion;
  if (hashVersion !== 1 && hashVersion !== 2)
    throw new DomainError('invalid_field', 'hashVersion must be 1 or 2', { field: 'hashVersion' });
  const seed = o.seed === undefined ? id : text(o.seed, 'seed', 128);
  const primaryMetric = o.primaryMetric === undefined ? DEFAULT_PRIMARY_METRIC : metricId(o.primaryMetric, 'primaryMetric');
  let guardrailMetrics = DEFAULT_GUARDRAIL_METRICS.filter((m) => m !== primaryMetric);
  if (o.guardrailMetrics !== undefined) {
    const list: unknown = o.guardrailMetrics;
    if (!Array.isArray(list) || list.length > METRIC_IDS.length)
      throw new DomainError('invalid_field', 'guardrailMetrics must be an array of metric ids', { field: 'guardrailMetrics' });
    guardrailMetrics = list.map((g, i) => {
      const f = `guardrailMetrics/${i}`;
      const m = metricId(g, f);
      if (m === primaryMetric)
        throw new DomainError('invalid_field', `${f}: "${m}" is the primary metric; a guardrail is another metric`, { field: f });
      if (list.indexOf(m) !== i) throw new DomainError('invalid_field', `${f}: "${m}" is listed twice`, { field: f });
      return m;
    });
  }
  return {
    id,
    placement,
    kind,
    description,
    layer,
    rangeStart,
    rangeEnd,
    coverage,
    arms: rawArms.map((a, i) => ({ name: a.name, recommender: a.recommender, weight: weights[i]! })),
    hashVersion,
    seed,
    status: 'draft',
    phase: 0,
    phases: [],
    createdTs: now,
    startedTs: null,
    stoppedTs: null,
    primaryMetric,
    guardrailMetrics,
  };
}
