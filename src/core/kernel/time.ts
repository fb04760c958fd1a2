/**
 * ISO 8601 timestamps at the edges, epoch milliseconds inside. A timestamp must name its zone
 * ("Z" or "+hh:mm"): a bare local time is ambiguous and is rejected.
 */
const ISO_WITH_ZONE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Parses an ISO 8601 date-time with a zone to epoch ms; undefined when malformed or zone-less. */
export function parseIsoWithZone(s: string): number | undefined {
  if (!ISO_WITH_ZONE.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Parses any date string Date.parse accepts (RFC 822 in RSS, ISO in Atom); undefined if invalid. */
export function parseLooseDate(s: string): number | undefined {
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Epoch ms to ISO 8601 in UTC ("Z"). */
export const toIso = (ms: number): string => new Date(ms).toISOString();

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
