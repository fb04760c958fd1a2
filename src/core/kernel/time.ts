import { DomainError } from './errors.js';

/**
 * ISO 8601 timestamps at the edges, epoch milliseconds inside. A timestamp must name its zone
 * ("Z" or "+hh:mm"): a bare local time is ambiguous and is rejected.
 */
export const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Digit at `i` of `s` as a number, or NaN when it is not an ASCII digit. */
const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};

/**
 * The canonical form browsers send (`Date.prototype.toISOString`, "2026-01-01T08:00:00.000Z"),
 * read field by field; undefined for anything else, or for a field outside the ranges where the
 * result is plainly Date.UTC's (year 1000-9999, day 1-28, hour 0-23: days 29-31 need the month's
 * length and "24:00" is read by Date.parse, so those go the general way). About 5x faster than
 * the regular expression and Date.parse on the ingest path; test/core/kernel/time.test.ts checks it
 * against them.
 */
function parseCanonicalIso(s: string): number | undefined {
  if (
    s.length !== 24 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 46 ||
    s.charCodeAt(23) !== 90
  )
    return undefined;
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  const hour = digit(s, 11) * 10 + digit(s, 12);
  const minute = digit(s, 14) * 10 + digit(s, 15);
  const second = digit(s, 17) * 10 + digit(s, 18);
  const ms = digit(s, 20) * 100 + digit(s, 21) * 10 + digit(s, 22);
  // NaN (a non-digit) fails every comparison.
  if (!(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 28 && hour <= 23 && minute <= 59 && second <= 59 && ms >= 0))
    return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/**
 * Parses an ISO 8601 date-time with a zone to epoch ms; undefined when malformed, zone-less, or
 * naming a day that does not exist (2026-02-30, 2026-11-31, 2025-02-29: Date.parse would roll
 * those over into the next month).
 */
export function parseIsoWithZone(s: string): number | undefined {
  const canonical = parseCanonicalIso(s);
  if (canonical !== undefined) return canonical;
  if (!ISO_WITH_ZONE.test(s) || !isCalendarDay(+s.slice(0, 4), +s.slice(5, 7), +s.slice(8, 10))) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAME = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?';
/** "30 Feb 2026", "Mon, 30-Feb-26" (RFC 822 / 850). */
const DAY_MONTH_YEAR = new RegExp(`(?:^|[^\\d])(\\d{1,2})[\\s-]+${MONTH_NAME}[\\s,-]+(\\d{4}|\\d{2})(?!\\d)`, 'i');
/** "Feb 30, 2026", "Mon Feb 30 2026" (asctime, US). */
const MONTH_DAY_YEAR = new RegExp(`${MONTH_NAME}\\s+(\\d{1,2}),?\\s+(?:\\d{2}:\\d{2}(?::\\d{2})?\\s+)?(\\d{4})(?!\\d)`, 'i');
const YEAR_MONTH_DAY = /^\s*([+-]?\d{4,6})-(\d{2})-(\d{2})/;

/**
 * Parses any date string Date.parse accepts (RFC 822 in RSS, ISO in Atom); undefined if invalid,
 * or if the day it names (as "30 Feb 2026", "Feb 30, 2026" or "2026-02-30") does not exist.
 */
export function parseLooseDate(s: string): number | undefined {
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) return undefined;
  const iso = YEAR_MONTH_DAY.exec(s);
  if (iso) return isCalendarDay(+iso[1]!, +iso[2]!, +iso[3]!) ? ms : undefined;
  const dmy = DAY_MONTH_YEAR.exec(s);
  if (dmy) return isCalendarDay(fullYear(dmy[3]!), MONTHS.indexOf(dmy[2]!.toLowerCase()) + 1, +dmy[1]!) ? ms : undefined;
  const mdy = MONTH_DAY_YEAR.exec(s);
  if (mdy) return isCalendarDay(+mdy[3]!, MONTHS.indexOf(mdy[1]!.toLowerCase()) + 1, +mdy[2]!) ? ms : undefined;
  return ms;
}

/** A two-digit year the way Date.parse reads it: 00-49 are 2000-2049, 50-99 are 1950-1999. */
const fullYear = (y: string): number => (y.length === 2 ? (+y < 50 ? 2000 : 1900) + +y : +y);

/**
 * Days in a month of the proleptic Gregorian calendar (the one Date uses): 31 except April, June,
 * September and November (30) and February, which has 29 in a leap year (divisible by 4 and not by
 * 100, or by 400; so 2000 and 2024 but not 1900 or 2100) and 28 otherwise.
 */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Whether year-month-day names a day that exists (month 1-12, day 1 to the month's length). */
export function isCalendarDay(year: number, month: number, day: number): boolean {
  return Number.isInteger(year) && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Why an ISO 8601 date-time that is well-formed names no real day ("2026-02-30 does not exist:
 * February 2026 has 28 days"), or null when it does not have that problem. For error messages.
 */
export function isoDayProblem(s: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) return null;
  const [year, month, day] = [+m[1]!, +m[2]!, +m[3]!];
  if (month < 1 || month > 12 || day < 1 || isCalendarDay(year, month, day)) return null;
  return `${m[0]} does not exist: ${MONTH_NAMES[month - 1]!} ${m[1]!} has ${daysInMonth(year, month)} days`;
}

/** Epoch ms to ISO 8601 in UTC ("Z"). */
export const toIso = (ms: number): string => new Date(ms).toISOString();

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/**
 * A bound of a report's or a training's window, as the CLI and the admin API take it: a UTC day (2026-03-01, its midnight) or an
 * ISO 8601 time with a zone. DomainError invalid_field naming `field` otherwise.
 *
 * @example parseReportTime('2026-03-01', 'since') // Date.UTC(2026, 2, 1)
 */
export function parseReportTime(s: string, field: string): number {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const ms = day
    ? isCalendarDay(+day[1]!, +day[2]!, +day[3]!)
      ? Date.UTC(+day[1]!, +day[2]! - 1, +day[3]!)
      : undefined
    : parseIsoWithZone(s);
  if (ms === undefined)
    throw new DomainError(
      'invalid_field',
      `${field} must be a day (2026-03-01, UTC) or an ISO 8601 time with a zone${isoDayProblem(s) ? `: ${isoDayProblem(s)}` : ''}`,
      { field },
    );
  return ms;
}
