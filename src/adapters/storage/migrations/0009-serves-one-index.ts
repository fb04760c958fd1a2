import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0009_serves_one_index. Frozen: see ./index.ts. */
export function servesOneIndex(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // One B-tree less per recommendation response: serves_recomm indexed every serve by its
      // recommId (~0.5-0.9 us per row on SQLite, of ~7 us a serve record costs a busy server).
      // What looked serves up by recommId now finds them another way: joins from an experiment's
      // clicks go through this partial index (live serves, most of them, have no experiment and
      // cost it nothing), and listServes by recommId reads the time a UUIDv7 recommId carries
      // and searches serves_placement_time around it (listServes, adapters/storage/records.ts).
      await db.schema.dropIndex('serves_recomm').execute();
      await db.schema
        .createIndex('serves_experiment')
        .on('serves')
        .columns(['experiment', 'phase'])
        .where(sql.ref('experiment'), 'is not', null)
        .execute();
    },
  };
}
