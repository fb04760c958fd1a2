import { describe, expect, it } from 'vitest';
import { RecordWriter, type RecordWriterOptions } from '../../src/app/record-writer.js';
import { ExposureMemory } from '../../src/app/serving.js';
import type { ExposureRecord, ServeRecord } from '../../src/core/events/records.js';

// A store that behaves like PostgreSQL on text with a NUL: the whole write fails with SQLSTATE
// 22021 and nothing of it is stored. `down` makes every write fail as an unreachable server does.
class FakeStore {
  exposures: ExposureRecord[] = [];
  serves: ServeRecord[] = [];
  writes: number[] = [];
  down = false;

  async appendExposures(rs: readonly ExposureRecord[]): Promise<void> {
    this.check(rs.map((r) => r.readerId));
    this.exposures.push(...rs);
  }

  async appendServes(rs: readonly ServeRecord[]): Promise<void> {
    this.check(rs.map((r) => r.readerId ?? ''));
    this.serves.push(...rs);
  }

  private check(texts: string[]): void {
    this.writes.push(texts.length);
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    if (texts.some((t) => t.includes('\u0000')))
      throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
  }
}

const exposure = (readerId: string, phase = 1): ExposureRecord => ({
  experiment: 'exp',
  phase,
  arm: 'a',
  readerId,
  hashVersion: 2,
  exposedTs: 1000,
});
const serve = (recommId: string, readerId: string): ServeRecord => ({
  recommId,
  placement: 'read-next',
  experiment: null,
  phase: null,
  arm: null,
  hashVersion: null,
  recommenderKind: 'popular',
  recommenderVersion: '1',
  shadow: false,
  readerId,
  sessionId: null,
  articleId: null,
  latencyMs: 1,
  fallback: false,
  fault: false,
  slate: [],
  servedTs: 1000,
});
const readers = (n: number) => Array.from({ length: n }, (_, i) => `r${String(i).padStart(3, '0')}`);

function writer(store: FakeStore, over: Partial<RecordWriterOptions> = {}) {
  const log = { errors: [] as string[], refused: [] as string[], dropped: [] as ExposureRecord[] };
  const w = new RecordWriter(store, {
    flushIntervalMs: 60_000,
    maxBuffered: 100_000,
    isRefusal: (e) => (e as { code?: string }).code === '22021',
    onError: (e, kind, n) => log.errors.push(`${kind} ${n}: ${(e as Error).message}`),
    onRefused: (e, kind, r) => log.refused.push(`${kind} ${JSON.stringify(r.readerId)}: ${(e as Error).message}`),
    onExposuresDropped: (rs) => log.dropped.push(...rs),
    ...over,
  });
  return { w, log };
}

describe('RecordWriter: a record the database refuses', () => {
  it('costs nothing to the others: one NUL reader among 100 leaves all 100 exposures and serves stored', async () => {
    const store = new FakeStore();
    const { w, log } = writer(store);
    const ids = readers(100);
    // The poisoned record in the middle of the batch, as a request between others.
    const order = [...ids.slice(0, 37), 'x\u0000', ...ids.slice(37)];
    order.forEach((r, i) => (w.exposure(exposure(r)), w.serve(serve(`q${i}`, r))));
    await w.flush();
    expect(store.exposures.map((e) => e.readerId)).toEqual(ids);
    expect(store.serves.map((s) => s.readerId)).toEqual(ids);
    expect(w.written).toEqual({ exposures: 100, serves: 100, dropped: 0, refused: 2 });
    // Logged once per kind and reason, nothing dropped.
    expect(log.refused).toEqual([
      'exposure "x\\u0000": invalid byte sequence for encoding "UTF8": 0x00',
      'serve "x\\u0000": invalid byte sequence for encoding "UTF8": 0x00',
    ]);
    expect(log.errors).toEqual([]);
    expect(log.dropped).toEqual([]);
    // Halving: the failed write of 101, then two writes per level down to the refused record:
    // ceil(log2 101) = 7 levels, so at most 1 + 2·7 writes per kind.
    expect(store.writes.length).toBeLessThanOrEqual(2 * (1 + 2 * 7));
  });

  it('is never written again, and a second record refused for the same reason is counted, not logged', async () => {
    const store = new FakeStore();
    const { w, log } = writer(store);
    w.exposure(exposure('a'));
    w.exposure(exposure('b\u0000'));
    await w.flush();
    w.exposure(exposure('c\u0000'));
    w.exposure(exposure('d'));
    await w.flush();
    const writes = store.writes.length;
    await w.flush(); // nothing buffered: no write at all
    expect(store.writes.length).toBe(writes);
    expect(store.exposures.map((e) => e.readerId)).toEqual(['a', 'd']);
    expect(w.written.refused).toBe(2);
    expect(log.refused).toHaveLength(1);
  });

  it('spends at most 64 extra writes on a batch in which every record is refused, and drops what is left undecided', async () => {
    const store = new FakeStore();
    const { w, log } = writer(store);
    for (const r of readers(1000)) w.exposure(exposure(`${r}\u0000`));
    await w.flush();
    expect(store.writes.length).toBe(1 + 64);
    expect(store.exposures).toEqual([]);
    expect(w.written.refused + w.written.dropped).toBe(1000);
    expect(w.written.refused).toBeGreaterThan(0);
    expect(w.written.dropped).toBeGreaterThan(0);
    expect(log.dropped).toHaveLength(w.written.dropped);
  });
});

