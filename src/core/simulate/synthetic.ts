/**
 * A synthetic newsroom, seeded: articles, readers and their reading events, for tests, benchmarks
 * and (issue 16) the simulator. Pure: every draw comes from the `Rng` passed in and every time from
 * the options, so a seed pins the whole output. Nothing here reads the clock or Math.random.
 *
 * Pieces, smallest first:
 * - vocabulary: news sections with their shares and headline templates, `fillTemplate`;
 * - ids: `syntheticId` (`rdr-00042`, `art-0007`, ...);
 * - draws: `weightedSampler` (precomputed), `pickWeighted` (ad hoc lists), `powerLawIndex` (heavy-tailed activity);
 * - `syntheticArticles`: ids, sections, template headlines, publication times over a window;
 * - `storedEvent`: the five event types exactly as the collector stores them (optional fields null);
 * - three reading models, each a caller's workload today and each a seed of the simulator's:
 *   `VisitStream` (readers with a preferred section follow stories over a day; page views, reads,
 *   recommendation clicks), `topicSessions` (readers loyal to one topic read its Zipf-popular
 *   articles: a known co-reading structure) and `EventTraffic` (independent events at a fixed type
 *   mix, evenly over a window and in time order: a load generator).
 *
 * Heavy tails: reader activity is drawn as `floor(N · u^skew)` (u uniform): reader r gets a share
 * proportional to about r^(1/skew − 1), and the busiest fraction f of readers produces f^(1/skew)
 * of the activity (skew 2: the top 10 % make 32 %; skew 1.5: 22 %; skew 3: 46 %).
 *
 * Tested in test/core/simulate/synthetic.test.ts.
 *
 * @example
 * const rng = seededRng(7);
 * const articles = syntheticArticles(rng, { count: 100, window: { from: t0, to: t0 + DAY_MS } });
 * const stream = new VisitStream(rng, articles, { readers: 1000 });
 * const events = [...stream.events(10_000, t0 + DAY_MS)];
 */
import type { Article } from '../catalog/article.js';
import type { StoredEvent } from '../events/schema.js';
import { validateEvent } from '../events/validate.js';
import { seededRng, type Rng } from '../kernel/rng.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, toIso } from '../kernel/time.js';

// ---- vocabulary

export interface NewsSection {
  name: string;
  /** Relative frequency (the count of items in the real Wikipedia current-events file). */
  weight: number;
  /** Headline templates; see `fillTemplate` for the placeholders. */
  headlines: readonly string[];
}

/** The ten categories of Wikipedia's "Portal:Current events" at their real shares, with headline templates. */
export const NEWS_SECTIONS: readonly NewsSection[] = [
  {
    name: 'Armed conflicts and attacks',
    weight: 3574,
    headlines: [
      'Airstrikes on {place} kill at least {n} people, including {m} children',
      '{person} says troops have retaken the outskirts of {place}',
      'A drone attack on a fuel depot near {place} starts a fire that burns for {m} days',
    ],
  },
  {
    name: 'Disasters and accidents',
    weight: 1759,
    headlines: [
      'A magnitude {d} earthquake strikes near {place}, killing at least {n} people',
      'Flooding in {place} displaces {n},000 residents',
      'A passenger train derails near {place}; {m} people are injured',
    ],
  },
  {
    name: 'Law and crime',
    weight: 1603,
    headlines: [
      'A court in {place} sentences a former mayor to {m} years in prison for fraud',
      'Police in {place} arrest {m} people after a bank robbery',
      '{body} opens an inquiry into the shooting of a journalist in {place}',
    ],
  },
  {
    name: 'Politics and elections',
    weight: 1177,
    headlines: [
      'Voters in {place} go to the polls in a snap election; turnout is {n} percent',
      '{person} resigns after losing a confidence vote',
      'The parliament of {place} passes a constitutional amendment by {n} votes to {m}',
    ],
  },
  {
    name: 'International relations',
    weight: 848,
    headlines: [
      '{person} meets envoys from {place} to discuss a ceasefire',
      '{body} imposes sanctions on {m} officials from {place}',
      '{place} recalls its ambassador after a diplomatic row',
    ],
  },
  {
    name: 'Business and economy',
    weight: 525,
    headlines: [
      '{body} raises its benchmark interest rate to {d} percent',
      'Shares in a {place} shipping firm fall {n} percent after a profit warning',
      'Inflation in {place} reaches {d} percent, the highest in {m} years',
    ],
  },
  {
    name: 'Sports',
    weight: 390,
    headlines: [
      '{place} win the continental cup final {m}–{k} after extra time',
      'A marathon runner from {place} sets a course record of 2:0{k}:{n}',
      'The {place} Open is suspended for {m} days because of heat',
    ],
  },
  {
    name: 'Health and environment',
    weight: 344,
    headlines: [
      '{body} declares the outbreak in {place} over after {n} days without a case',
      'A heatwave in {place} pushes temperatures to {n} °C',
      'Health officials in {place} report {n} new cases of measles',
    ],
  },
  {
    name: 'Arts and culture',
    weight: 186,
    headlines: [
      'The {place} film festival awards its top prize to a documentary about fishermen',
      'A 14th-century manuscript is returned to a library in {place}',
      'The novelist {person} wins a literary prize worth €{n},000',
    ],
  },
  {
    name: 'Science and technology',
    weight: 182,
    headlines: [
      'Astronomers at {body} report a planet orbiting a star {n} light-years away',
      'A rocket launched from {place} places {m} satellites in orbit',
      'Researchers in {place} publish the genome of an extinct rhinoceros',
    ],
  },
];

