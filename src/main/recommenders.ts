import type { ModelStore } from '../app/ports.js';
import { BUILTIN_KINDS } from '../core/recommend/kinds/index.js';
import { modelKind } from '../core/recommend/kinds/model.js';
import { loadRanker, type RankerArtifact } from '../core/ml/model.js';
import { RecommenderRegistry } from '../core/recommend/registry.js';

/**
 * The recommender kinds this build serves: the built-in heuristics, then `model` (a learned
 * ranker loaded by version from `models`, the model registry). A new kind is registered here, with
 * its params spec, `create` and, if it loads an artifact, `prepare`; no switch anywhere else
 * changes (test/main/custom-kind.test.ts registers one from outside core). Without `models` (the
 * CLI's admin side validates deployments only) a model never loads.
 */
export function appRecommenders(models?: Pick<ModelStore, 'getModel'>): RecommenderRegistry {
  return new RecommenderRegistry().register(
    ...BUILTIN_KINDS,
    modelKind((version) => loadModel(models, version)),
  );
}

async function loadModel(models: Pick<ModelStore, 'getModel'> | undefined, version: string): Promise<RankerArtifact> {
  if (!models) return { ok: false, error: 'no model registry in this process' };
  if (!/^[1-9]\d{0,14}$/.test(version))
    return { ok: false, error: `model versions are positive integers (readnext model list), not "${version}"` };
  const record = await models.getModel(Number(version));
  if (!record) return { ok: false, error: `no model version ${version} in the registry (readnext model list)` };
  return loadRanker(record);
}
