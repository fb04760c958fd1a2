import { sql } from 'kysely';

/**
 * The statement a SQLite transaction that deletes events runs after its deletes (reader erasure,
 * retention). SQLite gives a new row the largest rowid + 1 (the events table has no AUTOINCREMENT),
 * so once the newest events are deleted, the next events would take rowids at or behind the
 * rollups' cursor (a rowid, adapters/storage/rollups.ts) and never be counted. Pulling the cursor
 * back to the largest rowid left, in the same write transaction, keeps both rules true: every row
 * at or below it was behind the old cursor (counted), and the next event gets a rowid past it.
 * PostgreSQL's cursor is a receive time and its rows carry their transaction ids: nothing to do.
 */
export const SQLITE_CURSOR_AFTER_DELETE = sql`update rollup_state set cursor = (select coalesce(max(rowid), 0) from events)
  where id = 1 and cursor > (select coalesce(max(rowid), 0) from events)`;
