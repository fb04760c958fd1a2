import { EVENT_SCHEMA_VERSION, type StoredEvent } from './schema.js';

/**
 * A stored event in the wire schema of POST /v1/events (docs/events.md): the same field names,
 * `timestamp` as an ISO 8601 UTC time, fields whose value is null left out (the schema reads an
 * absent field as null; some fields, e.g. a page view's `articleId`, accept no null), plus
 * `receivedAt`, the server's receive time. Without `receivedAt` it is an event the collector
 * accepts again (same `eventId`, so a duplicate). `readnext export events` writes these
 * (test/adapters/cli/export-events.test.ts).
 */
export type WireExportEvent = Record<string, unknown> & {
  type: StoredEvent['type'];
  schemaVersion: number;
  eventId: string;
  readerId: string;
  sessionId: string;
  timestamp: string;
  receivedAt: string;
};

/**
 * The wire form of a stored event, fields in the order of the normalised event.
 *
 * @example
 * toWireEvent({ type: 'read', eventId: 'e', readerId: 'r', sessionId: 's', clientTs: 0, receivedTs: 5,
 *   articleId: 'a', dwellMs: 900, scroll: 1, recommId: null })
 * // { type: 'read', schemaVersion: 1, eventId: 'e', readerId: 'r', sessionId: 's',
 * //   timestamp: '1970-01-01T00:00:00.000Z', articleId: 'a', dwellMs: 900, scroll: 1,
 * //   receivedAt: '1970-01-01T00:00:00.005Z' }
 */
export function toWireEvent(e: StoredEvent): WireExportEvent {
  const { type, eventId, readerId, sessionId, clientTs, receivedTs, ...rest } = e;
  const out: Record<string, unknown> = {
    type,
    schemaVersion: EVENT_SCHEMA_VERSION,
    eventId,
    readerId,
    sessionId,
    timestamp: new Date(clientTs).toISOString(),
  };
  for (const [k, v] of Object.entries(rest)) {
    if (v === null) continue;
    out[k] =
      k === 'items'
        ? (v as { articleId: string; position: number; team: string | null }[]).map((i) =>
            i.team === null ? { articleId: i.articleId, position: i.position } : i,
          )
        : v;
  }
  out.receivedAt = new Date(receivedTs).toISOString();
  return out as WireExportEvent;
}
