/**
 * `readnext export events`: the stored events of a window of client time, in a stable order (client
 * time, then event id), batch by batch so memory stays bounded whatever the window holds. The
 * formats (JSON lines, Parquet) are the CLI adapter's (adapters/cli/export-events.ts).
 * Tests: test/adapters/cli/export-events.test.ts.
 */
import { EVENT_TYPES, type EventType, type StoredEvent } from '../core/events/schema.js';
import { DomainError } from '../core/kernel/errors.js';
import { parseReportTime } from '../core/kernel/time.js';

/** What an export asks of the event store: one ordered scan in batches (the adapter streams it through a cursor). */
export interface EventExportStore {
  /**
   * The events with sinceTs <= client time < untilTs (of `types` when given), ordered by client
   * time then event id, in batches of at most `batchSize`.
   *
   * @example
   * for await (const batch of store.streamEvents({ sinceTs, untilTs }, 10_000)) write(batch)
   */
  streamEvents(q: ExportQuery, batchSize: number): AsyncIterable<StoredEvent[]>;
}

export interface ExportQuery {
  sinceTs: number;
  untilTs: number;
  types?: readonly EventType[];
}

/**
 * The export's window and type from the command's options: the dates as `readnext data report`
 * reads them (parseReportTime); until defaults to now. DomainError invalid_field naming the option.
 */
export function exportQuery(o: { since: string; until?: string | undefined; type?: string | undefined }, now: number): ExportQuery {
  const sinceTs = parseReportTime(o.since, '--since');
  const untilTs = o.until === undefined ? now : parseReportTime(o.until, '--until');
  if (untilTs <= sinceTs)
    throw new DomainError('invalid_field', `--until (${new Date(untilTs).toISOString()}) must be after --since`, { field: 'until' });
  if (o.type === undefined) return { sinceTs, untilTs };
  if (!(EVENT_TYPES as readonly string[]).includes(o.type))
    throw new DomainError('invalid_field', `--type must be one of ${EVENT_TYPES.join(', ')}`, { field: 'type' });
  return { sinceTs, untilTs, types: [o.type as EventType] };
}

/** Where exported batches go; `write` resolves once the batch is handed on (backpressure). */
export interface EventSink {
  write(batch: readonly StoredEvent[]): Promise<void>;
  /** Called once after the last batch (also after none). */
  end(): Promise<void>;
}

/** Events per batch read from the store. */
export const EXPORT_BATCH = 10_000;

/** Streams the query's events into the sink; returns how many were written. */
export async function exportEvents(store: EventExportStore, q: ExportQuery, sink: EventSink): Promise<number> {
  let n = 0;
  for await (const batch of store.streamEvents(q, EXPORT_BATCH)) {
    await sink.write(batch);
    n += batch.length;
  }
  await sink.end();
  return n;
}
