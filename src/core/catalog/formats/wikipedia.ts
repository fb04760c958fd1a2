import { findBadText } from '../../kernel/strings.js';
import { MINUTE_MS, HOUR_MS, toIso } from '../../kernel/time.js';
import { parseArticleJson, type ArticleParse, type ArticleRejection } from '../article.js';

/**
 * Items of Wikipedia's "Portal:Current events" parsed to JSON lines (see shared/data/NOTICE.md):
 * `{ id: "2025-01-01-003", date, category, category_raw, topics[], text, wiki_links[],
 *    sources[{name,url}], file, last_modified_at: "2026-07-03 22:41" }`.
 * An item is 1-3 sentences without a headline, so the title is derived.
 */

export const TITLE_MAX = 120;

/** Items of one day are spread from 06:00Z in 10-minute steps, in id order. */
const DAY_START_MS = 6 * HOUR_MS;
const ITEM_STEP_MS = 10 * MINUTE_MS;
const DAY_LAST_MS = 23 * HOUR_MS + 59 * MINUTE_MS;

/** Story names too vague to be a headline; the item's category is treated the same way. */
const GENERIC_TOPICS = new Set(['other', 'others', 'general', 'miscellaneous', 'misc', 'news', 'current events', 'update', 'updates']);

/** Words that end with a period without ending a sentence ("Gen. Smith", "Robert F. Kennedy Jr. says"). */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'st',
  'jr',
  'sr',
  'gen',
  'lt',
  'col',
  'sgt',
  'capt',
  'adm',
  'sen',
  'rep',
  'gov',
  'pres',
  'prof',
  'rev',
  'no',
  'vs',
  'inc',
  'co',
  'corp',
  'ltd',
  'mt',
  'ft',
  'approx',
  'est',
  'dept',
  'univ',
]);

/**
 * Maps one parsed JSON line of items.jsonl to an article. Rejections name the source field
 * ("date", "topics/2", "sources/0/url").
 *
 * @example
 * parseWikipediaCurrentEventsItem(JSON.parse(line))
 */
export function parseWikipediaCurrentEventsItem(obj: unknown): ArticleParse {
  const fail = (field: string, reason: string): ArticleParse => ({ ok: false, error: { field, reason } });
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return fail('', 'must be a JSON object');
  const bad = findBadText(obj);
  if (bad) return fail(bad.path.slice(1), bad.reason);
  const o = obj as Record<string, unknown>;

  const id = requiredString(o, 'id');
  if (typeof id !== 'string') return { ok: false, error: id };
  const date = requiredString(o, 'date');
  if (typeof date !== 'string') return { ok: false, error: date };
  const text = requiredString(o, 'text');
  if (typeof text !== 'string') return { ok: false, error: text };

  const dayStart = parseDay(date);
  if (dayStart === undefined) return fail('date', `"${date}" is not a calendar date (YYYY-MM-DD)`);
  const publishedAt = dayStart + Math.min(DAY_START_MS + (itemNumber(id) - 1) * ITEM_STEP_MS, DAY_LAST_MS);

  let updatedAt: number | null = null;
  if (o.last_modified_at !== undefined && o.last_modified_at !== null) {
    const ms = typeof o.last_modified_at === 'string' ? parseUtcStamp(o.last_modified_at) : undefined;
    if (ms === undefined) return fail('last_modified_at', 'must be a UTC time like "2026-07-03 22:41"');
    updatedAt = ms;
  }

  let category: string | null = null;
  if (o.category !== undefined && o.category !== null) {
    if (typeof o.category !== 'string') return fail('category', 'must be a string');
    category = o.category.trim() === '' ? null : o.category.trim();
  }
  const topics = stringList(o, 'topics');
  if (!Array.isArray(topics)) return { ok: false, error: topics };
  const wikiLinks = stringList(o, 'wiki_links');
  if (!Array.isArray(wikiLinks)) return { ok: false, error: wikiLinks };
  const source = firstSource(o);
  if ('field' in source) return { ok: false, error: source };

  const generic = new Set([
    ...GENERIC_TOPICS,
    ...[category, o.category_raw].filter((c) => typeof c === 'string').map((c) => c.trim().toLowerCase()),
  ]);
  const lastTopic = topics.at(-1);
  const titleFromTopic = lastTopic !== undefined && !generic.has(lastTopic.toLowerCase());
  const title = clipAtWord(titleFromTopic ? lastTopic : firstSentence(text.trim()), TITLE_MAX);

  const parsed = parseArticleJson({
    id,
    title,
    // 1 to 3 sentences: a lead, not a body (the article page would show it twice).
    lead: text.trim(),
    body: null,
    section: category,
    tags: [...new Set([...topics, ...wikiLinks])],
    url: source.url,
    author: source.name,
    language: 'en',
    publishedAt: toIso(publishedAt),
    updatedAt: updatedAt === null ? null : toIso(updatedAt),
  });
  if (parsed.ok) return parsed;
  // Point article-level rejections (lengths, mostly) back at the field the value came from.
  const from: Record<string, string> = {
    title: titleFromTopic ? `topics/${topics.length - 1}` : 'text',
    lead: 'text',
    section: 'category',
    url: 'sources/0/url',
    author: 'sources/0/name',
  };
  return fail(from[parsed.error.field] ?? parsed.error.field, parsed.error.reason);
}

