import { sql, type Kysely } from 'kysely';
import type { StoredEvent } from '../../core/events/schema.js';
import type { EventStore, SignalRow } from '../../app/ports.js';
import { chunks, type Dialect } from './dialect.js';
import { rowToEvent } from './rows.js';
import type { Database } from './schema.js';

/** EventStore: the append is the dialect's hot path; reads are shared Kysely. */
export function eventStore(d: Dialect): EventStore {
  return {
    appendEvents: (events) => d.appendEvents(events),

    async getEvents(eventIds) {
      const out: StoredEvent[] = [];
      for (const ids of chunks(eventIds)) {
        const rows = await d.db.selectFrom('events').selectAll().where('event_id', 'in', ids).execute();
        for (const r of rows) out.push(rowToEvent(r));
      }
      return out;
    },

    async countEvents() {
      const r = await d.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    scanSignals: d.scanSignals?.bind(d) ?? ((sinceTs, onBatch, pinned) => scanSignals(d.db, sinceTs, onBatch, pinned)),
  };
}

/**
 * PostgreSQL: one read-only REPEATABLE READ transaction, whose snapshot its first statement takes,
 * so `pinned` comes before the scan's sort (seconds on millions of events). The rows come through
 * a cursor: the event loop runs between fetches. (SQLite scans its own way: sqlite.ts.)
 */
async function scanSignals(
  db: Kysely<Database>,
  sinceTs: number,
  onBatch: (rows: SignalRow[]) => void,
  pinned: () => void | Promise<void> = () => undefined,
): Promise<number> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      await sql`select 1`.execute(trx);
      await pinned();
      return streamSignals(trx, sinceTs, onBatch);
    });
}

async function streamSignals(db: Kysely<Database>, sinceTs: number, onBatch: (rows: SignalRow[]) => void): Promise<number> {
  const BATCH = 10_000;
  let batch: SignalRow[] = [];
  let n = 0;
  const rows = db
    .selectFrom('events')
    .select(['type', 'reader_id', 'article_id', 'client_ts'])
    .where('client_ts', '>=', sinceTs)
    .where('article_id', 'is not', null)
    .where('type', 'in', ['read', 'click', 'page_view'])
    .orderBy('client_ts')
    .stream(BATCH);
  for await (const r of rows) {
    batch.push({ type: r.type as SignalRow['type'], readerId: r.reader_id, articleId: r.article_id!, clientTs: Number(r.client_ts) });
    if (batch.length >= BATCH) {
      onBatch(batch);
      n += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) onBatch(batch);
  return n + batch.length;
}
