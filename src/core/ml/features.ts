/**
 * Candidates and features of the learned ranker (issue 17), computed by one class, `FeatureState`,
 * wherever they are needed: training replays stored events through it (./examples.ts), serving
 * keeps one up to date beside the FreshState (kinds/model.ts) and the offline lab replays its logs
 * through it (./lab-scorer.ts). So a feature means the same thing in all three.
 *
 * Causal by construction: the state holds only what it has observed, and a caller observes an
 * impression (and its clicks) only after computing its features. Every feature that needs text,
 * a section or tags falls back to a fixed neutral value when the catalog lacks them (ID-only logs).
 * Tested in test/core/ml/features.test.ts.
 */
import type { Article } from '../catalog/article.js';
import { PairCounts } from '../kernel/pair-counts.js';
import { RecentMap } from '../kernel/recent-map.js';
import type { DecayedRow } from '../recommend/decay.js';
import { CoVisitation, Popularity, type CoVisitationParams, type Signal } from '../recommend/signals.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The names of the features, in column order; `version` moves whenever a name, its order or its meaning changes. */
export interface FeatureSpec {
  version: number;
  names: readonly string[];
}

export const FEATURE_NAMES = [
  'co_ctx_jaccard', // co-read Jaccard C/(N_a+N_b−C) of the candidate with the current article
  'co_ctx_count', // ln(1 + decayed co-read count) with the current article
  'co_hist_max', // largest co-read Jaccard with one of the reader's last HISTORY_SEEDS reads
  'co_hist_sum', // sum of those Jaccards
  'text_ctx', // TF-IDF cosine of title+lead with the current article (0 without text)
  'text_hist_max', // largest TF-IDF cosine with one of the reader's last reads (0 without text)
  'text_known', // 1 when the candidate and the current article or a recent read both have text
  'same_section', // 1 same section as the current article, 0 another, −1 unknown
  'reader_section_share', // share of the reader's reads in the candidate's section (Laplace), −1 unknown
  'reader_topic_share', // largest share of the reader's tagged reads carrying one of the candidate's tags, −1 unknown
  'age_hours', // hours since publication, −1 when the catalog does not know the article
  'seen_hours', // hours since the platform first saw the article in any event (0 never)
  'pop_short', // ln(1 + reads and clicks decayed with a 1 h half-life)
  'pop_long', // ln(1 + the same with a 24 h half-life)
  'pop_rank', // ln(1 + rank) among all articles by pop_long (refreshed each minute); articles without reads rank last
  'pop_share', // the candidate's share of all decayed reads (24 h)
  'ctr', // decayed clicks per impression, Beta prior with the global CTR as mean and PRIOR_IMPRESSIONS as strength
  'impressions', // ln(1 + decayed impressions)
  'clicks', // ln(1 + decayed clicks)
  'reader_shown', // times this reader was shown the candidate without clicking it (capped at 20)
  'session_depth', // reads in the reader's current session (gaps under SESSION_GAP)
  'reader_reads', // ln(1 + reads the state has seen from this reader)
  'paywall', // 1 paywalled, 0 free or unknown
  'has_context', // 1 when the request is on an article page
  'newer_than_ctx_hours', // candidate's publication − the current article's, hours (0 unknown)
] as const;

// v2: TF-IDF fitted on the catalog in publication order (v1 fitted it in the order articles were first looked at).
export const FEATURE_SPEC: FeatureSpec = Object.freeze({ version: 2, names: FEATURE_NAMES });

/** What the features are computed with; stored with every model, so serving computes them as training did. */
export interface FeatureParams {
  coRead: CoVisitationParams;
  popShortHalfLifeMs: number;
  popLongHalfLifeMs: number;
  ctrHalfLifeMs: number;
  /** Strength of the CTR's Beta prior, in impressions. */
  priorImpressions: number;
  /** A reader's reads further apart than this start a new session. */
  sessionGapMs: number;
}

export const DEFAULT_FEATURE_PARAMS: FeatureParams = Object.freeze({
  // The `co-read` kind's defaults.
  coRead: Object.freeze({ halfLifeMs: 24 * HOUR, windowMs: 6 * HOUR, lookback: 10, maxNeighbours: 300 }),
  popShortHalfLifeMs: HOUR,
  popLongHalfLifeMs: 24 * HOUR,
  ctrHalfLifeMs: 24 * HOUR,
  priorImpressions: 20,
  sessionGapMs: 30 * MINUTE,
});

/** The catalog as the feature state reads it (CatalogIndex has it). */
export interface ArticleLookup {
  get(id: string): Article | undefined;
  /** Newest publication first. */
  latest(): readonly Article[];
  latestInSection(section: string): readonly Article[];
  /** Moves on every change (CatalogIndex.version); without it, lists filtered by a horizon are not kept. */
  readonly version?: number;
  /** Newest first, only articles published at or after `horizon` or carrying their own expiry (CatalogIndex.recent). */
  recent?(horizon: number, section?: string | null): Iterable<Article>;
}

/** One request or logged impression: who, on which article page, when (epoch ms). */
export interface FeatureQuery {
  readerId: string | null;
  articleId: string | null;
  ts: number;
  /** The reader's reads newest first when the caller knows them better (a log's history); default: what the state saw. */
  history?: readonly string[];
}

// ---- text: a simple tokenizer and TF-IDF

/**
 * A deliberately simple tokenizer (no dependency): NFKC, lower case, runs of Unicode letters and
 * digits, tokens of 2 to 40 characters, minus a short list of English function words. Good enough
 * for headline similarity; languages without spaces come out as whole runs.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text
    .normalize('NFKC')
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]+/gu)) {
    const t = m[0];
    if (t.length >= 2 && t.length <= 40 && !STOPWORDS.has(t)) out.push(t);
  }
  return out;
}

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by for from has have he her his in into is it its of on or our she ' +
    'so than that the their them there they this to was we were what when which who will with you after ' +
    'over new says said not no up out about more'
  ).split(' '),
);

/**
 * A unit-length sparse TF-IDF vector: its terms ordered by (hash, string) and their weights. The
 * order depends on the terms only, so a cosine sums its products in the same order in every state.
 */
interface TextVector {
  hashes: Int32Array;
  terms: readonly string[];
  weights: Float64Array;
}

/** An article with text as the index holds it: its distinct terms in vector order, their counts and document lists. */
interface TextDoc {
  publishedAt: number;
  title: string;
  lead: string | null;
  hashes: Int32Array;
  terms: string[];
  tf: Float64Array;
  /** Per term, the publication times of the catalog's documents carrying it, ascending (shared by term). */
  dates: number[][];
}

