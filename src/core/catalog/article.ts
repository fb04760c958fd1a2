import { badTextReason } from '../kernel/strings.js';
import { isoDayProblem, parseIsoWithZone } from '../kernel/time.js';

export const ARTICLE_STATUSES = ['published', 'unpublished', 'retracted'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

/**
 * A catalog article as the domain sees it. Times are epoch ms (UTC); optional times are null.
 * `tags` holds topics and named entities alike (lower-level formats keep both).
 */
export interface Article {
  id: string;
  url: string | null;
  title: string;
  lead: string | null;
  body: string | null;
  section: string | null;
  tags: string[];
  author: string | null;
  publishedAt: number;
  updatedAt: number | null;
  expiresAt: number | null;
  embargoUntil: number | null;
  status: ArticleStatus;
  paywalled: boolean;
  language: string | null;
}

/** Why one input record could not become an Article: the field and a human reason. */
export interface ArticleRejection {
  field: string;
  reason: string;
}

export type ArticleParse = { ok: true; article: Article } | { ok: false; error: ArticleRejection };

const MAX = {
  id: 256,
  url: 2048,
  title: 1000,
  lead: 10_000,
  body: 1_000_000,
  section: 200,
  tag: 200,
  tags: 200,
  author: 500,
  language: 35,
};

const ALLOWED = new Set([
  'id',
  'url',
  'title',
  'lead',
  'body',
  'section',
  'tags',
  'author',
  'publishedAt',
  'updatedAt',
  'expiresAt',
  'embargoUntil',
  'status',
  'paywalled',
  'language',
]);

/**
 * Validates our own JSON article schema (the JSON-lines import format and the admin API body):
 * camelCase fields, ISO 8601 times with a zone, unknown fields rejected.
 *
 * @example
 * parseArticleJson({ id: 'a1', title: 'Hello', publishedAt: '2026-01-01T08:00:00Z' })
 */
export function parseArticleJson(input: unknown): ArticleParse {
  const fail = (field: string, reason: string): ArticleParse => ({ ok: false, error: { field, reason } });
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return fail('', 'must be a JSON object');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!ALLOWED.has(k)) return fail(k, `unknown field "${k}"`);

  const str = (k: keyof typeof MAX, required: boolean): string | null | ArticleParse => {
    const v = o[k];
    if (v === undefined || v === null) return required ? fail(k, 'is required') : null;
    if (typeof v !== 'string') return fail(k, 'must be a string');
    if (required && v.trim() === '') return fail(k, 'must not be empty');
    if (v.length > MAX[k]) return fail(k, `must be at most ${MAX[k]} characters`);
    const bad = badTextReason(v);
    if (bad) return fail(k, bad);
    return v;
  };
  const time = (k: string, required: boolean): number | null | ArticleParse => {
    const v = o[k];
    if (v === undefined || v === null) return required ? fail(k, 'is required') : null;
    if (typeof v !== 'string') return fail(k, 'must be an ISO 8601 date-time string with a zone');
    const ms = parseIsoWithZone(v);
    if (ms !== undefined) return ms;
    const noSuchDay = isoDayProblem(v);
    return fail(k, noSuchDay === null ? `"${v}" is not an ISO 8601 date-time with a zone` : `"${v}": ${noSuchDay}`);
  };
  const isFail = (v: unknown): v is ArticleParse => typeof v === 'object' && v !== null && 'ok' in v;

  const id = str('id', true);
  if (isFail(id)) return id;
  const title = str('title', true);
  if (isFail(title)) return title;
  const url = str('url', false);
  if (isFail(url)) return url;
  const lead = str('lead', false);
  if (isFail(lead)) return lead;
  const body = str('body', false);
  if (isFail(body)) return body;
  const section = str('section', false);
  if (isFail(section)) return section;
  const author = str('author', false);
  if (isFail(author)) return author;
  const language = str('language', false);
  if (isFail(language)) return language;
  const publishedAt = time('publishedAt', true);
  if (isFail(publishedAt)) return publishedAt;
  const updatedAt = time('updatedAt', false);
  if (isFail(updatedAt)) return updatedAt;
  const expiresAt = time('expiresAt', false);
  if (isFail(expiresAt)) return expiresAt;
  const embargoUntil = time('embargoUntil', false);
  if (isFail(embargoUntil)) return embargoUntil;

  let tags: string[] = [];
  if (o.tags !== undefined && o.tags !== null) {
    if (!Array.isArray(o.tags)) return fail('tags', 'must be an array of strings');
    if (o.tags.length > MAX.tags) return fail('tags', `must have at most ${MAX.tags} entries`);
    for (const [i, t] of o.tags.entries()) {
      if (typeof t !== 'string') return fail(`tags/${i}`, 'must be a string');
      const bad = badTextReason(t) ?? (t.length > MAX.tag ? `must be at most ${MAX.tag} characters` : undefined);
      if (bad) return fail(`tags/${i}`, bad);
    }
    tags = [...new Set(o.tags as string[])];
  }
  let status: ArticleStatus = 'published';
  if (o.status !== undefined && o.status !== null) {
    if (!ARTICLE_STATUSES.includes(o.status as ArticleStatus)) return fail('status', `must be one of ${ARTICLE_STATUSES.join(', ')}`);
    status = o.status as ArticleStatus;
  }
  let paywalled = false;
  if (o.paywalled !== undefined && o.paywalled !== null) {
    if (typeof o.paywalled !== 'boolean') return fail('paywalled', 'must be a boolean');
    paywalled = o.paywalled;
  }
  return {
    ok: true,
    article: {
      id: id as string,
      url,
      title: title as string,
      lead,
      body,
      section,
      tags,
      author,
      publishedAt: publishedAt as number,
      updatedAt,
      expiresAt,
      embargoUntil,
      status,
      paywalled,
      language,
    },
  };
}

/** The JSON form of an article (API responses, JSON-lines export): ISO times, camelCase. */
export function articleToJson(a: Article): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: a.id,
    url: a.url,
    title: a.title,
    lead: a.lead,
    body: a.body,
    section: a.section,
    tags: a.tags,
    author: a.author,
    publishedAt: iso(a.publishedAt),
    updatedAt: iso(a.updatedAt),
    expiresAt: iso(a.expiresAt),
    embargoUntil: iso(a.embargoUntil),
    status: a.status,
    paywalled: a.paywalled,
    language: a.language,
  };
}

/**
 * Shifts every time of a catalog by the same offset so that the newest publication is `now`,
 * keeping the spacing between articles. Historical catalogs then work with freshness rules.
 */
export function rebaseDates(articles: readonly Article[], now: number): Article[] {
  if (articles.length === 0) return [];
  let newest = -Infinity;
  for (const a of articles) if (a.publishedAt > newest) newest = a.publishedAt;
  const shift = now - newest;
  const s = (ms: number | null) => (ms === null ? null : ms + shift);
  return articles.map((a) => ({
    ...a,
    publishedAt: a.publishedAt + shift,
    updatedAt: s(a.updatedAt),
    expiresAt: s(a.expiresAt),
    embargoUntil: s(a.embargoUntil),
  }));
}
