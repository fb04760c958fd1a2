import type { FreshState } from '../fresh-state.js';
import { RecommenderRegistry, type RecommenderKind } from '../registry.js';
import type { Recommender, RecommenderConfig } from '../types.js';
import { coRead } from './co-read.js';
import { latest } from './latest.js';
import { none } from './none.js';
import { popular } from './popular.js';
import { sameSection } from './same-section.js';

/** The heuristics every process registers (src/main/recommenders.ts), in the README's order. */
export const BUILTIN_KINDS: readonly RecommenderKind[] = Object.freeze([none, latest, popular, sameSection, coRead]);

/** A registry holding the built-in kinds only. */
export const builtinRegistry = (): RecommenderRegistry => new RecommenderRegistry().register(...BUILTIN_KINDS);

/**
 * Builds a recommender of a kind without an artifact (tests, offline evaluation); bad configs
 * throw a DomainError naming the field.
 *
 * @example
 * createRecommender({ kind: 'popular', version: '2', params: { halfLifeMinutes: 20 } }, state)
 */
export function createRecommender(
  config: RecommenderConfig,
  state: FreshState,
  registry: RecommenderRegistry = builtinRegistry(),
): Recommender {
  return registry.build(config, state);
}
