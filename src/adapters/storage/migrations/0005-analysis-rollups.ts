import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0005_analysis_rollups. Frozen: see ./index.ts. */
export function analysisRollups(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Per-exposure rollups (docs/adr/0001-analysis-rollups.md): the report reads one row per
      // exposed reader instead of joining every stored event. Filled by advanceRollups, off the
      // ingestion path, from a cursor over the events.
      let t = db.schema.alterTable('exposures');
      const cols = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'sessions', 'subscribed', 'revenue'];
      const pre = ['pre_impressions', 'pre_clicks', 'pre_reads', 'pre_dwell_ms', 'pre_page_views', 'pre_subscribed', 'pre_revenue'];
      for (const c of [...cols, ...pre, 'rolled']) {
        await t.addColumn(c, c.endsWith('revenue') ? 'double precision' : 'bigint', (x) => x.notNull().defaultTo(0)).execute();
        t = db.schema.alterTable('exposures');
      }
      await db.schema.createIndex('exposures_reader').on('exposures').column('reader_id').execute();
      await db.schema.createIndex('exposures_unrolled').on('exposures').column('reader_id').where(sql.ref('rolled'), '=', 0).execute();
      // Distinct sessions per exposure after the first exposure (pages per session).
      await db.schema
        .createTable('exposure_sessions')
        .addColumn('experiment', 'text', (c) => c.notNull())
        .addColumn('phase', 'integer', (c) => c.notNull())
        .addColumn('reader_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('exposure_sessions_pk', ['experiment', 'phase', 'reader_id', 'session_id'])
        .execute();
      // Every reader's activity per UTC day: the CUPED pre-period of a reader exposed later.
      let days = db.schema
        .createTable('reader_days')
        .addColumn('reader_id', 'text', (c) => c.notNull())
        .addColumn('day', 'integer', (c) => c.notNull());
      for (const c of cols.filter((x) => x !== 'sessions'))
        days = days.addColumn(c, c === 'revenue' ? 'double precision' : 'bigint', (x) => x.notNull().defaultTo(0));
      await days.addPrimaryKeyConstraint('reader_days_pk', ['reader_id', 'day']).execute();
      // The phases whose exposures take events, with their end (null: running); rewritten by each advance.
      await db.schema
        .createTable('rollup_windows')
        .addColumn('experiment', 'text', (c) => c.notNull())
        .addColumn('phase', 'integer', (c) => c.notNull())
        .addColumn('to_ts', 'bigint')
        .addPrimaryKeyConstraint('rollup_windows_pk', ['experiment', 'phase'])
        .execute();
      // One row: how far the events have been rolled up (SQLite: rowid; PostgreSQL: received time) and up to which receive time.
      await db.schema
        .createTable('rollup_state')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('cursor', 'bigint', (c) => c.notNull())
        .addColumn('through_ts', 'bigint', (c) => c.notNull())
        .execute();
      await db
        .insertInto('rollup_state' as never)
        .values({ id: 1, cursor: 0, through_ts: 0 } as never)
        .execute();
      // PostgreSQL reads the events to roll up by receive time (appends land at the right edge of
      // this index); SQLite uses the rowid, which a single writer hands out in commit order.
      if (dialect === 'postgres') await db.schema.createIndex('events_received').on('events').column('received_ts').execute();
    },
  };
}
