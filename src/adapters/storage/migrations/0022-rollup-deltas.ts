import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0022_rollup_deltas. Frozen: see ./index.ts. */
export function rollupDeltas(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // PostgreSQL's passes update the rollup tables in place, as before.
      if (dialect !== 'sqlite') return;
      // SQLite: a pass appends what it adds to exposures, exposure_session_ids and reader_days to these
      // tables (no key, no index: new rows at the end of one B-tree), and a later pass merges them
      // in key order (adapters/storage/rollups.ts, "Deltas"). Updating the keyed tables in place
      // dirtied a page per event in each of them once they outgrew the page cache.
      const measures = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'subscribed', 'revenue'];
      const typed = (c: string) => `${c} ${c.endsWith('revenue') ? 'double precision' : 'bigint'} not null default 0`;
      const exposureCols = [...measures, ...measures.map((c) => `pre_${c}`)].map(typed).join(', ');
      await sql.raw(`create table exposure_deltas (rid integer not null, ${exposureCols})`).execute(db);
      await sql`create table exposure_session_deltas (rid integer not null, session_id text not null)`.execute(db);
      await sql
        .raw(`create table reader_day_deltas (reader_id text not null, day bigint not null, ${measures.map(typed).join(', ')})`)
        .execute(db);
      // The earliest day in reader_day_deltas (null when empty): a pre-period that reaches it merges them first.
      await sql`alter table rollup_state add column delta_day bigint`.execute(db);
      // A merge of exposure_deltas in progress (null: none): the next exposure id to merge, and the
      // last rows of exposure_deltas and exposure_session_deltas it covers (those appended before it began).
      await sql`alter table rollup_state add column merge_rid bigint`.execute(db);
      await sql`alter table rollup_state add column merge_row bigint`.execute(db);
      await sql`alter table rollup_state add column merge_session_row bigint`.execute(db);
    },
  };
}
