import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  daysInMonth,
  isCalendarDay,
  isoDayProblem,
  ISO_WITH_ZONE,
  parseIsoWithZone,
  parseLooseDate,
} from '../../../src/core/kernel/time.js';

/**
 * Whether a year-month-day exists, by a round trip through Date's own calendar: build the day at
 * noon UTC (setUTCFullYear, so years 0-99 are not read as 1900-1999) and read its UTC fields back;
 * Date rolls an impossible day over (February 30 -> March 2), so the fields differ.
 */
function dayExists(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** The general way, which every path must agree with: the pattern, a day that exists, then Date.parse. */
const reference = (s: string): number | undefined => {
  if (!ISO_WITH_ZONE.test(s) || !dayExists(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10)))) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
};

const pad = (n: number, w: number) => String(n).padStart(w, '0');

describe('parseIsoWithZone', () => {
  it('reads the canonical form (toISOString) and the other forms with a zone', () => {
    expect(parseIsoWithZone('2026-01-01T08:00:00.000Z')).toBe(Date.UTC(2026, 0, 1, 8));
    expect(parseIsoWithZone('2026-12-04T20:15:59.123Z')).toBe(Date.UTC(2026, 11, 4, 20, 15, 59, 123));
    expect(parseIsoWithZone('2026-01-01T08:00Z')).toBe(Date.UTC(2026, 0, 1, 8));
    expect(parseIsoWithZone('2026-01-01T09:00:00+01:00')).toBe(Date.UTC(2026, 0, 1, 8));
    expect(parseIsoWithZone('2026-01-01T08:00:00.5z')).toBe(Date.UTC(2026, 0, 1, 8, 0, 0, 500));
  });

  it('rejects zone-less, malformed and out-of-range times', () => {
    for (const s of [
      '2026-01-01T08:00:00',
      '2026-01-01',
      'yesterday',
      '2026-13-01T00:00:00.000Z',
      '2026-01-01T23:60:00.000Z',
      '2026-01-01T23:59:60.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-01-01T08:00:00.000X',
      '2026-01-01T0a:00:00.000Z',
    ]) {
      expect(parseIsoWithZone(s), s).toBeUndefined();
    }
  });

  it('rejects days that do not exist instead of rolling them over (Date.parse makes 2026-02-30 March 2)', () => {
    for (const s of [
      '2026-02-30T00:00:00.000Z',
      '2026-02-30T00:00:00Z',
      '2026-11-31T10:00:00+02:00',
      '2026-04-31T12:00Z',
      '2026-06-31T00:00:00+0100',
      '2025-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00Z',
      '2100-02-29T12:00:00.000Z',
      '2026-09-31T00:00:00.5Z',
      '2026-01-32T00:00:00Z',
    ]) {
      expect(parseIsoWithZone(s), s).toBeUndefined();
    }
    // Leap days that exist, month ends that exist.
    expect(parseIsoWithZone('2024-02-29T00:00:00.000Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoWithZone('2000-02-29T12:00:00+01:00')).toBe(Date.UTC(2000, 1, 29, 11));
    expect(parseIsoWithZone('2026-12-31T23:59:59.999Z')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59, 999));
    expect(parseIsoWithZone('2026-04-30T12:00Z')).toBe(Date.UTC(2026, 3, 30, 12));
  });

  it("leaves 24:00 (ISO 8601's end of day) and early years to the general way, with its results", () => {
    for (const s of ['2026-01-01T24:00:00.000Z', '0050-01-01T00:00:00.000Z', '0999-12-31T23:59:59.999Z', '0004-02-29T00:00:00Z']) {
      expect(parseIsoWithZone(s), s).toBe(reference(s));
      expect(parseIsoWithZone(s), s).toBeDefined();
    }
  });

  it('says which day does not exist, for error messages', () => {
    expect(isoDayProblem('2026-02-30T00:00:00Z')).toBe('2026-02-30 does not exist: February 2026 has 28 days');
    expect(isoDayProblem('2024-02-30T00:00:00Z')).toBe('2024-02-30 does not exist: February 2024 has 29 days');
    expect(isoDayProblem('2026-11-31T00:00:00Z')).toBe('2026-11-31 does not exist: November 2026 has 30 days');
    for (const s of ['2026-02-28T00:00:00Z', '2026-13-01T00:00:00Z', 'yesterday', '2026-02-00T00:00:00Z'])
      expect(isoDayProblem(s), s).toBeNull();
  });

  // 20,000 near-canonical strings: every field drawn over and past its range, one character
  // sometimes replaced; the fast path and the general way must give the same value (exactly).
  it('agrees with the regular expression and Date.parse on 20,000 near-canonical strings', () => {
    const canonical = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 999 }),
      )
      .map(([y, mo, d, h, mi, s, ms]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`);
    const mutated = fc
      .tuple(canonical, fc.nat(23), fc.constantFrom('0', '9', '-', ':', 'T', '.', 'Z', 'z', ' ', '+', '٣'))
      .map(([s, i, c]) => s.slice(0, i) + c + s.slice(i + 1));
    const realistic = fc
      .date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true })
      .map((d) => d.toISOString());
    fc.assert(
      fc.property(fc.oneof(canonical, mutated, realistic), (s) => {
        expect(parseIsoWithZone(s)).toBe(reference(s));
      }),
      { numRuns: 20_000, seed: 20261204 },
    );
  });

  // 20,000 strings over every day of years 0-9999, ending or not past the month (days 1-31 in every
  // month): accepted exactly when the day exists, and then with Date.parse's value.
  it('accepts a day exactly when it exists, against a round trip through Date (20,000 dates)', () => {
    const day = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 26, max: 31 }),
        fc.constantFrom('T00:00:00.000Z', 'T12:30Z', 'T23:59:59+14:00', 'T00:00:00-12:00', 'T08:00:00.5Z'),
      )
      .map(([y, mo, d, rest]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${rest}`);
    fc.assert(
      fc.property(
        fc.oneof(
          day,
          fc
            .tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }))
            .map(([y, mo, d]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T06:00:00.000Z`),
        ),
        (s) => {
          const want = reference(s);
          expect(parseIsoWithZone(s)).toBe(want);
          expect(want === undefined).toBe(!dayExists(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))));
        },
      ),
      { numRuns: 20_000, seed: 20261205 },
    );
  });
});

describe('daysInMonth and isCalendarDay', () => {
  it('agree with Date on every month of years 0-2400 (the 400-year cycle and then some)', () => {
    for (let y = 0; y <= 2400; y++) {
      for (let m = 1; m <= 12; m++) {
        const last = daysInMonth(y, m);
        expect(dayExists(y, m, last) && !dayExists(y, m, last + 1), `${y}-${m}`).toBe(true);
        expect(isCalendarDay(y, m, last) && !isCalendarDay(y, m, last + 1) && !isCalendarDay(y, m, 0)).toBe(true);
      }
    }
    expect([daysInMonth(2024, 2), daysInMonth(2025, 2), daysInMonth(1900, 2), daysInMonth(2000, 2), daysInMonth(2026, 11)]).toEqual([
      29, 28, 28, 29, 30,
    ]);
    expect(isCalendarDay(2026, 13, 1) || isCalendarDay(2026, 0, 1)).toBe(false);
  });
});

describe('parseLooseDate (RSS and other feed dates)', () => {
  it('reads RFC 822, RFC 850, asctime and US forms that Date.parse reads', () => {
    expect(parseLooseDate('Tue, 10 Jun 2003 04:00:00 GMT')).toBe(Date.UTC(2003, 5, 10, 4));
    expect(parseLooseDate('Sun, 29 Feb 2004 04:00:00 +0000')).toBe(Date.UTC(2004, 1, 29, 4));
    expect(parseLooseDate('Sunday, 29-Feb-04 04:00:00 GMT')).toBe(Date.UTC(2004, 1, 29, 4));
    expect(parseLooseDate('Sat Feb 28 10:00:00 2026 GMT')).toBe(Date.UTC(2026, 1, 28, 10));
    expect(parseLooseDate('March 31, 2026 10:00 GMT')).toBe(Date.UTC(2026, 2, 31, 10));
    expect(parseLooseDate('whenever')).toBeUndefined();
  });

  it('rejects days that do not exist in each of those forms (Date.parse rolls them over)', () => {
    for (const s of [
      'Mon, 30 Feb 2026 10:00:00 GMT',
      '31 Nov 2026 10:00 +0000',
      'Thu, 29 Feb 2025 00:00:00 GMT',
      'Monday, 30-Feb-26 04:00:00 GMT',
      'Mon Feb 30 10:00:00 2026 GMT',
      'Feb 30, 2026 GMT',
      'September 31, 2026 GMT',
      '2026-02-30 GMT',
      '31 Apr 2026 00:00:00 GMT',
    ]) {
      expect(Number.isFinite(Date.parse(s)), `Date.parse takes ${s}`).toBe(true);
      expect(parseLooseDate(s), s).toBeUndefined();
    }
  });

  // RFC 822 dates over days 1-31 of every month of 1950-2049 (two- and four-digit years): accepted
  // exactly when the day exists, and then with Date.parse's value.
  it('agrees with the round trip through Date on 5,000 RFC 822 dates', () => {
    const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    fc.assert(
      fc.property(
        fc.integer({ min: 1950, max: 2049 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.boolean(),
        (y, m, d, short) => {
          const s = `${pad(d, 2)} ${MON[m - 1]!} ${short ? pad(y % 100, 2) : y} 10:00:00 GMT`;
          expect(parseLooseDate(s), s).toBe(dayExists(y, m, d) ? Date.UTC(y, m - 1, d, 10) : undefined);
        },
      ),
      { numRuns: 5_000, seed: 20261206 },
    );
  });
});
