import { isShowable } from '../catalog-index.js';
import { defineKind } from '../registry.js';
import type { Candidate } from '../types.js';
import { MINUTE } from './take.js';

/** Longest a co-read ranking is reused (see `create`). */
const RANKING_MAX_AGE_MS = MINUTE;

export const coRead = defineKind({
  kind: 'co-read',
  doc: '"readers of this also read": item-to-item co-visitation within a reader\'s reads `windowMinutes` apart, time-decayed, normalised',
  params: {
    halfLifeMinutes: { type: 'number', default: 1440, min: 1, max: 43_200, unit: 'minutes', doc: 'half-life of a co-read' },
    windowMinutes: {
      type: 'number',
      default: 360,
      min: 1,
      max: 10_080,
      unit: 'minutes',
      doc: 'two reads by one reader this close count as co-read',
    },
    lookback: { type: 'integer', default: 10, min: 1, max: 100, doc: 'previous reads of a reader paired with a new read' },
    maxNeighbours: { type: 'integer', default: 300, min: 10, max: 10_000, doc: 'co-read neighbours kept per article' },
    normalisation: {
      type: 'enum',
      default: 'jaccard',
      values: ['jaccard', 'lift', 'count'],
      doc: 'jaccard C/(N_a+N_b-C), lift C·N/(N_a·N_b), or the raw count',
    },
    minSupport: { type: 'number', default: 2, min: 0, max: 1e6, doc: 'least decayed co-read count for a pair to be recommended' },
  },
  create({ kind, version, params: p }, state) {
    const co = state.coVisitation({
      halfLifeMs: p.halfLifeMinutes * MINUTE,
      windowMs: p.windowMinutes * MINUTE,
      lookback: p.lookback,
      maxNeighbours: p.maxNeighbours,
    });
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
        const score =
          p.normalisation === 'count'
            ? c
            : p.normalisation === 'lift'
              ? (c * total) / Math.max(na * nb, 1e-12)
              : c / Math.max(na + nb - c, 1e-12);
        scored.push({ articleId: b, score, reason: 'read by readers of this article' });
      }
      return scored.sort((x, y) => y.score - x.score || (x.articleId < y.articleId ? -1 : 1));
    };
    return {
      kind,
      version,
      // The seed is the only input (the reader's latest read stands in for a missing article).
      shareKey: (ctx) => `a:${ctx.articleId ?? ctx.history[0] ?? ''}`,
      recommend(ctx, limit) {
        const seed = ctx.articleId ?? ctx.history[0];
        if (seed === undefined) return [];
        const ttlMs = ctx.now - ctx.horizon;
        const key = `${ttlMs}|${seed}`;
        let hit = cache.get(key);
        const age = hit === undefined ? 0 : ctx.now - hit.at;
        if (
          !hit ||
          age < 0 ||
          age >= RANKING_MAX_AGE_MS ||
          hit.catalogVersion !== state.catalog.version ||
          (hit.version !== co.version && age >= 1000)
        ) {
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
  },
});
