/**
 * Fuzzing POST /v1/events (issue 22 item 4): 10,000+ generated payloads (arbitrary JSON and bytes,
 * events shaped like the schema with one field mutated, batches mixing valid and invalid events,
 * re-sent batches) through Fastify's inject, on SQLite in memory. Properties:
 * 1. never a 5xx, and the app still answers afterwards;
 * 2. every rejection (a whole request, or one event of a batch) has a stable code and names the field;
 * 3. a valid event is never rejected; it is acknowledged as accepted once, then only as a duplicate;
 * 4. every acknowledged event is stored exactly once (the store is counted by event id at the end).
 * The seed is printed; FUZZ_SEED=N runs another sample.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_BATCH } from '../../../src/app/collector.js';
import type { EventRejectionCode } from '../../../src/core/events/validate.js';
import { INGEST_KEY, testApp, type TestApp } from '../../helpers/app.js';
import { freshPostgresUrl, PG_URL } from '../../helpers/databases.js';
import { T0 } from '../../helpers/events.js';
import {
  anyJson,
  anyString,
  byKey,
  cleanText,
  deeplyNested,
  deeplyNestedJson,
  deepMarker,
  expandDeep,
  expectClientError,
  fuzzRuns,
  fuzzSeed,
  NASTY_STRINGS,
  Tally,
} from '../../helpers/fuzz.js';

const SEED = fuzzSeed();
/** Payloads generated (re-sent batches come on top); FUZZ_RUNS=N for a quick or a longer run. */
const RUNS = fuzzRuns(10_000);

const REJECTION_CODES: ReadonlySet<EventRejectionCode> = new Set([
  'invalid_event',
  'unknown_type',
  'unknown_field',
  'missing_field',
  'invalid_field',
  'invalid_text',
  'timestamp_out_of_range',
  'ingest_key_required',
]);

// ---- generators

const HOUR = 3_600_000;
/** A timestamp inside the default window [T0 - 24 h, T0 + 5 min], in one of the ISO 8601 forms with a zone. */
const validTimestamp = fc
  .tuple(fc.integer({ min: -23 * HOUR, max: 4 * 60_000 }), fc.constantFrom('Z', '+00:00', '+02:00', '-05:30'))
  .map(([offset, zone]) => {
    const ts = T0 + offset;
    if (zone === 'Z') return new Date(ts).toISOString();
    const sign = zone[0] === '+' ? 1 : -1;
    const [h, m] = zone.slice(1).split(':').map(Number) as [number, number];
    const local = new Date(ts + sign * (h * HOUR + m * 60_000)).toISOString().slice(0, -1);
    return `${local}${zone}`;
  });

const articleId = cleanText(256);
const position = fc.integer({ min: 1, max: 100 });
const common = (type: string) => ({
  type: fc.constant(type),
  readerId: cleanText(128),
  sessionId: cleanText(128),
  timestamp: validTimestamp,
});
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const sometimes = <T extends Record<string, fc.Arbitrary<unknown>>>(shape: T) =>
  fc.record(shape, { requiredKeys: [] }) as fc.Arbitrary<Partial<{ [K in keyof T]: fc.Arbitrary<unknown> }>>;

