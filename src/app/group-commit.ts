/**
 * Group commit: callers submit small batches and await their own outcomes; the committer merges
 * whatever is queued into one store call (one transaction), so N concurrent requests cost one
 * commit, not N. At most one flush runs at a time; while it runs, new work queues up and goes
 * into the next flush. A failed flush rejects every caller in it (nothing of it was stored, since
 * a flush is one transaction), so clients can retry safely.
 */
export class GroupCommitter<In, Out> {
  private queue: { items: readonly In[]; resolve: (out: Out[]) => void; reject: (e: unknown) => void }[] = [];
  private queued = 0;
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly commit: (items: In[]) => Promise<Out[]>,
    /** Upper bound on items per commit; a larger backlog is split over several commits. */
    private readonly maxItems = 20_000,
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
    while (this.flushing || this.queue.length > 0) await (this.flushing ?? this.flush());
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // setImmediate lets requests parsed in the same event-loop turn join this commit.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return this.flushing ?? Promise.resolve();
    this.flushing = this.commitQueued().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule();
    });
    return this.flushing;
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
