import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Article } from '../../../src/core/catalog/article.js';
import { isShowable } from '../../../src/core/recommend/catalog-index.js';
import { createRecommender } from '../../../src/core/recommend/kinds/index.js';
import { DEFAULT_PLACEMENT, parsePlacementConfig, type PlacementConfig } from '../../../src/core/recommend/placement.js';
import { composeSlate, type SlateRequest } from '../../../src/core/recommend/slate.js';
import type { Recommender } from '../../../src/core/recommend/types.js';
import { article, barePlacement, domainError, freshState, HOUR, MIN, NOW, read } from './helpers.js';

/** A recommender that returns a fixed list, best first, ignoring eligibility (composeSlate re-checks). */
const fixed = (kind: string, list: readonly string[]): Recommender => ({
  kind,
  version: '1',
  recommend: (_ctx, limit) => list.slice(0, limit).map((id, i) => ({ articleId: id, score: list.length - i, reason: kind })),
});
const throwing = (kind: string, thrown: unknown): Recommender => ({
  kind,
  version: '1',
  recommend: () => {
    throw thrown;
  },
});
const request = (placement: PlacementConfig, over: Partial<SlateRequest> = {}): SlateRequest => ({
  placement,
  articleId: 'cur',
  readerId: 'r1',
  sessionId: 's1',
  k: 5,
  now: NOW,
  ...over,
});
const ids = (s: { items: { articleId: string }[] }) => s.items.map((i) => i.articleId);

const fresh = NOW - 2 * HOUR;
const ok = (n: number, section: string | null = null) =>
  Array.from({ length: n }, (_, i) => article(`ok${i + 1}`, section, fresh - i * MIN));

describe('composeSlate: eligibility', () => {
  const articles: Article[] = [
    article('cur', 'news', fresh),
    ...ok(3),
    article('readA', null, fresh), // r1 read it
    article('ttl', null, NOW - 80 * HOUR), // past publishedAt + 72 h
    article('ttlEdge', null, NOW - 72 * HOUR), // expires exactly now: expired (expiry is exclusive)
    article('ownExpiry', null, NOW - 80 * HOUR, { expiresAt: NOW + HOUR }), // its own expiry replaces the TTL
    article('expired', null, fresh, { expiresAt: NOW - MIN }),
    article('embargoed', null, fresh, { embargoUntil: NOW + HOUR }),
    article('embargoLifted', null, fresh, { embargoUntil: NOW }), // lifted exactly now
    article('future', null, NOW + HOUR),
    article('publishedNow', null, NOW),
    article('unpublished', null, fresh, { status: 'unpublished' }),
    article('retracted', null, fresh, { status: 'retracted' }),
    article('blockedOne', null, fresh),
  ];
  const state = freshState(articles, [read('r1', 'readA', NOW - 10 * MIN)]);
  const all = [
    'cur',
    'ok1',
    'readA',
    'ttl',
    'ttlEdge',
    'ownExpiry',
    'expired',
    'embargoed',
    'embargoLifted',
    'future',
    'publishedNow',
    'unpublished',
    'retracted',
    'blockedOne',
    'ghost',
    'ok2',
    'ok3',
  ];
  const placement = barePlacement({ blocked: ['blockedOne'] });

  it("keeps only eligible articles, in the recommender's order", () => {
    const slate = composeSlate(state, [fixed('stub', all)], request(placement, { k: 20 }));
    expect(ids(slate)).toEqual(['ok1', 'ownExpiry', 'embargoLifted', 'publishedNow', 'ok2', 'ok3']);
    expect(slate.fallback).toBe(false);
    expect(slate.faults).toEqual([]);
  });

  it.each([
    ['the current article', 'cur'],
    ['an article the reader already read', 'readA'],
    ['an article past its TTL', 'ttl'],
    ['an article whose TTL ends exactly now', 'ttlEdge'],
    ['an article past its own expiresAt', 'expired'],
    ['an embargoed article', 'embargoed'],
    ['an article published in the future', 'future'],
    ['an unpublished article', 'unpublished'],
    ['a retracted article', 'retracted'],
    ['a blocked article', 'blockedOne'],
    ['an article unknown to the catalog', 'ghost'],
  ])('drops %s', (_what, id) => {
    expect(ids(composeSlate(state, [fixed('stub', [id, 'ok1'])], request(placement)))).toEqual(['ok1']);
  });

  it('the already-read filter is per reader: another reader may get readA', () => {
    expect(ids(composeSlate(state, [fixed('stub', ['readA'])], request(placement, { readerId: 'r2' })))).toEqual(['readA']);
    expect(ids(composeSlate(state, [fixed('stub', ['readA'])], request(placement, { readerId: null })))).toEqual(['readA']);
  });

  it('the TTL comes from the placement', () => {
    const longTtl = barePlacement({ ttlHours: 100 });
    expect(ids(composeSlate(state, [fixed('stub', ['ttl', 'ttlEdge'])], request(longTtl)))).toEqual(['ttl', 'ttlEdge']);
    // Agrees with isShowable, the rule every recommender shares.
    expect(isShowable(state.catalog.get('ttl')!, NOW, 100 * HOUR)).toBe(true);
  });
});

