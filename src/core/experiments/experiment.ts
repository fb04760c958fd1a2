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
}

export const EXPERIMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Largest tolerated |Σ weights − 1|; within it the weights are normalised. */
export const WEIGHT_TOLERANCE = 0.001;

/** Normalises weights that sum to 1 ± 0.001; rejects others (they signal a typo, not rounding). */
export function normaliseWeights(weights: readonly number[], field = 'arms'): number[] {
  weights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 1) throw new DomainError('invalid_field', `${field}/${i}/weight must be a number in [0, 1]`, { field: `${field}/${i}/weight` });
  });
  const sum = weights.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > WEIGHT_TOLERANCE) {
    throw new DomainError('invalid_weights', `arm weights sum to ${sum}, which differs from 1 by more than ${WEIGHT_TOLERANCE}`, { field: `${field}` });
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
export function assignArm(e: Experiment, readerId: string, earlier?: { arm: string; phase: number }): { arm: number; name: string } | undefined {
  // 1.
  if (!(e.rangeStart === 0 && e.rangeEnd === 1) && !inNamespace(readerId, { id: e.layer, start: e.rangeStart, end: e.rangeEnd })) return undefined;
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

/** Two running experiments of one layer overlap when their slices intersect. */
export function overlaps(a: Pick<Experiment, 'layer' | 'rangeStart' | 'rangeEnd'>, b: Pick<Experiment, 'layer' | 'rangeStart' | 'rangeEnd'>): boolean {
  return a.layer === b.layer && a.rangeStart < b.rangeEnd && b.rangeStart < a.rangeEnd;
}

const text = (v: unknown, field: string, max: number, pattern?: RegExp): string => {
  if (typeof v !== 'string' || v === '' || v.length > max || badTextReason(v) || (pattern && !pattern.test(v))) {
    throw new DomainError('invalid_field', `${field} must be a string of 1 to ${max} characters${pattern ? ` matching ${pattern}` : ''}`, { field });
  }
  return v;
};

const fraction = (v: unknown, field: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new DomainError('invalid_field', `${field} must be a number in [0, 1]`, { field });
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
}

/**
 * Validates a new experiment (admin API body, CLI file). Recommender configs are checked by the
 * caller, which can build them. Weights default to equal; interleaving takes exactly two arms.
 */
export function parseExperiment(input: unknown, now: number): Experiment {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new DomainError('invalid_body', 'an experiment must be a JSON object');
  const o = input as Record<string, unknown>;
  const known = ['id', 'placement', 'kind', 'description', 'layer', 'range', 'coverage', 'arms', 'hashVersion', 'seed'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new DomainError('unknown_field', `unknown field "${k}"`, { field: k });
  const id = text(o.id, 'id', 128, EXPERIMENT_ID);
  const placement = text(o.placement, 'placement', 64);
  const kind = (o.kind ?? 'ab') as ExperimentKind;
  if (kind !== 'ab' && kind !== 'interleaving') throw new DomainError('invalid_field', 'kind must be "ab" or "interleaving"', { field: 'kind' });
  const description = o.description === undefined || o.description === null ? null : text(o.description, 'description', 2000);
  const layer = o.layer === undefined ? 'default' : text(o.layer, 'layer', 64);
  let rangeStart = 0;
  let rangeEnd = 1;
  if (o.range !== undefined) {
    if (!Array.isArray(o.range) || o.range.length !== 2) throw new DomainError('invalid_field', 'range must be [start, end] within [0, 1]', { field: 'range' });
    rangeStart = fraction(o.range[0], 'range/0');
    rangeEnd = fraction(o.range[1], 'range/1');
    if (!(rangeStart < rangeEnd)) throw new DomainError('invalid_field', 'range start must be below its end', { field: 'range' });
  }
  const coverage = o.coverage === undefined ? 1 : fraction(o.coverage, 'coverage');
  if (!Array.isArray(o.arms) || o.arms.length < 2 || o.arms.length > 20) throw new DomainError('invalid_field', 'arms must be an array of 2 to 20 arms', { field: 'arms' });
  if (kind === 'interleaving' && o.arms.length !== 2) throw new DomainError('invalid_field', 'an interleaving experiment has exactly two arms (the two teams)', { field: 'arms' });
  const names = new Set<string>();
  const rawArms = o.arms.map((a, i) => {
    const f = `arms/${i}`;
    if (a === null || typeof a !== 'object') throw new DomainError('invalid_field', `${f} must be {name, recommender, weight}`, { field: f });
    const q = a as Record<string, unknown>;
    for (const k of Object.keys(q)) if (!['name', 'recommender', 'weight'].includes(k)) throw new DomainError('unknown_field', `unknown field "${f}/${k}"`, { field: `${f}/${k}` });
    const name = text(q.name, `${f}/name`, 64, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
    if (names.has(name)) throw new DomainError('invalid_field', `two arms are named "${name}"`, { field: `${f}/name` });
    names.add(name);
    const r = q.recommender as Record<string, unknown> | undefined;
    if (!r || typeof r !== 'object' || typeof r.kind !== 'string' || typeof r.version !== 'string') {
      throw new DomainError('invalid_field', `${f}/recommender must be {kind, version, params}`, { field: `${f}/recommender` });
    }
    const recommender: RecommenderConfig = { kind: r.kind, version: r.version, ...(r.params === undefined ? {} : { params: r.params as Record<string, unknown> }) };
    return { name, recommender, weight: q.weight };
  });
  const weights = rawArms.every((a) => a.weight === undefined) ? rawArms.map(() => 1 / rawArms.length) : normaliseWeights(rawArms.map((a) => a.weight as number));
  const hashVersion = o.hashVersion === undefined ? 2 : o.hashVersion;
  if (hashVersion !== 1 && hashVersion !== 2) throw new DomainError('invalid_field', 'hashVersion must be 1 or 2', { field: 'hashVersion' });
  const seed = o.seed === undefined ? id : text(o.seed, 'seed', 128);
  return {
    id, placement, kind, description, layer, rangeStart, rangeEnd, coverage,
    arms: rawArms.map((a, i) => ({ name: a.name, recommender: a.recommender, weight: weights[i]! })),
    hashVersion, seed, status: 'draft', phase: 0, phases: [], createdTs: now, startedTs: null, stoppedTs: null,
  };
}
