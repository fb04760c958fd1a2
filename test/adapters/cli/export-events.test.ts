import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/adapters/storage/open.js';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import { validateEvent } from '../../../src/core/events/validate.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { runCliOn } from '../../helpers/cli.js';
import { BACKENDS, tempDir } from '../../helpers/databases.js';

const DAY = 86_400_000;
const MIN = 60_000;
const S = Date.UTC(2026, 2, 1);
const iso = (ms: number) => new Date(ms).toISOString();
const clock = fixedClock(S + 3 * DAY);
const dir = tempDir();
afterAll(() => dir.remove());

/** `readnext ARGS` in process on the test's clock; stdout chunks joined as the terminal shows them. */
async function cli(db: string, ...args: string[]) {
  const r = await runCliOn(db, clock, args);
  return { ...r, out: r.out.join('\n') };
}

const common = (id: string, ts: number) => ({ schemaVersion: 1, eventId: id, readerId: 'r1', sessionId: 's1', timestamp: iso(ts) });

/**
 * Wire events in the canonical form the export writes (ISO UTC times, no null fields, an
 * impression's `shadow` given): every type, every optional field somewhere, two events at the same
 * time (the order breaks the tie by event id), one at each edge of the window.
 */
const WIRE: Record<string, unknown>[] = [
  { type: 'page_view', ...common('e01', S), articleId: 'a1', url: 'https://news.example/a1', referrer: 'https://search.example/?q="x"' },
  { type: 'page_view', ...common('e00', S), page: '/sport' },
  {
    type: 'impression',
    ...common('e02', S + MIN),
    recommId: 'rc1',
    placement: 'read-next',
    articleId: 'a1',
    items: [
      { articleId: 'a2', position: 1 },
      { articleId: 'a3', position: 2, team: 'B' },
    ],
    experiment: 'exp1',
    phase: 0,
    arm: 'treatment',
    hashVersion: 2,
    recommender: { kind: 'gbdt', version: '7' },
    shadow: false,
  },
  {
    type: 'impression',
    ...common('e03', S + MIN),
    recommId: 'rc2',
    placement: 'read-next',
    items: [{ articleId: 'a4', position: 1 }],
    shadow: true,
  },
  { type: 'click', ...common('e04', S + 2 * MIN), recommId: 'rc1', articleId: 'a2', position: 1, placement: 'read-next' },
  { type: 'read', ...common('e05', S + DAY), articleId: 'a2', dwellMs: 45_000, scroll: 0.75, recommId: 'rc1' },
  { type: 'read', ...common('e06', S + DAY + 1), articleId: 'a1', dwellMs: 0, scroll: 0 },
  { type: 'subscribe', ...common('e07', S + 2 * DAY - 1), plan: 'monthly', revenue: 9.99, currency: 'EUR', articleId: 'a2' },
  { type: 'read', ...common('e08', S + 2 * DAY), articleId: 'a3', dwellMs: 1200, scroll: 1 },
];
const RECEIVE_LAG = 250;
const exported = (w: Record<string, unknown>) => ({ ...w, receivedAt: iso(Date.parse(w.timestamp as string) + RECEIVE_LAG) });
const ordered = [...WIRE].sort(
  (a, b) => (a.timestamp as string).localeCompare(b.timestamp as string) || (a.eventId as string).localeCompare(b.eventId as string),
);

function stored(w: Record<string, unknown>): StoredEvent {
  const receivedTs = Date.parse(w.timestamp as string) + RECEIVE_LAG;
  const v = validateEvent(w, { receivedTs, window: { maxPastMs: DAY, maxFutureMs: DAY }, trusted: true });
  if (!v.ok) throw new Error(`${w.eventId as string}: ${v.error.reason}`);
  return { ...v.event, receivedTs };
}

const lines = (text: string) => (text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>));

