import type { Clock } from '../core/kernel/clock.js';
import type { RetentionStore } from './ports.js';

export const DAY_MS = 86_400_000;

/** What a retention pass deleted, and before which time. */
export interface RetentionResult {
  /** Raw events deleted (received before `beforeTs` and already rolled up). */
  events: number;
  /** Serve records deleted (served before `beforeTs`). */
  serves: number;
  beforeTs: number;
}

export interface RetentionOptions {
  /** Days raw events and serve records are kept (by receive and serve time); 0 keeps them forever. */
  days: number;
  /** Rows per delete (one short transaction; on SQLite the event loop waits for it). */
  batch?: number;
  /** Waits between two batches (default setImmediate: other work goes first). */
  pause?: () => Promise<void>;
}

/** 5,000 rows: a few milliseconds per delete on either database, so ingestion hardly waits. */
const DEFAULT_BATCH = 5000;

/**
 * Deletes raw events and serve records older than the retention window, off the hot path: in
 * batches, yielding to the event loop between them; a background pass every interval (start()).
 * Rollups, exposures, reader days and snapshots are not touched: reports keep working on them.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private running: Promise<RetentionResult> | undefined;
  private stopping = false;

  constructor(
    private readonly store: RetentionStore,
    private readonly clock: Clock,
    private readonly opts: RetentionOptions,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** One pass: batches until a batch deletes fewer rows than its size, first events then serves. */
  run(): Promise<RetentionResult> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<RetentionResult> {
    const beforeTs = this.clock.now() - this.opts.days * DAY_MS;
    const result: RetentionResult = { events: 0, serves: 0, beforeTs };
    if (this.opts.days <= 0) return result;
    const batch = this.opts.batch ?? DEFAULT_BATCH;
    const pause = this.opts.pause ?? (() => new Promise<void>((r) => setImmediate(r)));
    for (const kind of ['events', 'serves'] as const) {
      for (;;) {
        const n = kind === 'events' ? await this.store.pruneEvents(beforeTs, batch) : await this.store.pruneServes(beforeTs, batch);
        result[kind] += n;
        if (n < batch || this.stopping) break;
        await pause();
      }
    }
    return result;
  }

  /** A pass every `everyMs` (and one soon after start); a failure is logged, the next pass retries. */
  start(everyMs: number): void {
    if (this.opts.days <= 0) return;
    const tick = () =>
      void this.run()
        .then((r) => {
          if (r.events + r.serves > 0)
            this.log(`retention: deleted ${r.events} events and ${r.serves} serve records older than ${this.opts.days} days`);
        })
        .catch((e: Error) => this.log(`retention pass failed: ${e.message}`));
    this.timer = setInterval(tick, everyMs);
    this.timer.unref();
    this.first = setTimeout(tick, Math.min(everyMs, 60_000));
    this.first.unref();
  }

  /** Stops the passes; a running one ends after its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.first) clearTimeout(this.first);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
