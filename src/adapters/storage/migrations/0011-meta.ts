import type { Kysely, Migration } from 'kysely';

/** Migration 0011_meta. Frozen: see ./index.ts. */
export function meta(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Facts about the database itself (MetaStore): `clock` = `simulated` once a simulated clock ran on it.
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