/** FNV-1a, 32 bits, over UTF-16 code units: orders a vector's terms the same way in every state. */
function termHash(t: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** How many of the ascending `xs` are at most `x`. */
function countAtMost(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The cosines of one article's vector with others, as far as asked (a row of TextIndex's
 * similarity cache): an open-addressing table keyed by the caller's dense number of the other
 * article (FeatureState's ArticleStats.idx), linear probing; key k is stored as k + 1 (0 = empty).
 */
interface SimilarityRow {
  v: TextVector;
  keys: Int32Array;
  sims: Float64Array;
  size: number;
}
/** Articles whose similarity rows are kept (RecentMap), and most cosines one row keeps (then it starts again). */
const SIMILARITY_ROWS = 1000;
const SIMILARITY_ROW_MAX = 1000;
/** A row's first table (slots; a power of two), doubled while more than half full. */
const SIMILARITY_ROW_START = 64;

/** The slot of key k in a table of `mask + 1` slots: Fibonacci hashing, then linear probing from there. */
const slotHash = (k: number, mask: number): number => (Math.imul(k, 0x9e3779b1) >>> 16) & mask;

/** Catalog changes of at most this many articles are inserted one by one; more, and the lists are sorted again. */
const BULK = 64;

/**
 * TF-IDF over title and lead, fitted on the catalog in publication order: the vector of article a
 * uses the documents (catalog articles with text) published at or before a, so it depends only on
 * the catalog as it stands, never on which articles earlier requests or replays looked at
 * (training and serving compute the same vector for the same catalog; issue 17):
 *
 *   N = documents published ≤ a.publishedAt, df(t) = those of them carrying t,
 *   idf(t) = ln((1 + N) / (1 + df(t))) + 1, w(t) = tf(t) · idf(t) (tf = raw count), then w / |w|.
 *
 * The catalog is followed by its `version` (or the identity of `latest()` when it has none): on a
 * change, the articles added, removed or whose text or date changed are found by merging the old
 * and new `latest()` lists, and the kept vectors of articles published at or after the earliest
 * change are dropped (they are recomputed when next asked for). Articles without text get none.
 * Tested in test/core/ml/features.test.ts ("text vectors depend on the catalog only").
 */
class TextIndex {
  private readonly docs = new Map<string, TextDoc>();
  /** Per term, the publication times of the documents carrying it, ascending. */
  private readonly termDates = new Map<string, number[]>();
  /** Publication times of every document, ascending. */
  private readonly allDates: number[] = [];
  private readonly vectors = new Map<string, TextVector | null>();
  /** Cosines by article pair: they depend on the catalog only, so they are kept until its text changes. */
  private rows = new RecentMap<string, SimilarityRow>(SIMILARITY_ROWS);
  private synced: readonly Article[] = [];
  private syncedVersion: number | undefined = undefined;
  private started = false;
  /** Moves whenever a sync changed the documents: whether an article has a vector holds while it stays. */
  epoch = 0;
  /** The latest publication time among the kept vectors (and kept nulls). */
  private newestKept = -Infinity;

  constructor(private readonly catalog: ArticleLookup) {}

  /** Follows the catalog; called before vectors are asked for. */
  sync(): void {
    const version = this.catalog.version;
    if (this.started && version !== undefined && version === this.syncedVersion) return;
    const next = this.catalog.latest();
    this.syncedVersion = version;
    this.started = true;
    const prev = this.synced;
    if (next === prev) return;
    this.synced = next;
    // Both lists are newest first, ties by id: one merge finds what left, came or changed.
    const gone: Article[] = [];
    const came: Article[] = [];
    let i = 0;
    let j = 0;
    while (i < prev.length || j < next.length) {
      const p = prev[i];
      const q = next[j];
      if (p === q) {
        i++;
        j++;
      } else if (p !== undefined && q !== undefined && p.id === q.id) {
        if (p.title !== q.title || p.lead !== q.lead || p.publishedAt !== q.publishedAt) {
          gone.push(p);
          came.push(q);
        }
        i++;
        j++;
      } else if (
        q === undefined ||
        (p !== undefined && (p.publishedAt > q.publishedAt || (p.publishedAt === q.publishedAt && p.id < q.id)))
      ) {
        gone.push(p!);
        i++;
      } else {
        came.push(q);
        j++;
      }
    }
    if (gone.length === 0 && came.length === 0) return;
    this.rows = new RecentMap(SIMILARITY_ROWS);
    this.epoch++;
    let earliest = Infinity;
    const drop = (id: string): void => {
      const doc = this.docs.get(id);
      if (doc === undefined) return;
      this.docs.delete(id);
      earliest = Math.min(earliest, doc.publishedAt);
      this.unlist(this.allDates, doc.publishedAt);
      doc.terms.forEach((t, k) => {
        const dates = doc.dates[k]!;
        this.unlist(dates, doc.publishedAt);
        if (dates.length === 0) this.termDates.delete(t);
      });
    };
    for (const a of gone) drop(a.id);
    const bulk = came.length > BULK;
    const touched = new Set<number[]>();
    for (const a of came) {
      drop(a.id); // only when the lists were not in the expected order
      earliest = Math.min(earliest, a.publishedAt);
      this.vectors.delete(a.id);
      const doc = this.document(a);
      if (doc === undefined) continue;
      this.docs.set(a.id, doc);
      this.enlist(this.allDates, a.publishedAt, bulk, touched);
      for (const dates of doc.dates) this.enlist(dates, a.publishedAt, bulk, touched);
    }
    for (const dates of touched) dates.sort((x, y) => x - y);
    // Arrivals are mostly the newest articles: then no kept vector is affected.
    if (earliest > this.newestKept) return;
    for (const id of this.vectors.keys()) {
      const a = this.catalog.get(id);
      if (a === undefined || a.publishedAt >= earliest) this.vectors.delete(id);
    }
    this.newestKept = -Infinity;
    for (const id of this.vectors.keys()) this.newestKept = Math.max(this.newestKept, this.catalog.get(id)!.publishedAt);
  }

  vector(id: string): TextVector | null {
    const known = this.vectors.get(id);
    if (known !== undefined) return known;
    const doc = this.docs.get(id);
    if (doc === undefined) {
      const a = this.catalog.get(id);
      if (a !== undefined) {
        this.vectors.set(id, null); // no text; unknown ones are not kept
        this.newestKept = Math.max(this.newestKept, a.publishedAt);
      }
      return null;
    }
    const at = doc.publishedAt;
    const n = countAtMost(this.allDates, at);
    const weights = new Float64Array(doc.terms.length);
    let norm = 0;
    for (let k = 0; k < weights.length; k++) {
      const w = doc.tf[k]! * (Math.log((1 + n) / (1 + countAtMost(doc.dates[k]!, at))) + 1);
      weights[k] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm);
    for (let k = 0; k < weights.length; k++) weights[k]! /= norm;
    const v = { hashes: doc.hashes, terms: doc.terms, weights };
    this.vectors.set(id, v);
    this.newestKept = Math.max(this.newestKept, at);
    return v;
  }

  /** The similarity row of `id` (null without text): pass it to `similarity`. */
  row(id: string): SimilarityRow | null {
    let row = this.rows.get(id);
    if (row !== undefined) return row;
    const v = this.vector(id);
    if (v === null) return null;
    row = { v, keys: new Int32Array(SIMILARITY_ROW_START), sims: new Float64Array(SIMILARITY_ROW_START), size: 0 };
    this.rows.set(id, row);
    return row;
  }

  /**
   * cosine(row's vector, vector of `id`), 0 when `id` has no text; the same double as computing it
   * (kept per pair). `key`: the caller's dense number of `id`, the same for the same id for the
   * life of this index.
   */
  similarity(row: SimilarityRow, id: string, key: number): number {
    let mask = row.keys.length - 1;
    let h = slotHash(key, mask);
    for (let k = row.keys[h]!; k !== 0; k = row.keys[h]!) {
      if (k === key + 1) return row.sims[h]!;
      h = (h + 1) & mask;
    }
    const w = this.vector(id);
    const s = w === null ? 0 : cosine(row.v, w);
    if (row.size >= SIMILARITY_ROW_MAX) {
      row.keys.fill(0);
      row.size = 0;
      h = slotHash(key, mask);
    } else if ((row.size + 1) * 2 > row.keys.length) {
      const { keys, sims } = row;
      row.keys = new Int32Array(keys.length * 2);
      row.sims = new Float64Array(keys.length * 2);
      mask = row.keys.length - 1;
      for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.place(row, keys[i]!, sims[i]!, mask);
      h = slotHash(key, mask);
      while (row.keys[h] !== 0) h = (h + 1) & mask;
    }
    row.keys[h] = key + 1;
    row.sims[h] = s;
    row.size++;
    return s;
  }

  private place(row: SimilarityRow, stored: number, sim: number, mask: number): void {
    let h = slotHash(stored - 1, mask);
    while (row.keys[h] !== 0) h = (h + 1) & mask;
    row.keys[h] = stored;
    row.sims[h] = sim;
  }

  /** The article's distinct terms in vector order with their counts; undefined without text. */
  private document(a: Article): TextDoc | undefined {
    const own = a.id.toLowerCase();
    const tf = new Map<string, number>();
    for (const t of tokenize(`${a.title} ${a.lead ?? ''}`)) if (t !== own) tf.set(t, (tf.get(t) ?? 0) + 1);
    if (tf.size === 0) return undefined;
    const terms = [...tf.keys()].map((t) => ({ t, h: termHash(t) }));
    terms.sort((x, y) => x.h - y.h || (x.t < y.t ? -1 : 1));
    const dates = terms.map(({ t }) => {
      let list = this.termDates.get(t);
      if (list === undefined) this.termDates.set(t, (list = []));
      return list;
    });
    return {
      publishedAt: a.publishedAt,
      title: a.title,
      lead: a.lead,
      hashes: Int32Array.from(terms, (x) => x.h),
      terms: terms.map((x) => x.t),
      tf: Float64Array.from(terms, (x) => tf.get(x.t)!),
      dates,
    };
  }

  private enlist(dates: number[], at: number, bulk: boolean, touched: Set<number[]>): void {
    if (bulk) {
      dates.push(at);
      touched.add(dates);
    } else dates.splice(countAtMost(dates, at), 0, at);
  }

  private unlist(dates: number[], at: number): void {
    const k = countAtMost(dates, at) - 1;
    if (k >= 0 && dates[k] === at) dates.splice(k, 1);
  }
}

/** Cosine of two unit vectors in (hash, term) order. */
function cosine(a: TextVector, b: TextVector): number {
  const ah = a.hashes;
  const bh = b.hashes;
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < ah.length && j < bh.length) {
    const x = ah[i]!;
    const y = bh[j]!;
    if (x < y) i++;
    else if (x > y) j++;
    else {
      const u = a.terms[i]!;
      const w = b.terms[j]!;
      if (u === w) s += a.weights[i++]! * b.weights[j++]!;
      else if (u < w) i++;
      else j++;
    }
  }
  return s;
}

// ---- the state

/**
 * What the state keeps per reader (bounded: RecentMap of maxReaders). Features, hence a hint: an
 * evicted reader is scored as a new one until they read again; nothing is read back. Numbers in
 * typed arrays rather than objects and Maps (PairCounts says why): at 44,500 readers the profiles
 * held 233 MB and 1.7 million objects of the server's heap as objects and Maps, which every full
 * collection walked (bench:serve --model, heap snapshots, AMD EPYC VM, 2026-12-07).
 */
interface ReaderProfile {
  /** Last reads, oldest first, each article once, at most RECENT_READS: (ArticleStats.idx, time) pairs, `readCount` of them. */
  reads: Float64Array;
  readCount: number;
  total: number;
  /** Reads per section (by FeatureState's section number). */
  sections: PairCounts;
  sectioned: number;
  /** Reads per tag (by FeatureState's tag number). */
  tags: PairCounts;
  tagged: number;
  /** Times shown without a click since, per article (by ArticleStats.idx), in order of first showing; at most SHOWN_KEPT articles (oldest dropped). */
  shown: PairCounts;
}

const RECENT_READS = 20;
/** Most entries one candidate source scans (of the catalog, newest first, or of the popularity ranking). */
const SCAN = 1000;
/** What candidates() knows of an id during a request. */
const REFUSED = 0;
const OPEN = 1;
const TAKEN = 2;
/** A seed's ranked co-read neighbours are reused this long (caller's time) while reads arrive. */
const NEIGHBOURS_MAX_AGE_MS = 1000;
/** Seeds whose ranked neighbours are kept (RecentMap). */
const NEIGHBOUR_SEEDS_KEPT = 20_000;
/** A list filtered by a horizon is filtered again once the horizon moved this far. */
const LIVE_MAX_AGE_MS = 60_000;
const HISTORY_SEEDS = 5;
/** The largest stamp the Int32Array scratch holds; past it a counter starts again from 1 on cleared marks. */
const STAMP_MAX = 0x7fffffff;
/** The stamp after `last` for the marks the arrays `marks` hold: last + 1, or 1 on cleared marks once last reached STAMP_MAX. */
function nextStamp(last: number, ...marks: Int32Array[]): number {
  if (last < STAMP_MAX) return last + 1;
  for (const m of marks) m.fill(0);
  return 1;
}
/** Seeds whose co-read rows are kept as arrays (RecentMap; at most maxNeighbours × 1.5 entries each). */
const CO_ROWS_KEPT = 4000;
const SHOWN_KEPT = 200;

/** An exponentially decayed total (the denominator of shares). */
class DecayedTotal {
  private sum = 0;
  private ref = 0;
  constructor(private readonly halfLifeMs: number) {}
  add(w: number, t: number): void {
    if (t < this.ref) this.sum += w * 2 ** (-(this.ref - t) / this.halfLifeMs);
    else {
      this.sum = this.sum * 2 ** (-(t - this.ref) / this.halfLifeMs) + w;
      this.ref = t;
    }
  }
  at(t: number): number {
    return this.sum * 2 ** (-(t - this.ref) / this.halfLifeMs);
  }
}

/**
 * The frame of a decayed counter whose per-article values sit in ArticleStats fields: DecayedSums'
 * arithmetic (../recommend/decay.ts) step for step, so the values are the same doubles, and a
 * feature row reads one object instead of one Map per counter.
 */
class DecayFrame {
  ref = 0;
  constructor(readonly halfLifeMs: number) {}
  /** 2^((t − ref) / h), the frame weight of a unit event at t; moves the frame first (scaling every value by `rescale`) past 2^200. */
  weight(t: number, rescale: (f: number) => void): number {
    let x = (t - this.ref) / this.halfLifeMs;
    if (x > REBASE_AT) {
      rescale(2 ** (-(t - this.ref) / this.halfLifeMs));
      this.ref = t;
      x = 0;
    }
    return 2 ** x;
  }
  /** Scale from frame values to values at t. */
  factor(t: number): number {
    return 2 ** (-(t - this.ref) / this.halfLifeMs);
  }
}
const REBASE_AT = 200;
/** Rescaled values below this are dropped (as DecayedSums drops them). */
const NEGLIGIBLE = 2 ** -60;

/** What the state knows of one article, in one object (frame values of the decayed counters). */
class ArticleStats {
  constructor(
    /** Dense number of the article in this state (0, 1, 2, ... in order of first sight): indexes the request's slot arrays. */
    readonly idx: number,
    /** The article's id: the string the state first saw, which the reader profiles' reads give back. */
    readonly id: string,
  ) {}
  /** The catalog's article as of `catalogVersion` (refetched when the catalog moved or has no version), and its section's number (−1: none). */
  article: Article | undefined = undefined;
  catalogVersion: number | undefined = undefined;
  sectionNo = -1;
  /** First time any event named the article; NaN never. */
  firstSeen = NaN;
  /** Reads and clicks, 1 h and 24 h half-lives (popShort, popLong). */
  short = 0;
  long = 0;
  /** Reads only (co-read item count N). */
  reads = 0;
  /** `tagsOf`'s tags as FeatureState's tag numbers (tagNumbers). */
  tagIds: Int32Array | null = null;
  tagsOf: Article | undefined = undefined;
  /** Whether TextIndex has a vector for it, as of TextIndex.epoch `textEpoch` (−1: not asked yet). */
  hasText = false;
  textEpoch = -1;
  /** Whether a read of it was ever observed: without one no co-read pair holds it, so its co-read features are 0. */
  everRead = false;
  impressions = 0;
  clicks = 0;
  /** Place in the popularity ranking stamped `rankStamp`. */
  rank = 0;
  rankStamp = 0;
}

/** An article's state as candidates() found it: pass it back to features() to skip the lookup. */
export type CandidateStats = ArticleStats;

/** A seed's co-read row as arrays: neighbour idx and frame value, as of `changes` of `row`. */
interface CoRowArrays {
  row: DecayedRow;
  changes: number;
  idx: Int32Array;
  values: Float64Array;
}

/** A list filtered by live(): the ids and, at the same index, their ArticleStats.idx. */
interface LiveList {
  ids: readonly string[];
  idx: Int32Array;
}

/**
 * The reading state features are computed from: it observes reads, page views and clicks (`add`)
 * and impressions (`shown`) in time order, and computes the feature rows of (reader, current
 * article, candidates) at a time. FreshState feeds one on the serving path (`FreshState.observer`).
 *
 * Serving cost (issue 17): a row reads one ArticleStats per candidate (its decayed counters as
 * frame values, one factor per counter per request); the co-read features walk each seed's row
 * once, kept as typed arrays until it changes, and pick the request's candidates by their dense
 * idx (no Map lookup per candidate and seed: those were half the rows' time in the server); text
 * cosines come from TextIndex's per-pair cache, keyed by idx. None of these changes a value: the
 * rows are the same doubles as computing every lookup afresh (tests: "keeps decayed counts …",
 * "co-read and text features kept between requests …").
 *
 * @example
 * const fs = new FeatureState(catalog);
 * fs.add({ kind: 'read', readerId: 'r', articleId: 'a', ts });
 * const X = fs.features({ readerId: 'r', articleId: 'a', ts: ts + 1000 }, ['b', 'c']); // 2 × 25, row-major
 * fs.shown('r', ['b', 'c'], ts + 1000);
 */
export class FeatureState {
  readonly spec = FEATURE_SPEC;
  private readonly co: CoVisitation;
  /** Ranking only: the scores are ArticleStats.long. */
  private readonly popLong: Popularity;
  private readonly popTotal: DecayedTotal;
  private readonly impressionTotal: DecayedTotal;
  private readonly clickTotal: DecayedTotal;
  private readonly stats = new Map<string, ArticleStats>();
  private readonly shortFrame: DecayFrame;
  private readonly longFrame: DecayFrame;
  private readonly readFrame: DecayFrame;
  private readonly impressionFrame: DecayFrame;
  private readonly clickFrame: DecayFrame;
  private readonly readers: RecentMap<string, ReaderProfile>;
  private readonly text: TextIndex;
  private rankedList: readonly string[] | undefined;
  private rankStamp = 0;
  // Scratch of candidates(), reused by every call (it runs to completion, never reentered).
  /** Stamps the articles candidates() judged (markOf, by idx), so a verdict is an array read instead of a map lookup. */
  private requestStamp = 0;
  private readonly pickIds: string[] = [];
  private readonly pickStats: ArticleStats[] = [];
  private readonly pickScores: number[] = [];
  private readonly pickOrder: number[] = [];
  private readonly liveLists = new WeakMap<
    readonly string[],
    { horizon: number | undefined; version: number | undefined; live: LiveList }
  >();
  private readonly neighbourCache = new RecentMap<string, { at: number; version: number; ranked: string[] }>(NEIGHBOUR_SEEDS_KEPT);
  /** A number per tag string: a reader's tag counts and an article's tags meet on numbers, not strings. */
  private readonly tagIndex = new Map<string, number>();
  private tagStamp = 0;
  private tagMark = new Int32Array(256);
  private tagCount = new Float64Array(256);
  /** Every ArticleStats by its idx. */
  private readonly byIdx: ArticleStats[] = [];
  // Scratch of features(): which request (stamp) put an article (by idx) at which row, and per-row sums.
  private rowStamp = 0;
  private slotStamp = new Int32Array(1024);
  private slotOf = new Int32Array(1024);
  /** The reader's shown counts by idx, valid where shownStamp holds the request's rowStamp. */
  private shownStamp = new Int32Array(1024);
  private shownCount = new Int32Array(1024);
  /** A number per section string (reader profiles count sections by number). */
  private readonly sectionIndex = new Map<string, number>();
  // Scratch of candidates(), by idx: the request (its stamp) that last judged the article, and its verdict (REFUSED, OPEN, TAKEN).
  private markOf = new Int32Array(1024);
  private verdictOf = new Uint8Array(1024);
  private readonly rowStats: ArticleStats[] = [];
  private ctxC = new Float64Array(256);
  private histMax = new Float64Array(256);
  private histSum = new Float64Array(256);
  /** Co-read rows of seeds as arrays (ArticleStats idx, frame value), rebuilt when the row changed. */
  private readonly coRows = new RecentMap<string, CoRowArrays>(CO_ROWS_KEPT);

  constructor(
    readonly catalog: ArticleLookup,
    readonly params: FeatureParams = DEFAULT_FEATURE_PARAMS,
    maxReaders = 500_000,
  ) {
    this.co = new CoVisitation(params.coRead, maxReaders);
    const w = { read: 1, click: 1, view: 0 };
    this.shortFrame = new DecayFrame(params.popShortHalfLifeMs);
    this.longFrame = new DecayFrame(params.popLongHalfLifeMs);
    // The co-read item counts N (CoVisitation's), mirrored here so a row reads them from ArticleStats.
    this.readFrame = new DecayFrame(params.coRead.halfLifeMs);
    this.impressionFrame = new DecayFrame(params.ctrHalfLifeMs);
    this.clickFrame = new DecayFrame(params.ctrHalfLifeMs);
    // Ranks are refreshed each minute of the caller's time: a replay of days would otherwise sort the catalog per impression.
    this.popLong = new Popularity(params.popLongHalfLifeMs, w, MINUTE);
    this.popTotal = new DecayedTotal(params.popLongHalfLifeMs);
    this.impressionTotal = new DecayedTotal(params.ctrHalfLifeMs);
    this.clickTotal = new DecayedTotal(params.ctrHalfLifeMs);
    this.readers = new RecentMap(Math.max(2, maxReaders));
    this.text = new TextIndex(catalog);
  }

  get dimensions(): number {
    return FEATURE_NAMES.length;
  }

  /** A read, a recommendation click or an article page view. */
  add(s: Signal): void {
    const st = this.see(s.articleId, s.ts);
    this.co.add(s);
    this.popLong.add(s);
    if (s.kind !== 'view') {
      this.popTotal.add(1, s.ts);
      // The weight first: moving a frame rescales st's value too.
      const ws = this.shortFrame.weight(s.ts, (f) => this.rescale(f, 'short'));
      st.short += ws;
      const wl = this.longFrame.weight(s.ts, (f) => this.rescale(f, 'long'));
      st.long += wl;
    }
    if (s.kind === 'read') {
      const w = this.readFrame.weight(s.ts, (f) => this.rescale(f, 'reads'));
      st.reads += w;
      st.everRead = true;
    }
    const p = this.profile(s.readerId);
    if (s.kind === 'click') {
      const w = this.clickFrame.weight(s.ts, (f) => this.rescale(f, 'clicks'));
      st.clicks += w;
      this.clickTotal.add(1, s.ts);
      p.shown.delete(st.idx);
      return;
    }
    const r = p.reads;
    let at = -1;
    for (let i = 0; i < p.readCount && at < 0; i++) if (r[2 * i] === st.idx) at = i;
    if (at >= 0) {
      // Read again (or a page view then its read): recency moves, the counts do not.
      const ts = Math.max(r[2 * at + 1]!, s.ts);
      r.copyWithin(2 * at, 2 * at + 2, 2 * p.readCount);
      r[2 * p.readCount - 2] = st.idx;
      r[2 * p.readCount - 1] = ts;
      return;
    }
    if (p.readCount === RECENT_READS) r.copyWithin(0, 2, 2 * RECENT_READS);
    else p.readCount++;
    r[2 * p.readCount - 2] = st.idx;
    r[2 * p.readCount - 1] = s.ts;
    p.total++;
    const a = this.catalog.get(s.articleId);
    if (a?.section) {
      p.sections.add(this.sectionNumber(a.section));
      p.sectioned++;
    }
    if (a && a.tags.length > 0) {
      const tags = this.tagNumbers(st, a);
      for (let i = 0; i < tags.length; i++) p.tags.add(tags[i]!);
      p.tagged++;
    }
  }

  /** An impression: these articles were shown to the reader at `ts` (clicks come later through `add`). */
  shown(readerId: string, articleIds: readonly string[], ts: number): void {
    const p = this.profile(readerId);
    for (const id of articleIds) {
      const st = this.see(id, ts);
      const w = this.impressionFrame.weight(ts, (f) => this.rescale(f, 'impressions'));
      st.impressions += w;
      this.impressionTotal.add(1, ts);
      p.shown.add(st.idx);
      if (p.shown.size > SHOWN_KEPT) p.shown.deleteFirst();
    }
  }

  /** The readers it keeps a profile or last reads for. */
  *readerIds(): IterableIterator<string> {
    yield* this.readers.keys();
    yield* this.co.readerIds();
  }

  /** Drops the profiles and last reads of the readers `match` accepts; article counts keep their past contribution. */
  forgetReaders(match: (readerId: string) => boolean): void {
    this.readers.deleteWhere(match);
    this.co.forgetReaders(match);
  }

  /** The reader's recent reads, newest first (what serving's history would be). */
  history(readerId: string | null): string[] {
    if (readerId === null) return [];
    const p = this.readers.peek(readerId);
    if (p === undefined) return [];
    const out: string[] = [];
    for (let i = p.readCount - 1; i >= 0; i--) out.push(this.byIdx[p.reads[2 * i]!]!.id);
    return out;
  }

  /**
   * Candidates for a request, best sources first, each once, at most `cap`: the best co-read
   * neighbours of the current article (60) and of the reader's last 3 reads (20 each), the current
   * article's content neighbours (30, with text), popular overall (50) and in its section (20),
   * latest overall (30) and in its section (20). Each source picks among the articles `eligible`
   * accepts (serving: the request's eligibility) that no earlier source took, so eligibility is
   * checked before any similarity is computed. `horizon` (serving: now − TTL), when given and the
   * catalog has `recent`, limits the content and latest scans to articles that can still be
   * eligible. Work is bounded: at most SCAN articles per scan of the catalog or popularity ranking.
   */
  candidates(q: FeatureQuery, eligible: (id: string) => boolean, cap = 200, horizon?: number, outStats?: CandidateStats[]): string[] {
    const out: string[] = [];
    if (outStats !== undefined) outStats.length = 0;
    // What is known of an article in this request (REFUSED, OPEN: eligible, TAKEN) sits in
    // markOf/verdictOf at its idx under this request's stamp, so eligibility is asked once per id.
    // (The arrays are read through `this`: statsOf may grow them.)
    const stamp = (this.requestStamp = nextStamp(this.requestStamp, this.markOf));
    this.text.sync();
    const open = (id: string, k: number): boolean => {
      if (this.markOf[k] !== stamp) {
        this.markOf[k] = stamp;
        this.verdictOf[k] = eligible(id) ? OPEN : REFUSED;
      }
      return this.verdictOf[k] === OPEN;
    };
    const take = (id: string, k: number): void => {
      out.push(id);
      outStats?.push(this.byIdx[k]!);
      this.verdictOf[k] = TAKEN;
    };
    const ids = this.pickIds;
    const picked = this.pickStats;
    const scores = this.pickScores;
    // Takes the best n picked (score descending, then id), then resets the pick.
    const takeBest = (n: number): void => {
      const order = this.pickOrder;
      order.length = 0;
      for (let i = 0; i < ids.length; i++) order.push(i);
      order.sort((a, b) => scores[b]! - scores[a]! || (ids[a]! < ids[b]! ? -1 : 1));
      for (let i = 0; i < order.length && i < n && out.length < cap; i++) take(ids[order[i]!]!, picked[order[i]!]!.idx);
      ids.length = 0;
      picked.length = 0;
      scores.length = 0;
    };
    const neighbours = (seed: string, n: number): void => {
      const ranked = this.live(this.rankedNeighbours(seed, q.ts), horizon);
      for (let i = 0, taken = 0; i < ranked.ids.length && taken < n && out.length < cap; i++) {
        const k = ranked.idx[i]!;
        if (open(ranked.ids[i]!, k)) {
          take(ranked.ids[i]!, k);
          taken++;
        }
      }
    };
    if (q.articleId !== null) neighbours(q.articleId, 60);
    const history = q.history ?? this.history(q.readerId);
    for (let i = 0; i < history.length && i < 3 && out.length < cap; i++) neighbours(history[i]!, 20);
    const recent = (section: string | null): Iterable<Article> =>
      horizon !== undefined && this.catalog.recent
        ? this.catalog.recent(horizon, section)
        : section === null
          ? this.catalog.latest()
          : this.catalog.latestInSection(section);
    const ctx = q.articleId === null ? undefined : this.catalog.get(q.articleId);
    const cv = q.articleId === null || out.length >= cap ? null : this.text.row(q.articleId);
    if (cv !== null) {
      let scanned = 0;
      for (const a of recent(null)) {
        if (a.publishedAt > q.ts) continue;
        if (++scanned > SCAN) break;
        if (a.id === q.articleId) continue;
        const st = this.statsOf(a.id);
        if (!open(a.id, st.idx)) continue;
        const sim = this.text.similarity(cv, a.id, st.idx);
        if (sim > 0) {
          ids.push(a.id);
          picked.push(st);
          scores.push(sim);
        }
      }
      takeBest(30);
    }
    const ranking = this.live(this.popLong.ranking(q.ts), horizon);
    for (let i = 0, n = 0; i < ranking.ids.length && i < SCAN && n < 50 && out.length < cap; i++) {
      const k = ranking.idx[i]!;
      if (open(ranking.ids[i]!, k)) {
        take(ranking.ids[i]!, k);
        n++;
      }
    }
    if (ctx?.section) {
      for (let i = 0, n = 0; i < ranking.ids.length && i < SCAN && n < 20 && out.length < cap; i++) {
        const id = ranking.ids[i]!;
        const k = ranking.idx[i]!;
        if (this.markOf[k] === stamp && this.verdictOf[k] !== OPEN) continue;
        if (this.catalog.get(id)?.section !== ctx.section) continue;
        if (open(id, k)) {
          take(id, k);
          n++;
        }
      }
    }
    const latest = (section: string | null, n: number): void => {
      let scanned = 0;
      let taken = 0;
      for (const a of recent(section)) {
        if (taken >= n || out.length >= cap || ++scanned > SCAN) break;
        if (a.publishedAt > q.ts) continue;
        const k = this.statsOf(a.id).idx;
        if (open(a.id, k)) {
          take(a.id, k);
          taken++;
        }
      }
    };
    latest(null, 30);
    if (ctx?.section) latest(ctx.section, 20);
    return out;
  }

  /**
   * `list` without the articles no request at `horizon` or later can show: unknown to the catalog,
   * or published before the horizon without an expiry of their own (isShowable's TTL rule). Kept
   * per list while the catalog does not change and the horizon moved less than LIVE_MAX_AGE_MS
   * (an entry that expired since is only checked again by eligibility); no horizon, no filter.
   */
  private live(list: readonly string[], horizon: number | undefined): LiveList {
    const version = this.catalog.version;
    const hit = this.liveLists.get(list);
    if (
      hit !== undefined &&
      hit.version === version &&
      version !== undefined &&
      (horizon === undefined
        ? hit.horizon === undefined
        : hit.horizon !== undefined && horizon >= hit.horizon && horizon - hit.horizon < LIVE_MAX_AGE_MS)
    )
      return hit.live;
    const ids =
      horizon === undefined
        ? list
        : list.filter((id) => {
            const a = this.catalog.get(id);
            return a !== undefined && (a.expiresAt !== null || a.publishedAt >= horizon);
          });
    const live = { ids, idx: Int32Array.from(ids, (id) => this.statsOf(id).idx) };
    this.liveLists.set(list, { horizon, version, live });
    return live;
  }

  /**
   * A seed's co-read neighbours, strongest first (ties by id). Every count decays at the same rate,
   * so the order only changes when reads arrive: ranked once, then reused while no read came or
   * for up to NEIGHBOURS_MAX_AGE_MS of the caller's time while reads flow in (as the co-read kind).
   */
  private rankedNeighbours(seed: string, ts: number): readonly string[] {
    const hit = this.neighbourCache.get(seed);
    if (hit !== undefined && (hit.version === this.co.version || (ts >= hit.at && ts - hit.at < NEIGHBOURS_MAX_AGE_MS))) return hit.ranked;
    const row = [...this.co.neighbours(seed, ts)].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    const ranked = row.map((r) => r[0]);
    this.neighbourCache.set(seed, { at: ts, version: this.co.version, ranked });
    return ranked;
  }

  /**
   * The feature rows of `candidates` at `q.ts`, row-major (candidates × FEATURE_NAMES.length), into
   * `out` at `offset` rows when given. Reads the state only: computing features never changes it.
   */
  features(
    q: FeatureQuery,
    candidates: readonly string[],
    out?: Float32Array,
    offset = 0,
    candidateStats?: readonly CandidateStats[],
  ): Float32Array {
    const d = FEATURE_NAMES.length;
    const X = out ?? new Float32Array(candidates.length * d);
    const t = q.ts;
    const ctxId = q.articleId;
    const ctx = ctxId === null ? undefined : this.catalog.get(ctxId);
    this.text.sync();
    const profile = q.readerId === null ? undefined : this.readers.peek(q.readerId);
    const history = q.history ?? this.history(q.readerId);
    const seeds = history.slice(0, HISTORY_SEEDS);
    const ctxRow = ctxId === null ? null : this.text.row(ctxId);
    const seedRows = seeds.map((h) => this.text.row(h)).filter((r): r is SimilarityRow => r !== null);
    const ctxCount = ctxId === null ? 0 : this.co.count(ctxId, t);
    const seedCounts = seeds.map((h) => this.co.count(h, t));
    const popTotal = this.popTotal.at(t);
    // Decayed sums are frame values × one factor per time (the same product DecayedSums.get computes).
    const shortFactor = this.shortFrame.factor(t);
    const longFactor = this.longFrame.factor(t);
    const readFactor = this.readFrame.factor(t);
    const impressionFactor = this.impressionFrame.factor(t);
    const clickFactor = this.clickFrame.factor(t);
    const version = this.catalog.version;
    const imps = this.impressionTotal.at(t);
    const globalCtr = imps > 0 ? Math.min(1, this.clickTotal.at(t) / imps) : 0.05;
    const ranking = this.popLong.ranking(t);
    if (ranking !== this.rankedList) {
      const stamp = ++this.rankStamp;
      for (let i = 0; i < ranking.length; i++) {
        const st = this.statsOf(ranking[i]!);
        st.rank = i;
        st.rankStamp = stamp;
      }
      this.rankedList = ranking;
    }
    const stamp = this.rankStamp;
    const depth = profile ? sessionDepth(profile, t, this.params.sessionGapMs) : 0;
    const sectionCount = profile ? profile.sections.size : 0;
    // The reader's tag counts spread by tag number for this request (stamped, never cleared): a
    // candidate's tags then read an array instead of one Map lookup each.
    const tagStamp = (this.tagStamp = nextStamp(this.tagStamp, this.tagMark));
    if (profile !== undefined && profile.tagged > 0) {
      if (this.tagIndex.size > this.tagMark.length) {
        const size = Math.max(this.tagIndex.size, this.tagMark.length * 2);
        this.tagMark = new Int32Array(size);
        this.tagCount = new Float64Array(size);
      }
    }
    const tagMark = this.tagMark;
    const tagCount = this.tagCount;
    profile?.tags.forEach((t, c) => {
      tagMark[t] = tagStamp;
      tagCount[t] = c;
    });

    // Co-read features, seed by seed: each seed's row (as arrays, see coRow) is walked once and
    // its entries that are candidates of this request (the slot arrays, by idx) are taken, instead
    // of one Map lookup per candidate and seed. Per candidate the sums are added in seed order, as
    // a lookup loop would: the same doubles (C = frame value × the row's factor, as co()).
    const n = candidates.length;
    const sts = this.rowStats;
    sts.length = n;
    const rowStamp = (this.rowStamp = nextStamp(this.rowStamp, this.slotStamp, this.shownStamp));
    const textEpoch = this.text.epoch;
    for (let i = 0; i < n; i++) {
      const st = candidateStats?.[i] ?? this.statsOf(candidates[i]!); // may grow the arrays
      sts[i] = st;
      this.slotStamp[st.idx] = rowStamp;
      this.slotOf[st.idx] = i; // a repeated id: its last row; every row of it reads that one
    }
    // The reader's shown counts spread by idx under this request's stamp (statsOf grew the arrays
    // above: every shown idx was given by statsOf), so a candidate's is an array read, not a search.
    const shownStamp = this.shownStamp;
    const shownCount = this.shownCount;
    if (profile !== undefined)
      profile.shown.forEach((k, c) => {
        shownStamp[k] = rowStamp;
        shownCount[k] = c;
      });
    // Read-only from here: should coRow grow the arrays, these still hold this request's marks.
    const slotStamp = this.slotStamp;
    const slotOf = this.slotOf;
    if (this.ctxC.length < n) {
      this.ctxC = new Float64Array(n);
      this.histMax = new Float64Array(n);
      this.histSum = new Float64Array(n);
    }
    const ctxC = this.ctxC.fill(0, 0, n);
    const histMax = this.histMax.fill(0, 0, n);
    const histSum = this.histSum.fill(0, 0, n);
    const ctxCo = ctxId === null ? null : this.coRow(ctxId);
    if (ctxCo !== null) {
      const f = ctxCo.row.factor(t);
      const { idx, values } = ctxCo;
      for (let k = 0; k < idx.length; k++) if (slotStamp[idx[k]!] === rowStamp) ctxC[slotOf[idx[k]!]!] = values[k]! * f;
    }
    for (let s = 0; s < seeds.length; s++) {
      const seedCo = this.coRow(seeds[s]!);
      if (seedCo === null) continue;
      const f = seedCo.row.factor(t);
      const count = seedCounts[s]!;
      const { idx, values } = seedCo;
      for (let k = 0; k < idx.length; k++) {
        if (slotStamp[idx[k]!] !== rowStamp) continue;
        const i = slotOf[idx[k]!]!;
        const st = sts[i]!;
        if (!st.everRead) continue;
        const cs = values[k]! * f;
        if (cs <= 0) continue;
        const j = cs / Math.max(count + st.reads * readFactor - cs, 1e-12);
        histSum[i] = histSum[i]! + j;
        if (j > histMax[i]!) histMax[i] = j;
      }
    }

    for (let i = 0; i < n; i++) {
      const id = candidates[i]!;
      const st = sts[i]!;
      const slot = slotOf[st.idx]!;
      if (st.catalogVersion !== version || version === undefined) {
        st.article = this.catalog.get(id);
        st.catalogVersion = version;
        st.sectionNo = st.article?.section ? this.sectionNumber(st.article.section) : -1;
      }
      const a = st.article;
      const o = (offset + i) * d;
      // 0-1: co-read with the current article.
      let jac = 0;
      const c = st.everRead ? ctxC[slot]! : 0;
      if (c > 0) jac = c / Math.max(ctxCount + st.reads * readFactor - c, 1e-12);
      X[o] = jac;
      X[o + 1] = Math.log1p(c);
      // 2-3: co-read with the reader's last reads.
      X[o + 2] = histMax[slot]!;
      X[o + 3] = histSum[slot]!;
      // 4-6: content similarity.
      if (st.textEpoch !== textEpoch) {
        st.hasText = this.text.vector(id) !== null;
        st.textEpoch = textEpoch;
      }
      const hasText = st.hasText;
      let tc = 0;
      let th = 0;
      if (hasText) {
        if (ctxRow !== null) tc = this.text.similarity(ctxRow, id, st.idx);
        for (let s = 0; s < seedRows.length; s++) th = Math.max(th, this.text.similarity(seedRows[s]!, id, st.idx));
      }
      X[o + 4] = tc;
      X[o + 5] = th;
      X[o + 6] = hasText && (ctxRow !== null || seedRows.length > 0) ? 1 : 0;
      // 7-9: sections and topics.
      const section = a?.section ?? null;
      X[o + 7] = section === null || !ctx?.section ? -1 : section === ctx.section ? 1 : 0;
      X[o + 8] =
        section === null || profile === undefined || profile.sectioned === 0
          ? -1
          : (profile.sections.get(st.sectionNo) + 1) / (profile.sectioned + sectionCount + 1);
      let topic = -1;
      if (a && a.tags.length > 0 && profile !== undefined && profile.tagged > 0) {
        topic = 0;
        const tags = this.tagNumbers(st, a);
        for (let k = 0; k < tags.length; k++) {
          const t = tags[k]!;
          topic = Math.max(topic, (t < tagMark.length && tagMark[t] === tagStamp ? tagCount[t]! : 0) / profile.tagged);
        }
      }
      X[o + 9] = topic;
      // 10-11: age.
      X[o + 10] = a ? Math.max(0, t - a.publishedAt) / HOUR : -1;
      const first = st.firstSeen;
      X[o + 11] = first !== first ? 0 : Math.max(0, t - first) / HOUR;
      // 12-15: popularity.
      const pl = st.long * longFactor;
      X[o + 12] = Math.log1p(st.short * shortFactor);
      X[o + 13] = Math.log1p(pl);
      X[o + 14] = Math.log1p(st.rankStamp === stamp ? st.rank : ranking.length);
      X[o + 15] = popTotal > 0 ? pl / popTotal : 0;
      // 16-18: click-through from impressions (Beta prior centred on the global CTR).
      const im = st.impressions * impressionFactor;
      const cl = st.clicks * clickFactor;
      const m = this.params.priorImpressions;
      X[o + 16] = (cl + m * globalCtr) / (im + m);
      X[o + 17] = Math.log1p(im);
      X[o + 18] = Math.log1p(cl);
      // 19-21: the reader.
      X[o + 19] = Math.min(20, shownStamp[st.idx] === rowStamp ? shownCount[st.idx]! : 0);
      X[o + 20] = depth;
      X[o + 21] = Math.log1p(profile?.total ?? 0);
      // 22-24: the article and the page.
      X[o + 22] = a?.paywalled ? 1 : 0;
      X[o + 23] = ctxId === null ? 0 : 1;
      X[o + 24] = a && ctx ? (a.publishedAt - ctx.publishedAt) / HOUR : 0;
    }
    return X;
  }

  private see(id: string, ts: number): ArticleStats {
    const st = this.statsOf(id);
    if (!(ts >= st.firstSeen)) st.firstSeen = ts;
    return st;
  }

  private statsOf(id: string): ArticleStats {
    let st = this.stats.get(id);
    if (st === undefined) {
      st = new ArticleStats(this.byIdx.length, id);
      this.byIdx.push(st);
      this.stats.set(id, st);
      if (st.idx >= this.markOf.length) this.grow(st.idx + 1);
    }
    return st;
  }

  /** The scratch arrays by idx, at least n long (contents kept: a request may be under way). */
  private grow(n: number): void {
    const size = Math.max(n, this.markOf.length * 2);
    const copy = <A extends Int32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.slotStamp = copy(this.slotStamp, (k) => new Int32Array(k));
    this.slotOf = copy(this.slotOf, (k) => new Int32Array(k));
    this.shownStamp = copy(this.shownStamp, (k) => new Int32Array(k));
    this.shownCount = copy(this.shownCount, (k) => new Int32Array(k));
    this.markOf = copy(this.markOf, (k) => new Int32Array(k));
    this.verdictOf = copy(this.verdictOf, (k) => new Uint8Array(k));
  }

  /** The article's tags as tag numbers, in its order (kept on its stats while the catalog gives the same Article). */
  private tagNumbers(st: ArticleStats, a: Article): Int32Array {
    if (st.tagsOf !== a || st.tagIds === null) {
      st.tagIds = Int32Array.from(a.tags, (t) => {
        let n = this.tagIndex.get(t);
        if (n === undefined) this.tagIndex.set(t, (n = this.tagIndex.size));
        return n;
      });
      st.tagsOf = a;
    }
    return st.tagIds;
  }

  /** The number of a section (given in order of first sight). */
  private sectionNumber(section: string): number {
    let n = this.sectionIndex.get(section);
    if (n === undefined) this.sectionIndex.set(section, (n = this.sectionIndex.size));
    return n;
  }

  /** The co-read row of `seed` as arrays (null without one), kept while the row does not change. */
  private coRow(seed: string): CoRowArrays | null {
    const row = this.co.row(seed);
    if (row === undefined) return null;
    let hit = this.coRows.get(seed);
    if (hit === undefined || hit.row !== row || hit.changes !== row.changes) {
      const idx = new Int32Array(row.values.size);
      const values = new Float64Array(row.values.size);
      let k = 0;
      for (const [id, v] of row.values) {
        idx[k] = this.statsOf(id).idx;
        values[k++] = v;
      }
      hit = { row, changes: row.changes, idx, values };
      this.coRows.set(seed, hit);
    }
    return hit;
  }

  /** A frame moved: every article's value of that counter × f, negligible ones dropped (DecayedSums.rebase). */
  private rescale(f: number, field: 'short' | 'long' | 'reads' | 'impressions' | 'clicks'): void {
    for (const st of this.stats.values()) {
      const v = st[field] * f;
      st[field] = v < NEGLIGIBLE ? 0 : v;
    }
  }

  private profile(readerId: string): ReaderProfile {
    let p = this.readers.get(readerId);
    if (p === undefined) {
      p = {
        reads: new Float64Array(2 * RECENT_READS),
        readCount: 0,
        total: 0,
        sections: new PairCounts(true),
        sectioned: 0,
        tags: new PairCounts(true),
        tagged: 0,
        shown: new PairCounts(false),
      };
      this.readers.set(readerId, p);
    }
    return p;
  }
}

/** Reads in the reader's current session at `t`: the newest run of reads with gaps under `gapMs`, ending within `gapMs` of `t`. */
function sessionDepth(p: ReaderProfile, t: number, gapMs: number): number {
  let n = 0;
  let next = t;
  for (let i = p.readCount - 1; i >= 0; i--) {
    const ts = p.reads[2 * i + 1]!;
    if (ts > t) continue;
    if (next - ts > gapMs) break;
    n++;
    next = ts;
  }
  return n;
}
