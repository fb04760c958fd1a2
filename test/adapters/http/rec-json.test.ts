import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecResponseEncoder } from '../../../src/adapters/http/rec-json.js';
import type { RecItem, RecResponse } from '../../../src/app/serving.js';

/** The response in the schema's key order, as JSON.stringify writes it (the reference). */
function reference(r: RecResponse): string {
  return JSON.stringify({
    recommId: r.recommId, placement: r.placement, experiment: r.experiment, phase: r.phase, arm: r.arm, hashVersion: r.hashVersion,
    recommender: { kind: r.recommender.kind, version: r.recommender.version }, fallback: r.fallback,
    items: r.items.map((i) => ({ articleId: i.articleId, title: i.title, url: i.url, position: i.position, reason: i.reason, ...(i.team === undefined ? {} : { team: i.team }) })),
  });
}

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const item = fc.record({ articleId: fc.string({ minLength: 1, maxLength: 20 }), title: text, url: fc.option(text, { nil: null }), position: fc.integer({ min: 1, max: 100 }), reason: text, team: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }) });
const response = fc.record({
  recommId: fc.uuid(), placement: fc.constantFrom('read-next', 'home'), experiment: fc.option(text, { nil: null }), phase: fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }),
  arm: fc.option(text, { nil: null }), hashVersion: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  recommender: fc.record({ kind: text, version: text }), fallback: fc.boolean(), items: fc.array(item, { maxLength: 8 }),
});

describe('RecResponseEncoder', () => {
  it('property: writes what JSON.stringify writes, through its caches (same encoder for every case)', () => {
    const enc = new RecResponseEncoder();
    fc.assert(
      fc.property(response, (r) => {
        const items = r.items.map((i) => (i.team === undefined ? { articleId: i.articleId, title: i.title, url: i.url, position: i.position, reason: i.reason } : i)) as RecItem[];
        const res: RecResponse = { ...r, items };
        expect(enc.encode(res)).toBe(reference(res));
        // Again: now from the caches.
        expect(enc.encode(res)).toBe(reference(res));
      }),
      { numRuns: 500, seed: 20261204 },
    );
  });

  it('picks up a new title or url of an article it has encoded before, and escapes quotes, controls and non-ASCII', () => {
    const enc = new RecResponseEncoder();
    const res = (title: string, url: string | null): RecResponse => ({
      recommId: 'r', placement: 'read-next', experiment: null, phase: null, arm: null, hashVersion: null, recommender: { kind: 'co-read', version: '1' }, fallback: false,
      items: [{ articleId: 'a"1', title, url, position: 1, reason: 'read by readers of this article' }],
    });
    for (const [title, url] of [['Rubén "quoted"\n', 'https://x/1'], ['Rubén "quoted"\n', null], ['Ünïcode ✓ 😀 \u2028', null]] as const) {
      const r = res(title, url);
      const json = enc.encode(r);
      expect(json).toBe(reference(r));
      expect(JSON.parse(json)).toEqual(JSON.parse(reference(r)));
    }
  });
});
