import { RecentMap } from '../kernel/recent-map.js';
import { DecayedSums, type DecayedRow } from './decay.js';

/** One reading signal, as the fresh state keeps it: who engaged with which article, how, and when. */
export interface Signal {
  kind: 'read' | 'click' | 'view';
  readerId: string;
  articleId: string;
  /** Client time, epoch ms. */
  ts: number;
}

const KINDS = ['read', 'click', 'view'] as const;

/** A state derived from the reading signals and impressions, kept by FreshState.observer (a learned ranker's features). */
export interface StateObserver {
  add(s: Signal): void;
  /** An impression: the articles shown to the reader at `ts`. */
  shown(readerId: string, articleIds: readonly string[], ts: number): void;
  /** The reader ids it keeps state for (a reader's erasure looks them up: app/readers.ts). */
  readerIds?(): Iterable<string>;
  /** Drops the per-reader state of the readers `match` accepts; aggregates keep their past contribution. */
  forgetReaders?(match: (readerId: string) => boolean): void;
}

/**
 * Recent signals in a bounded ring buffer, so that a counter created later (a recommender deployed
 * with a new half-life) can be built from the same history as the ones that existed at start.
 * Stored column-wise in typed arrays with interned ids: a million signals as objects kept the
 * garbage collector busy enough to stall serving (full collections of ~250 ms every ~40 s).
 * Interned ids are counted by the signals that hold them and released when the last one leaves
 * the ring, so they are bounded by twice the capacity, not by the distinct readers ever seen (5
 * million readers once grew the interning map by hundreds of MB that nothing ever used again).
 */
export class SignalLog {
  private readonly kind: Uint8Array;
  private readonly ts: Float64Array;
  private readonly reader: Int32Array;
  private readonly article: Int32Array;
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  /** Signals holding each interned id (as reader or article); 0 for a released one. */
  private readonly refs: number[] = [];
  /** Released ids, reused before `names` grows. */
  private readonly free: number[] = [];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.kind = new Uint8Array(capacity);
    this.ts = new Float64Array(capacity);
    this.reader = new Int32Array(capacity);
    this.article = new Int32Array(capacity);
  }

  push(s: Signal): void {
    const i = this.next;
    // Interned before the overwritten signal's ids are released: a reader or article in both keeps its id.
    const reader = this.intern(s.readerId);
    const article = this.intern(s.articleId);
    if (this.count === this.capacity) {
      this.release(this.reader[i]!);
      this.release(this.article[i]!);
    }
    this.kind[i] = KINDS.indexOf(s.kind);
    this.ts[i] = s.ts;
    this.reader[i] = reader;
    this.article[i] = article;
    this.next = (i + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Oldest first. */
  *[Symbol.iterator](): IterableIterator<Signal> {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let n = 0; n < this.count; n++) {
      const i = (start + n) % this.capacity;
      yield {
        kind: KINDS[this.kind[i]!]!,
        readerId: this.names[this.reader[i]!]!,
        articleId: this.names[this.article[i]!]!,
        ts: this.ts[i]!,
      };
    }
  }

  get size(): number {
    return this.count;
  }

  /** Interned ids held now (readers and articles alike): at most twice the capacity. */
  get interned(): number {
    return this.ids.size;
  }

  /** The interned ids (readers and articles alike), for a reader's erasure. */
  internedIds(): Iterable<string> {
    return this.ids.keys();
  }

  /**
   * Drops the signals of the readers `match` accepts, keeping the others in order, and releases
   * their interned ids (an erased reader's id stays nowhere in memory). Returns the signals dropped.
   */
  forgetReaders(match: (readerId: string) => boolean): number {
    const gone = new Set<number>();
    for (const [id, n] of this.ids)
      if (match(id)) {
        gone.add(n);
        this.ids.delete(id);
        this.names[n] = '';
        this.refs[n] = 0;
        this.free.push(n);
      }
    if (gone.size === 0) return 0;
    const start = (this.next - this.count + this.capacity) % this.capacity;
    // Compacts in place: the write position never passes the read position.
    let w = 0;
    for (let n = 0; n < this.count; n++) {
      const i = (start + n) % this.capacity;
      const r = this.reader[i]!;
      const a = this.article[i]!;
      if (gone.has(r) || gone.has(a)) {
        // The signal leaves: the id it holds that stays interned counts one holder less.
        if (!gone.has(r)) this.release(r);
        if (!gone.has(a)) this.release(a);
        continue;
      }
      const j = (start + w) % this.capacity;
      this.kind[j] = this.kind[i]!;
      this.ts[j] = this.ts[i]!;
      this.reader[j] = this.reader[i]!;
      this.article[j] = this.article[i]!;
      w++;
    }
    const dropped = this.count - w;
    this.count = w;
    this.next = (start + w) % this.capacity;
    return dropped;
  }

  private intern(id: string): number {
    let n = this.ids.get(id);
    if (n === undefined) {
      n = this.free.pop();
      if (n === undefined) {
        n = this.names.length;
        this.names.push(id);
        this.refs.push(0);
      } else this.names[n] = id;
      this.ids.set(id, n);
    }
    this.refs[n]!++;
    return n;
  }

  private release(n: number): void {
    if (--this.refs[n]! > 0) return;
    this.ids.delete(this.names[n]!);
    this.names[n] = '';
    this.free.push(n);
  }
}

