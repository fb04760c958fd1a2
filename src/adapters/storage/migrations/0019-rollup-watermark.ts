import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0019_rollup_watermark. Frozen: see ./index.ts. */
export function rollupWatermark(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // SQLite's rollup cursor is a rowid, handed out in commit order by its one writer: already
      // commit-safe, nothing to add.
      if (dialect !== 'postgres') return;
      // PostgreSQL: each event row keeps the id of the transaction that stored it, and the rollups
      // count a row only once every transaction below the snapshot's xmin has ended
      // (adapters/storage/rollups.ts, "commit-safe watermark"). Rows stored before this migration
      // keep a null id: all of them are committed (ALTER TABLE waits for every transaction writing
      // the table), and they stay placed by the receive-time cursor alone, as before. Added without
      // a default, then given one, so that the existing rows are not rewritten.
      await sql`alter table events add column xid xid8`.execute(db);
      await sql`alter table events alter column xid set default pg_current_xact_id()`.execute(db);
      // The rows committed since a pass, read by transaction id with their receive time in the
      // index (a pass looks for those received before its cursor). Partial: the old rows' nulls are never asked for.
      await sql`create index events_xid on events (xid, received_ts) where xid is not null`.execute(db);
      // The watermark of the last pass: every row with a smaller id and received before the cursor is rolled up.
      await sql`alter table rollup_state add column watermark text`.execute(db);
    },
  };
}
