import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { findBadText } from '../kernel/strings.js';
import { isoDayProblem, parseIsoWithZone } from '../kernel/time.js';
import { EVENT_SCHEMAS, EVENT_TYPES, SERVER_EVENT_TYPES, type EventType, type ReadingEvent } from './schema.js';

export type EventRejectionCode =
  | 'invalid_event'
  | 'unknown_type'
  | 'unknown_field'
  | 'missing_field'
  | 'invalid_field'
  | 'invalid_text'
  | 'timestamp_out_of_range'
  | 'ingest_key_required';

export interface EventRejection {
  code: EventRejectionCode;
  /** JSON pointer of the offending field, without the leading slash ("items/0/position"). */
  field: string | null;
  reason: string;
}

export type EventValidation = { ok: true; event: ReadingEvent } | { ok: false; error: EventRejection };

/** How far a client timestamp may lie from the receive time; both in milliseconds. */
export interface TimestampWindow {
  maxPastMs: number;
  maxFutureMs: number;
}

export interface ValidationContext {
  /** Server receive time, epoch ms. */
  receivedTs: number;
  window: TimestampWindow;
  /** True when the request carried a valid ingest key (server-to-server). */
  trusted: boolean;
  /**
   * True when the caller knows that no string of the event can hold a NUL or a lone surrogate, so
   * check 3 is skipped: the JSON text it was parsed from has no `\u` escape (a raw NUL is not valid
   * JSON, and text decoded from UTF-8 holds no lone surrogate). See `jsonTextIsEscapeFree`.
   */
  textChecked?: boolean;
}

/**
 * Whether a JSON text has no `\u` escape, so that nothing parsed from it can hold a NUL or a lone
 * surrogate (when the text was decoded from UTF-8, which cannot encode a lone surrogate: invalid
 * bytes decode to U+FFFD). Conservative: an escaped backslash before a "u" also counts.
 */
export const jsonTextIsEscapeFree = (text: string): boolean => !text.includes('\\u');

const AJV_OPTIONS = { allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true } as const;
// Validators are compiled on first use of their type, not at module load: compiling all ten took a
// good share of the server's start (issue 13: listen within a second of starting).
const ajv = new Ajv(AJV_OPTIONS);
const validators: Partial<Record<EventType, ValidateFunction>> = {};
const exactValidator = (type: EventType): ValidateFunction => (validators[type] ??= ajv.compile(EVENT_SCHEMAS[type]));

/**
 * The schemas' length limits count code points (JSON Schema), which ajv does with a function call
 * per string: half of its time on the ingest path. The fast validators count UTF-16 code units
 * (ajv's `unicode: false`, a deprecated option that is still honoured; its deprecation notice is
 * why the logger is off), which can only pass what the exact ones pass: a string within maxLength
 * units is within it in code points, and every minLength m > 1 is raised to 2m - 1 units (a code
 * point is at most 2 units). An event the fast validator refuses is validated again exactly, so
 * results are the same (test/core/events/validate-fast.test.ts checks it on random events).
 */
function unitLengthSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(unitLengthSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema))
    out[k] = k === 'minLength' && typeof v === 'number' && v > 1 ? 2 * v - 1 : unitLengthSchema(v);
  return out;
}
const fastAjv = new Ajv({ ...AJV_OPTIONS, unicode: false, logger: false } as ConstructorParameters<typeof Ajv>[0]);
const fastValidators: Partial<Record<EventType, ValidateFunction>> = {};
const fastValidator = (type: EventType): ValidateFunction =>
  (fastValidators[type] ??= fastAjv.compile(unitLengthSchema(EVENT_SCHEMAS[type]) as object));
const SERVER_ONLY = new Set<string>(SERVER_EVENT_TYPES);
const TYPES = new Set<string>(EVENT_TYPES);

const pointer = (p: string) => p.replace(/^\//, '');

function fromAjv(e: ErrorObject): EventRejection {
  const at = pointer(e.instancePath);
  const join = (name: string) => (at ? `${at}/${name}` : name);
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String((e.params as { additionalProperty: string }).additionalProperty);
      return { code: 'unknown_field', field: join(name), reason: `unknown field "${join(name)}" is not in the schema` };
    }
    case 'required': {
      const name = String((e.params as { missingProperty: string }).missingProperty);
      return { code: 'missing_field', field: join(name), reason: `"${join(name)}" is required` };
    }
    case 'anyOf':
      return { code: 'missing_field', field: 'articleId', reason: 'a page_view needs "articleId" or "page"' };
    default:
      return { code: 'invalid_field', field: at || null, reason: `"${at}" ${e.message ?? 'is invalid'}` };
  }
}

// At module level, as a helper. It was moved out of validateWith for tsx, whose name helper made a
// closure per call cost a defineProperty per event; compiled (esbuild, no keepNames) the two cost
// the same (9.7 against 9.8 ns per call, micro-benchmark 2026-12-05), so this is only style now.
const fail = (code: EventRejectionCode, field: string | null, reason: string): EventValidation => ({
  ok: false,
  error: { code, field, reason },
});

/**
 * Validates one raw event against its type's schema and the receive-time window, and returns it
 * normalised: every optional field present (null when absent) in a fixed key order, so that two
 * submissions of the same event compare equal as JSON.
 *
 * Order of checks: 1. shape and type, 2. schema, 3. text hygiene (NUL, lone surrogates),
 * 4. timestamp window, 5. trust (server-only types).
 *
 * @example
 * validateEvent({ type: 'read', eventId: 'e1', readerId: 'r', sessionId: 's',
 *   timestamp: '2026-01-01T08:00:00Z', articleId: 'a', dwellMs: 5000, scroll: 0.8 }, ctx)
 */
