import { sql } from 'kysely';
import type { AnalysisStore } from '../../app/ports.js';
import type { ArmSums } from '../../core/analysis/metrics.js';
import type { Dialect } from './dialect.js';
import { armSumsFromRows, armSumsQuery, deltasWaitQuery, rollupFlow, unpricedQuery } from './rollups.js';

/** AnalysisStore: the aggregates experiment reports need, pushed down as SQL (rollups.ts). */
export function analysisStore(d: Dialect): AnalysisStore {
  const { db } = d;
  return {
    /** A rollup pass (rollups.ts): its statements run in one write transaction of the dialect (`drive`). */
    advanceRollups: (windows, cutoffTs, maxEvents, money) => d.drive(rollupFlow(db, d.name, windows, cutoffTs, maxEvents, money)),

    async unpricedRevenue(experiment, phase) {
      const r = await db.executeQuery<Record<string, unknown>>(unpricedQuery(db, experiment, phase));
      return r.rows.map((x) => ({
        arm: String(x.arm),
        currency: String(x.currency),
        readers: Number(x.readers),
        events: Number(x.events),
        amount: Number(x.amount),
      }));
    },

    /**
     * Per-arm sums of the per-reader measures of core/analysis/metrics.ts, read from the rolled-up
     * exposures of the phase (one row per exposed reader) by one SQL statement (armSumsQuery in
     * rollups.ts; on SQLite with the deltas not merged yet).
     */
    async armSums(experiment, phase, opts = {}) {
      // SQLite: the deltas' sums added only when some wait (reading them costs a fifth more at
      // 500,000 exposures). Each query sees whole passes: read without deltas, the sums are those
      // of an earlier pass at the latest, as when passes updated the table in place.
      const withDeltas =
        d.name === 'sqlite' && Number((await db.executeQuery<{ waiting: unknown }>(deltasWaitQuery(db))).rows[0]?.waiting) === 1;
      const r = await db.executeQuery<Record<string, unknown>>(armSumsQuery(db, withDeltas, experiment, phase, opts.revenueCap));
      return armSumsFromRows(r.rows);
    },

    async serveSums(experiment, phase) {
      const rows = await db
        .selectFrom('serves')
        .select((eb) => [
          'arm',
          eb.fn.countAll().as('responses'),
          eb.fn.sum<number>('fault').as('faults'),
          eb.fn.sum<number>('latency_ms').as('latency_sum'),
          eb.fn.sum<number>(sql`latency_ms * latency_ms`).as('latency_sq'),
          eb.fn.max('latency_ms').as('latency_max'),
        ])
        .where('experiment', '=', experiment)
        .where('phase', '=', phase)
        .where('shadow', '=', 0)
        .groupBy('arm')
        .orderBy('arm')
        .execute();
      return rows.map((r) => ({
        arm: String(r.arm),
        responses: Number(r.responses),
        faults: Number(r.faults ?? 0),
        latencySum: Number(r.latency_sum ?? 0),
        latencySumSquares: Number(r.latency_sq ?? 0),
        latencyMax: Number(r.latency_max ?? 0),
      }));
    },

    async saveExperimentSnapshot(x) {
      await db
        .insertInto('experiment_snapshots')
        .values({ experiment: x.experiment, phase: x.phase, ts: x.ts, sums: JSON.stringify(x.sums) })
        // Two processes may catch up to the same time: the first snapshot stands.
        .onConflict((oc) => oc.columns(['experiment', 'phase', 'ts']).doNothing())
        .execute();
    },

    async listExperimentSnapshots(experiment, phase) {
      const rows = await db
        .selectFrom('experiment_snapshots')
        .selectAll()
        .where('experiment', '=', experiment)
        .where('phase', '=', phase)
        .orderBy('ts', 'asc')
        .execute();
      return rows.map((r) => ({
        experiment: r.experiment,
        phase: Number(r.phase),
        ts: Number(r.ts),
        sums: JSON.parse(r.sums) as ArmSums[],
      }));
    },

    async latestExperimentSnapshots() {
      const rows = await db
        .selectFrom('experiment_snapshots')
        .select((eb) => ['experiment', 'phase', eb.fn.max('ts').as('ts')])
        .groupBy(['experiment', 'phase'])
        .execute();
      return rows.map((r) => ({ experiment: r.experiment, phase: Number(r.phase), ts: Number(r.ts) }));
    },
  };
}
