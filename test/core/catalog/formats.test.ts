import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Article, ArticleParse } from '../../../src/core/catalog/article.js';
import { detectFormat } from '../../../src/core/catalog/formats/detect.js';
import { decodeEntities, htmlToText, parseFeed, parseFeedDate } from '../../../src/core/catalog/formats/feed.js';
import { parseMindLine } from '../../../src/core/catalog/formats/mind.js';
import { clipAtWord, firstSentence, parseWikipediaCurrentEventsItem } from '../../../src/core/catalog/formats/wikipedia.js';
import { DomainError } from '../../../src/core/kernel/errors.js';
import { sharedFile, WIKIPEDIA_ITEMS } from '../../helpers/shared-data.js';
import { syntheticWikipediaItems, toJsonLines } from '../../helpers/synthetic-news.js';
import { MIND_NEWS_TSV } from '../../helpers/mind-news.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
const at = (iso: string) => Date.parse(iso);

function article(parse: ArticleParse | undefined): Article {
  if (parse === undefined) throw new Error('no result');
  if (!parse.ok) throw new Error(`expected ok, got ${parse.error.field}: ${parse.error.reason}`);
  return parse.article;
}
function rejection(parse: ArticleParse | undefined) {
  if (parse === undefined) throw new Error('no result');
  if (parse.ok) throw new Error(`expected a rejection, got article ${parse.article.id}`);
  return parse.error;
}

