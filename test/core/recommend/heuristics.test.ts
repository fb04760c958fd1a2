import { describe, expect, it } from 'vitest';
import { createRecommender } from '../../../src/core/recommend/kinds/index.js';
import type { RecommenderConfig } from '../../../src/core/recommend/types.js';
import { article, click, context, domainError, freshState, HOUR, MIN, NOW, read, view } from './helpers.js';

// Scores are compared to hand-worked values at 1e-12 relative (toBeCloseTo(x, 12) is absolute
// 0.5e-12; every score here is of order 1): the only arithmetic is a few pow() and divisions.
const ids = (cs: readonly { articleId: string }[]) => cs.map((c) => c.articleId);
const rec = (config: Omit<RecommenderConfig, 'version'>, state: ReturnType<typeof freshState>) =>
  createRecommender({ version: '1', ...config }, state);

describe('none', () => {
  it('recommends nothing', () => {
    const state = freshState([article('a', 'x', NOW - HOUR)]);
    expect(rec({ kind: 'none' }, state).recommend(context(state), 5)).toEqual([]);
  });
});

describe('latest', () => {
  const state = freshState([
    article('l1', 'politics', NOW - 1 * HOUR),
    article('l2', 'sport', NOW - 2 * HOUR),
    article('l3', 'politics', NOW - 3 * HOUR),
    article('l4', 'politics', NOW - 3 * HOUR), // same time as l3: ties go by id
    article('l5', null, NOW - 30 * MIN),
    article('future', 'politics', NOW + HOUR), // not published yet
    article('old', 'politics', NOW - 100 * HOUR), // past the 72 h TTL
  ]);

  it('lists eligible articles newest first, without the current one', () => {
    const out = rec({ kind: 'latest' }, state).recommend(context(state, { articleId: 'l1' }), 10);
    expect(ids(out)).toEqual(['l5', 'l2', 'l3', 'l4']);
    expect(out.map((c) => c.score)).toEqual([NOW - 30 * MIN, NOW - 2 * HOUR, NOW - 3 * HOUR, NOW - 3 * HOUR]);
    expect(out[0]!.reason).toBe('latest');
  });

  it('stops at the limit', () => {
    expect(ids(rec({ kind: 'latest' }, state).recommend(context(state, { articleId: 'l1' }), 2))).toEqual(['l5', 'l2']);
  });

  it("sameSection keeps to the current article's section", () => {
    const r = rec({ kind: 'latest', params: { sameSection: true } }, state);
    const out = r.recommend(context(state, { articleId: 'l1' }), 10);
    expect(ids(out)).toEqual(['l3', 'l4']);
    expect(out[0]!.reason).toBe('latest in politics');
    // No current article, or one without a section: the global list.
    expect(ids(r.recommend(context(state), 10))).toEqual(['l5', 'l1', 'l2', 'l3', 'l4']);
    expect(ids(r.recommend(context(state, { articleId: 'l5' }), 10))).toEqual(['l1', 'l2', 'l3', 'l4']);
  });
});

