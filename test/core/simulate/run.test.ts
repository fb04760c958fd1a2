import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Article } from '../../../src/core/catalog/article.js';
import { validateEvent } from '../../../src/core/events/validate.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { DAY_MS, HOUR_MS } from '../../../src/core/kernel/time.js';
import { generateArticles, readerTraits, topicsOf } from '../../../src/core/simulate/newsroom.js';
import type { SimRecRequest, WireEvent } from '../../../src/core/simulate/platform.js';
import { runWorld, truthOf, type Tally } from '../../../src/core/simulate/run.js';
import { syntheticArticles } from '../../../src/core/simulate/synthetic.js';
import { DEFAULT_WORLD, parseWorld, type WorldSpec } from '../../../src/core/simulate/world.js';
import { FakePlatform, latestRank, oldestRank } from './fake-platform.js';

const world = (name: string): WorldSpec =>
  parseWorld(JSON.parse(readFileSync(new URL(`../../../worlds/${name}.json`, import.meta.url), 'utf8')));
const small = parseWorld({ readers: { count: 300 }, days: 2 });
const T0 = Date.parse(DEFAULT_WORLD.startDate);

async function run(
  w: WorldSpec,
  rank: ConstructorParameters<typeof FakePlatform>[0],
  opts: { seed: number; readers?: number; days?: number },
) {
  const platform = new FakePlatform(rank, { log: true });
  const tally = await runWorld(w, platform, opts);
  return { platform, tally };
}

/** A reader's events, in order. */
const eventsOf = (events: readonly WireEvent[], readerId: string) => events.filter((e) => e.readerId === readerId);

describe('runWorld', () => {
  it('gives the same calls and events for the same seed, and others for another seed', async () => {
    const a = await run(small, latestRank(), { seed: 11 });
    const b = await run(small, latestRank(), { seed: 11 });
    const c = await run(small, latestRank(), { seed: 12 });
    expect(a.platform.events.length).toBeGreaterThan(1000);
    expect(b.platform.calls).toEqual(a.platform.calls);
    expect(b.platform.events).toEqual(a.platform.events);
    expect(b.tally).toEqual(a.tally);
    expect(c.platform.events).not.toEqual(a.platform.events);
  });

  it('keeps the call order of platform.ts and sends only valid wire events, ids unique', async () => {
    // FakePlatform throws on time moving back, an event sent before its time, events out of order
    // and an article published early.
    const { platform, tally } = await run(small, latestRank(), { seed: 3 });
    const ids = new Set<string>();
    for (const e of platform.events) {
      const ts = Date.parse(e.timestamp);
      const v = validateEvent(e, { receivedTs: ts, window: { maxPastMs: DAY_MS, maxFutureMs: DAY_MS }, trusted: true });
      expect(v.ok ? 'ok' : v.error).toBe('ok');
      ids.add(e.eventId);
    }
    expect(ids.size).toBe(platform.events.length);
    const types = new Set(platform.events.map((e) => e.type));
    expect([...types].sort()).toEqual(
      ['click', 'impression', 'page_view', 'read', 'subscribe'].filter((t) => t !== 'subscribe' || types.has('subscribe')),
    );
    expect(tally.events.page_view).toBe(platform.events.filter((e) => e.type === 'page_view').length);
    // Every click names a recommId an impression showed, with that article at that position.
    const shown = new Map<string, WireEvent>();
    for (const e of platform.events) if (e.type === 'impression') shown.set(e.recommId as string, e);
    for (const e of platform.events.filter((x) => x.type === 'click')) {
      const imp = shown.get(e.recommId as string)!;
      expect((imp.items as { articleId: string; position: number }[])[(e.position as number) - 1]!.articleId).toBe(e.articleId);
    }
    // Day ends are reported in order.
    const days: number[] = [];
    await runWorld(small, new FakePlatform(latestRank()), { seed: 3, onDayEnd: async (d) => void days.push(d) });
    expect(days).toEqual([1, 2]);
  });

  it('tallies what it sent: every reader from the first page view on', async () => {
    const { platform, tally } = await run(small, latestRank(), { seed: 5 });
    const exposed = tally.readers.filter((r) => r.exposedTs !== null);
    expect(exposed.length).toBeGreaterThan(100);
    const sum = (f: (r: Tally['readers'][number]) => number) => tally.readers.reduce((a, r) => a + f(r), 0);
    expect(sum((r) => r.pageViews)).toBe(tally.events.page_view);
    expect(sum((r) => r.reads)).toBe(tally.events.read);
    expect(sum((r) => r.clicks)).toBe(tally.events.click);
    expect(sum((r) => r.impressions)).toBe(tally.events.impression);
    const sessions = new Set(platform.events.map((e) => e.sessionId));
    expect(sum((r) => r.sessions)).toBe(sessions.size);
    expect(sum((r) => r.adRevenue)).toBeCloseTo((tally.events.page_view * small.revenue.adRpm) / 1000, 9);
    const truth = truthOf(tally);
    expect(truth.articles_read).toBeCloseTo(tally.events.read / exposed.length, 12);
    expect(truth.ctr).toBeCloseTo(tally.events.click / tally.events.impression, 12);
    expect(Object.keys(truth).sort()).toEqual(
      ['ad_revenue_per_reader', 'articles_read', 'conversion', 'ctr', 'dwell_per_read', 'pages_per_session', 'revenue_per_reader'].sort(),
    );
  });

  it('counts from the exposure on when exposures start later (measureFrom), as the report does', async () => {
    const from = T0 + DAY_MS;
    const platform = new FakePlatform(latestRank());
    const tally = await runWorld(small, platform, { seed: 5, measureFrom: from });
    for (const r of tally.readers) {
      if (r.exposedTs === null) continue;
      expect(r.exposedTs).toBeGreaterThanOrEqual(from);
      // Received at the minute boundary after its time: counted when received at or after the exposure.
      const counted = eventsOf(platform.events, r.readerId).filter(
        (e) => Math.floor((Date.parse(e.timestamp) - T0) / 60_000) * 60_000 + T0 + 60_000 >= r.exposedTs!,
      );
      expect(r.pageViews).toBe(counted.filter((e) => e.type === 'page_view').length);
      expect(r.reads).toBe(counted.filter((e) => e.type === 'read').length);
    }
  });
  it('rebases a real catalog onto the simulated clock', async () => {
    const old = Date.parse('2020-03-01T00:00:00Z');
    const catalog = syntheticArticles(seededRng(1), { count: 400, window: { from: old, to: old + 4 * DAY_MS } });
    const platform = new FakePlatform(latestRank());
    await runWorld(small, platform, { seed: 2, catalog });
    const end = T0 + small.days * DAY_MS;
    const ids = new Set(catalog.map((a) => a.id));
    expect(platform.articles.length).toBeGreaterThan(100);
    for (const a of platform.articles) {
      expect(ids.has(a.id)).toBe(true);
      expect(a.publishedAt).toBeGreaterThanOrEqual(T0 - small.articles.backlogHours * HOUR_MS);
      expect(a.publishedAt).toBeLessThan(end);
    }
    // Spacing is kept: one constant shift.
    const byId = new Map(catalog.map((a) => [a.id, a.publishedAt]));
    const shifts = new Set(platform.articles.map((a) => a.publishedAt - byId.get(a.id)!));
    expect(shifts.size).toBe(1);
    expect(platform.events.filter((e) => e.type === 'page_view').every((e) => ids.has(e.articleId as string))).toBe(true);
  });
});

