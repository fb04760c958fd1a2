import type { Article, ArticleStatus } from '../core/catalog/article.js';
import type { ExposureRecord, ServeRecord } from '../core/events/records.js';
import type { StoredEvent } from '../core/events/schema.js';

/**
 * The smallest store interfaces the use cases need, owned by the use cases. Adapters implement
 * them per database; database rows never cross this line.
 */

/** What happened to one event on append: stored now, already stored identically, or already stored with another payload (the first one stands). */
export type AppendOutcome = 'accepted' | 'duplicate' | 'conflict';

export interface EventStore {
  /**
   * Stores a batch in one transaction and resolves only once it is durable. Outcomes are in input
   * order. An id seen before (earlier in this batch or in storage) is not stored again.
   *
   * @example
   * await store.appendEvents([{ ...readEvent, receivedTs: clock.now() }]) // ['accepted']
   */
  appendEvents(events: readonly StoredEvent[]): Promise<AppendOutcome[]>;
  /** Reads events back by id (tests, audits); unknown ids are absent from the result. */
  getEvents(eventIds: readonly string[]): Promise<StoredEvent[]>;
  countEvents(): Promise<number>;
}

export interface ArticleStore {
  /** Inserts or replaces articles by id; idempotent. Returns how many ids were new. */
  upsertArticles(articles: readonly Article[]): Promise<{ inserted: number; updated: number }>;
  getArticle(id: string): Promise<Article | undefined>;
  setArticleStatus(id: string, status: ArticleStatus): Promise<boolean>;
  deleteArticle(id: string): Promise<boolean>;
  countArticles(): Promise<number>;
  /** Newest first by publication time. */
  listArticles(opts: { limit: number; offset: number; section?: string }): Promise<Article[]>;
}

export interface RecordStore {
  /** Inserts exposures; an exposure already stored for (experiment, phase, reader) is kept as is. */
  appendExposures(records: readonly ExposureRecord[]): Promise<void>;
  appendServes(records: readonly ServeRecord[]): Promise<void>;
  listExposures(experiment: string): Promise<ExposureRecord[]>;
  listServes(opts: { limit: number; recommId?: string }): Promise<ServeRecord[]>;
}

export type KeyRole = 'admin' | 'ingest';

export interface KeyStore {
  getKeyHash(role: KeyRole): Promise<string | undefined>;
  /** Stores the hash unless one exists; returns the hash that stands (ours or an earlier one). */
  putKeyHashIfAbsent(role: KeyRole, hash: string, createdTs: number): Promise<string>;
}

export interface Storage extends EventStore, ArticleStore, RecordStore, KeyStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Secrets come from outside the app (node:crypto in main), so the app stays testable. */
export interface Secrets {
  newKey(): string;
  hash(key: string): string;
  /** Constant-time comparison of two hashes. */
  sameHash(a: string, b: string): boolean;
}
