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
import { RecentMap } from '../kernel/recent-map.js';
import { DecayedSums } from '../recommend/decay.js';
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

export const FEATURE_SPEC: FeatureSpec = Object.freeze({ version: 1, names: FEATURE_NAMES });

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

/** A unit-length sparse TF-IDF vector: term numbers (ascending) and weights. */
interface TextVector {
  terms: Int32Array;
  weights: Float64Array;
}

/**
 * TF-IDF over title and lead, fitted incrementally: an article is vectorised the first time it is
 * asked for, with the document frequencies of the articles vectorised before it
 * (idf = ln((1 + N) / (1 + df)) + 1, tf = raw count), then kept. Articles without text get none.
 * Terms are numbered in order of first sight, so a cosine merges integers, not strings.
 */
class TextIndex {
  private readonly vectors = new Map<string, TextVector | null>();
  private readonly df = new Map<string, number>();
  private readonly termIds = new Map<string, number>();
  private docs = 0;

  constructor(private readonly catalog: ArticleLookup) {}

  vector(id: string): TextVector | null {
    const known = this.vectors.get(id);
    if (known !== undefined) return known;
    const a = this.catalog.get(id);
    if (a === undefined) return null; // not cached: it may be published later
    const tokens = tokenize(`${a.title} ${a.lead ?? ''}`).filter((t) => t !== a.id.toLowerCase());
    if (tokens.length === 0) {
      this.vectors.set(id, null);
      return null;
    }
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    this.docs++;
    for (const t of tf.keys()) {
      this.df.set(t, (this.df.get(t) ?? 0) + 1);
      if (!this.termIds.has(t)) this.termIds.set(t, this.termIds.size);
    }
    const words = [...tf.keys()].sort((x, y) => this.termIds.get(x)! - this.termIds.get(y)!);
    const terms = Int32Array.from(words, (t) => this.termIds.get(t)!);
    const weights = new Float64Array(words.length);
    let norm = 0;
    words.forEach((t, i) => {
      const w = tf.get(t)! * (Math.log((1 + this.docs) / (1 + this.df.get(t)!)) + 1);
      weights[i] = w;
      norm += w * w;
    });
    norm = Math.sqrt(norm);
    for (let i = 0; i < weights.length; i++) weights[i]! /= norm;
    const v = { terms, weights };
    this.vectors.set(id, v);
    return v;
  }
}

