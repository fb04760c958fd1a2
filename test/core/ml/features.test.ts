import { describe, expect, it } from 'vitest';
import type { Article } from '../../../src/core/catalog/article.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { buildExamples, positionWeights, splitAt, type TrainingEvent } from '../../../src/core/ml/examples.js';
import { DEFAULT_FEATURE_PARAMS, FEATURE_NAMES, FEATURE_SPEC, FeatureState, tokenize } from '../../../src/core/ml/features.js';
import { DecayedSums } from '../../../src/core/recommend/decay.js';
import { CoVisitation } from '../../../src/core/recommend/signals.js';
import { CatalogIndex } from '../../../src/core/recommend/catalog-index.js';
import { FreshState } from '../../../src/core/recommend/fresh-state.js';
import { syntheticArticle } from '../../../src/core/simulate/synthetic.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const MIN = 60_000;
const col = (name: (typeof FEATURE_NAMES)[number]) => FEATURE_NAMES.indexOf(name);

const SECTIONS = ['Sports', 'Business and economy', 'Law and crime'];
const WORDS = ['election', 'striker', 'bank', 'court', 'goal', 'rates', 'verdict', 'league', 'market', 'judge'];

function articles(idOnly: boolean): Article[] {
  const rng = seededRng(3);
  return Array.from({ length: 30 }, (_, i) => {
    const id = `a${i}`;
    if (idOnly) return { ...syntheticArticle(id, null, T0 - (30 - i) * 20 * MIN, id) };
    const title = `${rng.pick(WORDS)} ${rng.pick(WORDS)} ${rng.pick(WORDS)}`;
    return { ...syntheticArticle(id, SECTIONS[i % 3]!, T0 - (30 - i) * 20 * MIN, title), tags: [`t${i % 5}`], paywalled: i % 4 === 0 };
  });
}

/** A small log in time order: sessions of reads, each read page showing 4 items, some clicked. */
function log(seed: number, n = 400): TrainingEvent[] {
  const rng = seededRng(seed);
  const out: TrainingEvent[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    t += 1 + rng.int(3 * MIN);
    const readerId = `r${rng.int(15)}`;
    const articleId = `a${rng.int(30)}`;
    out.push({ type: 'read', readerId, clientTs: t, articleId });
    const recommId = `rec${i}`;
    const items = [0, 1, 2, 3].map((p) => ({
      articleId: `a${(Number(articleId.slice(1)) + 1 + p * 3 + rng.int(3)) % 30}`,
      position: p + 1,
    }));
    const unique = items.filter((x, j) => items.findIndex((z) => z.articleId === x.articleId) === j);
    out.push({ type: 'impression', readerId, clientTs: t + 500, articleId, recommId, placement: 'read-next', items: unique });
    if (rng.next() < 0.3) {
      const c = unique[rng.int(unique.length)]!;
      out.push({ type: 'click', readerId, clientTs: t + 1000, articleId: c.articleId, recommId });
    }
  }
  return out;
}

