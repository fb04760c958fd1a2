import { describe, expect, it } from 'vitest';
import { seededRng, type Rng } from '../../../src/core/kernel/rng.js';
import { createRecommender } from '../../../src/core/recommend/kinds/index.js';
import { composeSlate, eligibility } from '../../../src/core/recommend/slate.js';
import type { Recommender } from '../../../src/core/recommend/types.js';
import { barePlacement, DAY, freshState, NOW, read } from './helpers.js';
import { generateSessions, SYNTHETIC_DEFAULTS } from './synthetic.js';

// The acceptance check: on sessions generated with a known co-reading structure (topic
// clusters), split chronologically, `co-read` reaches at least twice random's recall@5 on the later
// part, and `popular` beats random.
//
//   recall@5 = (1 / |P|) · Σ_{(a → b) ∈ P} [b ∈ top5(a)]
//
// P = every consecutive pair (a, then b) of every test session. The slate for a pair is asked at
// the time the reader is on a (now = a's read time), with context article a and the session's
// reader; the reader's history is what the training signals say (the frozen state knows nothing of
// the test period), so the already-read filter uses training reads only.
//
// Each recommender runs alone through composeSlate (chain of one, no pins, no section cap, TTL 7 days
// so every article published by `now` is eligible): that measures the recommender plus the shared
// eligibility rule, not the fallback chain.

const K = 5;
const SEED = 20260302;

/** Uniform over eligible articles: a partial Fisher–Yates shuffle, the first `limit` of a random permutation. */
function randomRecommender(rng: Rng, all: readonly string[]): Recommender {
  return {
    kind: 'random',
    version: '1',
    recommend(ctx, limit) {
      const pool = all.filter((id) => ctx.eligible(id));
      const n = Math.min(limit, pool.length);
      for (let i = 0; i < n; i++) {
        const j = i + rng.int(pool.length - i);
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return pool.slice(0, n).map((id) => ({ articleId: id, score: 0, reason: 'random' }));
    },
  };
}

describe('offline sanity on clustered synthetic sessions', () => {
  it('co-read reaches ≥ 2× random recall@5 and popular beats random', () => {
    // 1. Data: 300 articles in 10 clusters over 5 days, 3000 readers, 85% of reads in-cluster, Zipf s = 1.
    const rng = seededRng(SEED);
    const data = generateSessions(rng, { start: NOW - 5 * DAY, ...SYNTHETIC_DEFAULTS });

    // 2. Chronological split at the 80th percentile of read times: training = every read before the
    //    cut; test = the sessions that start at or after it (reads of sessions straddling the cut
    //    after it are in neither).
    const times = data.sessions.flatMap((s) => s.reads.map((r) => r.ts)).sort((x, y) => x - y);
    const cut = times[Math.floor(0.8 * times.length)]!;
    const train = data.sessions
      .flatMap((s) => s.reads.filter((r) => r.ts < cut).map((r) => read(s.readerId, r.articleId, r.ts)))
      .sort((x, y) => x.ts - y.ts);
    const state = freshState(data.articles, train);
    const pairs = data.sessions
      .filter((s) => s.reads[0]!.ts >= cut)
      .flatMap((s) =>
        s.reads
          .slice(1)
          .map((b, i) => ({ readerId: s.readerId, sessionId: s.sessionId, a: s.reads[i]!.articleId, b: b.articleId, now: s.reads[i]!.ts })),
      );
    expect(train.length).toBeGreaterThan(15_000);
    expect(pairs.length).toBeGreaterThan(1_500);

    // 3. Recall@5 of one recommender through composeSlate.
    const placement = barePlacement({ ttlHours: 7 * 24, maxPerSection: null, fallbacks: [] });
    const recall = (r: Recommender): number => {
      let hits = 0;
      for (const p of pairs) {
        const slate = composeSlate(state, [r], {
          placement,
          articleId: p.a,
          readerId: p.readerId,
          sessionId: p.sessionId,
          k: K,
          now: p.now,
        });
        expect(slate.faults).toEqual([]);
        if (slate.items.some((it) => it.articleId === p.b)) hits++;
      }
      return hits / pairs.length;
    };
    const allIds = data.articles.map((a) => a.id);
    const coRead = recall(createRecommender({ kind: 'co-read', version: '1' }, state));
    const popular = recall(createRecommender({ kind: 'popular', version: '1' }, state));
    const random = recall(randomRecommender(seededRng(SEED + 1), allIds));

    // 4. Random's expected recall, analytically: for a pair with E eligible articles, the chance that
    //    b is in a uniform 5-subset is min(1, 5/E) if b is eligible, else 0. Draws are independent
    //    across pairs, so the observed recall has variance Σ p(1 - p) / |P|^2: allow 4 sd.
    let expected = 0;
    let variance = 0;
    let reachable = 0;
    for (const p of pairs) {
      const ok = eligibility(
        state,
        placement,
        { placement, articleId: p.a, readerId: p.readerId, sessionId: p.sessionId, k: K, now: p.now },
        state.history(p.readerId),
      );
      const e = allIds.filter(ok).length;
      const q = ok(p.b) ? Math.min(1, K / e) : 0;
      if (ok(p.b)) reachable++;
      expected += q;
      variance += q * (1 - q);
    }
    expected /= pairs.length;
    const sd = Math.sqrt(variance) / pairs.length;

    console.log(
      `offline recall@${K} on ${pairs.length} test pairs (${train.length} training reads, seed ${SEED}): ` +
        `co-read ${coRead.toFixed(4)}, popular ${popular.toFixed(4)}, random ${random.toFixed(4)} ` +
        `(expected ${expected.toFixed(4)} ± ${sd.toFixed(4)}); b eligible in ${(reachable / pairs.length).toFixed(4)} of pairs`,
    );

    expect(Math.abs(random - expected)).toBeLessThan(4 * sd);
    // The acceptance criteria.
    expect(coRead).toBeGreaterThanOrEqual(2 * random);
    expect(popular).toBeGreaterThan(random);
    // Quality pins on this frozen sample (seed 20260302, default params): co-read 0.1725 and popular
    // 0.0462 when written. The data are fixed, so a move means the heuristics changed: ±0.02 and
    // ±0.01 absolute let small tweaks through; re-pin deliberately when defaults change on purpose.
    expect(Math.abs(coRead - 0.1725)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(popular - 0.0462)).toBeLessThanOrEqual(0.01);
  });
});
