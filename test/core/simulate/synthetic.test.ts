import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../src/core/kernel/time.js';
import {
  checkStoredEvent,
  EventTraffic,
  fillTemplate,
  headline,
  NEWS_SECTIONS,
  powerLawIndex,
  storedEvent,
  syntheticArticles,
  syntheticEventId,
  topicSessions,
  VisitStream,
} from '../../../src/core/simulate/synthetic.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const WINDOW = { from: T0, to: T0 + 2 * DAY_MS };
const NOW = WINDOW.to;

const articles = (seed: number, count = 200) =>
  syntheticArticles(seededRng(seed), { count, window: WINDOW, sectionAssignment: 'weighted' });
const visits = (seed: number, total = 5000, readers = 1000) => {
  const s = new VisitStream(seededRng(seed), articles(seed), { readers });
  return { stream: s, events: [...s.events(total, NOW)] };
};
const traffic = (seed: number, total = 5000) =>
  new EventTraffic(seededRng(seed), { total, from: T0, spanMs: DAY_MS, readers: 1000, idScheme: 'uuid' }).next(total);
const topics = (seed: number) => {
  const rng = seededRng(seed);
  const as = syntheticArticles(rng, { count: 60, window: WINDOW, sections: ['t0', 't1', 't2'] });
  return topicSessions(rng, as, { window: WINDOW, readers: 200 });
};

/** The share of events made by the busiest 10 % of a population of `readers`. */
function top10Share(events: readonly { readerId: string }[], readers: number): number {
  const by = new Map<string, number>();
  for (const e of events) by.set(e.readerId, (by.get(e.readerId) ?? 0) + 1);
  const counts = [...by.values()].sort((a, b) => b - a);
  return counts.slice(0, Math.ceil(readers / 10)).reduce((s, x) => s + x, 0) / events.length;
}

describe('synthetic newsroom: a seed pins everything', () => {
  it('the same seed gives the same articles, visits, traffic and topic sessions; another seed other ones', () => {
    expect(articles(1)).toEqual(articles(1));
    expect(visits(1).events).toEqual(visits(1).events);
    expect(traffic(1)).toEqual(traffic(1));
    expect(topics(1)).toEqual(topics(1));
    expect(articles(2)).not.toEqual(articles(1));
    expect(visits(2).events).not.toEqual(visits(1).events);
    expect(traffic(2)).not.toEqual(traffic(1));
    expect(topics(2)).not.toEqual(topics(1));
  });

  it("headlines draw nothing from the caller's stream and depend only on id and section", () => {
    const byTitle = syntheticArticles(seededRng(3), { count: 50, window: WINDOW, titles: 'headline' });
    const byId = syntheticArticles(seededRng(3), { count: 50, window: WINDOW, titles: 'id' });
    expect(byTitle.map((a) => a.publishedAt)).toEqual(byId.map((a) => a.publishedAt));
    expect(byId[7]!.title).toBe('Title art-0007');
    expect(byTitle[7]!.title).toBe(headline('art-0007', byTitle[7]!.section));
    for (const a of byTitle) expect(a.title).toMatch(/^[^a-z{}][^{}]+$/);
  });
});

