import { BUILTIN_KINDS } from '../core/recommend/kinds/index.js';
import { RecommenderRegistry } from '../core/recommend/registry.js';

/**
 * The recommender kinds this build serves: the built-in heuristics. A new kind (a learned model)
 * is registered here, with its params spec, `create` and, if it loads an artifact, `prepare`; no
 * switch anywhere else changes (test/main/custom-kind.test.ts registers one from outside core).
 */
export function appRecommenders(): RecommenderRegistry {
  return new RecommenderRegistry().register(...BUILTIN_KINDS);
}
