/**
 * Counts since the process started, by one or two keys (a placement and a recommender kind, a
 * rejection reason): the in-process tallies that /metrics reads when it is scraped. Only the
 * keys seen are kept, so there are as many entries as placements × kinds or reasons, never one per
 * request or reader.
 *
 * @example
 * const faults = new PairCounts();
 * faults.add('read-next', 'model');
 * [...faults.entries()]; // [['read-next', 'model', 1]]
 */
export class PairCounts {
  private readonly byFirst = new Map<string, Map<string, number>>();

  add(first: string, second: string, n = 1): void {
    let m = this.byFirst.get(first);
    if (!m) this.byFirst.set(first, (m = new Map()));
    m.set(second, (m.get(second) ?? 0) + n);
  }

  get(first: string, second: string): number {
    return this.byFirst.get(first)?.get(second) ?? 0;
  }

  *entries(): IterableIterator<[string, string, number]> {
    for (const [a, m] of this.byFirst) for (const [b, n] of m) yield [a, b, n];
  }
}

/** Counts by one key (see PairCounts). */
export class Counts {
  private readonly byKey = new Map<string, number>();

  add(key: string, n = 1): void {
    this.byKey.set(key, (this.byKey.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.byKey.get(key) ?? 0;
  }

  entries(): IterableIterator<[string, number]> {
    return this.byKey.entries();
  }
}
