import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISO_WITH_ZONE, parseIsoWithZone } from '../../../src/core/kernel/time.js';

/** The general way, which the canonical fast path must agree with on every string. */
const reference = (s: string): number | undefined => {
  if (!ISO_WITH_ZONE.test(s)) return undefined;
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
    for (const s of ['2026-01-01T08:00:00', '2026-01-01', 'yesterday', '2026-13-01T00:00:00.000Z', '2026-01-01T23:60:00.000Z', '2026-01-01T23:59:60.000Z', '2026-00-10T00:00:00.000Z', '2026-01-01T08:00:00.000X', '2026-01-01T0a:00:00.000Z']) {
      expect(parseIsoWithZone(s), s).toBeUndefined();
    }
  });

  it("leaves Date.parse's roll-overs (day 29-31, 24:00) and early years to the general way, with its results", () => {
    for (const s of ['2026-02-30T00:00:00.000Z', '2026-04-31T12:00:00.000Z', '2026-01-01T24:00:00.000Z', '0050-01-01T00:00:00.000Z', '0999-12-31T23:59:59.999Z']) {
      expect(parseIsoWithZone(s), s).toBe(reference(s));
    }
  });

  // 20,000 near-canonical strings: every field drawn over and past its range, one character
  // sometimes replaced; the fast path and the general way must give the same value (exactly).
  it('agrees with the regular expression and Date.parse on 20,000 near-canonical strings', () => {
    const canonical = fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 999 }))
      .map(([y, mo, d, h, mi, s, ms]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`);
    const mutated = fc.tuple(canonical, fc.nat(23), fc.constantFrom('0', '9', '-', ':', 'T', '.', 'Z', 'z', ' ', '+', '٣')).map(([s, i, c]) => s.slice(0, i) + c + s.slice(i + 1));
    const realistic = fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString());
    fc.assert(
      fc.property(fc.oneof(canonical, mutated, realistic), (s) => {
        expect(parseIsoWithZone(s)).toBe(reference(s));
      }),
      { numRuns: 20_000, seed: 20261204 },
    );
  });
});
