import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0007_reader_days_by_day. Frozen: see ./index.ts. */
export function readerDaysByDay(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // reader_days keyed by (day, reader_id) instead of (reader_id, day): days older than any
      // pre-period still to be taken are pruned as one range at the left edge of the key (the old
      // key needed a full scan), and a pass's upserts of recent days share fewer pages. The
      // pre-period lookup becomes 14 point lookups per new exposure.
      let days = db.schema
        .createTable('reader_days_next')
        .addColumn('day', 'integer', (c) => c.notNull())
        .addColumn('reader_id', 'text', (c) => c.notNull());
      const cols = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'subscribed', 'revenue'];
      for (const c of cols) days = days.addColumn(c, c === 'revenue' ? 'double precision' : 'bigint', (x) => x.notNull().defaultTo(0));
      await days.addPrimaryKeyConstraint('reader_days_by_day_pk', ['day', 'reader_id']).execute();
      const list = ['day', 'reader_id', ...cols].join(', ');
      await sql`insert into reader_days_next (${sql.raw(list)}) select ${sql.raw(list)} from reader_days`.execute(db);
      await db.schema.dropTable('reader_days').execute();
      await db.schema.alterTable('reader_days_next').renameTo('reader_days').execute();
    },
  };
}