describe('common random numbers', () => {
  it('the same slates under two arms give identical tallies', async () => {
    const a = await run(small, latestRank(), { seed: 21 });
    const b = await run(small, (arts, req) => latestRank()(arts, req), { seed: 21 });
    expect(b.tally).toEqual(a.tally);
  });

  it('different slates for one reader change only that reader, and only from the first different slate on', async () => {
    const target = 'sim-r000007';
    const a = await run(small, latestRank(), { seed: 21 });
    const b = await run(small, (arts, req) => (req.readerId === target ? oldestRank(arts, req) : latestRank()(arts, req)), {
      seed: 21,
    });
    const others = (x: WireEvent[]) => x.filter((e) => e.readerId !== target);
    expect(others(b.platform.events)).toEqual(others(a.platform.events));
    const ea = eventsOf(a.platform.events, target);
    const eb = eventsOf(b.platform.events, target);
    // Up to and including the first page view, the reader's events are the same.
    const firstImpression = ea.findIndex((e) => e.type === 'impression');
    expect(firstImpression).toBeGreaterThan(0);
    expect(eb.slice(0, firstImpression)).toEqual(ea.slice(0, firstImpression));
    expect(eb).not.toEqual(ea);
    a.tally.readers.forEach((r, i) => {
      if (r.readerId !== target) expect(b.tally.readers[i]).toEqual(r);
    });
  });

  it('in the null world, different recommenders give the same truth', async () => {
    const w = world('null');
    const opts = { seed: 4, readers: 1500, days: 3 };
    const latest = truthOf((await run(w, latestRank(), opts)).tally);
    const oldest = truthOf((await run(w, oldestRank, opts)).tally);
    const sameSection = truthOf((await run(w, latestRank(true), opts)).tally);
    expect(oldest).toEqual(latest);
    expect(sameSection).toEqual(latest);
  });

  it('in the default world the slate matters', async () => {
    const opts = { seed: 4, readers: 1500, days: 3 };
    const latest = truthOf((await run(DEFAULT_WORLD, latestRank(), opts)).tally);
    const oldest = truthOf((await run(DEFAULT_WORLD, oldestRank, opts)).tally);
    expect(oldest.ctr!).toBeLessThan(latest.ctr! / 2);
    expect(oldest.articles_read!).toBeLessThan(latest.articles_read!);
  });
});

