import type { Clock } from '../core/kernel/clock.js';
import type { StoredEvent } from '../core/events/schema.js';
import { rawEventId, validateEvent, type EventRejection, type TimestampWindow } from '../core/events/validate.js';
import { Counts } from './counts.js';
import { GroupCommitter } from './group-commit.js';
import type { AppendOutcome, EventStore } from './ports.js';

export const MAX_EVENTS_PER_BATCH = 1000;

export type EventResult =
  | { index: number; eventId: string | null; status: 'accepted' | 'duplicate' }
  | { index: number; eventId: string | null; status: 'conflict'; code: 'conflict'; reason: string }
  | { index: number; eventId: string | null; status: 'rejected'; code: EventRejection['code']; field: string | null; reason: string }
  | { index: number; eventId: string | null; status: 'filtered'; code: 'bot'; reason: string };

export interface IngestReply {
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  /** Events dropped by the bot filter (filter()); present only then. */
  filtered?: number;
  results: EventResult[];
}

/**
 * The collector use case: validate each event, store the valid ones durably through the group
 * committer, and report per event. A reply is built only after the store has committed, so an
 * acknowledged event survives a crash of the process.
 */
export class Collector {
  private readonly committer: GroupCommitter<StoredEvent, AppendOutcome>;
  /**
   * What became of the events this process was sent, since it started (read by /metrics): the
   * daily counts in the store (countRejections) are every process's, and a count that failed to
   * be written is missing there but not here. Rejections by their code.
   */
  readonly counts = { accepted: 0, duplicates: 0, conflicts: 0, rejected: new Counts() };

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly window: TimestampWindow,
    maxEventsPerCommit = 20_000,
    /** Commits that may run at once (see GroupCommitter). */
    maxInFlight = 1,
    /** Hears the events of each commit that were stored now (not duplicates), after the commit. */
    onStored: (events: StoredEvent[]) => void = () => undefined,
  ) {
    this.committer = new GroupCommitter(
      async (events) => {
        const outcomes = await store.appendEvents(events);
        const fresh = events.filter((_, i) => outcomes[i] === 'accepted');
        if (fresh.length > 0) onStored(fresh);
        return outcomes;
      },
      maxEventsPerCommit,
      maxInFlight,
    );
  }

  /**
   * `rawEvents` must already be an array of 1..1000 entries (the HTTP layer checks the batch shape).
   * `textChecked`: the events come from a JSON text without a \u escape (jsonTextIsEscapeFree), so
   * none of their strings can hold a NUL or a lone surrogate.
   */
  async ingest(rawEvents: readonly unknown[], trusted: boolean, textChecked = false): Promise<IngestReply> {
    const receivedTs = this.clock.now();
    const results: EventResult[] = new Array(rawEvents.length);
    const valid: StoredEvent[] = [];
    const validIndex: number[] = [];
    let rejected = 0;
    const ctx = { receivedTs, window: this.window, trusted, textChecked };
    for (let i = 0; i < rawEvents.length; i++) {
      const v = validateEvent(rawEvents[i], ctx);
      if (v.ok) {
        // The validated event is a fresh object: stamp it instead of copying it.
        const e = v.event as StoredEvent;
        e.receivedTs = receivedTs;
        valid.push(e);
        validIndex.push(i);
      } else {
        rejected++;
        this.counts.rejected.add(v.error.code);
        results[i] = { index: i, eventId: rawEventId(rawEvents[i]), status: 'rejected', ...v.error };
      }
    }
    const outcomes = await this.committer.submit(valid);
    let accepted = 0;
    let duplicates = 0;
    let conflicts = 0;
    for (let k = 0; k < outcomes.length; k++) {
      const i = validIndex[k]!;
      const eventId = valid[k]!.eventId;
      const o = outcomes[k]!;
      if (o === 'conflict') {
        conflicts++;
        results[i] = {
          index: i,
          eventId,
          status: 'conflict',
          code: 'conflict',
          reason: 'an event with this id was stored earlier with a different payload; the first one stands',
        };
      } else {
        if (o === 'accepted') accepted++;
        else duplicates++;
        results[i] = { index: i, eventId, status: o };
      }
    }
    this.counts.accepted += accepted;
    this.counts.duplicates += duplicates;
    this.counts.conflicts += conflicts;
    await this.countNotStored(receivedTs, results, duplicates + conflicts + rejected);
    return { accepted, duplicates, conflicts, rejected, results };
  }

  /**
   * Drops a batch by the bot filter, as analytics tools do (Matomo and GA exclude bots without
   * telling them): nothing is stored, the answer is a 200 whose events are `filtered` (so a client
   * has nothing to retry), and the events are counted under the reason `bot`, in memory (/metrics)
   * and in the store's daily counts (the data report's bot share).
   */
  async filter(rawEvents: readonly unknown[], reason: 'bot'): Promise<IngestReply> {
    const receivedTs = this.clock.now();
    const why = 'dropped by the bot filter (the User-Agent is on the bot list); nothing was stored';
    const results: EventResult[] = rawEvents.map((e, index) => ({
      index,
      eventId: rawEventId(e),
      status: 'filtered',
      code: reason,
      reason: why,
    }));
    this.counts.rejected.add(reason, results.length);
    await this.countNotStored(receivedTs, results, results.length);
    return { accepted: 0, duplicates: 0, conflicts: 0, rejected: 0, filtered: results.length, results };
  }

  /**
   * Adds the batch's rejections (per code), duplicates and conflicts to the store's daily counts
   * (EventStore.countRejections, read by the data report), under the UTC day of receipt. Telemetry:
   * a failure to count is not the client's, so it never fails the batch, whose events are stored.
   */
  private async countNotStored(receivedTs: number, results: readonly EventResult[], notStored: number): Promise<void> {
    if (notStored === 0 || !this.store.countRejections) return;
    const byReason = new Map<string, number>();
    for (const r of results) {
      const reason = r.status === 'rejected' || r.status === 'filtered' ? r.code : r.status === 'accepted' ? undefined : r.status;
      if (reason !== undefined) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    }
    const day = new Date(receivedTs).toISOString().slice(0, 10);
    try {
      await this.store.countRejections([...byReason].map(([reason, count]) => ({ day, reason, count })));
    } catch {
      // Counted as lost: the reply still tells the client what happened to each event.
    }
  }

  get backlog(): number {
    return this.committer.backlog;
  }

  close(): Promise<void> {
    return this.committer.close();
  }
}
