/**
 * A simulated newsroom's parameters: one JSON world file sets every one of them (worlds/*.json),
 * merged over DEFAULT_WORLD and validated field by field. The model these parameters drive is in
 * run.ts and docs/simulation.md (which also says which defaults come from published figures and
 * which are assumptions). Pure: no I/O, no clock.
 *
 * Tested in test/core/simulate/world.test.ts.
 *
 * @example
 * const world = parseWorld(JSON.parse(text)); // throws DomainError { code: 'invalid_field', field: 'readers.count' }
 */
import { DomainError } from '../kernel/errors.js';
import { parseIsoWithZone } from '../kernel/time.js';
import { parseExperiment } from '../experiments/experiment.js';
import { builtinRegistry } from '../recommend/kinds/index.js';
import type { RecommenderRegistry } from '../recommend/registry.js';

/** Where a session starts: its share of sessions and how old the article it lands on tends to be. */
export interface SourceSpec {
  /** Share of sessions starting from this source, [0, 1]; the three shares sum to 1. */
  share: number;
  /** Mean age of the landing article, hours (exponential). */
  recencyHours: number;
}

export interface SectionSpec {
  /** Section name (the catalog's `section`). */
  name: string;
  /** Relative share of the article flow (any positive numbers; normalised). */
  share: number;
  /** Topics in the section (each article has one); readers' interests are over topics. Integer 1..50. */
  topics: number;
}

/**
 * An injected drift: from the start of simulated day `fromDay` (1-based: day 1 starts at the run's
 * start) on, every widget click probability on an article of `section` is multiplied by
 * `clickFactor` (0.5: that section's widget CTR halves). Drifts on the same section multiply.
 */
export interface DriftSpec {
  /** First simulated day of the drift, integer 1..world.days. */
  fromDay: number;
  /** A section of articles.sections (its exact name). */
  section: string;
  /** Multiplier of the click probability, [0, 10]. */
  clickFactor: number;
}