/**
 * Time-decayed popularity of articles from reads and clicks. The ranking is recomputed at most
 * every `refreshMs` (of the caller's time), because ordering ~10^4 articles on every request would
 * dominate serving; ordering does not change with time alone (see DecayedSums).
 */
export class Popularity {
  private readonly sums: DecayedSums;
  private ranked: string[] = [];
  private rankedAt = -Infinity;
  /** Articles whose sum changed since the last ranking (their place in it may have). */
  private readonly changed = new Set<string>();

  constructor(
    readonly halfLifeMs: number,
    readonly weights: { read: number; click: number; view: number },
    private readonly refreshMs = 1000,
  ) {
    this.sums = new DecayedSums(halfLifeMs);
  }

  add(s: Signal): void {
    const w = this.weights[s.kind];
    if (w === 0) return;
    this.sums.add(s.articleId, w, s.ts);
    this.changed.add(s.articleId);
  }

  score(articleId: string, now: number): number {
    return this.sums.get(articleId, now);
  }

  /**
   * Article ids by decreasing popularity, ties by id (only those with any signal). Between two
   * rankings only the changed articles can move (the others' sums decay by one common factor), so
   * when few changed they are taken out and put back by binary search: O(n·c) instead of a sort's
   * O(n log n) comparisons. A simulation's clock jumps a minute between requests, so there every
   * request finds the ranking due and this is most of what it saves; the order is the sort's exactly.
   */
  ranking(now: number): readonly string[] {
    if (this.changed.size > 0 && now - this.rankedAt >= this.refreshMs) {
      const raw = (k: string) => this.sums.raw(k);
      const before = (a: string, va: number, b: string, vb: number) => va > vb || (va === vb && a < b);
      if (this.changed.size * 8 < this.ranked.length) {
        const kept = this.ranked.filter((k) => !this.changed.has(k));
        for (const k of this.changed) {
          const v = raw(k);
          let lo = 0;
          let hi = kept.length;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (before(kept[mid]!, raw(kept[mid]!), k, v)) lo = mid + 1;
            else hi = mid;
          }
          kept.splice(lo, 0, k);
        }
        this.ranked = kept;
      }
      // A full sort when many changed, and whenever the ranking and the sums disagree (a rebase drops negligible sums).
      if (this.changed.size * 8 >= this.ranked.length || this.ranked.length !== this.sums.size)
        this.ranked = [...this.sums.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
      this.rankedAt = now;
      this.changed.clear();
    }
    return this.ranked;
  }
}

export interface CoVisitationParams {
  halfLifeMs: number;
  /** Two reads by one reader count as co-read when at most this far apart. */
  windowMs: number;
  /** How many of the reader's previous reads pair with a new one. */
  lookback: number;
  /** Neighbours kept per article (the weakest are pruned). */
  maxNeighbours: number;
}

/**
 * Item-to-item co-visitation: "readers of this also read". When a reader reads b, each article a
 * they read in the previous `windowMs` (up to `lookback` of them) gains one co-read with b, both
 * ways, time-decayed like popularity. Item counts N(a) decay the same way, so normalised scores
 * (Jaccard, lift) compare like with like.
 */
export class CoVisitation {
  private readonly pairs = new Map<string, DecayedSums>();
  private readonly items: DecayedSums;
  /**
   * Each reader's last reads, for at most maxReaders readers (at least the most recent half:
   * RecentMap): article ids and times in two arrays, in step (an object per read was two heap
   * objects a read, for every reader, that full collections walk).
   */
  private readonly recent: RecentMap<string, { ids: string[]; ts: number[] }>;
  private total = 0;
  private totalRef = 0;
  /** Moves on every read: lets callers cache what they derived from the counts. */
  version = 0;

  constructor(
    readonly params: CoVisitationParams,
    private readonly maxReaders = 500_000,
  ) {
    this.items = new DecayedSums(params.halfLifeMs);
    this.recent = new RecentMap(maxReaders);
  }