describe('RecordWriter: a write that fails for another reason (the database is down)', () => {
  it('is not halved: the write is dropped at once, logged, and its exposures handed back to be sent again', async () => {
    const store = new FakeStore();
    store.down = true;
    const { w, log } = writer(store);
    for (const r of readers(100)) w.exposure(exposure(r));
    await w.flush();
    expect(store.writes).toEqual([100]);
    expect(w.written).toEqual({ exposures: 0, serves: 0, dropped: 100, refused: 0 });
    expect(log.errors).toEqual(['exposure 100: connect ECONNREFUSED 127.0.0.1:5432']);
    expect(log.dropped.map((e) => e.readerId)).toEqual(readers(100));
  });

  it('without isRefusal, no failure is taken for a refusal', async () => {
    const store = new FakeStore();
    const { w } = writer(store, { isRefusal: undefined });
    w.exposure(exposure('a'));
    w.exposure(exposure('b\u0000'));
    await w.flush();
    expect(store.writes).toEqual([2]);
    expect(w.written).toMatchObject({ dropped: 2, refused: 0 });
  });
});

describe('ExposureMemory.forget', () => {
  it("makes a dropped exposure a first exposure again, so the reader's next request writes it", () => {
    const m = new ExposureMemory();
    expect(m.note('exp', 'r1', 'a', 1)).toBe(true);
    expect(m.note('exp', 'r1', 'a', 1)).toBe(false);
    m.forget(exposure('r1', 1));
    expect(m.note('exp', 'r1', 'a', 1)).toBe(true);
    expect(m.note('exp', 'r1', 'a', 1)).toBe(false);
  });

  it('keeps the arm of an earlier phase, and ignores an exposure of another phase than the last', () => {
    const m = new ExposureMemory();
    m.note('exp', 'r1', 'b', 1);
    m.note('exp', 'r1', 'b', 2);
    m.forget(exposure('r1', 1)); // an old phase: the phase-2 exposure stands
    expect(m.note('exp', 'r1', 'b', 2)).toBe(false);
    m.forget(exposure('r1', 2));
    expect(m.earlier('exp', 'r1')).toMatchObject({ arm: 'b', phase: 1 });
    expect(m.note('exp', 'r1', 'b', 2)).toBe(true);
    expect(m.earlier('exp', 'r1')).toMatchObject({ arm: 'b', phase: 1 });
  });
});

describe('the dropped exposures wired back to the memory', () => {
  it('a reader whose exposure write failed is written on their next request; the others are not written twice', async () => {
    const store = new FakeStore();
    const memory = new ExposureMemory();
    const { w } = writer(store, { onExposuresDropped: (rs) => rs.forEach((r) => memory.forget(r)) });
    // What RecommendationService does per request (step 4).
    const request = (r: string) => {
      if (memory.note('exp', r, 'a', 1)) w.exposure(exposure(r));
    };
    store.down = true;
    request('r1');
    await w.flush();
    store.down = false;
    request('r1');
    request('r2');
    await w.flush();
    request('r1');
    request('r2');
    await w.flush();
    expect(store.exposures.map((e) => e.readerId)).toEqual(['r1', 'r2']);
  });
});