describe('synthetic articles', () => {
  it('are published within the window, with unique ids, in the sections asked for', () => {
    const as = articles(4, 2000);
    expect(new Set(as.map((a) => a.id)).size).toBe(2000);
    for (const a of as) {
      expect(a.publishedAt).toBeGreaterThanOrEqual(WINDOW.from);
      expect(a.publishedAt).toBeLessThan(WINDOW.to);
      expect(a.status).toBe('published');
    }
    // Weighted sections follow NEWS_SECTIONS' shares: the largest (34 %) well ahead of the smallest (1.7 %).
    const count = (name: string) => as.filter((a) => a.section === name).length;
    expect(count(NEWS_SECTIONS[0]!.name) / 2000).toBeCloseTo(3574 / 10588, 1);
    expect(count(NEWS_SECTIONS[9]!.name)).toBeLessThan(100);
    // Round-robin: article i in section i mod n.
    const rr = syntheticArticles(seededRng(4), { count: 9, window: WINDOW, sections: ['a', 'b', 'c'] });
    expect(rr.map((a) => a.section)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('fillTemplate fills every placeholder', () => {
    const rng = seededRng(5);
    for (const s of NEWS_SECTIONS) for (const h of s.headlines) expect(fillTemplate(rng, h)).not.toMatch(/[{}]/);
  });
});

describe('synthetic events are what the collector stores', () => {
  const ctx = { maxPastMs: 3 * DAY_MS, maxFutureMs: 5 * MINUTE_MS, trusted: true };
  const everyType = (events: readonly StoredEvent[]) => {
    const types = new Set(events.map((e) => e.type));
    for (const e of events) expect(checkStoredEvent(e, ctx)).toBeUndefined();
    return types;
  };

  it('visits: page views, reads and clicks, in the window, never on an unpublished article', () => {
    const { stream, events } = visits(6);
    expect([...everyType(events)].sort()).toEqual(['click', 'page_view', 'read']);
    const published = new Map(stream.pool.map((a) => [a.id, a.publishedAt]));
    for (const e of events) {
      expect(e.clientTs).toBeGreaterThanOrEqual(NOW - DAY_MS);
      expect(e.receivedTs).toBeLessThanOrEqual(NOW);
      expect(e.clientTs).toBeGreaterThanOrEqual(published.get((e as { articleId: string }).articleId)!);
    }
    expect(stream.counts.events).toBe(events.length);
    expect(stream.counts.pageViews + stream.counts.reads + stream.counts.clicks).toBe(events.length);
  });

  it('traffic: all five types at the mix asked for, in time order, ids unique', () => {
    const events = traffic(7, 20_000);
    expect([...everyType(events)].sort()).toEqual(['click', 'impression', 'page_view', 'read', 'subscribe']);
    const share = (t: string) => events.filter((e) => e.type === t).length / events.length;
    expect(share('page_view')).toBeCloseTo(0.4, 1);
    expect(share('impression')).toBeCloseTo(0.25, 1);
    expect(events.every((e, i) => i === 0 || e.clientTs >= events[i - 1]!.clientTs)).toBe(true);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
  });

  it('the builders fill every optional field, and a wrong event is caught', () => {
    const b = { eventId: 'e1', readerId: 'r1', sessionId: 's1', clientTs: T0, receivedTs: T0 + 100 };
    const all: StoredEvent[] = [
      storedEvent.pageView(b, { articleId: 'a1' }),
      storedEvent.impression(b, {
        recommId: 'rc1',
        placement: 'read-next',
        articleId: 'a1',
        items: [{ articleId: 'a2', position: 1, team: null }],
      }),
      storedEvent.click(b, { recommId: 'rc1', articleId: 'a2', position: 1 }),
      storedEvent.read(b, { articleId: 'a2', dwellMs: 1000, scroll: 0.5 }),
      storedEvent.subscribe(b, { plan: 'monthly', revenue: 9.99, currency: 'EUR' }),
    ];
    everyType(all);
    expect(checkStoredEvent({ ...storedEvent.read(b, { articleId: 'a2', dwellMs: 1000, scroll: 0.5 }), scroll: 2 }, ctx)).toMatch(/scroll/);
  });

  it('event id schemes: uuid looks like a UUIDv4, time ascends with the client time', () => {
    expect(syntheticEventId('uuid', 'e', 42, T0)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(syntheticEventId('time', 'e', 2, T0) < syntheticEventId('time', 'e', 1, T0 + HOUR_MS)).toBe(true);
    expect(syntheticEventId('sequential', 'e', 7, T0)).toBe('e0000000007');
  });
});

describe('heavy-tailed readers', () => {
  it('powerLawIndex: the busiest fraction f of readers gets about f^(1/skew) of the draws', () => {
    const rng = seededRng(8);
    const n = 1000;
    const draws = Array.from({ length: 100_000 }, () => powerLawIndex(rng, n, 2));
    const top = draws.filter((r) => r < n / 10).length / draws.length;
    expect(top).toBeCloseTo(Math.sqrt(0.1), 2);
  });

  it('visits: the top 10 % of readers make a large share of the events (uniform readers would make 10 %)', () => {
    const { events } = visits(9, 20_000, 1000);
    const share = top10Share(events, 1000);
    // Sessions: 0.1^(1/2) = 32 %; events per session vary, so allow a band.
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.45);
  });
});

describe('topic sessions', () => {
  it("most reads stay in the reader's topic, never before publication, no article twice in a session", () => {
    const rng = seededRng(10);
    const as = syntheticArticles(rng, { count: 90, window: WINDOW, sections: ['t0', 't1', 't2'] });
    const sessions = topicSessions(rng, as, { window: WINDOW, readers: 500 });
    const byId = new Map(as.map((a) => [a.id, a]));
    let inTopic = 0;
    let reads = 0;
    for (const s of sessions) {
      expect(new Set(s.reads.map((r) => r.articleId)).size).toBe(s.reads.length);
      for (const r of s.reads) {
        const a = byId.get(r.articleId)!;
        expect(a.publishedAt).toBeLessThanOrEqual(r.ts);
        if (a.section === `t${s.topic}`) inTopic++;
        reads++;
      }
    }
    // 85 % from the topic plus a third of the uniform rest.
    expect(inTopic / reads).toBeGreaterThan(0.8);
    expect(sessions.every((s, i) => i === 0 || s.reads[0]!.ts >= sessions[i - 1]!.reads[0]!.ts)).toBe(true);
  });
});