export interface WorldSpec {
  /** A short name, shown in reports. */
  name: string;
  /** What the world is for, free text. */
  description: string;
  /** Simulated days, integer 1..366. */
  days: number;
  /** Start of the simulated clock: ISO 8601 with a zone, e.g. "2026-01-05T00:00:00Z". */
  startDate: string;
  /** The read-next widget: the placement it asks the platform for and its slate size (slots, integer 1..20). */
  placement: { name: string; k: number };
  articles: {
    /** Mean articles published per hour (a Poisson flow), (0, 500]. */
    perHour: number;
    /** Hours of articles published before the start (the catalog on day 0), [0, 720]. */
    backlogHours: number;
    /** Sections with their shares of the flow and their topic counts. */
    sections: SectionSpec[];
    /** Zipf exponent of topic popularity within a section (0: all topics equally common), [0, 3]. */
    topicSkew: number;
    /** Intrinsic quality per article: normal(mean, sd) clipped to [0.05, 1] (unitless; 1 = best). */
    quality: { mean: number; sd: number };
    /** Age at which an article's freshness halves, hours (freshness = 2^(−age / half-life)), (0, 720]. */
    freshnessHalfLifeHours: number;
  };
  readers: {
    /** Reader population (all of whom may visit during the run), integer 1..10,000,000. */
    count: number;
    /** Visits (sessions) per week: lognormal with this median and log-sd, capped at `max` (heavy-tailed). */
    visitsPerWeek: { median: number; sigma: number; max: number };
    /** Relative traffic per hour of the (UTC) day, 24 non-negative numbers (not all 0). */
    hourlyProfile: number[];
    /**
     * Interest concentration, [0, 1]: the share of a reader's own choices made within the reader's
     * favourite topics, and 1 − relevance of any other topic (relevance = 1 for a favourite,
     * 1 − concentration otherwise). 0: no individual interests.
     */
    interestConcentration: number;
    /** Favourite topics per reader, drawn by topic popularity; integer 1..20. */
    topicsPerReader: number;
    /**
     * Loyalty, [0, 4]: how much more frequent visitors arrive from the home page. A reader's home
     * share is sessions.sources.home.share × (visits / median visits)^loyalty, at most 0.95 (0: the
     * same source mix for every reader).
     */
    loyalty: number;
    /** Share of readers whose first visit falls during the run (uniformly) rather than at its start, [0, 1]. */
    newReaderShare: number;
  };
  sessions: {
    sources: { home: SourceSpec; social: SourceSpec; search: SourceSpec };
    /**
     * Dwell on a page: lognormal with this median (seconds) and log-sd, times (0.5 + 0.5 ·
     * relevance)^relevanceElasticity, capped at maxSeconds.
     */
    dwell: { medianSeconds: number; sigma: number; relevanceElasticity: number; maxSeconds: number };
    /** A page view becomes a `read` when the dwell reaches this many seconds, [0, 600]. */
    readMinSeconds: number;
    /** Deepest scroll: 1 − 2^(−dwell / halfDepthSeconds), times a uniform in [0.8, 1]. Seconds, (0, 3600]. */
    scroll: { halfDepthSeconds: number };
    /** Probability of reading on organically after a page (another article), [0, 1). */
    continueProbability: number;
    /** Most pages in a session, integer 1..200. */
    maxPages: number;
    /** Pause between leaving a page and opening the next, seconds, uniform in [min, max]. */
    gapSeconds: { min: number; max: number };
  };
  clickModel: {
    /** Click probability of slot 1 for a fully relevant, brand-new, best-quality article, [0, 1]. */
    baseRate: number;
    /** Relative click propensity per slot, slot 1 first (at least placement.k numbers in [0, 1]). */
    positionBias: number[];
    /** Exponents on relevance, freshness and quality in the click probability, [0, 10] (0: no effect). */
    relevanceWeight: number;
    freshnessWeight: number;
    qualityWeight: number;
    /**
     * Share of widget clicks that replace an organic next read rather than add one, [0, 1]: a
     * substituting click is made only by a reader who would have read on anyway (1: the widget
     * never adds a page).
     */
    substitution: number;
    /**
     * Click probability per shown slot when `clicks` is "noise", whatever the article, the reader
     * and the slot, [0, 1]. The default gives a widget CTR near the default world's `latest` (about 1%).
     */
    noiseRate: number;
  };
  /**
   * How widget clicks are drawn: "model" (the click model above) or "noise" (each shown slot with
   * probability clickModel.noiseRate, a click's slot uniform among those drawn: clicks carry no
   * information about the article, the reader or the position, so no recommender beats random).
   */
  clicks: 'model' | 'noise';
  /** Injected drifts (none by default). */
  drift: DriftSpec[];
  revenue: {
    /** Display-ad revenue per 1,000 page views (RPM), in `currency`, [0, 1000]. Tallied by the simulator only. */
    adRpm: number;
    /** ISO 4217 code of every amount. */
    currency: string;
    /** The plan a reader subscribes to and its revenue (first payment, major units). */
    subscription: { plan: string; price: number };
    /** Probability that a read converts a non-subscriber, before any reading, [0, 1]. */
    basePropensity: number;
    /** Rise of that probability per article the reader has read before (during the run), [0, 1]. */
    propensityPerRead: number;
    /** Cap of that probability, [0, 1]. */
    maxPropensity: number;
  };
  /** The world's default experiment: the JSON `readnext experiment create` takes (placement = placement.name). */
  experiment: Record<string, unknown>;
}

/** clickModel.noiseRate's default: measured to give the default world's `latest` widget CTR (about 1%; docs/simulation.md). */
const NOISE_RATE = 0.0035;

/**
 * A mid-size newspaper (see docs/simulation.md for the sources and the assumptions): about 10
 * articles an hour, readers visiting a median of once a week with a heavy tail, 4 widget slots.
 */
