import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { StoredEvent } from '../../core/events/schema.js';
import type { AppendOutcome } from '../../app/ports.js';
import { KyselyStorage, type AtomicStep } from './kysely-store.js';
import { eventColumnArrays, sameEvent } from './rows.js';
import type { Database } from './schema.js';

const INT8_OID = 20;

/**
 * PostgreSQL through pg. int8 columns hold epoch milliseconds, well inside 2^53, so the pool
 * parses them as numbers. Commits use the server's default synchronous_commit = on: an
 * acknowledged event is fsync'ed on the server and survives a crash of either process or a power loss.
 */
export class PostgresStorage extends KyselyStorage {
  readonly dialect = 'postgres' as const;

  constructor(private readonly pool: pg.Pool) {
    super(new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) }));
  }

  static open(connectionString: string, maxConnections = 10): PostgresStorage {
    const pool = new pg.Pool({
      connectionString,
      max: maxConnections,
      types: { getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) },
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    return new PostgresStorage(pool);
  }

  /**
   * One statement for the whole batch: each column travels as one array literal (pgArray) and
   * `unnest` zips them back into rows. `ON CONFLICT DO NOTHING` keeps the first copy of a replayed
   * id; RETURNING names the rows that went in, and only the others are looked up. Arrays, not one
   * JSON parameter through json_to_recordset: PostgreSQL, which shares the machine's cores with the
   * server, read 5,000 rows of arrays in about half the time of the same rows as JSON (26 against
   * 49 ms on the bench VM, 2026-12-04), and the literals are built here without node-postgres's
   * general array serialiser (several times slower than JSON.stringify).
   */
  async appendEvents(events: readonly StoredEvent[]): Promise<AppendOutcome[]> {
    if (events.length === 0) return [];
    const cols = eventColumnArrays(events);
    const inserted = await sql<{ event_id: string }>`
      insert into events (event_id, type, reader_id, session_id, client_ts, received_ts, article_id, recomm_id, dwell_ms, revenue, extra)
      select * from unnest(${cols[0]}::text[], ${cols[1]}::text[], ${cols[2]}::text[], ${cols[3]}::text[], ${cols[4]}::int8[], ${cols[5]}::int8[],
        ${cols[6]}::text[], ${cols[7]}::text[], ${cols[8]}::int4[], ${cols[9]}::float8[], ${cols[10]}::text[])
      on conflict (event_id) do nothing
      returning event_id`.execute(this.db);
    const fresh = new Set(inserted.rows.map((r) => r.event_id));
    const out: AppendOutcome[] = new Array(events.length);
    const toCheck: string[] = [];
    for (let i = 0; i < events.length; i++) {
      const id = events[i]!.eventId;
      // The first occurrence of a fresh id went in; any later copy in the same batch is a replay.
      if (fresh.delete(id)) out[i] = 'accepted';
      else toCheck.push(id);
    }
    if (toCheck.length > 0) {
      const stored = await this.db.selectFrom('events').selectAll().where('event_id', 'in', [...new Set(toCheck)]).execute();
      const rowOf = new Map(stored.map((r) => [r.event_id, r]));
      for (let i = 0; i < events.length; i++) {
        if (out[i] === 'accepted') continue;
        const row = rowOf.get(events[i]!.eventId);
        out[i] = row !== undefined && sameEvent(row, events[i]!) ? 'duplicate' : 'conflict';
      }
    }
    return out;
  }

  protected async atomic(steps: AtomicStep[]): Promise<boolean> {
    const abort = new Error('compare-and-set lost');
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const s of steps) {
          const r = await trx.executeQuery(s.query);
          if (s.mustChange && Number(r.numAffectedRows ?? 0) === 0) throw abort;
        }
      });
      return true;
    } catch (e) {
      if (e === abort) return false;
      throw e;
    }
  }

  protected async drive<R>(flow: Generator<CompiledQuery, R, Record<string, unknown>[]>): Promise<R> {
    return this.db.transaction().execute(async (trx) => {
      let step = flow.next([]);
      while (!step.done) step = flow.next((await trx.executeQuery<Record<string, unknown>>(step.value)).rows);
      return step.value;
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
