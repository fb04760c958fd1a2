import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Article } from '../../../src/core/catalog/article.js';
import { createRecommender } from '../../../src/core/recommend/kinds/index.js';
import type { PlacementConfig } from '../../../src/core/recommend/placement.js';
import { SHARED_MAX_AGE_MS, SharedSlates } from '../../../src/core/recommend/shared-slates.js';
import { composeSlate, type ComposedSlate, type SlateRequest } from '../../../src/core/recommend/slate.js';
import type { Recommender, RecommenderConfig } from '../../../src/core/recommend/types.js';
import { article, barePlacement, freshState, HOUR, MIN, NOW, read, view } from './helpers.js';

const SECTIONS = ['world', 'sport', 'business', null] as const;
const KINDS: RecommenderConfig[] = [
  { kind: 'co-read', version: '1', params: { minSupport: 1 } },
  { kind: 'same-section', version: '1' },
  { kind: 'popular', version: '1' },
  { kind: 'latest', version: '1' },
  { kind: 'latest', version: '2', params: { sameSection: true } },
];

/** What a reader sees of a slate (scores included: both paths rank at the same `now`). */
const view_ = (s: ComposedSlate) => ({
  items: s.items.map((i) => [i.articleId, i.position, i.score, i.reason, i.source]),
  fallback: s.fallback,
  faults: s.faults.length,
});

/**
 * 80 articles over the last 80 hours, a few unpublished, embargoed or with their own expiry; in
 * four sections, or (odd seeds) in two and a rare third, so that a section cap leaves most
 * candidates out and a walk reaches composeSlate's limit of candidates per recommender.
 */
function catalog(seed: number): Article[] {
  const section = (i: number) =>
    seed % 2 === 0 ? SECTIONS[(i + seed) % SECTIONS.length]! : (i + seed) % 25 === 0 ? 'business' : (['world', 'sport'] as const)[i % 2]!;
  return Array.from({ length: 80 }, (_, i) => {
    const h = (i * 7 + seed) % 80;
    const over: Partial<Article> = {};
    if ((i + seed) % 11 === 0) over.status = 'unpublished';
    if ((i + seed) % 13 === 0) over.embargoUntil = NOW + HOUR;
    if ((i + seed) % 17 === 0) over.expiresAt = NOW + 2 * HOUR;
    return article(`a${i}`, section(i), NOW - h * HOUR, over);
  });
}

