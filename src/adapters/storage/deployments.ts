import type { Actor, PlacementStore, StoredExperiment, StoredPlacement } from '../../app/ports.js';
import type { Experiment } from '../../core/experiments/experiment.js';
import type { PlacementConfig } from '../../core/recommend/placement.js';
import type { AtomicStep, Dialect } from './dialect.js';

/**
 * PlacementStore: placements (their deployments), experiments and the audit log. Every write is one
 * transaction of the dialect (`atomic`) that also appends to the audit log and moves the deploy version.
 */
export function placementStore(d: Dialect): PlacementStore {
  const { db } = d;

  const auditSteps = (ts: number, by: Actor, action: string, target: string, details: unknown): AtomicStep[] => [
    {
      query: db
        .insertInto('audit_log')
        .values({ ts, actor: by.actor, action, target, reason: by.reason, details: JSON.stringify(details) })
        .compile(),
    },
    {
      query: db
        .updateTable('deploy_state')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('id', '=', 1)
        .compile(),
    },
  ];

  return {
    async listPlacements() {
      const rows = await db.selectFrom('placements').selectAll().orderBy('name').execute();
      return rows.map((r) => ({
        name: r.name,
        config: JSON.parse(r.config) as PlacementConfig,
        revision: Number(r.revision),
        updatedTs: Number(r.updated_ts),
      }));
    },

    async getPlacement(name): Promise<StoredPlacement | undefined> {
      const r = await db.selectFrom('placements').selectAll().where('name', '=', name).executeTakeFirst();
      return (
        r && {
          name: r.name,
          config: JSON.parse(r.config) as PlacementConfig,
          revision: Number(r.revision),
          updatedTs: Number(r.updated_ts),
        }
      );
    },

    async putPlacement(config, expectedRevision, ts, by, action) {
      const json = JSON.stringify(config);
      const revision = expectedRevision + 1;
      // Compare-and-set on the revision: two admins editing at once cannot overwrite each other silently.
      const write =
        expectedRevision === 0
          ? db
              .insertInto('placements')
              .values({ name: config.name, config: json, revision, updated_ts: ts })
              .onConflict((oc) => oc.column('name').doNothing())
          : db
              .updateTable('placements')
              .set({ config: json, revision, updated_ts: ts })
              .where('name', '=', config.name)
              .where('revision', '=', expectedRevision);
      const ok = await d.atomic([
        { query: write.compile(), mustChange: true },
        {
          query: db
            .insertInto('placement_revisions')
            .values({ name: config.name, revision, config: json, ts, actor: by.actor, reason: by.reason })
            .compile(),
        },
        ...auditSteps(ts, by, action, `placement:${config.name}`, { revision, config }),
      ]);
      return ok ? revision : undefined;
    },

    async getPlacementRevision(name, revision): Promise<StoredPlacement | undefined> {
      const r = await db
        .selectFrom('placement_revisions')
        .selectAll()
        .where('name', '=', name)
        .where('revision', '=', revision)
        .executeTakeFirst();
      return r && { name: r.name, config: JSON.parse(r.config) as PlacementConfig, revision: Number(r.revision), updatedTs: Number(r.ts) };
    },

    async listPlacementRevisions(name) {
      const rows = await db.selectFrom('placement_revisions').selectAll().where('name', '=', name).orderBy('revision', 'desc').execute();
      return rows.map((r) => ({
        name: r.name,
        config: JSON.parse(r.config) as PlacementConfig,
        revision: Number(r.revision),
        updatedTs: Number(r.ts),
        actor: r.actor,
        reason: r.reason,
      }));
    },

    async listExperiments() {
      const rows = await db.selectFrom('experiments').select(['definition', 'revision']).orderBy('id').execute();
      return rows.map((r) => ({ experiment: JSON.parse(r.definition) as Experiment, revision: Number(r.revision) }));
    },

    async getExperiment(id): Promise<StoredExperiment | undefined> {
      const r = await db.selectFrom('experiments').select(['definition', 'revision']).where('id', '=', id).executeTakeFirst();
      return r && { experiment: JSON.parse(r.definition) as Experiment, revision: Number(r.revision) };
    },

    async putExperiment(e, expectedRevision, ts, by, action, details) {
      const json = JSON.stringify(e);
      const revision = expectedRevision + 1;
      const write =
        expectedRevision === 0
          ? db
              .insertInto('experiments')
              .values({ id: e.id, placement: e.placement, status: e.status, definition: json, revision, updated_ts: ts })
              .onConflict((oc) => oc.column('id').doNothing())
          : db
              .updateTable('experiments')
              .set({ status: e.status, definition: json, revision, updated_ts: ts })
              .where('id', '=', e.id)
              .where('revision', '=', expectedRevision);
      const ok = await d.atomic([
        { query: write.compile(), mustChange: true },
        ...auditSteps(ts, by, action, `experiment:${e.id}`, details ?? { status: e.status, phase: e.phase }),
      ]);
      return ok ? revision : undefined;
    },

    async deployVersion() {
      const r = await db.selectFrom('deploy_state').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
      return Number(r.version);
    },

    async listAudit(opts) {
      let q = db.selectFrom('audit_log').selectAll();
      if (opts.target !== undefined) q = q.where('target', '=', opts.target);
      const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
      return rows.map((r) => ({
        id: Number(r.id),
        ts: Number(r.ts),
        actor: r.actor,
        action: r.action,
        target: r.target,
        reason: r.reason,
        details: JSON.parse(r.details) as unknown,
      }));
    },
  };
}
