import type { Article } from '../catalog/article.js';

/** What a recommender knows about one request. Times are epoch ms; `now` comes from the caller's Clock. */
export interface RecContext {
  placement: string;
  /** The article being read, or null on a non-article page. May be unknown to the catalog. */
  articleId: string | null;
  /** The current article when the catalog knows it. */
  article: Article | undefined;
  readerId: string | null;
  sessionId: string | null;
  /** Articles this reader read recently, newest first (empty for anonymous or opted-out readers). */
  history: readonly string[];
  now: number;
  /** now − the placement's TTL: older articles are expired unless they carry their own expiry (see CatalogIndex.recent). */
  horizon: number;
  k: number;
  /**
   * True when the article may be shown here (published, not embargoed or expired, not blocked, not
   * the current one, not already read). Recommenders scan lazily and stop when they have enough.
   */
  eligible(articleId: string): boolean;
}

export interface Candidate {
  articleId: string;
  score: number;
  /** A short human reason ("read by readers of this article"), shown in debugging and the dashboard. */
  reason: string;
}

/**
 * A recommender is a pure function of its context and the fresh state it was built on.
 *
 * @example
 * const r = registry.build({ kind: 'latest', version: '1', params: {} }, state);
 * r.recommend(ctx, 10) // up to 10 eligible candidates, best first
 */
export interface Recommender {
  readonly kind: string;
  readonly version: string;
  /** Up to `limit` eligible candidates, best first. May return fewer; never throws by design (the caller still guards). */
  recommend(ctx: RecContext, limit: number): Candidate[];
  /**
   * Optional: a key such that, for any two contexts with the same key, placement and time, this
   * recommender ranks the same articles in the same order, and only the reader-specific part of
   * `eligible` (already read, current article) differs. Serving then ranks once per key and
   * filters the shared ranking per reader (see SharedSlates). Omitted (a personalised model):
   * every request ranks on its own.
   */
  shareKey?(ctx: Pick<RecContext, 'articleId' | 'article' | 'history'>): string | undefined;
}

/** A recommender as configured: kind, a version string chosen by whoever deploys it, and kind-specific params. */
export interface RecommenderConfig {
  kind: string;
  version: string;
  params?: Record<string, unknown>;
}
