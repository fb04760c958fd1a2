import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import { ExampleReplay, positionWeights, splitAt, type ExampleSet } from '../core/ml/examples.js';
import { DEFAULT_FEATURE_PARAMS, FEATURE_NAMES, type FeatureParams } from '../core/ml/features.js';
import { featureImportance, trainGbdt, compileModel, type GbdtParams } from '../core/ml/gbdt.js';
import { auc, logLoss } from '../core/ml/metrics.js';
import { currentFeatureSpec, type ModelMetrics, type ModelRecord, type ModelSummary } from '../core/ml/model.js';
import { CatalogIndex } from '../core/recommend/catalog-index.js';
import type { RecommenderConfig } from '../core/recommend/types.js';
import type { ArticleStore, ModelStore, PlacementStore } from './ports.js';

const DAY_MS = 86_400_000;
/** scikit-learn's early_stopping='auto' threshold (HistGradientBoostingClassifier). */
const EARLY_STOPPING_MIN_EXAMPLES = 10_000;

export interface TrainOptions {
  placement: string;
  /** The training window, epoch ms: impressions in [sinceTs, untilTs) become examples. */
  sinceTs: number;
  untilTs: number;
  seed: number;
  /** Events this long before `sinceTs` only warm the feature state (default 1 day). */
  warmupMs?: number;
  /** Share of the examples, the latest ones, kept for the offline evaluation (default 0.2). */
  testShare?: number;
  gbdt?: Partial<GbdtParams>;
  /**
   * Early stopping: the latest `validationShare` (default 0.1) of the training slice is held out
   * and boosting stops once its log loss has not improved for `rounds` rounds (default 10), the
   * trees kept up to the best round. `auto` (the default) as scikit-learn's HistGradientBoosting:
   * on when the training slice has more than 10,000 examples; `off` trains every round on it all.
   */
  earlyStopping?: 'auto' | 'off' | { rounds?: number; validationShare?: number };
  features?: FeatureParams;
  /** Progress: events replayed, then boosting rounds. */
  onProgress?(p: { stage: 'events'; events: number; share: number } | { stage: 'train'; round: number; rounds: number }): void;
}

export interface TrainingDeps {
  models: ModelStore;
  articles: Pick<ArticleStore, 'articlesStoredSince'>;
  clock: Clock;
  /** Monotonic milliseconds (performance.now), for the training time. */
  timer: () => number;
}

/** Single features whose AUC on the test slice is reported beside the model's (negated: lower is better). */
const BASELINES: readonly { name: (typeof FEATURE_NAMES)[number]; negate?: boolean }[] = [
  { name: 'co_ctx_jaccard' },
  { name: 'co_hist_max' },
  { name: 'text_ctx' },
  { name: 'pop_short' },
  { name: 'pop_long' },
  { name: 'ctr' },
  { name: 'age_hours', negate: true },
];

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * Trains a ranker for a placement from the stored events and stores it under a new version:
 *   1. load the catalog; replay the events of [sinceTs − warm-up, untilTs) in client-time order
 *      through the feature state, collecting the examples of the placement's impressions;
 *   2. split by time: the latest `testShare` of the examples is the test slice;
 *   3. train the GBDT on the rest, clicks weighted by inverse position propensity (examples.ts);
 *   4. evaluate on the test slice (AUC, log loss, single-feature AUCs);
 *   5. store the model with its feature spec, window, seed and metrics.
 * Refuses (DomainError invalid_state) a window without impressions, or without clicks in either slice.
 *
 * @example
 * const m = await trainModel(deps, { placement: 'read-next', sinceTs, untilTs, seed: 1 });
 */