/** Invented names (with non-ASCII letters and abbreviations, as real copy has) that fill the templates. */
export const NEWS_VOCABULARY = {
  places: [
    'Valmora',
    'Kestrel Bay',
    'Ostrava Nova',
    'São Tiago do Norte',
    'Løkkeby',
    'Port Ardent',
    'Zhenbei',
    'Qarun',
    'Mérida Alta',
    'Tarn-sur-Lys',
    'New Halvard',
    'Ekwé',
  ],
  people: [
    'Gen. Amara Voss',
    'President Ilse Marquardt',
    'J. R. Okafor',
    'Prime Minister Teodor Baran',
    'Dr. Nilufar Sadeq',
    'Sen. Hollis Pike',
    'Minister Zoë Lindqvist',
    'Capt. Ren Aoki',
  ],
  bodies: [
    'the U.S. State Department',
    'the U.N. Security Council',
    'the Valmoran Armed Forces',
    'the Central Bank of Kestrel Bay',
    'the Supreme Court',
    'the World Health Organization',
    'the E.U. Commission',
  ],
  /** Running stories: a topic that many articles share. */
  stories: [
    'Valmora–Qarun border conflict',
    'Kestrel Bay debt crisis',
    'Zhenbei earthquake',
    'Port Ardent general election',
    'Ostrava Nova protests',
    'Ekwé cholera outbreak',
    'Mérida Alta drought',
    'New Halvard transit strike',
  ],
} as const;

/**
 * Fills a template: `{place}`, `{person}`, `{body}` from NEWS_VOCABULARY; `{n}` 2-99, `{m}` 2-9,
 * `{k}` 0-9, `{d}` like "3.7". Draws in that placeholder order, one per occurrence.
 */
export function fillTemplate(rng: Rng, template: string): string {
  const v = NEWS_VOCABULARY;
  return template
    .replaceAll('{place}', () => rng.pick(v.places))
    .replaceAll('{person}', () => rng.pick(v.people))
    .replaceAll('{body}', () => rng.pick(v.bodies))
    .replaceAll('{n}', () => String(2 + rng.int(98)))
    .replaceAll('{m}', () => String(2 + rng.int(8)))
    .replaceAll('{k}', () => String(rng.int(10)))
    .replaceAll('{d}', () => `${1 + rng.int(8)}.${rng.int(10)}`);
}

/** 32-bit FNV-1a of a string: seeds per-item draws (a headline) without taking them from the main stream. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A headline for article `id` in `section`: a template of that section (any section's when the name
 * is not a NEWS_SECTIONS one), filled from a generator seeded by the id. It draws nothing from the
 * caller's stream, so adding or changing headlines never moves the rest of a generated world.
 */
export function headline(id: string, section: string | null): string {
  const rng = seededRng(hash32(id));
  const known = NEWS_SECTIONS.find((s) => s.name === section) ?? NEWS_SECTIONS[hash32(section ?? '') % NEWS_SECTIONS.length]!;
  const text = fillTemplate(rng, rng.pick(known.headlines));
  return `${text[0]!.toUpperCase()}${text.slice(1)}`;
}

// ---- ids

export interface IdFormat {
  prefix: string;
  /** Zero-padded to this many digits (0: no padding). */
  width: number;
}

/** `syntheticId(42, { prefix: 'rdr-', width: 5 })` = "rdr-00042". */
export const syntheticId = (n: number, f: IdFormat): string => `${f.prefix}${String(n).padStart(f.width, '0')}`;

// ---- draws

