import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import { normaliseWeights, overlaps, parseExperiment, type Experiment } from '../core/experiments/experiment.js';
import type { FreshState } from '../core/recommend/fresh-state.js';
import { createRecommender } from '../core/recommend/heuristics/index.js';
import { DEFAULT_PLACEMENT, parsePlacementConfig, type PlacementConfig } from '../core/recommend/placement.js';
import type { Recommender, RecommenderConfig } from '../core/recommend/types.js';
import type { Actor, PlacementStore, StoredPlacement } from './ports.js';

/** A running experiment with its arms' recommenders built. */
export interface LiveExperiment {
  experiment: Experiment;
  revision: number;
  arms: Recommender[];
}

/** A placement ready to serve: its deployment and every recommender in it, built once per revision. */
export interface LivePlacement {
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
 * Deployments: what each placement serves (live, fallbacks, shadows, canary) and the experiments
 * that split its traffic. Every change is validated by building its recommenders first, written
 * with a compare-and-set on the revision and audited; serving nodes pick changes up by polling the
 * deploy version (`refresh`), so no restart is ever needed. Swapping the in-memory maps is atomic:
 * a request in flight finishes on the objects it started with.
 */
export class Deployments {
  private live = new Map<string, LivePlacement>();
  private experiments = new Map<string, { experiment: Experiment; revision: number }>();
  private version = -1;

  constructor(
    private readonly store: PlacementStore,
    private readonly state: FreshState,
    private readonly clock: Clock,
  ) {}

  /** Loads everything; creates the default "read-next" placement on a new database. */
  async load(): Promise<void> {
    if (!(await this.store.getPlacement(DEFAULT_PLACEMENT.name))) {
      await this.store.putPlacement(DEFAULT_PLACEMENT, 0, this.clock.now(), { actor: 'system', reason: 'default placement' }, 'create');
    }
    await this.refresh(true);
  }

