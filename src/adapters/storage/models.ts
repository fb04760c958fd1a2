import type { ModelStore } from '../../app/ports.js';
import type { TrainingEvent } from '../../core/ml/examples.js';
import type { ModelFeatureSpec, ModelMetrics, ModelRecord, ModelSummary } from '../../core/ml/model.js';
import type { GbdtModel } from '../../core/ml/gbdt.js';
import type { Dialect } from './dialect.js';
import { rowToEvent } from './rows.js';
import type { ModelRow } from './schema.js';
import type { Selectable } from 'kysely';

const SUMMARY = ['version', 'placement', 'created_ts', 'since_ts', 'until_ts', 'seed', 'feature_spec', 'metrics', 'size_bytes'] as const;

function toSummary(r: Pick<Selectable<ModelRow>, (typeof SUMMARY)[number]>): ModelSummary {
  return {
    version: Number(r.version),
    placement: r.placement,
    featureSpec: JSON.parse(r.feature_spec) as ModelFeatureSpec,
    window: { sinceTs: Number(r.since_ts), untilTs: Number(r.until_ts) },
    seed: Number(r.seed),
    // NaN does not survive JSON: metrics store null instead (ModelMetrics).
    metrics: JSON.parse(r.metrics) as ModelMetrics,
    sizeBytes: Number(r.size_bytes),
    createdTs: Number(r.created_ts),
  };
}

const BATCH = 10_000;

/** ModelStore: the model registry, and the event scan training reads. Shared Kysely on both databases. */
export function modelStore(d: Dialect): ModelStore {
  const { db } = d;
  return {
    async putModel(m) {
      const model = JSON.stringify(m.model);
      const r = await db
        .insertInto('models')
        .values({
          placement: m.placement,
          created_ts: m.createdTs,
          since_ts: m.window.sinceTs,
          until_ts: m.window.untilTs,
          seed: m.seed,
          feature_spec: JSON.stringify(m.featureSpec),
          model,
          metrics: JSON.stringify(m.metrics),
          size_bytes: m.sizeBytes,
        })
        .returning('version')
        .executeTakeFirstOrThrow();
      return Number(r.version);
    },

    async getModel(version): Promise<ModelRecord | undefined> {
      if (!Number.isSafeInteger(version)) return undefined;
      const r = await db.selectFrom('models').selectAll().where('version', '=', version).executeTakeFirst();
      return r && { ...toSummary(r), model: JSON.parse(r.model) as GbdtModel };
    },

    async listModels(opts = {}) {
      let q = db.selectFrom('models').select(SUMMARY).orderBy('version', 'desc');
      if (opts.placement !== undefined) q = q.where('placement', '=', opts.placement);
      return (await q.execute()).map(toSummary);
    },

    async deleteModel(version) {
      if (!Number.isSafeInteger(version)) return false;
      const r = await db.deleteFrom('models').where('version', '=', version).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async scanTrainingEvents(fromTs, toTs, onBatch) {
      let n = 0;
      let batch: TrainingEvent[] = [];
      const rows = db
        .selectFrom('events')
        .selectAll()
        .where('client_ts', '>=', fromTs)
        .where('client_ts', '<', toTs)
        .where('type', 'in', ['read', 'page_view', 'click', 'impression'])
        .orderBy('client_ts')
        .orderBy('event_id')
        .stream(BATCH);
      for await (const r of rows) {
        batch.push(rowToEvent(r) as TrainingEvent);
        if (batch.length >= BATCH) {
          onBatch(batch);
          n += batch.length;
          batch = [];
        }
      }
      if (batch.length > 0) onBatch(batch);
      return n + batch.length;
    },
  };
}