export const DEFAULT_WORLD: WorldSpec = deepFreeze({
  name: 'default',
  description: 'A mid-size newspaper whose readers have concentrated topic interests',
  days: 7,
  startDate: '2026-01-05T00:00:00Z',
  placement: { name: 'read-next', k: 4 },
  articles: {
    perHour: 10,
    backlogHours: 48,
    sections: [
      { name: 'Politics and elections', share: 20, topics: 6 },
      { name: 'International relations', share: 12, topics: 5 },
      { name: 'Business and economy', share: 14, topics: 5 },
      { name: 'Law and crime', share: 12, topics: 4 },
      { name: 'Sports', share: 16, topics: 6 },
      { name: 'Arts and culture', share: 8, topics: 4 },
      { name: 'Science and technology', share: 6, topics: 4 },
      { name: 'Health and environment', share: 6, topics: 3 },
      { name: 'Disasters and accidents', share: 3, topics: 2 },
      { name: 'Armed conflicts and attacks', share: 3, topics: 2 },
    ],
    topicSkew: 1,
    quality: { mean: 0.6, sd: 0.2 },
    freshnessHalfLifeHours: 24,
  },
  readers: {
    count: 50_000,
    visitsPerWeek: { median: 1.5, sigma: 1.3, max: 70 },
    hourlyProfile: [2, 1, 1, 1, 1, 2, 5, 8, 9, 8, 7, 7, 8, 7, 6, 6, 6, 7, 8, 9, 9, 8, 6, 4],
    interestConcentration: 0.8,
    topicsPerReader: 3,
    loyalty: 0.5,
    newReaderShare: 0.3,
  },
  sessions: {
    sources: {
      home: { share: 0.45, recencyHours: 8 },
      social: { share: 0.3, recencyHours: 12 },
      search: { share: 0.25, recencyHours: 72 },
    },
    dwell: { medianSeconds: 40, sigma: 0.9, relevanceElasticity: 1, maxSeconds: 1800 },
    readMinSeconds: 10,
    scroll: { halfDepthSeconds: 45 },
    continueProbability: 0.35,
    maxPages: 30,
    gapSeconds: { min: 2, max: 20 },
  },
  clickModel: {
    baseRate: 0.06,
    positionBias: [1, 0.62, 0.46, 0.38, 0.32, 0.28, 0.25, 0.22, 0.2, 0.18],
    relevanceWeight: 2,
    freshnessWeight: 0.5,
    qualityWeight: 1,
    substitution: 0.5,
    noiseRate: NOISE_RATE,
  },
  clicks: 'model',
  drift: [],
  revenue: {
    adRpm: 8,
    currency: 'EUR',
    subscription: { plan: 'monthly', price: 9.99 },
    basePropensity: 0.0001,
    propensityPerRead: 0.00002,
    maxPropensity: 0.01,
  },
  experiment: {
    id: 'default-latest-vs-co-read',
    placement: 'read-next',
    description: 'newest first against readers-of-this-also-read',
    arms: [
      { name: 'control', recommender: { kind: 'latest', version: '1' } },
      { name: 'co-read', recommender: { kind: 'co-read', version: '1' } },
    ],
  },
} satisfies WorldSpec);

function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

// ---- validation

type Check = (v: unknown, path: string) => unknown;

const fail = (path: string, message: string): never => {
  throw new DomainError('invalid_field', `${path}: ${message}`, { field: path });
};

const num =
  (min: number, max: number, opts: { integer?: boolean; openMin?: boolean; openMax?: boolean } = {}): Check =>
  (v, path) => {
    const range = `${opts.openMin ? '(' : '['}${min}, ${max}${opts.openMax ? ')' : ']'}`;
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(path, `must be ${opts.integer ? 'an integer' : 'a number'} in ${range}`);
    if (opts.integer && !Number.isInteger(v)) return fail(path, `must be an integer in ${range}`);
    if (v < min || v > max || (opts.openMin && v === min) || (opts.openMax && v === max))
      return fail(path, `must be in ${range}, got ${v}`);
    return v;
  };

const str =
  (max: number, pattern?: RegExp, what = `a string of 1 to ${max} characters`): Check =>
  (v, path) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max || (pattern && !pattern.test(v))) return fail(path, `must be ${what}`);
    return v;
  };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** An object whose fields are merged over `defaults` (when given) and checked; unknown keys are errors. */
