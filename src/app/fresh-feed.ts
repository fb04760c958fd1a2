import type { Article } from '../core/catalog/article.js';
import type { StoredEvent } from '../core/events/schema.js';
import type { Clock } from '../core/kernel/clock.js';
import type { FreshState } from '../core/recommend/fresh-state.js';
import { impressionOf, signalOf } from '../core/recommend/signals.js';
import type { CatalogListener } from './catalog.js';
import type { ArticleStore, EventStore } from './ports.js';

export interface FreshFeedOptions {
  /** How far back the signals are replayed at start, milliseconds. */
  replayMs: number;
  /** How often the catalog is polled for changes made by other processes (imports), milliseconds. */
  catalogPollMs: number;
}

/**
 * How far a replay has got (for the log): signals applied (live impressions included), and the
 * share of the replay window they cover.
 */
export interface ReplayProgress {
  signals: number;
  /** 0..1: the client time reached, as a share of the window from `now - replayMs` to the replay's start. */
  share: number;
}

/**
 * Keeps the serving state fresh: 1. at start, loads the catalog and replays the recent reading
 * signals and live impressions from storage; 2. then applies every event this process stores,
 * right after its commit; 3. polls the catalog for rows other processes wrote (a CLI import,
 * another server's admin call).
 *
 * The replay may run while the server takes events (`replay`): the scan reads a snapshot pinned
 * before the first event is taken, and the events stored meanwhile wait in a buffer, applied once
 * the scan is done. So each event is counted once: from the scan if it was stored before the
 * snapshot, from the buffer if after (test/main/warm-start.test.ts).
 */
export class FreshFeed implements CatalogListener {
  private lastPoll = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Events stored while a replay runs, in commit order; undefined when none runs. */
  private pending: StoredEvent[] | undefined;
  private stopped = false;

  constructor(
    private readonly state: FreshState,
    private readonly store: EventStore & ArticleStore,
    private readonly clock: Clock,
    private readonly options: FreshFeedOptions,
  ) {}

  /** Loads the whole catalog into the state; returns how many articles. */
  async loadCatalog(): Promise<number> {
    this.lastPoll = this.clock.now();
    const articles = await this.store.articlesStoredSince(0);
    this.state.upsertArticles(articles);
    return articles.length;
  }

  /**
   * Replays the signals and live impressions of the last `replayMs`. `pinned` resolves once the
   * scan's snapshot is fixed: from then on events may be stored (they are buffered until `done`).
   * `done` resolves with the signals replayed and the buffered events applied after them.
   * `progress` hears each batch.
   */
  replay(progress: (p: ReplayProgress) => void = () => undefined): {
    pinned: Promise<void>;
    done: Promise<{ signals: number; buffered: number }>;
  } {
    const now = this.clock.now();
    const from = now - this.options.replayMs;
    this.pending = [];
    let pin!: () => void;
    const pinned = new Promise<void>((r) => (pin = r));
    let applied = 0;
    const done = (async () => {
      try {
        await this.store.scanSignals(
          from,
          (rows) => {
            if (this.stopped) throw new Error('the replay was stopped');
            // In the scan's order, as the collector applies stored events (`apply`): an impression's
            // items feed the learned rankers' impression features (CTR, shown without a click).
            for (const r of rows) {
              if (r.type === 'impression') this.state.addImpression(r.readerId, r.articleIds, r.clientTs);
              else {
                const s = signalOf(r);
                if (s) this.state.add(s);
              }
            }
            applied += rows.length;
            const last = rows[rows.length - 1];
            if (last)
              progress({ signals: applied, share: now > from ? Math.min(1, Math.max(0, (last.clientTs - from) / (now - from))) : 1 });
          },
          pin,
        );
      } catch (e) {
        // A failed replay leaves the state without (some of) those signals; what was stored meanwhile still counts.
        pin();
        this.flush();
        throw e;
      }
      pin();
      return { signals: applied, buffered: this.flush() };
    })();
    return { pinned, done };
  }

  /** Catalog and signals, one after the other (a process that does not serve while it starts). */
  async rebuild(): Promise<{ articles: number; signals: number }> {
    const articles = await this.loadCatalog();
    const { signals } = await this.replay().done;
    return { articles, signals };
  }

  /** Called by the collector with the events it just committed (accepted ones only). */
  events(events: readonly StoredEvent[]): void {
    if (this.pending) {
      for (const e of events) this.pending.push(e);
      return;
    }
    this.apply(events);
  }

  /** Ends buffering: applies the events stored during the replay; returns how many. */
  private flush(): number {
    const buffered = this.pending ?? [];
    this.pending = undefined;
    this.apply(buffered);
    return buffered.length;
  }

  private apply(events: readonly StoredEvent[]): void {
    for (const e of events) {
      const s = signalOf(e as { type: string; readerId: string; clientTs: number; articleId?: string | null });
      if (s) this.state.add(s);
      else if (e.type === 'impression') {
        // For the impression features of learned rankers (CTR, shown without a click).
        const i = impressionOf(e);
        if (i) this.state.addImpression(i.readerId, i.articleIds, i.ts);
      }
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

  /** Stops the catalog poll and a replay in progress (its `done` then rejects). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }
}