for (const backend of BACKENDS) {
  const suite = backend.enabled ? describe : describe.skip;
  suite(`readnext export events (${backend.name})`, () => {
    let db = '';
    let cleanup = async () => undefined as void;
    beforeAll(async () => {
      const created = await backend.create();
      db = created.url;
      cleanup = created.cleanup;
      const s = await openStorage(db);
      try {
        await s.appendEvents(WIRE.map(stored));
      } finally {
        await s.close();
      }
    });
    afterAll(() => cleanup());

    it('writes the events as JSON lines in the wire schema plus receivedAt, ordered by time then id', async () => {
      const r = await cli(db, 'export', 'events', '--since', '2026-03-01', '--until', '2026-03-04');
      expect(r.code).toBe(0);
      expect(lines(r.out)).toEqual(ordered.map(exported));
      expect(r.err).toEqual([
        expect.stringMatching(/^exported 9 events \(2026-03-01T00:00:00.000Z \.\. 2026-03-04T00:00:00.000Z\) as jsonl in /),
      ]);
      // What the export writes passes the collector's validation once receivedAt is removed.
      for (const l of lines(r.out)) {
        const { receivedAt: _r, ...w } = l;
        expect(
          validateEvent(w, { receivedTs: Date.parse(w.timestamp as string), window: { maxPastMs: DAY, maxFutureMs: DAY }, trusted: true })
            .ok,
        ).toBe(true);
      }
    });

    it('filters by the window (since included, until excluded, ISO times) and by type', async () => {
      const r = await cli(db, 'export', 'events', '--since', '2026-03-02', '--until', '2026-03-03T00:00:00Z');
      expect(lines(r.out).map((e) => e.eventId)).toEqual(['e05', 'e06', 'e07']);
      const t = await cli(db, 'export', 'events', '--since', '2026-03-01', '--until', '2026-03-04', '--type', 'read');
      expect(lines(t.out).map((e) => e.eventId)).toEqual(['e05', 'e06', 'e08']);
      const none = await cli(db, 'export', 'events', '--since', '2026-02-01', '--until', '2026-02-02');
      expect([none.code, none.out]).toEqual([0, '']);
      // --until defaults to now (the clock: S + 3 days).
      const all = await cli(db, 'export', 'events', '--since', '2026-03-01T00:00:00.001Z');
      expect(lines(all.out).map((e) => e.eventId)).toEqual(ordered.slice(2).map((e) => e.eventId));
    });

    it('writes JSON lines to --out FILE', async () => {
      const out = join(dir.path, `${backend.name}.jsonl`);
      const r = await cli(db, 'export', 'events', '--since', '2026-03-01', '--until', '2026-03-04', '--out', out);
      expect([r.code, r.out]).toEqual([0, '']);
      expect(lines(readFileSync(out, 'utf8').trimEnd())).toEqual(ordered.map(exported));
    });

    it('writes Parquet with typed columns that reads back as the JSON lines', async () => {
      const out = join(dir.path, `${backend.name}.parquet`);
      const r = await cli(db, 'export', 'events', '--since', '2026-03-01', '--until', '2026-03-04', '--format', 'parquet', '--out', out);
      expect(r.code).toBe(0);
      const file = await asyncBufferFromFile(out);
      const meta = await parquetMetadataAsync(file);
      const types = Object.fromEntries(meta.schema.slice(1).map((s) => [s.name, [s.type, s.converted_type ?? null, s.repetition_type]]));
      expect(types).toMatchObject({
        eventId: ['BYTE_ARRAY', 'UTF8', 'REQUIRED'],
        timestamp: ['INT64', 'TIMESTAMP_MILLIS', 'REQUIRED'],
        receivedAt: ['INT64', 'TIMESTAMP_MILLIS', 'REQUIRED'],
        dwellMs: ['INT32', null, 'OPTIONAL'],
        scroll: ['DOUBLE', null, 'OPTIONAL'],
        revenue: ['DOUBLE', null, 'OPTIONAL'],
        shadow: ['BOOLEAN', null, 'OPTIONAL'],
        items: ['BYTE_ARRAY', 'JSON', 'OPTIONAL'],
      });
      const rows = (await parquetReadObjects({ file })).map((row) =>
        Object.fromEntries(
          Object.entries(row)
            .filter(([, v]) => v !== null && v !== undefined)
            .map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
        ),
      );
      expect(rows).toEqual(ordered.map(exported));
    });

    it('refuses bad input with exit 2 and one line naming the option', async () => {
      const bad = async (args: string[], pattern: RegExp) => {
        const r = await cli(db, 'export', 'events', ...args);
        expect(r.code).toBe(2);
        expect(r.err).toHaveLength(1);
        expect(r.err[0]).toMatch(pattern);
        expect(r.out).toBe('');
      };
      await bad(['--since', '2026-02-30'], /--since must be a day/);
      await bad(['--since', '2026-03-01', '--until', 'yesterday'], /--until must be a day/);
      await bad(['--since', '2026-03-02', '--until', '2026-03-01'], /--until .* must be after --since/);
      await bad(['--until', '2026-03-01'], /--since/);
      await bad(['--since', '2026-03-01', '--type', 'purchase'], /--type/);
      await bad(['--since', '2026-03-01', '--format', 'csv'], /--format/);
      await bad(['--since', '2026-03-01', '--format', 'parquet'], /--format parquet needs --out/);
    });
  });
}

