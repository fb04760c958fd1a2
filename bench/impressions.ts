/**
 * Impressions for `bench:serve --model`: the recommendation widget as the readers of VisitStream's
 * sessions (src/core/simulate/synthetic.ts) saw it, so that `trainModel` has labelled impressions
 * to learn from. VisitStream makes sessions of visits: a page view, maybe a read, and from the
 * second visit on sometimes a recommendation click (recommId `rc-S-V`) that opens the visit. Here:
 *   1. every page view is followed IMPRESSION_DELAY_MS later by an impression of the placement
 *      with `slots` items, shown on the page's article;
 *   2. when the session's next visit opens with a click, the impression carries that click's
 *      recommId and shows the clicked article at the click's position, so the click labels it;
 *      otherwise it gets its own recommId (`imp-N`) and every item is shown and not clicked;
 *   3. the other slots are filled like a plausible heuristic would: with probability
 *      `sameSection` an article of the current article's section, else any article, both
 *      recency-weighted as VisitStream's readers weigh them (1 / (1 + rank / recencyHalfRank));
 *      never the current article, one read earlier in the session, the clicked one, or one not yet
 *      published at the impression.
 * What predicts a click is thus what made VisitStream's reader pick the next article (its story,
 * the reader's preferred section, recency); the filler shares the section half the time, so the
 * section alone does not. Draws come from the Rng given here, not VisitStream's, so the reading
 * events (and the bench's request mix drawn after them) are the same with or without impressions.
 */
import type { Article } from '../src/core/catalog/article.js';
import type { StoredEvent } from '../src/core/events/schema.js';
import { seededRng, type Rng } from '../src/core/kernel/rng.js';
import { VisitStream, receivedAfter, storedEvent, weightedSampler } from '../src/core/simulate/synthetic.js';

/** The widget is reported shown this long after its page view (the page view is at visit start + 400 ms). */
const IMPRESSION_DELAY_MS = 300;
/** Filler draws per slot before the slot is left out (only when few articles were published yet). */
const TRIES = 40;

export interface ImpressionOptions {
  placement: string;
  slots: number;
  /** Share of filler slots drawn from the current article's section. */
  sameSection: number;
  /** As VisitStream's option of the same name. */
  recencyHalfRank: number;
  /** The end of the events' window: no receive time after it. */
  nowMs: number;
}

export interface ImpressionCounts {
  impressions: number;
  /** Impressions that a click followed (one click each). */
  clicked: number;
  items: number;
  /** Client times of the impressions, in the order made (the bench picks its training window from them). */
  times: number[];
}

interface Visit {
  click?: Extract<StoredEvent, { type: 'click' }>;
  pageView?: Extract<StoredEvent, { type: 'page_view' }>;
  rest: StoredEvent[];
}

export class ImpressionLayer {
  readonly counts: ImpressionCounts = { impressions: 0, clicked: 0, items: 0, times: [] };
  private readonly index = new Map<string, number>();
  private readonly any: () => number;
  private readonly bySection = new Map<string, { list: number[]; draw: () => number }>();

  /** `pool`: the articles read, newest first (VisitStream.pool). */
  constructor(
    private readonly rng: Rng,
    private readonly pool: readonly Article[],
    private readonly options: ImpressionOptions,
  ) {
    const weight = (rank: number) => 1 / (1 + rank / options.recencyHalfRank);
    pool.forEach((a, i) => this.index.set(a.id, i));
    this.any = weightedSampler(
      rng,
      pool.map((_, i) => weight(i)),
    );
    const lists = new Map<string, number[]>();
    pool.forEach((a, i) => {
      const s = a.section ?? '(none)';
      const l = lists.get(s) ?? [];
      l.push(i);
      lists.set(s, l);
    });
    for (const [s, list] of lists)
      this.bySection.set(s, {
        list,
        draw: weightedSampler(
          rng,
          list.map((i) => weight(i)),
        ),
      });
  }

