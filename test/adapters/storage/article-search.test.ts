import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Article } from '../../../src/core/catalog/article.js';
import type { OpenedStorage } from '../../../src/adapters/storage/open.js';
import { containsPattern } from '../../../src/adapters/storage/articles.js';
import { BACKENDS, openBackend } from '../../helpers/databases.js';

const T = Date.parse('2026-03-01T12:00:00Z');

const article = (id: string, title: string, section: string, minutes: number): Article => ({
  id,
  url: `https://news.example/${id}`,
  title,
  lead: 'Lead',
  body: null,
  section,
  tags: [],
  author: null,
  publishedAt: T + minutes * 60_000,
  updatedAt: null,
  expiresAt: null,
  embargoUntil: null,
  status: 'published',
  paywalled: false,
  language: 'en',
});

const ARTICLES = [
  article('a1', 'Budget vote delayed again', 'politics', 1),
  article('a2', 'BUDGET airline cuts routes', 'business', 2),
  article('a3', 'Cup final: 100% sold out', 'sport', 3),
  article('a4', 'Cup final tickets 1000 sold', 'sport', 4),
  article('a5', 'snake_case or camelCase?', 'tech', 5),
  article('a6', 'snakeXcase is not a thing', 'tech', 6),
  article('a7', 'Paths like C:\\temp explained', 'tech', 7),
  article('a8', 'Öl prices and the budget', 'business', 8),
];

describe('containsPattern', () => {
  it('escapes the LIKE wildcards and the escape character', () => {
    expect(containsPattern('100%')).toBe('%100\\%%');
    expect(containsPattern('a_b')).toBe('%a\\_b%');
    expect(containsPattern('C:\\t')).toBe('%C:\\\\t%');
    expect(containsPattern('plain')).toBe('%plain%');
  });
});

// Title search on every backend (PostgreSQL when READNEXT_TEST_PG is set), each on a database of its own.
for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`article search: ${backend.name}`, () => {
    let storage: OpenedStorage;
    let cleanup: () => Promise<void>;
    const ids = async (f: { q?: string; section?: string }, limit = 50, offset = 0) =>
      (await storage.listArticles({ limit, offset, ...f })).map((a) => a.id);

    beforeAll(async () => {
      ({ storage, cleanup } = await openBackend(backend));
      await storage.upsertArticles(ARTICLES, T);
    });
    afterAll(async () => cleanup?.());

    it('finds titles containing the text, whatever the case of ASCII letters, newest first', async () => {
      expect(await ids({ q: 'budget' })).toEqual(['a8', 'a2', 'a1']);
      expect(await ids({ q: 'bUdGeT' })).toEqual(['a8', 'a2', 'a1']);
      expect(await storage.countArticles({ q: 'Budget' })).toBe(3);
      expect(await ids({ q: 'nothing like this' })).toEqual([]);
      expect(await storage.countArticles({ q: 'nothing like this' })).toBe(0);
    });

    it('matches % _ and \\ literally', async () => {
      expect(await ids({ q: '100%' })).toEqual(['a3']);
      expect(await ids({ q: '%' })).toEqual(['a3']);
      expect(await ids({ q: 'snake_case' })).toEqual(['a5']);
      expect(await ids({ q: '_' })).toEqual(['a5']);
      expect(await ids({ q: 'C:\\temp' })).toEqual(['a7']);
      expect(await ids({ q: '\\' })).toEqual(['a7']);
      expect(await storage.countArticles({ q: '%' })).toBe(1);
    });

    it('matches a non-ASCII title in its own case', async () => {
      expect(await ids({ q: 'Öl' })).toEqual(['a8']);
    });

    it('combines the text with the section, pages, and counts what matches', async () => {
      expect(await ids({ q: 'budget', section: 'business' })).toEqual(['a8', 'a2']);
      expect(await storage.countArticles({ q: 'budget', section: 'business' })).toBe(2);
      expect(await storage.countArticles({ section: 'tech' })).toBe(3);
      expect(await ids({ q: 'cup final' }, 1, 0)).toEqual(['a4']);
      expect(await ids({ q: 'cup final' }, 1, 1)).toEqual(['a3']);
      // An empty text is no filter.
      expect(await storage.countArticles({ q: '' })).toBe(ARTICLES.length);
      expect(await storage.countArticles()).toBe(ARTICLES.length);
    });
  });
}