export async function trainModel(deps: TrainingDeps, opts: TrainOptions): Promise<ModelRecord> {
  if (!(opts.untilTs > opts.sinceTs))
    throw new DomainError('invalid_field', 'the training window is empty: --until must be after --since', { field: 'until' });
  const params = opts.features ?? DEFAULT_FEATURE_PARAMS;
  // 1. Catalog and replay.
  const catalog = new CatalogIndex(await deps.articles.articlesStoredSince(0));
  const replay = new ExampleReplay(catalog, { placement: opts.placement, fromTs: opts.sinceTs, params });
  const from = opts.sinceTs - (opts.warmupMs ?? DAY_MS);
  let events = 0;
  await deps.models.scanTrainingEvents(from, opts.untilTs, (batch) => {
    for (const e of batch) replay.push(e);
    events += batch.length;
    const last = batch[batch.length - 1];
    if (last) opts.onProgress?.({ stage: 'events', events, share: Math.min(1, (last.clientTs - from) / (opts.untilTs - from)) });
  });
  const all = replay.done();
  if (all.n === 0)
    throw new DomainError('invalid_state', `no impressions of placement "${opts.placement}" in the training window: nothing to learn from`);
  // 2. Split by time, on the impression where the test share begins.
  const testShare = opts.testShare ?? 0.2;
  const cutTs = all.ts[Math.min(all.n - 1, Math.floor(all.n * (1 - testShare)))]!;
  const [train, test] = splitAt(all, cutTs);
  const clicks = (s: ExampleSet) => s.y.reduce((a, b) => a + b, 0);
  if (clicks(train) === 0 || clicks(train) === train.n)
    throw new DomainError(
      'invalid_state',
      `the training slice has ${clicks(train)} clicks in ${train.n} examples: it needs clicks and non-clicks`,
    );
  // 3. Train (on the earlier part of the slice when the later one validates for early stopping).
  const es = opts.earlyStopping ?? 'auto';
  const stopping = es === 'off' ? undefined : es === 'auto' ? (train.n > EARLY_STOPPING_MIN_EXAMPLES ? {} : undefined) : es;
  let fit = train;
  let valid: ExampleSet | undefined;
  if (stopping) {
    const share = stopping.validationShare ?? 0.1;
    if (!(share > 0 && share < 1))
      throw new DomainError('invalid_field', 'the validation share must be in (0, 1)', { field: 'validationShare' });
    [fit, valid] = splitAt(train, train.ts[Math.min(train.n - 1, Math.floor(train.n * (1 - share)))]!);
    // Too few to validate on (one impression holds the whole tail): train on everything.
    if (valid.n === 0 || fit.n === 0 || clicks(fit) === 0) [fit, valid] = [train, undefined];
  }
  const { weights, propensity } = positionWeights(fit);
  const t0 = deps.timer();
  const model = trainGbdt(
    { X: fit.X, n: fit.n, d: fit.d, y: fit.y, w: weights },
    { ...opts.gbdt, seed: opts.seed },
    {
      onProgress: (round, rounds) => opts.onProgress?.({ stage: 'train', round, rounds }),
      ...(valid ? { valid, earlyStopping: { rounds: stopping?.rounds ?? 10 } } : {}),
    },
  );
  const trainSeconds = (deps.timer() - t0) / 1000;
  // 4. Evaluate on the later slice.
  const scorer = compileModel(model);
  const raw = scorer.predictRawBatch(test.X, test.n, new Float64Array(test.n));
  const probs = raw.map((r) => 1 / (1 + Math.exp(-r)));
  const featureAuc: Record<string, number | null> = {};
  for (const b of BASELINES) {
    const c = FEATURE_NAMES.indexOf(b.name);
    const col = new Float64Array(test.n);
    for (let i = 0; i < test.n; i++) col[i] = (b.negate ? -1 : 1) * test.X[i * test.d + c]!;
    featureAuc[b.negate ? `-${b.name}` : b.name] = test.n > 0 ? finiteOrNull(auc(col, test.y)) : null;
  }
  const metrics: ModelMetrics = {
    trainExamples: train.n,
    trainImpressions: train.impressions,
    testExamples: test.n,
    testImpressions: test.impressions,
    trainClickRate: clicks(train) / train.n,
    testClickRate: test.n > 0 ? clicks(test) / test.n : 0,
    auc: test.n > 0 ? finiteOrNull(auc(raw, test.y)) : null,
    testLogLoss: test.n > 0 ? finiteOrNull(logLoss(probs, test.y)) : null,
    featureAuc,
    propensity: propensity.slice(1),
    trainSeconds,
    testFromTs: cutTs,
    trees: model.trees.length,
    earlyStopping: valid ? { validationExamples: valid.n, bestRound: model.metrics?.bestRound ?? model.trees.length } : null,
  };
  // 5. Store.
  const json = JSON.stringify(model);
  const record: Omit<ModelRecord, 'version'> = {
    placement: opts.placement,
    featureSpec: currentFeatureSpec(params),
    window: { sinceTs: opts.sinceTs, untilTs: opts.untilTs },
    seed: opts.seed,
    model,
    metrics,
    sizeBytes: new TextEncoder().encode(json).length,
    createdTs: deps.clock.now(),
  };
  const version = await deps.models.putModel(record);
  return { ...record, version };
}

/** A stored model with its feature importances (total split gain per feature, largest first). */
export interface ModelDetails extends ModelSummary {
  importance: { feature: string; gain: number }[];
  trees: number;
}

/** The registry's read and delete use cases (readnext model ...). */
export class ModelRegistry {
  constructor(private readonly store: ModelStore & Pick<PlacementStore, 'listPlacements' | 'listExperiments'>) {}

  list(placement?: string): Promise<ModelSummary[]> {
    return this.store.listModels(placement === undefined ? {} : { placement });
  }

  async show(version: number): Promise<ModelDetails> {
    const m = await this.store.getModel(version);
    if (!m) throw new DomainError('not_found', `no model version ${version}`, { field: 'version' });
    const gains = featureImportance(m.model);
    const { model, ...summary } = m;
    return {
      ...summary,
      trees: model.trees.length,
      importance: gains
        .map((gain, i) => ({ feature: m.featureSpec.names[i] ?? `f${i}`, gain }))
        .sort((a, b) => b.gain - a.gain || (a.feature < b.feature ? -1 : 1)),
    };
  }

  async compare(a: number, b: number): Promise<[ModelDetails, ModelDetails]> {
    return [await this.show(a), await this.show(b)];
  }

  /** Deletes a model no deployment or experiment uses (DomainError invalid_state names where it is deployed). */
  async delete(version: number): Promise<void> {
    const uses = await this.deployedAt(version);
    if (uses.length > 0)
      throw new DomainError('invalid_state', `model ${version} is deployed (${uses.join(', ')}): take it out of those deployments first`);
    if (!(await this.store.deleteModel(version))) throw new DomainError('not_found', `no model version ${version}`, { field: 'version' });
  }

  /** Where `kind: model` with this version is deployed: `placement/live`, `placement/shadows`, `experiment ID`... */
  async deployedAt(version: number): Promise<string[]> {
    const is = (rc: RecommenderConfig | undefined) => rc?.kind === 'model' && rc.version === String(version);
    const out: string[] = [];
    for (const p of await this.store.listPlacements()) {
      const c = p.config;
      if (is(c.live)) out.push(`${p.name} live`);
      if (c.fallbacks.some(is)) out.push(`${p.name} fallbacks`);
      if (c.shadows.some(is)) out.push(`${p.name} shadows`);
      if (is(c.canary?.recommender)) out.push(`${p.name} canary`);
    }
    for (const { experiment: e } of await this.store.listExperiments())
      if (e.status !== 'stopped' && e.arms.some((a) => is(a.recommender))) out.push(`experiment ${e.id}`);
    return out;
  }
}
