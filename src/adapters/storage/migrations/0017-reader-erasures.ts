import type { Kysely, Migration } from 'kysely';

/** Migration 0017_reader_erasures. Frozen: see ./index.ts. */
export function readerErasures(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Readers forgotten (`readnext reader forget`, DELETE /v1/admin/readers/:id), in order: every
      // process sharing the database polls `seq` and drops the reader's in-memory state
      // (app/readers.ts). The reader is named by the SHA-256 of their id (hex), never the id itself:
      // the erasure leaves no row holding it. A process that starts later replays from the
      // database, where the reader's rows are gone, so it needs none of the earlier erasures.
      await db.schema
        .createTable('reader_erasures')
        .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('reader_hash', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
