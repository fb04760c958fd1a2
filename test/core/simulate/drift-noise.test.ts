/**
 * The world's injected drift (`drift`) and pure-noise clicks (`clicks: "noise"`): validation, and
 * what they do to the clicks (worlds/drift.json, worlds/noise.json). The drift is measured against
 * the same seed without it (common random numbers: the runs are identical until the drift starts),
 * the noise with chi-square tests of independence (critical values at p = 0.001 from the chi-square
 * table: df 1: 10.83, df 3: 16.27, df 9: 27.88; a seeded run, so the result is fixed, and a wrong
 * model fails them by far: the default world's slots give a statistic in the hundreds).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Article } from '../../../src/core/catalog/article.js';
import { DomainError } from '../../../src/core/kernel/errors.js';
import { DAY_MS } from '../../../src/core/kernel/time.js';
import { readerTraits, topicsOf } from '../../../src/core/simulate/newsroom.js';
import type { WireEvent } from '../../../src/core/simulate/platform.js';
import { runWorld } from '../../../src/core/simulate/run.js';
import { parseWorld, type WorldSpec } from '../../../src/core/simulate/world.js';
import { FakePlatform, latestRank } from './fake-platform.js';

const worldFile = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../worlds/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const POLITICS = 'Politics and elections';

function errorOf(json: unknown): DomainError {
  try {
    parseWorld(json);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('parseWorld accepted the world');
}

async function run(w: WorldSpec, opts: { seed: number; readers: number; days?: number }) {
  const platform = new FakePlatform(latestRank());
  await runWorld(w, platform, opts);
  return platform;
}

type Item = { articleId: string; position: number };

/** Per shown item: its impression's time, slot, article, and whether the impression's click took it. */
function shownItems(
  events: readonly WireEvent[],
): { ts: number; position: number; articleId: string; readerId: string; clicked: boolean }[] {
  const clicks = new Map<string, string>();
  for (const e of events) if (e.type === 'click') clicks.set(e.recommId as string, e.articleId as string);
  const out = [];
  for (const e of events) {
    if (e.type !== 'impression') continue;
    const ts = Date.parse(e.timestamp);
    for (const it of e.items as Item[])
      out.push({
        ts,
        position: it.position,
        articleId: it.articleId,
        readerId: e.readerId,
        clicked: clicks.get(e.recommId as string) === it.articleId,
      });
  }
  return out;
}

/** Pearson's chi-square statistic of independence of click and group: Σ over groups and click/no-click of (O − E)² / E. */
function chiSquare(groups: Map<string | number, { shown: number; clicks: number }>): number {
  let shown = 0;
  let clicks = 0;
  for (const g of groups.values()) [shown, clicks] = [shown + g.shown, clicks + g.clicks];
  const p = clicks / shown;
  let x2 = 0;
  for (const g of groups.values()) {
    const e1 = g.shown * p;
    const e0 = g.shown * (1 - p);
    x2 += (g.clicks - e1) ** 2 / e1 + (g.shown - g.clicks - e0) ** 2 / e0;
  }
  return x2;
}

function tallyBy<K extends string | number>(items: ReturnType<typeof shownItems>, key: (x: ReturnType<typeof shownItems>[number]) => K) {
  const m = new Map<string | number, { shown: number; clicks: number }>();
  for (const x of items) {
    const k = key(x);
    const g = m.get(k) ?? { shown: 0, clicks: 0 };
    g.shown++;
    if (x.clicked) g.clicks++;
    m.set(k, g);
  }
  return m;
}

describe('world validation of drift and clicks', () => {
  it('parses worlds/drift.json and worlds/noise.json, and the defaults have neither', () => {
    const d = parseWorld(worldFile('drift'));
    expect(d.days).toBe(14);
    expect(d.drift).toEqual([{ fromDay: 8, section: POLITICS, clickFactor: 0.5 }]);
    expect(d.clicks).toBe('model');
    const n = parseWorld(worldFile('noise'));
    expect(n.clicks).toBe('noise');
    expect(n.drift).toEqual([]);
    expect(parseWorld({}).clicks).toBe('model');
  });

  it.each([
    [{ clicks: 'random' }, 'invalid_field', 'clicks'],
    [{ clickModel: { noiseRate: 1.5 } }, 'invalid_field', 'clickModel.noiseRate'],
    [{ drift: { fromDay: 8 } }, 'invalid_field', 'drift'],
    [{ drift: [{ fromDay: 0, section: POLITICS, clickFactor: 0.5 }] }, 'invalid_field', 'drift[0].fromDay'],
    [{ drift: [{ fromDay: 2.5, section: POLITICS, clickFactor: 0.5 }] }, 'invalid_field', 'drift[0].fromDay'],
    [{ days: 7, drift: [{ fromDay: 8, section: POLITICS, clickFactor: 0.5 }] }, 'invalid_field', 'drift[0].fromDay'],
    [{ drift: [{ fromDay: 2, section: 'politics', clickFactor: 0.5 }] }, 'invalid_field', 'drift[0].section'],
    [{ drift: [{ fromDay: 2, section: POLITICS, clickFactor: -1 }] }, 'invalid_field', 'drift[0].clickFactor'],
    [{ drift: [{ fromDay: 2, section: POLITICS }] }, 'invalid_field', 'drift[0].clickFactor'],
    [{ drift: [{ fromDay: 2, section: POLITICS, clickFactor: 0.5, until: 3 }] }, 'unknown_field', 'drift[0].until'],
  ])('rejects %j: %s at %s', (json, code, field) => {
    const e = errorOf(json);
    expect(e.code).toBe(code);
    expect(e.field).toBe(field);
    expect(e.message.startsWith(field)).toBe(true);
  });
});