describe('readnext export events on 50,000 events (SQLite)', () => {
  const N = 50_000;
  const db = `sqlite:${join(dir.path, 'rate.db')}`;
  beforeAll(async () => {
    const s = await openStorage(db);
    try {
      for (let b = 0; b < N; b += 5000) {
        const batch: StoredEvent[] = [];
        for (let i = b; i < b + 5000; i++) {
          const ts = S + Math.floor((i * DAY) / N);
          const common = {
            eventId: `ev${String(i).padStart(6, '0')}`,
            readerId: `r${i % 997}`,
            sessionId: `s${i % 4999}`,
            clientTs: ts,
            receivedTs: ts + 100,
          };
          batch.push(
            i % 3 === 0
              ? {
                  ...common,
                  type: 'impression',
                  recommId: `rc${i}`,
                  placement: 'read-next',
                  articleId: `a${i % 50}`,
                  items: [1, 2, 3].map((p) => ({ articleId: `a${(i + p) % 50}`, position: p, team: null })),
                  experiment: 'x',
                  phase: 1,
                  arm: 'control',
                  hashVersion: 2,
                  recommender: { kind: 'popular', version: '1' },
                  shadow: false,
                }
              : { ...common, type: 'read', articleId: `a${i % 50}`, dwellMs: 1000 + (i % 60_000), scroll: (i % 100) / 100, recommId: null },
          );
        }
        await s.appendEvents(batch);
      }
    } finally {
      await s.close();
    }
  });

  it('exports them as JSON lines and Parquet with the same rows (rates printed, not asserted)', async () => {
    const jsonl = join(dir.path, 'rate.jsonl');
    const parquet = join(dir.path, 'rate.parquet');
    let t = performance.now();
    const a = await cli(db, 'export', 'events', '--since', '2026-03-01', '--until', '2026-03-02', '--out', jsonl);
    const jsonlSecs = (performance.now() - t) / 1000;
    t = performance.now();
    const b = await cli(db, 'export', 'events', '--since', '2026-03-01', '--until', '2026-03-02', '--format', 'parquet', '--out', parquet);
    const parquetSecs = (performance.now() - t) / 1000;
    expect([a.code, b.code]).toEqual([0, 0]);
    const fromJsonl = lines(readFileSync(jsonl, 'utf8').trimEnd());
    expect(fromJsonl).toHaveLength(N);
    expect(fromJsonl[0]!.eventId).toBe('ev000000');
    const file = await asyncBufferFromFile(parquet);
    const meta = await parquetMetadataAsync(file);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([N]);
    const rows = await parquetReadObjects({ file, columns: ['eventId', 'timestamp', 'dwellMs'] });
    expect(rows.map((r) => r.eventId)).toEqual(fromJsonl.map((e) => e.eventId));
    expect(rows.map((r) => (r.timestamp as Date).toISOString())).toEqual(fromJsonl.map((e) => e.timestamp));
    expect(rows.map((r) => r.dwellMs ?? undefined)).toEqual(fromJsonl.map((e) => e.dwellMs));
    console.log(
      `export of ${N} events on SQLite: jsonl ${Math.round(N / jsonlSecs)} events/s (${(statSync(jsonl).size / 1e6).toFixed(1)} MB), ` +
        `parquet ${Math.round(N / parquetSecs)} events/s (${(statSync(parquet).size / 1e6).toFixed(1)} MB)`,
    );
  }, 120_000);
});
