import { defineKind } from '../registry.js';
import { ids, take } from './take.js';

export const latest = defineKind({
  kind: 'latest',
  doc: 'newest first',
  params: {
    sameSection: { type: 'boolean', default: false, doc: "only articles of the current article's section" },
  },
  create({ kind, version, params: p }, state) {
    return {
      kind,
      version,
      shareKey: (ctx) => (p.sameSection ? `s:${ctx.article?.section ?? ''}` : ''),
      recommend(ctx, limit) {
        const section = ctx.article?.section ?? null;
        const inSection = p.sameSection && section !== null;
        const reason = inSection ? `latest in ${section}` : 'latest';
        return take(
          ids(state.catalog.recent(ctx.horizon, inSection ? section : null)),
          ctx,
          limit,
          (id) => state.catalog.get(id)!.publishedAt,
          reason,
        );
      },
    };
  },
});
