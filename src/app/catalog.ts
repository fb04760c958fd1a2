import { rebaseDates, type Article, type ArticleParse } from '../core/catalog/article.js';
import type { ArticleStore } from './ports.js';

/** One parsed input record with where it came from, for error reports ("file:line"). */
export interface SourcedParse {
  /** 1-based line (or item) number in the source. */
  line: number;
  result: ArticleParse;
}

export interface ImportRejection {
  line: number;
  field: string;
  reason: string;
}

export interface ImportSummary {
  read: number;
  inserted: number;
  updated: number;
  rejected: ImportRejection[];
}

export interface ImportOptions {
  /** Shift all dates so the newest publication is `now` (epoch ms). */
  rebaseTo?: number;
  /** Articles per upsert transaction. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Imports parsed articles: good rows load, bad rows are reported with their line and reason.
 * The last occurrence of an id in the source wins (a feed may repeat an updated item). Upserts
 * are idempotent, so re-running an import changes nothing.
 */
export async function importArticles(store: ArticleStore, parsed: AsyncIterable<SourcedParse> | Iterable<SourcedParse>, opts: ImportOptions = {}): Promise<ImportSummary> {
  const byId = new Map<string, Article>();
  const rejected: ImportRejection[] = [];
  let read = 0;
  for await (const p of parsed) {
    read++;
    if (p.result.ok) {
      byId.delete(p.result.article.id);
      byId.set(p.result.article.id, p.result.article);
    } else rejected.push({ line: p.line, field: p.result.error.field, reason: p.result.error.reason });
  }
  let articles = [...byId.values()];
  if (opts.rebaseTo !== undefined) articles = rebaseDates(articles, opts.rebaseTo);
  const batch = opts.batchSize ?? 1000;
  let inserted = 0;
  let updated = 0;
  for (let i = 0; i < articles.length; i += batch) {
    const r = await store.upsertArticles(articles.slice(i, i + batch));
    inserted += r.inserted;
    updated += r.updated;
    opts.onProgress?.(Math.min(i + batch, articles.length), articles.length);
  }
  return { read, inserted, updated, rejected };
}
