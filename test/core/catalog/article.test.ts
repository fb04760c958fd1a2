import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseArticleJson, rebaseDates, type Article, type ArticleParse } from '../../../src/core/catalog/article.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const at = (iso: string) => Date.parse(iso);

function article(parse: ArticleParse): Article {
  if (!parse.ok) throw new Error(`expected ok, got ${parse.error.field}: ${parse.error.reason}`);
  return parse.article;
}
function rejection(parse: ArticleParse) {
  if (parse.ok) throw new Error(`expected a rejection, got article ${parse.article.id}`);
  return parse.error;
}

describe('parseArticleJson', () => {
  const minimal = { id: 'a1', title: 'Hello', publishedAt: '2026-01-01T08:00:00Z' };

  it('fills defaults for a minimal article', () => {
    expect(article(parseArticleJson(minimal))).toEqual({
      id: 'a1',
      url: null,
      title: 'Hello',
      lead: null,
      body: null,
      section: null,
      tags: [],
      author: null,
      publishedAt: at('2026-01-01T08:00:00Z'),
      updatedAt: null,
      expiresAt: null,
      embargoUntil: null,
      status: 'published',
      paywalled: false,
      language: null,
    });
  });

  it('rejects an unknown field and names it', () => {
    expect(rejection(parseArticleJson({ ...minimal, headline: 'x' }))).toEqual({ field: 'headline', reason: 'unknown field "headline"' });
  });

  it('rejects a missing or blank title', () => {
    const { title: _omit, ...noTitle } = minimal;
    expect(rejection(parseArticleJson(noTitle))).toEqual({ field: 'title', reason: 'is required' });
    expect(rejection(parseArticleJson({ ...minimal, title: '  ' })).field).toBe('title');
  });

  it('rejects a date-time without a zone', () => {
    const e = rejection(parseArticleJson({ ...minimal, publishedAt: '2026-01-01T08:00:00' }));
    expect(e.field).toBe('publishedAt');
    expect(e.reason).toMatch(/zone/);
  });

  it('rejects a day that does not exist in every date field instead of rolling it over', () => {
    for (const [field, value, days] of [
      ['publishedAt', '2026-02-30T08:00:00Z', 'February 2026 has 28 days'],
      ['expiresAt', '2026-11-31T00:00:00+01:00', 'November 2026 has 30 days'],
      ['updatedAt', '2025-02-29T12:00:00.000Z', 'February 2025 has 28 days'],
      ['embargoUntil', '2026-04-31T06:00Z', 'April 2026 has 30 days'],
    ] as const) {
      const e = rejection(parseArticleJson({ ...minimal, [field]: value }));
      expect(e).toEqual({ field, reason: `"${value}": ${value.slice(0, 10)} does not exist: ${days}` });
    }
    expect(article(parseArticleJson({ ...minimal, publishedAt: '2024-02-29T08:00:00Z' })).publishedAt).toBe(at('2024-02-29T08:00:00Z'));
  });

  it('accepts an offset zone and converts it to UTC', () => {
    expect(article(parseArticleJson({ ...minimal, publishedAt: '2026-01-01T09:00:00+01:00' })).publishedAt).toBe(
      at('2026-01-01T08:00:00Z'),
    );
  });

  it('rejects NUL and lone surrogates in text', () => {
    expect(rejection(parseArticleJson({ ...minimal, title: 'a\u0000b' }))).toEqual({ field: 'title', reason: 'contains a NUL character' });
    expect(rejection(parseArticleJson({ ...minimal, title: 'broken \uD83D pair' }))).toEqual({
      field: 'title',
      reason: 'contains a lone UTF-16 surrogate',
    });
    expect(rejection(parseArticleJson({ ...minimal, tags: ['ok', '\uDC00'] })).field).toBe('tags/1');
  });

  it('rejects non-objects', () => {
    for (const v of [null, 'x', 3, [minimal]]) expect(rejection(parseArticleJson(v)).reason).toBe('must be a JSON object');
  });

  it('parses the JSON-lines fixture: good lines become articles, bad lines name their field', () => {
    const results = fixture('catalog-sample.jsonl')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => parseArticleJson(JSON.parse(l)));
    expect(results.map((r) => (r.ok ? r.article.id : `!${r.error.field}`))).toEqual(['jl-001', 'jl-002', '!headline', '!title', 'jl-005']);
    const [first, second, , , fifth] = results.map((r) => (r.ok ? r.article : undefined));
    expect(first?.tags).toEqual(['ferries', 'timetables']);
    expect(second?.updatedAt).toBe(at('2026-03-01T09:00:00Z'));
    expect(fifth).toMatchObject({ paywalled: true, expiresAt: at('2026-06-01T00:00:00Z') });
  });
});

describe('rebaseDates', () => {
  const base = article(parseArticleJson({ id: 'x', title: 'x', publishedAt: '2020-01-01T00:00:00Z' }));
  const make = (id: string, publishedAt: number, extra: Partial<Article> = {}): Article => ({ ...base, id, publishedAt, ...extra });

  it('moves the newest article to now and keeps the spacing of all times', () => {
    const now = at('2026-06-15T12:00:00Z');
    const old = [
      make('a', at('2020-01-01T00:00:00Z'), { updatedAt: at('2020-01-01T06:00:00Z'), expiresAt: at('2020-02-01T00:00:00Z') }),
      make('b', at('2020-01-03T00:00:00Z'), { embargoUntil: at('2020-01-02T00:00:00Z') }),
      make('c', at('2020-01-02T12:00:00Z')),
    ];
    const shifted = rebaseDates(old, now);
    const shift = now - at('2020-01-03T00:00:00Z');

    expect(shifted.map((a) => a.id)).toEqual(['a', 'b', 'c']);
    expect(shifted[1]?.publishedAt).toBe(now);
    expect(Math.max(...shifted.map((a) => a.publishedAt))).toBe(now);
    for (const [i, a] of shifted.entries()) {
      const o = old[i] as Article;
      expect(a.publishedAt - o.publishedAt).toBe(shift);
    }
    expect(shifted[0]?.updatedAt).toBe(at('2020-01-01T06:00:00Z') + shift);
    expect(shifted[0]?.expiresAt).toBe(at('2020-02-01T00:00:00Z') + shift);
    expect(shifted[1]?.embargoUntil).toBe(at('2020-01-02T00:00:00Z') + shift);
    expect(shifted[2]?.updatedAt).toBeNull();
  });

  it('does not mutate its input and handles an empty catalog', () => {
    const old = [make('a', 1000)];
    rebaseDates(old, 5000);
    expect(old[0]?.publishedAt).toBe(1000);
    expect(rebaseDates([], 5000)).toEqual([]);
  });
});
