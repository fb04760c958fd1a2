import type { Kysely, Migration } from 'kysely';

/** Migration 0001_foundation. Frozen: see ./index.ts. */
export function foundation(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('articles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text')
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('lead', 'text')
        .addColumn('body', 'text')
        .addColumn('section', 'text')
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('author', 'text')
        .addColumn('published_ts', 'bigint', (c) => c.notNull())
        .addColumn('updated_ts', 'bigint')
        .addColumn('expires_ts', 'bigint')
        .addColumn('embargo_until_ts', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('published'))
        .addColumn('paywalled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('language', 'text')
        .execute();
      await db.schema.createIndex('articles_published').on('articles').columns(['published_ts']).execute();

      await db.schema
        .createTable('events')
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('reader_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('client_ts', 'bigint', (c) => c.notNull())
        .addColumn('received_ts', 'bigint', (c) => c.notNull())
        .addColumn('article_id', 'text')
        .addColumn('recomm_id', 'text')
        .addColumn('dwell_ms', 'integer')
        .addColumn('revenue', 'double precision')
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('exposures')
        .addColumn('experiment', 'text', (c) => c.notNull())
        .addColumn('phase', 'integer', (c) => c.notNull())
        .addColumn('reader_id', 'text', (c) => c.notNull())
        .addColumn('arm', 'text', (c) => c.notNull())
        .addColumn('hash_version', 'integer', (c) => c.notNull())
        .addColumn('exposed_ts', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('exposures_pk', ['experiment', 'phase', 'reader_id'])
        .execute();

      await db.schema
        .createTable('serves')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('recomm_id', 'text', (c) => c.notNull())
        .addColumn('placement', 'text', (c) => c.notNull())
        .addColumn('experiment', 'text')
        .addColumn('phase', 'integer')
        .addColumn('arm', 'text')
        .addColumn('hash_version', 'integer')
        .addColumn('recommender_kind', 'text', (c) => c.notNull())
        .addColumn('recommender_version', 'text', (c) => c.notNull())
        .addColumn('shadow', 'integer', (c) => c.notNull())
        .addColumn('reader_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('article_id', 'text')
        .addColumn('latency_ms', 'double precision', (c) => c.notNull())
        .addColumn('fallback', 'integer', (c) => c.notNull())
        .addColumn('fault', 'integer', (c) => c.notNull())
        .addColumn('slate', 'text', (c) => c.notNull())
        .addColumn('served_ts', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('serves_recomm').on('serves').columns(['recomm_id']).execute();
      await db.schema.createIndex('serves_time').on('serves').columns(['served_ts']).execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('role', 'text', (c) => c.primaryKey())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('created_ts', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
