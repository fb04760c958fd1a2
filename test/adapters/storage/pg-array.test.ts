import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pgArray } from '../../../src/adapters/storage/rows.js';

/** The literal written out element by element, from the rules of PostgreSQL's array input (8.15.6). */
const reference = (values: readonly (string | number | null)[]): string =>
  `{${values.map((v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;

describe('pgArray', () => {
  it('writes texts quoted with " and \\ escaped, numbers bare, NULL', () => {
    expect(pgArray(['a', 'b"c', 'd\\e', '{x,y}', 'NULL', ''])).toBe('{"a","b\\"c","d\\\\e","{x,y}","NULL",""}');
    expect(pgArray([1, 2.5, -0, 1764000000000])).toBe('{1,2.5,0,1764000000000}');
    expect(pgArray(['a', null, 'b'])).toBe('{"a",NULL,"b"}');
    expect(pgArray([3, null])).toBe('{3,NULL}');
    expect(pgArray([])).toBe('{}');
  });

  // 5,000 random columns (fixed seed), text or numeric, with and without NULLs, quotes, backslashes,
  // braces, commas and NUL characters: exactly the literal written from the rules.
  it('equals the literal written from the array-input rules on 5,000 random columns', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '"', '\\', ',', '{', '}', ' ', '\0', 'é', '😀', 'N') });
    const column = fc.oneof(
      fc.array(text, { maxLength: 20 }),
      fc.array(fc.option(text, { nil: null }), { maxLength: 20 }),
      fc.array(fc.integer(), { maxLength: 20 }),
      fc.array(fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }), { maxLength: 20 }),
    );
    fc.assert(
      fc.property(column, (values) => {
        expect(pgArray(values)).toBe(reference(values));
      }),
      { numRuns: 5000, seed: 20261204 },
    );
  });
});
