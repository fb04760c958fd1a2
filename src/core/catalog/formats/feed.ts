import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DomainError } from '../../kernel/errors.js';
import { parseIsoWithZone, parseLooseDate, toIso } from '../../kernel/time.js';
import { parseArticleJson, type ArticleParse } from '../article.js';
// clipAtWord lives with the Wikipedia titles; it is plain text handling with no Wikipedia specifics.
import { clipAtWord } from './wikipedia.js';

/**
 * RSS 2.0 and Atom 1.0 feeds to articles. Each item is parsed on its own: one bad item is a
 * rejection in the result, not a failed feed. Only a document that is not an RSS 2.0 or Atom
 * feed at all throws.
 */

export type FeedKind = 'rss' | 'atom';
export interface FeedParse {
  kind: FeedKind;
  /** One entry per item/entry, in document order; `index` is its 0-based position. */
  items: Array<{ index: number; result: ArticleParse }>;
}

const ATOM_NS = 'http://www.w3.org/2005/Atom';
const CONTENT_NS = 'http://purl.org/rss/1.0/modules/content/';
const DC_NS = 'http://purl.org/dc/elements/1.1/';

/** article.ts caps the lead at 10,000 characters; some feeds put the whole story in the description. */
const LEAD_MAX = 10_000;

type XmlNode = Record<string, unknown>;
const ATTR = '@_';
const TEXT = '#text';

/**
 * @throws DomainError('invalid_body') when `xml` is not well-formed or not an RSS 2.0 / Atom feed.
 *
 * @example
 * const { kind, items } = parseFeed(xmlText);
 * for (const { index, result } of items) if (!result.ok) console.log(index, result.error);
 */
export function parseFeed(xml: string): FeedParse {
  const doc = xml.replace(/^\uFEFF/, '');
  const valid = XMLValidator.validate(doc);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new DomainError('invalid_body', `feed is not well-formed XML: ${msg} (line ${line}, column ${col})`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: ATTR,
    textNodeName: TEXT,
    // Keep every value a string: a guid "00123" must not become the number 123.
    parseTagValue: false,
    parseAttributeValue: false,
    // Whitespace between text and CDATA is content; we normalize whitespace ourselves.
    trimValues: false,
    // Atom text constructs may be XHTML markup: keep them raw so the markup keeps its order.
    stopNodes: ['feed.entry.title', 'feed.entry.summary', 'feed.entry.content'],
  });
  const root = parser.parse(doc) as XmlNode;

  const rss = root.rss;
  if (isNode(rss)) return { kind: 'rss', items: parseRss(rss) };
  const feed = root.feed;
  if (isNode(feed)) return { kind: 'atom', items: parseAtom(feed) };
  const name = Object.keys(root).find((k) => !k.startsWith('?')) ?? '(none)';
  throw new DomainError('invalid_body', `not an RSS 2.0 or Atom feed: the root element is <${name}>`);
}

// ---------------------------------------------------------------------------------------------
// RSS 2.0

function parseRss(rss: XmlNode): Array<{ index: number; result: ArticleParse }> {
  const version = attr(rss, 'version');
  // 0.91 and 0.92 are subsets of 2.0; RSS 1.0 is RDF and has a different root.
  if (version !== null && !/^(2\.|0\.9)/.test(version)) {
    throw new DomainError('invalid_body', `unsupported RSS version "${version}" (expected 2.0)`);
  }
  const channel = list(rss.channel).find(isNode);
  if (!channel) throw new DomainError('invalid_body', 'RSS document has no <channel>');
  const content = `${prefixFor(rss, CONTENT_NS, 'content')}:encoded`;
  const dc = prefixFor(rss, DC_NS, 'dc');
  const language = plainText(first(channel.language));
  const channelDate = firstText(channel.lastBuildDate) ?? firstText(channel.pubDate);

  return list(channel.item).map((item, index) => {
    const result = isNode(item)
      ? rssItem(item, { content, dc, language, channelDate })
      : rejection('item', 'must be an element with children');
    return { index, result };
  });
}

