import { DomainError } from '../../kernel/errors.js';
import { isShowable } from '../catalog-index.js';
import type { FreshState } from '../fresh-state.js';
import { readParams, type ParamSpec } from '../params.js';
import type { Candidate, RecContext, Recommender, RecommenderConfig } from '../types.js';

const MINUTE = 60_000;
/** Longest a co-read ranking is reused (see the co-read recommender). */
const RANKING_MAX_AGE_MS = MINUTE;
const HOUR = 60 * MINUTE;

/** Parameters of each kind, with defaults and units; the README's recommender table is generated from the same data. */
export const PARAMS = {
  none: {},
  latest: {
    sameSection: { type: 'boolean', default: false, doc: 'only articles of the current article\'s section' },
  },
  popular: {
    halfLifeMinutes: { type: 'number', default: 30, min: 1, max: 10_080, unit: 'minutes', doc: 'half-life of a read or click (news popularity windows are short)' },
    readWeight: { type: 'number', default: 1, min: 0, max: 100, doc: 'weight of a read' },
    clickWeight: { type: 'number', default: 1, min: 0, max: 100, doc: 'weight of a recommendation click' },
  },
  'same-section': {
    halfLifeMinutes: { type: 'number', default: 60, min: 1, max: 10_080, unit: 'minutes', doc: 'half-life of popularity' },
    freshnessHalfLifeHours: { type: 'number', default: 12, min: 0.1, max: 720, unit: 'hours', doc: 'age at which an article\'s score halves' },
  },
  'co-read': {
    halfLifeMinutes: { type: 'number', default: 1440, min: 1, max: 43_200, unit: 'minutes', doc: 'half-life of a co-read' },
    windowMinutes: { type: 'number', default: 360, min: 1, max: 10_080, unit: 'minutes', doc: 'two reads by one reader this close count as co-read' },
    lookback: { type: 'integer', default: 10, min: 1, max: 100, doc: 'previous reads of a reader paired with a new read' },
    maxNeighbours: { type: 'integer', default: 300, min: 10, max: 10_000, doc: 'co-read neighbours kept per article' },
    normalisation: { type: 'enum', default: 'jaccard', values: ['jaccard', 'lift', 'count'], doc: 'jaccard C/(N_a+N_b-C), lift C·N/(N_a·N_b), or the raw count' },
    minSupport: { type: 'number', default: 2, min: 0, max: 1e6, doc: 'least decayed co-read count for a pair to be recommended' },
  },
} as const satisfies Record<string, Record<string, ParamSpec>>;

/** Takes candidates from an ordered list of ids while they are eligible, up to `limit`. */
function take(ids: Iterable<string>, ctx: RecContext, limit: number, score: (id: string, i: number) => number, reason: string): Candidate[] {
  const out: Candidate[] = [];
  let i = 0;
  for (const id of ids) {
    if (out.length >= limit) break;
    if (!ctx.eligible(id)) continue;
    out.push({ articleId: id, score: score(id, i++), reason });
  }
  return out;
}

function* ids(articles: Iterable<{ id: string }>): IterableIterator<string> {
  for (const a of articles) yield a.id;
}

/**
 * Builds a recommender from its config; bad configs throw a DomainError naming the parameter.
 *
 * @example
 * createRecommender({ kind: 'popular', version: '2', params: { halfLifeMinutes: 20 } }, state)
 */