describe('popular', () => {
  // Half-life 30 min (the default), read and click weight 1, views weight 0:
  //   p1: 3 reads 60 min ago -> 3 · 2^(-60/30) = 0.75
  //   p2: 1 read now         -> 1 · 2^0       = 1
  //   p3: 1 click 30 min ago -> 1 · 2^(-30/30) = 0.5
  //   p4: 10 views now       -> 0 (views do not count: not ranked at all)
  const articles = ['p1', 'p2', 'p3', 'p4', 'cur'].map((id) => article(id, 'news', NOW - 5 * HOUR));
  const signals = [
    read('r1', 'p1', NOW - 60 * MIN),
    read('r2', 'p1', NOW - 60 * MIN),
    read('r3', 'p1', NOW - 60 * MIN),
    read('r4', 'p2', NOW),
    click('r5', 'p3', NOW - 30 * MIN),
    ...Array.from({ length: 10 }, (_, i) => view(`v${i}`, 'p4', NOW)),
  ];

  it('ranks by decayed reads + clicks (hand-worked)', () => {
    const state = freshState(articles, signals);
    const out = rec({ kind: 'popular' }, state).recommend(context(state, { articleId: 'cur' }), 10);
    expect(ids(out)).toEqual(['p2', 'p1', 'p3']);
    expect(out[0]!.score).toBeCloseTo(1, 12);
    expect(out[1]!.score).toBeCloseTo(0.75, 12);
    expect(out[2]!.score).toBeCloseTo(0.5, 12);
  });

  it('applies the weights and the half-life', () => {
    const state = freshState(articles, signals);
    // clickWeight 4: p3 = 4 · 0.5 = 2 goes first.
    const heavyClicks = rec({ kind: 'popular', params: { clickWeight: 4 } }, state).recommend(context(state), 10);
    expect(ids(heavyClicks)).toEqual(['p3', 'p2', 'p1']);
    expect(heavyClicks[0]!.score).toBeCloseTo(2, 12);
    // readWeight 0: reads are ignored, only the clicked article is ranked.
    expect(ids(rec({ kind: 'popular', params: { readWeight: 0 } }, state).recommend(context(state), 10))).toEqual(['p3']);
    // Half-life 120 min: p1 = 3 · 2^(-60/120) = 2.1213 > p2 = 1 > p3 = 2^(-30/120) = 0.8409.
    const slow = rec({ kind: 'popular', params: { halfLifeMinutes: 120 } }, state).recommend(context(state), 10);
    expect(ids(slow)).toEqual(['p1', 'p2', 'p3']);
    expect(slow[0]!.score).toBeCloseTo(3 * 2 ** -0.5, 12);
    expect(slow[2]!.score).toBeCloseTo(2 ** -0.25, 12);
  });

  it('leaves out the current article and what the reader already read', () => {
    const state = freshState(articles, signals);
    // r1 read p1; p2 is the current article.
    expect(ids(rec({ kind: 'popular' }, state).recommend(context(state, { articleId: 'p2', readerId: 'r1' }), 10))).toEqual(['p3']);
  });

  it('a counter created after the signals sees the same history (built from the signal log)', () => {
    const before = freshState(articles);
    const early = rec({ kind: 'popular' }, before); // counter exists before any signal, fed one by one
    for (const s of signals) before.add(s);
    const after = freshState(articles, signals);
    const late = rec({ kind: 'popular' }, after); // counter created now, replayed from the log
    expect(late.recommend(context(after), 10)).toEqual(early.recommend(context(before), 10));
  });

  it("re-ranks at most once per second of the caller's time (documented refresh)", () => {
    const state = freshState(articles, signals);
    const r = rec({ kind: 'popular' }, state);
    expect(ids(r.recommend(context(state, { now: NOW }), 1))).toEqual(['p2']);
    for (let i = 0; i < 3; i++) state.add(read(`late${i}`, 'p3', NOW));
    // p3 is now 0.5 + 3 = 3.5, but the ranking computed at NOW is kept until NOW + 1 s.
    expect(ids(r.recommend(context(state, { now: NOW + 999 }), 1))).toEqual(['p2']);
    expect(ids(r.recommend(context(state, { now: NOW + 1000 }), 1))).toEqual(['p3']);
  });
});

