import type { LabEventStore, LabImpressionRow } from '../../app/ports.js';
import type { Dialect } from './dialect.js';
import { rowToArticle, rowToEvent } from './rows.js';

/**
 * LabEventStore: the whole event history the offline lab replays, read with queries that are the
 * same on SQLite and PostgreSQL. Impressions are mapped through rowToEvent (their slate is JSON in
 * `extra`); clicks join them by recommId in memory (one pass, no per-impression query).
 */
export function labEventStore(d: Dialect): LabEventStore {
  const { db } = d;
  return {
    async labArticles() {
      return (await db.selectFrom('articles').selectAll().orderBy('id').execute()).map(rowToArticle);
    },

    async labImpressions() {
      const rows = await db
        .selectFrom('events')
        .selectAll()
        .where('type', '=', 'impression')
        .orderBy('client_ts')
        .orderBy('event_id')
        .execute();
      const clicks = await db
        .selectFrom('events')
        .select(['recomm_id', 'article_id'])
        .where('type', '=', 'click')
        .where('recomm_id', 'is not', null)
        .orderBy('client_ts')
        .execute();
      const byRecomm = new Map<string, LabImpressionRow>();
      const out: LabImpressionRow[] = [];
      for (const r of rows) {
        const e = rowToEvent(r);
        if (e.type !== 'impression' || e.shadow || byRecomm.has(e.recommId)) continue;
        const imp: LabImpressionRow = {
          recommId: e.recommId,
          placement: e.placement,
          readerId: e.readerId,
          ts: e.clientTs,
          items: [...e.items].sort((a, b) => a.position - b.position).map((i) => i.articleId),
          clicked: [],
        };
        byRecomm.set(imp.recommId, imp);
        out.push(imp);
      }
      for (const c of clicks) {
        const imp = byRecomm.get(c.recomm_id!);
        if (imp && c.article_id !== null && !imp.clicked.includes(c.article_id)) imp.clicked.push(c.article_id);
      }
      return out;
    },

    async labReads() {
      const rows = await db
        .selectFrom('events')
        .select(['reader_id', 'article_id', 'client_ts'])
        .where('type', '=', 'read')
        .where('article_id', 'is not', null)
        .orderBy('client_ts')
        .orderBy('event_id')
        .execute();
      return rows.map((r) => ({ readerId: r.reader_id, articleId: r.article_id!, ts: Number(r.client_ts) }));
    },
  };
}
