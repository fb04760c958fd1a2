import { FEATURE_SPEC, FeatureState } from '../../ml/features.js';
import type { RankerArtifact } from '../../ml/model.js';
import { defineKind, type RecommenderKind } from '../registry.js';
import type { Candidate } from '../types.js';

/**
 * The `model` kind: a ranker trained by `readnext train`, deployed by its version like any
 * heuristic. `load` (given by main: the model registry) turns a version into a compiled ranker or
 * the reason there is none; it never throws. A model that did not load builds a recommender whose
 * every call throws that reason, so serving counts a fault and falls back through the
 * placement's chain (slate.ts), and never answers an error because of a model.
 *
 * Per request: 1. candidates (FeatureState.candidates, eligible ones only); 2. their feature rows;
 * 3. the trees' scores; 4. the best `limit`. No share key: the ranking depends on the reader.
 *
 * @example
 * registry.register(modelKind(async (v) => loadRanker(await store.getModel(Number(v)))));
 * deploy: { kind: 'model', version: '3' }
 */
export function modelKind(load: (version: string) => Promise<RankerArtifact>): RecommenderKind {
  return defineKind({
    kind: 'model',
    doc: 'a learned ranker trained with `readnext train`: candidates from co-reads, content, popular and latest, ranked per reader by gradient-boosted trees; `version` is the model version (`readnext model list`)',
    params: {
      candidates: { type: 'integer', default: 200, min: 10, max: 1000, doc: 'candidates scored per request' },
    },
    prepare: ({ version }): Promise<RankerArtifact> =>
      load(version).catch((e: unknown) => ({ ok: false, error: `model ${version}: ${e instanceof Error ? e.message : String(e)}` })),
    create({ kind, version, params: p }, state, artifact: RankerArtifact) {
      if (!artifact.ok) {
        const error = artifact.error;
        return {
          kind,
          version,
          recommend() {
            throw new Error(error);
          },
        };
      }
      const { scorer, params } = artifact.ranker;
      // One feature state per feature parameters, fed by the FreshState (built from its retained log on first use).
      const features = state.observer(
        `features:v${FEATURE_SPEC.version}:${JSON.stringify(params)}`,
        () => new FeatureState(state.catalog, params, state.options.maxReaders),
      );
      const reason = `ranked by model ${version}`;
      const d = FEATURE_SPEC.names.length;
      let X = new Float32Array(p.candidates * d);
      let raw = new Float64Array(p.candidates);
      return {
        kind,
        version,
        recommend(ctx, limit) {
          // The feature state's own history of the reader (as in training), not the request's.
          const q = { readerId: ctx.readerId, articleId: ctx.articleId, ts: ctx.now };
          const ids = features.candidates(q, ctx.eligible, p.candidates);
          if (ids.length === 0) return [];
          if (X.length < ids.length * d) X = new Float32Array(ids.length * d);
          if (raw.length < ids.length) raw = new Float64Array(ids.length);
          features.features(q, ids, X, 0);
          const scores = scorer.predictRawBatch(X, ids.length, raw);
          const order = ids.map((_, i) => i);
          order.sort((a, b) => scores[b]! - scores[a]! || (ids[a]! < ids[b]! ? -1 : 1));
          const out: Candidate[] = [];
          for (let i = 0; i < order.length && out.length < limit; i++) {
            const at = order[i]!;
            const score = scores[at]!;
            if (!Number.isFinite(score)) throw new Error(`model ${version} scored ${ids[at]} ${score}`);
            out.push({ articleId: ids[at]!, score, reason });
          }
          return out;
        },
      };
    },
  });
}
