import type { Article } from '../catalog/article.js';
import { RecentMap } from '../kernel/recent-map.js';
import { CatalogIndex } from './catalog-index.js';
import { CoVisitation, Popularity, SignalLog, type CoVisitationParams, type Signal, type StateObserver } from './signals.js';

/** Memory bounds of the fresh state. A server takes them from config (READNEXT_SIGNAL_CAPACITY, READNEXT_MAX_READERS, READNEXT_HISTORY_PER_READER). */
export interface FreshStateOptions {
  /** Signals kept for building counters created later (a ring buffer: 17 bytes a signal, plus each id it holds once, released with its last signal). */
  signalCapacity: number;
  /**
   * Readers whose recent reads are kept, for the already-read filter and by each co-visitation
   * counter: at most this many, and at least the most recent half of them (RecentMap). A hint,
   * never read back: an evicted reader's slate may again show an article they read (days ago, as
   * the least recently seen go first), and their next read pairs with no earlier one.
   */
  maxReaders: number;
  /** Recent reads kept per reader for the already-read filter. */
  historyPerReader: number;
}

/** The defaults, also config's (test/config/config.test.ts checks they agree). */
export const DEFAULT_FRESH_STATE: FreshStateOptions = { signalCapacity: 2_000_000, maxReaders: 500_000, historyPerReader: 50 };

/**
 * Everything recommenders read: the catalog, each reader's recent reads, and time-decayed
 * counters, updated incrementally as events arrive. Counters are created on first use with the
 * parameters a recommender asks for, and built from the retained signals, so a recommender deployed
 * later sees the same history as one that existed at start.
 */
export class FreshState {
  readonly catalog = new CatalogIndex();
  private readonly log: SignalLog;
  private readonly histories: RecentMap<string, string[]>;
  private readonly popularities = new Map<string, Popularity>();
  private readonly coVisitations = new Map<string, CoVisitation>();
  /**
   * Shown items of impressions, one entry per item (the kind is unused), for observers created
   * later: half the signals' capacity (17 bytes an entry). Kept even when no observer exists, so a
   * model deployed later sees the same impressions as one deployed at start.
   */
  private readonly shownLog: SignalLog;
  private readonly observers = new Map<string, StateObserver>();

  constructor(readonly options: FreshStateOptions = DEFAULT_FRESH_STATE) {
    this.log = new SignalLog(options.signalCapacity);
    this.shownLog = new SignalLog(Math.max(2, Math.floor(options.signalCapacity / 2)));
    this.histories = new RecentMap(options.maxReaders);
  }

  upsertArticles(articles: Iterable<Article>): void {
    this.catalog.upsert(articles);
  }

  removeArticle(id: string): void {
    this.catalog.remove(id);
  }

  /** Applies one reading signal to every counter and to the reader's history. */
  add(signal: Signal): void {
    // The catalog's own string for the article when it knows it (equal, but another string object:
    // === cannot tell them apart): what the counters keep per reader (histories, last reads, feature
    // profiles) then shares one string per article instead of one per event parsed from storage,
    // and the already-read filter compares pointers.
    const known = this.catalog.get(signal.articleId)?.id;
    const s = known === undefined ? signal : { ...signal, articleId: known };
    this.log.push(s);
    if (s.kind !== 'click') this.remember(s.readerId, s.articleId);
    for (const p of this.popularities.values()) p.add(s);
    for (const c of this.coVisitations.values()) c.add(s);
    for (const o of this.observers.values()) o.add(s);
  }

  /** Applies one impression (live, not shadow): the articles shown to the reader at `ts`. */
  addImpression(readerId: string, articleIds: readonly string[], ts: number): void {
    for (const articleId of articleIds) this.shownLog.push({ kind: 'view', readerId, articleId, ts });
    for (const o of this.observers.values()) o.shown(readerId, articleIds, ts);
  }

  /**
   * A derived state (a learned ranker's features) under `key`, created on first use and built from
   * the retained signals and impressions merged in time order, then fed every later one.
   */
  observer<T extends StateObserver>(key: string, create: () => T): T {
    let o = this.observers.get(key);
    if (!o) {
      const created = create();
      const shown = this.shownLog[Symbol.iterator]();
      let next = shown.next();
      for (const s of this.log) {
        for (; !next.done && next.value.ts <= s.ts; next = shown.next())
          created.shown(next.value.readerId, [next.value.articleId], next.value.ts);
        created.add(s);
      }
      for (; !next.done; next = shown.next()) created.shown(next.value.readerId, [next.value.articleId], next.value.ts);
      this.observers.set(key, (o = created));
    }
    return o as T;
  }

  /** The reader's recently read or viewed articles, newest first. */
  history(readerId: string | null): readonly string[] {
    if (readerId === null) return [];
    // A peek: serving reads histories without moving them (recency is that of reading), so that
    // requests never write to the map on the hot path.
    return this.histories.peek(readerId) ?? [];
  }

  popularity(halfLifeMs: number, weights: { read: number; click: number; view: number }): Popularity {
    const key = `${halfLifeMs}|${weights.read}|${weights.click}|${weights.view}`;
    let p = this.popularities.get(key);
    if (!p) {
      p = new Popularity(halfLifeMs, weights);
      for (const s of this.log) p.add(s);
      this.popularities.set(key, p);
    }
    return p;
  }

  coVisitation(params: CoVisitationParams): CoVisitation {
    const key = `${params.halfLifeMs}|${params.windowMs}|${params.lookback}|${params.maxNeighbours}`;
    let c = this.coVisitations.get(key);
    if (!c) {
      c = new CoVisitation(params, this.options.maxReaders);
      for (const s of this.log) c.add(s);
      this.coVisitations.set(key, c);
    }
    return c;
  }

  get signals(): number {
    return this.log.size;
  }

  /**
   * Every reader id the state holds (some article ids too: the signal logs intern both), each
   * possibly more than once: a reader's erasure hashes them to find the reader (app/readers.ts).
   */
  *readerIds(): IterableIterator<string> {
    yield* this.histories.keys();
    yield* this.log.internedIds();
    yield* this.shownLog.internedIds();
    for (const c of this.coVisitations.values()) yield* c.readerIds();
    for (const o of this.observers.values()) if (o.readerIds) yield* o.readerIds();
  }

  /**
   * Forgets the readers `match` accepts: their histories, their signals and impressions in the
   * logs (so a counter created later never sees them), each co-visitation counter's last reads and
   * the observers' per-reader state. Aggregates that are not per reader (popularity, co-read pair
   * counts, CTR totals) keep the readers' past contribution. Returns the histories dropped.
   */
  forgetReaders(match: (readerId: string) => boolean): number {
    const n = this.histories.deleteWhere(match);
    this.log.forgetReaders(match);
    this.shownLog.forgetReaders(match);
    for (const c of this.coVisitations.values()) c.forgetReaders(match);
    for (const o of this.observers.values()) o.forgetReaders?.(match);
    return n;
  }

  private remember(readerId: string, articleId: string): void {
    let h = this.histories.get(readerId);
    if (h === undefined) this.histories.set(readerId, (h = []));
    const at = h.indexOf(articleId);
    if (at === 0) return; // already the newest
    if (at > 0) h.splice(at, 1);
    h.unshift(articleId);
    if (h.length > this.options.historyPerReader) h.pop();
  }
}
