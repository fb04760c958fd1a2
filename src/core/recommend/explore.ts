import { fnv1a32, hash } from '../experiments/hash.js';
import { seededRng } from '../kernel/rng.js';
import type { Exploration } from './placement.js';
import type { ComposedSlate, SlateEntry } from './slate.js';

/** What a serve record keeps of exploration (issue 18): enough to know every logging propensity. */
export interface ServeExploration {
  /** The placement's exploration share when this request was served. */
  share: number;
  /** Whether this request's slate was the random one. */
  explored: boolean;
  /** The live chain's best eligible items (pins excluded), best first: what a random slate draws from. */
  pool: string[];
  /** Per slate item, in position order: the probability that the logging policy put it at its position (pins 1). */
  propensities: number[];
  /**
   * Shadow-slate exploration (absent when the placement has none, or no shadows): the share σ of
   * explored requests that showed one shadow's slate whole, every shadow's free-slot arrangement
   * on this request (`slates`, each of the free slots' length, items of `pool`), and which one this
   * request showed (null: the uniformly random one, or not explored).
   */
  shadows?: { share: number; slates: string[][]; shown: number | null };
}

/** Whether the request with this recommId is explored: a hash of it, so the choice is reproducible. */
export function isExplored(placement: string, recommId: string, share: number): boolean {
  return hash(`explore:${placement}:`, recommId, 2)! < share;
}

/**
 * The slate of a placement that explores, from `full`: the live chain's slate composed with the
 * pool's size (every rule applied, pins at their slots). `k` is the request's slate size.
 *
 * The pool is the live chain's best items, then the items of the shadows' slates on the same
 * request (`shadows`, one slate per shadow) that are not among them, so a shadow candidate's
 * choices can be evaluated off-policy (each has a positive propensity). The logging policy is a
 * mixture: with probability 1 − ε the pool's first m in order fill the m free (unpinned) slots (the
 * slate without exploration, up to the chain's asking for a few more items); with probability ε the
 * request is explored, and then
 * - with probability σ (`exploration.shadowShare`, when there are S ≥ 1 shadows) one shadow s,
 *   drawn uniformly, shows its own arrangement c_s: its slate's items (pins left out) followed by
 *   the pool's other items in pool order, the first m of them;
 * - otherwise (probability 1 − σ, or always without shadows) a uniformly random ordered choice of
 *   min(m, n) of the n pool items.
 * So the marginal probability that pool item a sits at free slot j is exactly
 *
 *   π0(a, j) = (1 − ε)·1[a = pool_j] + ε·((1 − σ) / n + (σ / S)·#{s : c_s[j] = a})
 *
 * the item-position propensity that inverse-propensity estimators divide by (Li, Chu, Langford,
 * Wang 2011 log uniformly random choices the same way; Li, Kim, Zitouni 2018 for slates). The
 * shadow component is a targeted exploration: a candidate in shadow has its whole slate shown on
 * about ε·σ/S of the requests, in its own order and context, which is what an estimator of its
 * clicks needs most (a uniform arrangement matches a far candidate's item at a slot only 1 time in
 * n). The random choices are drawn from a generator seeded by the recommId: a slate can be replayed.
 */
export function exploreSlate(
  full: ComposedSlate,
  k: number,
  exploration: Exploration,
  recommId: string,
  explored: boolean,
  shadows: readonly (readonly SlateEntry[])[] = [],
): { slate: ComposedSlate; log: ServeExploration } {
  const pinned = full.items.filter((i) => i.source === -1);
  const pool = full.items.filter((i) => i.source !== -1);
  // The shadows' items join the pool after the live ones (their choices need support to be evaluated).
  const inPool = new Set([...full.items.map((i) => i.articleId)]);
  const shadowItems = shadows.map((sl) => sl.filter((i) => i.source !== -1));
  for (const sl of shadowItems)
    for (const e of sl)
      if (!inPool.has(e.articleId)) {
        inPool.add(e.articleId);
        pool.push({ ...e, source: 0 });
      }
  const pinSlots = new Set(pinned.filter((p) => p.position <= k).map((p) => p.position));
  const free = Math.min(k - pinSlots.size, pool.length);
  const n = pool.length;
  const sigma = shadowItems.length > 0 ? (exploration.shadowShare ?? 0) : 0;
  // Each shadow's arrangement c_s: its items (those the pool holds: a pinned id is not), then the pool's others in order.
  const byId = new Map(pool.map((p) => [p.articleId, p]));
  const arrangements =
    sigma > 0
      ? shadowItems.map((sl) => {
          const own = [...new Set(sl.map((i) => i.articleId))].filter((id) => byId.has(id));
          const mine = new Set(own);
          return [...own, ...pool.map((p) => p.articleId).filter((id) => !mine.has(id))].slice(0, free);
        })
      : [];
  let chosen: SlateEntry[];
  let shownShadow: number | null = null;
  if (explored) {
    const rng = seededRng(fnv1a32(`explore-order:${recommId}`));
    if (sigma > 0 && rng.next() < sigma) {
      shownShadow = rng.int(arrangements.length);
      chosen = arrangements[shownShadow]!.map((id) => byId.get(id)!);
    } else {
      // A partial Fisher-Yates shuffle: the first `free` of a uniform random permutation.
      const order = pool.slice();
      for (let i = 0; i < free; i++) {
        const j = i + rng.int(n - i);
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
      chosen = order.slice(0, free);
    }
  } else chosen = pool.slice(0, free);
  const eps = exploration.share;
  const items: SlateEntry[] = [];
  const propensities: number[] = [];
  let c = 0;
  for (let position = 1; position <= k; position++) {
    const pin = pinSlots.has(position) ? pinned.find((p) => p.position === position) : undefined;
    if (pin) {
      items.push({ ...pin, position });
      propensities.push(1);
      continue;
    }
    const it = chosen[c];
    if (it === undefined) continue;
    items.push({ ...it, position: items.length + 1 });
    let same = 0;
    for (const a of arrangements) if (a[c] === it.articleId) same++;
    const mix = sigma > 0 ? (sigma * same) / arrangements.length : 0;
    propensities.push((1 - eps) * (it.articleId === pool[c]!.articleId ? 1 : 0) + eps * ((1 - sigma) / n + mix));
    c++;
  }
  // Positions count the items shown (a short slate closes up, as composeSlate numbers them).
  items.forEach((it, i) => (it.position = i + 1));
  // Fallback as composeSlate says it, of the items shown: the pool may reach into the fallbacks
  // for items the shown slate does not use (a primary's fault still counts).
  const fallback = items.some((it) => it.source > 0) || full.faults.some((f) => f.index === 0);
  return {
    slate: { items, fallback, faults: full.faults },
    log: {
      share: eps,
      explored,
      pool: pool.map((p) => p.articleId),
      propensities,
      ...(sigma > 0 ? { shadows: { share: sigma, slates: arrangements, shown: shownShadow } } : {}),
    },
  };
}
