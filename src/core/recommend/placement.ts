import { DomainError } from '../kernel/errors.js';
import { badTextReason } from '../kernel/strings.js';
import type { RecommenderConfig } from './types.js';

/**
 * How one placement (a widget slot such as "read-next") serves: its live recommender, the fallback
 * chain that fills a short slate, and the editorial post-processing every recommender shares.
 */
export interface PlacementConfig {
  name: string;
  live: RecommenderConfig;
  /** Tried in order when the slate has fewer than k items (e.g. co-read -> same-section -> popular). */
  fallbacks: RecommenderConfig[];
  /** Slate size when the request gives none. */
  defaultK: number;
  /** Largest k a request may ask for. */
  maxK: number;
  /** Articles older than this are not recommended, unless they carry their own expiry; hours. */
  ttlHours: number;
  /** Most items of one section in a slate (diversity); null = no cap. Pins do not count. */
  maxPerSection: number | null;
  /** Editorial pins at fixed 1-based slots. */
  pins: { slot: number; articleId: string }[];
  /** Never recommended here. */
  blocked: string[];
  /** Computed on the same requests after the response and logged as shadow `serve` records, never shown. */
  shadows: RecommenderConfig[];
  /** A new recommender on a share of traffic, rolled back automatically when a guardrail breaks. */
  canary: Canary | null;
  /** Logged exploration on live traffic (off: null): the propensities off-policy evaluation needs. */
  exploration: Exploration | null;
}

/**
 * Logged exploration (issue 18). On a share of the live recommender's requests, chosen by a hash of
 * the request's recommId (reproducible), the slate is a uniformly random arrangement of the live
 * chain's best `pool` eligible items (composed with every rule, pins kept at their slots) instead
 * of its first ones; every request of the placement then logs, per item, the exact marginal
 * probability that the logging policy put it at its position (explore.ts). Experiments and the
 * canary are never explored: their arms are measured as they are.
 */
export interface Exploration {
  /** Share of live requests explored, (0, 0.5]. */
  share: number;
  /** Items the random slate draws from: the live chain's first `pool` (>= the slate size; capped by what is eligible). */
  pool: number;
  /**
   * Share σ of explored requests that show one shadow's slate whole (a shadow drawn uniformly),
   * [0, 1]; absent or 0: every explored slate is the uniformly random one (explore.ts). Targets the
   * exploration at the candidates in shadow, so `readnext ope` can evaluate them on fewer requests.
   */
  shadowShare?: number;
}

export interface Guardrails {
  /** Highest share of canary responses with a recommender fault, [0, 1]. */
  maxErrorRate: number;
  /** Highest p99 of the canary's slate latency, milliseconds. */
  maxP99LatencyMs: number;
  /** Lowest canary CTR as a fraction of the live CTR, [0, 1] (checked once both arms have minImpressions). */
  minCtrRatio: number;
  /** Impressions each side needs before the CTR guardrail is checked. */
  minImpressions: number;
  /** Canary responses needed before the error and latency guardrails are checked. */
  minResponses: number;
}

export interface Canary {
  recommender: RecommenderConfig;
  /** Share of readers served by the canary, (0, 50] percent. */
  percent: number;
  guardrails: Guardrails;
  /** When the canary started, epoch ms: its guardrails count from here, and it seeds the reader split. */
  startedTs: number;
}

export const PLACEMENT_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const DEFAULT_PLACEMENT: PlacementConfig = Object.freeze({
  name: 'read-next',
  live: { kind: 'co-read', version: '1' },
  fallbacks: [
    { kind: 'same-section', version: '1' },
    { kind: 'popular', version: '1' },
    { kind: 'latest', version: '1' },
  ],
  defaultK: 5,
  maxK: 20,
  ttlHours: 72,
  maxPerSection: 3,
  pins: [],
  blocked: [],
  shadows: [],
  canary: null,
  exploration: null,
}) as PlacementConfig;

function recommenderConfig(v: unknown, field: string): RecommenderConfig {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new DomainError('invalid_field', `${field} must be an object {kind, version, params}`, { field });
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['kind', 'version', 'params'].includes(k))
      throw new DomainError('unknown_field', `unknown field "${field}.${k}"`, { field: `${field}.${k}` });
  if (typeof o.kind !== 'string') throw new DomainError('missing_field', `${field}.kind is required`, { field: `${field}.kind` });
  if (typeof o.version !== 'string' || o.version === '' || o.version.length > 64)
    throw new DomainError('invalid_field', `${field}.version must be a string of 1 to 64 characters`, { field: `${field}.version` });
  if (o.params !== undefined && (o.params === null || typeof o.params !== 'object' || Array.isArray(o.params))) {
    throw new DomainError('invalid_field', `${field}.params must be an object`, { field: `${field}.params` });
  }
  return { kind: o.kind, version: o.version, ...(o.params === undefined ? {} : { params: o.params as Record<string, unknown> }) };
}