describe('SharedSlates', () => {
  it("property: gives composeSlate's slate for every reader, article, k, chain, cap, pins and blocked list", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        // Reads: [reader, article] pairs, one minute apart, ending at NOW.
        fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 79 })), { maxLength: 120 }),
        fc.array(fc.integer({ min: 0, max: KINDS.length - 1 }), { minLength: 1, maxLength: 3 }),
        fc.record({
          cap: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
          pins: fc.uniqueArray(
            fc.record({ slot: fc.integer({ min: 1, max: 6 }), articleId: fc.integer({ min: 0, max: 79 }).map((i) => `a${i}`) }),
            { selector: (p) => p.slot, maxLength: 2 },
          ),
          blocked: fc.uniqueArray(
            fc.integer({ min: 0, max: 79 }).map((i) => `a${i}`),
            { maxLength: 3 },
          ),
          ttlHours: fc.constantFrom(24, 72),
        }),
        // Requests: [reader or anonymous, article (80 = unknown, 81 = none), k]
        fc.array(
          fc.tuple(
            fc.option(fc.integer({ min: 0, max: 9 }), { nil: null }),
            fc.integer({ min: 0, max: 81 }),
            fc.integer({ min: 1, max: 8 }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        (seed, reads, chainIdx, pc, requests) => {
          const signals = reads.map(([r, a], i) => (i % 3 === 0 ? view : read)(`r${r}`, `a${a}`, NOW - (reads.length - i) * MIN));
          const state = freshState(catalog(seed), signals);
          const placement: PlacementConfig = barePlacement({
            maxPerSection: pc.cap,
            pins: pc.pins,
            blocked: pc.blocked,
            ttlHours: pc.ttlHours,
          });
          const chain: Recommender[] = chainIdx.map((i) => createRecommender(KINDS[i]!, state));
          const shared = new SharedSlates(state);
          for (const [r, a, k] of requests) {
            const req: SlateRequest = {
              placement,
              articleId: a === 81 ? null : a === 80 ? 'unknown' : `a${a}`,
              readerId: r === null ? null : `r${r}`,
              sessionId: null,
              k,
              now: NOW,
            };
            const got = shared.compose(chain, req);
            expect(view_(got)).toEqual(view_(composeSlate(state, chain, req)));
            // An article handed along with an item is the catalog's current one.
            for (const it of got.items) if (it.article !== undefined) expect(it.article).toBe(state.catalog.get(it.articleId));
          }
          // Every request after the first of a key reused a ranking.
          expect(shared.counts.full).toBe(0);
        },
      ),
      { numRuns: 300, seed: 20261204 },
    );
  });

  it('filters the shared ranking per reader: what one reader read is still shown to another', () => {
    const articles = [article('cur', 'world', NOW - HOUR), ...['x', 'y', 'z'].map((id, i) => article(id, 'world', NOW - (2 + i) * HOUR))];
    // Readers of "cur" also read x, y, z; r1 has read x.
    const signals = ['u1', 'u2', 'r1'].flatMap((u, i) => [
      read(u, 'cur', NOW - 50 * MIN + i),
      read(u, 'x', NOW - 40 * MIN + i),
      read(u, 'y', NOW - 30 * MIN + i),
      read(u, 'z', NOW - 20 * MIN + i),
    ]);
    const state = freshState(articles, signals);
    const chain = [createRecommender({ kind: 'co-read', version: '1', params: { minSupport: 1 } }, state)];
    const shared = new SharedSlates(state);
    const placement = barePlacement(); // rankings are kept per placement config (a deploy makes a new one)
    const req = (readerId: string): SlateRequest => ({ placement, articleId: 'cur', readerId, sessionId: null, k: 3, now: NOW });
    expect(shared.compose(chain, req('r1')).items.map((i) => i.articleId)).toEqual([]);
    expect(
      shared
        .compose(chain, req('new'))
        .items.map((i) => i.articleId)
        .sort(),
    ).toEqual(['x', 'y', 'z']);
    expect(shared.counts).toMatchObject({ shared: 2, full: 0, rankings: 1 });
  });

  it('ranks again after SHARED_MAX_AGE_MS and at once after a catalog change; expiry applies per request', () => {
    const state = freshState([article('cur', null, NOW - HOUR), article('old', null, NOW - 72 * HOUR + 500)]);
    const chain = [createRecommender({ kind: 'latest', version: '1' }, state)];
    const shared = new SharedSlates(state);
    const placement = barePlacement();
    const at = (now: number): string[] =>
      shared.compose(chain, { placement, articleId: 'cur', readerId: null, sessionId: null, k: 5, now }).items.map((i) => i.articleId);
    expect(at(NOW)).toEqual(['old']);
    // "old" expires 500 ms later: the ranking made at NOW still holds it, the request drops it.
    expect(at(NOW + 600)).toEqual([]);
    // A new article is seen at once (the catalog moved)...
    state.upsertArticles([article('new', null, NOW)]);
    expect(at(NOW + 700)).toEqual(['new']);
    // ...and one whose publication time arrives later is seen once the ranking is SHARED_MAX_AGE_MS old.
    state.upsertArticles([article('later', null, NOW + 800)]);
    expect(at(NOW + 750)).toEqual(['new']);
    expect(at(NOW + 900)).toEqual(['new']);
    expect(at(NOW + 750 + SHARED_MAX_AGE_MS)).toEqual(['later', 'new']);
  });

  it('takes the full path for a recommender without a share key, and reports a throwing one as composeSlate does', () => {
    const state = freshState([article('cur', null, NOW - HOUR), article('a', null, NOW - 2 * HOUR)]);
    const personal: Recommender = {
      kind: 'model',
      version: '1',
      recommend: (ctx) => (ctx.readerId === 'r1' ? [{ articleId: 'a', score: 1, reason: 'model' }] : []),
    };
    const broken: Recommender = {
      kind: 'broken',
      version: '1',
      shareKey: () => '',
      recommend: () => {
        throw new Error('boom');
      },
    };
    const latest = createRecommender({ kind: 'latest', version: '1' }, state);
    const shared = new SharedSlates(state);
    const req = (readerId: string): SlateRequest => ({
      placement: barePlacement(),
      articleId: 'cur',
      readerId,
      sessionId: null,
      k: 2,
      now: NOW,
    });
    expect(shared.compose([personal], req('r1')).items.map((i) => i.articleId)).toEqual(['a']);
    expect(shared.compose([personal], req('r2')).items).toEqual([]);
    const s = shared.compose([broken, latest], req('r1'));
    expect(s.faults).toEqual([{ index: 0, kind: 'broken', message: 'boom' }]);
    expect(s.items.map((i) => i.articleId)).toEqual(['a']);
    expect(s.fallback).toBe(true);
    expect(shared.counts).toMatchObject({ shared: 0, full: 3 });
  });
});
