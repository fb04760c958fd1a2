import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SlateItem } from '../../../src/core/events/records.js';
import { decodeSlate, putServeParams, SERVE_COLUMNS, serveParams, serveToRow, slateJson } from '../../../src/adapters/storage/rows.js';
import type { ServeRecord } from '../../../src/core/events/records.js';

// Items in SlateItem's key order, as serving builds them; ids and reasons with quotes, escapes,
// control characters, lone surrogates and non-BMP characters; scores of every kind JSON.stringify
// treats specially (-0, NaN, ±Infinity, null).
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('read by readers of this article', 'a"b\\c\n', '\u2028', '\ud800', '😀'),
);
const item: fc.Arbitrary<SlateItem> = fc
  .record({
    articleId: text,
    position: fc.integer({ min: 1, max: 100 }),
    score: fc.oneof(fc.double(), fc.constant(null), fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 5e-324)),
    reason: fc.oneof(text, fc.constant(null)),
    team: fc.option(fc.oneof(fc.constantFrom('A', 'B'), fc.constant(null)), { nil: undefined }),
  })
  .map(({ team, ...rest }) => (team === undefined ? rest : { ...rest, team }));

/** What a slate reads back as: JSON semantics (non-finite scores become null, -0 becomes 0). */
const viaJson = (slate: readonly SlateItem[]): unknown => JSON.parse(JSON.stringify(slate));
/** Positions 1..n in order, as serving composes them: the compact form. */
const ordered = fc.array(item, { maxLength: 12 }).map((s) => s.map((it, i) => ({ ...it, position: i + 1 })));

describe('slateJson / decodeSlate', () => {
  it('round-trips every slate serving composes, in the compact form, on the first call and from the caches', () => {
    fc.assert(
      fc.property(ordered, (slate) => {
        const text = slateJson(slate);
        expect(text).toBe(slateJson(slate));
        if (slate.length > 0) expect(text.startsWith('[[')).toBe(true);
        expect(decodeSlate(text)).toEqual(viaJson(slate));
      }),
      { numRuns: 500 },
    );
  });

  it('stores a slate with positions out of order as JSON.stringify does, and reads it back', () => {
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 12 }).filter((s) => s.some((it, i) => it.position !== i + 1)),
        (slate) => {
          expect(slateJson(slate)).toBe(JSON.stringify(slate));
          expect(decodeSlate(slateJson(slate))).toEqual(viaJson(slate));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads slates stored before the compact form (arrays of objects) as they were written', () => {
    const old =
      '[{"articleId":"a","position":1,"score":0.5,"reason":"r"},{"articleId":"b","position":2,"score":null,"reason":"editor\'s pick","team":"B"}]';
    expect(decodeSlate(old)).toEqual(JSON.parse(old));
    expect(decodeSlate('[]')).toEqual([]);
  });

  it('writes a reason once for a run of items that share it, and the team with its reason', () => {
    const r = 'read by readers of this article';
    const slate: SlateItem[] = [
      { articleId: 'a', position: 1, score: 0.5, reason: r },
      { articleId: 'b', position: 2, score: 0.25, reason: r },
      { articleId: 'c', position: 3, score: null, reason: null },
      { articleId: 'd', position: 4, score: 1, reason: null, team: 'A' },
      { articleId: 'e', position: 5, score: 2, reason: null },
    ];
    const text = slateJson(slate);
    expect(text).toBe(`[["a",0.5,"${r}"],["b",0.25],["c",null,null],["d",1,null,"A"],["e",2]]`);
    expect(decodeSlate(text)).toEqual(slate);
    // A five-item slate of one reason: well under half the object form.
    const five = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({
      articleId: `2026-08-21-01${i}`,
      position: i + 1,
      score: 0.04985192593042502 / (i + 1),
      reason: r,
    }));
    expect(slateJson(five).length).toBeLessThan(JSON.stringify(five).length / 2);
  });

  it('takes the general path for an item outside the type, still as JSON.stringify', () => {
    const odd = [{ articleId: 'a', position: 1, score: undefined, reason: 'r' }] as unknown as SlateItem[];
    expect(slateJson(odd)).toBe('[{"articleId":"a","position":1,"reason":"r"}]');
  });
});

describe('serve params', () => {
  it('are the row of serveToRow in SERVE_COLUMNS order, also when written into a shared array', () => {
    const rec = (i: number): ServeRecord => ({
      recommId: `r${i}`,
      placement: 'read-next',
      experiment: i % 2 ? 'e' : null,
      phase: i % 2 ? 1 : null,
      arm: i % 2 ? 'b' : null,
      hashVersion: i % 2 ? 2 : null,
      recommenderKind: 'co-read',
      recommenderVersion: '1',
      shadow: i % 3 === 0,
      readerId: `rd${i}`,
      sessionId: null,
      articleId: 'a1',
      latencyMs: 0.25 * i,
      fallback: i % 4 === 0,
      fault: false,
      slate: [{ articleId: 'x', position: 1, score: 0.5, reason: 'why' }],
      servedTs: 1_700_000_000_000 + i,
    });
    const shared = new Array<unknown>(3 * SERVE_COLUMNS.length);
    let at = 0;
    for (let i = 0; i < 3; i++) at = putServeParams(shared, at, rec(i));
    expect(at).toBe(shared.length);
    for (let i = 0; i < 3; i++) {
      const row = serveToRow(rec(i));
      const want = SERVE_COLUMNS.map((c) => row[c]);
      expect(serveParams(rec(i))).toEqual(want);
      expect(shared.slice(i * SERVE_COLUMNS.length, (i + 1) * SERVE_COLUMNS.length)).toEqual(want);
    }
  });
});
