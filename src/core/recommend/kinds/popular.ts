import { defineKind } from '../registry.js';
import { MINUTE, take } from './take.js';

export const popular = defineKind({
  kind: 'popular',
  doc: 'reads and clicks with exponential time decay',
  params: {
    halfLifeMinutes: {
      type: 'number',
      default: 30,
      min: 1,
      max: 10_080,
      unit: 'minutes',
      doc: 'half-life of a read or click (news popularity windows are short)',
    },
    readWeight: { type: 'number', default: 1, min: 0, max: 100, doc: 'weight of a read' },
    clickWeight: { type: 'number', default: 1, min: 0, max: 100, doc: 'weight of a recommendation click' },
  },
  create({ kind, version, params: p }, state) {
    const pop = state.popularity(p.halfLifeMinutes * MINUTE, { read: p.readWeight, click: p.clickWeight, view: 0 });
    return {
      kind,
      version,
      shareKey: () => '',
      recommend: (ctx, limit) => take(pop.ranking(ctx.now), ctx, limit, (id) => pop.score(id, ctx.now), 'popular now'),
    };
  },
});
