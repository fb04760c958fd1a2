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

export interface RecordWriterOptions {
  /** Longest time a record waits in memory before it is written, milliseconds. */
  flushIntervalMs: number;
  /** Records that trigger a write at once. */
  maxBuffered: number;
  /** Called when a write fails; the records of that write are dropped (they are telemetry, not acknowledged events). */
  onError: (e: unknown, kind: 'exposure' | 'serve', dropped: number) => void;
}

/**
 * Writes `serve` and `exposure` records off the hot path: a response only appends to an in-memory
 * buffer, and a timer (or a full buffer) writes the buffer in one transaction. Unlike reading
 * events, these are not acknowledged to anyone, so a crash can lose at most `flushIntervalMs` of
 * them; `close()` writes what is left.
 */
export class RecordWriter {
  private serves: ServeRecord[] = [];
  private exposures: ExposureRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> = Promise.resolve();
  written = { serves: 0, exposures: 0, dropped: 0 };

  constructor(
    private readonly store: RecordStore,
    private readonly opts: RecordWriterOptions,
  ) {}

  serve(r: ServeRecord): void {
    this.serves.push(r);
    this.arm();
  }

  exposure(r: ExposureRecord): void {
    this.exposures.push(r);
    this.arm();
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
        try {
          await this.store.appendExposures(exposures);
          this.written.exposures += exposures.length;
        } catch (e) {
          this.written.dropped += exposures.length;
          this.opts.onError(e, 'exposure', exposures.length);
        }
      }
      // Written in slices with a turn of the event loop between them: on SQLite a write runs on the
      // request thread, and one big write showed up as a p99 stall for every request behind it.
      for (let i = 0; i < serves.length; i += SLICE) {
        const slice = serves.slice(i, i + SLICE);
        if (i > 0) await new Promise((r) => setImmediate(r));
        try {
          await this.store.appendServes(slice);
          this.written.serves += slice.length;
        } catch (e) {
          this.written.dropped += slice.length;
          this.opts.onError(e, 'serve', slice.length);
        }
      }
    });
    return this.inflight;
  }

  close(): Promise<void> {
    return this.flush();
  }

  private arm(): void {
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
