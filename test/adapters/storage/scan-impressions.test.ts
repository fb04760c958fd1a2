import { afterAll, describe, expect, it } from 'vitest';
import type { SignalRow } from '../../../src/app/ports.js';
import { eventExtra } from '../../../src/adapters/storage/rows.js';
import { impressionIds } from '../../../src/adapters/storage/events.js';
import { openStorage, type OpenedStorage } from '../../../src/adapters/storage/open.js';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import { validateEvent } from '../../../src/core/events/validate.js';
import { impressionOf } from '../../../src/core/recommend/signals.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';
import { click, impression, pageView, read, subscribe, T0 } from '../../helpers/events.js';

// The startup replay (EventStore.scanSignals) returns live impressions as FreshFeed's live path
// takes them from a stored event (signals.ts impressionOf), merged in client-time order with the
// reading signals, on every scan path: SQLite's worker scanner (a file), SQLite in memory (on the
// main thread), PostgreSQL (the shared Kysely scan) when READNEXT_TEST_PG is set.

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The event as the collector stores it; fields set to undefined are left out. */
const stored = (raw: Record<string, unknown>): StoredEvent => {
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  const v = validateEvent(raw, { receivedTs: T0, window: { maxPastMs: 86_400_000, maxFutureMs: 86_400_000 }, trusted: true });
  if (!v.ok) throw new Error(JSON.stringify(v.error));
  return { ...v.event, receivedTs: T0 };
};

/** Items whose ids are awkward for a hand scan of the JSON: quotes, backslashes, non-ASCII, JSON-looking text. */
const AWKWARD = ['q"uote', 'back\\slash', 'ünï-ç😀de', '"shadow":true', 'end\\'];

/** Impressions of every kind the live path sees, and what it takes from each (undefined: skipped). */
const IMPRESSIONS: StoredEvent[] = [
  stored(impression(T0 + 10, { readerId: 'r1' })),
  stored(impression(T0 + 20, { readerId: 'r1', shadow: true, items: [{ articleId: 'never', position: 1 }] })),
  stored(
    impression(T0 + 30, {
      readerId: 'r2',
      placement: 'homepage',
      articleId: undefined,
      items: AWKWARD.map((a, i) => ({ articleId: a, position: i + 1 })),
    }),
  ),
  stored(
    impression(T0 + 40, {
      readerId: 'r2',
      items: [
        { articleId: 'b', position: 2, team: 'B' },
        { articleId: 'a', position: 1, team: 'A' },
      ],
      experiment: 'exp',
      phase: 1,
      arm: 'treatment',
      hashVersion: 2,
      recommender: { kind: 'model', version: '3' },
      shadow: false,
    }),
  ),
  stored(
    impression(T0 + 50, {
      readerId: 'r3',
      shadow: true,
      recommender: { kind: 'model', version: '4' },
      items: AWKWARD.map((a, i) => ({ articleId: a, position: i + 1 })),
    }),
  ),
];

describe('impressionIds', () => {
  it('reads the extra of every impression as impressionOf reads the event', () => {
    for (const e of IMPRESSIONS) expect(impressionIds(eventExtra(e))).toEqual(impressionOf(e)?.articleIds);
  });

  it('falls back to JSON.parse on any other layout', () => {
    expect(impressionIds('{ "items": [ { "articleId": "a", "position": 1 }, { "articleId": "b", "position": 2 } ] }')).toEqual(['a', 'b']);
    expect(impressionIds('{"items": [{"articleId": "a"}], "shadow": true}')).toBeUndefined();
    expect(impressionIds('{"items":[]}')).toBeUndefined();
    expect(impressionIds('{}')).toBeUndefined();
    expect(impressionIds(null)).toBeUndefined();
  });
});

/** Every scan path, each on a database of its own. */
const PATHS: { name: string; enabled: boolean; open(): Promise<OpenedStorage> }[] = [
  ...BACKENDS.map((b) => ({
    name: b.name === 'sqlite' ? 'sqlite file (worker scanner)' : 'postgres (Kysely scan)',
    enabled: b.enabled,
    async open() {
      const o = await openBackend(b);
      cleanups.push(o.cleanup);
      return o.storage;
    },
  })),
  {
    name: 'sqlite in memory',
    enabled: true,
    async open() {
      const s = await openStorage('sqlite::memory:');
      cleanups.push(() => s.close());
      return s;
    },
  },
];

for (const path of PATHS) {
  describe.skipIf(!path.enabled)(`scanSignals with impressions (${path.name})`, () => {
    it('returns live impressions with the reading signals in client-time order, ties in commit (SQLite) or receive (PostgreSQL) order', async () => {
      const storage = await path.open();
      const events = [
        stored(read(T0 + 45, { readerId: 'r1', articleId: 'x' })),
        ...IMPRESSIONS.slice().reverse(),
        // The same client time as r1's impression, stored after it (received later: PostgreSQL breaks ties by receive time).
        { ...stored(click(T0 + 10, { readerId: 'r1', articleId: 'a2' })), receivedTs: T0 + 1 },
        stored(pageView(T0 + 15, { readerId: 'r1', articleId: undefined, page: '/' })),
        stored(subscribe(T0 + 16, { readerId: 'r1', articleId: 'x' })),
        stored(impression(T0 - 1, { readerId: 'r0' })), // before the window
      ];
      expect(new Set(await storage.appendEvents(events))).toEqual(new Set(['accepted']));
      const got: SignalRow[] = [];
      const n = await storage.scanSignals(T0, (rows) => got.push(...rows));
      expect(got).toEqual([
        { type: 'impression', readerId: 'r1', articleIds: ['a2', 'a3'], clientTs: T0 + 10 },
        { type: 'click', readerId: 'r1', articleId: 'a2', clientTs: T0 + 10 },
        { type: 'impression', readerId: 'r2', articleIds: AWKWARD, clientTs: T0 + 30 },
        { type: 'impression', readerId: 'r2', articleIds: ['b', 'a'], clientTs: T0 + 40 },
        { type: 'read', readerId: 'r1', articleId: 'x', clientTs: T0 + 45 },
      ]);
      expect(n).toBe(5);
    });
  });
}
