import type { RecommenderConfig } from '../core/recommend/types.js';
import type { SimPlatform } from '../core/simulate/platform.js';
import type { GbdtParams } from '../core/ml/gbdt.js';
import type { Engine } from '../core/stats/compare.js';
import type { ExperimentReport } from './analysis.js';

/**
 * What the simulation's orchestrator (app/sim-experiment.ts) needs besides the world's calls:
 * deploying, running an experiment, reading its report. Implemented in process over the app
 * services (app/sim-platform.ts) and over HTTP with the admin key (adapters/simclient).
 */
export interface SimControl {
  /** Makes `live` the placement's live recommender (creating the placement's deployment if needed). */
  deployLive(placement: string, live: RecommenderConfig): Promise<void>;
  /** Creates and starts an experiment (the `readnext experiment create` JSON); resolves to its id. */
  startExperiment(experiment: unknown): Promise<string>;
  /** The experiment report at the platform's current clock, rollups caught up fully. */
  report(experimentId: string, opts?: { engine?: Engine; alpha?: number }): Promise<ExperimentReport>;
  /**
   * Trains a ranker for `placement` on the events stored in [sinceTs, untilTs) and stores it in the
   * model registry (app/training.ts); resolves to its version and offline figures. Only where the
   * platform's database is at hand (in process); absent over HTTP, where `readnext train --db` does it.
   */
  train?(placement: string, opts: SimTrainOptions): Promise<SimTrainedModel>;
  close(): Promise<void>;
}

export interface SimTrainOptions {
  sinceTs: number;
  untilTs: number;
  seed: number;
  gbdt?: Partial<GbdtParams>;
}

/** A model the simulation trained: its registry version and the offline figures `readnext model show` prints. */
export interface SimTrainedModel {
  version: string;
  /** AUC on the latest 20 % of the window's impressions (null without a click there). */
  auc: number | null;
  trainExamples: number;
  trainClickRate: number;
}

/** A platform the orchestrator can drive end to end. */
export type SimTarget = SimPlatform & SimControl;
