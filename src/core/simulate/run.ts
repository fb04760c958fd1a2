/**
 * Runs a world against a platform: a discrete-event loop in simulated time over every reader's
 * sessions (a binary heap of pending steps: arrivals and page opens), keeping the call order of
 * platform.ts, and a tally of what each reader did from the platform's first exposure on, counted
 * the way the platform's report counts (core/analysis/metrics.ts), so that `truthOf` gives each
 * metric's true value in this run. Pure apart from the platform it is handed; docs/simulation.md
 * states the model, and test/core/simulate/run.test.ts pins determinism and common random numbers.
 *
 * A page, in order (times from the page's opening t):
 *   1. page_view at t; the widget's slate from platform.recommend (the platform's clock is the
 *      minute's start); an impression at t + 0.5 s when the slate is not empty;
 *   2. the reader reads for the page's dwell; a `read` at t + dwell when it reaches readMinSeconds;
 *      a non-subscriber may subscribe right after a read (propensity rising with reads);
 *   3. a widget click: each shown slot i is clicked with probability baseRate × positionBias[i] ×
 *      relevance^wr × freshness^wf × quality^wq (× the factor of any drift under way on the
 *      article's section), the first such slot (top down) being the click (with clicks "noise":
 *      probability noiseRate for every slot, the click uniform among the slots drawn); a
 *      substituting click (share `substitution`) is only made by a reader who would have read on
 *      anyway; the click at t + dwell + 0.5 s opens the clicked article at t + dwell + 1 s;
 *   4. otherwise the reader reads on organically (continueProbability) after a pause, or leaves.
 * Every page draws the same uniforms in the same order from its own stream (seed, reader, session,
 * page), whatever the slate: the same reader behaves identically under every arm up to the
 * consequences of the slates shown (common random numbers).
 *
 * Platform calls: setTime moves to each simulated-minute boundary that has something to do; at a
 * boundary the previous minute's events are sent (sorted by time), then articles whose publication
 * time has come are published, then, at a day's end, onDayEnd runs. Events are received at the
 * boundary after their timestamp; the last minute's at the run's end.
 *
 * @example
 * const tally = await runWorld(parseWorld(json), platform, { seed: 7, readers: 2000, days: 7 });
 * truthOf(tally) // { ctr: 0.021, articles_read: 3.4, ... }
 */
import type { Article } from '../catalog/article.js';
import { METRICS } from '../analysis/metrics.js';
import { seededRng, type Rng } from '../kernel/rng.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, parseIsoWithZone, toIso } from '../kernel/time.js';
import {
  generateArticles,
  hourlyThinning,
  nextArrival,
  normal,
  pickCumulative,
  readerTraits,
  rebaseCatalog,
  STREAM,
  streamSeed,
  topicsOf,
  type ReaderTraits,
  type SimArticle,
  type Topics,
} from './newsroom.js';
import type { SimPlatform, SimSlate, WireEvent } from './platform.js';
import { syntheticId } from './synthetic.js';
import type { WorldSpec } from './world.js';

export interface WorldRunOptions {
  /** Seeds every stream of the run (any safe integer). */
  seed: number;
  /** Readers simulated (readers 0..n−1); default world.readers.count. */
  readers?: number;
  /** Simulated days; default world.days. */
  days?: number;
  /** Start of the simulated clock, epoch ms; default Date.parse(world.startDate). */
  startTs?: number;
  /** A real catalog, dates rebased onto the simulated clock; generated articles when absent. */
  catalog?: readonly Article[];
  /**
   * Exposures count from this time on (epoch ms; default startTs): a reader's first exposure is the
   * first widget request at or after it, as when an experiment starts after a warm-up.
   */
  measureFrom?: number;
  /**
   * Prefix of the generated articles' ids (default `sim-a`): a second run on the same database (the
   * demo's live traffic after a restart) takes another, so its articles never overwrite the first's.
   */
  articleIdPrefix?: string;
  /** Called at each simulated day's end (day 1 first), after that minute's events are sent. */
  onDayEnd?: (day: number, now: number) => Promise<void>;
  /** Share of simulated time done, [0, 1], about every simulated hour. */
  onProgress?: (share: number) => void;
  /**
   * The world's truth about each widget slate served: the probability that this reader, on this
   * page, would click article `articleId` at 0-based `slot` if it were the first slot to fire
   * (step 3 below: slots fire independently, the first one top down is the click), and the
   * probability that a fired click is then made (substitution, last page). A slate b's expected
   * clicks are (1 − Π_i (1 − clickProbability(b_i, i))) × emitProbability: off-policy
   * evaluation's estimand on the logged requests (scripts/ope-coverage.ts). Draws nothing.
   */
  onSlate?: (s: { recommId: string; clickProbability(articleId: string, slot: number): number; emitProbability: number }) => void;
}

