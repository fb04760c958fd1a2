import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, findBadText, isPlainJsonString } from '../../../src/core/kernel/strings.js';

describe('findBadText', () => {
  it('passes clean nested values, including escapes that decode to good text', () => {
    expect(findBadText({ a: 'x', b: [1, null, true, { c: '🎉 \u2028 é' }], clé: 'v' })).toBeUndefined();
    expect(findBadText('plain')).toBeUndefined();
    expect(findBadText(42)).toBeUndefined();
  });

  it('names the first bad string by its path: NUL, lone surrogates, in values and keys', () => {
    expect(findBadText({ items: [{ articleId: 'ok' }, { articleId: 'a\u0000b' }] })).toEqual({
      path: '/items/1/articleId',
      reason: 'contains a NUL character',
    });
    expect(findBadText({ readerId: 'r\ud800' })).toEqual({ path: '/readerId', reason: 'contains a lone UTF-16 surrogate' });
    expect(findBadText({ ok: 1, ['k\udc00']: 1 })).toEqual({ path: '/k\udc00', reason: 'key contains a lone UTF-16 surrogate' });
    expect(findBadText(['x', ['y', '\u0000']])).toEqual({ path: '/1/1', reason: 'contains a NUL character' });
    expect(findBadText('\ud83d')).toEqual({ path: '', reason: 'contains a lone UTF-16 surrogate' });
  });

  it('ignores inherited properties', () => {
    const o = Object.create({ inherited: '\u0000' }) as Record<string, unknown>;
    o.own = 'fine';
    expect(findBadText(o)).toBeUndefined();
  });
});

describe('canonical', () => {
  it('returns a string equal to its input, whatever it holds', () => {
    for (const s of ['2026-08-21-017', '', '12', '4294967295', '-0', '__proto__', 'constructor', 'Rubén…', '\ud800', 'a'.repeat(300)])
      expect(canonical(s)).toBe(s);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => canonical(s) === s),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe('isPlainJsonString', () => {
  it('is true exactly when JSON.stringify writes the string between quotes unchanged', () => {
    for (const s of [
      '',
      'a',
      '2026-08-21-017',
      'read by readers of this article',
      '~ !#$%&()*+',
      'a"b',
      'a\\b',
      '\u001f',
      '\u007f',
      'é',
      '\u2028',
      '😀',
      '\ud800',
    ])
      expect(isPlainJsonString(s)).toBe(JSON.stringify(s) === `"${s}"` && [...s].every((c) => c.charCodeAt(0) <= 0x7e));
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 20 }),
        (s) => isPlainJsonString(s) === (JSON.stringify(s) === `"${s}"` && /^[\u0020-\u007e]*$/.test(s)),
      ),
      { numRuns: 3000, seed: 11 },
    );
  });
});