describe('same-section', () => {
  // score = 2^(-age / freshHL) · (1 + pop), freshHL = 12 h, pop over reads + clicks with a 60 min half-life:
  //   s1: 12 h old, 2 reads 60 min ago -> 2^-1 · (1 + 2 · 2^-1) = 0.5 · 2   = 1
  //   s2:  6 h old, no reads           -> 2^-0.5 · 1                     ≈ 0.70711
  //   s3: 24 h old, 5 reads now        -> 2^-2 · (1 + 5)      = 0.25 · 6 = 1.5
  //   cur (the current article) and s4 (another section) are left out.
  const state = freshState(
    [
      article('cur', 'politics', NOW - HOUR),
      article('s1', 'politics', NOW - 12 * HOUR),
      article('s2', 'politics', NOW - 6 * HOUR),
      article('s3', 'politics', NOW - 24 * HOUR),
      article('s4', 'sport', NOW - HOUR),
      article('nosec', null, NOW - HOUR),
    ],
    [read('r1', 's1', NOW - 60 * MIN), read('r2', 's1', NOW - 60 * MIN), ...['a', 'b', 'c', 'd', 'e'].map((r) => read(r, 's3', NOW))],
  );

  it('scores freshness × (1 + popularity) (hand-worked)', () => {
    const out = rec({ kind: 'same-section' }, state).recommend(context(state, { articleId: 'cur' }), 10);
    expect(ids(out)).toEqual(['s3', 's1', 's2']);
    expect(out[0]!.score).toBeCloseTo(1.5, 12);
    expect(out[1]!.score).toBeCloseTo(1, 12);
    expect(out[2]!.score).toBeCloseTo(2 ** -0.5, 12);
    expect(out[0]!.reason).toBe('fresh and popular in politics');
  });

  it('follows its parameters: a 24 h freshness half-life', () => {
    // s1: 2^-0.5 · 2 ≈ 1.41421, s2: 2^-0.25 ≈ 0.84090, s3: 2^-1 · 6 = 3.
    const out = rec({ kind: 'same-section', params: { freshnessHalfLifeHours: 24 } }, state).recommend(
      context(state, { articleId: 'cur' }),
      2,
    );
    expect(ids(out)).toEqual(['s3', 's1']);
    expect(out[0]!.score).toBeCloseTo(3, 12);
    expect(out[1]!.score).toBeCloseTo(2 * 2 ** -0.5, 12);
  });

  it('needs a current article with a section', () => {
    const r = rec({ kind: 'same-section' }, state);
    expect(r.recommend(context(state), 10)).toEqual([]);
    expect(r.recommend(context(state, { articleId: 'nosec' }), 10)).toEqual([]);
    expect(r.recommend(context(state, { articleId: 'unknown' }), 10)).toEqual([]);
  });
});

