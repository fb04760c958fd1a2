/**
 * The model registry for the admin API (GET /v1/admin/models, POST /v1/admin/models/train): the
 * registry's summaries with where each model is deployed, and training on the stored events as
 * `readnext train` does, one training at a time in this process. The training use case and its
 * trees are imported on first use (src/app/training.ts), so a server that never trains loads none.
 * A server trains in a worker thread (`trainer`: src/main/jobs.ts), so its event loop stays free.
 */
import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { ModelSummary } from '../core/ml/model.js';
import type { ArticleStore, ModelStore, PlacementStore } from './ports.js';
import type { ModelDetails } from './training.js';

const DAY_MS = 86_400_000;
/** The training window when the request names no `since`: as `readnext train`. */
export const DEFAULT_TRAIN_DAYS = 7;

/** A registry entry as the admin API answers it: the summary (no trees), its creation time, where it is deployed. */
export type ModelView = ModelSummary & { createdAt: string; deployedAt: string[] };

export interface TrainRequest {
  placement: string;
  /** Epoch ms; default `untilTs` − 7 days. */
  sinceTs?: number;
  /** Epoch ms, excluded; default now. */
  untilTs?: number;
  /** Seed of the trees (default 1). */
  seed?: number;
}

export interface ModelAdminDeps {
  store: ModelStore & Pick<PlacementStore, 'listPlacements' | 'listExperiments'>;
  articles: Pick<ArticleStore, 'articlesStoredSince'>;
  clock: Clock;
  /** Monotonic milliseconds (performance.now), for the training time. */
  timer: () => number;
  /**
   * Runs trainModel on a resolved window and stores the model elsewhere than on this event loop (a
   * worker thread with its own storage: src/main/jobs.ts); rejects with trainModel's DomainErrors.
   * Unset: trainModel runs here, on `store` (the CLI, an in-memory database).
   */
  trainer?: (opts: { placement: string; sinceTs: number; untilTs: number; seed: number }) => Promise<{ version: number }>;
}

/** What is training now, for the 409 of a second request. */
export interface RunningTraining {
  placement: string;
  startedTs: number;
}

export class ModelAdmin {
  private running: RunningTraining | null = null;

  constructor(private readonly deps: ModelAdminDeps) {}

  /** The stored models, newest first, optionally of one placement. */
  async list(placement?: string): Promise<ModelView[]> {
    const { ModelRegistry } = await import('./training.js');
    const registry = new ModelRegistry(this.deps.store);
    const models = await registry.list(placement);
    return Promise.all(models.map(async (m) => view(m, await registry.deployedAt(m.version))));
  }

  /** One model with its feature importances and tree count; DomainError not_found otherwise. */
  async show(version: number): Promise<ModelDetails & ModelView> {
    const { ModelRegistry } = await import('./training.js');
    const registry = new ModelRegistry(this.deps.store);
    const m = await registry.show(version);
    return { ...m, ...view(m, await registry.deployedAt(version)) };
  }

  /** The training now running in this process, if any. */
  get training(): RunningTraining | null {
    return this.running;
  }

  /**
   * Trains a ranker for a placement on the stored events of [since, until) and stores it
   * (trainModel); resolves once it is stored. Refuses (DomainError conflict) while another
   * training runs in this process; the window as trainModel (invalid_field, invalid_state).
   */
  async train(req: TrainRequest): Promise<ModelDetails & ModelView> {
    if (this.running)
      throw new DomainError(
        'conflict',
        `a model for placement "${this.running.placement}" is being trained since ${new Date(this.running.startedTs).toISOString()}: one training at a time, try again once it is done`,
      );
    const now = this.deps.clock.now();
    this.running = { placement: req.placement, startedTs: now };
    try {
      const untilTs = req.untilTs ?? now;
      const sinceTs = req.sinceTs ?? untilTs - DEFAULT_TRAIN_DAYS * DAY_MS;
      const opts = { placement: req.placement, sinceTs, untilTs, seed: req.seed ?? 1 };
      if (this.deps.trainer) return this.show((await this.deps.trainer(opts)).version);
      const { trainModel } = await import('./training.js');
      const m = await trainModel(
        { models: this.deps.store, articles: this.deps.articles, clock: this.deps.clock, timer: this.deps.timer },
        opts,
      );
      return this.show(m.version);
    } finally {
      this.running = null;
    }
  }
}

const view = <M extends ModelSummary>(m: M, deployedAt: string[]): M & { createdAt: string; deployedAt: string[] } => ({
  ...m,
  createdAt: new Date(m.createdTs).toISOString(),
  deployedAt,
});
