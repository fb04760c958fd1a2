import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0010_report_over_receive_time. Frozen: see ./index.ts. */
export function reportOverReceiveTime(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // What experiment reports are computed over (docs/adr/0001-analysis-rollups.md): the
      // server's receive time places events (not the reader's clock), the exposure's own page
      // view counts after it (the exposure keeps its session and article), CTR counts the
      // experiment's placement only, revenue is converted to one currency or counted apart.
      // Ids compare byte by byte on PostgreSQL (migration 0008).
      const id = dialect === 'postgres' ? 'text collate "C"' : 'text';
      for (const c of ['session_id', 'article_id']) await sql.raw(`alter table exposures add column ${c} ${id}`).execute(db);
      await sql.raw(`alter table rollup_windows add column placement ${id}`).execute(db);
      await sql.raw(`alter table rollup_state add column currency text`).execute(db);
      await db.schema
        .createTable('rollup_rates')
        .addColumn('currency', 'text', (c) => c.primaryKey())
        .addColumn('rate', 'double precision', (c) => c.notNull())
        .execute();
      await sql
        .raw(
          `create table exposure_unpriced (experiment ${id} not null, phase integer not null, reader_id ${id} not null, currency text not null,
          events bigint not null, amount double precision not null, constraint exposure_unpriced_pk primary key (experiment, phase, reader_id, currency))`,
        )
        .execute(db);
      // A pass claims the new exposures (rolled = 2) before it rolls them up (adapters/storage/rollups.ts step 1).
      await db.schema.createIndex('exposures_claimed').on('exposures').column('reader_id').where(sql.ref('rolled'), '=', 2).execute();
      // Everything rolled up so far was placed by the client's clock: roll it up again under the
      // new rules (from the skip-ahead floor: 15 days before the earliest phase's start).
      const cols = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'sessions', 'subscribed', 'revenue'];
      const pre = ['pre_impressions', 'pre_clicks', 'pre_reads', 'pre_dwell_ms', 'pre_page_views', 'pre_subscribed', 'pre_revenue'];
      await sql.raw(`update exposures set ${[...cols, ...pre, 'rolled'].map((c) => `${c} = 0`).join(', ')}`).execute(db);
      await sql`delete from exposure_sessions`.execute(db);
      await sql`delete from reader_days`.execute(db);
      await sql`update rollup_state set cursor = 0, through_ts = 0`.execute(db);
    },
  };
}
