import { type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Versioned migrations, applied in name order at every start (Kysely's Migrator records what ran
 * and takes a lock, so several processes starting together are safe). Written once with Kysely's
 * schema builder for both dialects; `autoIncrement` vs `serial` is the one dialect branch.
 * Never edit a released migration: add the next one.
 */
function migrations(dialect: 'sqlite' | 'postgres'): Record<string, Migration> {
  return {
    '0001_foundation': {
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
    },
    '0002_placements': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('placements')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('updated_ts', 'bigint', (c) => c.notNull())
          .execute();
        // When a row was last written here (not the newsroom's updatedAt): serving nodes poll it to pick up imports made by other processes.
        await db.schema.alterTable('articles').addColumn('stored_ts', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.createIndex('articles_stored').on('articles').columns(['stored_ts']).execute();
      },
    },
    '0003_deployments': {
      async up(db: Kysely<unknown>) {
        const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
          t.addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()));
        // Every deployment a placement ever had, so any revision can be restored.
        await db.schema
          .createTable('placement_revisions')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addPrimaryKeyConstraint('placement_revisions_pk', ['name', 'revision'])
          .execute();
        await db.schema
          .createTable('experiments')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('placement', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('definition', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('updated_ts', 'bigint', (c) => c.notNull())
          .execute();
        // Append-only: who changed what, when and why.
        await id(db.schema.createTable('audit_log'))
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('details', 'text', (c) => c.notNull())
          .execute();
        // One row whose version moves on every deployment or experiment change: what serving nodes poll.
        await db.schema
          .createTable('deploy_state')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('version', 'bigint', (c) => c.notNull())
          .execute();
        await db.insertInto('deploy_state' as never).values({ id: 1, version: 0 } as never).execute();
        // Attribution joins (canary CTR, shadow and experiment analysis) look events up by recommId.
        await db.schema.createIndex('events_recomm').on('events').column('recomm_id').where('recomm_id', 'is not', null).execute();
        await db.schema.createIndex('serves_placement_time').on('serves').columns(['placement', 'served_ts']).execute();
      },
    },
    '0004_fewer_serve_indexes': {
      async up(db: Kysely<unknown>) {
        // Every query by time also filters by placement (serves_placement_time): one index less to
        // maintain per recommendation response.
        await db.schema.dropIndex('serves_time').execute();
      },
    },
  };
}

export function migrationProvider(dialect: 'sqlite' | 'postgres'): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
