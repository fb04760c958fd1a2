import { defineKind } from '../registry.js';
import type { Candidate } from '../types.js';
import { HOUR, MINUTE } from './take.js';

export const sameSection = defineKind({
  kind: 'same-section',
  doc: "fresh and popular in the current article's section: 2^(-age/freshness half-life) x (1 + popularity)",
  params: {
    halfLifeMinutes: { type: 'number', default: 60, min: 1, max: 10_080, unit: 'minutes', doc: 'half-life of popularity' },
    freshnessHalfLifeHours: {
      type: 'number',
      default: 12,
      min: 0.1,
      max: 720,
      unit: 'hours',
      doc: "age at which an article's score halves",
    },
  },
  create({ kind, version, params: p }, state) {
    const pop = state.popularity(p.halfLifeMinutes * MINUTE, { read: 1, click: 1, view: 0 });
    const freshHl = p.freshnessHalfLifeHours * HOUR;
    return {
      kind,
      version,
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
  },
});
