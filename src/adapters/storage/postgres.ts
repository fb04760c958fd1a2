import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { StoredEvent } from '../../core/events/schema.js';
import { DomainError } from '../../core/kernel/errors.js';
import type { AppendOutcome, StorageTuning } from '../../app/ports.js';
import { errorCode, type AtomicStep, type Dialect, type Flow } from './dialect.js';
import { eventColumnArrays, sameEvent } from './rows.js';
import type { Database } from './schema.js';

const INT8_OID = 20;
const REFUSAL_CLASSES = new Set(['22', '23', '54']);

/**
 * How PostgreSQL wants its work sized, with a pool of `maxConnections`. The work runs in the
 * database, on its own processes, while the event loop goes on.
 */
export function postgresTuning(maxConnections: number): StorageTuning {
  return {
    // PostgreSQL commits in parallel on its pool, so smaller commits, several at once, keep both the
    // server and the database busy (two connections left for everything else).
    commits: { maxEvents: 2000, parallel: Math.max(1, maxConnections - 2) },
    rollups: {
      // Passes run in the database while the event loop goes on: a large fixed size. Each pass
      // updates every exposure its events touch once, so larger passes update fewer times per
      // event: 150,000 took 14% less database CPU per event than 50,000 (bench/rollup-throughput.ts,
      // 1M events / 50k exposed readers: 53,850 against 46,147 events per CPU-second), and 300,000
      // about 14% less than 150,000 again (2026-12-06, after the passes' statements got cheaper):
      // 250,000, about 3-4 s a pass on the bench VM (a report's catch-up ends after the pass that
      // crosses its 5 s budget), its sorts and hashes still inside the pass's 64 MB of work_mem.
      batchEvents: 250_000,
      // Then sized by time: about 5 s a pass (250,000 events on the bench VMs), fewer on a slower
      // machine or a larger table. Behind by more than a minute of data (a backfill, a restart after
      // a peak), about 20 s and up to 1,000,000 events: each exposure is updated once per pass that
      // has its reader's events, so at 10M events from 500,000 readers passes of 1,000,000 update
      // 4.3M exposure rows against 7.9M for passes of 250,000 (bench/rollup-throughput.ts, Intel
      // Xeon, production settings, alternated: median 61,912 events/s against 50,138, same
      // digest). The price: a backlog's pass holds its rows' locks (a reader's erasure waits for
      // it) and its work_mem (rollups.ts, about 256 bytes an event) for about 20 s; a report's
      // catch-up still takes passes of the usual size (AnalysisRollups).
      adaptive: { targetMs: 5000, min: 25_000, max: 250_000, behind: { ms: 60_000, targetMs: 20_000, max: 1_000_000 } },
      // Passes run in the database, not on the event loop, so their share takes less from ingestion.
      backgroundShare: 0.5,
      // The rollups count every event once whenever its transaction commits (the commit-safe
      // watermark, adapters/storage/rollups.ts), so the lag no longer decides what is counted. It
      // still decides what a pass claims: its data-through time (reports' dataThroughTs, and the
      // experiment snapshots taken at it) says every event received before it is in, which holds
      // for events committed by then; the collector's group commits take milliseconds, one second
      // is a wide margin (an event committed later is counted by a later pass, after the claim).
      minLag: {
        ms: 1000,
        on: 'PostgreSQL',
        why: "a pass's data-through time (reports, experiment snapshots) assumes events received before it have committed; later ones are counted by a later pass",
      },
    },
  };
}

/**
 * PostgreSQL through pg. int8 columns hold epoch milliseconds, well inside 2^53, so the pool
 * parses them as numbers. Commits use the server's default synchronous_commit = on: an
 * acknowledged event is fsync'ed on the server and survives a crash of either process or a power loss.
 */
export class PostgresDriver implements Dialect {
  readonly name = 'postgres' as const;
  readonly db: Kysely<Database>;

  constructor(
    pool: pg.Pool,
    readonly tuning: StorageTuning,
  ) {
    this.db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  }