describe('features', () => {
  it('has about 25 named features and a version', () => {
    expect(FEATURE_SPEC.names.length).toBe(25);
    expect(new Set(FEATURE_SPEC.names).size).toBe(25);
    expect(FEATURE_SPEC.version).toBe(2);
  });

  it("are causal: an impression's features are the same whatever happens after it", () => {
    const catalog = new CatalogIndex(articles(false));
    const events = log(11);
    const full = buildExamples(events, catalog);
    expect(full.n).toBeGreaterThan(1000);
    for (const cut of [0.2, 0.5, 0.8]) {
      const cutTs = events[Math.floor(events.length * cut)]!.clientTs;
      const before = buildExamples(
        events.filter((e) => e.clientTs < cutTs),
        catalog,
      );
      // Every impression before the cut has the same rows, whatever came after it.
      const rows = before.n;
      expect(Array.from(full.X.subarray(0, rows * full.d))).toEqual(Array.from(before.X));
      expect(Array.from(full.ts.subarray(0, rows))).toEqual(Array.from(before.ts));
    }
  });

  it('computing features never changes the state', () => {
    const catalog = new CatalogIndex(articles(false));
    const fs = new FeatureState(catalog);
    for (const e of log(5, 50))
      if (e.type === 'read') fs.add({ kind: 'read', readerId: e.readerId, articleId: e.articleId!, ts: e.clientTs });
    const q = { readerId: 'r1', articleId: 'a3', ts: T0 + 200 * MIN };
    const a = fs.features(q, ['a1', 'a2', 'a4']);
    fs.features({ ...q, readerId: 'r2' }, ['a1', 'a5']);
    fs.candidates(q, () => true);
    expect(Array.from(fs.features(q, ['a1', 'a2', 'a4']))).toEqual(Array.from(a));
  });

  it('counts impressions and clicks into CTR and shown-without-click', () => {
    const fs = new FeatureState(new CatalogIndex(articles(false)));
    fs.shown('r', ['a1', 'a2'], T0);
    fs.shown('r', ['a1', 'a2'], T0 + 1000);
    fs.add({ kind: 'click', readerId: 'r', articleId: 'a2', ts: T0 + 2000 });
    const X = fs.features({ readerId: 'r', articleId: null, ts: T0 + 3000 }, ['a1', 'a2', 'a9']);
    const d = FEATURE_NAMES.length;
    const at = (row: number, name: (typeof FEATURE_NAMES)[number]) => X[row * d + col(name)]!;
    expect(at(0, 'reader_shown')).toBe(2);
    expect(at(1, 'reader_shown')).toBe(0); // clicked since
    expect(at(0, 'ctr')).toBeLessThan(at(2, 'ctr')); // shown twice, never clicked: below the prior
    expect(at(1, 'ctr')).toBeGreaterThan(at(2, 'ctr'));
    expect(at(2, 'impressions')).toBe(0);
    expect(at(0, 'has_context')).toBe(0);
  });

  it("the reader's features are those of a recount in plain Maps: sections, topics, shown since a click (the oldest 200 kept), session, reads", () => {
    // A reference written apart from FeatureState's profile (compact typed arrays): the same rules
    // on Maps and arrays of objects, compared value for value (Float32, so exactly).
    const rng = seededRng(11);
    const catalogArticles = Array.from({ length: 260 }, (_, i) => ({
      ...syntheticArticle(`b${i}`, i % 5 === 4 ? null : SECTIONS[i % 3]!, T0 - (260 - i) * MIN, `b${i}`),
      tags: Array.from({ length: rng.int(4) }, () => `t${rng.int(40)}`).filter((t, j, all) => all.indexOf(t) === j),
    }));
    const catalog = new CatalogIndex(catalogArticles);
    const byId = new Map(catalogArticles.map((a) => [a.id, a]));
    const fs = new FeatureState(catalog);
    interface Ref {
      reads: { id: string; ts: number }[];
      total: number;
      sections: Map<string, number>;
      sectioned: number;
      tags: Map<string, number>;
      tagged: number;
      shown: Map<string, number>;
    }
    const refs = new Map<string, Ref>();
    const ref = (r: string): Ref => {
      let p = refs.get(r);
      if (!p) refs.set(r, (p = { reads: [], total: 0, sections: new Map(), sectioned: 0, tags: new Map(), tagged: 0, shown: new Map() }));
      return p;
    };
    const readers = ['r0', 'r1', 'r2'];
    let t = T0;
    const check = () => {
      const ids = catalogArticles.map((a) => a.id);
      for (const readerId of readers) {
        const p = ref(readerId);
        const X = fs.features({ readerId, articleId: 'b7', ts: t }, ids);
        const d = FEATURE_NAMES.length;
        let depth = 0;
        for (let i = p.reads.length - 1, next = t; i >= 0; i--) {
          if (p.reads[i]!.ts > t) continue;
          if (next - p.reads[i]!.ts > DEFAULT_FEATURE_PARAMS.sessionGapMs) break;
          depth++;
          next = p.reads[i]!.ts;
        }
        ids.forEach((id, row) => {
          const a = byId.get(id)!;
          const section =
            a.section === null || p.sectioned === 0 ? -1 : ((p.sections.get(a.section) ?? 0) + 1) / (p.sectioned + p.sections.size + 1);
          const topic = a.tags.length === 0 || p.tagged === 0 ? -1 : Math.max(0, ...a.tags.map((g) => (p.tags.get(g) ?? 0) / p.tagged));
          const want = [section, topic, Math.min(20, p.shown.get(id) ?? 0), depth, Math.log1p(p.total)];
          const got = ['reader_section_share', 'reader_topic_share', 'reader_shown', 'session_depth', 'reader_reads'].map(
            (name) => X[row * d + col(name as (typeof FEATURE_NAMES)[number])]!,
          );
          expect(got).toEqual(Array.from(Float32Array.from(want)));
        });
        expect(fs.history(readerId)).toEqual(p.reads.map((r) => r.id).reverse());
      }
    };
    let evicted = 0;
    for (let i = 0; i < 2500; i++) {
      t += rng.int(40 * MIN);
      const readerId = rng.pick(readers);
      const p = ref(readerId);
      const articleId = `b${rng.int(i < 1500 ? 260 : 30)}`; // later, a few articles read again and again
      const u = rng.next();
      if (u < 0.4) {
        fs.add({ kind: rng.next() < 0.2 ? 'view' : 'read', readerId, articleId, ts: t });
        const at = p.reads.findIndex((r) => r.id === articleId);
        if (at >= 0) {
          const [r] = p.reads.splice(at, 1);
          r!.ts = Math.max(r!.ts, t);
          p.reads.push(r!);
          continue;
        }
        p.reads.push({ id: articleId, ts: t });
        if (p.reads.length > 20) p.reads.shift();
        p.total++;
        const a = byId.get(articleId)!;
        if (a.section) {
          p.sections.set(a.section, (p.sections.get(a.section) ?? 0) + 1);
          p.sectioned++;
        }
        if (a.tags.length > 0) {
          for (const g of a.tags) p.tags.set(g, (p.tags.get(g) ?? 0) + 1);
          p.tagged++;
        }
      } else if (u < 0.9) {
        const shown = Array.from({ length: 5 }, (_, k) => `b${(rng.int(260) + k * 50) % 260}`).filter((x, j, all) => all.indexOf(x) === j);
        fs.shown(readerId, shown, t);
        for (const id of shown) {
          p.shown.set(id, (p.shown.get(id) ?? 0) + 1);
          if (p.shown.size > 200) {
            p.shown.delete(p.shown.keys().next().value!);
            evicted++;
          }
        }
      } else {
        fs.add({ kind: 'click', readerId, articleId, ts: t });
        p.shown.delete(articleId);
      }
      if (i % 250 === 249) check();
    }
    expect(evicted).toBeGreaterThan(100);
    expect([...refs.values()].some((p) => p.tags.size > 20 && p.sections.size === 3 && p.total > 100)).toBe(true);
  });

  it('degrade to neutral values on ID-only data', () => {
    const catalog = new CatalogIndex(articles(true));
    const set = buildExamples(log(7), catalog);
    const neutral: [string, number][] = [
      ['text_ctx', 0],
      ['text_hist_max', 0],
      ['text_known', 0],
      ['same_section', -1],
      ['reader_section_share', -1],
      ['reader_topic_share', -1],
      ['paywall', 0],
    ];
    for (const [name, v] of neutral) {
      const c = FEATURE_NAMES.indexOf(name as (typeof FEATURE_NAMES)[number]);
      for (let i = 0; i < set.n; i++) expect(set.X[i * set.d + c]).toBe(v);
    }
    // The co-read and popularity features still vary.
    const co = new Set(Array.from({ length: set.n }, (_, i) => set.X[i * set.d + col('pop_long')]));
    expect(co.size).toBeGreaterThan(10);
  });

  it('use title and lead when articles have text', () => {
    const cat = new CatalogIndex([
      { ...syntheticArticle('x', 'Sports', T0, 'Striker scores late goal in league final') },
      { ...syntheticArticle('y', 'Sports', T0, 'League final: late goal decides it') },
      { ...syntheticArticle('z', 'Business and economy', T0, 'Central bank raises rates') },
    ]);
    const fs = new FeatureState(cat);
    const X = fs.features({ readerId: null, articleId: 'x', ts: T0 + MIN }, ['y', 'z']);
    const d = FEATURE_NAMES.length;
    expect(X[col('text_ctx')]).toBeGreaterThan(0.3);
    expect(X[d + col('text_ctx')]).toBe(0);
    expect(X[col('same_section')]).toBe(1);
    expect(X[d + col('same_section')]).toBe(0);
    expect(tokenize('The Striker’s GOAL, in 2026!')).toEqual(['striker', 'goal', '2026']);
  });

  it('text vectors depend on the catalog only: the same rows whatever was asked before, or when the catalog grew', () => {
    const bits = (X: Float32Array) => Array.from(new Uint32Array(X.buffer, X.byteOffset, X.length));
    const all = articles(false);
    const events = log(6, 200);
    const feed = (fs: FeatureState) => {
      for (const e of events)
        if (e.type === 'read') fs.add({ kind: 'read', readerId: e.readerId, articleId: e.articleId!, ts: e.clientTs });
    };
    // 1. One state queried for every article in catalog order, one in reverse, one not before the final queries.
    const states = [0, 1, 2].map(() => new FeatureState(new CatalogIndex(all)));
    const ids = all.map((a) => a.id);
    const ts = T0 + 300 * MIN;
    for (const id of ids) states[0]!.features({ readerId: null, articleId: id, ts }, ids);
    for (const id of [...ids].reverse()) states[1]!.candidates({ readerId: 'r1', articleId: id, ts }, () => true);
    // 2. A catalog that grows as articles are published (serving), with one article arriving late, backdated.
    const grown = new CatalogIndex();
    const live = new FeatureState(grown);
    const late = all[12]!;
    for (const a of all) {
      if (a === late) continue;
      grown.upsert([a]);
      live.features({ readerId: null, articleId: a.id, ts: a.publishedAt }, ids);
    }
    grown.upsert([late]);
    for (const fs of [...states, live]) feed(fs);
    const queries = [
      { readerId: 'r1', articleId: 'a3', ts: T0 + 400 * MIN },
      { readerId: 'r4', articleId: 'a20', ts: T0 + 400 * MIN },
      { readerId: 'r7', articleId: null, ts: T0 + 400 * MIN },
    ];
    for (const q of queries) {
      const want = bits(states[2]!.features(q, ids));
      expect(bits(states[0]!.features(q, ids))).toEqual(want);
      expect(bits(states[1]!.features(q, ids))).toEqual(want);
      expect(bits(live.features(q, ids))).toEqual(want);
    }
    const X = states[2]!.features(queries[0]!, ids);
    expect(new Set(ids.map((_, i) => X[i * FEATURE_NAMES.length + col('text_ctx')])).size).toBeGreaterThan(3);
    // 3. Editing a title changes that article's vector and the vectors of later ones, as a fresh state computes them.
    grown.upsert([{ ...all[5]!, title: 'court verdict judge striker' }]);
    const fresh = new FeatureState(new CatalogIndex(grown.latest()));
    feed(fresh);
    for (const q of queries) expect(bits(live.features(q, ids))).toEqual(bits(fresh.features(q, ids)));
    expect(bits(live.features(queries[0]!, ids))).not.toEqual(bits(states[2]!.features(queries[0]!, ids)));
  });

  it('keeps decayed counts per article as DecayedSums computes them, bit for bit, across frame moves', () => {
    const fs = new FeatureState(new CatalogIndex(articles(false)));
    const short = new DecayedSums(DEFAULT_FEATURE_PARAMS.popShortHalfLifeMs);
    const long = new DecayedSums(DEFAULT_FEATURE_PARAMS.popLongHalfLifeMs);
    const imps = new DecayedSums(DEFAULT_FEATURE_PARAMS.ctrHalfLifeMs);
    const clicks = new DecayedSums(DEFAULT_FEATURE_PARAMS.ctrHalfLifeMs);
    const rng = seededRng(8);
    const ids = articles(false).map((a) => a.id);
    let t = T0;
    // 20 days of events: more than 200 half-lives of 1 h, so the 1 h frame moves (DecayedSums.rebase) several times.
    for (let i = 0; i < 3000; i++) {
      t += rng.int(20 * MIN);
      const id = ids[rng.int(8)]!;
      const k = rng.next();
      if (k < 0.5) {
        fs.add({ kind: 'read', readerId: `r${rng.int(9)}`, articleId: id, ts: t });
        for (const s of [short, long]) s.add(id, 1, t);
      } else if (k < 0.6) {
        fs.add({ kind: 'click', readerId: `r${rng.int(9)}`, articleId: id, ts: t });
        for (const s of [short, long, clicks]) s.add(id, 1, t);
      } else {
        fs.shown(`r${rng.int(9)}`, [id], t);
        imps.add(id, 1, t);
      }
    }
    const X = fs.features({ readerId: null, articleId: null, ts: t + MIN }, ids);
    const d = FEATURE_NAMES.length;
    ids.forEach((id, i) => {
      expect(X[i * d + col('pop_short')]).toBe(Math.fround(Math.log1p(short.get(id, t + MIN))));
      expect(X[i * d + col('pop_long')]).toBe(Math.fround(Math.log1p(long.get(id, t + MIN))));
      expect(X[i * d + col('impressions')]).toBe(Math.fround(Math.log1p(imps.get(id, t + MIN))));
      expect(X[i * d + col('clicks')]).toBe(Math.fround(Math.log1p(clicks.get(id, t + MIN))));
    });
    expect(X[col('pop_short')]).toBeGreaterThan(0);
  });

  it('co-read and text features kept between requests are those computed afresh, while reads change the co-read rows', () => {
    // 1,200 articles with text, so one similarity row holds more than its 1,000 cosines and starts again.
    const rng = seededRng(21);
    const many = Array.from({ length: 1200 }, (_, i) =>
      syntheticArticle(`m${i}`, SECTIONS[i % 3]!, T0 - (1200 - i) * MIN, `${rng.pick(WORDS)} ${rng.pick(WORDS)} ${rng.pick(WORDS)}`),
    );
    const catalog = new CatalogIndex(many);
    const ids = many.map((a) => a.id);
    const fs = new FeatureState(catalog);
    const co = new CoVisitation(DEFAULT_FEATURE_PARAMS.coRead);
    const d = FEATURE_NAMES.length;
    let t = T0;
    for (let round = 0; round < 40; round++) {
      // Reads between requests: the co-read rows of their articles (and of the reader's last reads) change.
      for (let k = 0; k < 15; k++) {
        t += 1 + rng.int(2 * MIN);
        const s = { kind: 'read' as const, readerId: `r${rng.int(6)}`, articleId: ids[rng.int(40)]!, ts: t };
        fs.add(s);
        co.add(s);
      }
      const readerId = `r${rng.int(6)}`;
      const ctx = ids[rng.int(40)]!;
      // Candidates: read ones, never-read ones and a repeated id.
      const cands = [...Array.from({ length: 30 }, () => ids[rng.int(60)]!), ids[rng.int(40)]!];
      cands.push(cands[3]!);
      const q = { readerId, articleId: ctx, ts: t + 1000 };
      const X = fs.features(q, cands);
      const seeds = fs.history(readerId).slice(0, 5);
      const fresh = new FeatureState(catalog).features({ ...q, readerId: null, history: seeds }, cands);
      cands.forEach((b, i) => {
        const at = (name: (typeof FEATURE_NAMES)[number]) => X[i * d + col(name)];
        const jaccard = (a: string) => {
          const c = co.co(a, b, q.ts);
          return c > 0 ? c / Math.max(co.count(a, q.ts) + co.count(b, q.ts) - c, 1e-12) : 0;
        };
        expect(at('co_ctx_jaccard')).toBe(Math.fround(jaccard(ctx)));
        expect(at('co_ctx_count')).toBe(Math.fround(Math.log1p(co.co(ctx, b, q.ts))));
        const js = seeds.map(jaccard);
        expect(at('co_hist_max')).toBe(Math.fround(Math.max(0, ...js)));
        expect(at('co_hist_sum')).toBe(Math.fround(js.reduce((x, y) => x + y, 0)));
        expect(at('text_ctx')).toBe(fresh[i * d + col('text_ctx')]);
        expect(at('text_hist_max')).toBe(fresh[i * d + col('text_hist_max')]);
      });
      // Every article against one context: more cosines than a row keeps.
      if (round % 10 === 0) {
        const all = fs.features({ readerId: null, articleId: ctx, ts: t + 1000 }, ids);
        const again = new FeatureState(catalog).features({ readerId: null, articleId: ctx, ts: t + 1000 }, ids);
        ids.forEach((_, i) => expect(all[i * d + col('text_ctx')]).toBe(again[i * d + col('text_ctx')]));
      }
    }
    expect(fs.features({ readerId: null, articleId: ids[0]!, ts: t }, ids).some((v, k) => k % d === col('co_ctx_jaccard') && v > 0)).toBe(
      true,
    );
  });

  it("the scratch arrays' request stamps start again at their limit without changing a candidate or a row", () => {
    const all = articles(false);
    const events = log(9, 300);
    const feed = (fs: FeatureState) => {
      for (const e of events) {
        if (e.type === 'read') fs.add({ kind: 'read', readerId: e.readerId, articleId: e.articleId!, ts: e.clientTs });
        if (e.type === 'impression')
          fs.shown(
            e.readerId,
            e.items!.map((i) => i.articleId),
            e.clientTs,
          );
      }
    };
    const worn = new FeatureState(new CatalogIndex(all));
    const fresh = new FeatureState(new CatalogIndex(all));
    feed(worn);
    feed(fresh);
    // Two requests before the Int32 limit (0x7fffffff): the third starts again from 1.
    const stamps = worn as unknown as { requestStamp: number; rowStamp: number; tagStamp: number };
    stamps.requestStamp = stamps.rowStamp = stamps.tagStamp = 0x7fffffff - 2;
    const ts = events.at(-1)!.clientTs + MIN;
    for (let i = 0; i < 6; i++) {
      const q = { readerId: `r${i % 3}`, articleId: `a${(i * 7) % 30}`, ts };
      const eligible = (id: string) => id !== q.articleId;
      const a = worn.candidates(q, eligible, 40);
      const b = fresh.candidates(q, eligible, 40);
      expect(a).toEqual(b);
      expect(new Set(a).size).toBe(a.length);
      expect(Array.from(worn.features(q, a))).toEqual(Array.from(fresh.features(q, b)));
    }
    expect(stamps.requestStamp).toBeLessThan(10);
    expect(stamps.rowStamp).toBeLessThan(10);
  });

  it('proposes co-read, content, popular and latest candidates, eligible ones only, capped', () => {
    const catalog = new CatalogIndex(articles(false));
    const fs = new FeatureState(catalog);
    for (const e of log(9, 200))
      if (e.type === 'read') fs.add({ kind: 'read', readerId: e.readerId, articleId: e.articleId!, ts: e.clientTs });
    const q = { readerId: 'r1', articleId: 'a3', ts: T0 + 1000 * MIN };
    const all = fs.candidates(q, (id) => id !== 'a3');
    expect(all.length).toBeGreaterThan(20);
    expect(all).not.toContain('a3');
    expect(new Set(all).size).toBe(all.length);
    expect(fs.candidates(q, () => true, 5)).toHaveLength(5);
    expect(fs.candidates(q, (id) => id === 'a7')).toEqual(['a7']);
  });

  it('asks eligibility once per id; a horizon (content and latest scans stop there) changes nothing eligibility accepts', () => {
    const catalog = new CatalogIndex(articles(false));
    const fs = new FeatureState(catalog);
    for (const e of log(9, 200))
      if (e.type === 'read') fs.add({ kind: 'read', readerId: e.readerId, articleId: e.articleId!, ts: e.clientTs });
    const q = { readerId: 'r1', articleId: 'a25', ts: T0 + 1000 * MIN };
    // Eligible: published in the last 5 hours (a horizon as a TTL would set it), not the current article.
    const horizon = T0 - 5 * 60 * MIN;
    const asked: string[] = [];
    const eligible = (id: string) => {
      asked.push(id);
      return id !== 'a25' && catalog.get(id)!.publishedAt >= horizon;
    };
    const all = fs.candidates(q, eligible);
    expect(new Set(asked).size).toBe(asked.length);
    expect(all.length).toBeGreaterThan(5);
    expect(all.every((id) => catalog.get(id)!.publishedAt >= horizon)).toBe(true);
    expect(fs.candidates(q, eligible, 200, horizon)).toEqual(all);
  });

  it('are the same when FreshState builds the feature state later from its retained log', () => {
    const catalog = articles(false);
    const early = new FreshState({ signalCapacity: 10_000, maxReaders: 100, historyPerReader: 50 });
    const late = new FreshState({ signalCapacity: 10_000, maxReaders: 100, historyPerReader: 50 });
    early.upsertArticles(catalog);
    late.upsertArticles(catalog);
    const make = (s: FreshState) => () => new FeatureState(s.catalog);
    const fe = early.observer('f', make(early));
    for (const e of log(4, 100)) {
      for (const s of [early, late]) {
        if (e.type === 'impression')
          s.addImpression(
            e.readerId,
            e.items!.map((i) => i.articleId),
            e.clientTs,
          );
        else s.add({ kind: e.type === 'click' ? 'click' : 'read', readerId: e.readerId, articleId: e.articleId!, ts: e.clientTs });
      }
    }
    const fl = late.observer('f', make(late));
    expect(
      late.observer('f', () => {
        throw new Error('created twice');
      }),
    ).toBe(fl);
    const q = { readerId: 'r2', articleId: 'a4', ts: T0 + 400 * MIN };
    const ids = ['a1', 'a5', 'a6', 'a7', 'a8'];
    expect(Array.from(fl.features(q, ids))).toEqual(Array.from(fe.features(q, ids)));
  });
});

describe('examples', () => {
  it('label the clicked candidates of each impression and weight clicks by position', () => {
    const set = buildExamples(log(2), new CatalogIndex(articles(false)), { placement: 'read-next' });
    const clicks = log(2).filter((e) => e.type === 'click').length;
    expect(set.y.reduce((a, b) => a + b, 0)).toBe(clicks);
    expect(set.impressions).toBe(400);
    const { weights, propensity } = positionWeights(set);
    expect(propensity[1]).toBe(1);
    for (let i = 0; i < set.n; i++) expect(weights[i]).toBe(Math.fround(set.y[i] ? 1 / propensity[set.position[i]!]! : 1));
    expect(buildExamples(log(2), new CatalogIndex(articles(false)), { placement: 'other' }).n).toBe(0);
    const [a, b] = splitAt(set, set.ts[Math.floor(set.n / 2)]!);
    expect(a.n + b.n).toBe(set.n);
    expect(b.group[0]).toBe(0);
    expect(a.impressions + b.impressions).toBe(set.impressions);
  });
});