  /** Reloads when the deploy version moved; returns true when it did. */
  async refresh(force = false): Promise<boolean> {
    const version = await this.store.deployVersion();
    if (!force && version === this.version) return false;
    const [placements, experiments] = await Promise.all([this.store.listPlacements(), this.store.listExperiments()]);
    this.experiments = new Map(experiments.map((e) => [e.experiment.id, e]));
    const next = new Map<string, LivePlacement>();
    for (const p of placements) next.set(p.name, this.build(p));
    this.live = next;
    this.version = version;
    return true;
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

  listExperiments(): { experiment: Experiment; revision: number }[] {
    return [...this.experiments.values()];
  }

  getExperiment(id: string): { experiment: Experiment; revision: number } | undefined {
    return this.experiments.get(id);
  }

  // ---- placements

  /**
   * Creates or replaces a placement's deployment. `expectedRevision` guards against lost updates:
   * pass the revision you read (0 to create); a mismatch is a `conflict`.
   */
  async put(name: string, input: unknown, expectedRevision: number | undefined, by: Actor, action = 'deploy'): Promise<LivePlacement> {
    const config = parsePlacementConfig(name, input, this.clock.now());
    this.buildChecked(config);
    const current = await this.store.getPlacement(name);
    const base = expectedRevision ?? current?.revision ?? 0;
    const revision = await this.store.putPlacement(config, base, this.clock.now(), by, current ? action : 'create');
    if (revision === undefined) throw new DomainError('conflict', `placement "${name}" was changed by someone else (expected revision ${base}); read it again and retry`, { field: 'revision' });
    await this.refresh();
    return this.live.get(name)!;
  }

  /** Changes part of a deployment (live, shadows, canary...) keeping the rest. */
  async patch(name: string, change: Partial<PlacementConfig>, by: Actor, action: string): Promise<LivePlacement> {
    const current = this.mustGet(name);
    const { name: _n, ...rest } = { ...current.config, ...change };
    return this.put(name, rest, current.revision, by, action);
  }

  /**
   * Restores the deployment a placement had at `toRevision` (default: the one before the current)
   * as a new revision: history is never rewritten.
   */
  async rollback(name: string, toRevision: number | undefined, by: Actor): Promise<LivePlacement> {
    const current = await this.store.getPlacement(name);
    if (!current) throw new DomainError('unknown_placement', `unknown placement "${name}"`, { field: 'placement' });
    const target = toRevision ?? current.revision - 1;
    const old = target >= 1 ? await this.store.getPlacementRevision(name, target) : undefined;
    if (!old) throw new DomainError('unknown_version', `placement "${name}" has no revision ${target}`, { field: 'to' });
    const { name: _n, ...config } = old.config;
    return this.put(name, config, current.revision, by, `rollback to ${target}`);
  }

  history(name: string) {
    return this.store.listPlacementRevisions(name);
  }

  // ---- experiments

  async createExperiment(input: unknown, by: Actor): Promise<Experiment> {
    const e = parseExperiment(input, this.clock.now());
    if (!this.live.has(e.placement)) throw new DomainError('unknown_placement', `unknown placement "${e.placement}"`, { field: 'placement' });
    e.arms.forEach((a, i) => this.buildOne(a.recommender, `arms/${i}/recommender`));
    if (await this.store.getExperiment(e.id)) throw new DomainError('conflict', `experiment "${e.id}" exists`, { field: 'id' });
    const rev = await this.store.putExperiment(e, 0, this.clock.now(), by, 'create', { experiment: e });
    if (rev === undefined) throw new DomainError('conflict', `experiment "${e.id}" exists`, { field: 'id' });
    await this.refresh();
    return e;
  }

  async startExperiment(id: string, by: Actor): Promise<Experiment> {
    const { experiment: e, revision } = await this.mustGetExperiment(id);
    if (e.status !== 'draft') throw new DomainError('invalid_state', `experiment "${id}" is ${e.status}; only a draft can start`, { field: 'status' });
    const clash = this.listExperiments().find((o) => o.experiment.status === 'running' && o.experiment.id !== id && overlaps(o.experiment, e));
    if (clash) {
      throw new DomainError('overlapping_experiment', `experiment "${clash.experiment.id}" already runs in layer "${e.layer}" on an overlapping range; give this one a disjoint range or another layer`, { field: 'range' });
    }
    const now = this.clock.now();
    const started: Experiment = { ...e, status: 'running', phase: 1, startedTs: now, phases: [{ phase: 1, startedTs: now, weights: e.arms.map((a) => a.weight), coverage: e.coverage, reRandomised: false }] };
    return this.writeExperiment(started, revision, by, 'start');
  }

  async stopExperiment(id: string, by: Actor): Promise<Experiment> {
    const { experiment: e, revision } = await this.mustGetExperiment(id);
    if (e.status !== 'running') throw new DomainError('invalid_state', `experiment "${id}" is ${e.status}; only a running experiment can stop`, { field: 'status' });
    return this.writeExperiment({ ...e, status: 'stopped', stoppedTs: this.clock.now() }, revision, by, 'stop');
  }

  /**
   * Changes the weights or audience of an experiment. On a running experiment this opens a new
   * phase; readers keep their arm unless `reRandomise` is set.
   */
  async changeExperiment(id: string, change: { weights?: number[]; coverage?: number; reRandomise?: boolean }, by: Actor): Promise<Experiment> {
    const { experiment: e, revision } = await this.mustGetExperiment(id);
    if (e.status === 'stopped') throw new DomainError('invalid_state', `experiment "${id}" is stopped`, { field: 'status' });
    let weights = e.arms.map((a) => a.weight);
    if (change.weights !== undefined) {
      if (!Array.isArray(change.weights) || change.weights.length !== e.arms.length) throw new DomainError('invalid_field', `weights must list one weight per arm (${e.arms.length})`, { field: 'weights' });
      weights = normaliseWeights(change.weights, 'weights');
    }
    const coverage = change.coverage ?? e.coverage;
    if (typeof coverage !== 'number' || !(coverage >= 0 && coverage <= 1)) throw new DomainError('invalid_field', 'coverage must be a number in [0, 1]', { field: 'coverage' });
    const arms = e.arms.map((a, i) => ({ ...a, weight: weights[i]! }));
    let next: Experiment = { ...e, arms, coverage };
    if (e.status === 'running') {
      const phase = e.phase + 1;
      next = { ...next, phase, phases: [...e.phases, { phase, startedTs: this.clock.now(), weights, coverage, reRandomised: change.reRandomise === true }] };
    }
    return this.writeExperiment(next, revision, by, e.status === 'running' ? `new phase ${next.phase}` : 'edit');
  }

  private async writeExperiment(e: Experiment, revision: number, by: Actor, action: string): Promise<Experiment> {
    const rev = await this.store.putExperiment(e, revision, this.clock.now(), by, action);
    if (rev === undefined) throw new DomainError('conflict', `experiment "${e.id}" was changed by someone else; retry`, { field: 'revision' });
    await this.refresh();
    return e;
  }

  private async mustGetExperiment(id: string) {
    const e = await this.store.getExperiment(id);
    if (!e) throw new DomainError('not_found', `no experiment "${id}"`, { field: 'id' });
    return e;
  }

  private mustGet(name: string): LivePlacement {
    const p = this.live.get(name);
    if (!p) throw new DomainError('unknown_placement', `unknown placement "${name}"`, { field: 'placement' });
    return p;
  }

  // ---- building

  private build(stored: StoredPlacement): LivePlacement {
    // Re-read through the parser: configs stored by an older version get today's defaults (e.g. no shadows).
    const p = { ...stored, config: parsePlacementConfig(stored.name, stored.config, stored.updatedTs) };
    const built = this.buildChecked(p.config);
    const experiments = [...this.experiments.values()]
      .filter((e) => e.experiment.status === 'running' && e.experiment.placement === p.name)
      .sort((a, b) => (a.experiment.startedTs ?? 0) - (b.experiment.startedTs ?? 0))
      .map((e) => ({ ...e, arms: e.experiment.arms.map((a) => createRecommender(a.recommender, this.state)) }));
    return { config: p.config, revision: p.revision, ...built, experiments };
  }

  private buildChecked(config: PlacementConfig): Pick<LivePlacement, 'chain' | 'shadows' | 'canary'> {
    return {
      chain: [this.buildOne(config.live, 'live'), ...config.fallbacks.map((f, i) => this.buildOne(f, `fallbacks/${i}`))],
      shadows: config.shadows.map((s, i) => this.buildOne(s, `shadows/${i}`)),
      canary: config.canary ? this.buildOne(config.canary.recommender, 'canary.recommender') : undefined,
    };
  }

  private buildOne(rc: RecommenderConfig, at: string): Recommender {
    try {
      return createRecommender(rc, this.state);
    } catch (e) {
      if (e instanceof DomainError) throw new DomainError(e.code === 'invalid_field' && e.field === 'kind' ? 'unknown_recommender' : e.code, `${at}: ${e.message}`, { field: `${at}.${e.field ?? ''}` });
      throw e;
    }
  }
}
