import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import { normaliseWeights, overlaps, parseExperiment, type Experiment } from '../core/experiments/experiment.js';
import { DEFAULT_PLACEMENT, parsePlacementConfig, type Guardrails, type PlacementConfig } from '../core/recommend/placement.js';
import type { RecommenderRegistry } from '../core/recommend/registry.js';
import type { RecommenderConfig } from '../core/recommend/types.js';
import type { Actor, PlacementStore, StoredExperiment, StoredPlacement } from './ports.js';

/** A placement's deployment as stored: its config, revision and the running experiments on it (oldest start first). */
export interface Deployment {
  config: PlacementConfig;
  revision: number;
  experiments: StoredExperiment[];
}

/** The experiments as of one moment, looked up without I/O (the live placements, or a snapshot read by `DeploymentAdmin.experiments`). */
export interface ExperimentView {
  listExperiments(): StoredExperiment[];
  getExperiment(id: string): StoredExperiment | undefined;
}

/** A canary to start: the recommender, its share of readers and guardrails (checked by parsePlacementConfig). */
export interface CanaryInput {
  recommender: RecommenderConfig;
  percent: number;
  guardrails: Partial<Guardrails>;
}

/** Re-reads a stored placement through the parser: configs stored by an older version get today's defaults (e.g. no shadows). */
export const currentConfig = (p: StoredPlacement): PlacementConfig => parsePlacementConfig(p.name, p.config, p.updatedTs);

/** The running experiments on a placement, oldest start first (the order serving tries them in). */
export const runningOn = (placement: string, experiments: Iterable<StoredExperiment>): StoredExperiment[] =>
  [...experiments]
    .filter((e) => e.experiment.status === 'running' && e.experiment.placement === placement)
    .sort((a, b) => (a.experiment.startedTs ?? 0) - (b.experiment.startedTs ?? 0));

/**
 * The admin side of deployments: what each placement serves (live, fallbacks, shadows, canary) and
 * the experiments that split its traffic. Every change is validated against the recommender
 * registry (no serving state needed), written with a compare-and-set on the revision and audited.
 * Serving picks changes up by polling the deploy version (LivePlacements.refresh); `onChange`
 * runs after every write so the same process serves the change before the write returns.
 * Used by the HTTP admin API and the CLI alike.
 */
export class DeploymentAdmin {
  constructor(
    private readonly store: PlacementStore,
    private readonly registry: RecommenderRegistry,
    private readonly clock: Clock,
    /** After each write (main: the live placements' refresh). */
    private readonly onChange: () => Promise<unknown> = async () => undefined,
  ) {}

  /** Creates the default "read-next" placement on a new database. */
  async init(): Promise<void> {
    if (!(await this.store.getPlacement(DEFAULT_PLACEMENT.name))) {
      await this.store.putPlacement(DEFAULT_PLACEMENT, 0, this.clock.now(), { actor: 'system', reason: 'default placement' }, 'create');
    }
  }

  async get(name: string): Promise<Deployment | undefined> {
    const [p, experiments] = await Promise.all([this.store.getPlacement(name), this.store.listExperiments()]);
    return p && { config: currentConfig(p), revision: p.revision, experiments: runningOn(p.name, experiments) };
  }

  async list(): Promise<Deployment[]> {
    const [placements, experiments] = await Promise.all([this.store.listPlacements(), this.store.listExperiments()]);
    return placements.map((p) => ({ config: currentConfig(p), revision: p.revision, experiments: runningOn(p.name, experiments) }));
  }

  /** Every experiment as stored now, to look up without I/O (the CLI's reports). */
  async experiments(): Promise<ExperimentView> {
    const byId = new Map((await this.store.listExperiments()).map((e) => [e.experiment.id, e]));
    return { listExperiments: () => [...byId.values()], getExperiment: (id) => byId.get(id) };
  }

  // ---- placements

  /**
   * Creates or replaces a placement's deployment. `expectedRevision` guards against lost updates:
   * pass the revision you read (0 to create); a mismatch is a `conflict`.
   */
  async put(name: string, input: unknown, expectedRevision: number | undefined, by: Actor, action = 'deploy'): Promise<Deployment> {
    const config = parsePlacementConfig(name, input, this.clock.now());
    this.validatePlacement(config);
    const current = await this.store.getPlacement(name);
    const base = expectedRevision ?? current?.revision ?? 0;
    const revision = await this.store.putPlacement(config, base, this.clock.now(), by, current ? action : 'create');
    if (revision === undefined)
      throw new DomainError(
        'conflict',
        `placement "${name}" was changed by someone else (expected revision ${base}); read it again and retry`,
        { field: 'revision' },
      );
    await this.onChange();
    return (await this.get(name))!;
  }

