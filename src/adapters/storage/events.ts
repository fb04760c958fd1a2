import { sql, type Kysely } from 'kysely';
import type { StoredEvent } from '../../core/events/schema.js';
import type { EventStore, SignalRow } from '../../app/ports.js';
import { appendFault, chunks, type Dialect } from './dialect.js';
import { rowToEvent } from './rows.js';
import type { Database } from './schema.js';

/** EventStore: the append is the dialect's hot path; reads are shared Kysely. */
export function eventStore(d: Dialect): EventStore {
  return {
    async appendEvents(events) {
      try {
        return await d.appendEvents(events);
      } catch (e) {
        throw appendFault(d, e);
      }
    },

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
  // An impression's third column is its `extra` (shadows are left out in the database, before the
  // sort: SHADOW_MARK); any other row's is its article. Ties in client time: receive time first.
  // LIKE rather than strpos or instr: the same on both databases.
  const rows = db
    .selectFrom('events')
    .select((eb) => [
      'type',
      'reader_id',
      eb.case().when('type', '=', 'impression').then(eb.ref('extra')).else(eb.ref('article_id')).end().as('x'),
      'client_ts',
    ])
    .where('client_ts', '>=', sinceTs)
    .where((eb) =>
      eb.or([
        eb.and([eb('type', 'in', ['read', 'click', 'page_view']), eb('article_id', 'is not', null)]),
        eb.and([eb('type', '=', 'impression'), eb('extra', 'not like', `%${SHADOW_MARK}%`)]),
      ]),
    )
    .orderBy('client_ts')
    .orderBy('received_ts')
    .stream(BATCH);
  for await (const r of rows) {
    if (r.type === 'impression') {
      const articleIds = impressionIds(r.x);
      if (articleIds === undefined) continue;
      batch.push({ type: 'impression', readerId: r.reader_id, articleIds, clientTs: Number(r.client_ts) });
    } else batch.push({ type: r.type as 'read', readerId: r.reader_id, articleId: r.x!, clientTs: Number(r.client_ts) });
    if (batch.length >= BATCH) {
      onBatch(batch);
      n += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) onBatch(batch);
  return n + batch.length;
}

/**
 * What marks a shadow impression in its `extra` (rows.ts eventExtra writes `"shadow":true` only
 * then, and no string value can hold it: a quote inside one is escaped). The scans drop rows holding
 * it in the database, before the sort.
 */
export const SHADOW_MARK = '"shadow":true';

const ARTICLE_ID = '"articleId":"';

/**
 * The shown article ids of a live impression, from its stored `extra` (rows.ts eventExtra), in the
 * event's order; undefined for a shadow impression or one without items: what FreshFeed takes from
 * a stored event (core/recommend/signals.ts impressionOf). Cheap: an `extra` without a backslash
 * has no quote inside a string, so each `"articleId":"` starts an id that runs to the next quote;
 * anything else (an escape, another layout) goes through JSON.parse. sqlite.ts's scanner holds a
 * copy in JavaScript (test/adapters/storage/scan-impressions.test.ts runs both on the same rows).
 *
 * @example
 * impressionIds('{"placement":"p","items":[{"articleId":"a","position":1}]}') // ['a']
 */
export function impressionIds(extra: string | null): string[] | undefined {
  if (extra === null) return undefined;
  if (!extra.includes('\\')) {
    let at = extra.indexOf(ARTICLE_ID);
    if (at >= 0) {
      if (extra.includes(SHADOW_MARK)) return undefined;
      const out: string[] = [];
      while (at >= 0) {
        const start = at + ARTICLE_ID.length;
        const end = extra.indexOf('"', start);
        out.push(extra.slice(start, end));
        at = extra.indexOf(ARTICLE_ID, end);
      }
      return out;
    }
  }
  const x = JSON.parse(extra) as { items?: { articleId: string }[]; shadow?: boolean };
  if (x.shadow === true || !Array.isArray(x.items) || x.items.length === 0) return undefined;
  return x.items.map((i) => i.articleId);
}
