import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0018_scoped_keys. Frozen: see ./index.ts. */
export function scopedKeys(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // API keys with scopes (app/keys.ts), many per database, replacing api_keys' one key per role.
      // Only the key's SHA-256 (hex) is stored, never the key; `prefix` is its first characters, for
      // recognising a key in a list (NULL for keys made before this migration: only their hash was
      // ever stored). `scopes` is a comma-separated list (read, write, admin, ingest). A revoked key
      // keeps its row (revoked_ts set), so its id is never reused and the first-start keys, whose ids
      // are `admin` and `ingest`, are not generated again after a revocation.
      const id = dialect === 'postgres' ? sql`text collate "C"` : 'text';
      await db.schema
        .createTable('access_keys')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text')
        .addColumn('created_ts', 'bigint', (c) => c.notNull())
        .addColumn('revoked_ts', 'bigint')
        .execute();
      // The keys databases already hold keep working: the admin key becomes key `admin` with scope
      // admin, the ingest key key `ingest` with scope ingest.
      await sql`insert into access_keys (id, name, scopes, key_hash, prefix, created_ts, revoked_ts)
        select role, role, role, key_hash, null, created_ts, null from api_keys where role in ('admin', 'ingest')`.execute(db);
      await db.schema.dropTable('api_keys').execute();
    },
  };
}