describe('co-read', () => {
  // Hand-worked co-visitation. Every read happens at NOW and is read at NOW, so every decay factor
  // is 2^0 = 1 and the counts are integers. Each reader reads in the order listed:
  //   r1, r2, r3: a, b      r4, r5: a, c      r9: a, d
  //   r6, r7, r8, r10: b then x, y, z, w (one each)
  // C(a,b) = 3, C(a,c) = 2, C(a,d) = 1
  // N(a) = 3 + 2 + 1 = 6, N(b) = 3 + 4 = 7, N(c) = 2, N(d) = 1; total reads N = 2 · 10 = 20
  //   count:   b = 3,                       c = 2,                        d = 1
  //   jaccard: b = 3 / (6 + 7 - 3) = 0.3,   c = 2 / (6 + 2 - 2) = 1/3,    d = 1 / (6 + 1 - 1) = 1/6
  //   lift:    b = 3·20 / (6·7) = 10/7,     c = 2·20 / (6·2) = 10/3,      d = 1·20 / (6·1) = 10/3
  const letters = ['a', 'b', 'c', 'd', 'x', 'y', 'z', 'w', 'q'];
  const articles = letters.map((id) => article(id, null, NOW - 2 * HOUR));
  const pairs: [string, string, string][] = [
    ['r1', 'a', 'b'],
    ['r2', 'a', 'b'],
    ['r3', 'a', 'b'],
    ['r4', 'a', 'c'],
    ['r5', 'a', 'c'],
    ['r9', 'a', 'd'],
    ['r6', 'b', 'x'],
    ['r7', 'b', 'y'],
    ['r8', 'b', 'z'],
    ['r10', 'b', 'w'],
  ];
  const signalsAt = (t: number) => pairs.flatMap(([r, first, second]) => [read(r, first, t), read(r, second, t)]);
  const scores = (out: readonly { articleId: string; score: number }[]) => Object.fromEntries(out.map((c) => [c.articleId, c.score]));

  it('counts co-reads and reads as worked out above', () => {
    const state = freshState(articles, signalsAt(NOW));
    const co = state.coVisitation({ halfLifeMs: 1440 * MIN, windowMs: 360 * MIN, lookback: 10, maxNeighbours: 300 });
    expect([co.co('a', 'b', NOW), co.co('b', 'a', NOW), co.co('a', 'c', NOW), co.co('a', 'd', NOW), co.co('a', 'x', NOW)]).toEqual([
      3, 3, 2, 1, 0,
    ]);
    expect([co.count('a', NOW), co.count('b', NOW), co.count('c', NOW), co.count('d', NOW)]).toEqual([6, 7, 2, 1]);
    expect(co.totalAt(NOW)).toBe(20);
  });

  it('normalises by Jaccard (default), lift or the raw count; minSupport 2 (default) drops d', () => {
    const state = freshState(articles, signalsAt(NOW));
    const ask = (params: Record<string, unknown>) =>
      rec({ kind: 'co-read', params }, state).recommend(context(state, { articleId: 'a', readerId: 'q' }), 10);

    const jac = ask({});
    expect(ids(jac)).toEqual(['c', 'b']);
    expect(scores(jac).c).toBeCloseTo(1 / 3, 12);
    expect(scores(jac).b).toBeCloseTo(0.3, 12);
    expect(jac[0]!.reason).toBe('read by readers of this article');

    const lift = ask({ normalisation: 'lift' });
    expect(ids(lift)).toEqual(['c', 'b']);
    expect(scores(lift).c).toBeCloseTo(10 / 3, 12);
    expect(scores(lift).b).toBeCloseTo(10 / 7, 12);

    const count = ask({ normalisation: 'count' });
    expect(ids(count)).toEqual(['b', 'c']);
    expect(count.map((c) => c.score)).toEqual([3, 2]);
  });

  it('minSupport filters on the decayed co-read count', () => {
    const state = freshState(articles, signalsAt(NOW));
    const ask = (params: Record<string, unknown>) =>
      ids(rec({ kind: 'co-read', params }, state).recommend(context(state, { articleId: 'a' }), 10));
    expect(ask({ minSupport: 1 })).toEqual(['c', 'b', 'd']); // jaccard: 1/3, 0.3, 1/6
    expect(ask({ minSupport: 1, normalisation: 'lift' })).toEqual(['c', 'd', 'b']); // 10/3 = 10/3 (ties by id), 10/7
    expect(ask({ minSupport: 3 })).toEqual(['b']); // only C(a,b) = 3 reaches 3
    expect(ask({ minSupport: 3.5 })).toEqual([]);
  });

  it('decays co-reads: one half-life later counts halve, Jaccard and lift do not move', () => {
    // The same reads one half-life (60 min) before NOW: C(a,b) = 3 · 2^-1 = 1.5 < minSupport 2.
    const state = freshState(articles, signalsAt(NOW - 60 * MIN));
    const ask = (params: Record<string, unknown>) =>
      rec({ kind: 'co-read', params: { halfLifeMinutes: 60, ...params } }, state).recommend(context(state, { articleId: 'a' }), 10);
    expect(ask({})).toEqual([]); // nothing reaches 2
    expect(scores(ask({ minSupport: 1, normalisation: 'count' }))).toEqual({ b: 1.5, c: 1 });
    // Jaccard and lift are ratios of counts decayed by the same factor.
    const jac = scores(ask({ minSupport: 1 }));
    expect(jac.b).toBeCloseTo(0.3, 12);
    expect(jac.c).toBeCloseTo(1 / 3, 12);
    const lift = scores(ask({ minSupport: 1, normalisation: 'lift' }));
    expect(lift.b).toBeCloseTo(10 / 7, 12);
    expect(lift.c).toBeCloseTo(10 / 3, 12);
  });

  it('pairs reads at most windowMs apart (inclusive), in either arrival order', () => {
    const params = { halfLifeMs: 43_200 * MIN, windowMs: 60 * MIN, lookback: 10, maxNeighbours: 300 };
    const T = NOW - 3 * HOUR;
    const state = freshState(articles, [
      read('w1', 'a', T),
      read('w1', 'b', T + 60 * MIN), // exactly the window: pairs
      read('w2', 'a', T),
      read('w2', 'c', T + 60 * MIN + 1), // 1 ms past the window: does not pair
      read('w3', 'd', T + 30 * MIN),
      read('w3', 'x', T), // arrives out of order, 30 min apart: pairs
      read('w4', 'y', T),
      read('w4', 'y', T + MIN), // a re-read does not pair with itself
    ]);
    const co = state.coVisitation(params);
    // Each pair decays from the time of the later read: 2^(-(NOW - t)/h), h = 30 days.
    expect(co.co('a', 'b', NOW)).toBeCloseTo(2 ** (-(NOW - (T + 60 * MIN)) / params.halfLifeMs), 12);
    expect(co.co('a', 'c', NOW)).toBe(0);
    expect(co.co('d', 'x', NOW)).toBeGreaterThan(0);
    expect(co.co('y', 'y', NOW)).toBe(0);
    const r = rec({ kind: 'co-read', params: { windowMinutes: 60, halfLifeMinutes: 43_200, minSupport: 0 } }, state);
    expect(ids(r.recommend(context(state, { articleId: 'a' }), 10))).toEqual(['b']);
  });

  it('pairs a new read with at most `lookback` previous reads of the reader', () => {
    const params = { halfLifeMs: 1440 * MIN, windowMs: 360 * MIN, lookback: 2, maxNeighbours: 300 };
    const state = freshState(
      articles,
      ['a', 'b', 'c', 'd'].map((id, i) => read('lk', id, NOW - 10 * MIN + i * MIN)),
    );
    const co = state.coVisitation(params);
    // d pairs with the two reads before it (b, c), not with a; c still paired with a and b.
    expect(co.co('d', 'a', NOW)).toBe(0);
    expect(co.co('d', 'b', NOW)).toBeGreaterThan(0);
    expect(co.co('d', 'c', NOW)).toBeGreaterThan(0);
    expect(co.co('c', 'a', NOW)).toBeGreaterThan(0);
  });

  it('keeps the decayed total finite when a read arrives late (half-life 1 min, 18 h late)', () => {
    // Events may arrive up to 24 h late by default (config eventMaxPastMs). Closed form at NOW:
    //   N = 2^0 (the read at NOW) + 2^(-18·60/1) (the late one) = 1 + 2^-1080 ≈ 1.
    const params = { halfLifeMs: MIN, windowMs: 360 * MIN, lookback: 10, maxNeighbours: 300 };
    const state = freshState(articles, [read('r1', 'a', NOW), read('r2', 'b', NOW - 18 * HOUR)]);
    const co = state.coVisitation(params);
    expect(co.totalAt(NOW)).toBeCloseTo(1, 12);
    expect(co.totalAt(NOW + MIN)).toBeCloseTo(0.5, 12);
    // Lift scores stay finite with such a counter.
    const late = freshState(articles, [...signalsAt(NOW), read('r99', 'x', NOW - 18 * HOUR)]);
    const lift = rec({ kind: 'co-read', params: { halfLifeMinutes: 1, normalisation: 'lift' } }, late).recommend(
      context(late, { articleId: 'a' }),
      10,
    );
    expect(ids(lift)).toEqual(['c', 'b']);
    expect(lift.every((c) => Number.isFinite(c.score))).toBe(true);
  });

  it('reuses a ranking without what cannot be shown, and still sees retractions, republications and lifted embargoes', () => {
    // Count normalisation: b 3, c 2, d 1 (see above). c expires under the 72 h TTL, d is embargoed for 30 s.
    const state = freshState(
      articles.map((x) => ({ ...x })),
      signalsAt(NOW),
    ); // copies: b is retracted below
    state.upsertArticles([article('c', null, NOW - 100 * HOUR), article('d', null, NOW - 2 * HOUR, { embargoUntil: NOW + 30_000 })]);
    const r = rec({ kind: 'co-read', params: { normalisation: 'count', minSupport: 0 } }, state);
    const ask = (now: number) => ids(r.recommend(context(state, { articleId: 'a', now }), 10));
    expect(ask(NOW)).toEqual(['b']);
    // A retraction applies at once, with no catalog-wide rebuild needed to hide it.
    state.catalog.get('b')!.status = 'retracted';
    expect(ask(NOW + 1)).toEqual([]);
    // Republished (a catalog change): back in the next answer.
    state.upsertArticles([{ ...state.catalog.get('b')!, status: 'published' }]);
    expect(ask(NOW + 2)).toEqual(['b']);
    // The embargo on d lifts at NOW + 30 s: seen within a minute even with no new read.
    expect(ask(NOW + 61_000)).toEqual(['b', 'd']);
  });

  it("seeds from the reader's most recent read when there is no current article", () => {
    // h1 read z, then a: history = [a, z], newest first. The seed is a; a and z are already read.
    const state = freshState(articles, [...signalsAt(NOW), read('h1', 'z', NOW - 10 * MIN), read('h1', 'a', NOW - 5 * MIN)]);
    expect(state.history('h1')).toEqual(['a', 'z']);
    const r = rec({ kind: 'co-read', params: { normalisation: 'count' } }, state);
    expect(ids(r.recommend(context(state, { readerId: 'h1' }), 10))).toEqual(['b', 'c']);
    // Anonymous on a non-article page, or a reader with no history: nothing to seed from.
    expect(r.recommend(context(state), 10)).toEqual([]);
    expect(r.recommend(context(state, { readerId: 'nobody' }), 10)).toEqual([]);
  });
});