// ---------------------------------------------------------------------------------------------
describe('parseMindLine', () => {
  const when = at('2019-11-10T09:00:00Z');
  const results = lines(MIND_NEWS_TSV).map((l) => parseMindLine(l, when));
  const row = (...cells: string[]) => cells.join('\t');

  it('parses the fixture, rejecting only the malformed entity line', () => {
    expect(results.map((r) => (r.ok ? r.article.id : `!${r.error.field}`))).toEqual([
      'N1001',
      'N1002',
      'N1003',
      'N1004',
      '!title_entities',
      'N1006',
    ]);
    expect(rejection(results[4]).reason).toMatch(/not valid JSON/);
  });

  it('maps columns: category to section, subcategory and entity labels to deduplicated tags', () => {
    expect(article(results[0])).toEqual({
      id: 'N1001',
      url: 'https://example.com/mind/N1001.html',
      title: 'Harbor city opens floating solar farm',
      lead: 'The Marlowe Bay project powers 4,000 homes, officials in Portvale said.',
      body: null,
      section: 'news',
      tags: ['newsworld', 'Solar power', 'Portvale'],
      author: null,
      publishedAt: when,
      updatedAt: null,
      expiresAt: null,
      embargoUntil: null,
      status: 'published',
      paywalled: false,
      language: 'en',
    });
  });

  it('treats an empty abstract as no lead and empty entity columns as no entities', () => {
    expect(article(results[1])).toMatchObject({ lead: null, tags: ['soccer'] });
    expect(article(results[2])).toMatchObject({ lead: 'Traders expect little movement before the harvest report.', tags: ['markets'] });
  });

  it('tolerates missing trailing columns and an empty subcategory', () => {
    expect(article(results[3])).toMatchObject({ url: 'https://example.com/mind/N1004.html', tags: [] });
    expect(article(parseMindLine(row('N9', 'news', 'x', 'Four columns only'), when))).toMatchObject({ lead: null, url: null, tags: ['x'] });
  });

  it('keeps Unicode intact', () => {
    expect(article(results[5])).toMatchObject({
      title: 'Zürich café culture, from Ämtler to Ōsaka-style kissaten ☕',
      lead: 'Crème brûlée, 東京 and the art of slow coffee.',
      tags: ['traveleurope', 'Zürich', 'Tokyo'],
    });
  });

  it('rejects lines with too few or too many columns', () => {
    expect(rejection(parseMindLine(row('N1', 'news', 'world'), when)).field).toBe('line');
    expect(rejection(parseMindLine(row('N1', 'news', 'world', 'T', '', '', '[]', '[]', 'extra'), when)).field).toBe('line');
    expect(rejection(parseMindLine('', when)).field).toBe('line');
  });

  it('rejects an empty id or title', () => {
    expect(rejection(parseMindLine(row('', 'news', 'world', 'T', '', ''), when))).toEqual({ field: 'id', reason: 'must not be empty' });
    expect(rejection(parseMindLine(row('N1', 'news', 'world', '  ', '', ''), when))).toEqual({
      field: 'title',
      reason: 'must not be empty',
    });
  });

  it('names the entity column that is malformed', () => {
    expect(rejection(parseMindLine(row('N1', 'a', 'b', 'T', 'A', 'u', '[]', '[{'), when)).field).toBe('abstract_entities');
    expect(rejection(parseMindLine(row('N1', 'a', 'b', 'T', 'A', 'u', '{"Label":"x"}', '[]'), when))).toEqual({
      field: 'title_entities',
      reason: 'must be a JSON array of entities',
    });
    expect(rejection(parseMindLine(row('N1', 'a', 'b', 'T', 'A', 'u', '[{"Type":"G"}]', '[]'), when)).field).toBe('title_entities/0');
  });

  it('strips a CRLF line ending and rejects NUL characters', () => {
    expect(article(parseMindLine(`${row('N1', 'a', 'b', 'T', 'A', 'u', '[]', '[]')}\r`, when)).tags).toEqual(['b']);
    expect(rejection(parseMindLine(row('N1', 'a', 'b', 'T\u0000', 'A', 'u'), when))).toEqual({
      field: 'title',
      reason: 'contains a NUL character',
    });
  });

  it('refuses a non-finite publishedAt (a caller bug, not a data problem)', () => {
    expect(() => parseMindLine(row('N1', 'a', 'b', 'T'), Number.NaN)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
describe('parseWikipediaCurrentEventsItem', () => {
  const item = {
    id: '2025-03-14-003',
    date: '2025-03-14',
    category: 'Science and technology',
    category_raw: 'Science and Technology',
    topics: ['Exploration of the Moon', 'Lunar Gateway'],
    text: 'The first module of a lunar space station is shipped to the launch site. Engineers begin final checks.',
    wiki_links: ['Lunar Gateway', 'Space station', 'Moon'],
    sources: [
      { name: 'Example Wire', url: 'https://wire.example.com/gateway' },
      { name: 'Other', url: 'https://other.example.com/' },
    ],
    file: '2025-03-14-index.md',
    last_modified_at: '2026-07-03 22:41',
  };

  it('maps an item to an article', () => {
    expect(article(parseWikipediaCurrentEventsItem(item))).toEqual({
      id: '2025-03-14-003',
      url: 'https://wire.example.com/gateway',
      title: 'Lunar Gateway',
      lead: item.text,
      body: null,
      section: 'Science and technology',
      tags: ['Exploration of the Moon', 'Lunar Gateway', 'Space station', 'Moon'],
      author: 'Example Wire',
      // 06:00Z plus 10 minutes for each earlier item of the day.
      publishedAt: at('2025-03-14T06:20:00Z'),
      updatedAt: at('2026-07-03T22:41:00Z'),
      expiresAt: null,
      embargoUntil: null,
      status: 'published',
      paywalled: false,
      language: 'en',
    });
  });

  it('keeps items of one day in id order and caps the time at 23:59Z', () => {
    const time = (id: string) => article(parseWikipediaCurrentEventsItem({ ...item, id })).publishedAt;
    expect(time('2025-03-14-001')).toBe(at('2025-03-14T06:00:00Z'));
    expect(time('2025-03-14-002')).toBeLessThan(time('2025-03-14-010'));
    expect(time('2025-03-14-999')).toBe(at('2025-03-14T23:59:00Z'));
  });

  it('derives the title from the text when there is no topic or only a generic one', () => {
    const noTopics = article(parseWikipediaCurrentEventsItem({ ...item, topics: [] }));
    expect(noTopics.title).toBe('The first module of a lunar space station is shipped to the launch site');
    expect(noTopics.tags).toEqual(['Lunar Gateway', 'Space station', 'Moon']);
    const generic = article(parseWikipediaCurrentEventsItem({ ...item, topics: ['Science and Technology'] }));
    expect(generic.title).toBe(noTopics.title);
  });

  it('clips long titles to 120 characters at a word boundary', () => {
    const text = `${'A committee of many members from many countries '.repeat(4)}meets. Then more.`;
    const title = article(parseWikipediaCurrentEventsItem({ ...item, topics: [], text })).title;
    expect(title.length).toBeLessThanOrEqual(120);
    expect(title.endsWith('…')).toBe(true);
    expect(text.startsWith(title.slice(0, -1))).toBe(true);
    expect(title.at(-2)).not.toBe(' ');
  });

  it('tolerates missing optional fields', () => {
    const { last_modified_at: _lm, sources: _s, wiki_links: _w, topics: _t, category: _c, ...bare } = item;
    expect(article(parseWikipediaCurrentEventsItem(bare))).toMatchObject({
      updatedAt: null,
      url: null,
      author: null,
      tags: [],
      section: null,
    });
    expect(article(parseWikipediaCurrentEventsItem({ ...item, sources: [] }))).toMatchObject({ url: null, author: null });
  });

  it('rejects bad fields, naming them', () => {
    const field = (patch: Record<string, unknown>) => rejection(parseWikipediaCurrentEventsItem({ ...item, ...patch })).field;
    expect(field({ id: '' })).toBe('id');
    expect(field({ text: undefined })).toBe('text');
    expect(field({ date: '2025-02-30' })).toBe('date');
    expect(field({ date: '14.03.2025' })).toBe('date');
    expect(field({ last_modified_at: 'yesterday' })).toBe('last_modified_at');
    expect(field({ topics: 'Moon' })).toBe('topics');
    expect(field({ topics: ['Moon', 7] })).toBe('topics/1');
    expect(field({ wiki_links: ['ok', 'bad\u0000'] })).toBe('wiki_links/1');
    expect(field({ sources: [{ name: 'x', url: 3 }] })).toBe('sources/0/url');
    expect(field({ sources: [{ url: `https://e.com/${'x'.repeat(3000)}` }] })).toBe('sources/0/url');
    expect(rejection(parseWikipediaCurrentEventsItem([item])).field).toBe('');
  });

  describe('firstSentence', () => {
    it('does not stop at abbreviations, initials or lowercase continuations', () => {
      expect(firstSentence('U.S. President Jane Roe signs the bill. It takes effect in May.')).toBe(
        'U.S. President Jane Roe signs the bill',
      );
      expect(firstSentence('Robert F. Kennedy Jr. speaks. Later more.')).toBe('Robert F. Kennedy Jr. speaks');
      expect(firstSentence('Gen. Smith resigns. A successor is named.')).toBe('Gen. Smith resigns');
      expect(firstSentence('Costs rise approx. five percent. Done.')).toBe('Costs rise approx. five percent');
    });
    it('ends at a semicolon, keeps ? and !, and returns a single sentence whole', () => {
      expect(firstSentence('A fire breaks out; the cause is unclear.')).toBe('A fire breaks out');
      expect(firstSentence('Is it over? Nobody knows.')).toBe('Is it over?');
      expect(firstSentence('No period at the end')).toBe('No period at the end');
    });
  });

  describe('clipAtWord', () => {
    it('leaves short text alone and never splits a surrogate pair', () => {
      expect(clipAtWord('short', 10)).toBe('short');
      expect(clipAtWord('one two three four', 12)).toBe('one two…');
      const clipped = clipAtWord('😀'.repeat(10), 6);
      expect(clipped.isWellFormed()).toBe(true);
      expect(clipped.length).toBeLessThanOrEqual(6);
    });
  });
});

/** The checks on a whole items.jsonl: every item parses, ids unique, titles within the limit, published on the id's day. */
function checkWholeDataset(jsonLines: string, expectedCount: number): Article[] {
  const parsed = lines(jsonLines).map((l) => parseWikipediaCurrentEventsItem(JSON.parse(l)));
  const failures = parsed.filter((r) => !r.ok);
  expect(failures.slice(0, 5)).toEqual([]);
  const articles = parsed.map((r) => article(r));
  expect(articles).toHaveLength(expectedCount);
  expect(new Set(articles.map((a) => a.id)).size).toBe(expectedCount);
  for (const a of articles) {
    expect(a.title.length).toBeLessThanOrEqual(120);
    // Published on the day the id names.
    expect(new Date(a.publishedAt).toISOString().slice(0, 10)).toBe(a.id.slice(0, 10));
  }
  return articles;
}

describe('Wikipedia current events: a whole generated dataset (test/helpers/synthetic-news.ts)', () => {
  const items = syntheticWikipediaItems();

  it('is as large and as varied as the real file', () => {
    expect(items.length).toBeGreaterThan(9_000);
    expect(new Set(items.map((i) => i.date)).size).toBe(599);
    expect(new Set(items.map((i) => i.category)).size).toBe(10);
    expect(items.some((i) => i.category_raw !== i.category)).toBe(true);
    expect(items.filter((i) => i.topics.length === 0).length / items.length).toBeGreaterThan(0.15);
    expect(items.some((i) => (i.topics.at(-1)?.length ?? 0) > 120)).toBe(true);
    expect(items.some((i) => i.sources.length === 0)).toBe(true);
    expect(syntheticWikipediaItems()).toEqual(items);
  });

  it('parses every item with unique ids and sane titles and times', () => {
    const articles = checkWholeDataset(toJsonLines(items), items.length);
    // Titles from the text when there is no topic, clipped when the topic is long, and sections from the category.
    expect(articles.some((a) => a.title.endsWith('…'))).toBe(true);
    const byId = new Map(articles.map((a) => [a.id, a]));
    for (const i of items.filter((x) => x.topics.length === 0).slice(0, 200)) {
      expect(byId.get(i.id)!.title).toBe(clipAtWord(firstSentence(i.text), 120));
    }
    expect(new Set(articles.map((a) => a.section)).size).toBe(10);
  });
});

const WIKI_ITEMS = sharedFile(WIKIPEDIA_ITEMS, 'the real-data twin of the whole-dataset test (formats.test.ts)');

describe.skipIf(WIKI_ITEMS === null)('Wikipedia current events: the whole shared dataset (real data, extra)', () => {
  it('parses all 10,588 items with unique ids and sane titles and times', () => {
    checkWholeDataset(readFileSync(WIKI_ITEMS!, 'utf8'), 10_588);
  });
});

// ---------------------------------------------------------------------------------------------
describe('parseFeed: RSS 2.0', () => {
  const feed = parseFeed(fixture('feed.rss.xml'));
  const rss = (items: string, channelExtra = '') =>
    `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>${channelExtra}${items}</channel></rss>`;

  it('reads every item of the fixture', () => {
    expect(feed.kind).toBe('rss');
    expect(feed.items.map((i) => i.index)).toEqual([0, 1, 2]);
    expect(feed.items.every((i) => i.result.ok)).toBe(true);
  });

  it('maps an item with CDATA HTML, a non-permalink guid, content:encoded and dc:creator', () => {
    expect(article(feed.items[0]?.result)).toEqual({
      id: 'courier-2026-0311',
      url: 'https://courier.example.org/2026/03/tram-line-4',
      title: 'Tram line 4 reopens after “tricky” bridge repairs',
      lead: 'Services resume today & run every six minutes. Café owners on the route are relieved.',
      body: 'Trams on line 4 are running again.\n\nThe bridge at Quay Street needed new bearings.',
      section: 'Transport',
      tags: ['Transport', 'Quay Street'],
      author: 'Aisha Rahman',
      publishedAt: at('2026-03-02T07:15:00Z'),
      updatedAt: null,
      expiresAt: null,
      embargoUntil: null,
      status: 'published',
      paywalled: false,
      language: 'en-gb',
    });
  });

  it('uses the link as id when there is no guid, and the name from "email (Name)" authors', () => {
    expect(article(feed.items[1]?.result)).toMatchObject({
      id: 'https://courier.example.org/2026/03/budget-vote',
      lead: 'The vote passed 31 to 12 after a long debate.',
      author: 'Tomás Ferreira',
      section: 'Politics',
      publishedAt: at('2026-03-01T18:00:00Z'),
    });
  });

  it('uses a permalink guid as url and falls back to dc:date', () => {
    expect(article(feed.items[2]?.result)).toMatchObject({
      id: 'https://courier.example.org/2026/02/spring-market',
      url: 'https://courier.example.org/2026/02/spring-market',
      section: null,
      tags: [],
      author: null,
      publishedAt: at('2026-02-28T10:00:00Z'),
    });
  });

  it('handles a single item and a channel without items', () => {
    const one = parseFeed(rss('<item><title>Only</title><guid>g1</guid><pubDate>Sun, 01 Mar 2026 18:00:00 GMT</pubDate></item>'));
    expect(one.items).toHaveLength(1);
    expect(article(one.items[0]?.result).id).toBe('g1');
    expect(parseFeed(rss('')).items).toEqual([]);
  });

  it('keeps a numeric-looking guid as text', () => {
    const r = parseFeed(
      rss('<item><title>x</title><guid isPermaLink="false">000123</guid><pubDate>Sun, 01 Mar 2026 18:00:00 GMT</pubDate></item>'),
    );
    expect(article(r.items[0]?.result)).toMatchObject({ id: '000123', url: null });
  });

  it("falls back to the channel's date, and rejects an item with no date at all", () => {
    const item = '<item><title>x</title><guid>g</guid></item>';
    const dated = parseFeed(rss(item, '<lastBuildDate>Mon, 02 Mar 2026 09:30:00 GMT</lastBuildDate>'));
    expect(article(dated.items[0]?.result).publishedAt).toBe(at('2026-03-02T09:30:00Z'));
    expect(rejection(parseFeed(rss(item)).items[0]?.result).field).toBe('pubDate');
  });

  it('rejects a bad item but keeps the others', () => {
    const r = parseFeed(
      rss(
        [
          '<item><title>bad date</title><guid>a</guid><pubDate>someday</pubDate></item>',
          '<item><title>no id</title><pubDate>Sun, 01 Mar 2026 18:00:00 GMT</pubDate></item>',
          '<item><guid>c</guid><pubDate>Sun, 01 Mar 2026 18:00:00 GMT</pubDate></item>',
          '<item><title>fine</title><guid>d</guid><pubDate>Sun, 01 Mar 2026 18:00:00 GMT</pubDate></item>',
        ].join(''),
      ),
    );
    expect(r.items.map((i) => (i.result.ok ? i.result.article.id : `!${i.result.error.field}`))).toEqual([
      '!pubDate',
      '!guid',
      '!title',
      'd',
    ]);
  });

  it('decodes numeric references and double-escaped entities in titles', () => {
    const r = parseFeed(
      rss(
        '<item><title>Fish &amp;amp; chips &#8211; caf&#xE9; &lt;b&gt;now&lt;/b&gt;</title><guid>g</guid><pubDate>Sun, 01 Mar 2026 18:00:00 GMT</pubDate></item>',
      ),
    );
    expect(article(r.items[0]?.result).title).toBe('Fish & chips – café now');
  });

  it('clips a very long description to the lead limit', () => {
    const long = 'word '.repeat(5000);
    const r = parseFeed(
      rss(`<item><title>x</title><guid>g</guid><description>${long}</description><pubDate>Sun, 01 Mar 2026 18:00:00 GMT</pubDate></item>`),
    );
    const lead = article(r.items[0]?.result).lead ?? '';
    expect(lead.length).toBeLessThanOrEqual(10_000);
    expect(lead.endsWith('word…')).toBe(true);
  });
});

describe('parseFeed: Atom', () => {
  const feed = parseFeed(fixture('feed.atom.xml'));
  const atom = (entries: string) => `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>${entries}</feed>`;

  it('maps an entry with an HTML title, XHTML content, categories and an alternate link', () => {
    expect(feed.kind).toBe('atom');
    expect(article(feed.items[0]?.result)).toEqual({
      id: 'urn:uuid:0b6f1e0e-93a4-4c3e-8f59-1f6f0d2b7a01',
      url: 'https://science.example.net/2026/comet',
      title: 'Comet C/2026 A1 brightens',
      lead: 'Observers report it may be visible without binoculars & telescopes.',
      body: 'The comet rose to magnitude 5.8 on Sunday.\n\nIt is best seen after midnight.',
      section: 'astronomy',
      tags: ['astronomy', 'comets'],
      author: 'Lena Okafor',
      publishedAt: at('2026-03-01T20:00:00Z'),
      updatedAt: at('2026-03-02T07:45:00Z'),
      expiresAt: null,
      embargoUntil: null,
      status: 'published',
      paywalled: false,
      language: 'en',
    });
  });

  it('falls back to the link for the id, updated for published, and inherits the feed author', () => {
    expect(article(feed.items[1]?.result)).toMatchObject({
      id: 'https://science.example.net/2026/messstation',
      url: 'https://science.example.net/2026/messstation',
      lead: 'Die Station misst Wind und Regen.',
      author: 'Science Desk',
      publishedAt: at('2026-02-27T16:20:00Z'),
      updatedAt: at('2026-02-27T16:20:00Z'),
      language: 'de',
    });
  });

  it('rejects entries without dates or ids, naming the field', () => {
    const r = parseFeed(
      atom(
        [
          '<entry><id>a</id><title>no dates</title></entry>',
          '<entry><title>no id</title><updated>2026-01-01T00:00:00Z</updated></entry>',
          '<entry><id>c</id><title>bad</title><published>tomorrow</published><updated>2026-01-01T00:00:00Z</updated></entry>',
        ].join(''),
      ),
    );
    expect(r.items.map((i) => (i.result.ok ? i.result.article.id : i.result.error.field))).toEqual(['published', 'id', 'published']);
  });

  it('reads a text title literally and a CDATA html title as markup', () => {
    const r = parseFeed(
      atom(
        [
          '<entry><id>a</id><title>1 &lt; 2 &amp; 3</title><updated>2026-01-01T00:00:00Z</updated></entry>',
          '<entry><id>b</id><title type="html"><![CDATA[<b>Bold</b> &amp; brave]]></title><updated>2026-01-01T00:00:00Z</updated></entry>',
        ].join(''),
      ),
    );
    expect(r.items.map((i) => article(i.result).title)).toEqual(['1 < 2 & 3', 'Bold & brave']);
  });
});

describe('parseFeed: documents that are not feeds', () => {
  const fails = (xml: string) => {
    try {
      parseFeed(xml);
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('invalid_body');
      return (e as DomainError).message;
    }
    throw new Error('expected parseFeed to throw');
  };

  it('throws invalid_body for malformed XML, other roots, RDF and old Atom', () => {
    expect(fails('this is not xml')).toMatch(/not well-formed/);
    expect(fails('<rss version="2.0"><channel></rss>')).toMatch(/not well-formed/);
    expect(fails('<html><body>hi</body></html>')).toMatch(/<html>/);
    expect(fails('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><item/></rdf:RDF>')).toMatch(/not an RSS 2.0 or Atom/);
    expect(fails('<rss version="1.0"><channel/></rss>')).toMatch(/version/);
    expect(fails('<rss version="2.0"></rss>')).toMatch(/channel/);
    expect(fails('<feed xmlns="http://purl.org/atom/ns#"></feed>')).toMatch(/namespace/);
  });

  it('accepts a byte-order mark', () => {
    expect(parseFeed(`\uFEFF${fixture('feed.atom.xml')}`).items).toHaveLength(2);
  });
});

describe('feed text helpers', () => {
  it('htmlToText drops scripts and tags but keeps a literal "<"', () => {
    expect(htmlToText('<p>a <b>b</b></p><script>x()</script><p>x < y</p>')).toBe('a b x < y');
    expect(htmlToText('<p>one</p><p>two<br>three</p>', true)).toBe('one\n\ntwo\n\nthree');
  });

  it('decodeEntities decodes named and numeric references and replaces unstorable ones', () => {
    expect(decodeEntities('&eacute;&Ouml;&ccedil; &hellip; &#65;&#x1F600;')).toBe('éÖç … A😀');
    expect(decodeEntities('&#0;&#xD800;')).toBe('\uFFFD\uFFFD');
    expect(decodeEntities('&unknown; & more')).toBe('&unknown; & more');
  });

  it('parseFeedDate reads RFC 822 and RFC 3339, and zone-less dates as UTC', () => {
    expect(parseFeedDate('Mon, 02 Mar 2026 08:15:00 +0100')).toBe(at('2026-03-02T07:15:00Z'));
    expect(parseFeedDate('Mon, 02 Mar 2026 08:15:00 EST')).toBe(at('2026-03-02T13:15:00Z'));
    expect(parseFeedDate('Mon, 02 Mar 2026 08:15:00')).toBe(at('2026-03-02T08:15:00Z'));
    expect(parseFeedDate('2026-03-02T08:15:00')).toBe(at('2026-03-02T08:15:00Z'));
    expect(parseFeedDate('2026-03-02')).toBe(at('2026-03-02T00:00:00Z'));
    expect(parseFeedDate('2026-03-02T08:15:00.5+02:00')).toBe(at('2026-03-02T06:15:00.500Z'));
    expect(parseFeedDate('not a date')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
describe('detectFormat', () => {
  it('recognizes the fixtures', () => {
    expect(detectFormat(fixture('feed.rss.xml'))).toBe('rss');
    expect(detectFormat(fixture('feed.atom.xml'))).toBe('rss');
    expect(detectFormat(fixture('catalog-sample.jsonl'))).toBe('jsonl');
    expect(detectFormat(MIND_NEWS_TSV)).toBe('mind');
  });

  it('detects XML by its start, after a BOM or whitespace', () => {
    expect(detectFormat('\uFEFF<?xml version="1.0"?>')).toBe('rss');
    expect(detectFormat('\n  <rss version="2.0">')).toBe('rss');
    expect(detectFormat('<feed xmlns="http://www.w3.org/2005/Atom">')).toBe('rss');
    expect(detectFormat('<html>')).toBeUndefined();
  });

  it('tells Wikipedia items from our own JSON lines, even when the sample ends mid-line', () => {
    const wiki = JSON.stringify({ id: '2025-01-01-001', date: '2025-01-01', category: 'Sports', topics: [], text: 'x', wiki_links: [] });
    expect(detectFormat(`\n${wiki}\n${wiki}`)).toBe('wikipedia-current-events');
    expect(detectFormat(wiki.slice(0, -8))).toBe('wikipedia-current-events');
    expect(detectFormat('{"id":"a","title":"t","publishedAt":"2026-01-01T00:00:00Z"}')).toBe('jsonl');
    expect(detectFormat('{"id":"a","title":"t","lead":"long')).toBe('jsonl');
  });

  it('detects MIND by its id column or by the file name', () => {
    expect(detectFormat('N55528\tlifestyle\tlifestyleroyals\tTitle\tAbstract\thttps://x\t[]\t[]')).toBe('mind');
    expect(detectFormat('X1\ta\tb\tTitle', 'MINDsmall_train/news.tsv')).toBe('mind');
    expect(detectFormat('X1\ta\tb\tc\td\te')).toBeUndefined();
    expect(detectFormat('id,title\n1,x', 'articles.csv')).toBeUndefined();
    expect(detectFormat('')).toBeUndefined();
    expect(detectFormat('  \n\n')).toBeUndefined();
  });
});
