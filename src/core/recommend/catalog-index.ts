import type { Article } from '../catalog/article.js';
import { canonical } from '../kernel/strings.js';

export const DEFAULT_TTL_MS = 72 * 60 * 60 * 1000; // 72 hours

/**
 * Whether an article may be recommended at `now`: published (not unpublished or retracted),
 * publication time reached and embargo lifted, and not expired (its own `expiresAt`, else
 * publication + TTL).
 */
export function isShowable(a: Article, now: number, ttlMs: number): boolean {
  if (a.status !== 'published') return false;
  if (a.publishedAt > now) return false;
  if (a.embargoUntil !== null && a.embargoUntil > now) return false;
  const expires = a.expiresAt ?? a.publishedAt + ttlMs;
  return expires > now;
}

/**
 * The catalog in memory, for serving: articles by id, newest first overall and per section.
 * Rebuilt lists are sorted once per change batch, not per request.
 */
export class CatalogIndex {
  private readonly byId = new Map<string, Article>();
  private newest: Article[] = [];
  private bySection = new Map<string, Article[]>();
  private dirty = false;
  /** Moves on every change, so derived caches know when to rebuild. */
  version = 0;
  /** Articles with their own expiry: the only ones that may outlive a placement's TTL. */
  private readonly ownExpiry = new Set<string>();

  constructor(articles: Iterable<Article> = []) {
    this.upsert(articles);
  }

  upsert(articles: Iterable<Article>): void {
    for (const given of articles) {
      // Held with a canonical id: readers' histories and shared rankings hold this string, so the
      // already-read filter compares pointers (see canonical()).
      const a: Article = { ...given, id: canonical(given.id) };
      this.byId.set(a.id, a);
      if (a.expiresAt !== null) this.ownExpiry.add(a.id);
      else this.ownExpiry.delete(a.id);
    }
    this.dirty = true;
    this.version++;
  }

  remove(id: string): void {
    this.ownExpiry.delete(id);
    if (this.byId.delete(id)) {
      this.dirty = true;
      this.version++;
    }
  }

  /**
   * Newest first, only what can still be within a TTL: articles published at or after `horizon`
   * (now − TTL), then the older ones that carry their own expiry. Serving scans this instead of the
   * whole catalog: with a 72 h TTL that is a few hundred articles, not tens of thousands.
   */
  *recent(horizon: number, section: string | null = null): IterableIterator<Article> {
    const list = section === null ? this.latest() : this.latestInSection(section);
    let i = 0;
    for (; i < list.length && list[i]!.publishedAt >= horizon; i++) yield list[i]!;
    if (this.ownExpiry.size === 0 || i >= list.length) return;
    for (const id of this.ownExpiry) {
      const a = this.byId.get(id)!;
      if (a.publishedAt < horizon && (section === null || a.section === section)) yield a;
    }
  }

  get(id: string): Article | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** All articles, newest publication first (ties by id). */
  latest(): readonly Article[] {
    this.refresh();
    return this.newest;
  }

  /** Articles of one section, newest first. */
  latestInSection(section: string): readonly Article[] {
    this.refresh();
    return this.bySection.get(section) ?? [];
  }

  sections(): string[] {
    this.refresh();
    return [...this.bySection.keys()];
  }

  private refresh(): void {
    if (!this.dirty) return;
    this.newest = [...this.byId.values()].sort((a, b) => b.publishedAt - a.publishedAt || (a.id < b.id ? -1 : 1));
    this.bySection = new Map();
    for (const a of this.newest) {
      if (a.section === null) continue;
      let list = this.bySection.get(a.section);
      if (!list) this.bySection.set(a.section, (list = []));
      list.push(a);
    }
    this.dirty = false;
  }
}
