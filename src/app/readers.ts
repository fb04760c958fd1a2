import type { ExposureRecord, ServeRecord } from '../core/events/records.js';
import type { StoredEvent } from '../core/events/schema.js';
import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { ReaderRemoved, ReaderStore } from './ports.js';

/** What a process keeps per reader in memory: the serving state, the exposure memory (both have these two methods). */
export interface ReaderMemory {
  /** Every reader id held (duplicates and non-reader ids allowed: they are only hashed and compared). */
  readerIds(): Iterable<string>;
  forgetReaders(match: (readerId: string) => boolean): unknown;
}

/** The answer of a forget: what was deleted, per table. */
export interface ForgetAnswer {
  readerId: string;
  removed: ReaderRemoved;
  /** The erasure's sequence number: every process sharing the database has forgotten the reader once it polled past it. */
  erasure: number;
}

/** A reader's stored data (GET /v1/admin/readers/:id/export, `readnext reader export`). */
export interface ReaderExport {
  readerId: string;
  exportedTs: number;
  events: StoredEvent[];
  exposures: ExposureRecord[];
  serves: ServeRecord[];
  /** Kinds cut at `limit` rows (oldest first kept). */
  truncated: string[];
  limit: number;
}

/** Rows per kind an export holds at most: a person reads thousands of pages, not a hundred thousand. */
export const EXPORT_LIMIT = 100_000;

/** Reader ids per slice of the in-memory scan: the event loop serves requests between two slices. */
const SCAN_SLICE = 10_000;

/** Checks a reader id as events carry it: 1 to 128 characters, well-formed text. */
export function checkReaderId(id: string): string {
  if (id.length === 0 || id.length > 128)
    throw new DomainError('invalid_field', `"id" must be a reader id of 1 to 128 characters (got ${id.length})`, { field: 'id' });
  if (!id.isWellFormed() || id.includes('\0'))
    throw new DomainError('invalid_text', '"id" holds a NUL or a lone surrogate', { field: 'id' });
  return id;
}

/**
 * Privacy for a reader: export their data, or forget them. A forget deletes every row keyed by the
 * reader in one transaction (ReaderStore.forgetReader) and records the erasure by the SHA-256 of
 * the id; each process sharing the database polls the erasures (`poll`, on the deploy poll's
 * period) and drops the reader from its memory. The process that ran the forget drops it at once.
 * A process started later needs nothing: it rebuilds its memory from the database.
 *
 * Aggregates that are not per reader (popularity, co-read pair counts, CTR totals, the experiment
 * snapshots' per-arm sums) keep the reader's past contribution; per-reader rollups go with the
 * reader, so an experiment's sums shrink by that reader (docs/privacy.md).
 */
export class ReaderPrivacy {
  private applied = 0;
  /** The last erasure when this process started (init). */
  private initial = 0;
  private own = new Set<number>();
  private polling: Promise<number> | undefined;

  constructor(
    private readonly store: ReaderStore,
    private readonly clock: Clock,
    /** SHA-256 of a reader id, hex (node:crypto in main). */
    private readonly hash: (readerId: string) => string,
    private readonly memory: readonly ReaderMemory[] = [],
    private readonly options: {
      /** Writes the buffered serve and exposure records first, so none of the reader's lands after the delete. */
      flushRecords?: () => Promise<void>;
      /** Lets the event loop run between two slices of the in-memory scan. */
      yieldTurn?: () => Promise<void>;
    } = {},
  ) {}

  /** Starts polling after the erasures already recorded: this process's memory was built without those readers' rows. */
  async init(): Promise<void> {
    this.applied = this.initial = await this.store.lastReaderErasure();
  }

  /**
   * Applies again every erasure since `init`, this process's own included: a replay of the
   * database that started before them may have put their readers back in memory (services.ts
   * calls it once the warm-up's replay is done). Returns the erasures applied.
   */
  async reapply(): Promise<number> {
    const erasures = await this.store.readerErasuresSince(this.initial);
    await this.drop(new Set(erasures.map((e) => e.readerHash)));
    return erasures.length;
  }

  /** Forgets the reader everywhere; 404 not_found when nothing of theirs is stored. */
  async forget(readerId: string): Promise<ForgetAnswer> {
    checkReaderId(readerId);
    await this.options.flushRecords?.();
    const { removed, seq } = await this.store.forgetReader(readerId, this.hash(readerId), this.clock.now());
    for (const m of this.memory) m.forgetReaders((id) => id === readerId);
    if (seq === 0) throw new DomainError('not_found', `no data stored for reader "${readerId}"`, { field: 'id' });
    this.own.add(seq);
    return { readerId, removed, erasure: seq };
  }

  async export(readerId: string, limit = EXPORT_LIMIT): Promise<ReaderExport> {
    checkReaderId(readerId);
    const data = await this.store.exportReader(readerId, limit);
    if (data.events.length + data.exposures.length + data.serves.length === 0)
      throw new DomainError('not_found', `no data stored for reader "${readerId}"`, { field: 'id' });
    return { readerId, exportedTs: this.clock.now(), ...data, limit };
  }

  /** The last erasure this process has applied. */
  get appliedErasure(): number {
    return this.applied;
  }

  /**
   * Applies the erasures recorded since the last poll (other processes' forgets): hashes each
   * reader id held in memory once, in slices, and drops those whose hash was erased. Returns the
   * erasures applied. Calls never overlap: a call during a poll waits for it.
   */
  poll(): Promise<number> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<number> {
    const erasures = await this.store.readerErasuresSince(this.applied);
    if (erasures.length === 0) return 0;
    await this.drop(new Set(erasures.filter((e) => !this.own.has(e.seq)).map((e) => e.readerHash)));
    for (const e of erasures) this.own.delete(e.seq);
    this.applied = Math.max(this.applied, erasures[erasures.length - 1]!.seq);
    return erasures.length;
  }

  /** Drops from memory the readers whose id hashes to one of `hashes`: each id held is hashed once. */
  private async drop(hashes: ReadonlySet<string>): Promise<void> {
    if (hashes.size === 0 || this.memory.length === 0) return;
    const found = new Set<string>();
    const seen = new Set<string>();
    let n = 0;
    for (const m of this.memory)
      for (const id of m.readerIds()) {
        if (seen.has(id)) continue;
        seen.add(id);
        if (hashes.has(this.hash(id))) found.add(id);
        if (++n % SCAN_SLICE === 0) await this.options.yieldTurn?.();
      }
    if (found.size > 0) for (const m of this.memory) m.forgetReaders((id) => found.has(id));
  }
}
