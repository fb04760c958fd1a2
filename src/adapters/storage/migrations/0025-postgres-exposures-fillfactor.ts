import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0025_postgres_exposures_fillfactor. Frozen: see ./index.ts. */
export function postgresExposuresFillfactor(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // SQLite updates rows in place; nothing to do.
      if (dialect !== 'postgres') return;
      // PostgreSQL: a rollup pass updates the sums of most exposures (every one whose reader has
      // events in the pass), and an update writes a new version of the row. When the page has no
      // room for it, the version goes to another page and every index of exposures gets an entry
      // for it; with room, it is a heap-only tuple (HOT) and no index is touched. Pages filled
      // only half by inserts keep room for a new version of each of their rows, and a pass's dead
      // versions are pruned when the next pass reaches the page.
      // Applies to pages filled from now on (an existing table is not rewritten).
      await sql`alter table exposures set (fillfactor = 50)`.execute(db);
    },
  };
}