/** Valid raw events without their eventId (the property gives each a unique one). */
const validEvent = (trusted: boolean): fc.Arbitrary<Record<string, unknown>> => {
  const types: fc.Arbitrary<Record<string, unknown>>[] = [
    fc
      .tuple(
        fc.record(common('page_view')),
        fc.oneof(fc.record({ articleId }), fc.record({ page: cleanText(2048) }), fc.record({ articleId, page: cleanText(2048) })),
        sometimes({ url: opt(cleanText(2048, 0)), referrer: opt(cleanText(2048, 0)), schemaVersion: fc.constant(1) }),
      )
      .map(([c, a, o]) => ({ ...c, ...a, ...o })),
    fc
      .tuple(
        fc.record({
          ...common('impression'),
          recommId: cleanText(128),
          placement: cleanText(64),
          items: fc.array(
            fc.tuple(fc.record({ articleId, position }), sometimes({ team: opt(cleanText(64, 0)) })).map(([i, o]) => ({ ...i, ...o })),
            { minLength: 1, maxLength: 12 },
          ),
        }),
        sometimes({
          articleId,
          experiment: opt(cleanText(128, 0)),
          phase: opt(fc.integer({ min: 0, max: 1_000_000 })),
          arm: opt(cleanText(128, 0)),
          hashVersion: opt(fc.constantFrom(1, 2)),
          recommender: opt(fc.record({ kind: cleanText(64), version: cleanText(64) })),
          shadow: fc.boolean(),
        }),
      )
      .map(([c, o]) => ({ ...c, ...o })),
    fc
      .tuple(fc.record({ ...common('click'), recommId: cleanText(128), articleId, position }), sometimes({ placement: cleanText(64) }))
      .map(([c, o]) => ({ ...c, ...o })),
    fc
      .tuple(
        fc.record({
          ...common('read'),
          articleId,
          dwellMs: fc.integer({ min: 0, max: 86_400_000 }),
          scroll: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1)),
        }),
        sometimes({ recommId: cleanText(128) }),
      )
      .map(([c, o]) => ({ ...c, ...o })),
  ];
  if (trusted)
    types.push(
      fc
        .tuple(
          fc.record({
            ...common('subscribe'),
            plan: cleanText(128),
            revenue: fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.constantFrom(0, 9.99, 1e9)),
            currency: fc.stringMatching(/^[A-Z]{3}$/),
          }),
          sometimes({ articleId }),
        )
        .map(([c, o]) => ({ ...c, ...o })),
    );
  return fc.oneof(...types).map((e) => {
    // -0 is a valid number but JSON writes it as 0: keep the sent and stored payloads comparable.
    for (const k of Object.keys(e)) if (Object.is(e[k], -0)) e[k] = 0;
    return e;
  });
};

const FIELDS = [
  'type',
  'schemaVersion',
  'eventId',
  'readerId',
  'sessionId',
  'timestamp',
  'articleId',
  'page',
  'url',
  'referrer',
  'recommId',
  'placement',
  'items',
  'experiment',
  'phase',
  'arm',
  'hashVersion',
  'recommender',
  'shadow',
  'position',
  'dwellMs',
  'scroll',
  'plan',
  'revenue',
  'currency',
] as const;

/** One mutation of a valid event: it may or may not leave the event valid (the server decides). */
type Mutation = (e: Record<string, unknown>) => void;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // a field removed (required or not)
  fc.constantFrom(...FIELDS).map(
    (f): Mutation =>
      (e) =>
        void delete e[f],
  ),
  // a field given any value: wrong types, nasty strings, huge and odd numbers
  fc.tuple(fc.constantFrom(...FIELDS), anyJson()).map(
    ([f, v]): Mutation =>
      (e) =>
        void (e[f] = v),
  ),
  fc.tuple(fc.constantFrom(...FIELDS), anyString(300)).map(
    ([f, v]): Mutation =>
      (e) =>
        void (e[f] = v),
  ),
  // a string field over its limit, in ASCII or astral characters
  fc
    .tuple(
      fc.constantFrom('eventId', 'readerId', 'articleId', 'page', 'placement', 'plan'),
      fc.constantFrom(129, 257, 2049, 100_000),
      fc.boolean(),
    )
    .map(
      ([f, n, astral]): Mutation =>
        (e) =>
          void (e[f] = (astral ? '𝕏' : 'x').repeat(n)),
    ),
  // an extra field, at the top or inside an item or the recommender
  fc.tuple(anyString(20), anyJson()).map(([k, v]): Mutation => (e) => {
    const items = e.items as Record<string, unknown>[] | undefined;
    if (Array.isArray(items) && items[0] !== null && typeof items[0] === 'object') items[0][k] = v;
    else e[k] = v;
  }),
  // an item's position or article broken
  fc.tuple(fc.constantFrom('position', 'articleId', 'team'), anyJson()).map(([f, v]): Mutation => (e) => {
    const items = e.items as Record<string, unknown>[] | undefined;
    if (Array.isArray(items) && items[0] !== null && typeof items[0] === 'object') items[0][f] = v;
    else e.position = v;
  }),
  // deep nesting where a value belongs
  fc.tuple(fc.constantFrom(...FIELDS), fc.integer({ min: 10, max: 3_000 }), fc.boolean()).map(
    ([f, depth, obj]): Mutation =>
      (e) =>
        void (e[f] = deeplyNested(depth, obj)),
  ),
  // deeper than JSON.stringify goes: written into the request's text (expandDeep)
  fc.tuple(fc.constantFrom(...FIELDS), fc.integer({ min: 5_000, max: 20_000 }), fc.boolean()).map(
    ([f, depth, obj]): Mutation =>
      (e) =>
        void (e[f] = deepMarker(depth, obj)),
  ),
  // timestamps: out of the window, without a zone, impossible days, garbage
  fc
    .oneof(
      fc.integer({ min: -10 * 24 * HOUR, max: 10 * 24 * HOUR }).map((d) => new Date(T0 + d).toISOString()),
      fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length < 40)),
      fc.constantFrom('2026-03-01T12:00:00', '2026-02-29T12:00:00Z', '2026-03-01 12:00:00Z', '20260301T120000Z', '2026-03-01T25:00:00Z'),
    )
    .map(
      (ts): Mutation =>
        (e) =>
          void (e.timestamp = ts),
    ),
  // text hygiene: a NUL or a lone surrogate in some string, or as a key
  fc
    .tuple(
      fc.constantFrom('readerId', 'sessionId', 'articleId', 'page', 'recommId', 'placement'),
      fc.constantFrom('\u0000', '\ud800', '\udc00x'),
    )
    .map(
      ([f, bad]): Mutation =>
        (e) =>
          void (e[f] = `${typeof e[f] === 'string' ? (e[f] as string) : 'a'}${bad}`),
    ),
  fc.constantFrom('\u0000', '\ud83d').map(
    (bad): Mutation =>
      (e) =>
        void (e[bad] = 1),
  ),
  // a server-only type from a browser, or an unknown type
  fc.constantFrom('subscribe', 'purchase', 'Read', '', 'read ').map(
    (type): Mutation =>
      (e) =>
        void (e.type = type),
  ),
);