describe('injected drift', () => {
  it("halves the section's widget CTR from the day it starts, and leaves the run as it was before", async () => {
    // 10× the default click rate, so that a 14-day run of 3,000 readers has a few hundred politics clicks after day 8.
    const over = { clickModel: { baseRate: 0.6 } };
    const drifted = parseWorld({ ...worldFile('drift'), ...over });
    const stable = parseWorld({ ...worldFile('drift'), ...over, drift: [] });
    const opts = { seed: 21, readers: 3000 };
    const [a, b] = await Promise.all([run(drifted, opts), run(stable, opts)]);
    const t0 = Date.parse(drifted.startDate);
    const from = t0 + 7 * DAY_MS;
    // Until day 8 starts, the two runs are the same run.
    const early = (p: FakePlatform) => p.events.filter((e) => Date.parse(e.timestamp) < from);
    expect(early(a)).toEqual(early(b));

    const section = new Map<string, string | null>(a.articles.map((x: Article) => [x.id, x.section]));
    const ctr = (p: FakePlatform, politics: boolean) => {
      const items = shownItems(p.events).filter((x) => x.ts >= from && (section.get(x.articleId) === POLITICS) === politics);
      return { rate: items.filter((x) => x.clicked).length / items.length, clicks: items.filter((x) => x.clicked).length };
    };
    const pa = ctr(a, true);
    const pb = ctr(b, true);
    expect(pb.clicks).toBeGreaterThan(300);
    // Politics: halved, within ±0.1 of 0.5 (binomial noise of ~150 vs ~300 clicks, mostly shared by common random numbers).
    expect(pa.rate / pb.rate).toBeGreaterThan(0.4);
    expect(pa.rate / pb.rate).toBeLessThan(0.6);
    // Every other section: unchanged within ±10% (a politics non-click lets a lower slot be clicked: slightly above 1).
    const others = ctr(a, false).rate / ctr(b, false).rate;
    expect(others).toBeGreaterThan(0.9);
    expect(others).toBeLessThan(1.1);
  }, 30_000);
});

describe('pure-noise clicks', () => {
  it('makes a click as likely whatever the slot, the section and the reader', async () => {
    // About 17× the default noise rate, for a few thousand clicks.
    const noise = parseWorld({ ...worldFile('noise'), clickModel: { noiseRate: 0.06 } });
    const seed = 4;
    const p = await run(noise, { seed, readers: 3000 });
    const items = shownItems(p.events);
    const clicks = items.filter((x) => x.clicked).length;
    expect(clicks).toBeGreaterThan(2000);
    const section = new Map(p.articles.map((x) => [x.id, x.section ?? '']));
    const tag = new Map(p.articles.map((x) => [x.id, x.tags[0] ?? '']));
    expect(chiSquare(tallyBy(items, (x) => x.position))).toBeLessThan(16.27);
    expect(chiSquare(tallyBy(items, (x) => section.get(x.articleId)!))).toBeLessThan(27.88);
    // The reader's interest: is the item's topic one of the reader's favourites (the world's truth)?
    const topics = topicsOf(noise);
    const slugs = topics.sectionOf.map((s, t) => {
      const name = noise.articles.sections[s]!.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
      return `${name}-${t - topics.bySection[s]!.first + 1}`;
    });
    const t0 = Date.parse(noise.startDate);
    const favourites = new Map<string, Set<string>>();
    const favouriteOf = (readerId: string): Set<string> => {
      let f = favourites.get(readerId);
      if (!f) {
        const r = Number(readerId.slice('sim-r'.length));
        f = new Set(readerTraits(noise, topics, seed, r, t0, noise.days * DAY_MS).favourites.map((t) => slugs[t]!));
        favourites.set(readerId, f);
      }
      return f;
    };
    const byInterest = tallyBy(items, (x) => (favouriteOf(x.readerId).has(tag.get(x.articleId)!) ? 'favourite' : 'other'));
    expect(byInterest.get('favourite')!.shown).toBeGreaterThan(1000);
    expect(chiSquare(byInterest)).toBeLessThan(10.83);

    // The contrast: the click model's positions (and interests) are far from independent.
    const model = await run(parseWorld({ clickModel: { baseRate: 0.3 } }), { seed, readers: 3000 });
    expect(chiSquare(tallyBy(shownItems(model.events), (x) => x.position))).toBeGreaterThan(100);
  }, 30_000);

  it("has a widget CTR within ±30% of the default world's under `latest` at the default noise rate", async () => {
    const opts = { seed: 1, readers: 4000 };
    const ctr = (p: FakePlatform) =>
      p.events.filter((e) => e.type === 'click').length / p.events.filter((e) => e.type === 'impression').length;
    const [n, d] = await Promise.all([run(parseWorld(worldFile('noise')), opts), run(parseWorld({}), opts)]);
    expect(ctr(n) / ctr(d)).toBeGreaterThan(0.7);
    expect(ctr(n) / ctr(d)).toBeLessThan(1.3);
  }, 30_000);
});
