/**
 * A bounded map that forgets the least recently used keys, approximately: two generations
 * ("young" and "old", each a Map). Reads and writes go to the young generation; a key found in the
 * old one moves to the young one; when the young generation reaches half the capacity it becomes
 * the old one and the previous old one is dropped whole. So it holds at most `capacity` keys and
 * always keeps at least the capacity/2 most recently used ones.
 *
 * Why not an exact LRU over one Map (delete and re-insert on every use, evict the first key): on the
 * ingest path that re-insertion was most of what keeping readers' histories cost (two hash-table
 * operations per event on a Map of up to 500,000 readers); here a hit in the young generation is
 * one lookup, and eviction costs nothing per event.
 */
export class RecentMap<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(readonly capacity: number) {
    if (!(capacity >= 2)) throw new RangeError('capacity must be at least 2');
    this.half = Math.floor(capacity / 2);
  }

  /** The value of `key`, marking it as used. */
  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.young.set(key, o);
      this.rotate();
    }
    return o;
  }

  /** The value of `key`, without marking it as used (a read that must not move anything). */
  peek(key: K): V | undefined {
    return this.young.get(key) ?? this.old.get(key);
  }

  /** Sets `key`, marking it as used. */
  set(key: K, value: V): void {
    if (!this.young.has(key)) {
      this.old.delete(key);
      this.young.set(key, value);
      this.rotate();
    } else this.young.set(key, value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Every key, young generation first (a key is in one generation only). */
  *keys(): IterableIterator<K> {
    yield* this.young.keys();
    yield* this.old.keys();
  }

  /** Removes the keys `match` accepts; returns how many (a reader's erasure: app/readers.ts). */
  deleteWhere(match: (key: K) => boolean): number {
    let n = 0;
    for (const m of [this.young, this.old])
      for (const k of [...m.keys()])
        if (match(k)) {
          m.delete(k);
          n++;
        }
    return n;
  }

  private rotate(): void {
    if (this.young.size < this.half) return;
    this.old = this.young;
    this.young = new Map();
  }
}
