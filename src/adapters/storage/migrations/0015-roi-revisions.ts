import type { Kysely, Migration } from 'kysely';

/** Migration 0015_roi_revisions. Frozen: see ./index.ts. */
export function roiRevisions(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // The ROI's revisions (RoiStore, issue 19): each `readnext roi update` of a named scenario stores
      // the document it analysed (priors replaced by what production measured), the measurements it
      // used and the result, so the uncertainty can be followed over time. Never updated.
      await db.schema
        .createTable('roi_revisions')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_ts', 'bigint', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('sources', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('roi_revisions_name').on('roi_revisions').columns(['name', 'id']).execute();
    },
  };
}
