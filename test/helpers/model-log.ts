import type { OpenedStorage } from '../../src/adapters/storage/open.js';
import type { Article } from '../../src/core/catalog/article.js';
import type { StoredEvent } from '../../src/core/events/schema.js';
import { seededRng } from '../../src/core/kernel/rng.js';
import { syntheticArticle } from '../../src/core/simulate/synthetic.js';

const HOUR = 3_600_000;

/**
 * A small log to train a ranker on, written straight to the store: 30 articles (three
 * sections) published before `start`, and `impressions` (default 4000) slates of 4 articles for placement
 * read-next spread over `hours` hours from `start`. Each article has a hidden appeal (its index:
 * a1 most, a30 least); a slate's item is clicked with probability 0.3 × appeal / position and
 * the click is followed by a read, so popularity and CTR carry signal and the later slice's AUC
 * is above 0.5. Deterministic given the seed.
 */
const ARTICLES = 30;

export function modelLog(o: { start: number; impressions?: number; hours?: number; seed?: number }) {
  const n = o.impressions ?? 4000;
  const span = (o.hours ?? 36) * HOUR;
  const rng = seededRng(o.seed ?? 1);
  const sections = ['world', 'sport', 'culture'];
  const articles: Article[] = Array.from({ length: ARTICLES }, (_, i) =>
    // Published in an order unrelated to the appeal (7 is coprime with 30): age alone does not predict clicks.
    syntheticArticle(`a${i + 1}`, sections[i % 3]!, o.start - (((i * 7) % ARTICLES) + 1) * HOUR),
  );
  const appeal = (id: string) => 1 - (Number(id.slice(1)) - 1) / ARTICLES;
  const events: StoredEvent[] = [];
  const ev = (type: string, id: string, ts: number, reader: string, over: Record<string, unknown>) =>
    ({ type, eventId: id, readerId: reader, sessionId: `s-${reader}`, clientTs: ts, receivedTs: ts, ...over }) as StoredEvent;
  for (let k = 0; k < n; k++) {
    const ts = o.start + Math.floor((k * span) / n);
    const reader = `r${rng.int(300)}`;
    const context = articles[rng.int(ARTICLES)]!.id;
    const slate: string[] = [];
    while (slate.length < 4) {
      const a = articles[rng.int(ARTICLES)]!.id;
      if (a !== context && !slate.includes(a)) slate.push(a);
    }
    const recommId = `rc-${k}`;
    events.push(ev('page_view', `pv-${k}`, ts - 1000, reader, { articleId: context, recommId: null }));
    events.push(
      ev('impression', `im-${k}`, ts, reader, {
        recommId,
        placement: 'read-next',
        articleId: context,
        items: slate.map((articleId, i) => ({ articleId, position: i + 1, team: null })),
        experiment: null,
        phase: null,
        arm: null,
        hashVersion: null,
        recommender: null,
        shadow: false,
      }),
    );
    const clicked = slate.findIndex((a, i) => rng.next() < (0.3 * appeal(a)) / (i + 1));
    if (clicked >= 0) {
      const a = slate[clicked]!;
      events.push(ev('click', `cl-${k}`, ts + 2000, reader, { recommId, articleId: a, position: clicked + 1, placement: 'read-next' }));
      events.push(ev('read', `rd-${k}`, ts + 4000, reader, { articleId: a, dwellMs: 30_000, scroll: 0.9, recommId: null }));
    }
  }
  return { articles, events };
}

/** Writes `modelLog`'s articles and events to the store. */
export async function loadModelLog(s: OpenedStorage, log: ReturnType<typeof modelLog>, now: number): Promise<void> {
  await s.upsertArticles(log.articles, now);
  for (let i = 0; i < log.events.length; i += 2000) await s.appendEvents(log.events.slice(i, i + 2000));
}
