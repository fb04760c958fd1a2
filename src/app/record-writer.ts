import type { ExposureRecord, ServeRecord } from '../core/events/records.js';
import type { RecordStore } from './ports.js';

/**
 * Serve records per write transaction. At the default 10 ms flush a write holds ~150 records of a
 * busy server (~1.5 ms on SQLite, on the request thread); the bound keeps a burst from holding the
 * event loop for long. bench:serve on 2026-12-04 (SQLite, 16-18k req/s): 64-record commits with a
 * 100 ms flush gave p99 27-30 ms; one commit per 10 ms flush, with checkpoints every 200 ms, 7.1-7.4
 * ms. Records held for 100 ms outlived two young-generation collections and were promoted, and the
 * old-generation collections that followed were most of the tail; small commits rewrote the same
 * index pages into the WAL each time, and the checkpoints copying them were the rest.
 */
const SLICE = 1000;

/**
 * Writes a failed write makes, at most, to find the records the database refuses in it (on top of
 * the failed write itself). Halving finds one refused record among n in about 2·log2(n) writes
 * (20 for 1000), so 64 isolate three in a full batch; whatever is still undecided then is dropped.
 * The bound keeps a batch in which every record is refused from costing 2n - 1 writes.
 */
const ISOLATION_WRITES = 64;

/** Distinct refusal reasons logged; later new ones are only counted (the log must not grow with bad input). */
const MAX_REASONS_LOGGED = 100;

export type RecordKind = 'exposure' | 'serve';

export interface RecordWriterOptions {
  /** Longest time a record waits in memory before it is written, milliseconds. */
  flushIntervalMs: number;
  /** Buffered records (serves and exposures together) that trigger a write at once, without waiting for the timer. */
  maxBuffered: number;
  /**
   * Whether a failed write was refused because of the records themselves, so that writing them
   * again fails again (a NUL in text on PostgreSQL, a value too long), rather than because the
   * database is unreachable, busy or full. Only a refused write is halved to find its bad records;
   * any other failure drops the write. The storage adapter knows its database's errors
   * (`refusedByDatabase`). Default: no failure is a refusal.
   */
  isRefusal?: (e: unknown) => boolean;
  /** Called when a write fails (not a refusal); the records of that write are dropped (they are telemetry, not acknowledged events). */
  onError: (e: unknown, kind: RecordKind, dropped: number) => void;
  /**
   * Called for the first record refused for each distinct reason (kind and database message); the
   * others are only counted in `written.refused`. A refused record is never written again.
   */
  onRefused?: (e: unknown, kind: RecordKind, record: ExposureRecord | ServeRecord) => void;
  /**
   * Exposures dropped by a failed write (not refused ones): the serving side forgets them, so that
   * the reader's next request writes the exposure again (ExposureMemory.forget).
   */
  onExposuresDropped?: (records: readonly ExposureRecord[]) => void;
}

/**
 * Writes `serve` and `exposure` records off the hot path: a response only appends to an in-memory
 * buffer, and a timer (or a full buffer) writes the buffer in one transaction. Unlike reading
 * events, these are not acknowledged to anyone, so a crash can lose at most `flushIntervalMs` of
 * them; `close()` writes what is left.
 *
 * One record the database refuses never costs the others: a refused write is halved, and the
 * halves written again, until the refused records are alone (see ISOLATION_WRITES). Those are
 * counted in `written.refused`, logged once per reason, and never retried.
 * test/app/record-writer.test.ts; test/adapters/storage/record-isolation.test.ts on both databases.
 */
export class RecordWriter {
  private serves: ServeRecord[] = [];
  private exposures: ExposureRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> = Promise.resolve();
  written = { serves: 0, exposures: 0, dropped: 0, refused: 0 };
  private readonly reasonsLogged = new Set<string>();

  constructor(
    private readonly store: Pick<RecordStore, 'appendExposures' | 'appendServes'>,
    private readonly opts: RecordWriterOptions,
  ) {}

  serve(r: ServeRecord): void {
    this.serves.push(r);
    this.scheduleFlush();
  }

  exposure(r: ExposureRecord): void {
    this.exposures.push(r);
    this.scheduleFlush();
  }

  /** Writes everything buffered so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const serves = this.serves;
    const exposures = this.exposures;
    this.serves = [];
    this.exposures = [];
    // Chain writes so they reach the store in order and never overlap.
    this.inflight = this.inflight.then(async () => {
      if (exposures.length > 0) {
        this.written.exposures += await this.write('exposure', exposures, (rs) => this.store.appendExposures(rs));
      }
      // Written in slices with a turn of the event loop between them: on SQLite a write runs on the
      // request thread, and one big write showed up as a p99 stall for every request behind it.
      for (let i = 0; i < serves.length; i += SLICE) {
        const slice = serves.slice(i, i + SLICE);
        if (i > 0) await new Promise((r) => setImmediate(r));
        this.written.serves += await this.write('serve', slice, (rs) => this.store.appendServes(rs));
      }
    });
    return this.inflight;
  }

  close(): Promise<void> {
    return this.flush();
  }

  /**
   * Writes `records` with `append` (all or nothing, as the RecordStore port promises) and returns
   * how many were stored. A refused write is halved and each half written again, depth first, until
   * the refused records are alone or the budget of ISOLATION_WRITES is spent; any other failure
   * drops the records of that write. The order of the stored records is kept.
   */
  private async write<R extends ExposureRecord | ServeRecord>(
    kind: RecordKind,
    records: R[],
    append: (rs: R[]) => Promise<void>,
  ): Promise<number> {
    let budget = ISOLATION_WRITES;
    const isRefusal = this.opts.isRefusal ?? (() => false);
    const attempt = async (rs: R[]): Promise<number> => {
      try {
        await append(rs);
        return rs.length;
      } catch (e) {
        if (!isRefusal(e)) this.drop(e, kind, rs);
        else if (rs.length === 1) this.refuse(e, kind, rs[0]!);
        else if (budget < 2) this.drop(e, kind, rs);
        else {
          budget -= 2;
          const half = rs.length >> 1;
          return (await attempt(rs.slice(0, half))) + (await attempt(rs.slice(half)));
        }
        return 0;
      }
    };
    return attempt(records);
  }

  private refuse(e: unknown, kind: RecordKind, record: ExposureRecord | ServeRecord): void {
    this.written.refused++;
    const key = `${kind}|${e instanceof Error ? e.message : String(e)}`;
    if (this.reasonsLogged.has(key) || this.reasonsLogged.size >= MAX_REASONS_LOGGED) return;
    this.reasonsLogged.add(key);
    this.opts.onRefused?.(e, kind, record);
  }

  private drop<R extends ExposureRecord | ServeRecord>(e: unknown, kind: RecordKind, records: R[]): void {
    this.written.dropped += records.length;
    this.opts.onError(e, kind, records.length);
    if (kind === 'exposure') this.opts.onExposuresDropped?.(records as ExposureRecord[]);
  }

  /** Writes at once when the buffer holds `maxBuffered` records, else starts the flush timer unless it runs. */
  private scheduleFlush(): void {
    if (this.serves.length + this.exposures.length >= this.opts.maxBuffered) {
      void this.flush();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.opts.flushIntervalMs);
      this.timer.unref();
    }
  }
}
