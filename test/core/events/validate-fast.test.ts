import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonTextIsEscapeFree, validateEvent, validateEventExact } from '../../../src/core/events/validate.js';

const NOW = Date.UTC(2026, 11, 4, 20);
const ctx = { receivedTs: NOW, window: { maxPastMs: 86_400_000, maxFutureMs: 300_000 }, trusted: true };

/**
 * Strings whose length in code points and in UTF-16 units straddle the schemas' limits (1, 10, 64,
 * 128, 256): runs of ASCII, of a BMP letter and of an astral emoji (2 units, 1 code point).
 */
const text = fc
  .array(fc.tuple(fc.constantFrom('a', 'é', '😀', '𝔘'), fc.integer({ min: 0, max: 70 })), { minLength: 1, maxLength: 3 })
  .map((runs) => runs.map(([c, n]) => c.repeat(n)).join(''));
const COMMON = new Set(['type', 'eventId', 'readerId', 'sessionId', 'timestamp']);
const FIELDS: Record<string, string[]> = {
  page_view: ['articleId', 'page'],
  impression: ['recommId', 'placement', 'articleId', 'items', 'recommender'],
  click: ['recommId', 'articleId', 'position', 'placement'],
  read: ['articleId', 'dwellMs', 'scroll', 'recommId'],
  subscribe: ['plan', 'revenue', 'currency', 'articleId'],
};
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });

const event = fc
  .record({
    type: fc.constantFrom('page_view', 'impression', 'click', 'read', 'subscribe'),
    eventId: text,
    readerId: fc.oneof(text, fc.constant('r-1')),
    sessionId: fc.oneof(text, fc.constant('s-1')),
    timestamp: fc.oneof(
      fc.constant(new Date(NOW - 1000).toISOString()),
      fc.constant('2026-12-04T19:00Z'),
      fc.constant('2026-12-04T19:00:00+00:00'),
      text,
    ),
    articleId: maybe(fc.oneof(text, fc.constant('a-1'))),
    page: maybe(text),
    recommId: maybe(text),
    placement: maybe(text),
    items: maybe(
      fc.array(fc.record({ articleId: text, position: fc.integer({ min: 0, max: 6 }), team: maybe(fc.oneof(text, fc.constant(null))) }), {
        maxLength: 3,
      }),
    ),
    position: maybe(fc.integer({ min: 0, max: 6 })),
    dwellMs: maybe(fc.integer({ min: -1, max: 10_000 })),
    scroll: maybe(fc.double({ min: 0, max: 1, noNaN: true })),
    plan: maybe(text),
    revenue: maybe(fc.double({ min: 0, max: 100, noNaN: true })),
    currency: maybe(fc.constantFrom('EUR', 'eur', 'EU😀')),
    recommender: maybe(fc.record({ kind: text, version: text })),
  })
  .chain((e) => fc.boolean().map((strict) => ({ e, strict })))
  // Mostly the fields of the event's type only (otherwise nearly every event has an unknown field).
  .map(({ e, strict }) =>
    Object.fromEntries(Object.entries(e).filter(([k, v]) => v !== undefined && (!strict || COMMON.has(k) || FIELDS[e.type]!.includes(k)))),
  );

