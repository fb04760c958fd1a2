import type { RecommenderConfig } from '../core/recommend/types.js';
import type { SimPlatform } from '../core/simulate/platform.js';
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
  close(): Promise<void>;
}

/** A platform the orchestrator can drive end to end. */
export type SimTarget = SimPlatform & SimControl;