interface Sent {
  raw: unknown;
  /** True when the event was generated valid (the server must then accept it or call it a duplicate). */
  valid: boolean;
}
/** A generated batch entry: the mutations apply after the property gave the event a unique id. */
interface Generated {
  raw: unknown;
  mutations: Mutation[] | null;
}

/** The events of one batch: valid ones, mutated ones and arbitrary values, in any order. */
const batchItem = (trusted: boolean): fc.Arbitrary<Generated> =>
  fc.oneof(
    { weight: 5, arbitrary: validEvent(trusted).map((raw): Generated => ({ raw, mutations: [] })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(validEvent(true), fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([raw, mutations]): Generated => ({ raw, mutations })),
    },
    { weight: 1, arbitrary: anyJson(4).map((raw): Generated => ({ raw, mutations: null })) },
  );

type Payload =
  | { kind: 'batch'; trusted: boolean; items: Generated[]; contentType: string; resend: boolean; twice: boolean }
  | { kind: 'raw'; body: string | Buffer; contentType: string };

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain;charset=UTF-8');
const batch = (trusted: boolean) =>
  fc.record({
    kind: fc.constant('batch' as const),
    trusted: fc.constant(trusted),
    items: fc.array(batchItem(trusted), { minLength: 1, maxLength: 12 }),
    contentType,
    // about one batch in five is re-sent, one in four repeats an event inside itself
    resend: fc.nat(4).map((n) => n === 0),
    twice: fc.nat(3).map((n) => n === 0),
  });
const payload: fc.Arbitrary<Payload> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc.boolean().chain(byKey(batch)),
  },
  // whole bodies that are not a batch: any JSON, a body with wrong or extra top-level fields, bytes
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('raw' as const), body: anyJson(4).map((v) => JSON.stringify(v) ?? 'null'), contentType }),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.dictionary(anyString(12), anyJson(2), { maxKeys: 3 }), fc.option(anyJson(3))).map(([o, events]) => ({
      kind: 'raw' as const,
      body: JSON.stringify(events === null ? o : { ...o, events }),
      contentType: 'application/json',
    })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      body: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b)),
        fc.constantFrom('{"events": [', '{"events": [1,]}', '\ufeff', '', 'NaN', '{"events": NaN}', '{"__proto__": {"events": []}}'),
        fc.tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.boolean()).map(([d, obj]) => `{"events": [${deeplyNestedJson(d, obj)}]}`),
      ),
      contentType,
    }),
  },
  // batch sizes at and past the limit
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, MAX_EVENTS_PER_BATCH + 1).map((n) => ({
      kind: 'raw' as const,
      body: JSON.stringify({ events: Array.from({ length: n }, () => ({ type: 'read' })) }),
      contentType: 'application/json',
    })),
  },
);

// ---- the run