const obj =
  (fields: Record<string, Check>, required = false): Check =>
  (v, path) => {
    if (!isObject(v)) return fail(path, 'must be an object');
    for (const k of Object.keys(v)) {
      if (!(k in fields)) {
        const at = path ? `${path}.${k}` : k;
        throw new DomainError('unknown_field', `${at}: unknown field (known: ${Object.keys(fields).join(', ')})`, { field: at });
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(fields)) {
      const at = path ? `${path}.${k}` : k;
      if (v[k] === undefined) {
        if (required) throw new DomainError('invalid_field', `${at}: missing`, { field: at });
        continue;
      }
      out[k] = check(v[k], at);
    }
    return out;
  };

const list =
  (item: Check, min: number, max: number): Check =>
  (v, path) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) return fail(path, `must be an array of ${min} to ${max} items`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };

const source = obj({ share: num(0, 1), recencyHours: num(0, 24 * 365, { openMin: true }) });

const SPEC = obj({
  name: str(64),
  description: str(2000),
  days: num(1, 366, { integer: true }),
  startDate: (v, path) => {
    if (typeof v !== 'string' || parseIsoWithZone(v) === undefined)
      return fail(path, 'must be an ISO 8601 date-time with a zone, e.g. "2026-01-05T00:00:00Z"');
    return v;
  },
  placement: obj({ name: str(64), k: num(1, 20, { integer: true }) }),
  articles: obj({
    perHour: num(0, 500, { openMin: true }),
    backlogHours: num(0, 720),
    sections: list(obj({ name: str(256), share: num(0, 1e9, { openMin: true }), topics: num(1, 50, { integer: true }) }, true), 1, 100),
    topicSkew: num(0, 3),
    quality: obj({ mean: num(0, 1), sd: num(0, 1) }),
    freshnessHalfLifeHours: num(0, 720, { openMin: true }),
  }),
  readers: obj({
    count: num(1, 10_000_000, { integer: true }),
    visitsPerWeek: obj({ median: num(0, 1000, { openMin: true }), sigma: num(0, 5), max: num(0, 10_000, { openMin: true }) }),
    hourlyProfile: list(num(0, 1e6), 24, 24),
    interestConcentration: num(0, 1),
    topicsPerReader: num(1, 20, { integer: true }),
    loyalty: num(0, 4),
    newReaderShare: num(0, 1),
  }),
  sessions: obj({
    sources: obj({ home: source, social: source, search: source }),
    dwell: obj({
      medianSeconds: num(0, 3600, { openMin: true }),
      sigma: num(0, 5),
      relevanceElasticity: num(0, 10),
      maxSeconds: num(1, 86_400),
    }),
    readMinSeconds: num(0, 600),
    scroll: obj({ halfDepthSeconds: num(0, 3600, { openMin: true }) }),
    continueProbability: num(0, 1, { openMax: true }),
    maxPages: num(1, 200, { integer: true }),
    gapSeconds: obj({ min: num(0, 3600), max: num(0, 3600) }),
  }),
  clickModel: obj({
    baseRate: num(0, 1),
    positionBias: list(num(0, 1), 1, 20),
    relevanceWeight: num(0, 10),
    freshnessWeight: num(0, 10),
    qualityWeight: num(0, 10),
    substitution: num(0, 1),
    noiseRate: num(0, 1),
  }),
  clicks: (v, path) => (v === 'model' || v === 'noise' ? v : fail(path, 'must be "model" or "noise"')),
  drift: list(obj({ fromDay: num(1, 366, { integer: true }), section: str(256), clickFactor: num(0, 10) }, true), 0, 100),
  revenue: obj({
    adRpm: num(0, 1000),
    currency: str(3, /^[A-Z]{3}$/, 'an ISO 4217 code such as "EUR"'),
    subscription: obj({ plan: str(128), price: num(0, 1e6) }),
    basePropensity: num(0, 1),
    propensityPerRead: num(0, 1),
    maxPropensity: num(0, 1),
  }),
  experiment: (v, path) => (isObject(v) ? v : fail(path, 'must be an experiment object (the `readnext experiment create` JSON)')),
});

