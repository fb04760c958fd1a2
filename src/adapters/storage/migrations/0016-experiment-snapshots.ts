import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0016_experiment_snapshots. Frozen: see ./index.ts. */
export function experimentSnapshots(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // The experiment snapshots (AnalysisStore, issue 20): the per-arm sums of a phase (ArmSums[]
      // as JSON text) as they stood when the rollups had every event received before `ts` (the
      // data-through time). The rollups keep one running total per exposed reader, so a report as of
      // an earlier time cannot be recomputed: the timeline of an experiment reads these. Never
      // updated; a second snapshot at the same time is dropped. Ids compare byte by byte on
      // PostgreSQL (migration 0008).
      await db.schema
        .createTable('experiment_snapshots')
        .addColumn('experiment', dialect === 'postgres' ? sql`text collate "C"` : 'text', (c) => c.notNull())
        .addColumn('phase', 'integer', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('sums', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('experiment_snapshots_pk', ['experiment', 'phase', 'ts'])
        .execute();
    },
  };
}
