/** Builders of valid raw events (as a browser would send them), for tests and benchmarks. */
import type { StoredEvent } from '../../src/core/events/schema.js';

export const T0 = Date.parse('2026-03-01T12:00:00Z');

let seq = 0;
export const nextId = (prefix = 'e') => `${prefix}-${++seq}-${Math.floor(Math.random() * 1e9)}`;

const common = (type: string, ts: number, over: Record<string, unknown> = {}) => ({
  type,
  eventId: nextId(type),
  readerId: 'reader-1',
  sessionId: 'session-1',
  timestamp: new Date(ts).toISOString(),
  ...over,
});

export const pageView = (ts = T0, over: Record<string, unknown> = {}) =>
  common('page_view', ts, { articleId: 'a1', referrer: 'https://example.org/', ...over });
export const impression = (ts = T0, over: Record<string, unknown> = {}) =>
  common('impression', ts, {
    recommId: 'rec-1',
    placement: 'read-next',
    articleId: 'a1',
    items: [
      { articleId: 'a2', position: 1 },
      { articleId: 'a3', position: 2 },
    ],
    ...over,
  });
export const click = (ts = T0, over: Record<string, unknown> = {}) =>
  common('click', ts, { recommId: 'rec-1', articleId: 'a2', position: 1, ...over });
export const read = (ts = T0, over: Record<string, unknown> = {}) =>
  common('read', ts, { articleId: 'a2', dwellMs: 42_000, scroll: 0.8, ...over });
export const subscribe = (ts = T0, over: Record<string, unknown> = {}) =>
  common('subscribe', ts, { plan: 'monthly', revenue: 9.99, currency: 'EUR', ...over });

/** A stored read event (what storage tests append): reader `reader`, session `${reader}-s` unless given, article a1, received and sent at `receivedTs`. */
export const storedRead = (eventId: string, reader: string, receivedTs: number, session = `${reader}-s`): StoredEvent =>
  ({
    type: 'read',
    eventId,
    readerId: reader,
    sessionId: session,
    clientTs: receivedTs,
    receivedTs,
    articleId: 'a1',
    dwellMs: 1000,
    scroll: 1,
    recommId: null,
  }) as StoredEvent;
