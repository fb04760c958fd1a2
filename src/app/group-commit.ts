/**
 * Group commit: callers submit small batches and await their own outcomes; the committer merges
 * whatever is queued into one store call (one transaction), so N concurrent requests cost one
 * commit, not N. At most `maxInFlight` commits run at once (1 for SQLite, whose writes are
 * serial anyway; a few for PostgreSQL, whose pool can commit in parallel); while they run, new work
 * queues up and goes into the next commit. A failed flush rejects every caller in it (nothing of it was stored, since
 * a flush is one transaction), so clients can retry safely.
 */
export class GroupCommitter<In, Out> {
  private queue: { items: readonly In[]; resolve: (out: Out[]) => void; reject: (e: unknown) => void }[] = [];
  private queued = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly commit: (items: In[]) => Promise<Out[]>,
    /** Upper bound on items per commit; a larger backlog is split over several commits. */
    private readonly maxItems = 20_000,
    /** Commits allowed to run at the same time. */
    private readonly maxInFlight = 1,
  ) {}

  submit(items: readonly In[]): Promise<Out[]> {
    if (this.closed) return Promise.reject(new Error('group committer is closed'));
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      this.schedule();
    });
  }

  /** Items waiting for a commit (for /readyz and metrics). */
  get backlog(): number {
    return this.queued;
  }

  /** Commits what is queued, then refuses new work. */
  async close(): Promise<void> {
    this.closed = true;
    // Wait for the commit in flight (awaiting it, not spinning: its I/O must be able to complete), then drain.
    while (this.inFlight.size > 0 || this.queue.length > 0) {
      void this.flush();
      await Promise.all([...this.inFlight]);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight.size >= this.maxInFlight) return;
    this.scheduled = true;
    // setImmediate lets requests parsed in the same event-loop turn join this commit.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Starts commits while there is work and room; each takes up to maxItems of the queue. */
  private flush(): void {
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0) {
      const p: Promise<void> = this.commitQueued().finally(() => {
        this.inFlight.delete(p);
        if (this.queue.length > 0) this.schedule();
      });
      this.inFlight.add(p);
    }
  }

  private async commitQueued(): Promise<void> {
    const jobs: typeof this.queue = [];
    let n = 0;
    while (this.queue.length > 0 && (jobs.length === 0 || n + this.queue[0]!.items.length <= this.maxItems)) {
      const job = this.queue.shift()!;
      jobs.push(job);
      n += job.items.length;
    }
    this.queued -= n;
    const all: In[] = [];
    for (const j of jobs) for (const it of j.items) all.push(it);
    try {
      const out = await this.commit(all);
      let at = 0;
      for (const j of jobs) {
        j.resolve(out.slice(at, at + j.items.length));
        at += j.items.length;
      }
    } catch (e) {
      for (const j of jobs) j.reject(e);
    }
  }
}
