import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiJson, RecResponseEncoder } from '../../../src/adapters/http/rec-json.js';
import type { RecItem, RecResponse } from '../../../src/app/serving.js';

/** The response in the schema's key order, as JSON.stringify writes it (the reference). */
function reference(r: RecResponse): string {
  return JSON.stringify({
    recommId: r.recommId,
    placement: r.placement,
    experiment: r.experiment,
    phase: r.phase,
    arm: r.arm,
    hashVersion: r.hashVersion,
    recommender: { kind: r.recommender.kind, version: r.recommender.version },
    fallback: r.fallback,
    items: r.items.map((i) => ({
      articleId: i.articleId,
      title: i.title,
      url: i.url,
      position: i.position,
      reason: i.reason,
      ...(i.team === undefined ? {} : { team: i.team }),
    })),
  });
}

/** Every UTF-16 unit below U+0080. */
const isAscii = (s: string) => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};
const text = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }), weight: 4 },
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const item = fc.record({
  articleId: fc.string({ minLength: 1, maxLength: 20 }),
  title: text,
  url: fc.option(text, { nil: null }),
  position: fc.integer({ min: 1, max: 100 }),
  reason: text,
  team: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
});
const response = fc.record({
  recommId: fc.uuid(),
  placement: fc.constantFrom('read-next', 'home'),
  experiment: fc.option(text, { nil: null }),
  phase: fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }),
  arm: fc.option(text, { nil: null }),
  hashVersion: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  recommender: fc.record({ kind: text, version: text }),
  fallback: fc.boolean(),
  items: fc.array(item, { maxLength: 8 }),
});

describe('RecResponseEncoder', () => {
  it('property: ASCII text that parses to what JSON.stringify writes, and is exactly its text when that is ASCII; through its caches', () => {
    const enc = new RecResponseEncoder();
    let asciiCases = 0;
    fc.assert(
      fc.property(response, (r) => {
        const items = r.items.map((i) =>
          i.team === undefined ? { articleId: i.articleId, title: i.title, url: i.url, position: i.position, reason: i.reason } : i,
        ) as RecItem[];
        const res: RecResponse = { ...r, items };
        const want = reference(res);
        // Twice: the second time from the caches.
        for (const json of [enc.encode(res), enc.encode(res)]) {
          expect(isAscii(json)).toBe(true);
          expect(JSON.parse(json)).toEqual(JSON.parse(want));
          if (isAscii(want)) expect(json).toBe(want);
        }
        if (isAscii(want)) asciiCases++;
      }),
      { numRuns: 800, seed: 20261204 },
    );
    expect(asciiCases).toBeGreaterThan(50);
  });

  it('keeps responses apart that differ only in null against "null", or in where a separator falls', () => {
    const enc = new RecResponseEncoder();
    const base: RecResponse = {
      recommId: 'r',
      placement: 'p',
      experiment: null,
      phase: null,
      arm: null,
      hashVersion: null,
      recommender: { kind: 'k', version: '1' },
      fallback: false,
      items: [],
    };
    const variants: RecResponse[] = [
      base,
      { ...base, experiment: 'null' },
      { ...base, arm: 'null' },
      { ...base, arm: '-' },
      { ...base, phase: 1 },
      { ...base, hashVersion: 1 },
      { ...base, placement: 'p|1:x', experiment: null },
      { ...base, placement: 'p', experiment: 'x' },
      { ...base, recommender: { kind: 'k1', version: '' } },
      { ...base, recommender: { kind: 'k', version: '1' }, fallback: true },
    ];
    for (let round = 0; round < 2; round++) for (const v of variants) expect(enc.encode(v)).toBe(reference(v));
  });

  it('asciiJson escapes every character above U+007F as JSON.stringify escapes controls (hand-worked)', () => {
    expect(asciiJson('Rubén… 😀 "q" \\ \u0001 \ud800')).toBe('"Rub\\u00e9n\\u2026 \\ud83d\\ude00 \\"q\\" \\\\ \\u0001 \\ud800"');
    expect(asciiJson('\u007f\u0080\u00ff\uffff')).toBe('"\u007f\\u0080\\u00ff\\uffff"');
    expect(asciiJson(null)).toBe('null');
    expect(asciiJson(12)).toBe('12');
    expect(asciiJson('plain')).toBe('"plain"');
  });

  it('picks up a new title or url of an article it has encoded before, and escapes quotes, controls and non-ASCII', () => {
    const enc = new RecResponseEncoder();
    const res = (title: string, url: string | null): RecResponse => ({
      recommId: 'r',
      placement: 'read-next',
      experiment: null,
      phase: null,
      arm: null,
      hashVersion: null,
      recommender: { kind: 'co-read', version: '1' },
      fallback: false,
      items: [{ articleId: 'a"1', title, url, position: 1, reason: 'read by readers of this article' }],
    });
    for (const [title, url] of [
      ['Rubén "quoted"\n', 'https://x/1'],
      ['Rubén "quoted"\n', null],
      ['Ünïcode ✓ 😀 \u2028', null],
    ] as const) {
      const r = res(title, url);
      const json = enc.encode(r);
      expect(isAscii(json)).toBe(true);
      expect(JSON.parse(json)).toEqual(JSON.parse(reference(r)));
    }
  });
});
