import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { timeOrderedUuid, uuidV7Millis } from '../../../src/core/kernel/ids.js';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedUuid (UUIDv7, RFC 9562)', () => {
  it('puts the 48-bit time first, then version 7, and keeps the v4 random bits and variant', () => {
    // 0x017F22E279B0 ms = 2022-02-22T19:22:22Z, the time of RFC 9562's UUIDv7 example (appendix A.6).
    const id = timeOrderedUuid(0x017f22e279b0, 'f81d4fae-7dec-4d0f-a765-00a0c91e6bf6');
    expect(id).toBe('017f22e2-79b0-7d0f-a765-00a0c91e6bf6');
    expect(id).toMatch(UUID7);
  });

  it('sorts by time across milliseconds, whatever the random part', () => {
    const t = Date.parse('2026-11-30T12:00:00Z');
    const ids = Array.from({ length: 1000 }, (_, i) => timeOrderedUuid(t + i, randomUUID()));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id) => UUID7.test(id))).toBe(true);
  });

  it('gives each id its own time when calls alternate between milliseconds (the per-millisecond prefix is not stale)', () => {
    const v4 = 'f81d4fae-7dec-4d0f-a765-00a0c91e6bf6';
    for (const ms of [0x017f22e279b0, 0x017f22e279b0, 1, 0x017f22e279b0, 0xffffffffffff, 0, 0]) {
      const hex = ms.toString(16).padStart(12, '0');
      expect(timeOrderedUuid(ms, v4)).toBe(`${hex.slice(0, 8)}-${hex.slice(8)}-7d0f-a765-00a0c91e6bf6`);
    }
    expect(() => timeOrderedUuid(Number.NaN, v4)).toThrow(RangeError);
  });

  it('refuses a time outside 48 bits and a non-v4 source', () => {
    expect(() => timeOrderedUuid(-1, randomUUID())).toThrow(RangeError);
    expect(() => timeOrderedUuid(2 ** 48, randomUUID())).toThrow(RangeError);
    expect(() => timeOrderedUuid(1.5, randomUUID())).toThrow(RangeError);
    expect(() => timeOrderedUuid(0, '017f22e2-79b0-7d0f-a765-00a0c91e6bf6')).toThrow(RangeError);
  });
});

describe('uuidV7Millis', () => {
  it('reads back the time timeOrderedUuid wrote, and nothing from other strings', () => {
    expect(uuidV7Millis('017f22e2-79b0-7d0f-a765-00a0c91e6bf6')).toBe(0x017f22e279b0); // RFC 9562 A.6
    for (const ms of [0, 1, Date.parse('2026-12-05T00:00:00Z'), 2 ** 48 - 1])
      expect(uuidV7Millis(timeOrderedUuid(ms, randomUUID()))).toBe(ms);
    for (const s of [
      randomUUID(),
      'rc-1',
      '',
      '017f22e2-79b0-7d0f-a765-00a0c91e6bf',
      '017F22E2-79B0-7D0F-A765-00A0C91E6BF6',
      '017f22e2-79b0-7d0f-c765-00a0c91e6bf6',
    ])
      expect(uuidV7Millis(s)).toBeUndefined();
  });
});
