/**
 * The world's processes, each a pure function of the world, a seed and the simulated time: the
 * article flow (generated, or a real catalog rebased onto the simulated clock), the reader
 * population (visit rate, interests, loyalty, first visit), readers' choices of articles, and the
 * click model. run.ts drives them through time; docs/simulation.md states the model.
 *
 * Common random numbers: every draw comes from a stream named by what it is for (`streamSeed`), so
 * a reader's traits and arrival times never depend on what the platform showed, and a page's
 * decisions depend only on the page's place (reader, session, page) and on the slate shown.
 */
import type { Article } from '../catalog/article.js';
import { seededRng, type Rng } from '../kernel/rng.js';
import { DAY_MS, HOUR_MS } from '../kernel/time.js';
import { headline, syntheticArticle, syntheticId } from './synthetic.js';
import type { WorldSpec } from './world.js';

// ---- seeds

/** One round of murmur3's 32-bit finaliser over h ^ x: mixes a part into a seed. */
function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Stream purposes (the first part after the run's seed). */
export const STREAM = { articles: 1, traits: 2, arrivals: 3, page: 4, catalog: 5 } as const;

/**
 * The seed of one stream: the run's seed (any safe integer) with the stream's purpose and place
 * (reader, session, page), hashed. Sub-seeds of different places are independent for simulation
 * purposes.
 */
export function streamSeed(seed: number, ...parts: number[]): number {
  let h = mix(0x2545f491, seed >>> 0);
  h = mix(h, Math.floor(seed / 4294967296) >>> 0);
  for (const p of parts) h = mix(h, p >>> 0);
  return h;
}

/** A standard normal draw (Box–Muller; two uniforms). */
export function normal(rng: Rng): number {
  const u1 = rng.next();
  const u2 = rng.next();
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

/** Index i with probability (cum[i] − cum[i−1]) / cum[last], for u uniform in [0, 1). */
export function pickCumulative(cum: readonly number[], u: number): number {
  const x = u * cum[cum.length - 1]!;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const cumulative = (ws: readonly number[]): number[] => {
  let s = 0;
  return ws.map((w) => (s += w));
};

// ---- articles

export interface SimArticle {
  article: Article;
  /** Global topic index. */
  topic: number;
  /** Intrinsic quality in [0.05, 1]. */
  quality: number;
}

export interface Topics {
  /** Topic t belongs to section sectionOf[t]. */
  sectionOf: number[];
  /** Popularity share of each topic (sums to 1): the section's share × the topic's Zipf weight within it. */
  share: number[];
  cum: number[];
  /** Per section, the global indices of its topics and the cumulative Zipf weights among them. */
  bySection: { first: number; cum: number[] }[];
}

export function topicsOf(world: WorldSpec): Topics {
  const secs = world.articles.sections;
  const total = secs.reduce((a, s) => a + s.share, 0);
  const sectionOf: number[] = [];
  const share: number[] = [];
  const bySection: Topics['bySection'] = [];
  secs.forEach((s, i) => {
    const w = Array.from({ length: s.topics }, (_, j) => 1 / (j + 1) ** world.articles.topicSkew);
    const wsum = w.reduce((a, b) => a + b, 0);
    bySection.push({ first: sectionOf.length, cum: cumulative(w) });
    for (const x of w) {
      sectionOf.push(i);
      share.push(((s.share / total) * x) / wsum);
    }
  });
  return { sectionOf, share, cum: cumulative(share), bySection };
}

const clipQuality = (q: number) => Math.min(1, Math.max(0.05, q));

/**
 * The article flow from `from` (the backlog's start) to `to`: a Poisson flow of `perHour` articles,
 * sections by share, a topic per article (Zipf within its section), quality normal(mean, sd)
 * clipped to [0.05, 1]. Ids `sim-a000000` on; titles from the section's headline templates.
 */
/** A section's name as a tag prefix: `Business and economy` -> `business-and-economy`. */
const topicSlug = (section: string): string =>
  section
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function generateArticles(
  world: WorldSpec,
  topics: Topics,
  seed: number,
  from: number,
  to: number,
  idPrefix = 'sim-a',
): SimArticle[] {
  const rng = seededRng(streamSeed(seed, STREAM.articles));
  const a = world.articles;
  const secCum = cumulative(a.sections.map((s) => s.share));
  const meanGap = HOUR_MS / a.perHour;
  const out: SimArticle[] = [];
  for (let t = from - Math.log(1 - rng.next()) * meanGap; t < to; t -= Math.log(1 - rng.next()) * meanGap) {
    const sec = pickCumulative(secCum, rng.next());
    const bs = topics.bySection[sec]!;
    const topic = bs.first + pickCumulative(bs.cum, rng.next());
    const quality = clipQuality(a.quality.mean + a.quality.sd * normal(rng));
    const id = syntheticId(out.length, { prefix: idPrefix, width: 6 });
    const section = a.sections[sec]!.name;
    // The newsroom tags each article with its topic, as a CMS does (`politics-2`): what readers
    // care about is observable, their interest in it is what a recommender must learn.
    const article = {
      ...syntheticArticle(id, section, Math.floor(t), headline(id, section)),
      tags: [`${topicSlug(section)}-${topic - bs.first + 1}`],
    };
    out.push({ article, topic, quality });
  }
  return out;
}

/**
 * A real catalog on the simulated clock: every date shifted by one constant so that the newest
 * article is published just before `to`; articles then older than `from` are left out. A section
 * the world does not name is mapped to one of the world's by a hash of its name; each article's
 * topic and quality are drawn from a stream seeded by its id (the same in every run).
 */
export function rebaseCatalog(
  world: WorldSpec,
  topics: Topics,
  seed: number,
  catalog: readonly Article[],
  from: number,
  to: number,
): SimArticle[] {
  if (catalog.length === 0) return [];
  const newest = catalog.reduce((m, x) => Math.max(m, x.publishedAt), -Infinity);
  const shift = to - 1 - newest;
  const moved = (t: number | null) => (t === null ? null : t + shift);
  const names = world.articles.sections.map((s) => s.name);
  const out: SimArticle[] = [];
  for (const x of [...catalog].sort((p, q) => p.publishedAt - q.publishedAt || (p.id < q.id ? -1 : 1))) {
    const publishedAt = x.publishedAt + shift;
    if (publishedAt < from) continue;
    const idSeed = streamSeed(seed, STREAM.catalog, fnv(x.id));
    const rng = seededRng(idSeed);
    const known = x.section === null ? -1 : names.indexOf(x.section);
    const sec = known >= 0 ? known : fnv(x.section ?? '') % names.length;
    const bs = topics.bySection[sec]!;
    const topic = bs.first + pickCumulative(bs.cum, rng.next());
    const quality = clipQuality(world.articles.quality.mean + world.articles.quality.sd * normal(rng));
    out.push({
      article: {
        ...x,
        publishedAt,
        updatedAt: moved(x.updatedAt),
        expiresAt: moved(x.expiresAt),
        embargoUntil: moved(x.embargoUntil),
        status: 'published',
      },
      topic,
      quality,
    });
  }
  return out;
}

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---- readers

export const SOURCES = ['home', 'social', 'search'] as const;
export type Source = (typeof SOURCES)[number];

export interface ReaderTraits {
  /** Sessions per millisecond at the day's mean traffic. */
  ratePerMs: number;
  /** Favourite topics (distinct). */
  favourites: number[];
  /** Cumulative shares of home, social, search for this reader. */
  sourceCum: [number, number, number];
  /** First possible arrival, epoch ms. */
  firstTs: number;
  /** True when the first arrival is exactly at firstTs (a new reader's first visit). */
  newcomer: boolean;
}

/** A reader's traits, from the reader's own stream: the same reader in every run of the seed. */
export function readerTraits(world: WorldSpec, topics: Topics, seed: number, r: number, startTs: number, durationMs: number): ReaderTraits {
  const rng = seededRng(streamSeed(seed, STREAM.traits, r));
  const v = world.readers.visitsPerWeek;
  const perWeek = Math.min(v.max, v.median * Math.exp(v.sigma * normal(rng)));
  const favourites: number[] = [];
  for (let tries = 0; favourites.length < world.readers.topicsPerReader && tries < 50; tries++) {
    const t = pickCumulative(topics.cum, rng.next());
    if (!favourites.includes(t)) favourites.push(t);
  }
  const s = world.sessions.sources;
  const home = Math.min(0.95, s.home.share * (perWeek / v.median) ** world.readers.loyalty);
  const rest = s.social.share + s.search.share;
  const social = rest > 0 ? ((1 - home) * s.social.share) / rest : 0;
  const newcomer = rng.next() < world.readers.newReaderShare;
  const firstTs = newcomer ? startTs + Math.floor(rng.next() * durationMs) : startTs;
  return { ratePerMs: perWeek / (7 * DAY_MS), favourites, sourceCum: [home, home + social, 1], firstTs, newcomer };
}

/** The hourly profile as a thinning acceptance per hour (max 1) and the rate multiplier of its peak. */
export function hourlyThinning(world: WorldSpec): { accept: number[]; peak: number } {
  const p = world.readers.hourlyProfile;
  const max = Math.max(...p);
  const mean = p.reduce((a, b) => a + b, 0) / 24;
  return { accept: p.map((x) => x / max), peak: max / mean };
}

/**
 * The next arrival after `t` of a reader with rate `ratePerMs` (at mean traffic) whose traffic
 * follows the hourly profile: a Poisson process by thinning (Lewis and Shedler, 1979).
 */
export function nextArrival(rng: Rng, t: number, ratePerMs: number, thin: { accept: number[]; peak: number }): number {
  const peakRate = ratePerMs * thin.peak;
  for (;;) {
    t -= Math.log(1 - rng.next()) / peakRate;
    const hour = Math.floor((t % DAY_MS) / HOUR_MS);
    if (rng.next() < thin.accept[hour]!) return Math.floor(t);
  }
}
