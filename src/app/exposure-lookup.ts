import type { RecordStore } from './ports.js';
import type { ExposureMemory } from './serving.js';

export interface ExposureLookupOptions {
  /** How long a request waits for the database at most, ms; then it is served without the experiment (see ExposureLookup). */
  maxWaitMs: number;
  /** Readers asked for in one query at most. */
  maxBatch: number;
  /** Readers waiting or being looked up at most; beyond that a request does not wait (overload: the database is the bottleneck). */
  maxPending: number;
  /** Batches querying at once at most; the next one collects the misses meanwhile (a hung database gets no flood of queries). */
  concurrency: number;
}

/** The defaults: a slow database delays a reader by 0.25 s at worst; 500 ids a query (the storage chunks them again). */
export const DEFAULT_EXPOSURE_LOOKUP: ExposureLookupOptions = { maxWaitMs: 250, maxBatch: 500, maxPending: 20_000, concurrency: 2 };

/** What timers the lookup needs (setImmediate and setTimeout in a server; tests pass their own). */
export interface LookupTimers {
  /** Runs `f` after the current turn of the event loop (the requests parsed in this turn join one batch). */
  soon(f: () => void): void;
  /** Runs `f` after `ms`; the returned function cancels it. */
  after(ms: number, f: () => void): () => void;
}

const DONE: Promise<void> = Promise.resolve();

