import { FEATURE_SPEC, FeatureState, type CandidateStats } from '../../ml/features.js';
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
 * 3. a first pass: every candidate's sum of the first `prescoreTrees` trees; 4. the best `rerank`
 * of them (at least `limit`) get the remaining trees, so their scores are the full model's exactly;
 * 5. the best `limit` of those. With rerank 0 (or at least as many candidates) every candidate gets
 * every tree. No share key: the ranking depends on the reader. Scratch arrays are reused per
 * recommender (a request runs to completion).
 *
 * @example
 * registry.register(modelKind(async (v) => loadRanker(await store.getModel(Number(v)))));
 * deploy: { kind: 'model', version: '3' }
 */
/** Defaults of the two-stage ranking, chosen by measurement (docs in the kind's params; figures in the commit). */
const RERANK = 40;
const PRESCORE_TREES = 40;

export function modelKind(load: (version: string) => Promise<RankerArtifact>): RecommenderKind {
  return defineKind({
    kind: 'model',
    doc: 'a learned ranker trained with `readnext train`: candidates from co-reads, content, popular and latest, ranked per reader by gradient-boosted trees; `version` is the model version (`readnext model list`)',
    params: {
      candidates: { type: 'integer', default: 200, min: 10, max: 1000, doc: 'candidates scored per request' },
      rerank: {
        type: 'integer',
        default: RERANK,
        min: 0,
        max: 1000,
        doc: 'candidates, best by the first `prescoreTrees` trees, that get every tree (0 = all); the others are not returned',
      },
      prescoreTrees: {
        type: 'integer',
        default: PRESCORE_TREES,
        min: 1,
        max: 10_000,
        doc: 'trees of the first pass that picks the `rerank` candidates',
      },
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
      let rows = new Int32Array(p.candidates);
      const order: number[] = [];
      let ids: string[] = [];
      const stats: CandidateStats[] = [];
      const best = (a: number, b: number): number => raw[b]! - raw[a]! || (ids[a]! < ids[b]! ? -1 : 1);
      return {
        kind,
        version,
        recommend(ctx, limit) {
          // The feature state's own history of the reader (as in training), not the request's.
          const q = { readerId: ctx.readerId, articleId: ctx.articleId, ts: ctx.now };
          ids = features.candidates(q, ctx.eligible, p.candidates, ctx.horizon, stats);
          const n = ids.length;
          if (n === 0) return [];
          if (X.length < n * d) X = new Float32Array(n * d);
          if (raw.length < n) {
            raw = new Float64Array(n);
            rows = new Int32Array(n);
          }
          features.features(q, ids, X, 0, stats);
          const trees = scorer.trees;
          const keep = Math.max(p.rerank, limit);
          const pre = Math.min(p.prescoreTrees, trees);
          raw.fill(scorer.baseScore, 0, n);
          order.length = 0;
          if (p.rerank === 0 || keep >= n || pre >= trees) {
            scorer.addTrees(X, null, n, raw, 0, trees);
            for (let i = 0; i < n; i++) order.push(i);
          } else {
            scorer.addTrees(X, null, n, raw, 0, pre);
            for (let i = 0; i < n; i++) order.push(i);
            order.sort(best);
            order.length = keep;
            for (let i = 0; i < keep; i++) rows[i] = order[i]!;
            scorer.addTrees(X, rows, keep, raw, pre, trees);
          }
          order.sort(best);
          const scores = raw;
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