const int = (v: unknown, field: string, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new DomainError('invalid_field', `${field} must be an integer in [${min}, ${max}]`, { field });
  return v;
};

const articleId = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || v === '' || v.length > 256 || badTextReason(v))
    throw new DomainError('invalid_field', `${field} must be an article id`, { field });
  return v;
};

const articleIds = (v: unknown, field: string): string[] => {
  if (!Array.isArray(v) || v.length > 10_000) throw new DomainError('invalid_field', `${field} must be an array of article ids`, { field });
  return v.map((x, i) => articleId(x, `${field}/${i}`));
};

/**
 * Validates a placement config (admin API body). Omitted fields take the defaults; recommender
 * kinds and params are checked by the recommender registry (RecommenderRegistry.validate).
 */
export function parsePlacementConfig(name: string, input: unknown, now = 0): PlacementConfig {
  if (!PLACEMENT_NAME.test(name))
    throw new DomainError('invalid_field', 'a placement name is 1 to 64 of a-z, 0-9, "-" and "_"', { field: 'name' });
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new DomainError('invalid_body', 'a placement config must be a JSON object');
  const o = input as Record<string, unknown>;
  const known = [
    'name',
    'live',
    'fallbacks',
    'defaultK',
    'maxK',
    'ttlHours',
    'maxPerSection',
    'pins',
    'blocked',
    'shadows',
    'canary',
    'exploration',
  ];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new DomainError('unknown_field', `unknown field "${k}"`, { field: k });
  if (o.name !== undefined && o.name !== name)
    throw new DomainError('invalid_field', `"name" (${String(o.name)}) differs from the path (${name})`, { field: 'name' });
  const d = DEFAULT_PLACEMENT;
  const live = o.live === undefined ? d.live : recommenderConfig(o.live, 'live');
  let fallbacks = d.fallbacks;
  if (o.fallbacks !== undefined) {
    if (!Array.isArray(o.fallbacks) || o.fallbacks.length > 10)
      throw new DomainError('invalid_field', 'fallbacks must be an array of at most 10 recommenders', { field: 'fallbacks' });
    fallbacks = o.fallbacks.map((f, i) => recommenderConfig(f, `fallbacks/${i}`));
  }
  const maxK = o.maxK === undefined ? d.maxK : int(o.maxK, 'maxK', 1, 100);
  const defaultK = o.defaultK === undefined ? Math.min(d.defaultK, maxK) : int(o.defaultK, 'defaultK', 1, maxK);
  const ttlHours =
    o.ttlHours === undefined
      ? d.ttlHours
      : (() => {
          if (typeof o.ttlHours !== 'number' || !(o.ttlHours > 0) || o.ttlHours > 24 * 3650)
            throw new DomainError('invalid_field', 'ttlHours must be a number in (0, 87600] (hours)', { field: 'ttlHours' });
          return o.ttlHours;
        })();
  const maxPerSection =
    o.maxPerSection === undefined ? d.maxPerSection : o.maxPerSection === null ? null : int(o.maxPerSection, 'maxPerSection', 1, 100);
  let pins = d.pins;
  if (o.pins !== undefined) {
    if (!Array.isArray(o.pins) || o.pins.length > 100)
      throw new DomainError('invalid_field', 'pins must be an array of {slot, articleId}', { field: 'pins' });
    const slots = new Set<number>();
    pins = o.pins.map((p, i) => {
      const f = `pins/${i}`;
      if (p === null || typeof p !== 'object') throw new DomainError('invalid_field', `${f} must be {slot, articleId}`, { field: f });
      const q = p as Record<string, unknown>;
      for (const k of Object.keys(q))
        if (k !== 'slot' && k !== 'articleId') throw new DomainError('unknown_field', `unknown field "${f}/${k}"`, { field: `${f}/${k}` });
      const slot = int(q.slot, `${f}/slot`, 1, 100);
      if (slots.has(slot)) throw new DomainError('invalid_field', `two pins at slot ${slot}`, { field: `${f}/slot` });
      slots.add(slot);
      return { slot, articleId: articleId(q.articleId, `${f}/articleId`) };
    });
  }
  const blocked = o.blocked === undefined ? d.blocked : articleIds(o.blocked, 'blocked');
  let shadows = d.shadows;
  if (o.shadows !== undefined) {
    if (!Array.isArray(o.shadows) || o.shadows.length > 5)
      throw new DomainError('invalid_field', 'shadows must be an array of at most 5 recommenders', { field: 'shadows' });
    shadows = o.shadows.map((f, i) => recommenderConfig(f, `shadows/${i}`));
  }
  const canary = o.canary === undefined || o.canary === null ? null : parseCanary(o.canary, now);
  const exploration = o.exploration === undefined || o.exploration === null ? null : parseExploration(o.exploration);
  return { name, live, fallbacks, defaultK, maxK, ttlHours, maxPerSection, pins, blocked, shadows, canary, exploration };
}