function rssItem(item: XmlNode, ctx: { content: string; dc: string; language: string | null; channelDate: string | null }): ArticleParse {
  const guidNode = first(item.guid);
  const guid = plainText(guidNode);
  const link = plainText(first(item.link));
  // A guid is a permalink unless it says otherwise (RSS 2.0 spec), so it can stand in for <link>.
  const guidIsUrl = guid !== null && attr(guidNode, 'isPermaLink') !== 'false' && /^https?:\/\//i.test(guid);
  const id = guid ?? link;
  if (id === null) return rejection('guid', 'item has neither <guid> nor <link>');

  const title = htmlText(first(item.title));
  if (title === null) return rejection('title', 'is required');

  const pubDate = firstText(item.pubDate);
  const dcDate = firstText(item[`${ctx.dc}:date`]);
  let publishedAt: number | undefined;
  if (pubDate !== null || dcDate !== null) {
    const [field, value] = pubDate !== null ? ['pubDate', pubDate] : [`${ctx.dc}:date`, dcDate as string];
    publishedAt = parseFeedDate(value);
    if (publishedAt === undefined) return rejection(field, `"${value}" is not a valid date`);
  } else {
    // Undated items inherit the channel's date: better than dropping them from a live feed.
    publishedAt = ctx.channelDate === null ? undefined : parseFeedDate(ctx.channelDate);
    if (publishedAt === undefined) return rejection('pubDate', 'is required (no pubDate or dc:date, and no usable channel date)');
  }

  const categories = dedupe(list(item.category).map(plainText));
  const creators = dedupe(list(item[`${ctx.dc}:creator`]).map(plainText));
  const author = creators.length > 0 ? creators.join(', ') : rssAuthorName(plainText(first(item.author)));
  const lead = htmlText(first(item.description));

  return finish(
    {
      id,
      url: link ?? (guidIsUrl ? guid : null),
      title,
      lead: lead === null ? null : clipAtWord(lead, LEAD_MAX),
      body: htmlText(first(item[ctx.content]), true),
      section: categories[0] ?? null,
      tags: categories,
      author,
      publishedAt: toIso(publishedAt),
      language: ctx.language,
    },
    { id: guid !== null ? 'guid' : 'link', url: 'link', lead: 'description', body: ctx.content, author: 'author', section: 'category' },
  );
}

/** RSS <author> is an e-mail address, conventionally "jane@example.com (Jane Doe)": keep the name. */
function rssAuthorName(author: string | null): string | null {
  if (author === null) return null;
  const m = /^\S+@\S+\s*\((.+)\)$/.exec(author);
  return m ? (m[1] as string).trim() : author;
}

// ---------------------------------------------------------------------------------------------
// Atom 1.0

function parseAtom(feed: XmlNode): Array<{ index: number; result: ArticleParse }> {
  const ns = attr(feed, 'xmlns');
  if (ns !== null && ns !== ATOM_NS) {
    throw new DomainError('invalid_body', `unsupported Atom namespace "${ns}" (expected ${ATOM_NS})`);
  }
  const feedLang = attr(feed, 'xml:lang');
  const feedAuthors = personNames(feed.author);
  return list(feed.entry).map((entry, index) => {
    const result = isNode(entry) ? atomEntry(entry, feedLang, feedAuthors) : rejection('entry', 'must be an element with children');
    return { index, result };
  });
}

function atomEntry(entry: XmlNode, feedLang: string | null, feedAuthors: string[]): ArticleParse {
  const links = list(entry.link).filter(isNode);
  // rel defaults to "alternate": the page the entry is about.
  const alternate = links.find((l) => (attr(l, 'rel') ?? 'alternate') === 'alternate') ?? links[0];
  const url = attr(alternate, 'href');
  const id = plainText(first(entry.id)) ?? url;
  if (id === null) return rejection('id', 'entry has neither <id> nor a link');

  const title = atomText(first(entry.title));
  if (title === null) return rejection('title', 'is required');

  const updatedRaw = firstText(entry.updated);
  const updatedAt = updatedRaw === null ? null : parseFeedDate(updatedRaw);
  if (updatedAt === undefined) return rejection('updated', `"${updatedRaw}" is not a valid date`);
  const publishedRaw = firstText(entry.published);
  const published = publishedRaw === null ? updatedAt : parseFeedDate(publishedRaw);
  if (published === undefined) return rejection('published', `"${publishedRaw}" is not a valid date`);
  if (published === null) return rejection('published', 'is required (neither <published> nor <updated>)');

  const categories = dedupe(list(entry.category).map((c) => attr(c, 'term') ?? attr(c, 'label')));
  // Entries without their own author inherit the feed's (RFC 4287 section 4.2.1).
  const authors = personNames(entry.author);
  const names = authors.length > 0 ? authors : feedAuthors;
  const lead = atomText(first(entry.summary));

  return finish(
    {
      id,
      url,
      title,
      lead: lead === null ? null : clipAtWord(lead, LEAD_MAX),
      body: atomText(first(entry.content), true),
      section: categories[0] ?? null,
      tags: categories,
      author: names.length > 0 ? names.join(', ') : null,
      publishedAt: toIso(published),
      updatedAt: updatedAt === null ? null : toIso(updatedAt),
      language: attr(entry, 'xml:lang') ?? feedLang,
    },
    { url: 'link', lead: 'summary', body: 'content' },
  );
}