/**
 * The property run on one backend, with its own app, tally and bookkeeping. SQLite always runs
 * RUNS payloads; PostgreSQL (READNEXT_TEST_PG set) runs fewer, as its commits are slower.
 */
function fuzzEvents(backend: string, enabled: boolean, runs: number, open: () => Promise<TestApp>): void {
  let t: TestApp;
  const tally = new Tally(`POST /v1/events on ${backend}`);
  /** Event ids the server acknowledged as stored ('accepted'), each once. */
  const acknowledged = new Map<string, Record<string, unknown>>();
  let eventsSent = 0;
  let validSent = 0;
  let resends = 0;
  let seq = 0;

  const send = async (body: string | Buffer, type: string, trusted: boolean) => {
    const headers: Record<string, string> = { 'content-type': type };
    if (trusted) headers['x-readnext-ingest-key'] = INGEST_KEY;
    return t.app.inject({ method: 'POST', url: '/v1/events', payload: body, headers });
  };

  /** Checks one batch reply against what was sent (properties 2 and 3), and records the acknowledged ids. */
  function checkBatchReply(res: { statusCode: number; body: string }, items: Sent[], ids: (string | null)[], resent: boolean): string[] {
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    const body = JSON.parse(res.body) as {
      accepted: number;
      duplicates: number;
      conflicts: number;
      rejected: number;
      results: { index: number; eventId: string | null; status: string; code?: string; field?: string | null; reason?: string }[];
    };
    expect(body.results).toHaveLength(items.length);
    const counts = { accepted: 0, duplicate: 0, conflict: 0, rejected: 0 };
    const seenHere = new Set<string>();
    body.results.forEach((r, i) => {
      const sent = items[i]!;
      expect(r.index).toBe(i);
      counts[r.status as keyof typeof counts]++;
      const what = `event ${i} ${JSON.stringify(sent.raw)?.slice(0, 300)} -> ${JSON.stringify(r)}`;
      if (r.status === 'rejected') {
        expect(sent.valid, `a valid event was rejected: ${what}`).toBe(false);
        expect(REJECTION_CODES.has(r.code as EventRejectionCode), what).toBe(true);
        expect(typeof r.reason, what).toBe('string');
        // Only an event that is not an object at all has no field to name. (A field may be "": an
        // unknown key "" is named by the empty JSON pointer.)
        if (r.code !== 'invalid_event') expect(typeof r.field, `no field: ${what}`).toBe('string');
        tally.countEvent(r.code!);
        return;
      }
      expect(r.eventId, what).toBe(ids[i]);
      const id = r.eventId!;
      if (r.status === 'accepted') {
        expect(resent, `a re-sent event was stored again: ${what}`).toBe(false);
        expect(acknowledged.has(id) || seenHere.has(id), `accepted twice: ${what}`).toBe(false);
        acknowledged.set(id, sent.raw as Record<string, unknown>);
        seenHere.add(id);
      } else {
        expect(['duplicate', 'conflict'], what).toContain(r.status);
        expect(acknowledged.has(id), `a ${r.status} of an id never acknowledged: ${what}`).toBe(true);
        if (sent.valid && r.status === 'conflict') expect.fail(`a fresh valid event conflicts: ${what}`);
        tally.countEvent(r.status);
      }
    });
    expect(body).toMatchObject({
      accepted: counts.accepted,
      duplicates: counts.duplicate,
      conflicts: counts.conflict,
      rejected: counts.rejected,
    });
    return body.results.map((r) => r.status);
  }

  describe.skipIf(!enabled)(`fuzzing POST /v1/events on ${backend}`, () => {
    beforeAll(async () => {
      t = await open();
    });
    afterAll(async () => t?.close());

    it(
      `${runs} generated payloads: no 5xx, coded rejections naming the field, valid events stored once`,
      { timeout: 240_000 },
      async () => {
        await fc.assert(
          fc.asyncProperty(payload, async (p) => {
            if (p.kind === 'raw') {
              const res = await send(p.body, p.contentType, false);
              if (res.statusCode === 200) {
                // A raw body can be a well-formed batch by chance: count it as one, not as an error.
                tally.count(200);
                return;
              }
              tally.count(res.statusCode, expectClientError(res, `raw body ${String(p.body).slice(0, 200)}`));
              return;
            }
            // 1. a unique id for every generated event, 2. its mutations, 3. maybe a copy of the first valid event.
            const items: Sent[] = p.items.map((g) => {
              if (g.mutations === null) return { raw: g.raw, valid: false };
              const raw: Record<string, unknown> = { ...structuredClone(g.raw as Record<string, unknown>), eventId: `fz-${SEED}-${++seq}` };
              for (const m of g.mutations) m(raw);
              return { raw, valid: g.mutations.length === 0 };
            });
            if (p.twice && items[0]!.valid) items.push(items[0]!);
            const text = expandDeep(JSON.stringify({ events: items.map((s) => s.raw) }));
            const ids = items.map((s) => rawId(s.raw));
            eventsSent += items.length;
            validSent += items.filter((s) => s.valid).length;
            const res = await send(text, p.contentType, p.trusted);
            tally.count(res.statusCode);
            checkBatchReply(res, items, ids, false);
            if (p.resend) {
              // The same batch again: every event is now a duplicate, a conflict or rejected, none stored twice.
              // A valid event sent again with another reader is a conflict: the first one stands.
              resends++;
              const first = items.find((s) => s.valid);
              const changed: Sent[] = first ? [{ raw: { ...(first.raw as object), readerId: 'changed' }, valid: false }] : [];
              const again = await send(
                first ? expandDeep(JSON.stringify({ events: [...items, ...changed].map((s) => s.raw) })) : text,
                p.contentType,
                p.trusted,
              );
              tally.count(again.statusCode);
              const outcomes = checkBatchReply(again, [...items, ...changed], [...ids, ...changed.map((s) => rawId(s.raw))], true);
              if (first && (first.raw as { readerId: string }).readerId !== 'changed') expect(outcomes.at(-1)).toBe('conflict');
            }
          }),
          { numRuns: runs, seed: SEED, endOnFailure: false },
        );

        // Property 4: the store holds each acknowledged event exactly once, and nothing else.
        const ids = [...acknowledged.keys()];
        expect(await t.services.storage.countEvents()).toBe(ids.length);
        const stored = await t.services.storage.getEvents(ids);
        expect(stored).toHaveLength(ids.length);
        const perId = new Map<string, number>();
        for (const e of stored) perId.set(e.eventId, (perId.get(e.eventId) ?? 0) + 1);
        expect([...perId.values()].every((n) => n === 1)).toBe(true);
        for (const e of stored) {
          const sent = acknowledged.get(e.eventId)!;
          expect({ readerId: e.readerId, sessionId: e.sessionId, type: e.type }).toEqual({
            readerId: sent.readerId,
            sessionId: sent.sessionId,
            type: sent.type,
          });
        }
        // Property 1: still up.
        expect((await t.app.inject('/healthz')).statusCode).toBe(200);

        tally.report(SEED, {
          'events sent': eventsSent,
          'events generated valid': validSent,
          'batches re-sent': resends,
          'events stored (each once)': ids.length,
        });
        expect(tally.serverErrors).toBe(0);
        expect(tally.tried).toBeGreaterThanOrEqual(runs);
      },
    );
  });
}