describe('composeSlate: pins, diversity, positions', () => {
  const articles = [
    article('cur', 'news', fresh),
    ...['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((id) => article(id, null, fresh)),
    article('p1', null, fresh),
    article('p2', null, fresh),
    article('pExpired', null, fresh, { expiresAt: NOW - MIN }),
    ...['pol1', 'pol2', 'pol3', 'pol4', 'polPin'].map((id) => article(id, 'politics', fresh)),
    ...['sp1', 'sp2'].map((id) => article(id, 'sport', fresh)),
    article('nosec1', null, fresh),
    article('nosec2', null, fresh),
  ];
  const state = freshState(articles);
  const chain = [fixed('stub', ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])];

  it('places pins at their 1-based slots and shifts the others down', () => {
    const slate = composeSlate(
      state,
      chain,
      request(
        barePlacement({
          pins: [
            { slot: 3, articleId: 'p2' },
            { slot: 1, articleId: 'p1' },
          ],
        }),
      ),
    );
    expect(ids(slate)).toEqual(['p1', 'c1', 'p2', 'c2', 'c3']);
    expect(slate.items.map((i) => i.source)).toEqual([-1, 0, -1, 0, 0]);
    expect(slate.items[0]).toEqual({ articleId: 'p1', position: 1, score: null, reason: "editor's pick", source: -1 });
  });

  it('skips an ineligible pin, and a pin past k', () => {
    const pins = [
      { slot: 2, articleId: 'pExpired' },
      { slot: 4, articleId: 'p1' },
      { slot: 6, articleId: 'p2' },
    ];
    expect(ids(composeSlate(state, chain, request(barePlacement({ pins }))))).toEqual(['c1', 'c2', 'c3', 'p1', 'c4']);
  });

  it('does not repeat a pinned article the recommender also returns', () => {
    const slate = composeSlate(
      state,
      [fixed('stub', ['c1', 'p1', 'c2', 'c3', 'c4'])],
      request(barePlacement({ pins: [{ slot: 2, articleId: 'p1' }] })),
    );
    expect(ids(slate)).toEqual(['c1', 'p1', 'c2', 'c3', 'c4']);
  });

  it('shows a pin whose slot lies past the filled items right after them', () => {
    const slate = composeSlate(state, [fixed('stub', ['c1', 'c2'])], request(barePlacement({ pins: [{ slot: 5, articleId: 'p1' }] })));
    expect(slate.items.map((i) => [i.articleId, i.position])).toEqual([
      ['c1', 1],
      ['c2', 2],
      ['p1', 3],
    ]);
  });

  it('shows an article pinned at two slots once (a config parsePlacementConfig accepts)', () => {
    const placement = {
      ...parsePlacementConfig('read-next', {
        fallbacks: [],
        maxPerSection: null,
        pins: [
          { slot: 1, articleId: 'p1' },
          { slot: 2, articleId: 'p1' },
        ],
      }),
    };
    const slate = composeSlate(state, chain, request(placement));
    expect(new Set(ids(slate)).size).toBe(slate.items.length);
    expect(ids(slate)).toEqual(['p1', 'c1', 'c2', 'c3', 'c4']);
  });

  it('caps items per section; unsectioned items and pins are not capped', () => {
    const stub = fixed('stub', ['pol1', 'pol2', 'pol3', 'sp1', 'nosec1', 'pol4', 'sp2', 'nosec2']);
    const capped = composeSlate(state, [stub], request(barePlacement({ maxPerSection: 2 }), { k: 10 }));
    expect(ids(capped)).toEqual(['pol1', 'pol2', 'sp1', 'nosec1', 'sp2', 'nosec2']);
    const withPin = composeSlate(
      state,
      [stub],
      request(barePlacement({ maxPerSection: 2, pins: [{ slot: 1, articleId: 'polPin' }] }), { k: 4 }),
    );
    expect(ids(withPin)).toEqual(['polPin', 'pol1', 'pol2', 'sp1']);
    const uncapped = composeSlate(state, [stub], request(barePlacement({ maxPerSection: null }), { k: 4 }));
    expect(ids(uncapped)).toEqual(['pol1', 'pol2', 'pol3', 'sp1']);
  });

  it('maps a non-finite score to null', () => {
    const nan: Recommender = { kind: 'nan', version: '1', recommend: () => [{ articleId: 'c1', score: Number.NaN, reason: 'x' }] };
    expect(composeSlate(state, [nan], request(barePlacement())).items[0]!.score).toBeNull();
  });

  it('property: positions are 1..n without gaps, no duplicates, all eligible, n ≤ k, the cap holds', () => {
    const pool = articles.map((a) => a.id).concat(['ghost']);
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...pool), { maxLength: 20 }), { minLength: 1, maxLength: 3 }),
        fc.uniqueArray(fc.record({ slot: fc.integer({ min: 1, max: 12 }), articleId: fc.constantFrom(...pool) }), {
          selector: (p) => p.slot,
          maxLength: 4,
        }),
        fc.integer({ min: 1, max: 10 }),
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
        (lists, pins, k, cap) => {
          const placement = barePlacement({ pins, maxPerSection: cap });
          const slate = composeSlate(
            state,
            lists.map((l, i) => fixed(`r${i}`, l)),
            request(placement, { k }),
          );
          const got = ids(slate);
          expect(slate.items.map((i) => i.position)).toEqual(got.map((_, i) => i + 1));
          expect(new Set(got).size).toBe(got.length);
          expect(got.length).toBeLessThanOrEqual(k);
          for (const id of got) expect(id !== 'cur' && isShowable(state.catalog.get(id)!, NOW, placement.ttlHours * HOUR)).toBe(true);
          if (cap !== null) {
            const per = new Map<string, number>();
            for (const it of slate.items) {
              const s = state.catalog.get(it.articleId)!.section;
              if (it.source >= 0 && s !== null) per.set(s, (per.get(s) ?? 0) + 1);
            }
            for (const n of per.values()) expect(n).toBeLessThanOrEqual(cap);
          }
        },
      ),
      { seed: 31337, numRuns: 500 },
    );
  });
});

