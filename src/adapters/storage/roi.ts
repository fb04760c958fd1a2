import type { RoiStore } from '../../app/ports.js';
import type { Dialect } from './dialect.js';

/** RoiStore: the ROI's revisions (migration 0015), JSON in text columns. Shared Kysely on both databases. */
export function roiStore(d: Dialect): RoiStore {
  const { db } = d;
  return {
    async addRoiRevision(r) {
      const row = await db
        .insertInto('roi_revisions')
        .values({
          name: r.name,
          created_ts: r.createdTs,
          document: JSON.stringify(r.document),
          sources: JSON.stringify(r.sources),
          result: JSON.stringify(r.result),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },

    async listRoiRevisions(name) {
      let q = db.selectFrom('roi_revisions').selectAll().orderBy('id', 'asc');
      if (name !== undefined) q = q.where('name', '=', name);
      return (await q.execute()).map((r) => ({
        id: Number(r.id),
        name: r.name,
        createdTs: Number(r.created_ts),
        document: JSON.parse(r.document) as unknown,
        sources: JSON.parse(r.sources) as unknown,
        result: JSON.parse(r.result) as unknown,
      }));
    },
  };
}
