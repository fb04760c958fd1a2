import type { CompiledQuery, Kysely } from 'kysely';
import type { ExposureRecord, ServeRecord } from '../../core/events/records.js';
import type { StoredEvent } from '../../core/events/schema.js';
import type { AppendOutcome, EventStore, RecordStore, StorageTuning } from '../../app/ports.js';
import type { Database } from './schema.js';
import { DomainError } from '../../core/kernel/errors.js';

/** A statement of an atomic write; `mustChange`: the write is lost unless it changes a row (compare-and-set). */
export interface AtomicStep {
  query: CompiledQuery;
  mustChange?: boolean;
}

/** Statements to run in one write transaction: yields each statement, receives its rows, returns the result. */
export type Flow<R> = Generator<CompiledQuery, R, Record<string, unknown>[]>;

/**
 * What a database file (sqlite.ts, postgres.ts) gives the stores of each port: the Kysely
 * instance, how it runs a transaction, its tuned hot paths and its numbers. The stores (events.ts,
 * deployments.ts, articles.ts, records.ts, analysis.ts, keys.ts) hold every query that reads the
 * same on both databases and take this; open.ts composes them into one Storage.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  readonly tuning: StorageTuning;
  /**
   * Runs the statements in one transaction; a step with `mustChange` that changes no row rolls the
   * whole transaction back and resolves false (a lost compare-and-set).
   */
  atomic(steps: AtomicStep[]): Promise<boolean>;
  /** Runs the statements a flow yields in one write transaction, feeding each one's rows back; returns the flow's result. */
  drive<R>(flow: Flow<R>): Promise<R>;
  /** The event append (EventStore.appendEvents): the ingest hot path, written per database. */
  appendEvents(events: readonly StoredEvent[]): Promise<AppendOutcome[]>;
  /** A signal scan of the database's own (EventStore.scanSignals); unset: events.ts's, through a Kysely transaction. */
  scanSignals?: EventStore['scanSignals'];
  /** A records append of the database's own, storing all or none (RecordStore); unset: records.ts's Kysely inserts. */
  appendRecords?(serves: readonly ServeRecord[], exposures: readonly ExposureRecord[]): Promise<void>;
  /** The exposure read-back of the database's own (RecordStore.exposuresOf); unset: records.ts's Kysely query. */
  exposuresOf?: RecordStore['exposuresOf'];
  /**
   * Whether a failed write was refused because of the data written (writing it again fails again),
   * not because of the connection, a lock, the disk or the server: the RecordWriter halves a
   * refused write to find its bad records, and drops a write that failed otherwise.
   */
  refuses(e: unknown): boolean;
  close(): Promise<void>;
}

/** Rows per multi-row INSERT: keeps the bound parameters under SQLite's 32,766 and PostgreSQL's 65,535. */
const CHUNK = 500;

export function* chunks<T>(xs: readonly T[], n = CHUNK): Generator<T[]> {
  for (let i = 0; i < xs.length; i += n) yield xs.slice(i, i + n);
}

/** SQLite's SQLITE_FULL (https://www.sqlite.org/rescode.html#full); PostgreSQL's SQLSTATE 53100 disk_full. */
const DISK_FULL = new Set(['SQLITE_FULL', '53100']);

/**
 * Driver codes that say the database or the schema is broken, not away: SQLite's corrupt, not a
 * database, schema changed and generic SQL error (a missing table); PostgreSQL's class 42
 * (syntax error or access rule violation: undefined table or column) is matched by prefix.
 */
const NOT_TRANSIENT = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_SCHEMA', 'SQLITE_ERROR']);

/**
 * What a failed event append tells the client. A refusal (the data: `refuses`) stays as it is.
 * The disk full becomes `storage_full`; anything else (the server stopped or unreachable, a
 * connection dropped, a lock, an I/O error) `storage_unavailable`: both 503 with Retry-After,
 * since nothing of the batch was acknowledged and sending it again is safe (a stored copy answers
 * `duplicate`). Before, both were a 500 `internal`.
 */
export function appendFault(d: Pick<Dialect, 'refuses'>, e: unknown): unknown {
  if (d.refuses(e)) return e;
  const code = errorCode(e);
  // A bug or a broken schema is not a passing outage: it stays a logged 500 rather than a retry loop.
  if (code === undefined && (e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError)) return e;
  if (code !== undefined && (NOT_TRANSIENT.has(code) || code.startsWith('42'))) return e;
  if (code !== undefined && DISK_FULL.has(code))
    return new DomainError('storage_full', 'the database is out of disk space: the events were not stored; send them again later', {
      cause: e,
    });
  return new DomainError('storage_unavailable', 'the database cannot store events now: the events were not stored; send them again later', {
    cause: e,
  });
}

/** The first string `code` along an error's `cause` chain (drivers' codes: SQLSTATE, SQLITE_*). */
export function errorCode(e: unknown): string | undefined {
  for (let i = 0; i < 8 && e !== null && typeof e === 'object'; i++, e = (e as { cause?: unknown }).cause) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}
