import type { Experiment } from '../core/experiments/experiment.js';
import type { FreshState } from '../core/recommend/fresh-state.js';
import type { PlacementConfig } from '../core/recommend/placement.js';
import { artifactKey, type RecommenderRegistry } from '../core/recommend/registry.js';
import type { Recommender, RecommenderConfig } from '../core/recommend/types.js';
import { currentConfig, runningOn, validateAt, type Deployment, type ExperimentView } from './deploy-admin.js';
import type { PlacementStore, StoredExperiment } from './ports.js';

/** A running experiment with its arms' recommenders built. */
export interface LiveExperiment {
  experiment: Experiment;
  revision: number;
  arms: Recommender[];
}

/** A placement ready to serve: its deployment and every recommender in it, built once per revision. */
export interface LivePlacement extends Deployment {
  config: PlacementConfig;
  revision: number;
  /** The live recommender, then the fallbacks. */
  chain: Recommender[];
  shadows: Recommender[];
  canary: Recommender | undefined;
  /** Running experiments on this placement, oldest start first. */
  experiments: LiveExperiment[];
}

/**
 * What serving holds: every placement's recommenders and the running experiments' arms, built
 * against one FreshState. `refresh` polls the deploy version; when it moved it 1. reads every
 * placement and experiment, 2. prepares the artifacts of kinds that load one (kept while their
 * kind, version and params are unchanged), 3. builds every recommender, 4. swaps the maps at once:
 * a request in flight finishes on the objects it started with. Refreshes run one at a time, so
 * an older one never swaps in after a newer one.
 */
export class LivePlacements implements ExperimentView {
  private live = new Map<string, LivePlacement>();
  private experiments = new Map<string, StoredExperiment>();
  private artifacts = new Map<string, unknown>();
  private version = -1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: PlacementStore,
    private readonly registry: RecommenderRegistry,
    private readonly state: FreshState,
  ) {}

  /** Loads everything, whatever the deploy version. */
  async load(): Promise<void> {
    await this.refresh(true);
  }

  /** Reloads when the deploy version moved (or `force`); returns true when it did. */
  refresh(force = false): Promise<boolean> {
    const run = this.queue.then(() => this.reload(force));
    this.queue = run.catch(() => undefined);
    return run;
  }

  get deployVersion(): number {
    return this.version;
  }

  get(name: string): LivePlacement | undefined {
    return this.live.get(name);
  }

  list(): LivePlacement[] {
    return [...this.live.values()];
  }

  listExperiments(): StoredExperiment[] {
    return [...this.experiments.values()];
  }

  getExperiment(id: string): StoredExperiment | undefined {
    return this.experiments.get(id);
  }

  private async reload(force: boolean): Promise<boolean> {
    const version = await this.store.deployVersion();
    if (!force && version === this.version) return false;
    const [stored, experiments] = await Promise.all([this.store.listPlacements(), this.store.listExperiments()]);
    const placements = stored.map((p) => ({ config: currentConfig(p), revision: p.revision, experiments: runningOn(p.name, experiments) }));
    const artifacts = await this.prepare(placements);
    const build = (rc: RecommenderConfig, at: string): Recommender => {
      validateAt(this.registry, rc, at);
      const artifact = this.registry.needsArtifact(rc) ? artifacts.get(artifactKey(this.registry.validate(rc))) : undefined;
      return this.registry.build(rc, this.state, artifact);
    };
    const next = new Map<string, LivePlacement>();
    for (const { config, revision, experiments: running } of placements) {
      next.set(config.name, {
        config,
        revision,
        chain: [build(config.live, 'live'), ...config.fallbacks.map((f, i) => build(f, `fallbacks/${i}`))],
        shadows: config.shadows.map((s, i) => build(s, `shadows/${i}`)),
        canary: config.canary ? build(config.canary.recommender, 'canary.recommender') : undefined,
        experiments: running.map((e) => ({ ...e, arms: e.experiment.arms.map((a, i) => build(a.recommender, `arms/${i}/recommender`)) })),
      });
    }
    this.experiments = new Map(experiments.map((e) => [e.experiment.id, e]));
    this.live = next;
    this.artifacts = artifacts;
    this.version = version;
    return true;
  }

  /** The artifacts every deployed recommender needs: those already loaded are kept, the others loaded; unused ones are let go. */
  private async prepare(placements: Deployment[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    const configs = placements.flatMap((p) => [
      p.config.live,
      ...p.config.fallbacks,
      ...p.config.shadows,
      ...(p.config.canary ? [p.config.canary.recommender] : []),
      ...p.experiments.flatMap((e) => e.experiment.arms.map((a) => a.recommender)),
    ]);
    for (const rc of configs) {
      if (!this.registry.needsArtifact(rc)) continue;
      const key = artifactKey(this.registry.validate(rc));
      if (out.has(key)) continue;
      out.set(key, this.artifacts.has(key) ? this.artifacts.get(key) : await this.registry.prepare(rc));
    }
    return out;
  }
}