/** `b` over `a`, recursively for plain objects; arrays and other values of `b` replace `a`'s. */
function merge(a: unknown, b: unknown): unknown {
  if (!isObject(a) || !isObject(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
  return out;
}

/** "arms/0/recommender" (parseExperiment's pointer) as "experiment.arms[0].recommender". */
const experimentPath = (pointer: string | undefined): string =>
  ['experiment', ...(pointer ?? '').split('/').filter((s) => s !== '')]
    .map((s, i) => (i > 0 && /^\d+$/.test(s) ? `[${s}]` : s))
    .join('.')
    .replace(/\.\[/g, '[');

/**
 * A world file's JSON merged over DEFAULT_WORLD (objects field by field; arrays and the
 * experiment replace the default's), every field checked. Throws a DomainError whose `field` is the
 * JSON path ("readers.count", "clickModel.positionBias[3]", "experiment.arms[1].recommender.kind"):
 * 'unknown_field' for a key the world does not have, 'invalid_field' otherwise. The experiment is
 * checked as `readnext experiment create` checks it, and its recommenders against `registry`
 * (default: the built-in kinds).
 */
export function parseWorld(json: unknown, opts: { registry?: RecommenderRegistry } = {}): WorldSpec {
  if (!isObject(json)) throw new DomainError('invalid_field', 'a world must be a JSON object', { field: '' });
  // The experiment replaces the default's whole (merging two experiments' arms would make a third).
  const merged = merge(DEFAULT_WORLD, { ...json, experiment: undefined }) as Record<string, unknown>;
  if (json.experiment !== undefined) merged.experiment = json.experiment;
  const w = SPEC(merged, '') as WorldSpec;

  const k = w.placement.k;
  if (w.clickModel.positionBias.length < k)
    fail('clickModel.positionBias', `must have at least placement.k = ${k} numbers, has ${w.clickModel.positionBias.length}`);
  const s = w.sessions.sources;
  const shares = s.home.share + s.social.share + s.search.share;
  if (Math.abs(shares - 1) > 0.001) fail('sessions.sources', `the three shares must sum to 1, they sum to ${shares}`);
  if (w.sessions.gapSeconds.min > w.sessions.gapSeconds.max) fail('sessions.gapSeconds.min', 'must not exceed gapSeconds.max');
  if (w.readers.hourlyProfile.every((x) => x === 0)) fail('readers.hourlyProfile', 'must not be all zeros');
  if (w.revenue.basePropensity > w.revenue.maxPropensity) fail('revenue.basePropensity', 'must not exceed revenue.maxPropensity');
  const names = new Set<string>();
  w.articles.sections.forEach((sec, i) => {
    if (names.has(sec.name)) fail(`articles.sections[${i}].name`, `"${sec.name}" is listed twice`);
    names.add(sec.name);
  });

  w.drift.forEach((d, i) => {
    if (d.fromDay > w.days) fail(`drift[${i}].fromDay`, `must be within the world's ${w.days} days, got ${d.fromDay}`);
    if (!names.has(d.section))
      fail(`drift[${i}].section`, `"${d.section}" is not a section of articles.sections (${[...names].map((n) => `"${n}"`).join(', ')})`);
  });

  const start = parseIsoWithZone(w.startDate)!;
  try {
    const e = parseExperiment(w.experiment, start);
    if (e.placement !== w.placement.name) fail('experiment.placement', `must be the world's placement "${w.placement.name}"`);
    const registry = opts.registry ?? builtinRegistry();
    e.arms.forEach((arm, i) => {
      try {
        registry.validate(arm.recommender);
      } catch (err) {
        if (err instanceof DomainError) {
          const at = `experiment.arms[${i}].recommender${err.field ? `.${err.field}` : ''}`;
          throw new DomainError(err.code, `${at}: ${err.message}`, { field: at });
        }
        throw err;
      }
    });
  } catch (err) {
    if (err instanceof DomainError && !err.field?.startsWith('experiment')) {
      const at = experimentPath(err.field);
      throw new DomainError(err.code === 'unknown_field' ? 'unknown_field' : 'invalid_field', `${at}: ${err.message}`, { field: at });
    }
    throw err;
  }
  return deepFreeze(w);
}