export const nodeTimers: LookupTimers = {
  soon: (f) => setImmediate(f),
  after: (ms, f) => {
    const t = setTimeout(f, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

interface Batch {
  /** Per experiment and phase: the phase the lookups are made in, the first phase of its assignment, and the readers. */
  readonly byExperiment: Map<string, { experiment: string; phase: number; from: number; readers: string[] }>;
  readonly done: Promise<void>;
  /** Set once its queries start (a batch may be scheduled twice: when made, and when a slot frees). */
  started: boolean;
  /** Set once its queries are done (before or after the wait ended). */
  answered: boolean;
  /** Its wait ended before the answer. */
  late: boolean;
  finish(): void;
  /** Ends the bounded wait's timer. */
  cancel(): void;
}

export interface ExposureLookupCounts {
  /** Readers looked up in the database. */
  readers: number;
  /** Queries made. */
  queries: number;
  /** Batches whose answer came after the bounded wait (their requests were served without the experiment). */
  late: number;
  /** Queries that failed (their readers stay unknown and are looked up again on their next request). */
  failed: number;
  /** Lookups not made because `maxPending` readers were waiting already. */
  shed: number;
}

/**
 * Reads back, on a miss, what ExposureMemory may have evicted or never held: a reader's stored
 * exposures of an experiment's current assignment, so that a reader first exposed by another process
 * (or by this one before a restart or an eviction) keeps their arm in a later phase.
 *
 * Why before serving, and how (serving is synchronous: RecommendationService.recommend does no I/O):
 *   1. the route asks `RecommendationService.prepare`, which returns nothing on the hot path (the
 *      memory knows the reader, or no earlier exposure can matter: phase 1, a re-randomised phase,
 *      a reader outside the experiment's slice);
 *   2. otherwise it returns this lookup's promise: the misses of one event-loop turn are asked in one
 *      query per experiment (`reader_id IN (…)`, on the index by reader_id: exposures_reader, on
 *      SQLite a covering one since migration 0023), a reader already being looked up joins that
 *      query, and the answers go into the memory (negative ones too);
 *   3. the route then serves synchronously, as before, from the memory.
 * The promise never rejects and resolves after `maxWaitMs` at most. A reader still unknown then (a
 * slow or failing database, or `maxPending` readers already waiting) is served by the live
 * recommender, outside the experiment, and no exposure is written: the response is not counted in
 * the analysis rather than counted in an arm that may not be the reader's. A late answer still goes
 * into the memory, for the reader's next request. Writing the hashed arm and letting the stored one
 * win later would not do: the reader would already have seen the wrong arm. After a batch that
 * failed or missed its wait, requests do not wait at all until a batch answers in time again, and
 * at most `concurrency` batches query at once: a database that is down or hung costs the unknown
 * readers their experiment (counted: `late`, `failed`, `shed`), not their latency.
 *
 * One race is left, documented rather than closed: an exposure another process has not yet flushed
 * (RecordWriter, READNEXT_RECORD_FLUSH_INTERVAL_MS) when this one looks the reader up in the next phase.
 */
export class ExposureLookup {
  readonly counts: ExposureLookupCounts = { readers: 0, queries: 0, late: 0, failed: 0, shed: 0 };
  private collecting: Batch | undefined;
  /** The batch each reader waits on, by `${experiment} ${readerId}` (at most maxPending keys). */
  private readonly pending = new Map<string, Promise<void>>();
  /** The last query failed: the next failures are counted, not reported, until one succeeds. */
  private failing = false;
  /**
   * The last batch failed or missed its wait: requests do not wait at all (they are served outside
   * the experiment at once, not after maxWaitMs each), while lookups still run; the first batch
   * answered in time ends it.
   */
  private degraded = false;
  private running = 0;

  constructor(
    private readonly store: Pick<RecordStore, 'exposuresOf'>,
    private readonly memory: Pick<ExposureMemory, 'recalled'>,
    private readonly options: ExposureLookupOptions = DEFAULT_EXPOSURE_LOOKUP,
    private readonly timers: LookupTimers = nodeTimers,
    /** Told of a failure after a success (or the first one): a database that is down is reported once, not per batch. */
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  /** Readers waiting for the database now. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * Looks the reader's exposures of `experiment` up from phase `from` (carryOverFrom) on, on behalf
   * of a request in `phase`. Resolves once they are in the memory, or after maxWaitMs; never rejects.
   */
  lookup(experiment: string, readerId: string, phase: number, from: number): Promise<void> {
    const key = `${experiment} ${readerId}`;
    const joined = this.pending.get(key);
    if (joined) return this.degraded ? DONE : joined;
    if (this.pending.size >= this.options.maxPending) {
      this.counts.shed++;
      return DONE;
    }
    let b = this.collecting;
    if (!b) {
      b = this.collecting = this.newBatch();
      if (this.running < this.options.concurrency) this.timers.soon(() => this.run(b!));
    }
    // By phase too: a phase that starts within the turn is looked up apart.
    const group = `${experiment} ${phase} ${from}`;
    let e = b.byExperiment.get(group);
    if (!e) b.byExperiment.set(group, (e = { experiment, phase, from, readers: [] }));
    e.readers.push(readerId);
    this.pending.set(key, b.done);
    return this.degraded ? DONE : b.done;
  }

  /** A batch, its bounded wait running from now: its requests go on without the answer after it (served outside the experiment). */
  private newBatch(): Batch {
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const b: Batch = { byExperiment: new Map(), done, started: false, answered: false, late: false, finish, cancel: () => undefined };
    b.cancel = this.timers.after(this.options.maxWaitMs, () => {
      if (!b.answered) {
        b.late = true;
        this.counts.late++;
        this.degraded = true;
      }
      finish();
    });
    return b;
  }

  private run(b: Batch): void {
    if (b.started) return;
    b.started = true;
    if (this.collecting === b) this.collecting = undefined;
    this.running++;
    let failed = false;
    // The queries, one experiment and chunk after the other (a batch holds the misses of one turn,
    // or of all the turns it waited for a free slot).
    void (async () => {
      for (const e of b.byExperiment.values()) {
        const experiment = e.experiment;
        for (let i = 0; i < e.readers.length; i += this.options.maxBatch) {
          const ids = e.readers.slice(i, i + this.options.maxBatch);
          try {
            this.counts.queries++;
            this.counts.readers += ids.length;
            const rows = await this.store.exposuresOf(experiment, ids, e.from);
            const byReader = new Map<string, { arm: string; phase: number }[]>();
            for (const r of rows) {
              let l = byReader.get(r.readerId);
              if (!l) byReader.set(r.readerId, (l = []));
              l.push(r);
            }
            for (const id of ids) this.memory.recalled(experiment, id, e.phase, byReader.get(id) ?? [], e.from);
            this.failing = false;
          } catch (err) {
            failed = true;
            this.counts.failed++;
            if (!this.failing) this.onError(err);
            this.failing = true;
          } finally {
            for (const id of ids) this.pending.delete(`${experiment} ${id}`);
          }
        }
      }
      this.degraded = failed || b.late;
      b.answered = true;
      b.cancel();
      b.finish();
      this.running--;
      const next = this.collecting;
      if (next && this.running < this.options.concurrency) this.timers.soon(() => this.run(next));
    })();
  }
}