  /**
   * Changes part of a deployment (live, shadows, canary...) keeping the rest, on the revision
   * read here (or `expectedRevision` when the caller decided on an earlier read).
   */
  async patch(
    name: string,
    change: Partial<Omit<PlacementConfig, 'name' | 'canary'>> & { canary?: (CanaryInput & { startedTs: number }) | null },
    by: Actor,
    action: string,
    expectedRevision?: number,
  ): Promise<Deployment> {
    const current = await this.mustGet(name);
    const { name: _n, ...rest } = { ...currentConfig(current), ...change };
    return this.put(name, rest, expectedRevision ?? current.revision, by, action);
  }

  setLive(name: string, recommender: RecommenderConfig, by: Actor): Promise<Deployment> {
    return this.patch(name, { live: recommender }, by, 'set live');
  }

  /** Adds a shadow (computed on live requests and logged, never shown); one of the same kind and version is replaced. */
  async addShadow(name: string, recommender: RecommenderConfig, by: Actor): Promise<Deployment> {
    const current = await this.mustGet(name);
    const shadows = [...sameRecommenderRemoved(currentConfig(current).shadows, recommender), recommender];
    return this.patch(name, { shadows }, by, 'add shadow', current.revision);
  }

  async removeShadow(name: string, recommender: Pick<RecommenderConfig, 'kind' | 'version'>, by: Actor): Promise<Deployment> {
    const current = await this.mustGet(name);
    const before = currentConfig(current).shadows;
    const shadows = sameRecommenderRemoved(before, recommender);
    if (shadows.length === before.length)
      throw new DomainError('unknown_recommender', `no shadow ${recommender.kind}@${recommender.version} on "${name}"`, { field: 'kind' });
    return this.patch(name, { shadows }, by, 'remove shadow', current.revision);
  }

  /**
   * Sets the placement's logged exploration (issue 18), or stops it (null): checked as any
   * deployment change ({share, pool}, placement.ts) and audited.
   */
  setExploration(name: string, exploration: unknown, by: Actor): Promise<Deployment> {
    return this.patch(name, { exploration } as Partial<PlacementConfig>, by, exploration === null ? 'stop exploration' : 'set exploration');
  }

  /** Starts a canary now (its guardrails count from now, and the time seeds its reader split). */
  startCanary(name: string, canary: CanaryInput, by: Actor): Promise<Deployment> {
    return this.patch(name, { canary: { ...canary, startedTs: this.clock.now() } }, by, 'start canary');
  }

  /**
   * Removes the canary. The guardrail passes the revision it judged (`expectedRevision`): when
   * several processes roll back at once, only the first write wins and the others get a conflict.
   */
  stopCanary(name: string, by: Actor, opts: { action?: string; expectedRevision?: number } = {}): Promise<Deployment> {
    return this.patch(name, { canary: null }, by, opts.action ?? 'stop canary', opts.expectedRevision);
  }

  /**
   * Restores the deployment a placement had at `toRevision` (default: the one before the current)
   * as a new revision: history is never rewritten.
   */
  async rollback(name: string, toRevision: number | undefined, by: Actor): Promise<Deployment> {
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
    if (!(await this.store.getPlacement(e.placement)))
      throw new DomainError('unknown_placement', `unknown placement "${e.placement}"`, { field: 'placement' });
    e.arms.forEach((a, i) => this.validateOne(a.recommender, `arms/${i}/recommender`));
    if (await this.store.getExperiment(e.id)) throw new DomainError('conflict', `experiment "${e.id}" exists`, { field: 'id' });
    const rev = await this.store.putExperiment(e, 0, this.clock.now(), by, 'create', { experiment: e });
    if (rev === undefined) throw new DomainError('conflict', `experiment "${e.id}" exists`, { field: 'id' });
    await this.onChange();
    return e;
  }

  async startExperiment(id: string, by: Actor): Promise<Experiment> {
    const { experiment: e, revision } = await this.mustGetExperiment(id);
    if (e.status !== 'draft')
      throw new DomainError('invalid_state', `experiment "${id}" is ${e.status}; only a draft can start`, { field: 'status' });
    const clash = (await this.store.listExperiments()).find(
      (o) => o.experiment.status === 'running' && o.experiment.id !== id && overlaps(o.experiment, e),
    );
    if (clash) {
      throw new DomainError(
        'overlapping_experiment',
        `experiment "${clash.experiment.id}" already runs in layer "${e.layer}" on an overlapping range; give this one a disjoint range or another layer`,
        { field: 'range' },
      );
    }
    const now = this.clock.now();
    const started: Experiment = {
      ...e,
      status: 'running',
      phase: 1,
      startedTs: now,
      phases: [{ phase: 1, startedTs: now, weights: e.arms.map((a) => a.weight), coverage: e.coverage, reRandomised: false }],
    };
    return this.writeExperiment(started, revision, by, 'start');
  }