describe('composeSlate: fallbacks and faults', () => {
  const state = freshState([
    article('cur', 'news', fresh),
    ...['c1', 'c2', 'f1', 'f2', 'f3', 'f4', 'g1'].map((id, i) => article(id, null, fresh - i * MIN)),
  ]);

  it('the primary alone fills the slate: no fallback', () => {
    const slate = composeSlate(state, [fixed('primary', ['c1', 'c2', 'f1', 'f2', 'f3']), fixed('fb', ['g1'])], request(barePlacement()));
    expect(ids(slate)).toEqual(['c1', 'c2', 'f1', 'f2', 'f3']);
    expect(slate.fallback).toBe(false);
  });

  it('the chain fills a short slate, in order, without duplicates, and sets fallback', () => {
    const slate = composeSlate(
      state,
      [fixed('primary', ['c1', 'c2']), fixed('fb1', ['c2', 'f1']), fixed('fb2', ['f1', 'f2', 'f3', 'f4'])],
      request(barePlacement()),
    );
    expect(ids(slate)).toEqual(['c1', 'c2', 'f1', 'f2', 'f3']);
    expect(slate.items.map((i) => i.source)).toEqual([0, 0, 1, 2, 2]);
    expect(slate.fallback).toBe(true);
  });

  it('works with the real heuristics: an empty co-read falls back to latest', () => {
    const chain = [createRecommender({ kind: 'co-read', version: '1' }, state), createRecommender({ kind: 'latest', version: '1' }, state)];
    const slate = composeSlate(state, chain, request(barePlacement()));
    expect(ids(slate)).toEqual(['c1', 'c2', 'f1', 'f2', 'f3']);
    expect(slate.items.every((i) => i.source === 1 && i.reason === 'latest')).toBe(true);
    expect(slate.fallback).toBe(true);
  });

  it('an unknown current article sets fallback even when the primary fills the slate', () => {
    const slate = composeSlate(
      state,
      [fixed('primary', ['c1', 'c2', 'f1', 'f2', 'f3'])],
      request(barePlacement(), { articleId: 'not-in-catalog' }),
    );
    expect(ids(slate)).toHaveLength(5);
    expect(slate.fallback).toBe(true);
    // No current article at all (a section front) is not a fallback.
    expect(
      composeSlate(state, [fixed('primary', ['c1', 'c2', 'f1', 'f2', 'f3'])], request(barePlacement(), { articleId: null })).fallback,
    ).toBe(false);
  });

  it('a recommender that throws is reported in faults and the next one fills the slate', () => {
    const chain = [throwing('boom', new Error('model file missing')), fixed('fb', ['c1', 'c2', 'f1', 'f2', 'f3'])];
    let slate: ReturnType<typeof composeSlate> | undefined;
    expect(() => (slate = composeSlate(state, chain, request(barePlacement())))).not.toThrow();
    expect(ids(slate!)).toEqual(['c1', 'c2', 'f1', 'f2', 'f3']);
    expect(slate!.faults).toEqual([{ index: 0, kind: 'boom', message: 'model file missing' }]);
    expect(slate!.fallback).toBe(true);
  });

  it('reports a throwing fallback too, and a thrown non-Error by its string', () => {
    const chain = [fixed('primary', ['c1']), throwing('bad-fb', 'plain string'), fixed('last', ['f1', 'f2', 'f3', 'f4'])];
    const slate = composeSlate(state, chain, request(barePlacement()));
    expect(ids(slate)).toEqual(['c1', 'f1', 'f2', 'f3', 'f4']);
    expect(slate.faults).toEqual([{ index: 1, kind: 'bad-fb', message: 'plain string' }]);
    expect(slate.fallback).toBe(true);
  });

  it('every recommender throwing gives an empty slate, not an exception', () => {
    const slate = composeSlate(state, [throwing('a', new Error('x')), throwing('b', new Error('y'))], request(barePlacement()));
    expect(slate.items).toEqual([]);
    expect(slate.faults.map((f) => f.index)).toEqual([0, 1]);
  });
});

