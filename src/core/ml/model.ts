/**
 * A trained ranker as the model registry keeps it, and what serving makes of it. Pure: the registry
 * itself is a port (app/ports.ts ModelStore), the training use case app/training.ts.
 */
import { DEFAULT_FEATURE_PARAMS, FEATURE_SPEC, type FeatureParams, type FeatureSpec } from './features.js';
import { compileModel, type GbdtModel, type GbdtScorer } from './gbdt.js';

/** The features a model was trained on: their names and version, and the parameters they were computed with. */
export interface ModelFeatureSpec extends FeatureSpec {
  params: FeatureParams;
}

/** Offline figures of a training run, on the later slice of its window (the test slice). */
export interface ModelMetrics {
  trainExamples: number;
  trainImpressions: number;
  testExamples: number;
  testImpressions: number;
  trainClickRate: number;
  testClickRate: number;
  /** Pooled AUC of the model on the test slice (NaN → null when the slice has no click or no non-click). */
  auc: number | null;
  testLogLoss: number | null;
  /** Pooled AUC of single features on the same rows (higher = better signal): what the model must beat. */
  featureAuc: Record<string, number | null>;
  /** Position propensities used for the click weights, slot 1 first. */
  propensity: number[];
  trainSeconds: number;
  /** Start of the test slice, epoch ms. */
  testFromTs: number;
  /** Trees kept (absent on models stored before early stopping: every round's). */
  trees?: number;
  /**
   * Early stopping, when it ran: the latest examples of the training slice held out to validate
   * each round (trainExamples counts them too), and the round of their best log loss.
   */
  earlyStopping?: { validationExamples: number; bestRound: number } | null;
}

/** A stored model: its version (given by the registry), placement, features, window, seed, trees and metrics. */
export interface ModelRecord {
  version: number;
  placement: string;
  featureSpec: ModelFeatureSpec;
  /** The training window, epoch ms, [sinceTs, untilTs). */
  window: { sinceTs: number; untilTs: number };
  seed: number;
  model: GbdtModel;
  metrics: ModelMetrics;
  /** Bytes of the model's JSON. */
  sizeBytes: number;
  createdTs: number;
}

/** A model without its trees (listings). */
export type ModelSummary = Omit<ModelRecord, 'model'>;

/** A model ready to score: compiled trees and the feature parameters to compute its rows with. */
export interface LoadedRanker {
  version: number;
  scorer: GbdtScorer;
  params: FeatureParams;
}

/** What loading a model gave: the ranker, or why there is none (a message for the fault log). */
export type RankerArtifact = { ok: true; ranker: LoadedRanker } | { ok: false; error: string };

/** The feature spec this build computes, with the default parameters. */
export function currentFeatureSpec(params: FeatureParams = DEFAULT_FEATURE_PARAMS): ModelFeatureSpec {
  return { version: FEATURE_SPEC.version, names: [...FEATURE_SPEC.names], params };
}

/**
 * Compiles a stored model for serving, or says why it cannot be served by this build (another
 * feature version or feature list, trees of another width, a malformed model).
 */
export function loadRanker(record: Pick<ModelRecord, 'version' | 'featureSpec' | 'model'>): RankerArtifact {
  const spec = record.featureSpec;
  if (spec.version !== FEATURE_SPEC.version || spec.names.join(',') !== FEATURE_SPEC.names.join(','))
    return {
      ok: false,
      error: `model ${record.version} was trained on features v${spec.version}, this build computes v${FEATURE_SPEC.version}: train it again`,
    };
  try {
    const scorer = compileModel(record.model);
    if (scorer.d !== FEATURE_SPEC.names.length) throw new Error(`it takes ${scorer.d} features, not ${FEATURE_SPEC.names.length}`);
    return { ok: true, ranker: { version: record.version, scorer, params: { ...DEFAULT_FEATURE_PARAMS, ...spec.params } } };
  } catch (e) {
    return { ok: false, error: `model ${record.version} cannot be loaded: ${e instanceof Error ? e.message : String(e)}` };
  }
}
