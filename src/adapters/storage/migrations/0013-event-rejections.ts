import type { Kysely, Migration } from 'kysely';

/** Migration 0013_event_rejections. Frozen: see ./index.ts. */
export function eventRejections(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // What the collector did not store, counted per UTC day of receipt and reason (EventStore.countRejections):
      // a rejection code of the validator, or `duplicate` / `conflict` for an id already stored. The
      // events themselves are not kept: the data report (app/data-report.ts) reads the counts.
      await db.schema
        .createTable('event_rejections')
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_rejections_pk', ['day', 'reason'])
        .execute();
    },
  };
}