describe('validateEvent: the fast validators give the exact results', () => {
  // 20,000 random events, fixed seed; every result (ok and the event, or the code, field and
  // reason) must be deep-equal to the exact path's.
  it('agrees with validateEventExact on 20,000 events with strings around every length limit', () => {
    let ok = 0;
    let astralOk = 0;
    fc.assert(
      fc.property(event, (e) => {
        const fast = validateEvent(e, ctx);
        expect(fast).toEqual(validateEventExact(e, ctx));
        if (fast.ok) {
          ok++;
          // Accepted with a string longer than its limit in units but not in code points: the case the fallback exists for.
          if (JSON.stringify(e).includes('😀') || JSON.stringify(e).includes('𝔘')) astralOk++;
        }
      }),
      { numRuns: 20_000, seed: 4122026 },
    );
    // The draw must exercise both outcomes, and astral strings that pass.
    expect(ok).toBeGreaterThan(500);
    expect(astralOk).toBeGreaterThan(50);
  });

  it('accepts 128 astral characters in an id (256 UTF-16 units): limits count code points', () => {
    const e = {
      type: 'read',
      eventId: '😀'.repeat(128),
      readerId: 'r',
      sessionId: 's',
      timestamp: new Date(NOW).toISOString(),
      articleId: 'a',
      dwellMs: 1,
      scroll: 0.5,
    };
    expect(validateEvent(e, ctx).ok).toBe(true);
    expect(validateEvent({ ...e, eventId: '😀'.repeat(129) }, ctx)).toMatchObject({
      ok: false,
      error: { code: 'invalid_field', field: 'eventId' },
    });
  });
});

describe('timestamps naming a day that does not exist', () => {
  it('are invalid_field on the fast and the exact validator, not rolled over into the next month', () => {
    const base = { type: 'read', eventId: 'e', readerId: 'r', sessionId: 's', articleId: 'a', dwellMs: 1, scroll: 0.5 };
    // Within the accepted window of NOW (2026-12-04T20:00Z) if they were rolled over: 2026-11-31 would be 2026-12-01.
    const wide = { ...ctx, window: { maxPastMs: 30 * 86_400_000, maxFutureMs: 86_400_000 } };
    for (const timestamp of ['2026-11-31T20:00:00.000Z', '2026-11-31T20:00:00Z', '2026-11-31T21:00+01:00']) {
      for (const validate of [validateEvent, validateEventExact]) {
        expect(validate({ ...base, timestamp }, wide)).toEqual({
          ok: false,
          error: { code: 'invalid_field', field: 'timestamp', reason: '"timestamp": 2026-11-31 does not exist: November 2026 has 30 days' },
        });
      }
    }
    expect(validateEvent({ ...base, timestamp: '2026-11-30T20:00:00.000Z' }, wide).ok).toBe(true);
  });
});

describe('textChecked: skipping the NUL and lone-surrogate check', () => {
  it('is allowed only for JSON texts without a \\u escape', () => {
    expect(jsonTextIsEscapeFree('{"a":"plain é 😀"}')).toBe(true);
    expect(jsonTextIsEscapeFree('{"a":"\\u0000"}')).toBe(false);
    expect(jsonTextIsEscapeFree('{"a":"\\ud800"}')).toBe(false);
    // An escaped backslash before a "u" is harmless, but counted: the check then runs.
    expect(jsonTextIsEscapeFree('{"a":"\\\\u"}')).toBe(false);
  });

  it('still rejects NUL and lone surrogates when the check runs', () => {
    const e = {
      type: 'read',
      eventId: 'e',
      readerId: 'r\u0000',
      sessionId: 's',
      timestamp: new Date(NOW).toISOString(),
      articleId: 'a',
      dwellMs: 1,
      scroll: 0.5,
    };
    expect(validateEvent(e, ctx)).toMatchObject({ ok: false, error: { code: 'invalid_text', field: 'readerId' } });
    expect(validateEvent(e, { ...ctx, textChecked: true }).ok).toBe(true);
  });

  // What makes the shortcut sound: without an escape, a parsed string cannot hold either.
  it('JSON without escapes cannot carry them: raw NUL is invalid JSON, bad UTF-8 decodes to U+FFFD', () => {
    expect(() => JSON.parse('{"a":"x\u0000y"}')).toThrow();
    const decoded = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]).toString('utf8'); // {"a":"<CESU-8 lone surrogate>"}
    expect(jsonTextIsEscapeFree(decoded)).toBe(true);
    expect((JSON.parse(decoded) as { a: string }).a.isWellFormed()).toBe(true);
  });
});