  static open(connectionString: string, maxConnections = 10): PostgresDriver {
    const pool = new pg.Pool({
      connectionString,
      max: maxConnections,
      types: {
        getTypeParser: (oid: number, format?: string) =>
          oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
      },
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    // Nor one checked out with no query in flight (inside a transaction, between a cursor's reads):
    // the pool listens only to its idle clients, and PostgreSQL stopping under load crashed the
    // process (test/faults/pg-outage.test.ts). The query in flight fails on its own; the pool drops
    // the dead client when it is released (not queryable).
    pool.on('connect', (client) => client.on('error', () => undefined));
    return new PostgresDriver(pool, postgresTuning(maxConnections));
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
      const stored = await this.db
        .selectFrom('events')
        .selectAll()
        .where('event_id', 'in', [...new Set(toCheck)])
        .execute();
      const rowOf = new Map(stored.map((r) => [r.event_id, r]));
      for (let i = 0; i < events.length; i++) {
        if (out[i] === 'accepted') continue;
        const row = rowOf.get(events[i]!.eventId);
        out[i] = row !== undefined && sameEvent(row, events[i]!) ? 'duplicate' : 'conflict';
      }
    }
    return out;
  }

  /**
   * SQLSTATE classes 22 (data exception: a NUL in text is 22021, a string too long 22001), 23
   * (integrity constraint violation) and 54 (program limit exceeded: an index row too large).
   * https://www.postgresql.org/docs/current/errcodes-appendix.html
   */
  refuses(e: unknown): boolean {
    const code = errorCode(e);
    return code !== undefined && code.length === 5 && REFUSAL_CLASSES.has(code.slice(0, 2));
  }

  async atomic(steps: AtomicStep[]): Promise<boolean> {
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

  async drive<R>(flow: Flow<R>): Promise<R> {
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

/** SQLSTATEs of a refused connection: no such database (invalid_catalog_name), no such role or bad password. */
const NO_SUCH_DATABASE = '3D000';
const REFUSED_LOGIN = new Set(['28000', '28P01']);
/** Socket errors of a server that cannot be reached. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A word as the shell reads it: bare when plain, else single-quoted. */
const shellWord = (s: string): string => (/^[\w.@%+=:,/-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/**
 * What to report when opening PostgreSQL failed (`cause` is what the first query threw, possibly
 * wrapped): a database that does not exist or a login PostgreSQL refuses is a bad --db, a
 * DomainError `invalid_database_url` (CLI exit 2) naming the database and where, with the createdb
 * command for the first; a server that cannot be reached says where it was looked for (exit 3).
 * Anything else is returned unchanged.
 */
export function explainOpenError(connectionString: string, cause: unknown): unknown {
  let code: unknown;
  for (let e = cause; e !== null && typeof e === 'object' && code === undefined; e = (e as { cause?: unknown }).cause) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && (c === NO_SUCH_DATABASE || REFUSED_LOGIN.has(c) || UNREACHABLE.has(c))) code = c;
    if ((e as { cause?: unknown }).cause === e) break;
  }
  if (code === undefined) return cause;
  // The parameters pg connects with (host and port defaults, ?host= sockets), without connecting.
  const p = new pg.Client({ connectionString });
  const where = `${p.host}:${p.port}`;
  if (code === NO_SUCH_DATABASE) {
    const createdb = ['createdb', '-h', p.host, '-p', String(p.port), ...(p.user ? ['-U', p.user] : []), p.database ?? '']
      .map(shellWord)
      .join(' ');
    return new DomainError(
      'invalid_database_url',
      `PostgreSQL database "${p.database}" does not exist on ${where} (create it with: ${createdb})`,
      { field: 'db', cause },
    );
  }
  const detail = cause instanceof Error ? cause.message.replace(/^migration \S+ failed: /, '') || String(code) : String(code);
  if (REFUSED_LOGIN.has(code as string))
    return new DomainError('invalid_database_url', `PostgreSQL on ${where} refused the login: ${detail}`, { field: 'db', cause });
  return new Error(`cannot reach PostgreSQL on ${where}: ${detail}`, { cause });
}
