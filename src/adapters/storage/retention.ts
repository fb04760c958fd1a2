import { sql } from 'kysely';
import type { RetentionStore } from '../../app/ports.js';
import { SQLITE_CURSOR_AFTER_DELETE } from './rollup-cursor.js';
import type { Dialect, Flow } from './dialect.js';
import { below, parseWatermark } from './rollups.js';

/**
 * RetentionStore: raw events and serve records older than the retention window, deleted one
 * bounded batch per transaction, oldest first.
 *
 * Events are deleted only behind the experiment rollups' cursor (adapters/storage/rollups.ts
 * step 6), so no event is lost to a report before it is rolled up:
 * - SQLite: the cursor is a rowid, and receive times grow with the rowid (one writer, commit
 *   order), so a batch is the first `limit` rows up to the cursor, of which those received before
 *   the cut go. Reading by rowid needs no index on the receive time (one would slow every insert);
 *   a row a little out of order (a clock step) stays for a later pass;
 * - PostgreSQL: the cursor is a receive time, and a row received before it may commit after a
 *   pass (a held transaction) and wait for a later pass (rollups.ts, "commit-safe watermark"). So
 *   a batch is the oldest `limit` events received before both the cut and the cursor whose
 *   transaction id is null (stored before migration 0019) or below the stored watermark (counted
 *   already: the rollups' own rule), by the events_received index, deleted by their ctid. Cursor
 *   and watermark are read in one statement (one snapshot; a pass sets both in one update).
 * The cursor only moves forward, so reading it without its lock is safe: a pass running meanwhile
 * only moves it further. Serve records go by served_ts (index serves_time) on both databases.
 */
export function retentionStore(d: Dialect): RetentionStore {
  const { db } = d;
  const count = (rows: Record<string, unknown>[]) => rows.length;
  return {
    pruneEvents(beforeTs, limit) {
      function* flow(): Flow<number> {
        const [state] = yield (
          d.name === 'postgres'
            ? sql`select cursor, watermark from rollup_state where id = 1`
            : sql`select cursor from rollup_state where id = 1`
        ).compile(db);
        const cursor = Number(state?.cursor ?? 0);
        if (d.name === 'sqlite') {
          const deleted = count(
            yield sql`delete from events where rowid in (
              select rowid from events where rowid <= ${cursor} order by rowid limit ${limit}
            ) and received_ts < ${beforeTs} returning 1 as one`.compile(db),
          );
          // An idle database may lose its newest events too: keep new rowids past the rollups' cursor.
          if (deleted > 0) yield SQLITE_CURSOR_AFTER_DELETE.compile(db);
          return deleted;
        }
        const cut = Math.min(beforeTs, cursor);
        return count(
          yield sql`delete from events where ctid = any(array(
            select v.ctid from events v where v.received_ts < ${cut} and (v.xid is null or ${below(parseWatermark(state?.watermark))})
            order by v.received_ts limit ${limit}
          )) returning 1 as one`.compile(db),
        );
      }
      return d.drive(flow());
    },

    pruneServes(beforeTs, limit) {
      function* flow(): Flow<number> {
        return count(
          yield sql`delete from serves where id in (
            select id from serves where served_ts < ${beforeTs} order by served_ts limit ${limit}
          ) returning 1 as one`.compile(db),
        );
      }
      return d.drive(flow());
    },
  };
}
