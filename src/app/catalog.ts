import { rebaseDates, type Article, type ArticleParse } from '../core/catalog/article.js';
import type { ArticleStatus } from '../core/catalog/article.js';
import type { Clock } from '../core/kernel/clock.js';
import type { ArticleFilter, ArticleStore } from './ports.js';

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
  /** The import's time (epoch ms): stamps the rows so running servers pick them up. */
  now: number;
  /** Shift all dates so the newest publication is `now`. */
  rebase?: boolean;
  /** Articles per upsert transaction. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Imports parsed articles: good rows load, bad rows are reported with their line and reason.
 * The last occurrence of an id in the source wins (a feed may repeat an updated item). Upserts
 * are idempotent, so re-running an import changes nothing.
 */
export async function importArticles(
  store: ArticleStore,
  parsed: AsyncIterable<SourcedParse> | Iterable<SourcedParse>,
  opts: ImportOptions,
): Promise<ImportSummary> {
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
  if (opts.rebase) articles = rebaseDates(articles, opts.now);
  const batch = opts.batchSize ?? 1000;
  let inserted = 0;
  let updated = 0;
  for (let i = 0; i < articles.length; i += batch) {
    const r = await store.upsertArticles(articles.slice(i, i + batch), opts.now);
    inserted += r.inserted;
    updated += r.updated;
    opts.onProgress?.(Math.min(i + batch, articles.length), articles.length);
  }
  return { read, inserted, updated, rejected };
}

/** Who must hear about catalog changes made through this process (the serving state). */
export interface CatalogListener {
  upserted(articles: readonly Article[]): void;
  removed(id: string): void;
}

/**
 * Catalog changes made through the admin API: write the store, then tell the serving state, so
 * an unpublished or retracted article leaves the slates of this process at once. Other processes
 * pick the change up by polling `articlesStoredSince` (see FreshFeed).
 */
export class CatalogService {
  constructor(
    private readonly store: ArticleStore,
    private readonly clock: Clock,
    private readonly listener: CatalogListener,
  ) {}

  async upsert(articles: readonly Article[]): Promise<{ inserted: number; updated: number }> {
    const r = await this.store.upsertArticles(articles, this.clock.now());
    this.listener.upserted(articles);
    return r;
  }

  async setStatus(id: string, status: ArticleStatus): Promise<boolean> {
    if (!(await this.store.setArticleStatus(id, status, this.clock.now()))) return false;
    const a = await this.store.getArticle(id);
    if (a) this.listener.upserted([a]);
    return true;
  }

  async delete(id: string): Promise<boolean> {
    if (!(await this.store.deleteArticle(id))) return false;
    this.listener.removed(id);
    return true;
  }

  get(id: string): Promise<Article | undefined> {
    return this.store.getArticle(id);
  }

  /** A page of the articles matching the filter, and how many match. */
  async list(q: { limit: number; offset: number } & ArticleFilter): Promise<{ total: number; items: Article[] }> {
    const filter = { section: q.section, q: q.q };
    const [items, total] = await Promise.all([this.store.listArticles(q), this.store.countArticles(filter)]);
    return { total, items };
  }
}