describe('worlds', () => {
  /** A recommender that knows each reader's favourite topics: the newest articles of those topics first. */
  function oracle(w: WorldSpec, seed: number, readers: number) {
    const topics = topicsOf(w);
    const start = Date.parse(w.startDate);
    const arts = generateArticles(w, topics, seed, start - w.articles.backlogHours * HOUR_MS, start + w.days * DAY_MS);
    const topicOf = new Map(arts.map((x) => [x.article.id, x.topic]));
    const favs = new Map<string, Set<number>>();
    for (let r = 0; r < readers; r++) {
      favs.set(`sim-r${String(r).padStart(6, '0')}`, new Set(readerTraits(w, topics, seed, r, start, w.days * DAY_MS).favourites));
    }
    return (articles: readonly Article[], req: SimRecRequest): string[] => {
      const mine = favs.get(req.readerId)!;
      const out: string[] = [];
      for (let i = articles.length - 1; i >= 0 && out.length < (req.k ?? 4); i--) {
        const a = articles[i]!;
        if (a.id !== req.articleId && mine.has(topicOf.get(a.id)!)) out.push(a.id);
      }
      return out.length > 0 ? out : latestRank()(articles, req);
    };
  }

  it('default: a personalised model beats the heuristics', async () => {
    const w = parseWorld({ days: 3 });
    const opts = { seed: 8, readers: 3000 };
    const best = truthOf((await run(w, oracle(w, 8, 3000), opts)).tally);
    for (const rank of [latestRank(), latestRank(true)]) {
      const h = truthOf((await run(w, rank, opts)).tally);
      expect(best.ctr!).toBeGreaterThan(h.ctr! * 1.5);
      expect(best.articles_read!).toBeGreaterThan(h.articles_read!);
    }
  });

  it('tie: knowing the readers does not beat newest first', async () => {
    const w = parseWorld({ ...(world('tie') as object), days: 3 });
    const opts = { seed: 8, readers: 3000 };
    const latest = truthOf((await run(w, latestRank(), opts)).tally);
    const best = truthOf((await run(w, oracle(w, 8, 3000), opts)).tally);
    expect(best.ctr!).toBeLessThanOrEqual(latest.ctr!);
    expect(best.articles_read!).toBeLessThanOrEqual(latest.articles_read!);
  });

  it('small-effect: its treatment raises articles read per reader by about 1%', async () => {
    const w = world('small-effect');
    const effects: number[] = [];
    for (const seed of [1, 2]) {
      const opts = { seed, readers: 10_000 };
      const control = truthOf((await run(w, latestRank(), opts)).tally);
      const treatment = truthOf((await run(w, latestRank(true), opts)).tally);
      effects.push(treatment.articles_read! / control.articles_read! - 1);
    }
    const mean = (effects[0]! + effects[1]!) / 2;
    console.log(
      `small-effect: articles_read +${(100 * mean).toFixed(2)}% (seeds 1, 2: ${effects.map((e) => (100 * e).toFixed(2)).join(', ')})`,
    );
    expect(mean).toBeGreaterThan(0.007);
    expect(mean).toBeLessThan(0.013);
  }, 60_000);
});

describe('speed', () => {
  it('2,000 readers x 7 days against a trivial platform', async () => {
    // The second run is timed (the first warms the JIT up).
    let ms = 0;
    let tally: Tally | undefined;
    for (const seed of [1, 2]) {
      const t = performance.now();
      tally = await runWorld(DEFAULT_WORLD, new FakePlatform(latestRank(), { keepEvents: false }), { seed, readers: 2000, days: 7 });
      ms = performance.now() - t;
    }
    if (!tally) throw new Error('no run');
    const events = Object.values(tally.events).reduce((a, b) => a + b, 0);
    console.log(`world: ${events} events in ${ms.toFixed(0)} ms, ${Math.round((events / ms) * 1000)} events/s`);
    expect(events).toBeGreaterThan(20_000);
    expect(ms).toBeLessThan(5_000);
  });
});