/** Cosine of two unit vectors with ascending term numbers. */
function cosine(a: TextVector, b: TextVector): number {
  const at = a.terms;
  const bt = b.terms;
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < at.length && j < bt.length) {
    const x = at[i]!;
    const y = bt[j]!;
    if (x === y) s += a.weights[i++]! * b.weights[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return s;
}

// ---- the state

/** What the state keeps per reader (bounded: RecentMap of maxReaders). */
interface ReaderProfile {
  /** Last reads, oldest first, each article once, at most RECENT_READS. */
  reads: { id: string; ts: number }[];
  total: number;
  sections: Map<string, number>;
  sectioned: number;
  tags: Map<string, number>;
  tagged: number;
  /** Times shown without a click since, per article; at most SHOWN_KEPT articles (oldest dropped). */
  shown: Map<string, number>;
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
 * The reading state features are computed from: it observes reads, page views and clicks (`add`)
 * and impressions (`shown`) in time order, and computes the feature rows of (reader, current
 * article, candidates) at a time. FreshState feeds one on the serving path (`FreshState.observer`).
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
  private readonly popShort: Popularity;
  private readonly popLong: Popularity;
  private readonly popTotal: DecayedTotal;
  private readonly impressions: DecayedSums;
  private readonly clicks: DecayedSums;
  private readonly impressionTotal: DecayedTotal;
  private readonly clickTotal: DecayedTotal;
  private readonly firstSeen = new Map<string, number>();
  private readonly readers: RecentMap<string, ReaderProfile>;
  private readonly text: TextIndex;
  private rankOf = new Map<string, number>();
  private rankedList: readonly string[] | undefined;
  // Scratch of candidates(), reused by every call (it runs to completion, never reentered).
  private readonly verdict = new Map<string, number>();
  private readonly pickIds: string[] = [];
  private readonly pickScores: number[] = [];
  private readonly pickOrder: number[] = [];
  private readonly liveLists = new WeakMap<readonly string[], { horizon: number; version: number | undefined; ids: readonly string[] }>();
  private readonly neighbourCache = new RecentMap<string, { at: number; version: number; ranked: string[] }>(NEIGHBOUR_SEEDS_KEPT);

  constructor(
    readonly catalog: ArticleLookup,
    readonly params: FeatureParams = DEFAULT_FEATURE_PARAMS,
    maxReaders = 500_000,
  ) {
    this.co = new CoVisitation(params.coRead, maxReaders);
    const w = { read: 1, click: 1, view: 0 };
    this.popShort = new Popularity(params.popShortHalfLifeMs, w);
    // Ranks are refreshed each minute of the caller's time: a replay of days would otherwise sort the catalog per impression.
    this.popLong = new Popularity(params.popLongHalfLifeMs, w, MINUTE);
    this.popTotal = new DecayedTotal(params.popLongHalfLifeMs);
    this.impressions = new DecayedSums(params.ctrHalfLifeMs);
    this.clicks = new DecayedSums(params.ctrHalfLifeMs);
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
    this.see(s.articleId, s.ts);
    this.co.add(s);
    this.popShort.add(s);
    this.popLong.add(s);
    if (s.kind !== 'view') this.popTotal.add(1, s.ts);
    const p = this.profile(s.readerId);
    if (s.kind === 'click') {
      this.clicks.add(s.articleId, 1, s.ts);
      this.clickTotal.add(1, s.ts);
      p.shown.delete(s.articleId);
      return;
    }
    const at = p.reads.findIndex((r) => r.id === s.articleId);
    if (at >= 0) {
      // Read again (or a page view then its read): recency moves, the counts do not.
      const [r] = p.reads.splice(at, 1);
      r!.ts = Math.max(r!.ts, s.ts);
      p.reads.push(r!);
      return;
    }
    p.reads.push({ id: s.articleId, ts: s.ts });
    if (p.reads.length > RECENT_READS) p.reads.shift();
    p.total++;
    const a = this.catalog.get(s.articleId);
    if (a?.section) {
      p.sections.set(a.section, (p.sections.get(a.section) ?? 0) + 1);
      p.sectioned++;
    }
    if (a && a.tags.length > 0) {
      for (const t of a.tags) p.tags.set(t, (p.tags.get(t) ?? 0) + 1);
      p.tagged++;
    }
  }

  /** An impression: these articles were shown to the reader at `ts` (clicks come later through `add`). */
  shown(readerId: string, articleIds: readonly string[], ts: number): void {
    const p = this.profile(readerId);
    for (const id of articleIds) {
      this.see(id, ts);
      this.impressions.add(id, 1, ts);
      this.impressionTotal.add(1, ts);
      p.shown.set(id, (p.shown.get(id) ?? 0) + 1);
      if (p.shown.size > SHOWN_KEPT) p.shown.delete(p.shown.keys().next().value!);
    }
  }

  /** The reader's recent reads, newest first (what serving's history would be). */
  history(readerId: string | null): string[] {
    if (readerId === null) return [];
    const p = this.readers.peek(readerId);
    return p ? p.reads.map((r) => r.id).reverse() : [];
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
  candidates(q: FeatureQuery, eligible: (id: string) => boolean, cap = 200, horizon?: number): string[] {
    const out: string[] = [];
    // What is known of an id in this request (REFUSED, OPEN: eligible, TAKEN), so eligibility is asked once per id.
    const verdict = this.verdict;
    verdict.clear();
    const open = (id: string): boolean => {
      let v = verdict.get(id);
      if (v === undefined) verdict.set(id, (v = eligible(id) ? OPEN : REFUSED));
      return v === OPEN;
    };
    const take = (id: string): void => {
      out.push(id);
      verdict.set(id, TAKEN);
    };
    const ids = this.pickIds;
    const scores = this.pickScores;
    // Takes the best n picked (score descending, then id), then resets the pick.
    const takeBest = (n: number): void => {
      const order = this.pickOrder;
      order.length = 0;
      for (let i = 0; i < ids.length; i++) order.push(i);
      order.sort((a, b) => scores[b]! - scores[a]! || (ids[a]! < ids[b]! ? -1 : 1));
      for (let i = 0; i < order.length && i < n && out.length < cap; i++) take(ids[order[i]!]!);
      ids.length = 0;
      scores.length = 0;
    };
    const neighbours = (seed: string, n: number): void => {
      const ranked = this.live(this.rankedNeighbours(seed, q.ts), horizon);
      for (let i = 0, taken = 0; i < ranked.length && taken < n && out.length < cap; i++) {
        if (open(ranked[i]!)) {
          take(ranked[i]!);
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
    const cv = q.articleId === null || out.length >= cap ? null : this.text.vector(q.articleId);
    if (cv !== null) {
      let scanned = 0;
      for (const a of recent(null)) {
        if (a.publishedAt > q.ts) continue;
        if (++scanned > SCAN) break;
        if (a.id === q.articleId || !open(a.id)) continue;
        const v = this.text.vector(a.id);
        const sim = v === null ? 0 : cosine(cv, v);
        if (sim > 0) {
          ids.push(a.id);
          scores.push(sim);
        }
      }
      takeBest(30);
    }
    const ranking = this.live(this.popLong.ranking(q.ts), horizon);
    for (let i = 0, n = 0; i < ranking.length && i < SCAN && n < 50 && out.length < cap; i++) {
      if (open(ranking[i]!)) {
        take(ranking[i]!);
        n++;
      }
    }
    if (ctx?.section) {
      for (let i = 0, n = 0; i < ranking.length && i < SCAN && n < 20 && out.length < cap; i++) {
        const id = ranking[i]!;
        const v = verdict.get(id);
        if (v === REFUSED || v === TAKEN || this.catalog.get(id)?.section !== ctx.section) continue;
        if (open(id)) {
          take(id);
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
        if (open(a.id)) {
          take(a.id);
          taken++;
        }
      }
    };
    latest(null, 30);
    if (ctx?.section) latest(ctx.section, 20);
    return out;
  }

  /**
   * A seed's co-read neighbours, strongest first (ties by id). Every count decays at the same rate,
   * so the order only changes when reads arrive: ranked once, then reused while no read came or
   * for up to NEIGHBOURS_MAX_AGE_MS of the caller's time while reads flow in (as the co-read kind).
   */
  /**
   * `list` without the articles no request at `horizon` or later can show: unknown to the catalog,
   * or published before the horizon without an expiry of their own (isShowable's TTL rule). Kept
   * per list while the catalog does not change and the horizon moved less than LIVE_MAX_AGE_MS
   * (an entry that expired since is only checked again by eligibility); no horizon, no filter.
   */
  private live(list: readonly string[], horizon: number | undefined): readonly string[] {
    if (horizon === undefined) return list;
    const version = this.catalog.version;
    const hit = this.liveLists.get(list);
    if (
      hit !== undefined &&
      hit.version === version &&
      version !== undefined &&
      horizon >= hit.horizon &&
      horizon - hit.horizon < LIVE_MAX_AGE_MS
    )
      return hit.ids;
    const ids = list.filter((id) => {
      const a = this.catalog.get(id);
      return a !== undefined && (a.expiresAt !== null || a.publishedAt >= horizon);
    });
    this.liveLists.set(list, { horizon, version, ids });
    return ids;
  }

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
  features(q: FeatureQuery, candidates: readonly string[], out?: Float32Array, offset = 0): Float32Array {
    const d = FEATURE_NAMES.length;
    const X = out ?? new Float32Array(candidates.length * d);
    const t = q.ts;
    const ctxId = q.articleId;
    const ctx = ctxId === null ? undefined : this.catalog.get(ctxId);
    const profile = q.readerId === null ? undefined : this.readers.peek(q.readerId);
    const history = q.history ?? this.history(q.readerId);
    const seeds = history.slice(0, HISTORY_SEEDS);
    const ctxVec = ctxId === null ? null : this.text.vector(ctxId);
    const seedVecs = seeds.map((h) => this.text.vector(h)).filter((v): v is TextVector => v !== null);
    const ctxCount = ctxId === null ? 0 : this.co.count(ctxId, t);
    const seedCounts = seeds.map((h) => this.co.count(h, t));
    const popTotal = this.popTotal.at(t);
    // Decayed sums are frame values × one factor per time (the same product DecayedSums.get computes).
    const impressionFactor = this.impressions.factor(t);
    const clickFactor = this.clicks.factor(t);
    const imps = this.impressionTotal.at(t);
    const globalCtr = imps > 0 ? Math.min(1, this.clickTotal.at(t) / imps) : 0.05;
    const ranking = this.popLong.ranking(t);
    if (ranking !== this.rankedList) {
      this.rankOf = new Map(ranking.map((id, i) => [id, i]));
      this.rankedList = ranking;
    }
    const depth = profile ? sessionDepth(profile, t, this.params.sessionGapMs) : 0;
    const sectionCount = profile ? profile.sections.size : 0;

    for (let i = 0; i < candidates.length; i++) {
      const id = candidates[i]!;
      const a = this.catalog.get(id);
      const o = (offset + i) * d;
      // 0-1: co-read with the current article.
      let jac = 0;
      let c = 0;
      let nb = -1; // the candidate's decayed read count, read when first needed
      if (ctxId !== null) {
        c = this.co.co(ctxId, id, t);
        if (c > 0) {
          nb = this.co.count(id, t);
          jac = c / Math.max(ctxCount + nb - c, 1e-12);
        }
      }
      X[o] = jac;
      X[o + 1] = Math.log1p(c);
      // 2-3: co-read with the reader's last reads.
      let hmax = 0;
      let hsum = 0;
      for (let s = 0; s < seeds.length; s++) {
        const cs = this.co.co(seeds[s]!, id, t);
        if (cs <= 0) continue;
        if (nb < 0) nb = this.co.count(id, t);
        const j = cs / Math.max(seedCounts[s]! + nb - cs, 1e-12);
        hsum += j;
        if (j > hmax) hmax = j;
      }
      X[o + 2] = hmax;
      X[o + 3] = hsum;
      // 4-6: content similarity.
      const v = this.text.vector(id);
      let tc = 0;
      let th = 0;
      if (v !== null) {
        if (ctxVec !== null) tc = cosine(ctxVec, v);
        for (const sv of seedVecs) th = Math.max(th, cosine(sv, v));
      }
      X[o + 4] = tc;
      X[o + 5] = th;
      X[o + 6] = v !== null && (ctxVec !== null || seedVecs.length > 0) ? 1 : 0;
      // 7-9: sections and topics.
      const section = a?.section ?? null;
      X[o + 7] = section === null || !ctx?.section ? -1 : section === ctx.section ? 1 : 0;
      X[o + 8] =
        section === null || profile === undefined || profile.sectioned === 0
          ? -1
          : ((profile.sections.get(section) ?? 0) + 1) / (profile.sectioned + sectionCount + 1);
      let topic = -1;
      if (a && a.tags.length > 0 && profile !== undefined && profile.tagged > 0) {
        topic = 0;
        for (const tag of a.tags) topic = Math.max(topic, (profile.tags.get(tag) ?? 0) / profile.tagged);
      }
      X[o + 9] = topic;
      // 10-11: age.
      X[o + 10] = a ? Math.max(0, t - a.publishedAt) / HOUR : -1;
      const first = this.firstSeen.get(id);
      X[o + 11] = first === undefined ? 0 : Math.max(0, t - first) / HOUR;
      // 12-15: popularity.
      const pl = this.popLong.score(id, t);
      X[o + 12] = Math.log1p(this.popShort.score(id, t));
      X[o + 13] = Math.log1p(pl);
      X[o + 14] = Math.log1p(this.rankOf.get(id) ?? ranking.length);
      X[o + 15] = popTotal > 0 ? pl / popTotal : 0;
      // 16-18: click-through from impressions (Beta prior centred on the global CTR).
      const im = this.impressions.raw(id) * impressionFactor;
      const cl = this.clicks.raw(id) * clickFactor;
      const m = this.params.priorImpressions;
      X[o + 16] = (cl + m * globalCtr) / (im + m);
      X[o + 17] = Math.log1p(im);
      X[o + 18] = Math.log1p(cl);
      // 19-21: the reader.
      X[o + 19] = Math.min(20, profile?.shown.get(id) ?? 0);
      X[o + 20] = depth;
      X[o + 21] = Math.log1p(profile?.total ?? 0);
      // 22-24: the article and the page.
      X[o + 22] = a?.paywalled ? 1 : 0;
      X[o + 23] = ctxId === null ? 0 : 1;
      X[o + 24] = a && ctx ? (a.publishedAt - ctx.publishedAt) / HOUR : 0;
    }
    return X;
  }

  private see(id: string, ts: number): void {
    const f = this.firstSeen.get(id);
    if (f === undefined || ts < f) this.firstSeen.set(id, ts);
  }

  private profile(readerId: string): ReaderProfile {
    let p = this.readers.get(readerId);
    if (p === undefined) {
      p = { reads: [], total: 0, sections: new Map(), sectioned: 0, tags: new Map(), tagged: 0, shown: new Map() };
      this.readers.set(readerId, p);
    }
    return p;
  }
}

/** Reads in the reader's current session at `t`: the newest run of reads with gaps under `gapMs`, ending within `gapMs` of `t`. */
function sessionDepth(p: ReaderProfile, t: number, gapMs: number): number {
  let n = 0;
  let next = t;
  for (let i = p.reads.length - 1; i >= 0; i--) {
    const r = p.reads[i]!;
    if (r.ts > t) continue;
    if (next - r.ts > gapMs) break;
    n++;
    next = r.ts;
  }
  return n;
}
