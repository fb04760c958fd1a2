import { sql, type CompiledQuery, type RawBuilder } from 'kysely';

/**
 * SQLite: the id of the last event at or before rowid `cursor`, '' when there is none: stored with
 * the rollups' cursor (rollup_state.cursor_event, migration 0020) by every pass and every delete,
 * so that sqliteCursorCheck can find the cursor again after the rowids were renumbered.
 */
export const sqliteCursorEvent = (cursor: RawBuilder<unknown> | number) =>
  sql`coalesce((select event_id from events where rowid <= ${cursor} order by rowid desc limit 1), '')`;

/**
 * The statement a SQLite transaction that deletes events runs after its deletes (reader erasure,
 * retention). SQLite gives a new row the largest rowid + 1 (the events table has no AUTOINCREMENT),
 * so once the newest events are deleted, the next events would take rowids at or behind the
 * rollups' cursor (a rowid, adapters/storage/rollups.ts) and never be counted. Pulling the cursor
 * back to the largest rowid left, in the same write transaction, keeps both rules true: every row
 * at or below it was behind the old cursor (counted), and the next event gets a rowid past it.
 * The cursor's event is set again too (the deletes may have taken it; SET reads the old cursor,
 * and no row is left between the new cursor and the old one). PostgreSQL's cursor is a receive
 * time and its rows carry their transaction ids: nothing to do.
 */
export const SQLITE_CURSOR_AFTER_DELETE = sql`update rollup_state set cursor = min(cursor, (select coalesce(max(rowid), 0) from events)),
  cursor_event = ${sqliteCursorEvent(sql`rollup_state.cursor`)} where id = 1`;

type Row = Record<string, unknown>;

/**
 * SQLite: where the rollups' cursor is, when the events' rowids were renumbered since the last pass
 * (issue 22). The events table has no INTEGER PRIMARY KEY (its key is `event_id text`), so its
 * rowids are not part of its data: the sqlite3 shell's `.dump` writes the rows without them and a
 * restore numbers them from 1 again, in the order they were written, which is rowid order (a scan
 * of the table); SQLite documents that VACUUM may do the same (it does not in the versions tested).
 * Rows deleted before (retention, erasures) leave gaps that the new numbering closes: the rows not
 * yet counted, and the next ones stored, moved behind the cursor and were never counted.
 *
 * Invariant kept by every pass and every delete: `cursor_event` is the id of the last row at or
 * before the cursor ('' when none is left), and every row after it was stored after it (new rows
 * take the largest rowid + 1, past the cursor). A renumbering in rowid order keeps the order of the
 * rows, so the counted rows are still exactly the cursor's event and those before it: when the row
 * at or before the cursor is not that event, the cursor moves to the event's new rowid (0 when none
 * was left: every row is after it). Null (no pass since migration 0020): the cursor stands. When
 * the event is gone (deleted without the statement above), the cursor stands too: nothing proves
 * a renumbering, and the pass sets the event again.
 */
export function* sqliteCursorCheck(
  q: (b: RawBuilder<unknown>) => CompiledQuery,
  cursor: number,
): Generator<CompiledQuery, { cursor: number; notice?: string }, Row[]> {
  const [s] = yield q(sql`select cursor_event as e, ${sqliteCursorEvent(cursor)} as at from rollup_state where id = 1`);
  const e = s?.e;
  if (typeof e !== 'string' || e === s?.at) return { cursor };
  let to = 0;
  if (e !== '') {
    const [r] = yield q(sql`select rowid as r from events where event_id = ${e}`);
    if (r === undefined) return { cursor };
    to = Number(r.r);
  }
  const notice =
    `SQLite rollups: the events were renumbered (a .dump restore, or a VACUUM of a table without an INTEGER PRIMARY KEY): ` +
    `the last counted event ${e === '' ? '(none left)' : e} is at rowid ${to}, not at or before the cursor ${cursor}; the cursor moves to ${to}.`;
  return { cursor: to, notice };
}