export function createRecommender(config: RecommenderConfig, state: FreshState): Recommender {
  const { kind, version } = config;
  if (typeof version !== 'string' || version.length === 0 || version.length > 64) {
    throw new DomainError('invalid_field', 'a recommender needs a version string of 1 to 64 characters', { field: 'version' });
  }
  switch (kind) {
    case 'none':
      readParams(kind, PARAMS.none, config.params);
      // The status quo: shows nothing, but its responses are still recorded so the control arm is measured.
      return { kind, version, recommend: () => [], shareKey: () => '' };

    case 'latest': {
      const p = readParams(kind, PARAMS.latest, config.params);
      return {
        kind, version,
        shareKey: (ctx) => (p.sameSection ? `s:${ctx.article?.section ?? ''}` : ''),
        recommend(ctx, limit) {
          const section = ctx.article?.section ?? null;
          const inSection = p.sameSection && section !== null;
          const reason = inSection ? `latest in ${section}` : 'latest';
          return take(ids(state.catalog.recent(ctx.horizon, inSection ? section : null)), ctx, limit, (id) => state.catalog.get(id)!.publishedAt, reason);
        },
      };
    }

    case 'popular': {
      const p = readParams(kind, PARAMS.popular, config.params);
      const pop = state.popularity(p.halfLifeMinutes * MINUTE, { read: p.readWeight, click: p.clickWeight, view: 0 });
      return {
        kind, version,
        shareKey: () => '',
        recommend: (ctx, limit) => take(pop.ranking(ctx.now), ctx, limit, (id) => pop.score(id, ctx.now), 'popular now'),
      };
    }

    case 'same-section': {
      const p = readParams(kind, PARAMS['same-section'], config.params);
      const pop = state.popularity(p.halfLifeMinutes * MINUTE, { read: 1, click: 1, view: 0 });
      const freshHl = p.freshnessHalfLifeHours * HOUR;
      return {
        kind, version,
        shareKey: (ctx) => `s:${ctx.article?.section ?? ''}`,
        recommend(ctx, limit) {
          const section = ctx.article?.section;
          if (!section) return [];
          // score = freshness × (1 + popularity): unread fresh articles still rank by recency.
          const scored: Candidate[] = [];
          for (const a of state.catalog.recent(ctx.horizon, section)) {
            if (scored.length >= 500) break; // newest 500 eligible are plenty for any slate
            if (!ctx.eligible(a.id)) continue;
            const fresh = 2 ** (-Math.max(0, ctx.now - a.publishedAt) / freshHl);
            scored.push({ articleId: a.id, score: fresh * (1 + pop.score(a.id, ctx.now)), reason: `fresh and popular in ${section}` });
          }
          return scored.sort((x, y) => y.score - x.score).slice(0, limit);
        },
      };
    }

    case 'co-read': {
      const p = readParams(kind, PARAMS['co-read'], config.params);
      const co = state.coVisitation({ halfLifeMs: p.halfLifeMinutes * MINUTE, windowMs: p.windowMinutes * MINUTE, lookback: p.lookback, maxNeighbours: p.maxNeighbours });
      // Every count decays at the same rate, so a seed's ranking only changes when reads arrive:
      // rank a seed's neighbours once, reuse the ranking for up to a second while reads flow in,
      // and only filter it per request. (Scoring ~300 neighbours per request dominated serving.)
      // The ranking also leaves out neighbours that cannot be shown at ranking time (expired under
      // the placement's TTL, unpublished, embargoed): expiry only moves one way, a catalog change
      // rebuilds the ranking, and an embargo that lifts is seen within RANKING_MAX_AGE_MS. The
      // per-request filter still checks every item it takes, so a retraction applies at once.
      const cache = new Map<string, { at: number; version: number; catalogVersion: number; ranked: Candidate[] }>();
      const rank = (seed: string, now: number, ttlMs: number): Candidate[] => {
        const na = co.count(seed, now);
        const total = co.totalAt(now);
        const scored: Candidate[] = [];
        for (const [b, c] of co.neighbours(seed, now)) {
          if (c < p.minSupport) continue;
          const article = state.catalog.get(b);
          if (article === undefined || !isShowable(article, now, ttlMs)) continue;
          const nb = co.count(b, now);
          // Jaccard: C / (N_a + N_b - C); lift: C·N / (N_a·N_b) (observed over expected co-reads).
          const score = p.normalisation === 'count' ? c : p.normalisation === 'lift' ? (c * total) / Math.max(na * nb, 1e-12) : c / Math.max(na + nb - c, 1e-12);
          scored.push({ articleId: b, score, reason: 'read by readers of this article' });
        }
        return scored.sort((x, y) => y.score - x.score || (x.articleId < y.articleId ? -1 : 1));
      };
      return {
        kind, version,
        // The seed is the only input (the reader's latest read stands in for a missing article).
        shareKey: (ctx) => `a:${ctx.articleId ?? ctx.history[0] ?? ''}`,
        recommend(ctx, limit) {
          const seed = ctx.articleId ?? ctx.history[0];
          if (seed === undefined) return [];
          const ttlMs = ctx.now - ctx.horizon;
          const key = `${ttlMs}|${seed}`;
          let hit = cache.get(key);
          const age = hit === undefined ? 0 : ctx.now - hit.at;
          if (!hit || age < 0 || age >= RANKING_MAX_AGE_MS || hit.catalogVersion !== state.catalog.version || (hit.version !== co.version && age >= 1000)) {
            hit = { at: ctx.now, version: co.version, catalogVersion: state.catalog.version, ranked: rank(seed, ctx.now, ttlMs) };
            cache.set(key, hit);
          }
          const out: Candidate[] = [];
          for (const c of hit.ranked) {
            if (out.length >= limit) break;
            if (ctx.eligible(c.articleId)) out.push(c);
          }
          return out;
        },
      };
    }

    default:
      throw new DomainError('invalid_field', `unknown recommender kind "${kind}"; known: ${Object.keys(PARAMS).join(', ')}`, { field: 'kind' });
  }
}
