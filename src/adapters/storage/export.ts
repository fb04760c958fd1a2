import type { EventExportStore } from '../../app/export-events.js';
import type { StoredEvent } from '../../core/events/schema.js';
import type { Kysely } from 'kysely';
import { kyselyOfStorage } from './open.js';
import { rowToEvent } from './rows.js';
import type { Database } from './schema.js';

/**
 * EventExportStore (`readnext export events`): one query ordered by client time then event id,
 * read through a cursor (PostgreSQL: pg-cursor; SQLite: the statement's iterator), so only a batch
 * of rows is in memory at a time. One statement, so one snapshot on PostgreSQL. There is no index
 * on client time: the database sorts the window (PostgreSQL spills to disk past work_mem; SQLite
 * to its temporary store), as scanTrainingEvents does.
 */
export function eventExportStore(db: Kysely<Database>): EventExportStore {
  return {
    async *streamEvents(q, batchSize) {
      let query = db
        .selectFrom('events')
        .selectAll()
        .where('client_ts', '>=', q.sinceTs)
        .where('client_ts', '<', q.untilTs)
        .orderBy('client_ts')
        .orderBy('event_id');
      if (q.types !== undefined) query = query.where('type', 'in', [...q.types]);
      let batch: StoredEvent[] = [];
      for await (const r of query.stream(batchSize)) {
        batch.push(rowToEvent(r));
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}

/**
 * The export store of a storage opened by openStorage. (Kept out of open.ts's compose for now,
 * which other work in progress edits; it belongs there with the other ports.)
 */
export function exportStoreOf(storage: object): EventExportStore {
  const db = kyselyOfStorage.get(storage);
  if (!db) throw new Error('exportStoreOf: not a storage opened by openStorage');
  return eventExportStore(db);
}
