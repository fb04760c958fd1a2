import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { FreshState } from '../core/recommend/fresh-state.js';
import { createRecommender } from '../core/recommend/heuristics/index.js';
import { DEFAULT_PLACEMENT, parsePlacementConfig, type PlacementConfig } from '../core/recommend/placement.js';
import type { Recommender } from '../core/recommend/types.js';
import type { PlacementStore, StoredPlacement } from './ports.js';

/** A placement ready to serve: its config and its recommender chain, built once per revision. */
export interface LivePlacement {
  config: PlacementConfig;
  revision: number;
  /** live first, then the fallbacks. */
  chain: Recommender[];
}

/**
 * The placements this process serves, cached in memory with their built recommenders. Changes go
 * through `put` (validated by building every recommender first, then a compare-and-set on the
 * revision) and reach other processes through `refresh`.
 */
export class Placements {
  private live = new Map<string, LivePlacement>();

  constructor(
    private readonly store: PlacementStore,
    private readonly state: FreshState,
    private readonly clock: Clock,
  ) {}

  /** Loads every placement; creates the default "read-next" placement on a new database. */
  async load(): Promise<void> {
    if (!(await this.store.getPlacement(DEFAULT_PLACEMENT.name))) {
      await this.store.putPlacement(DEFAULT_PLACEMENT, 0, this.clock.now());
    }
    await this.refresh();
  }

  /** Picks up changes made by other processes; returns the names that changed. */
  async refresh(): Promise<string[]> {
    const changed: string[] = [];
    const next = new Map<string, LivePlacement>();
    for (const p of await this.store.listPlacements()) {
      const cur = this.live.get(p.name);
      if (cur && cur.revision === p.revision) {
        next.set(p.name, cur);
        continue;
      }
      next.set(p.name, this.build(p));
      changed.push(p.name);
    }
    this.live = next;
    return changed;
  }

  get(name: string): LivePlacement | undefined {
    return this.live.get(name);
  }

  list(): LivePlacement[] {
    return [...this.live.values()];
  }

  /**
   * Creates or replaces a placement. `expectedRevision` guards against lost updates: pass the
   * revision you read (0 to create); a mismatch is a `conflict`.
   */
  async put(name: string, input: unknown, expectedRevision: number | undefined): Promise<LivePlacement> {
    const config = parsePlacementConfig(name, input);
    const chain = this.buildChain(config);
    const current = await this.store.getPlacement(name);
    const base = expectedRevision ?? current?.revision ?? 0;
    const revision = await this.store.putPlacement(config, base, this.clock.now());
    if (revision === undefined) throw new DomainError('conflict', `placement "${name}" was changed by someone else (expected revision ${base}); read it again and retry`, { field: 'revision' });
    const lp = { config, revision, chain };
    this.live.set(name, lp);
    return lp;
  }

  private build(p: StoredPlacement): LivePlacement {
    return { config: p.config, revision: p.revision, chain: this.buildChain(p.config) };
  }

  private buildChain(config: PlacementConfig): Recommender[] {
    return [config.live, ...config.fallbacks].map((rc, i) => {
      try {
        return createRecommender(rc, this.state);
      } catch (e) {
        if (e instanceof DomainError) throw new DomainError(e.code, `${i === 0 ? 'live' : `fallbacks/${i - 1}`}: ${e.message}`, { field: `${i === 0 ? 'live' : `fallbacks/${i - 1}`}.${e.field ?? ''}` });
        throw e;
      }
    });
  }
}
