import { EVENT_SCHEMAS, EVENT_TYPES, type EventType } from '../../src/core/events/schema.js';
import { T0 } from './events.js';

/**
 * The largest event of each type the schema admits, written the way a client would (compact JSON,
 * ASCII text that needs no escape): every optional field present, every string at its maxLength,
 * every array at its maxItems, every number with as many digits as its range allows. Built from
 * EVENT_SCHEMAS, so a schema change moves it. Bytes beyond these come only from non-ASCII text (2
 * to 4 bytes per character in UTF-8), JSON escapes (6 bytes per UTF-16 unit as \uXXXX), padded
 * numbers (1.000...0) and whitespace, none of which a byte limit can bound.
 */
export function maximalEvent(type: EventType, eventId: string): Record<string, unknown> {
  const schema = EVENT_SCHEMAS[type] as unknown as Schema;
  const e = fill(schema, '') as Record<string, unknown>;
  return { ...e, type, eventId: eventId.padEnd(schema.properties!.eventId!.maxLength ?? 0, '-') };
}

/** The type whose maximal event is the largest, and its size in bytes. */
export function largestMaximalEvent(): { type: EventType; bytes: number } {
  const sizes = EVENT_TYPES.map((type) => ({ type, bytes: Buffer.byteLength(JSON.stringify(maximalEvent(type, 'x'))) }));
  return sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

interface Schema {
  type?: string | readonly string[];
  const?: unknown;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
}

/** The longest timestamp the collector takes: nanoseconds and a numeric zone (35 characters; maxLength 40 leaves room no valid one uses). */
const LONGEST_TIMESTAMP = `${new Date(T0).toISOString().slice(0, 19)}.000000000+00:00`;

function fill(s: Schema, name: string): unknown {
  if (s.const !== undefined) return s.const;
  const types = typeof s.type === 'string' ? [s.type] : (s.type ?? []);
  if (name === 'timestamp') return LONGEST_TIMESTAMP;
  if (name === 'type') return null; // set by maximalEvent
  if (types.includes('object')) return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, fill(v, k)]));
  if (types.includes('array')) return Array.from({ length: s.maxItems ?? 1 }, () => fill(s.items ?? {}, name));
  if (types.includes('string')) {
    if (s.pattern === '^[A-Z]{3}$') return 'EUR';
    if (s.maxLength === undefined) throw new Error(`"${name}" has no maxLength: the largest event is unbounded`);
    return 'x'.repeat(s.maxLength);
  }
  if (types.includes('integer')) return s.maximum ?? Number.MAX_SAFE_INTEGER;
  if (types.includes('number')) {
    if (s.maximum === undefined) throw new Error(`"${name}" has no maximum`);
    return s.maximum - s.maximum * Number.EPSILON; // the largest value below the maximum with 16-17 significant digits
  }
  if (types.includes('boolean')) return false;
  throw new Error(`no maximal value for "${name}"`);
}