export function validateEvent(raw: unknown, ctx: ValidationContext): EventValidation {
  return validateWith(raw, ctx, true);
}

/** validateEvent without the fast validators: the reference test/core/events/validate-fast.test.ts compares with. */
export function validateEventExact(raw: unknown, ctx: ValidationContext): EventValidation {
  return validateWith(raw, ctx, false);
}

function validateWith(raw: unknown, ctx: ValidationContext, fast: boolean): EventValidation {
  // 1.
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail('invalid_event', null, 'an event must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (o.type === undefined) return fail('missing_field', 'type', '"type" is required');
  if (typeof o.type !== 'string' || !TYPES.has(o.type)) {
    // Not JSON.stringify of any value: a type nested some thousands deep overflowed the stack (a 500).
    const t = o.type;
    const shown =
      typeof t === 'string'
        ? JSON.stringify(t)
        : t === null || typeof t !== 'object'
          ? String(t)
          : Array.isArray(t)
            ? 'an array'
            : 'an object';
    return fail('unknown_type', 'type', `unknown event type ${shown}; expected one of ${EVENT_TYPES.join(', ')}`);
  }
  const type = o.type as EventType;
  // 2.
  if (!fast || !fastValidator(type)(o)) {
    const validate = exactValidator(type);
    if (!validate(o)) return { ok: false, error: fromAjv(validate.errors![0]!) };
  }
  // 3.
  if (ctx.textChecked !== true) {
    const bad = findBadText(o);
    if (bad) return fail('invalid_text', pointer(bad.path), `"${pointer(bad.path)}" ${bad.reason}`);
  }
  // 4.
  const clientTs = parseIsoWithZone(o.timestamp as string);
  if (clientTs === undefined) {
    const noSuchDay = isoDayProblem(o.timestamp as string);
    return fail(
      'invalid_field',
      'timestamp',
      noSuchDay === null ? '"timestamp" must be an ISO 8601 date-time with a zone, e.g. 2026-01-01T08:00:00Z' : `"timestamp": ${noSuchDay}`,
    );
  }
  if (clientTs < ctx.receivedTs - ctx.window.maxPastMs || clientTs > ctx.receivedTs + ctx.window.maxFutureMs) {
    return fail(
      'timestamp_out_of_range',
      'timestamp',
      `"timestamp" ${o.timestamp as string} is outside [receive time - ${ctx.window.maxPastMs} ms, receive time + ${ctx.window.maxFutureMs} ms]`,
    );
  }
  // 5.
  if (SERVER_ONLY.has(type) && !ctx.trusted) {
    return fail('ingest_key_required', 'type', `"${type}" events are server-to-server only and need the ingest key`);
  }
  return { ok: true, event: normalise(type, o, clientTs) };
}

const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);

// Written out per type, without an object spread of the common fields: a spread cost about
// 0.1 us per event on the ingest path (Node 20).
function normalise(type: EventType, o: Record<string, unknown>, clientTs: number): ReadingEvent {
  const eventId = o.eventId as string;
  const readerId = o.readerId as string;
  const sessionId = o.sessionId as string;
  switch (type) {
    case 'page_view':
      return {
        type,
        eventId,
        readerId,
        sessionId,
        clientTs,
        articleId: s(o.articleId),
        page: s(o.page),
        url: s(o.url),
        referrer: s(o.referrer),
      };
    case 'impression': {
      const rec = o.recommender as { kind: string; version: string } | null | undefined;
      const raw = o.items as { articleId: string; position: number; team?: string | null }[];
      const items = new Array<{ articleId: string; position: number; team: string | null }>(raw.length);
      for (let i = 0; i < raw.length; i++)
        items[i] = { articleId: raw[i]!.articleId, position: raw[i]!.position, team: raw[i]!.team ?? null };
      return {
        type,
        eventId,
        readerId,
        sessionId,
        clientTs,
        recommId: o.recommId as string,
        placement: o.placement as string,
        articleId: s(o.articleId),
        items,
        experiment: s(o.experiment),
        phase: typeof o.phase === 'number' ? o.phase : null,
        arm: s(o.arm),
        hashVersion: typeof o.hashVersion === 'number' ? o.hashVersion : null,
        recommender: rec ? { kind: rec.kind, version: rec.version } : null,
        shadow: o.shadow === true,
      };
    }
    case 'click':
      return {
        type,
        eventId,
        readerId,
        sessionId,
        clientTs,
        recommId: o.recommId as string,
        articleId: o.articleId as string,
        position: o.position as number,
        placement: s(o.placement),
      };
    case 'read':
      return {
        type,
        eventId,
        readerId,
        sessionId,
        clientTs,
        articleId: o.articleId as string,
        dwellMs: o.dwellMs as number,
        scroll: o.scroll as number,
        recommId: s(o.recommId),
      };
    case 'subscribe':
      return {
        type,
        eventId,
        readerId,
        sessionId,
        clientTs,
        plan: o.plan as string,
        revenue: o.revenue as number,
        currency: o.currency as string,
        articleId: s(o.articleId),
      };
  }
}

/** The event id of a raw event when it has a usable one, to echo in per-event replies. */
export function rawEventId(raw: unknown): string | null {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const v = (raw as Record<string, unknown>).eventId;
    if (typeof v === 'string' && v.length <= 128) return v;
  }
  return null;
}
