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
 * request (`extra`) that are not among them, so a shadow candidate's choices can be evaluated
 * off-policy (each has a positive propensity). The logging policy is a mixture: with probability
 * ε (the share) a uniformly random ordered choice of min(m, n) of the n pool items fills the m free
 * (unpinned) slots; otherwise the pool's first m in order (the slate without exploration, up to the chain's asking for a few more
 * items). So the marginal probability that pool item a sits at free slot j is exactly
 *
 *   π0(a, j) = (1 − ε)·1[a = pool_j] + ε / n,
 *
 * the item-position propensity that inverse-propensity estimators divide by (Li, Chu, Langford,
 * Wang 2011 log uniformly random choices the same way; Li, Kim, Zitouni 2018 for slates). The
 * random order is drawn from a generator seeded by the recommId: a slate can be replayed.
 */
export function exploreSlate(
  full: ComposedSlate,
  k: number,
  exploration: Exploration,
  recommId: string,
  explored: boolean,
  extra: readonly SlateEntry[] = [],
): { slate: ComposedSlate; log: ServeExploration } {
  const pinned = full.items.filter((i) => i.source === -1);
  const pool = full.items.filter((i) => i.source !== -1);
  // The shadows' items join the pool after the live ones (their choices need support to be evaluated).
  const inPool = new Set([...full.items.map((i) => i.articleId)]);
  for (const e of extra)
    if (!inPool.has(e.articleId)) {
      inPool.add(e.articleId);
      pool.push({ ...e, source: 0 });
    }
  const pinSlots = new Set(pinned.filter((p) => p.position <= k).map((p) => p.position));
  const free = Math.min(k - pinSlots.size, pool.length);
  const n = pool.length;
  let chosen: SlateEntry[];
  if (explored) {
    // A partial Fisher-Yates shuffle: the first `free` of a uniform random permutation.
    const rng = seededRng(fnv1a32(`explore-order:${recommId}`));
    const order = pool.slice();
    for (let i = 0; i < free; i++) {
      const j = i + rng.int(n - i);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    chosen = order.slice(0, free);
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
    propensities.push((1 - eps) * (it.articleId === pool[c]!.articleId ? 1 : 0) + eps / n);
    c++;
  }
  // Positions count the items shown (a short slate closes up, as composeSlate numbers them).
  items.forEach((it, i) => (it.position = i + 1));
  // Fallback as composeSlate says it, of the items shown: the pool may reach into the fallbacks
  // for items the shown slate does not use (a primary's fault still counts).
  const fallback = items.some((it) => it.source > 0) || full.faults.some((f) => f.index === 0);
  return {
    slate: { items, fallback, faults: full.faults },
    log: { share: eps, explored, pool: pool.map((p) => p.articleId), propensities },
  };
}
