import type { EvalDeps } from '../adapters/cli/eval.js';
import type { Config } from '../config/config.js';
import type { ScorerFactory } from '../core/lab/types.js';
import type { RecommenderRegistry } from '../core/recommend/registry.js';

/**
 * Scorers the lab runs besides `random` and the registry's heuristics, by name (the learned `model`
 * registers its ScorerFactory here). Imported when `eval` runs, so `--help` loads none of them.
 */
export async function extraLabScorers(): Promise<Map<string, ScorerFactory>> {
  const { modelScorerFactory } = await import('../core/ml/lab-scorer.js');
  return new Map([['model', modelScorerFactory]]);
}

/** Wires `readnext eval` (src/adapters/cli/eval.ts) to the registry, the extra scorers and the database. */
export function evalDeps(io: {
  out: (l: string) => void;
  err: (l: string) => void;
  registry: RecommenderRegistry;
  config: (over: { db?: string }) => Readonly<Config>;
}): EvalDeps {
  return {
    out: io.out,
    err: io.err,
    async scorers() {
      const { labScorers } = await import('../core/lab/heuristic.js');
      return labScorers(io.registry, await extraLabScorers());
    },
    async openEvents(db) {
      // Straight to storage, not through services' openDb: the lab only reads, and reading a
      // simulated newsroom's events (a simulated-clock database) is what it is for.
      const c = io.config({ db });
      const { openStorage } = await import('../adapters/storage/open.js');
      const storage = await openStorage(c.db, { sqlite: { synchronous: c.sqliteSynchronous }, maxConnections: c.pgPoolSize });
      return { events: storage, close: () => storage.close() };
    },
  };
}
