import type { Kysely, Migration } from 'kysely';

/** Migration 0003_deployments. Frozen: see ./index.ts. */
export function deployments(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
        t.addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        );
      // Every deployment a placement ever had, so any revision can be restored.
      await db.schema
        .createTable('placement_revisions')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addPrimaryKeyConstraint('placement_revisions_pk', ['name', 'revision'])
        .execute();
      await db.schema
        .createTable('experiments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('placement', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('updated_ts', 'bigint', (c) => c.notNull())
        .execute();
      // Append-only: who changed what, when and why.
      await id(db.schema.createTable('audit_log'))
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      // One row whose version moves on every deployment or experiment change: what serving nodes poll.
      await db.schema
        .createTable('deploy_state')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await db
        .insertInto('deploy_state' as never)
        .values({ id: 1, version: 0 } as never)
        .execute();
      // Attribution joins (canary CTR, shadow and experiment analysis) look events up by recommId.
      await db.schema.createIndex('events_recomm').on('events').column('recomm_id').where('recomm_id', 'is not', null).execute();
      await db.schema.createIndex('serves_placement_time').on('serves').columns(['placement', 'served_ts']).execute();
    },
  };
}
