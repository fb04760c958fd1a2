const HEX_MS_DIGITS = 12;

/**
 * A UUIDv7 (RFC 9562, section 5.7): the first 48 bits are the Unix time in milliseconds, then
 * version 7, then random bits. Made from a random v4 UUID (RFC 9562, 5.4: version 4, variant 10,
 * 122 random bits) by writing the time over its first 48 bits and the version nibble: 74 random
 * bits remain and the variant stays 10. Ids made later sort later (to the millisecond), so the
 * B-tree indexes they are stored in grow at their right edge instead of at random pages.
 */
export function timeOrderedUuid(ms: number, v4: string): string {
  if (v4.length !== 36 || v4[14] !== '4') throw new RangeError(`"${v4}" is not a version 4 UUID`);
  // The time part is the same for every id of a millisecond (a busy server makes dozens): kept.
  if (ms !== lastMs) {
    if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 48) throw new RangeError(`time ${ms} is not a 48-bit millisecond count`);
    const t = ms.toString(16).padStart(HEX_MS_DIGITS, '0');
    lastPrefix = `${t.slice(0, 8)}-${t.slice(8)}-7`;
    lastMs = ms;
  }
  return lastPrefix + v4.slice(15);
}

let lastMs = -1;
let lastPrefix = '';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds in the first 48 bits of a UUIDv7 as timeOrderedUuid writes it (lower case), or undefined for another string. */
export function uuidV7Millis(id: string): number | undefined {
  if (!UUID_V7.test(id)) return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
