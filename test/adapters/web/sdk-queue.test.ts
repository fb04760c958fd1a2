import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bounded,
  MAX_QUEUE_BYTES,
  MAX_QUEUE_EVENTS,
  nextBatch,
  ORPHAN_MS,
  orphanEvents,
  outcome,
  recordTime,
  retryAfterMs,
  retryDelayMs,
  type QueuedEvent,
} from '../../../src/adapters/web/sdk/queue.js';

// The browser SDK's queue logic, in Node: src/adapters/web/sdk/queue.ts is pure (the SDK does the
// I/O around it). The browser behaviour (outage, 503/429, navigations) is in sdk-queue.browser.test.ts.

const ev = (id: string, pad = 0): QueuedEvent => ({ eventId: id, type: 'page_view', page: 'x'.repeat(pad) });
const ids = (es: readonly QueuedEvent[]) => es.map((e) => e.eventId);
const bytes = (e: QueuedEvent) => Buffer.byteLength(JSON.stringify(e)) + 1;

describe('bounded: the queue keeps the newest events within both caps', () => {
  it('appends in order and skips ids already queued (a resent or adopted event is queued once)', () => {
    const r = bounded([ev('a'), ev('b')], [ev('b'), ev('c'), ev('c')], 10, 1e6, 6e4);
    expect(ids(r.events)).toEqual(['a', 'b', 'c']);
    expect(r.dropped).toBe(0);
  });

  it('drops the oldest past the event cap and counts them', () => {
    const r = bounded([ev('a'), ev('b')], [ev('c'), ev('d')], 3, 1e6, 6e4);
    expect(ids(r.events)).toEqual(['b', 'c', 'd']);
    expect(r.dropped).toBe(1);
  });

  it('drops the oldest past the byte cap (UTF-8 JSON bytes, one comma each)', () => {
    const es = [ev('a', 100), ev('b', 100), ev('c', 100)];
    const cap = bytes(es[1]!) + bytes(es[2]!); // exactly two fit
    const r = bounded([], es, 10, cap, 6e4);
    expect(ids(r.events)).toEqual(['b', 'c']);
    expect(r.dropped).toBe(1);
    expect(bounded([], es, 10, cap - 1, 6e4).events.map((e) => e.eventId)).toEqual(['c']);
    // Multi-byte text counts in bytes: 100 × "é" is 200 bytes.
    const accented: QueuedEvent = { eventId: 'e', page: 'é'.repeat(100) };
    expect(bounded([], [accented], 10, bytes(accented) - 1, 6e4).events).toEqual([]);
  });

  it('refuses an event too large for one post, counted as dropped', () => {
    const r = bounded([], [ev('big', 70_000), ev('ok')], 10, 1e6, 60_000);
    expect(ids(r.events)).toEqual(['ok']);
    expect(r.dropped).toBe(1);
  });

  it('never exceeds the caps, keeps a suffix of what came, and counts every loss (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(300), { maxLength: 30 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 5000 }),
        (adds, maxEvents, maxBytes) => {
          let queue: QueuedEvent[] = [];
          let dropped = 0;
          let n = 0;
          const all: string[] = [];
          for (const pads of adds) {
            const batch = pads.map((p) => ev(`e${n++}`, p));
            all.push(...ids(batch));
            const r = bounded(queue, batch, maxEvents, maxBytes, 6e4);
            queue = r.events;
            dropped += r.dropped;
            expect(queue.length).toBeLessThanOrEqual(maxEvents);
            expect(queue.reduce((a, e) => a + bytes(e), 0)).toBeLessThanOrEqual(maxBytes);
          }
          expect(queue.length + dropped).toBe(all.length);
          expect(ids(queue)).toEqual(all.slice(all.length - queue.length));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('defaults: 1000 events, 500 KB', () => {
    expect([MAX_QUEUE_EVENTS, MAX_QUEUE_BYTES]).toEqual([1000, 500_000]);
  });
});

describe('nextBatch: the oldest events that fit one post', () => {
  it('at most maxEvents, the body at most maxBytes, the first event always', () => {
    const es = Array.from({ length: 45 }, (_, i) => ev(`e${i}`));
    expect(ids(nextBatch(es, 20, 60_000))).toEqual(ids(es.slice(0, 20)));
    const big = [ev('a', 30_000), ev('b', 30_000), ev('c')];
    expect(ids(nextBatch(big, 20, 60_000))).toEqual(['a']);
    expect(JSON.stringify({ events: nextBatch(big, 20, 60_000) }).length).toBeLessThanOrEqual(60_000);
    expect(ids(nextBatch([ev('huge', 70_000)], 20, 60_000))).toEqual(['huge']);
    expect(nextBatch([], 20, 60_000)).toEqual([]);
  });

  it('the body it makes never exceeds the limit when more than one event goes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(2000), { minLength: 1, maxLength: 60 }), (pads) => {
        const es = pads.map((p, i) => ev(`e${i}`, p));
        const b = nextBatch(es, 20, 5000);
        expect(b.length).toBeGreaterThan(0);
        expect(b.length).toBeLessThanOrEqual(20);
        expect(ids(b)).toEqual(ids(es.slice(0, b.length)));
        if (b.length > 1) expect(Buffer.byteLength(JSON.stringify({ events: b }))).toBeLessThanOrEqual(5000);
      }),
    );
  });
});

