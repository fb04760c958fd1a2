import type { Kysely, Migration } from 'kysely';

/** Migration 0014_serve_exploration. Frozen: see ./index.ts. */
export function serveExploration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // A serve row's logged exploration (issue 18) as JSON {share, explored, pool, propensities}; null without exploration.
      await db.schema.alterTable('serves').addColumn('exploration', 'text').execute();
    },
  };
}
