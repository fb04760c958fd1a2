import { sql } from 'kysely';
import type { ReaderRemoved, ReaderStore } from '../../app/ports.js';
import { SQLITE_CURSOR_AFTER_DELETE } from './rollup-cursor.js';
import type { Dialect, Flow } from './dialect.js';
import { rowToEvent, rowToExposure, rowToServe } from './rows.js';

/** The tables keyed by reader_id, with the ReaderRemoved field each one counts into. */
const READER_TABLES = [
  ['events', 'events'],
  ['exposures', 'exposures'],
  ['exposure_sessions', 'exposureSessions'],
  ['exposure_unpriced', 'exposureUnpriced'],
  ['reader_days', 'readerDays'],
  ['serves', 'serves'],
] as const;

/**
 * ReaderStore: a reader's rows, exported or deleted, on both databases alike (migration 0017).
 * The events and serves tables have no index on reader_id (each index slows every insert on the
 * ingest and serving paths), so an erasure scans them: seconds per ten million rows, in one write
 * transaction. Erasures are rare; ingestion waits meanwhile on SQLite.
 */
export function readerStore(d: Dialect): ReaderStore {
  const { db } = d;
  return {
    forgetReader(readerId, readerHash, ts) {
      function* flow(): Flow<{ removed: ReaderRemoved; seq: number }> {
        const removed = {} as ReaderRemoved;
        // The sessions of the reader's exposures by their ids (migrations 0021 and 0024), before the exposures go.
        const sessionIds =
          (yield sql`delete from exposure_session_ids where exposure_id in (select id from exposures where reader_id = ${readerId})
            returning 1 as one`.compile(db)).length;
        // SQLite: what rollup passes appended and have not merged yet (migration 0022), not counted
        // apart: the same sums and sessions, merged, would have been in the rows counted here.
        if (d.name === 'sqlite') {
          for (const t of ['exposure_deltas', 'exposure_session_deltas'])
            yield sql`delete from ${sql.table(t)} where rid in (select id from exposures where reader_id = ${readerId})`.compile(db);
          yield sql`delete from reader_day_deltas where reader_id = ${readerId}`.compile(db);
        }
        for (const [table, field] of READER_TABLES) {
          // RETURNING counts the rows exactly, on both databases, whatever else commits meanwhile.
          const rows = yield db
            .deleteFrom(table)
            .where('reader_id', '=', readerId)
            .returning(sql<number>`1`.as('one'))
            .compile();
          removed[field] = rows.length;
        }
        removed.exposureSessions += sessionIds;
        // The newest events may have been the reader's: keep new rowids past the rollups' cursor.
        if (d.name === 'sqlite' && removed.events > 0) yield SQLITE_CURSOR_AFTER_DELETE.compile(db);
        // Nothing stored: no erasure for the other processes to look for (they hold nothing of the reader either).
        if (Object.values(removed).every((n) => n === 0)) return { removed, seq: 0 };
        const [row] = yield db.insertInto('reader_erasures').values({ reader_hash: readerHash, ts }).returning('seq').compile();
        return { removed, seq: Number(row!.seq) };
      }
      return d.drive(flow());
    },

    async exportReader(readerId, limit) {
      const [events, exposures, serves] = await Promise.all([
        db
          .selectFrom('events')
          .selectAll()
          .where('reader_id', '=', readerId)
          .orderBy('client_ts')
          .orderBy('event_id')
          .limit(limit + 1)
          .execute(),
        db
          .selectFrom('exposures')
          .selectAll()
          .where('reader_id', '=', readerId)
          .orderBy('exposed_ts')
          .orderBy('experiment')
          .orderBy('phase')
          .limit(limit + 1)
          .execute(),
        db
          .selectFrom('serves')
          .selectAll()
          .where('reader_id', '=', readerId)
          .orderBy('served_ts')
          .orderBy('id')
          .limit(limit + 1)
          .execute(),
      ]);
      const truncated: ('events' | 'exposures' | 'serves')[] = [];
      if (events.length > limit) truncated.push('events');
      if (exposures.length > limit) truncated.push('exposures');
      if (serves.length > limit) truncated.push('serves');
      return {
        events: events.slice(0, limit).map(rowToEvent),
        exposures: exposures.slice(0, limit).map(rowToExposure),
        serves: serves.slice(0, limit).map(rowToServe),
        truncated,
      };
    },

    async readerErasuresSince(seq) {
      const rows = await db.selectFrom('reader_erasures').selectAll().where('seq', '>', seq).orderBy('seq').execute();
      return rows.map((r) => ({ seq: Number(r.seq), readerHash: r.reader_hash, ts: Number(r.ts) }));
    },

    async lastReaderErasure() {
      const r = await db
        .selectFrom('reader_erasures')
        .select((e) => e.fn.max('seq').as('seq'))
        .executeTakeFirst();
      return r?.seq == null ? 0 : Number(r.seq);
    },
  };
}