function personNames(v: unknown): string[] {
  return dedupe(list(v).map((p) => (isNode(p) ? plainText(first(p.name)) : null)));
}

/**
 * An Atom text construct, kept raw by the parser (see stopNodes): type "text" (default), "html"
 * (escaped markup) or "xhtml" (inline markup).
 */
function atomText(node: unknown, keepParagraphs = false): string | null {
  if (node === undefined) return null;
  const raw = isNode(node) ? (typeof node[TEXT] === 'string' ? node[TEXT] : '') : String(node);
  const type = attr(node, 'type') ?? 'text';
  let text: string;
  if (type === 'xhtml' || type === 'application/xhtml+xml') text = htmlToText(raw, keepParagraphs);
  else if (type === 'html' || type === 'text/html') text = htmlToText(unescapeXml(raw), keepParagraphs);
  else text = collapse(decodeEntities(unescapeXml(raw)), keepParagraphs);
  return text === '' ? null : text;
}

/** Resolves the character data of raw XML: CDATA sections verbatim, entities decoded elsewhere. */
function unescapeXml(raw: string): string {
  return raw
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) => (part.startsWith('<![CDATA[') ? part.slice(9, -3) : decodeEntities(part)))
    .join('');
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Field names of the source format, so article-level rejections (lengths, bad text) name them. */
type SourceFields = Partial<Record<'id' | 'url' | 'title' | 'lead' | 'body' | 'section' | 'author', string>>;

function finish(candidate: Record<string, unknown>, sourceFields: SourceFields): ArticleParse {
  const parsed = parseArticleJson(candidate);
  if (parsed.ok) return parsed;
  const field = sourceFields[parsed.error.field as keyof SourceFields] ?? parsed.error.field;
  return rejection(field, parsed.error.reason);
}

const rejection = (field: string, reason: string): ArticleParse => ({ ok: false, error: { field, reason } });

const isNode = (v: unknown): v is XmlNode => v !== null && typeof v === 'object' && !Array.isArray(v);

/** fast-xml-parser yields a value for one element and an array for repeated ones. */
function list(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}
const first = (v: unknown): unknown => list(v)[0];

function attr(node: unknown, name: string): string | null {
  if (!isNode(node)) return null;
  const v = node[ATTR + name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** All character data of an element and its descendants (elements in plain-text fields are stray markup). */
function rawText(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node !== 'object') return String(node);
  if (Array.isArray(node)) return node.map(rawText).join(' ');
  return Object.entries(node)
    .filter(([k]) => !k.startsWith(ATTR))
    .map(([, v]) => rawText(v))
    .join(' ');
}

/** A plain-text field (guid, link, category, author): entities decoded, whitespace collapsed. */
function plainText(node: unknown): string | null {
  const s = collapse(decodeEntities(rawText(node)), false);
  return s === '' ? null : s;
}
const firstText = (v: unknown): string | null => plainText(first(v));

/** A field that may hold HTML (RSS title, description, content:encoded) as text. */
function htmlText(node: unknown, keepParagraphs = false): string | null {
  const s = htmlToText(rawText(node), keepParagraphs);
  return s === '' ? null : s;
}

function dedupe(values: Array<string | null>): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))];
}

/** The prefix a document binds to a namespace on its root element; feeds nearly always use the usual one. */
function prefixFor(root: XmlNode, uri: string, usual: string): string {
  for (const [k, v] of Object.entries(root)) if (k.startsWith(`${ATTR}xmlns:`) && v === uri) return k.slice(ATTR.length + 6);
  return usual;
}