/** Exploration pool when none is given: twice the usual slate of 5. */
export const DEFAULT_EXPLORATION_POOL = 10;

function parseExploration(v: unknown): Exploration {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new DomainError('invalid_field', 'exploration must be an object {share, pool, shadowShare}', { field: 'exploration' });
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'share' && k !== 'pool' && k !== 'shadowShare')
      throw new DomainError('unknown_field', `unknown field "exploration.${k}"`, { field: `exploration.${k}` });
  if (typeof o.share !== 'number' || !(o.share > 0 && o.share <= 0.5))
    throw new DomainError('invalid_field', 'exploration.share must be a number in (0, 0.5]', { field: 'exploration.share' });
  const pool = o.pool === undefined ? DEFAULT_EXPLORATION_POOL : int(o.pool, 'exploration.pool', 2, 100);
  if (o.shadowShare === undefined) return { share: o.share, pool };
  return { share: o.share, pool, shadowShare: fractionIn(o.shadowShare, 'exploration.shadowShare', 0, 1) };
}

const fractionIn = (v: unknown, field: string, min: number, max: number, unit = ''): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new DomainError('invalid_field', `${field} must be a number in [${min}, ${max}]${unit}`, { field });
  return v;
};

function parseCanary(v: unknown, now: number): Canary {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new DomainError('invalid_field', 'canary must be an object {recommender, percent, guardrails}', { field: 'canary' });
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['recommender', 'percent', 'guardrails', 'startedTs'].includes(k))
      throw new DomainError('unknown_field', `unknown field "canary.${k}"`, { field: `canary.${k}` });
  const recommender = recommenderConfig(o.recommender, 'canary.recommender');
  if (typeof o.percent !== 'number' || !(o.percent > 0 && o.percent <= 50))
    throw new DomainError('invalid_field', 'canary.percent must be a number in (0, 50]', { field: 'canary.percent' });
  // A canary exists to be rolled back automatically: without guardrails it is just an unwatched release.
  if (o.guardrails === undefined || o.guardrails === null)
    throw new DomainError('missing_guardrails', 'a canary needs guardrails {maxErrorRate, maxP99LatencyMs, minCtrRatio}', {
      field: 'canary.guardrails',
    });
  if (typeof o.guardrails !== 'object' || Array.isArray(o.guardrails))
    throw new DomainError('invalid_field', 'canary.guardrails must be an object', { field: 'canary.guardrails' });
  const g = o.guardrails as Record<string, unknown>;
  const gk = ['maxErrorRate', 'maxP99LatencyMs', 'minCtrRatio', 'minImpressions', 'minResponses'];
  for (const k of Object.keys(g))
    if (!gk.includes(k))
      throw new DomainError('unknown_field', `unknown field "canary.guardrails.${k}"`, { field: `canary.guardrails.${k}` });
  for (const k of ['maxErrorRate', 'maxP99LatencyMs', 'minCtrRatio']) {
    if (g[k] === undefined)
      throw new DomainError('missing_guardrails', `canary.guardrails.${k} is required`, { field: `canary.guardrails.${k}` });
  }
  const guardrails: Guardrails = {
    maxErrorRate: fractionIn(g.maxErrorRate, 'canary.guardrails.maxErrorRate', 0, 1),
    maxP99LatencyMs: fractionIn(g.maxP99LatencyMs, 'canary.guardrails.maxP99LatencyMs', 0.001, 60_000, ' (milliseconds)'),
    minCtrRatio: fractionIn(g.minCtrRatio, 'canary.guardrails.minCtrRatio', 0, 1),
    minImpressions: g.minImpressions === undefined ? 200 : fractionIn(g.minImpressions, 'canary.guardrails.minImpressions', 1, 1e9),
    minResponses: g.minResponses === undefined ? 100 : fractionIn(g.minResponses, 'canary.guardrails.minResponses', 1, 1e9),
  };
  const startedTs = typeof o.startedTs === 'number' && Number.isFinite(o.startedTs) ? o.startedTs : now;
  return { recommender, percent: o.percent, guardrails, startedTs };
}
