import type { Article } from '../../../src/core/catalog/article.js';
import type { SimPlatform, SimRecRequest, SimSlate, WireEvent } from '../../../src/core/simulate/platform.js';

/**
 * A trivial in-memory platform for the world's tests: it keeps the catalog and the events, checks
 * the call order of platform.ts (time moves forward only; no event from the future; an article is
 * published once its time has come), and serves slates from `rank`.
 */
export class FakePlatform implements SimPlatform {
  now = -Infinity;
  readonly articles: Article[] = [];
  readonly events: WireEvent[] = [];
  readonly calls: string[] = [];
  private n = 0;

  constructor(
    private readonly rank: (articles: readonly Article[], req: SimRecRequest, now: number) => string[],
    private readonly opts: { keepEvents?: boolean; log?: boolean } = {},
  ) {}

  async setTime(now: number): Promise<void> {
    if (now < this.now) throw new Error(`setTime went back from ${this.now} to ${now}`);
    this.now = now;
    if (this.opts.log) this.calls.push(`t ${now}`);
  }

  async publish(articles: readonly Article[]): Promise<void> {
    for (const a of articles) {
      if (a.publishedAt > this.now) throw new Error(`published ${a.id} before its time`);
      this.articles.push(a);
    }
    if (this.opts.log) this.calls.push(`p ${articles.map((a) => a.id).join(',')}`);
  }

  async recommend(req: SimRecRequest): Promise<SimSlate> {
    const items = this.rank(this.articles, req, this.now);
    if (this.opts.log) this.calls.push(`r ${req.readerId} ${req.articleId} ${items.join(',')}`);
    return { recommId: items.length > 0 ? `rc-${this.n++}` : null, items };
  }

  async send(events: readonly WireEvent[]): Promise<void> {
    let last = -Infinity;
    for (const e of events) {
      const ts = Date.parse(e.timestamp);
      if (ts > this.now) throw new Error(`event ${e.eventId} at ${e.timestamp} sent at ${this.now}`);
      if (ts < last) throw new Error('events out of time order');
      last = ts;
    }
    if (this.opts.keepEvents !== false) this.events.push(...events);
    if (this.opts.log) this.calls.push(`s ${events.length}`);
  }
}

/** Newest first, never the current article (the `latest` heuristic); `sameSection` keeps the current article's section. */
export const latestRank =
  (sameSection = false) =>
  (articles: readonly Article[], req: SimRecRequest): string[] => {
    const k = req.k ?? 4;
    const section = sameSection ? articles.find((a) => a.id === req.articleId)?.section : undefined;
    const out: string[] = [];
    for (let i = articles.length - 1; i >= 0 && out.length < k; i--) {
      const a = articles[i]!;
      if (a.id === req.articleId || (section !== undefined && a.section !== section)) continue;
      out.push(a.id);
    }
    return out;
  };

/** The oldest articles first (a poor heuristic, for contrast). */
export const oldestRank = (articles: readonly Article[], req: SimRecRequest): string[] =>
  articles
    .filter((a) => a.id !== req.articleId)
    .slice(0, req.k ?? 4)
    .map((a) => a.id);