/**
 * Feed dates: RFC 822 in RSS ("Tue, 10 Jun 2003 04:00:00 GMT"), RFC 3339 in Atom. A date
 * without a zone is read as UTC so the result never depends on the machine's time zone.
 */
export function parseFeedDate(s: string): number | undefined {
  const t = s.trim();
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(.*)$/.exec(t);
  if (iso) {
    const [, day, time, zone] = iso;
    if (time === undefined) return zone === '' ? parseIsoWithZone(`${day}T00:00Z`) : undefined;
    return parseIsoWithZone(`${day}T${time}${zone === '' ? 'Z' : zone}`);
  }
  const hasZone = /(?:[+-]\d{4}|\b[A-Za-z]{1,5})$/.test(t);
  return parseLooseDate(hasZone ? t : `${t} GMT`);
}

// ---------------------------------------------------------------------------------------------
// HTML to text

const DROPPED_ELEMENTS = /<(script|style|noscript|template|iframe)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const BLOCK_TAGS =
  /<\/?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|blockquote|pre|table|tr|td|th|section|article|header|footer|aside|figure|figcaption)\b[^>]*>/gi;
// A tag starts with a letter right after "<", so text such as "x < y" survives.
const ANY_TAG = /<\/?[a-zA-Z][^<>]*>/g;

/** Markup to readable text: tags dropped, entities decoded; `keepParagraphs` keeps blocks as "\n\n"-separated lines. */
export function htmlToText(html: string, keepParagraphs = false): string {
  const stripped = html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(DROPPED_ELEMENTS, ' ')
    .replace(BLOCK_TAGS, '\n')
    .replace(ANY_TAG, '');
  return collapse(decodeEntities(stripped), keepParagraphs);
}

function collapse(s: string, keepParagraphs: boolean): string {
  if (!keepParagraphs) return s.replace(/\s+/g, ' ').trim();
  return s
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n\n');
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00A0',
  shy: '',
  ensp: '\u2002',
  emsp: '\u2003',
  thinsp: '\u2009',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  sbquo: '‚',
  ldquo: '“',
  rdquo: '”',
  bdquo: '„',
  laquo: '«',
  raquo: '»',
  lsaquo: '‹',
  rsaquo: '›',
  bull: '•',
  middot: '·',
  prime: '′',
  Prime: '″',
  copy: '©',
  reg: '®',
  trade: '™',
  deg: '°',
  sect: '§',
  para: '¶',
  dagger: '†',
  Dagger: '‡',
  permil: '‰',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  curren: '¤',
  times: '×',
  divide: '÷',
  plusmn: '±',
  minus: '−',
  frac12: '½',
  frac14: '¼',
  frac34: '¾',
  sup1: '¹',
  sup2: '²',
  sup3: '³',
  micro: 'µ',
  iexcl: '¡',
  iquest: '¿',
  ordf: 'ª',
  ordm: 'º',
  szlig: 'ß',
  aelig: 'æ',
  AElig: 'Æ',
  oelig: 'œ',
  OElig: 'Œ',
  oslash: 'ø',
  Oslash: 'Ø',
  eth: 'ð',
  ETH: 'Ð',
  thorn: 'þ',
  THORN: 'Þ',
  hearts: '♥',
  larr: '←',
  rarr: '→',
  uarr: '↑',
  darr: '↓',
};
// Accented Latin letters ("eacute", "Ouml", "ccedil") are a letter plus a combining mark.
const COMBINING: Record<string, string> = {
  acute: '\u0301',
  grave: '\u0300',
  circ: '\u0302',
  uml: '\u0308',
  tilde: '\u0303',
  ring: '\u030A',
  cedil: '\u0327',
  caron: '\u030C',
};

/** Decodes numeric character references and common named HTML entities; unknown ones stay as written. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      // NUL and surrogate code points cannot be stored; show them as the replacement character.
      const storable = cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
      return storable ? String.fromCodePoint(cp) : '\uFFFD';
    }
    const named = NAMED_ENTITIES[ref];
    if (named !== undefined) return named;
    const m = /^([A-Za-z])(acute|grave|circ|uml|tilde|ring|cedil|caron)$/.exec(ref);
    if (m) {
      const composed = `${m[1]}${COMBINING[m[2] as string]}`.normalize('NFC');
      if (composed.length === 1) return composed;
    }
    return whole;
  });
}
