/**
 * The pure part of the SDK's outbound queue: what to keep, what to send next, what an answer
 * means and how long to wait. readnext.ts does the I/O (localStorage, fetch, timers) around these
 * functions; they touch no browser API, so Node tests them (test/adapters/web/sdk-queue.test.ts).
 * The behaviour and its limits are in docs/events.md, "The browser SDK's outbound queue".
 */

/** An event as queued: the JSON object posted to `/v1/events`, with its id. */
export type QueuedEvent = { eventId: string } & Record<string, unknown>;

/** The record each page keeps under its own localStorage key: `t` its last write (ms; 0 once the page is gone), `e` its events. */
export interface QueueRecord {
  t: number;
  e: QueuedEvent[];
}

/** Snowplow's web tracker keeps 1000 events (maxLocalStorageQueueSize); we add a size cap: a tenth of a 5 MB origin quota. */
export const MAX_QUEUE_EVENTS = 1000;
export const MAX_QUEUE_BYTES = 500_000; // 500 KB of JSON (UTF-8)
/** A page that has not written its record for this long is gone (crashed, killed): another page adopts its events. */
export const ORPHAN_MS = 3 * 60 * 1000; // 3 minutes: background tabs run timers about once a minute
const BACKOFF_BASE_MS = 1000; // 1 s
const BACKOFF_MAX_MS = 30_000; // 30 s
const RETRY_AFTER_MAX_MS = 60 * 60 * 1000; // 1 hour: a longer Retry-After is taken as this
/** Snowplow's out_queue.ts never retries these (400, 401, 403, 410, 422); 413 too: the same body stays too large. */
const FINAL_STATUSES = [400, 401, 403, 410, 413, 422];

const encoder = new TextEncoder();
/** An event's UTF-8 JSON length and its comma: what it adds to a post (and, at most, to localStorage, which counts UTF-16 units). */
const sizes = new WeakMap<QueuedEvent, number>(); // each event is measured once, not at every append
const size = (e: QueuedEvent): number => {
  let n = sizes.get(e);
  if (n === undefined) sizes.set(e, (n = encoder.encode(JSON.stringify(e)).length + 1));
  return n;
};

/**
 * Appends `add` to `queue` (oldest first), skipping ids already queued and events over
 * `maxEventBytes` alone, then drops the oldest until at most `maxEvents` events of `maxBytes` in all.
 * @example bounded([a, b], [c], 2, 1e6, 6e4) // { events: [b, c], dropped: 1 }
 */
export function bounded(
  queue: readonly QueuedEvent[],
  add: readonly QueuedEvent[],
  maxEvents: number,
  maxBytes: number,
  maxEventBytes: number,
): { events: QueuedEvent[]; dropped: number } {
  const ids = new Set(queue.map((e) => e.eventId));
  const events = queue.slice();
  let dropped = 0;
  for (const e of add) {
    if (!e || typeof e.eventId !== 'string' || ids.has(e.eventId)) continue;
    if (size(e) > maxEventBytes) dropped++;
    else {
      ids.add(e.eventId);
      events.push(e);
    }
  }
  const bytes = events.map(size);
  let total = bytes.reduce((a, n) => a + n, 0);
  let start = 0;
  while (events.length - start > maxEvents || (total > maxBytes && start < events.length)) total -= bytes[start++]!;
  return { events: events.slice(start), dropped: dropped + start };
}

/** The oldest events that fit one post: at most `maxEvents`, the body `{"events":[...]}` at most `maxBytes` (the first event always goes). */
export function nextBatch(queue: readonly QueuedEvent[], maxEvents: number, maxBytes: number): QueuedEvent[] {
  let total = '{"events":[]}'.length;
  const batch: QueuedEvent[] = [];
  for (const e of queue) {
    total += size(e);
    if (batch.length >= maxEvents || (batch.length > 0 && total > maxBytes)) break;
    batch.push(e);
  }
  return batch;
}

/**
 * What a reply to a batch means. `done`: the ids that leave the queue (stored, duplicate, conflict or
 * rejected: a retry would get the same answer), or every id on a final 4xx; `retry`: keep them all.
 * A 2xx without per-event results (a proxy's page) acknowledges the whole batch; a 2xx naming none of
 * the batch's events is retried.
 */
export function outcome(status: number, body: unknown, ids: readonly string[]): { done: string[] } | { retry: true } {
  if (status >= 200 && status < 300) {
    const results = (body as { results?: unknown } | null)?.results;
    if (!Array.isArray(results)) return { done: ids.slice() };
    const done = new Set<string>();
    for (const r of results as { index?: unknown; status?: unknown }[]) {
      const id = typeof r?.index === 'number' ? ids[r.index] : undefined;
      if (id !== undefined && typeof r.status === 'string') done.add(id);
    }
    return done.size > 0 ? { done: [...done] } : { retry: true };
  }
  return FINAL_STATUSES.includes(status) ? { done: ids.slice() } : { retry: true };
}

/**
 * The wait before retry number `attempt` (0-based): exponential backoff with "equal jitter",
 * d/2 + u·d/2 where d = min(30 s, 1 s · 2^attempt) and u in [0, 1) (AWS Architecture Blog,
 * "Exponential Backoff And Jitter", 2015); at least the server's Retry-After.
 * @example retryDelayMs(0, 0.5, null, now) // 750
 */
export function retryDelayMs(attempt: number, u: number, retryAfter: string | null, now: number): number {
  const d = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.max(d / 2 + (u * d) / 2, retryAfterMs(retryAfter, now));
}

/** A Retry-After header (RFC 9110 section 10.2.3: delay-seconds or an HTTP-date) in ms from `now`; 0 when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number {
  if (!header) return 0;
  const v = header.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  return ms > 0 ? Math.min(ms, RETRY_AFTER_MAX_MS) : 0;
}

/** The write time of a stored record, read from its head without parsing the events (live pages' records are read often). */
export function recordTime(raw: string | null): number | undefined {
  const m = raw === null ? null : /^\{"t":(\d+)/.exec(raw);
  return m ? Number(m[1]) : undefined;
}

/** The events of another page's record that another page may take over: it is gone (t = 0) or silent for `ORPHAN_MS`; corrupt records give none. */
export function orphanEvents(raw: string | null, now: number): QueuedEvent[] | undefined {
  const t = recordTime(raw);
  if (t !== undefined && t !== 0 && now - t < ORPHAN_MS) return undefined;
  try {
    const rec = JSON.parse(raw!) as QueueRecord;
    return Array.isArray(rec.e) ? rec.e : [];
  } catch {
    return [];
  }
}
