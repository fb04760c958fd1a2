import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0021_exposure_session_ids. Frozen: see ./index.ts. */
export function exposureSessionIds(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // PostgreSQL keeps exposure_sessions as it is: its rollups insert there by an anti-join.
      if (dialect !== 'sqlite') return;
      // SQLite: the distinct sessions of each exposure, keyed by the exposure's integer id instead of
      // its text key (experiment, phase, reader_id), in one B-tree (WITHOUT ROWID) instead of a table
      // and its key index: about a quarter of the pages, so a rollup pass dirties and writes fewer.
      //
      // exposures takes a stable integer id first: its rowid, which VACUUM may renumber in a table
      // without an INTEGER PRIMARY KEY, becomes one (AUTOINCREMENT: the id of a deleted exposure is
      // never given to another). SQLite cannot add a primary key to a table: the table is built
      // again, from its own definition (whatever earlier migrations made of its columns), with the
      // id first and its key (experiment, phase, reader_id) as a unique constraint, which ON CONFLICT
      // (experiment, phase, reader_id) uses as before. The ids are the rows' rowids.
      const [table] = (await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'exposures'`.execute(db))
        .rows;
      const head = 'CREATE TABLE "exposures" (';
      const key = 'constraint "exposures_pk" primary key (';
      if (!table || !table.sql.startsWith(head) || !table.sql.includes(key))
        throw new Error(`migration 0021: unexpected definition of exposures: ${table?.sql}`);
      const create = table.sql
        .replace(head, 'CREATE TABLE "exposures_0021" ("id" integer primary key autoincrement, ')
        .replace(key, 'constraint "exposures_pk" unique (');
      const indexes = (
        await sql<{
          sql: string;
        }>`select sql from sqlite_master where type = 'index' and tbl_name = 'exposures' and sql is not null order by name`.execute(db)
      ).rows;
      const cols = (await sql<{ name: string }>`select name from pragma_table_info('exposures') order by cid`.execute(db)).rows.map((r) =>
        sql.ref(r.name),
      );
      await sql.raw(create).execute(db);
      await sql`insert into exposures_0021 (id, ${sql.join(cols)}) select rowid, ${sql.join(cols)} from exposures order by rowid`.execute(
        db,
      );
      await sql`drop table exposures`.execute(db);
      await sql`alter table exposures_0021 rename to exposures`.execute(db);
      for (const i of indexes) await sql.raw(i.sql).execute(db);

      await sql`create table exposure_session_ids (exposure_id integer not null, session_id text not null,
        constraint exposure_session_ids_pk primary key (exposure_id, session_id)) without rowid`.execute(db);
      await sql`insert into exposure_session_ids (exposure_id, session_id)
        select e.id, s.session_id from exposure_sessions s join exposures e on e.experiment = s.experiment and e.phase = s.phase and e.reader_id = s.reader_id
        order by 1, 2`.execute(db);
      // Kept (empty), as on PostgreSQL: a reader's erasure still deletes from it (readers.ts).
      await sql`delete from exposure_sessions`.execute(db);
    },
  };
}
