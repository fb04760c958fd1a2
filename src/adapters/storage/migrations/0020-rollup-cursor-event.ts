import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0020_rollup_cursor_event. Frozen: see ./index.ts. */
export function rollupCursorEvent(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // PostgreSQL's rollup cursor is a receive time and its rows keep their transaction ids: nothing to add.
      if (dialect !== 'sqlite') return;
      // SQLite's cursor is a rowid, which a `.dump` and restore numbers again (the events table has
      // no INTEGER PRIMARY KEY). The id of the last event at or before the cursor ('' when there is
      // none) lets a pass find where the cursor is after a renumbering (adapters/storage/rollup-cursor.ts).
      // Null until the first pass after this migration.
      await sql`alter table rollup_state add column cursor_event text`.execute(db);
    },
  };
}
