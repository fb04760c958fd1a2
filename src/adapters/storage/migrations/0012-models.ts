import type { Kysely, Migration } from 'kysely';

/** Migration 0012_models. Frozen: see ./index.ts. */
export function models(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // The model registry (ModelStore): one row per trained model, never updated; versions are never reused.
      await db.schema
        .createTable('models')
        .addColumn('version', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('placement', 'text', (c) => c.notNull())
        .addColumn('created_ts', 'bigint', (c) => c.notNull())
        .addColumn('since_ts', 'bigint', (c) => c.notNull())
        .addColumn('until_ts', 'bigint', (c) => c.notNull())
        .addColumn('seed', 'bigint', (c) => c.notNull())
        .addColumn('feature_spec', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('metrics', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('models_placement').on('models').columns(['placement', 'version']).execute();
    },
  };
}