/** Draws indices 0..n-1 with the given weights (cumulative sums, a binary search per draw): for lists drawn from many times. */
export function weightedSampler(rng: Rng, weights: readonly number[]): () => number {
  const cum: number[] = [];
  let total = 0;
  for (const w of weights) cum.push((total += w));
  return () => {
    const x = rng.next() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

/** One element of `xs` with probability proportional to `weights` (one draw, a linear scan): for lists built per draw. */
export function pickWeighted<T>(rng: Rng, xs: readonly T[], weights: readonly number[]): T {
  let total = 0;
  for (const w of weights) total += w;
  let u = rng.next() * total;
  for (let i = 0; i < xs.length; i++) {
    u -= weights[i]!;
    if (u < 0) return xs[i]!;
  }
  return xs[xs.length - 1]!;
}

/** An index in [0, n) drawn as floor(n · u^skew): heavy-tailed towards 0 for skew > 1 (see the module comment). */
export const powerLawIndex = (rng: Rng, n: number, skew: number): number => Math.floor(n * rng.next() ** skew);

/** Fisher–Yates, in place. */
export function shuffle<T>(rng: Rng, xs: T[]): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}

/** Dwell of a read, ms: 5 s to 5 min, most reads short (5 s + 295 s · u²). */
export const readingDwellMs = (rng: Rng): number => Math.round(5000 + 295_000 * rng.next() ** 2);
/** Deepest scroll of a read, 0.20 to 1.00 in hundredths. */
export const scrollDepth = (rng: Rng): number => Math.round(100 * (0.2 + 0.8 * rng.next())) / 100;
/** Receive time of an event sent at `clientTs`: 50 ms to 1.55 s later. */
export const receivedAfter = (rng: Rng, clientTs: number): number => clientTs + 50 + rng.int(1500);

// ---- articles

export interface ArticleOptions {
  /** Articles to make. Default 300. */
  count: number;
  /** Publication times are uniform over [from, to), epoch ms. Required: time is a parameter. */
  window: { from: number; to: number };
  /** Section names. Default: the NEWS_SECTIONS names. */
  sections: readonly string[];
  /**
   * `round-robin`: article i is in section i mod |sections| (one draw per article, its time);
   * `weighted`: drawn by `sectionWeights` (default NEWS_SECTIONS' weights, else equal), then the time.
   * Default `round-robin`.
   */
  sectionAssignment: 'round-robin' | 'weighted';
  sectionWeights?: readonly number[];
  /** Default `{ prefix: 'art-', width: 4 }`. */
  id: IdFormat;
  /** Titles: `headline` (template, see `headline`) or `id` ("Title art-0001"). Default `headline`. */
  titles: 'headline' | 'id';
}

export const ARTICLE_DEFAULTS: Omit<ArticleOptions, 'window'> = {
  count: 300,
  sections: NEWS_SECTIONS.map((s) => s.name),
  sectionAssignment: 'round-robin',
  id: { prefix: 'art-', width: 4 },
  titles: 'headline',
};

/** A published article with only the fields a generator sets; the rest null or empty. */
export function syntheticArticle(id: string, section: string | null, publishedAt: number, title = headline(id, section)): Article {
  return {
    id,
    url: null,
    title,
    lead: null,
    body: null,
    section,
    tags: [],
    author: null,
    publishedAt,
    updatedAt: null,
    expiresAt: null,
    embargoUntil: null,
    status: 'published',
    paywalled: false,
    language: null,
  };
}

/** `count` articles over the window (see ArticleOptions), in id order. */
export function syntheticArticles(rng: Rng, options: Partial<ArticleOptions> & Pick<ArticleOptions, 'window'>): Article[] {
  const o = { ...ARTICLE_DEFAULTS, ...options };
  const span = o.window.to - o.window.from;
  if (!(span > 0)) throw new RangeError('syntheticArticles: window.to must be after window.from');
  if (o.sections.length === 0) throw new RangeError('syntheticArticles: no sections');
  const weights = o.sectionWeights ?? o.sections.map((name) => NEWS_SECTIONS.find((s) => s.name === name)?.weight ?? 1);
  const drawSection = o.sectionAssignment === 'weighted' ? weightedSampler(rng, weights) : undefined;
  const out: Article[] = [];
  for (let i = 0; i < o.count; i++) {
    const section = o.sections[drawSection ? drawSection() : i % o.sections.length]!;
    const id = syntheticId(i, o.id);
    const publishedAt = o.window.from + Math.floor(rng.next() * span);
    out.push(syntheticArticle(id, section, publishedAt, o.titles === 'id' ? `Title ${id}` : headline(id, section)));
  }
  return out;
}

// ---- events as stored

/** What every event has; `receivedTs` is the server's receive time. */
export interface EventBase {
  eventId: string;
  readerId: string;
  sessionId: string;
  clientTs: number;
  receivedTs: number;
}

type Of<T extends StoredEvent['type']> = Extract<StoredEvent, { type: T }>;
type Fields<T extends StoredEvent['type']> = Omit<Of<T>, keyof EventBase | 'type'>;

/**
 * The five event types exactly as the collector stores them: every optional field present (null
 * when absent), keys in the validator's order. `checkStoredEvent` proves a sample.
 */
export const storedEvent = {
  pageView: (
    b: EventBase,
    f: { articleId: string | null; page?: string | null; url?: string | null; referrer?: string | null },
  ): Of<'page_view'> => {
    const { receivedTs, ...base } = b;
    return {
      type: 'page_view',
      ...base,
      articleId: f.articleId,
      page: f.page ?? null,
      url: f.url ?? null,
      referrer: f.referrer ?? null,
      receivedTs,
    };
  },
  impression: (
    b: EventBase,
    f: Pick<Fields<'impression'>, 'recommId' | 'placement' | 'articleId' | 'items'> & Partial<Fields<'impression'>>,
  ): Of<'impression'> => {
    const { receivedTs, ...base } = b;
    return {
      type: 'impression',
      ...base,
      recommId: f.recommId,
      placement: f.placement,
      articleId: f.articleId,
      items: f.items,
      experiment: f.experiment ?? null,
      phase: f.phase ?? null,
      arm: f.arm ?? null,
      hashVersion: f.hashVersion ?? null,
      recommender: f.recommender ?? null,
      shadow: f.shadow ?? false,
      receivedTs,
    };
  },
  click: (b: EventBase, f: { recommId: string; articleId: string; position: number; placement?: string | null }): Of<'click'> => {
    const { receivedTs, ...base } = b;
    return {
      type: 'click',
      ...base,
      recommId: f.recommId,
      articleId: f.articleId,
      position: f.position,
      placement: f.placement ?? null,
      receivedTs,
    };
  },
  read: (b: EventBase, f: { articleId: string; dwellMs: number; scroll: number; recommId?: string | null }): Of<'read'> => {
    const { receivedTs, ...base } = b;
    return {
      type: 'read',
      ...base,
      articleId: f.articleId,
      dwellMs: f.dwellMs,
      scroll: f.scroll,
      recommId: f.recommId ?? null,
      receivedTs,
    };
  },
  subscribe: (b: EventBase, f: { plan: string; revenue: number; currency: string; articleId?: string | null }): Of<'subscribe'> => {
    const { receivedTs, ...base } = b;
    return {
      type: 'subscribe',
      ...base,
      plan: f.plan,
      revenue: f.revenue,
      currency: f.currency,
      articleId: f.articleId ?? null,
      receivedTs,
    };
  },
};

/**
 * Whether `e` is exactly what the collector would store for it: the event is sent through
 * validateEvent as the raw JSON a client sends (nulls left out, time as ISO 8601) and the result
 * must serialise the same. Undefined when it is; else why not.
 */
export function checkStoredEvent(e: StoredEvent, ctx: { maxPastMs: number; maxFutureMs: number; trusted: boolean }): string | undefined {
  const { receivedTs, clientTs, ...rest } = e;
  const raw: Record<string, unknown> = { timestamp: toIso(clientTs) };
  for (const [k, v] of Object.entries(rest)) if (v !== null) raw[k] = v;
  const v = validateEvent(raw, { receivedTs, window: { maxPastMs: ctx.maxPastMs, maxFutureMs: ctx.maxFutureMs }, trusted: ctx.trusted });
  if (!v.ok) return `${e.type} ${e.eventId}: ${v.error.reason}`;
  const { receivedTs: _r, ...stored } = e;
  const want = JSON.stringify(v.event);
  const have = JSON.stringify(stored);
  return want === have ? undefined : `${have} normalises to ${want}`;
}

// ---- model 1: visits (readers following stories over a day)

export interface VisitOptions {
  /** Only the newest this many articles are read (null: all). Default null. */
  newest: number | null;
  /** Reader population. Default 50,000. */
  readers: number;
  /** Reader ids. Default `{ prefix: 'rdr-', width: 5 }`. */
  readerId: IdFormat;
  /** Reader activity skew (`powerLawIndex`); one draw per session. Default 2 (top 10 % of readers: about 32 % of sessions). */
  activitySkew: number;
  /** Article of rank i (0 = newest) is read with weight 1 / (1 + i / recencyHalfRank). Default 20. */
  recencyHalfRank: number;
  /** Sessions start uniformly over [now − windowMs, now − windowMs + windowMs − lastStartMarginMs). Defaults 24 h and 30 min. */
  windowMs: number;
  lastStartMarginMs: number;
  /** Share of sessions that start in the reader's preferred section. Default 0.6. */
  firstInSection: number;
  /** After the first visit, the next article shares the current one's story (first tag) with this probability... Default 0.4. */
  nextInStory: number;
  /** ...else is in the preferred section with this probability (absolute); else any. Default 0.35. */
  nextInSection: number;
  /** Visits per session: 1 + floor(Exp(mean visitsMean)). Default 3 (mean about 3.5). */
  visitsMean: number;
  /** From the second visit on, the visit starts with a click on a recommendation with this probability. Default 0.25. */
  clickShare: number;
  /** A visit ends with a read event with this probability. Default 0.7. */
  readShare: number;
  /** Recommendation slots clicked (1..slots) and the placement named. Defaults 5 and 'read-next'. */
  slots: number;
  placement: string;
  /** Referrers of the first page view (null: direct), drawn uniformly. */
  referrers: readonly (string | null)[];
}

export const VISIT_DEFAULTS: VisitOptions = {
  newest: null,
  readers: 50_000,
  readerId: { prefix: 'rdr-', width: 5 },
  activitySkew: 2,
  recencyHalfRank: 20,
  windowMs: 24 * HOUR_MS,
  lastStartMarginMs: 30 * MINUTE_MS,
  firstInSection: 0.6,
  nextInStory: 0.4,
  nextInSection: 0.35,
  visitsMean: 3,
  clickShare: 0.25,
  readShare: 0.7,
  slots: 5,
  placement: 'read-next',
  referrers: [null, 'https://www.google.com/', 'https://news.google.com/', 'https://t.co/', null],
};

export interface VisitCounts {
  events: number;
  reads: number;
  pageViews: number;
  clicks: number;
  sessions: number;
  /** Distinct readers and articles that appear in the events. */
  readers: number;
  articles: number;
}

/**
 * Sessions of readers with a preferred section who follow stories: each visit is a page view,
 * then a read (`readShare`) and, from the second visit on, sometimes a recommendation click first
 * (`clickShare`). The next article shares the current one's story (first tag), is in the reader's
 * section, or is anything (see VisitOptions); all recency-weighted, never before its publication.
 * Events come out as the collector stores them, ids `ev-1`, `ev-2`, ...
 *
 * The articles are ranked newest first (ties by id), the newest `newest` kept; `drawArticle` and `drawReader` draw from the
 * same stream as the events (a bench uses them for its request mix after the events).
 */
export class VisitStream {
  readonly options: VisitOptions;
  /** The articles, newest first. */
  readonly pool: readonly Article[];
  readonly counts: VisitCounts = { events: 0, reads: 0, pageViews: 0, clicks: 0, sessions: 0, readers: 0, articles: 0 };
  /** A pool index with the reading weights (newer is read more). */
  readonly drawArticle: () => number;

  constructor(
    readonly rng: Rng,
    articles: readonly Article[],
    options: Partial<VisitOptions> = {},
  ) {
    this.options = { ...VISIT_DEFAULTS, ...options };
    const ranked = [...articles].sort((a, b) => b.publishedAt - a.publishedAt || (a.id < b.id ? -1 : 1));
    this.pool = this.options.newest === null ? ranked : ranked.slice(0, this.options.newest);
    this.drawArticle = weightedSampler(
      rng,
      this.pool.map((_, rank) => this.weightOf(rank)),
    );
  }

  /** A reader number with the activity skew (a few heavy readers, a long tail). */
  drawReader(): number {
    return powerLawIndex(this.rng, this.options.readers, this.options.activitySkew);
  }

  readerId(r: number): string {
    return syntheticId(r, this.options.readerId);
  }

  private weightOf(rank: number): number {
    return 1 / (1 + rank / this.options.recencyHalfRank);
  }

  /** `total` events from sessions over the window that ends at `nowMs`; `counts` says what was made. */
  *events(total: number, nowMs: number): Generator<StoredEvent> {
    const { pool, rng, options: o } = this;
    const stats = this.counts;
    const sections = [...new Set(pool.map((a) => a.section ?? '(none)'))];
    const bySection = new Map(sections.map((s) => [s, [] as number[]]));
    const byStory = new Map<string, number[]>();
    pool.forEach((a, i) => {
      bySection.get(a.section ?? '(none)')!.push(i);
      const story = a.tags[0];
      if (story !== undefined) {
        let l = byStory.get(story);
        if (!l) byStory.set(story, (l = []));
        l.push(i);
      }
    });
    const sectionDraw = new Map(
      [...bySection].map(([s, idx]) => [
        s,
        weightedSampler(
          rng,
          idx.map((i) => this.weightOf(i)),
        ),
      ]),
    );
    const sectionOfDraw = weightedSampler(
      rng,
      sections.map((s) => bySection.get(s)!.reduce((x, i) => x + this.weightOf(i), 0)),
    );
    // Each reader's preferred section, by the sections' reading weight.
    const preferred: string[] = Array.from({ length: o.readers }, () => sections[sectionOfDraw()]!);
    const readersSeen = new Set<number>();
    const articlesSeen = new Set<number>();

    /** A pool article published by `t` from `draw` (a few tries), else undefined. */
    const published = (t: number, draw: () => number, list?: readonly number[]): number | undefined => {
      for (let i = 0; i < 8; i++) {
        const a = list ? list[draw()]! : draw();
        if (pool[a]!.publishedAt <= t) return a;
      }
      return undefined;
    };
    const anyPublished = (t: number) => published(t, this.drawArticle) ?? pool.length - 1;

    let n = 0;
    let session = 0;
    while (n < total) {
      session++;
      const r = this.drawReader();
      const rid = this.readerId(r);
      const sid = `ses-${r}-${session}`;
      const pref = preferred[r]!;
      let t = nowMs - o.windowMs + Math.floor(rng.next() * (o.windowMs - o.lastStartMarginMs));
      let cur =
        rng.next() < o.firstInSection ? (published(t, sectionDraw.get(pref)!, bySection.get(pref)) ?? anyPublished(t)) : anyPublished(t);
      const visits = 1 + Math.floor(-Math.log(1 - rng.next()) * o.visitsMean);
      const seen = new Set<number>();
      readersSeen.add(r);
      for (let v = 0; v < visits && n < total && t < nowMs - 1000; v++) {
        if (v > 0) {
          const u = rng.next();
          const story = byStory.get(pool[cur]!.tags[0] ?? '');
          let next: number | undefined;
          if (u < o.nextInStory && story && story.length > 1) next = published(t, () => rng.int(story.length), story);
          else if (u < o.nextInStory + o.nextInSection) next = published(t, sectionDraw.get(pref)!, bySection.get(pref));
          next ??= anyPublished(t);
          if (seen.has(next)) next = anyPublished(t);
          cur = next;
        }
        seen.add(cur);
        articlesSeen.add(cur);
        const articleId = pool[cur]!.id;
        // The receive time is drawn last, after the event's own fields.
        const base = (dt: number) => ({ eventId: `ev-${++n}`, readerId: rid, sessionId: sid, clientTs: t + dt });
        const received = (b: Omit<EventBase, 'receivedTs'>): EventBase => ({
          ...b,
          receivedTs: Math.min(nowMs, receivedAfter(rng, b.clientTs)),
        });
        if (v > 0 && rng.next() < o.clickShare) {
          const b = base(0);
          const position = 1 + rng.int(o.slots);
          stats.clicks++;
          yield storedEvent.click(received(b), { recommId: `rc-${session}-${v}`, articleId, position, placement: o.placement });
          if (n >= total) break;
        }
        const pv = base(400);
        const referrer = v === 0 ? rng.pick(o.referrers) : null;
        stats.pageViews++;
        yield storedEvent.pageView(received(pv), { articleId, url: pool[cur]!.url, referrer });
        if (n >= total) break;
        const dwellMs = readingDwellMs(rng);
        if (rng.next() < o.readShare) {
          const rd = base(dwellMs);
          const scroll = scrollDepth(rng);
          stats.reads++;
          yield storedEvent.read(received(rd), { articleId, dwellMs, scroll });
        }
        t += dwellMs + 10_000 + rng.int(80_000);
      }
    }
    stats.events = n;
    stats.sessions = session;
    stats.readers = readersSeen.size;
    stats.articles = articlesSeen.size;
  }
}

// ---- model 2: topic sessions (a known co-reading structure)

export interface TopicSessionOptions {
  /** Reader population; each reader has 1..maxSessionsPerReader sessions. Defaults 3000 and 3. */
  readers: number;
  maxSessionsPerReader: number;
  /** Reader ids. Default `{ prefix: 'u', width: 0 }` ("u0", "u1", ...). */
  readerId: IdFormat;
  /** Share of reads from the reader's topic (its section); the rest uniform over every article. Default 0.85. */
  inTopic: number;
  /** Zipf exponent of popularity within a topic. Default 1. */
  zipfS: number;
  /** Sessions start uniformly over [from, to − 1 h) (a session lasts at most 6 reads · 5 minutes). */
  window: { from: number; to: number };
}

export const TOPIC_SESSION_DEFAULTS: Omit<TopicSessionOptions, 'window'> = {
  readers: 3000,
  maxSessionsPerReader: 3,
  readerId: { prefix: 'u', width: 0 },
  inTopic: 0.85,
  zipfS: 1,
};

export interface TopicSession {
  readerId: string;
  sessionId: string;
  /** The reader's topic (the index of its section among the articles' sections, in first-seen order). */
  topic: number;
  reads: { articleId: string; ts: number }[];
}

/**
 * Reading sessions over `articles` whose sections are topics. Per reader:
 *   1. a topic, uniform over the topics;
 *   2. 1 to `maxSessionsPerReader` sessions, each starting uniformly over the window, of 3 to 6
 *      reads 1 to 5 minutes apart, never the same article twice in a session;
 *   3. each read is, with probability `inTopic`, from the reader's topic with a Zipf skew (weight
 *      1/(rank+1)^s over the topic's published articles, ranks a random order drawn first),
 *      otherwise uniform over every published article.
 * A read at t only picks articles published by t; sessions of fewer than 2 reads are dropped.
 * Sessions come out by start time (ties by session id).
 */
export function topicSessions(
  rng: Rng,
  articles: readonly Article[],
  options: Partial<TopicSessionOptions> & Pick<TopicSessionOptions, 'window'>,
): TopicSession[] {
  const o = { ...TOPIC_SESSION_DEFAULTS, ...options };
  const topics = [...new Set(articles.map((a) => a.section))];
  // Per topic, its articles in Zipf rank order (rank 0 = the most read).
  const byTopic = topics.map((t) => articles.filter((a) => a.section === t));
  for (const list of byTopic) shuffle(rng, list);
  const lastStart = o.window.to - o.window.from - HOUR_MS;

  const sessions: TopicSession[] = [];
  for (let r = 0; r < o.readers; r++) {
    const readerId = syntheticId(r, o.readerId);
    const topic = rng.int(topics.length);
    const nSessions = 1 + rng.int(o.maxSessionsPerReader);
    for (let s = 0; s < nSessions; s++) {
      const reads: TopicSession['reads'] = [];
      const length = 3 + rng.int(4);
      let ts = o.window.from + Math.floor(rng.next() * lastStart);
      for (let i = 0; i < length; i++) {
        const seen = new Set(reads.map((x) => x.articleId));
        const inTopic = rng.next() < o.inTopic;
        const pool = inTopic ? byTopic[topic]! : articles;
        const candidates: Article[] = [];
        const weights: number[] = [];
        pool.forEach((a, rank) => {
          if (a.publishedAt > ts || seen.has(a.id)) return;
          candidates.push(a);
          weights.push(inTopic ? 1 / (rank + 1) ** o.zipfS : 1);
        });
        if (candidates.length > 0) reads.push({ articleId: pickWeighted(rng, candidates, weights).id, ts });
        ts += (1 + rng.int(5)) * MINUTE_MS;
      }
      if (reads.length >= 2) sessions.push({ readerId, sessionId: `${readerId}-s${s}`, topic, reads });
    }
  }
  sessions.sort((x, y) => x.reads[0]!.ts - y.reads[0]!.ts || (x.sessionId < y.sessionId ? -1 : 1));
  return sessions;
}

// ---- model 3: traffic (independent events at a fixed mix, for load)

/**
 * How event ids look. `uuid`: random-looking UUIDv4s (what the SDK sent before UUIDv7, and what a
 * server-to-server client may still send), so inserts land all over a primary-key index.
 * `sequential`: ascending. `time`: ascending with the client time, like the SDK's UUIDv7.
 */
export type IdScheme = 'uuid' | 'sequential' | 'time';

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const hex8 = (x: number) => (x >>> 0).toString(16).padStart(8, '0');

/** A bijective 32-bit mix (the "lowbias32" finaliser). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Event `n` of stream `tag` (one character): unique across streams and schemes. */
export function syntheticEventId(scheme: IdScheme, tag: string, n: number, clientTs: number): string {
  if (scheme === 'sequential') return `${tag}${pad(n, 10)}`;
  if (scheme === 'time') return `${tag}${clientTs.toString(36)}-${pad(n, 8)}`;
  // v4 layout; the first group is a bijection of n and the second names the stream: never repeated.
  const a = mix32(n);
  const b = mix32(a ^ 0x9e3779b9);
  const c = mix32(b ^ 0x85ebca6b);
  const d = mix32(c ^ 0xc2b2ae35);
  const hb = hex8(b);
  return `${hex8(a)}-${tag.charCodeAt(0).toString(16).padStart(4, '0')}-4${hb.slice(0, 3)}-${(8 | (d >>> 30)).toString(16)}${hb.slice(3, 6)}-${hex8(c)}${hex8(d).slice(0, 4)}`;
}

export interface TrafficOptions {
  /** Events in all, spread evenly over [from, from + spanMs). */
  total: number;
  from: number;
  spanMs: number;
  /** Day 0 of the article ids (`art-DD-NNN`: article NNN of day DD since origin). Default `from`. */
  origin?: number;
  /** Articles per day. Default 300. */
  articlesPerDay: number;
  /** Reader population, ids and activity skew (`powerLawIndex`, one draw per event). Defaults 500,000, `rdr-000000`, 1.5. */
  readers: number;
  readerId: IdFormat;
  activitySkew: number;
  /** A session is a reader's slot of this length. Default 30 min. */
  sessionMs: number;
  /** Event type shares; they sum to 1. Default page_view 0.4, impression 0.25, click 0.04, read 0.309, subscribe 0.001. */
  mix: Readonly<Record<StoredEvent['type'], number>>;
  /** Items per impression. Default 4. */
  impressionItems: number;
  idScheme: IdScheme;
  /** One character naming the stream in its event ids. Default 'e'. */
  tag: string;
}

export const TRAFFIC_DEFAULTS: Omit<TrafficOptions, 'total' | 'from' | 'spanMs'> = {
  articlesPerDay: 300,
  readers: 500_000,
  readerId: { prefix: 'rdr-', width: 6 },
  activitySkew: 1.5,
  sessionMs: 30 * MINUTE_MS,
  mix: { page_view: 0.4, impression: 0.25, click: 0.04, read: 0.309, subscribe: 0.001 },
  impressionItems: 4,
  idScheme: 'time',
  tag: 'e',
};

/**
 * Independent events in time order (as they arrive): event n at from + (n + u) · spanMs / total.
 * A click names one of the 64 latest impressions' recommIds; a subscription is annual (99 EUR)
 * 30 % of the time, else monthly (9.99 EUR). Pull with `next(size)` until `done`.
 */
export class EventTraffic {
  readonly options: TrafficOptions;
  readonly counts: Record<StoredEvent['type'], number> = { page_view: 0, impression: 0, click: 0, read: 0, subscribe: 0 };
  private n = 0;
  private readonly recent: string[] = [];
  private readonly cut: readonly number[];

  constructor(
    private readonly rng: Rng,
    options: Partial<TrafficOptions> & Pick<TrafficOptions, 'total' | 'from' | 'spanMs'>,
  ) {
    this.options = { ...TRAFFIC_DEFAULTS, ...options };
    const m = this.options.mix;
    const c1 = m.page_view;
    const c2 = c1 + m.impression;
    const c3 = c2 + m.click;
    this.cut = [c1, c2, c3, c3 + m.read];
  }

  get done(): boolean {
    return this.n >= this.options.total;
  }

  readerId(r: number): string {
    return syntheticId(r, this.options.readerId);
  }

  next(size: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    const { rng, options: o, cut } = this;
    const origin = o.origin ?? o.from;
    for (const end = Math.min(o.total, this.n + size); this.n < end; this.n++) {
      const n = this.n;
      const clientTs = o.from + Math.floor(((n + rng.next()) * o.spanMs) / o.total);
      const r = powerLawIndex(rng, o.readers, o.activitySkew);
      const day = Math.floor((clientTs - origin) / DAY_MS);
      const art = (k: number) => `art-${pad(day, 2)}-${pad(k % o.articlesPerDay, 3)}`;
      const a = rng.int(o.articlesPerDay);
      const eventId = syntheticEventId(o.idScheme, o.tag, n, clientTs);
      const base: EventBase = {
        eventId,
        readerId: this.readerId(r),
        sessionId: `ses-${r}-${Math.floor(clientTs / o.sessionMs)}`,
        clientTs,
        receivedTs: receivedAfter(rng, clientTs),
      };
      const u = rng.next();
      let e: StoredEvent;
      if (u < cut[0]!) {
        e = storedEvent.pageView(base, { articleId: art(a) });
      } else if (u < cut[1]!) {
        const recommId = `rc-${eventId}`;
        if (this.recent.length >= 64) this.recent.shift();
        this.recent.push(recommId);
        const items = Array.from({ length: o.impressionItems }, (_, i) => ({ articleId: art(a + i + 1), position: i + 1, team: null }));
        e = storedEvent.impression(base, { recommId, placement: 'read-next', articleId: art(a), items });
      } else if (u < cut[2]!) {
        const recommId = this.recent[rng.int(Math.max(1, this.recent.length))] ?? `rc-${eventId}`;
        e = storedEvent.click(base, { recommId, articleId: art(a), position: 1 + rng.int(o.impressionItems), placement: 'read-next' });
      } else if (u < cut[3]!) {
        const dwellMs = readingDwellMs(rng);
        e = storedEvent.read(base, { articleId: art(a), dwellMs, scroll: scrollDepth(rng) });
      } else {
        const annual = rng.next() < 0.3;
        e = storedEvent.subscribe(base, { plan: annual ? 'annual' : 'monthly', revenue: annual ? 99 : 9.99, currency: 'EUR' });
      }
      this.counts[e.type]++;
      out.push(e);
    }
    return out;
  }
}