  async stopExperiment(id: string, by: Actor): Promise<Experiment> {
    const { experiment: e, revision } = await this.mustGetExperiment(id);
    if (e.status !== 'running')
      throw new DomainError('invalid_state', `experiment "${id}" is ${e.status}; only a running experiment can stop`, { field: 'status' });
    return this.writeExperiment({ ...e, status: 'stopped', stoppedTs: this.clock.now() }, revision, by, 'stop');
  }

  /**
   * Changes the weights or audience of an experiment. On a running experiment this opens a new
   * phase; readers keep their arm unless `reRandomise` is set.
   */
  async changeExperiment(
    id: string,
    change: { weights?: number[]; coverage?: number; reRandomise?: boolean },
    by: Actor,
  ): Promise<Experiment> {
    const { experiment: e, revision } = await this.mustGetExperiment(id);
    if (e.status === 'stopped') throw new DomainError('invalid_state', `experiment "${id}" is stopped`, { field: 'status' });
    let weights = e.arms.map((a) => a.weight);
    if (change.weights !== undefined) {
      if (!Array.isArray(change.weights) || change.weights.length !== e.arms.length)
        throw new DomainError('invalid_field', `weights must list one weight per arm (${e.arms.length})`, { field: 'weights' });
      weights = normaliseWeights(change.weights, 'weights');
    }
    const coverage = change.coverage ?? e.coverage;
    if (typeof coverage !== 'number' || !(coverage >= 0 && coverage <= 1))
      throw new DomainError('invalid_field', 'coverage must be a number in [0, 1]', { field: 'coverage' });
    const arms = e.arms.map((a, i) => ({ ...a, weight: weights[i]! }));
    let next: Experiment = { ...e, arms, coverage };
    if (e.status === 'running') {
      const phase = e.phase + 1;
      next = {
        ...next,
        phase,
        phases: [...e.phases, { phase, startedTs: this.clock.now(), weights, coverage, reRandomised: change.reRandomise === true }],
      };
    }
    return this.writeExperiment(next, revision, by, e.status === 'running' ? `new phase ${next.phase}` : 'edit');
  }

  private async writeExperiment(e: Experiment, revision: number, by: Actor, action: string): Promise<Experiment> {
    const rev = await this.store.putExperiment(e, revision, this.clock.now(), by, action);
    if (rev === undefined)
      throw new DomainError('conflict', `experiment "${e.id}" was changed by someone else; retry`, { field: 'revision' });
    await this.onChange();
    return e;
  }

  private async mustGetExperiment(id: string) {
    const e = await this.store.getExperiment(id);
    if (!e) throw new DomainError('not_found', `no experiment "${id}"`, { field: 'id' });
    return e;
  }

  private async mustGet(name: string): Promise<StoredPlacement> {
    const p = await this.store.getPlacement(name);
    if (!p) throw new DomainError('unknown_placement', `unknown placement "${name}"`, { field: 'placement' });
    return p;
  }

  // ---- validation

  /** Every recommender of a deployment, in the order errors are reported: live, fallbacks, shadows, canary. */
  private validatePlacement(config: PlacementConfig): void {
    this.validateOne(config.live, 'live');
    config.fallbacks.forEach((f, i) => this.validateOne(f, `fallbacks/${i}`));
    config.shadows.forEach((s, i) => this.validateOne(s, `shadows/${i}`));
    if (config.canary) this.validateOne(config.canary.recommender, 'canary.recommender');
  }

  private validateOne(rc: RecommenderConfig, at: string): void {
    validateAt(this.registry, rc, at);
  }
}

/** Validates one recommender of a deployment; errors name where it sits (`fallbacks/1.params.lookback`), an unknown kind is `unknown_recommender`. */
export function validateAt(registry: RecommenderRegistry, rc: RecommenderConfig, at: string): void {
  try {
    registry.validate(rc);
  } catch (e) {
    if (e instanceof DomainError)
      throw new DomainError(e.code === 'invalid_field' && e.field === 'kind' ? 'unknown_recommender' : e.code, `${at}: ${e.message}`, {
        field: `${at}.${e.field ?? ''}`,
      });
    throw e;
  }
}

const sameRecommenderRemoved = (list: readonly RecommenderConfig[], rc: Pick<RecommenderConfig, 'kind' | 'version'>): RecommenderConfig[] =>
  list.filter((s) => !(s.kind === rc.kind && s.version === rc.version));