describe('outcome: what the collector answered', () => {
  const sent = ['a', 'b', 'c', 'd'];
  it('2xx: every event with a result leaves the queue (accepted, duplicate, conflict, rejected); one without stays', () => {
    const body = {
      results: [
        { index: 0, eventId: 'a', status: 'accepted' },
        { index: 1, eventId: 'b', status: 'duplicate' },
        { index: 2, eventId: null, status: 'rejected', code: 'invalid_field', field: 'dwellMs' },
      ],
    };
    expect(outcome(200, body, sent)).toEqual({ done: ['a', 'b', 'c'] });
  });
  it('2xx without per-event results (a proxy page) acknowledges the batch; naming none of them is retried', () => {
    expect(outcome(204, null, sent)).toEqual({ done: sent });
    expect(outcome(200, { results: [] }, sent)).toEqual({ retry: true });
  });
  it.each([408, 425, 429, 500, 502, 503, 504, 404, 0])('%i: keep and retry', (status) => {
    expect(outcome(status, null, sent)).toEqual({ retry: true });
  });
  it.each([400, 401, 403, 410, 413, 422])('%i: final, the batch is dropped (a retry would be refused again)', (status) => {
    expect(outcome(status, { error: { code: 'invalid_body' } }, sent)).toEqual({ done: sent });
  });
});

describe('retryDelayMs: exponential backoff with equal jitter, at least Retry-After', () => {
  it('d/2 + u·d/2 with d = min(30 s, 1 s · 2^attempt)', () => {
    const now = 0;
    expect(retryDelayMs(0, 0, null, now)).toBe(500);
    expect(retryDelayMs(0, 0.5, null, now)).toBe(750);
    expect(retryDelayMs(3, 0, null, now)).toBe(4000);
    expect(retryDelayMs(3, 0.999, null, now)).toBeCloseTo(7996, 6);
    expect(retryDelayMs(5, 0, null, now)).toBe(15_000); // 2^5 s = 32 s, capped at 30 s
    expect(retryDelayMs(1000, 0.5, null, now)).toBe(22_500);
  });
  it('honours Retry-After when it is longer than the backoff', () => {
    expect(retryDelayMs(0, 0, '7', 0)).toBe(7000);
    expect(retryDelayMs(5, 0, '1', 0)).toBe(15_000);
  });
  it('Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3), capped at 1 hour, 0 when unreadable', () => {
    const now = Date.parse('2026-12-06T06:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 3 ', now)).toBe(3000);
    expect(retryAfterMs('Sun, 06 Dec 2026 06:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sun, 06 Dec 2026 05:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('999999', now)).toBe(3_600_000);
    expect(retryAfterMs('soon', now)).toBe(0);
    expect(retryAfterMs('-5', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBe(0);
  });
});

describe("orphanEvents: another page's record is taken over once that page is gone", () => {
  const now = 10_000_000;
  const rec = (t: number) => `{"t":${t},"e":${JSON.stringify([ev('a'), ev('b')])}}`;
  it('a live page (written within 3 minutes) keeps its events; a gone (t = 0) or silent one gives them', () => {
    expect(recordTime(rec(now - 5))).toBe(now - 5);
    expect(orphanEvents(rec(now - 5), now)).toBeUndefined();
    expect(orphanEvents(rec(now - ORPHAN_MS + 1), now)).toBeUndefined();
    expect(ids(orphanEvents(rec(now - ORPHAN_MS), now)!)).toEqual(['a', 'b']);
    expect(ids(orphanEvents(rec(0), now)!)).toEqual(['a', 'b']);
  });
  it('a corrupt record gives nothing (and is removed by the caller)', () => {
    expect(orphanEvents('{"t":0,"e":[', now)).toEqual([]);
    expect(orphanEvents('garbage', now)).toEqual([]);
    expect(orphanEvents('{"t":0,"e":"x"}', now)).toEqual([]);
  });
});