  /** `events` (VisitStream's, a session's events together) with an impression after each page view. */
  *around(events: Iterable<StoredEvent>): Generator<StoredEvent> {
    let session: Visit[] = [];
    let sessionId: string | undefined;
    for (const e of events) {
      if (e.sessionId !== sessionId) {
        yield* this.session(session);
        session = [];
        sessionId = e.sessionId;
      }
      const cur = session[session.length - 1];
      if (e.type === 'click') session.push({ click: e, rest: [] });
      else if (e.type === 'page_view') {
        if (cur && cur.click && !cur.pageView) cur.pageView = e;
        else session.push({ pageView: e, rest: [] });
      } else if (cur) cur.rest.push(e);
      else session.push({ rest: [e] });
    }
    yield* this.session(session);
  }

  private *session(visits: readonly Visit[]): Generator<StoredEvent> {
    const seen = new Set<string>();
    for (let v = 0; v < visits.length; v++) {
      const { click, pageView, rest } = visits[v]!;
      if (click) yield click;
      if (pageView) {
        yield pageView;
        if (pageView.articleId !== null) seen.add(pageView.articleId);
        const next = visits[v + 1]?.click;
        yield this.impression(pageView, next, seen);
      }
      yield* rest;
    }
  }

  private impression(
    pv: Extract<StoredEvent, { type: 'page_view' }>,
    click: Extract<StoredEvent, { type: 'click' }> | undefined,
    seen: ReadonlySet<string>,
  ): StoredEvent {
    const { rng, pool, options: o, counts } = this;
    const ts = pv.clientTs + IMPRESSION_DELAY_MS;
    const slots: (string | undefined)[] = Array.from({ length: o.slots });
    const taken = new Set(seen);
    if (click) {
      slots[Math.min(o.slots, click.position) - 1] = click.articleId;
      taken.add(click.articleId);
    }
    const current = pv.articleId === null ? undefined : pool[this.index.get(pv.articleId) ?? -1];
    const section = current ? this.bySection.get(current.section ?? '(none)') : undefined;
    for (let s = 0; s < o.slots; s++) {
      if (slots[s] !== undefined) continue;
      const draw = section && rng.next() < o.sameSection ? () => section.list[section.draw()]! : this.any;
      for (let t = 0; t < TRIES; t++) {
        const a = pool[draw()]!;
        if (a.publishedAt <= ts && !taken.has(a.id)) {
          slots[s] = a.id;
          taken.add(a.id);
          break;
        }
      }
    }
    const items = slots.filter((id): id is string => id !== undefined).map((articleId, i) => ({ articleId, position: i + 1, team: null }));
    counts.impressions++;
    counts.items += items.length;
    counts.times.push(ts);
    if (click) counts.clicked++;
    const recommId = click ? click.recommId : `imp-${counts.impressions}`;
    const base = { eventId: `imp-${counts.impressions}`, readerId: pv.readerId, sessionId: pv.sessionId, clientTs: ts };
    return storedEvent.impression(
      { ...base, receivedTs: Math.min(o.nowMs, receivedAfter(rng, ts)) },
      { recommId, placement: o.placement, articleId: pv.articleId, items },
    );
  }
}

/** bench:serve's workload (bench/features.ts runs the same in process). */
export const SERVE_WORKLOAD = {
  readers: 50_000,
  /** Articles the synthetic events are about: the newest ones (only those within the 72 h TTL can be recommended). */
  pool: 300,
  seed: 20_250_101,
  placement: 'read-next',
  slots: 5,
  /** Share of the impressions' filler slots from the current article's section. */
  sameSection: 0.5,
} as const;

/**
 * The reading events of bench:serve: the pool's newest articles, readers with activity ~ 1/sqrt(r)
 * (skew 2), recency-weighted reading (VisitStream); with `impressionsAt` (the events' end), an
 * ImpressionLayer too, whose draws come from their own Rng.
 */
export function serveWorkload(
  articles: readonly Article[],
  impressionsAt?: number,
): { w: VisitStream; layer: ImpressionLayer | undefined } {
  const o = SERVE_WORKLOAD;
  const w = new VisitStream(seededRng(o.seed), articles, {
    readers: o.readers,
    newest: o.pool,
    activitySkew: 2,
    slots: o.slots,
    placement: o.placement,
  });
  const layer =
    impressionsAt === undefined
      ? undefined
      : new ImpressionLayer(seededRng(o.seed + 2), w.pool, {
          placement: o.placement,
          slots: o.slots,
          sameSection: o.sameSection,
          recencyHalfRank: w.options.recencyHalfRank,
          nowMs: impressionsAt,
        });
  return { w, layer };
}