fuzzEvents('SQLite', true, RUNS, () => testApp());

let pg: { url: string; drop(): Promise<void> } | undefined;
fuzzEvents('PostgreSQL', Boolean(PG_URL), fuzzRuns(2_000), async () => {
  pg = await freshPostgresUrl();
  const app = await testApp({ db: pg.url });
  return { ...app, close: async () => (await app.close(), await pg?.drop()) };
});

function rawId(raw: unknown): string | null {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const v = (raw as Record<string, unknown>).eventId;
    if (typeof v === 'string' && v.length <= 128) return v;
  }
  return null;
}

describe('found by the fuzzer', () => {
  it('an event whose type is nested thousands deep is rejected as unknown_type (it was a 500 that sank the batch)', async () => {
    const t = await testApp();
    try {
      const good = { type: 'page_view', eventId: 'deep-ok', readerId: 'r', sessionId: 's', timestamp: '2026-03-01T12:00:00Z', page: '/' };
      for (const deep of [deeplyNestedJson(10_000, false), deeplyNestedJson(10_000, true)]) {
        const payload = `{"events": [${JSON.stringify(good)}, {"type": ${deep}, "eventId": "deep-bad"}]}`;
        const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().results[1]).toMatchObject({ status: 'rejected', code: 'unknown_type', field: 'type' });
        expect(res.json().results[1].reason).toMatch(/^unknown event type an (array|object);/);
      }
      expect(await t.services.storage.getEvents(['deep-ok'])).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});