describe('parsePlacementConfig', () => {
  it('fills the defaults', () => {
    expect(parsePlacementConfig('read-next', {})).toEqual({ ...DEFAULT_PLACEMENT });
    // defaultK is clamped to a smaller maxK when omitted.
    expect(parsePlacementConfig('read-next', { maxK: 3 }).defaultK).toBe(3);
  });

  it.each([
    ['an unknown field', { ttl: 5 }, 'unknown_field', 'ttl'],
    ['a name that differs from the path', { name: 'other' }, 'invalid_field', 'name'],
    ['an unknown field of live', { live: { kind: 'latest', version: '1', parms: {} } }, 'unknown_field', 'live.parms'],
    ['a live recommender without a version', { live: { kind: 'latest' } }, 'invalid_field', 'live.version'],
    ['a fallback without a kind', { fallbacks: [{ kind: 'latest', version: '1' }, { version: '1' }] }, 'missing_field', 'fallbacks/1.kind'],
    ['too many fallbacks', { fallbacks: new Array(11).fill({ kind: 'latest', version: '1' }) }, 'invalid_field', 'fallbacks'],
    ['defaultK above maxK', { maxK: 5, defaultK: 6 }, 'invalid_field', 'defaultK'],
    ['defaultK above the default maxK (20)', { defaultK: 21 }, 'invalid_field', 'defaultK'],
    ['maxK not an integer', { maxK: 2.5 }, 'invalid_field', 'maxK'],
    ['a zero ttlHours', { ttlHours: 0 }, 'invalid_field', 'ttlHours'],
    ['a negative ttlHours', { ttlHours: -1 }, 'invalid_field', 'ttlHours'],
    ['a NaN ttlHours', { ttlHours: Number.NaN }, 'invalid_field', 'ttlHours'],
    ['a ttlHours over ten years', { ttlHours: 87_601 }, 'invalid_field', 'ttlHours'],
    ['a string ttlHours', { ttlHours: '72' }, 'invalid_field', 'ttlHours'],
    ['a zero maxPerSection', { maxPerSection: 0 }, 'invalid_field', 'maxPerSection'],
    [
      'two pins at one slot',
      {
        pins: [
          { slot: 2, articleId: 'a' },
          { slot: 2, articleId: 'b' },
        ],
      },
      'invalid_field',
      'pins/1/slot',
    ],
    ['a pin at slot 0', { pins: [{ slot: 0, articleId: 'a' }] }, 'invalid_field', 'pins/0/slot'],
    ['an unknown field of a pin', { pins: [{ slot: 1, articleId: 'a', note: 'x' }] }, 'unknown_field', 'pins/0/note'],
    ['a pin with an empty article id', { pins: [{ slot: 1, articleId: '' }] }, 'invalid_field', 'pins/0/articleId'],
    ['a non-string blocked id', { blocked: ['a', 7] }, 'invalid_field', 'blocked/1'],
  ])('rejects %s, naming the field', (_what, input, code, field) => {
    const e = domainError(() => parsePlacementConfig('read-next', input));
    expect(e.code).toBe(code);
    expect(e.field).toBe(field);
  });

  it('rejects a bad placement name and a non-object body', () => {
    expect(domainError(() => parsePlacementConfig('Read Next', {})).field).toBe('name');
    expect(domainError(() => parsePlacementConfig('read-next', [])).code).toBe('invalid_body');
  });

  it('accepts the bounds', () => {
    const p = parsePlacementConfig('front_page-2', {
      maxK: 100,
      defaultK: 100,
      ttlHours: 87_600,
      maxPerSection: null,
      pins: [{ slot: 100, articleId: 'a' }],
      blocked: [],
    });
    expect([p.maxK, p.defaultK, p.ttlHours, p.maxPerSection]).toEqual([100, 100, 87_600, null]);
  });
});
