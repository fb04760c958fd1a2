/** Builders shared by the recommend tests: articles, signals, fresh states and request contexts. */
import type { Article } from '../../../src/core/catalog/article.js';
import { FreshState } from '../../../src/core/recommend/fresh-state.js';
import { DEFAULT_PLACEMENT, type PlacementConfig } from '../../../src/core/recommend/placement.js';
import type { Signal } from '../../../src/core/recommend/signals.js';
import { buildContext } from '../../../src/core/recommend/slate.js';
import { syntheticArticle } from '../../../src/core/simulate/synthetic.js';
import type { RecContext } from '../../../src/core/recommend/types.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** A fixed "now" for every recommend test: time is a parameter, never the system clock. */
export const NOW = Date.parse('2026-03-02T12:00:00Z');

export function article(id: string, section: string | null, publishedAt: number, over: Partial<Article> = {}): Article {
  return { ...syntheticArticle(id, section, publishedAt, `Title ${id}`), ...over };
}

export const read = (readerId: string, articleId: string, ts: number): Signal => ({ kind: 'read', readerId, articleId, ts });
export const click = (readerId: string, articleId: string, ts: number): Signal => ({ kind: 'click', readerId, articleId, ts });
export const view = (readerId: string, articleId: string, ts: number): Signal => ({ kind: 'view', readerId, articleId, ts });

/** A small fresh state (capacities far above what tests use). */
export function freshState(articles: readonly Article[], signals: readonly Signal[] = []): FreshState {
  const s = new FreshState({ signalCapacity: 1_000_000, maxReaders: 100_000, historyPerReader: 50 });
  s.upsertArticles(articles);
  for (const x of signals) s.add(x);
  return s;
}

/** A placement with no fallbacks, no cap and no pins: the recommender alone, filtered by buildContext. */
export function barePlacement(over: Partial<PlacementConfig> = {}): PlacementConfig {
  return { ...DEFAULT_PLACEMENT, fallbacks: [], maxPerSection: null, pins: [], blocked: [], ...over };
}

/** The context composeSlate would build, with the shared buildContext rule. */
export function context(
  state: FreshState,
  req: { articleId?: string | null; readerId?: string | null; now?: number; k?: number; placement?: PlacementConfig } = {},
): RecContext {
  const placement = req.placement ?? barePlacement();
  const articleId = req.articleId ?? null;
  const readerId = req.readerId ?? null;
  const now = req.now ?? NOW;
  const k = req.k ?? 5;
  return buildContext(state, { placement, articleId, readerId, sessionId: null, k, now });
}

export { domainError } from '../../helpers/errors.js';