describe('configuration errors name the field', () => {
  const state = freshState([]);
  const cases: [string, RecommenderConfig, string, string][] = [
    ['unknown kind', { kind: 'cosine', version: '1' }, 'invalid_field', 'kind'],
    ['empty version', { kind: 'latest', version: '' }, 'invalid_field', 'version'],
    ['params not an object', { kind: 'latest', version: '1', params: [] as unknown as Record<string, unknown> }, 'invalid_field', 'params'],
    ['unknown param of none', { kind: 'none', version: '1', params: { k: 1 } }, 'unknown_field', 'params.k'],
    ['unknown param (typo)', { kind: 'popular', version: '1', params: { halfLifeMinute: 30 } }, 'unknown_field', 'params.halfLifeMinute'],
    [
      'half-life below its minimum',
      { kind: 'popular', version: '1', params: { halfLifeMinutes: 0 } },
      'invalid_field',
      'params.halfLifeMinutes',
    ],
    [
      'half-life above its maximum',
      { kind: 'co-read', version: '1', params: { halfLifeMinutes: 43_201 } },
      'invalid_field',
      'params.halfLifeMinutes',
    ],
    ['weight not a number', { kind: 'popular', version: '1', params: { readWeight: '1' } }, 'invalid_field', 'params.readWeight'],
    [
      'weight not finite',
      { kind: 'popular', version: '1', params: { clickWeight: Number.POSITIVE_INFINITY } },
      'invalid_field',
      'params.clickWeight',
    ],
    ['integer param given a fraction', { kind: 'co-read', version: '1', params: { lookback: 2.5 } }, 'invalid_field', 'params.lookback'],
    [
      'maxNeighbours below its minimum',
      { kind: 'co-read', version: '1', params: { maxNeighbours: 9 } },
      'invalid_field',
      'params.maxNeighbours',
    ],
    [
      'enum outside its values',
      { kind: 'co-read', version: '1', params: { normalisation: 'cosine' } },
      'invalid_field',
      'params.normalisation',
    ],
    ['boolean given a string', { kind: 'latest', version: '1', params: { sameSection: 'yes' } }, 'invalid_field', 'params.sameSection'],
    [
      'freshness half-life below 0.1 h',
      { kind: 'same-section', version: '1', params: { freshnessHalfLifeHours: 0.05 } },
      'invalid_field',
      'params.freshnessHalfLifeHours',
    ],
  ];
  it.each(cases)('%s', (_name, config, code, field) => {
    const e = domainError(() => createRecommender(config, state));
    expect(e.code).toBe(code);
    expect(e.field).toBe(field);
  });

  it('accepts the bounds themselves', () => {
    expect(() =>
      createRecommender(
        { kind: 'co-read', version: '1', params: { halfLifeMinutes: 1, lookback: 100, maxNeighbours: 10, minSupport: 0 } },
        state,
      ),
    ).not.toThrow();
    expect(() =>
      createRecommender({ kind: 'same-section', version: '1', params: { freshnessHalfLifeHours: 0.1, halfLifeMinutes: 10_080 } }, state),
    ).not.toThrow();
  });
});
