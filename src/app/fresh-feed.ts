import type { Article } from '../core/catalog/article.js';
import type { StoredEvent } from '../core/events/schema.js';
import type { Clock } from '../core/kernel/clock.js';
import type { FreshState } from '../core/recommend/fresh-state.js';
import { signalOf } from '../core/recommend/signals.js';
import type { CatalogListener } from './catalog.js';
import type { ArticleStore, EventStore } from './ports.js';

export interface FreshFeedOptions {
  /** How far back the signals are replayed at start, milliseconds. */
  replayMs: number;
  /** How often the catalog is polled for changes made by other processes (imports), milliseconds. */
  catalogPollMs: number;
}

/**
 * Keeps the serving state fresh: 1. at start, loads the catalog and replays the recent reading
 * signals from storage; 2. then applies every event this process stores, right after its commit;
 * 3. polls the catalog for rows other processes wrote (a CLI import, another server's admin call).
 */
export class FreshFeed implements CatalogListener {
  private lastPoll = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: FreshState,
    private readonly store: EventStore & ArticleStore,
    private readonly clock: Clock,
    private readonly options: FreshFeedOptions,
  ) {}

  async rebuild(): Promise<{ articles: number; signals: number }> {
    const now = this.clock.now();
    this.lastPoll = now;
    const articles = await this.store.articlesStoredSince(0);
    this.state.upsertArticles(articles);
    const signals = await this.store.scanSignals(now - this.options.replayMs, (rows) => {
      for (const r of rows) {
        const s = signalOf(r);
        if (s) this.state.add(s);
      }
    });
    return { articles: articles.length, signals };
  }

  /** Called by the collector with the events it just committed (accepted ones only). */
  events(events: readonly StoredEvent[]): void {
    for (const e of events) {
      const s = signalOf(e as { type: string; readerId: string; clientTs: number; articleId?: string | null });
      if (s) this.state.add(s);
    }
  }

  upserted(articles: readonly Article[]): void {
    this.state.upsertArticles(articles);
  }

  removed(id: string): void {
    this.state.removeArticle(id);
  }

  /** One catalog poll; overlapping by a second so a row stored during the previous poll is not missed. */
  async pollCatalog(): Promise<number> {
    const now = this.clock.now();
    const changed = await this.store.articlesStoredSince(this.lastPoll - 1000);
    this.lastPoll = now;
    if (changed.length > 0) this.state.upsertArticles(changed);
    return changed.length;
  }

  start(onError: (e: unknown) => void): void {
    this.timer = setInterval(() => void this.pollCatalog().catch(onError), this.options.catalogPollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
