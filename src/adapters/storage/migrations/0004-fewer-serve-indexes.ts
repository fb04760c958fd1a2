import type { Kysely, Migration } from 'kysely';

/** Migration 0004_fewer_serve_indexes. Frozen: see ./index.ts. */
export function fewerServeIndexes(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Every query by time also filters by placement (serves_placement_time): one index less to
      // maintain per recommendation response.
      await db.schema.dropIndex('serves_time').execute();
    },
  };
}