function requiredString(o: Record<string, unknown>, field: string): string | ArticleRejection {
  const v = o[field];
  if (v === undefined || v === null) return { field, reason: 'is required' };
  if (typeof v !== 'string') return { field, reason: 'must be a string' };
  if (v.trim() === '') return { field, reason: 'must not be empty' };
  return v.trim();
}

/** An optional array of strings, trimmed, empty entries dropped. */
function stringList(o: Record<string, unknown>, field: string): string[] | ArticleRejection {
  const v = o[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return { field, reason: 'must be an array of strings' };
  const out: string[] = [];
  for (const [i, s] of v.entries()) {
    if (typeof s !== 'string') return { field: `${field}/${i}`, reason: 'must be a string' };
    if (s.trim() !== '') out.push(s.trim());
  }
  return out;
}

/** The first source is the outlet we link to and credit. */
function firstSource(o: Record<string, unknown>): { url: string | null; name: string | null } | ArticleRejection {
  const v = o.sources;
  if (v === undefined || v === null) return { url: null, name: null };
  if (!Array.isArray(v)) return { field: 'sources', reason: 'must be an array of {name, url} objects' };
  for (const [i, s] of v.entries()) {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) return { field: `sources/${i}`, reason: 'must be a {name, url} object' };
    for (const k of ['name', 'url'] as const) {
      const x = (s as Record<string, unknown>)[k];
      if (x !== undefined && x !== null && typeof x !== 'string') return { field: `sources/${i}/${k}`, reason: 'must be a string' };
    }
  }
  const first = v[0] as Record<string, string | null | undefined> | undefined;
  const orNull = (s: string | null | undefined) => (s === undefined || s === null || s.trim() === '' ? null : s.trim());
  return { url: orNull(first?.url), name: orNull(first?.name) };
}

/** Epoch ms of 00:00Z of a YYYY-MM-DD date, rejecting days that do not exist (Date.parse rolls 02-30 over). */
function parseDay(date: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(ms) && toIso(ms).startsWith(date) ? ms : undefined;
}

/** The item's position within its day, from the id's "-NNN" suffix; 1 when the id has none. */
function itemNumber(id: string): number {
  const m = /-(\d{1,4})$/.exec(id);
  return m ? Math.max(1, Number(m[1])) : 1;
}

/** "2026-07-03 22:41" (optionally with seconds) as UTC, the way the dump writes it. */
function parseUtcStamp(s: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)Z?$/.exec(s.trim());
  if (!m || parseDay(m[1] as string) === undefined) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The first sentence (or clause up to a semicolon) of `text`, without its closing period.
 * Abbreviations and initials ("U.S.", "Gen.", "John F. Kennedy") do not end a sentence.
 */
export function firstSentence(text: string): string {
  for (const m of text.matchAll(/[.!?;]["'”’)\]]*(?=\s+(\S)|$)/g)) {
    const mark = m[0][0];
    const next = m[1];
    // "approx. five": a sentence mark before a lowercase word ends nothing (a semicolon always ends a clause).
    if (mark !== ';' && next !== undefined && /\p{Ll}/u.test(next)) continue;
    if (mark === '.') {
      const word = /(\S+)$/.exec(text.slice(0, m.index))?.[1] ?? '';
      if (word.includes('.') || /^\p{Lu}$/u.test(word) || ABBREVIATIONS.has(word.toLowerCase())) continue;
    }
    // A headline keeps "?" and "!" but not the period or semicolon.
    return (mark === '.' || mark === ';' ? text.slice(0, m.index) + m[0].slice(1) : text.slice(0, m.index + m[0].length)).trim();
  }
  return text;
}

/** Shortens to at most `max` characters, at a word boundary when one is near, ending with "…". */
export function clipAtWord(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  if (space >= max / 2) cut = cut.slice(0, space);
  // A hard cut must not split a surrogate pair: a lone half is not storable text.
  else if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut.replace(/[\s,;:–—-]+$/u, '')}…`;
}