  add(s: Signal): void {
    if (s.kind !== 'read') return;
    this.version++;
    this.items.add(s.articleId, 1, s.ts);
    this.addTotal(s.ts);
    let hist = this.recent.get(s.readerId);
    if (hist === undefined) this.recent.set(s.readerId, (hist = { ids: [], ts: [] }));
    const { ids, ts } = hist;
    let seen = false;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === s.articleId) seen = true;
      if (ids[i] === s.articleId || Math.abs(s.ts - ts[i]!) > this.params.windowMs) continue;
      this.bump(ids[i]!, s.articleId, s.ts);
      this.bump(s.articleId, ids[i]!, s.ts);
    }
    if (!seen) {
      ids.push(s.articleId);
      ts.push(s.ts);
      if (ids.length > this.params.lookback) {
        ids.shift();
        ts.shift();
      }
    }
  }

  /** The readers whose last reads it keeps. */
  readerIds(): Iterable<string> {
    return this.recent.keys();
  }

  /** Drops the last reads of the readers `match` accepts; the pair and item counts keep their past reads (aggregates). */
  forgetReaders(match: (readerId: string) => boolean): number {
    return this.recent.deleteWhere(match);
  }

  /** Decayed co-read count C(a, b) at `now`. */
  co(a: string, b: string, now: number): number {
    return this.pairs.get(a)?.get(b, now) ?? 0;
  }

  /**
   * The co-read row of `a`: its frame values, C(a, b) at t being `values.get(b) × factor(t)`, the
   * same double as `co(a, b, t)`; its `changes` move whenever a value does (callers cache what
   * they derive from it). Undefined when `a` has no co-read pair. Read-only for callers.
   */
  row(a: string): DecayedRow | undefined {
    return this.pairs.get(a);
  }

  /** Decayed read count N(a) at `now`. */
  count(a: string, now: number): number {
    return this.items.get(a, now);
  }

  /** Decayed total reads at `now`. */
  totalAt(now: number): number {
    return this.total * 2 ** (-(now - this.totalRef) / this.params.halfLifeMs);
  }

  /** Neighbours of `a` with their decayed co-read counts at `now`. */
  *neighbours(a: string, now: number): IterableIterator<[string, number]> {
    const row = this.pairs.get(a);
    if (!row) return;
    const f = row.factor(now);
    for (const [b, v] of row.entries()) yield [b, v * f];
  }

  private addTotal(t: number): void {
    // A late read decays into the current reference instead of moving it back: scaling the total up
    // by 2^(lateness / h) overflows to Infinity (then NaN) once a read is > 1024 half-lives late.
    if (t < this.totalRef) {
      this.total += 2 ** (-(this.totalRef - t) / this.params.halfLifeMs);
      return;
    }
    this.total = this.total * 2 ** (-(t - this.totalRef) / this.params.halfLifeMs) + 1;
    this.totalRef = t;
  }

  private bump(a: string, b: string, t: number): void {
    let row = this.pairs.get(a);
    if (!row) this.pairs.set(a, (row = new DecayedSums(this.params.halfLifeMs, t)));
    row.add(b, 1, t);
    if (row.size > this.params.maxNeighbours * 1.5) {
      // Prune to the strongest maxNeighbours (frame values order the same as decayed values).
      const keep = [...row.entries()].sort((x, y) => y[1] - x[1]).slice(this.params.maxNeighbours);
      for (const [k] of keep) row.delete(k);
    }
  }
}

/** The reading signal an event carries, if any: reads, recommendation clicks and article page views. */
export function signalOf(e: { type: string; readerId: string; clientTs: number; articleId?: string | null }): Signal | undefined {
  if (!e.articleId) return undefined;
  switch (e.type) {
    case 'read':
      return { kind: 'read', readerId: e.readerId, articleId: e.articleId, ts: e.clientTs };
    case 'click':
      return { kind: 'click', readerId: e.readerId, articleId: e.articleId, ts: e.clientTs };
    case 'page_view':
      return { kind: 'view', readerId: e.readerId, articleId: e.articleId, ts: e.clientTs };
    default:
      return undefined;
  }
}

/** The shown items of a live impression (shadow impressions were never shown), if the event is one. */
export function impressionOf(e: {
  type: string;
  readerId: string;
  clientTs: number;
  items?: readonly { articleId: string }[];
  shadow?: boolean;
}): { readerId: string; articleIds: string[]; ts: number } | undefined {
  if (e.type !== 'impression' || e.shadow === true || !e.items || e.items.length === 0) return undefined;
  return { readerId: e.readerId, articleIds: e.items.map((i) => i.articleId), ts: e.clientTs };
}