/** What one reader did from the first exposure on, counted as the platform's report counts it. */
export interface ReaderTally {
  readerId: string;
  /**
   * The platform's clock at the reader's first widget request (the exposure; the slate may be
   * empty, as the status-quo arm's is), or null when the reader never asked for one.
   */
  exposedTs: number | null;
  reads: number;
  clicks: number;
  impressions: number;
  pageViews: number;
  /** Distinct sessions with a counted event. */
  sessions: number;
  dwellMs: number;
  subscribed: boolean;
  /** Subscription revenue, in world.revenue.currency. */
  revenue: number;
  /** Display-ad revenue of the counted page views (RPM / 1000 each); the platform never sees it. */
  adRevenue: number;
}

export interface Tally {
  world: string;
  seed: number;
  startTs: number;
  endTs: number;
  currency: string;
  /** Every simulated reader, in index order (exposed or not). */
  readers: ReaderTally[];
  /** Events sent to the platform, by type. */
  events: Record<WireEvent['type'], number>;
  /** Articles published to the platform. */
  articles: number;
  /** Widget requests made. */
  recommendations: number;
}

const SOURCE_REFERRER = ['https://news.example/', 'https://social.example/', 'https://search.example/'];
const WIDGET = 4;
const ORGANIC = 3;
const IMPRESSION_AFTER_MS = 500;
const CLICK_AFTER_MS = 500;
const CLICK_OPENS_AFTER_MS = 1000;
const SUBSCRIBE_AFTER_MS = 1000;

interface Step {
  t: number;
  r: number;
  s: number;
  /** Page index in the session; −1 for an arrival. */
  p: number;
  /** Article index (pages). */
  a: number;
  /** 0 home, 1 social, 2 search (landing), 3 organic, 4 widget click. */
  src: number;
  recommId: string | null;
}

