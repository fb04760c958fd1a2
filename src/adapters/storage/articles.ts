import type { Article } from '../../core/catalog/article.js';
import { sql, type SelectQueryBuilder } from 'kysely';
import type { ArticleFilter, ArticleStore } from '../../app/ports.js';
import { chunks, type Dialect } from './dialect.js';
import { articleToRow, rowToArticle } from './rows.js';
import type { Database } from './schema.js';

/** `text` as a LIKE pattern matching itself anywhere: its wildcards (% and _) and the escape character (a backslash) escaped. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/**
 * The filter on an articles query. The title test folds both sides with the database's lower():
 * case-insensitive for ASCII letters on both databases (SQLite's lower() folds nothing else;
 * PostgreSQL's folds by its locale), and an exact-case match always matches.
 */
function filtered<O>(q: SelectQueryBuilder<Database, 'articles', O>, f: ArticleFilter): SelectQueryBuilder<Database, 'articles', O> {
  if (f.section !== undefined) q = q.where('section', '=', f.section);
  if (f.q !== undefined && f.q !== '') q = q.where(sql<boolean>`lower(title) like lower(${containsPattern(f.q)}) escape '\\'`);
  return q;
}

export function articleStore(d: Dialect): ArticleStore {
  const { db } = d;
  return {
    async upsertArticles(articles: readonly Article[], storedTs: number) {
      let inserted = 0;
      for (const batch of chunks(articles, 200)) {
        const ids = [...new Set(batch.map((a) => a.id))];
        const existing = await db.selectFrom('articles').select('id').where('id', 'in', ids).execute();
        inserted += ids.length - existing.length;
        await db
          .insertInto('articles')
          .values(batch.map((a) => articleToRow(a, storedTs)))
          .onConflict((oc) =>
            oc.column('id').doUpdateSet((eb) => ({
              url: eb.ref('excluded.url'),
              title: eb.ref('excluded.title'),
              lead: eb.ref('excluded.lead'),
              body: eb.ref('excluded.body'),
              section: eb.ref('excluded.section'),
              tags: eb.ref('excluded.tags'),
              author: eb.ref('excluded.author'),
              published_ts: eb.ref('excluded.published_ts'),
              updated_ts: eb.ref('excluded.updated_ts'),
              expires_ts: eb.ref('excluded.expires_ts'),
              embargo_until_ts: eb.ref('excluded.embargo_until_ts'),
              status: eb.ref('excluded.status'),
              paywalled: eb.ref('excluded.paywalled'),
              language: eb.ref('excluded.language'),
              stored_ts: eb.ref('excluded.stored_ts'),
            })),
          )
          .execute();
      }
      return { inserted, updated: articles.length - inserted };
    },

    async getArticle(id) {
      const r = await db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? rowToArticle(r) : undefined;
    },

    async setArticleStatus(id, status, storedTs) {
      const r = await db.updateTable('articles').set({ status, stored_ts: storedTs }).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async deleteArticle(id) {
      const r = await db.deleteFrom('articles').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async articlesStoredSince(sinceTs) {
      const rows = await db.selectFrom('articles').selectAll().where('stored_ts', '>=', sinceTs).execute();
      return rows.map(rowToArticle);
    },

    async countArticles(filter = {}) {
      const r = await filtered(
        db.selectFrom('articles').select((eb) => eb.fn.countAll().as('n')),
        filter,
      ).executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async listArticles(opts) {
      const q = filtered(db.selectFrom('articles').selectAll(), opts);
      const rows = await q.orderBy('published_ts', 'desc').orderBy('id').limit(opts.limit).offset(opts.offset).execute();
      return rows.map(rowToArticle);
    },
  };
}
