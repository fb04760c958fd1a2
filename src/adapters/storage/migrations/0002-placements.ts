import type { Kysely, Migration } from 'kysely';

/** Migration 0002_placements. Frozen: see ./index.ts. */
export function placements(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('placements')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('updated_ts', 'bigint', (c) => c.notNull())
        .execute();
      // When a row was last written here (not the newsroom's updatedAt): serving nodes poll it to pick up imports made by other processes.
      await db.schema
        .alterTable('articles')
        .addColumn('stored_ts', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('articles_stored').on('articles').columns(['stored_ts']).execute();
    },
  };
}