/** `toIso(ms)` for ms ≥ 0, with the day's "YYYY-MM-DDT" cached (a run formats a million timestamps). */
function isoFormatter(): (ms: number) => string {
  let day = -1;
  let prefix = '';
  const pad2 = (x: number) => (x < 10 ? `0${x}` : `${x}`);
  return (ms) => {
    const d = Math.floor(ms / DAY_MS);
    if (d !== day) {
      day = d;
      prefix = toIso(d * DAY_MS).slice(0, 11);
    }
    const rest = ms - d * DAY_MS;
    const h = Math.floor(rest / HOUR_MS);
    const m = Math.floor((rest % HOUR_MS) / MINUTE_MS);
    const sec = Math.floor((rest % MINUTE_MS) / 1000);
    const milli = rest % 1000;
    return `${prefix}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  };
}

const before = (x: Step, y: Step) => x.t - y.t || x.r - y.r || x.s - y.s || x.p - y.p;

class StepHeap {
  private readonly xs: Step[] = [];
  get size(): number {
    return this.xs.length;
  }
  peek(): Step | undefined {
    return this.xs[0];
  }
  push(x: Step): void {
    const xs = this.xs;
    let i = xs.push(x) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(xs[parent]!, x) <= 0) break;
      xs[i] = xs[parent]!;
      i = parent;
    }
    xs[i] = x;
  }
  pop(): Step | undefined {
    const xs = this.xs;
    const top = xs[0];
    const last = xs.pop();
    if (xs.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= xs.length) break;
        const c = l + 1 < xs.length && before(xs[l + 1]!, xs[l]!) < 0 ? l + 1 : l;
        if (before(xs[c]!, last) >= 0) break;
        xs[i] = xs[c]!;
        i = c;
      }
      xs[i] = last;
    }
    return top;
  }
}

/** An event waiting for its minute's boundary. */
interface Pending {
  ts: number;
  r: number;
  s: number;
  p: number;
  n: number;
  ev: WireEvent;
}

const pendingOrder = (x: Pending, y: Pending) => x.ts - y.ts || x.r - y.r || x.s - y.s || x.p - y.p || x.n - y.n;

interface ReaderState {
  id: string;
  traits: ReaderTraits;
  arrivals: Rng;
  favourite: Set<number>;
  reads: number;
  subscribed: boolean;
  tally: ReaderTally;
  sessions: Set<number> | null;
  /** Events received at `heldRecv` before the reader's exposure was known (they count if it is at that time). */
  heldRecv: number;
  held: Pending[];
}

/** The articles in publication order, with per-topic lists and how many are published so far. */
class Shelf {
  readonly byId = new Map<string, number>();
  readonly byTopic: number[][];
  readonly topicPublished: number[];
  published = 0;

  constructor(
    readonly arts: readonly SimArticle[],
    topics: number,
  ) {
    this.byTopic = Array.from({ length: topics }, () => []);
    this.topicPublished = new Array<number>(topics).fill(0);
    arts.forEach((x, i) => {
      this.byId.set(x.article.id, i);
      this.byTopic[x.topic]!.push(i);
    });
  }

  /** Marks the articles published by `now` and returns them. */
  publishUntil(now: number): Article[] {
    const out: Article[] = [];
    while (this.published < this.arts.length && this.arts[this.published]!.article.publishedAt <= now) {
      const x = this.arts[this.published++]!;
      this.topicPublished[x.topic]!++;
      out.push(x.article);
    }
    return out;
  }

  nextPublication(): number {
    return this.published < this.arts.length ? this.arts[this.published]!.article.publishedAt : Infinity;
  }

  /** Position in `list` (of `count` published) of the newest article published by `target`; 0 when none is. */
  static byAge(arts: readonly SimArticle[], list: readonly number[] | null, count: number, target: number): number {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (arts[list ? list[mid]! : mid]!.article.publishedAt <= target) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }
}

/**
 * Simulates `world` against `platform` and tallies each reader from the first exposure on. Resolves
 * after the last minute's events are sent and the last onDayEnd has run.
 */
export async function runWorld(world: WorldSpec, platform: SimPlatform, opts: WorldRunOptions): Promise<Tally> {
  const seed = opts.seed;
  const nReaders = opts.readers ?? world.readers.count;
  const days = opts.days ?? world.days;
  const startTs = opts.startTs ?? parseIsoWithZone(world.startDate)!;
  const endTs = startTs + days * DAY_MS;
  const duration = endTs - startTs;
  const measureFrom = opts.measureFrom ?? startTs;
  const topics: Topics = topicsOf(world);
  const from = startTs - world.articles.backlogHours * HOUR_MS;
  const arts = opts.catalog
    ? rebaseCatalog(world, topics, seed, opts.catalog, from, endTs)
    : generateArticles(world, topics, seed, from, endTs, opts.articleIdPrefix);
  const shelf = new Shelf(arts, topics.share.length);
  const thin = hourlyThinning(world);
  const { clickModel: cm, sessions: ss, revenue: rev } = world;
  const k = world.placement.k;
  const placement = world.placement.name;
  const c = world.readers.interestConcentration;
  const halfLife = world.articles.freshnessHalfLifeHours * HOUR_MS;
  const recency = [ss.sources.home.recencyHours, ss.sources.social.recencyHours, ss.sources.search.recencyHours].map((h) => h * HOUR_MS);
  const evPrefix = `sim${seed.toString(36)}-`;
  const noise = world.clicks === 'noise';
  // Injected drifts: from the start of day `fromDay` on, clicks on the section's articles × factor.
  // The section is the world's (topics.sectionOf), so a rebased catalog's articles drift by the section they were mapped to.
  const sectionIndex = new Map(world.articles.sections.map((sec, i) => [sec.name, i]));
  const drifts = world.drift.map((d) => ({
    from: startTs + (d.fromDay - 1) * DAY_MS,
    section: sectionIndex.get(d.section)!,
    factor: d.clickFactor,
  }));
  const driftFactor = (x: SimArticle, t: number): number => {
    let f = 1;
    for (const d of drifts) if (t >= d.from && topics.sectionOf[x.topic] === d.section) f *= d.factor;
    return f;
  };
  const iso = isoFormatter();

  const tally: Tally = {
    world: world.name,
    seed,
    startTs,
    endTs,
    currency: rev.currency,
    readers: [],
    events: { page_view: 0, impression: 0, click: 0, read: 0, subscribe: 0 },
    articles: 0,
    recommendations: 0,
  };

  // Readers and their first arrivals.
  const heap = new StepHeap();
  const readers: ReaderState[] = [];
  for (let r = 0; r < nReaders; r++) {
    const id = syntheticId(r, { prefix: 'sim-r', width: 6 });
    const traits = readerTraits(world, topics, seed, r, startTs, duration);
    const arrivals = seededRng(streamSeed(seed, STREAM.arrivals, r));
    const rt: ReaderTally = {
      readerId: id,
      exposedTs: null,
      reads: 0,
      clicks: 0,
      impressions: 0,
      pageViews: 0,
      sessions: 0,
      dwellMs: 0,
      subscribed: false,
      revenue: 0,
      adRevenue: 0,
    };
    readers.push({
      id,
      traits,
      arrivals,
      favourite: new Set(traits.favourites),
      reads: 0,
      subscribed: false,
      tally: rt,
      sessions: null,
      heldRecv: -1,
      held: [],
    });
    tally.readers.push(rt);
    const t = traits.newcomer ? traits.firstTs : nextArrival(arrivals, traits.firstTs, traits.ratePerMs, thin);
    if (t < endTs) heap.push({ t, r, s: 0, p: -1, a: -1, src: 0, recommId: null });
  }

  // ---- the clock, the event buffer and the tally

  const buckets = new Map<number, Pending[]>();
  let clock = startTs;
  let lastSet = -Infinity;
  let lastProgressHour = -1;
  const setTime = async (now: number) => {
    if (now > lastSet) {
      lastSet = now;
      await platform.setTime(now);
    }
  };

  const count = (rd: ReaderState, x: Pending) => {
    const t = rd.tally;
    const ev = x.ev;
    switch (ev.type) {
      case 'page_view':
        t.pageViews++;
        t.adRevenue += rev.adRpm / 1000;
        break;
      case 'impression':
        t.impressions++;
        break;
      case 'click':
        t.clicks++;
        break;
      case 'read':
        t.reads++;
        t.dwellMs += ev.dwellMs as number;
        break;
      case 'subscribe':
        t.subscribed = true;
        t.revenue += ev.revenue as number;
        break;
    }
    const sessions = (rd.sessions ??= new Set());
    if (!sessions.has(x.s)) {
      sessions.add(x.s);
      t.sessions++;
    }
  };

  /** Sends minute `m`'s events at `recv` and counts those the report would count. */
  const flush = async (m: number, recv: number) => {
    const bucket = buckets.get(m);
    if (!bucket) return;
    buckets.delete(m);
    bucket.sort(pendingOrder);
    const events: WireEvent[] = new Array(bucket.length);
    for (let i = 0; i < bucket.length; i++) {
      const x = bucket[i]!;
      events[i] = x.ev;
      tally.events[x.ev.type]++;
      const rd = readers[x.r]!;
      const exposed = rd.tally.exposedTs;
      if (exposed !== null && recv >= exposed) count(rd, x);
      else if (exposed === null) {
        if (rd.heldRecv !== recv) {
          rd.heldRecv = recv;
          rd.held = [];
        }
        rd.held.push(x);
      }
    }
    await platform.send(events);
  };

  /** Moves the clock to `target` (a minute boundary), minute by minute, doing each boundary's work. */
  const advanceTo = async (target: number) => {
    while (clock < target) {
      const next = clock + MINUTE_MS;
      const m = (clock - startTs) / MINUTE_MS;
      const dayEnd = (next - startTs) % DAY_MS === 0;
      if (buckets.has(m) || shelf.nextPublication() <= next || dayEnd || next === target) {
        await setTime(next);
        await flush(m, next);
        const fresh = shelf.publishUntil(next);
        if (fresh.length > 0) {
          tally.articles += fresh.length;
          await platform.publish(fresh);
        }
        if (dayEnd && opts.onDayEnd) await opts.onDayEnd((next - startTs) / DAY_MS, next);
      }
      clock = next;
      const hour = Math.floor((clock - startTs) / HOUR_MS);
      if (opts.onProgress && hour !== lastProgressHour) {
        lastProgressHour = hour;
        opts.onProgress((clock - startTs) / duration);
      }
    }
  };

  const emit = (x: Pending) => {
    if (x.ts >= endTs) return;
    const m = Math.floor((x.ts - startTs) / MINUTE_MS);
    const b = buckets.get(m);
    if (b) b.push(x);
    else buckets.set(m, [x]);
  };

  // ---- readers' choices

  const relevance = (rd: ReaderState, a: SimArticle) => (rd.favourite.has(a.topic) ? 1 : 1 - c);

  /**
   * An article for a reader: a topic (a favourite with probability `c`, else by popularity; by
   * popularity only from social), then the newest of the topic published by now − age, the age
   * exponential with the source's mean; social takes the best of three neighbours (what spreads).
   * Never `avoid` (the page the reader is on) when another exists. Draws 4 uniforms; −1 if nothing is published.
   */
  const choose = (rd: ReaderState, src: number, rng: Rng, now: number, avoid: number): number => {
    const u1 = rng.next();
    const u2 = rng.next();
    const u3 = rng.next();
    const u4 = rng.next();
    if (shelf.published === 0) return -1;
    const favs = rd.traits.favourites;
    const topic = src !== 1 && u1 < c && favs.length > 0 ? favs[Math.floor(u2 * favs.length)]! : pickCumulative(topics.cum, u3);
    const age = -Math.log(1 - u4) * recency[src === ORGANIC || src === WIDGET ? 0 : src]!;
    let list: readonly number[] | null = shelf.byTopic[topic]!;
    let n = shelf.topicPublished[topic]!;
    if (n === 0) {
      list = null;
      n = shelf.published;
    }
    const at = (i: number) => (list ? list[i]! : i);
    let i = Shelf.byAge(arts, list, n, now - age);
    if (src === 1) {
      for (let j = i - 1; j >= Math.max(0, i - 2); j--) if (arts[at(j)]!.quality > arts[at(i)]!.quality) i = j;
    }
    if (at(i) === avoid && n > 1) i = i > 0 ? i - 1 : i + 1;
    return at(i);
  };

  // ---- steps

  const arrive = async (step: Step) => {
    const rd = readers[step.r]!;
    const rng = seededRng(streamSeed(seed, STREAM.page, step.r, step.s, 0xffff));
    const uSource = rng.next();
    const src = pickCumulative(rd.traits.sourceCum, uSource);
    const a = choose(rd, src, rng, clock, -1);
    // The reader's next arrival, from the reader's own stream (independent of this session).
    const t = nextArrival(rd.arrivals, step.t, rd.traits.ratePerMs, thin);
    if (t < endTs) heap.push({ t, r: step.r, s: step.s + 1, p: -1, a: -1, src: 0, recommId: null });
    if (a >= 0) await page({ t: step.t, r: step.r, s: step.s, p: 0, a, src, recommId: null });
  };

  const page = async (step: Step) => {
    const { t, r, s, p } = step;
    const rd = readers[r]!;
    const art = arts[step.a]!;
    const articleId = art.article.id;
    const rng = seededRng(streamSeed(seed, STREAM.page, r, s, p));
    const sessionId = `${rd.id}-s${s}`;
    const idBase = `${evPrefix}${r}-${s}-${p}-`;
    const readerId = rd.id;

    // 1. The page view and the widget's slate.
    const pv: WireEvent = { type: 'page_view', schemaVersion: 1, eventId: `${idBase}0`, readerId, sessionId, timestamp: iso(t), articleId };
    if (p === 0) pv.referrer = SOURCE_REFERRER[step.src]!;
    emit({ ts: t, r, s, p, n: 0, ev: pv });
    tally.recommendations++;
    const slate: SimSlate = await platform.recommend({ placement, readerId: rd.id, sessionId, articleId, k });
    if (rd.tally.exposedTs === null && clock >= measureFrom) {
      rd.tally.exposedTs = clock;
      if (rd.heldRecv >= clock) for (const x of rd.held) count(rd, x);
      rd.held = [];
    }
    if (opts.onSlate && slate.recommId) {
      const at = t;
      opts.onSlate({
        recommId: slate.recommId,
        clickProbability: (id, slot) => {
          const ai = shelf.byId.get(id);
          if (ai === undefined || slot >= k) return 0;
          const x = arts[ai]!;
          const drift = drifts.length > 0 ? driftFactor(x, at) : 1;
          if (noise) return cm.noiseRate * drift;
          const fresh = 2 ** (-Math.max(0, at - x.article.publishedAt) / halfLife);
          return Math.min(
            1,
            cm.baseRate *
              cm.positionBias[slot]! *
              relevance(rd, x) ** cm.relevanceWeight *
              fresh ** cm.freshnessWeight *
              x.quality ** cm.qualityWeight *
              drift,
          );
        },
        emitProbability: p + 1 < ss.maxPages ? 1 - cm.substitution * (1 - ss.continueProbability) : 0,
      });
    }
    const shown = slate.recommId ? slate.items.slice(0, k) : [];
    if (shown.length > 0) {
      const items = shown.map((id, i) => {
        const team = slate.teams?.[i];
        return team === undefined || team === null ? { articleId: id, position: i + 1 } : { articleId: id, position: i + 1, team };
      });
      const imp: WireEvent = {
        type: 'impression',
        schemaVersion: 1,
        eventId: `${idBase}1`,
        readerId,
        sessionId,
        timestamp: iso(t + IMPRESSION_AFTER_MS),
        recommId: slate.recommId,
        placement,
        articleId,
        items,
      };
      if (slate.experiment) {
        imp.experiment = slate.experiment.id;
        imp.phase = slate.experiment.phase;
        imp.arm = slate.experiment.arm;
      }
      emit({ ts: t + IMPRESSION_AFTER_MS, r, s, p, n: 1, ev: imp });
    }

    // The page's uniforms, always drawn in this order (common random numbers).
    const rel = relevance(rd, art);
    const z = normal(rng);
    const uScroll = rng.next();
    const uGap = rng.next();
    const uSubstitute = rng.next();
    const uContinue = rng.next();
    const next = choose(rd, ORGANIC, rng, clock, step.a);
    const uSubscribe = rng.next();
    // 2. Reading.
    const dwellS = Math.min(
      ss.dwell.maxSeconds,
      ss.dwell.medianSeconds * Math.exp(ss.dwell.sigma * z) * (0.5 + 0.5 * rel) ** ss.dwell.relevanceElasticity,
    );
    const dwellMs = Math.round(dwellS * 1000);
    const end = t + dwellMs;
    if (dwellS >= ss.readMinSeconds) {
      const scroll = Math.round(100 * (1 - 2 ** (-dwellS / ss.scroll.halfDepthSeconds)) * (0.8 + 0.2 * uScroll)) / 100;
      const read: WireEvent = step.recommId
        ? {
            type: 'read',
            schemaVersion: 1,
            eventId: `${idBase}2`,
            readerId,
            sessionId,
            timestamp: iso(end),
            articleId,
            dwellMs,
            scroll,
            recommId: step.recommId,
          }
        : { type: 'read', schemaVersion: 1, eventId: `${idBase}2`, readerId, sessionId, timestamp: iso(end), articleId, dwellMs, scroll };
      emit({ ts: end, r, s, p, n: 2, ev: read });
      const propensity = Math.min(rev.maxPropensity, rev.basePropensity + rev.propensityPerRead * rd.reads);
      rd.reads++;
      if (!rd.subscribed && uSubscribe < propensity) {
        rd.subscribed = true;
        const sub: WireEvent = {
          type: 'subscribe',
          schemaVersion: 1,
          eventId: `${idBase}3`,
          readerId,
          sessionId,
          timestamp: iso(end + SUBSCRIBE_AFTER_MS),
          plan: rev.subscription.plan,
          revenue: rev.subscription.price,
          currency: rev.currency,
          articleId,
        };
        emit({ ts: end + SUBSCRIBE_AFTER_MS, r, s, p, n: 3, ev: sub });
      }
    }

    // 3. A widget click: one uniform per slot, drawn whatever was shown.
    const organic = uContinue < ss.continueProbability;
    let clicked = -1;
    if (noise) {
      // Pure noise: every shown slot fires with the same probability; of the slots fired, the one
      // with the smallest u / prob is the click (uniform among them, the u's being i.i.d.).
      let best = Infinity;
      for (let i = 0; i < k; i++) {
        const u = rng.next();
        if (i >= shown.length) continue;
        const ai = shelf.byId.get(shown[i]!);
        if (ai === undefined) continue;
        const prob = cm.noiseRate * (drifts.length > 0 ? driftFactor(arts[ai]!, t) : 1);
        if (u < prob && u / prob < best) [clicked, best] = [i, u / prob];
      }
    } else {
      for (let i = 0; i < k; i++) {
        const u = rng.next();
        if (clicked >= 0 || i >= shown.length) continue;
        const ai = shelf.byId.get(shown[i]!);
        if (ai === undefined) continue;
        const x = arts[ai]!;
        const fresh = 2 ** (-Math.max(0, t - x.article.publishedAt) / halfLife);
        let prob =
          cm.baseRate *
          cm.positionBias[i]! *
          relevance(rd, x) ** cm.relevanceWeight *
          fresh ** cm.freshnessWeight *
          x.quality ** cm.qualityWeight;
        if (drifts.length > 0) prob *= driftFactor(x, t);
        if (u < prob) clicked = i;
      }
    }
    const canGoOn = p + 1 < ss.maxPages;
    if (clicked >= 0 && canGoOn && (uSubstitute >= cm.substitution || organic)) {
      const click: WireEvent = {
        type: 'click',
        schemaVersion: 1,
        eventId: `${idBase}4`,
        readerId,
        sessionId,
        timestamp: iso(end + CLICK_AFTER_MS),
        recommId: slate.recommId,
        articleId: shown[clicked]!,
        position: clicked + 1,
        placement,
      };
      emit({ ts: end + CLICK_AFTER_MS, r, s, p, n: 4, ev: click });
      heap.push({
        t: end + CLICK_OPENS_AFTER_MS,
        r,
        s,
        p: p + 1,
        a: shelf.byId.get(shown[clicked]!)!,
        src: WIDGET,
        recommId: slate.recommId,
      });
      return;
    }
    // 4. Reading on organically, or leaving.
    if (organic && canGoOn && next >= 0) {
      const gap = (ss.gapSeconds.min + uGap * (ss.gapSeconds.max - ss.gapSeconds.min)) * 1000;
      heap.push({ t: end + Math.round(gap), r, s, p: p + 1, a: next, src: ORGANIC, recommId: null });
    }
  };

  // ---- the loop

  await setTime(startTs);
  const initial = shelf.publishUntil(startTs);
  if (initial.length > 0) {
    tally.articles += initial.length;
    await platform.publish(initial);
  }
  for (let step = heap.pop(); step && step.t < endTs; step = heap.pop()) {
    await advanceTo(startTs + Math.floor((step.t - startTs) / MINUTE_MS) * MINUTE_MS);
    if (step.p < 0) await arrive(step);
    else await page(step);
  }
  await advanceTo(endTs);
  opts.onProgress?.(1);
  return tally;
}

/**
 * The true value of each metric of METRICS in a run (plus `ad_revenue_per_reader`), over the
 * exposed readers, defined as the report defines it: ctr Σclicks / Σimpressions, articles_read mean
 * reads, pages_per_session Σ page views / Σ sessions, dwell_per_read Σ dwell / Σ reads, conversion
 * the share subscribed, revenue_per_reader and ad_revenue_per_reader means. NaN where undefined (no
 * exposed reader, or a zero denominator).
 */
export function truthOf(tally: Tally): Record<string, number> {
  let n = 0;
  const sum = { impressions: 0, clicks: 0, reads: 0, dwellMs: 0, pageViews: 0, sessions: 0, subscribed: 0, revenue: 0, adRevenue: 0 };
  for (const t of tally.readers) {
    if (t.exposedTs === null) continue;
    n++;
    sum.impressions += t.impressions;
    sum.clicks += t.clicks;
    sum.reads += t.reads;
    sum.dwellMs += t.dwellMs;
    sum.pageViews += t.pageViews;
    sum.sessions += t.sessions;
    sum.subscribed += t.subscribed ? 1 : 0;
    sum.revenue += t.revenue;
    sum.adRevenue += t.adRevenue;
  }
  const out: Record<string, number> = {};
  for (const m of METRICS) {
    const num = m.numerator === 'subscribed' ? sum.subscribed : sum[m.numerator];
    const den = m.kind === 'ratio' ? sum[m.denominator! as keyof typeof sum] : n;
    out[m.id] = den > 0 ? num / den : NaN;
  }
  out.ad_revenue_per_reader = n > 0 ? sum.adRevenue / n : NaN;
  return out;
}
