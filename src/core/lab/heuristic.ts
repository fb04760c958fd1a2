/**
 * Every registered recommender kind as a LabScorer: the kind is built on its own FreshState, which
 * the scorer feeds from the log, and asked to rank the impression's candidates. Tests:
 * test/core/lab/heuristic.test.ts.
 */
import type { Article } from '../catalog/article.js';
import { FreshState } from '../recommend/fresh-state.js';
import type { RecommenderRegistry } from '../recommend/registry.js';
import type { RecContext, RecommenderConfig } from '../recommend/types.js';
import { inTimeOrder, randomScorer } from './protocols.js';
import type { LabImpression, LabScorer, ScorerFactory } from './types.js';
import { impressionFeeder } from './feed.js';

/** The placement name recommenders see in the lab. */
export const LAB_PLACEMENT = 'lab';

/**
 * A kind from `registry` as a scorer. How the log becomes the recommender's state and request:
 *
 * 1. Catalog: an article enters the state's catalog when it first appears in the log (a history or
 *    a candidate), dated as in `articles` (mind.ts: its first appearance); an id without a news row
 *    enters as an untitled stub without section, so it can still be ranked by age and co-reads.
 * 2. Signals: a reader's history items are `read` signals at the time of the first impression that
 *    lists them (the log has no earlier time); a click is a `read` signal at its impression's time
 *    (a MIND click opens the article), given by `fit` (train) and `observe` (replay) only.
 * 3. Request: a homepage impression has no current article, so the reader's latest read stands in
 *    (co-read seeds from it; same-section takes its section); `eligible` = being a candidate; the
 *    horizon is the oldest candidate's date: the log says every candidate could be shown, so none
 *    is expired (a production TTL would expire MIND's candidates, dated by first appearance), and
 *    newest-first scans stop at the oldest candidate.
 * 4. Scores: the recommender is asked for up to as many items as there are candidates; a returned
 *    candidate scores by its position (first = highest), the others 0 (ties broken at random by
 *    the protocol).
 *
 * @example
 * const s = heuristicScorer(builtinRegistry(), { kind: 'popular', version: 'lab', params: {} }, 'popular', articles);
 */
export function heuristicScorer(
  registry: RecommenderRegistry,
  config: RecommenderConfig,
  name: string,
  articles: ReadonlyMap<string, Article>,
): LabScorer {
  const state = new FreshState();
  // Built before any signal, so its counters see every signal as it arrives.
  const recommender = registry.build(config, state);
  const enter = impressionFeeder(articles, {
    knows: (id) => state.catalog.get(id) !== undefined,
    upsert: (fresh) => state.upsertArticles(fresh),
    read: (readerId, articleId, ts) => state.add({ kind: 'read', readerId, articleId, ts }),
  });
  const clicks = (imp: LabImpression): void => {
    for (const c of imp.candidates)
      if (c.clicked === true) state.add({ kind: 'read', readerId: imp.readerId, articleId: c.articleId, ts: imp.ts });
  };

  return {
    name,
    fit(train) {
      for (const imp of inTimeOrder(train)) {
        enter(imp);
        clicks(imp);
      }
    },
    score(imp) {
      enter(imp);
      const candidates = new Set(imp.candidates.map((c) => c.articleId));
      const history = state.history(imp.readerId);
      const current = history[0] ?? null;
      const ctx: RecContext = {
        placement: LAB_PLACEMENT,
        articleId: current,
        article: current === null ? undefined : state.catalog.get(current),
        readerId: imp.readerId,
        sessionId: null,
        history,
        now: imp.ts,
        horizon: Math.min(imp.ts, ...imp.candidates.map((c) => state.catalog.get(c.articleId)?.publishedAt ?? imp.ts)),
        k: candidates.size,
        eligible: (id) => candidates.has(id),
      };
      const ranked = recommender.recommend(ctx, candidates.size);
      const score = new Map<string, number>();
      ranked.forEach((c, i) => {
        if (candidates.has(c.articleId) && !score.has(c.articleId)) score.set(c.articleId, ranked.length - i);
      });
      return imp.candidates.map((c) => score.get(c.articleId) ?? 0);
    },
    observe: clicks,
  };
}

/** Parses `--recommender` text: `KIND` or `KIND:JSON` (a JSON object of the kind's params). */
export function parseScorerSpec(spec: string): { kind: string; config: Record<string, unknown> } | { error: string } {
  const colon = spec.indexOf(':');
  const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  if (kind === '') return { error: `"${spec}" names no recommender kind` };
  if (colon < 0) return { kind, config: {} };
  let config: unknown;
  try {
    config = JSON.parse(spec.slice(colon + 1));
  } catch (e) {
    return { error: `${kind}: the config is not valid JSON (${(e as Error).message})` };
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return { error: `${kind}: the config must be a JSON object` };
  return { kind, config: config as Record<string, unknown> };
}

/**
 * The scorers the lab knows: `random`, every kind of `registry` that needs no artifact (as a
 * heuristic scorer, config = the kind's params), and `extra` (e.g. the learned `model`), which
 * win over a registry kind of the same name. `all` is what `--recommender all` runs: every one
 * but `none` (it recommends nothing: a random ranking under another name).
 */
export function labScorers(
  registry: RecommenderRegistry,
  extra: ReadonlyMap<string, ScorerFactory> = new Map(),
): { factories: Map<string, ScorerFactory>; all: string[] } {
  const factories = new Map<string, ScorerFactory>();
  factories.set('random', (_config, ctx) => randomScorer(ctx.seed));
  for (const k of registry.kinds()) {
    if (k.prepare !== undefined) continue;
    factories.set(k.kind, (config, ctx) =>
      heuristicScorer(registry, { kind: k.kind, version: LAB_PLACEMENT, params: config }, k.kind, ctx.articles),
    );
  }
  for (const [name, f] of extra) factories.set(name, f);
  return { factories, all: [...factories.keys()].filter((n) => n !== 'none') };
}
