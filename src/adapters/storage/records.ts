import type { ExposureRecord, ServeRecord } from '../../core/events/records.js';
import type { RecordStore } from '../../app/ports.js';
import { uuidV7Millis } from '../../core/kernel/ids.js';
import { chunks, type AtomicStep, type Dialect } from './dialect.js';
import { decodeSlate, exposureToRow, rowToExposure, rowToServe, serveToRow } from './rows.js';

/** How far a serve's served_ts may be from the time in its UUIDv7 recommId, milliseconds (the same clock reading in practice). */
const RECOMM_TIME_SLACK_MS = 1000;

/**
 * RecordStore: the server-side records (serves, exposures) and the reads that join them with the
 * events. The appends are the dialect's own when it has them (SQLite: prepared statements).
 */
export function recordStore(d: Dialect): RecordStore {
  const { db } = d;

  /**
   * Several statements in one transaction: the RecordWriter writes a refused write again in halves,
   * so a write must be stored whole or not at all (a serve stored twice would count twice).
   */
  const allOrNothing = async (steps: AtomicStep[]): Promise<void> => {
    if (steps.length === 1) await db.executeQuery(steps[0]!.query);
    else if (steps.length > 1) await d.atomic(steps);
  };

  const appendRecords = d.appendRecords?.bind(d);

  return {
    appendExposures: appendRecords
      ? (records: readonly ExposureRecord[]) => appendRecords([], records)
      : async (records: readonly ExposureRecord[]) => {
          await allOrNothing(
            [...chunks(records)].map((batch) => ({
              query: db
                .insertInto('exposures')
                .values(batch.map(exposureToRow))
                .onConflict((oc) => oc.columns(['experiment', 'phase', 'reader_id']).doNothing())
                .compile(),
            })),
          );
        },

    appendServes: appendRecords
      ? (records: readonly ServeRecord[]) => appendRecords(records, [])
      : async (records: readonly ServeRecord[]) => {
          await allOrNothing(
            [...chunks(records)].map((batch) => ({ query: db.insertInto('serves').values(batch.map(serveToRow)).compile() })),
          );
        },

    async listExposures(experiment) {
      const rows = await db
        .selectFrom('exposures')
        .selectAll()
        .where('experiment', '=', experiment)
        .orderBy('phase')
        .orderBy('exposed_ts')
        .orderBy('reader_id')
        .execute();
      return rows.map(rowToExposure);
    },

    exposuresOf: d.exposuresOf
      ? d.exposuresOf.bind(d)
      : async (experiment, readerIds, fromPhase) => {
          const out: { readerId: string; arm: string; phase: number }[] = [];
          // On the index by reader_id (migration 0005; on SQLite a covering one since 0023): a handful of rows per reader.
          for (const ids of chunks([...new Set(readerIds)])) {
            const rows = await db
              .selectFrom('exposures')
              .select(['reader_id', 'arm', 'phase'])
              .where('reader_id', 'in', ids)
              .where('experiment', '=', experiment)
              .where('phase', '>=', fromPhase)
              .execute();
            for (const r of rows) out.push({ readerId: r.reader_id, arm: r.arm, phase: Number(r.phase) });
          }
          return out;
        },

    async recentExposures(experiment, limit) {
      const rows = await db
        .selectFrom('exposures')
        .select(['reader_id', 'arm', 'phase'])
        .where('experiment', '=', experiment)
        .orderBy('exposed_ts', 'desc')
        .orderBy('phase', 'desc')
        .limit(limit)
        .execute();
      return rows.reverse().map((r) => ({ readerId: r.reader_id, arm: r.arm, phase: Number(r.phase) }));
    },

    async listServes(opts) {
      let q = db.selectFrom('serves').selectAll();
      if (opts.recommId !== undefined) {
        // No index on recomm_id (migration 0009). A UUIDv7 recommId carries the millisecond it was
        // made, which is its serve's served_ts (serving takes both from one clock reading, and its
        // shadows share it): search serves_placement_time around it, placement by placement. Ids of
        // another shape (older versions, other writers), or one not found there, scan the table.
        const ms = uuidV7Millis(opts.recommId);
        if (ms !== undefined) {
          const near = await q
            .where('placement', 'in', (eb) => eb.selectFrom('placements').select('name'))
            .where('served_ts', '>=', ms - RECOMM_TIME_SLACK_MS)
            .where('served_ts', '<=', ms + RECOMM_TIME_SLACK_MS)
            .where('recomm_id', '=', opts.recommId)
            .orderBy('id', 'desc')
            .limit(opts.limit)
            .execute();
          if (near.length > 0) return near.map(rowToServe);
        }
        q = q.where('recomm_id', '=', opts.recommId);
      }
      const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
      return rows.map(rowToServe);
    },

    async servesSince(placement, sinceTs, limit) {
      const rows = await db
        .selectFrom('serves')
        .selectAll()
        .where('placement', '=', placement)
        .where('served_ts', '>=', sinceTs)
        .orderBy('served_ts')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(rowToServe);
    },

    async engagementByArm(placement, sinceTs) {
      const served = await db
        .selectFrom('serves')
        .select(['arm', (eb) => eb.fn.countAll().as('n')])
        .where('placement', '=', placement)
        .where('served_ts', '>=', sinceTs)
        .where('shadow', '=', 0)
        .groupBy('arm')
        .execute();
      const engaged = await db
        .selectFrom('serves as s')
        .innerJoin('events as e', 'e.recomm_id', 's.recomm_id')
        .select((eb) => [
          's.arm',
          eb.fn.sum<number>(eb.case().when('e.type', '=', 'impression').then(1).else(0).end()).as('impressions'),
          eb.fn.sum<number>(eb.case().when('e.type', '=', 'click').then(1).else(0).end()).as('clicks'),
        ])
        .where('s.placement', '=', placement)
        .where('s.served_ts', '>=', sinceTs)
        .where('s.shadow', '=', 0)
        .where('e.type', 'in', ['impression', 'click'])
        .groupBy('s.arm')
        .execute();
      const byArm = new Map(engaged.map((r) => [r.arm, r]));
      return served.map((r) => ({
        arm: r.arm,
        responses: Number(r.n),
        impressions: Number(byArm.get(r.arm)?.impressions ?? 0),
        clicks: Number(byArm.get(r.arm)?.clicks ?? 0),
      }));
    },

    async sessionReads(sessionIds, sinceTs) {
      const out: { sessionId: string; articleId: string; clientTs: number }[] = [];
      for (const ids of chunks([...new Set(sessionIds)])) {
        const rows = await db
          .selectFrom('events')
          .select(['session_id', 'article_id', 'client_ts'])
          .where('session_id', 'in', ids)
          .where('client_ts', '>=', sinceTs)
          .where('type', 'in', ['read', 'page_view'])
          .where('article_id', 'is not', null)
          .execute();
        for (const r of rows) out.push({ sessionId: r.session_id, articleId: r.article_id!, clientTs: Number(r.client_ts) });
      }
      return out.sort((a, b) => a.clientTs - b.clientTs);
    },

    async engagementOfServes(recommIds) {
      const out = new Map<string, { impressed: boolean; clicked: Set<string> }>();
      for (const ids of chunks([...new Set(recommIds)])) {
        const rows = await db
          .selectFrom('events')
          .select(['recomm_id', 'type', 'article_id'])
          .where('recomm_id', 'in', ids)
          .where('type', 'in', ['impression', 'click'])
          .execute();
        for (const r of rows) {
          let e = out.get(r.recomm_id!);
          if (e === undefined) out.set(r.recomm_id!, (e = { impressed: false, clicked: new Set() }));
          if (r.type === 'impression') e.impressed = true;
          else if (r.article_id !== null) e.clicked.add(r.article_id);
        }
      }
      return out;
    },

    async interleavingClicks(experiment, phase) {
      const rows = await db
        .selectFrom('serves as s')
        .innerJoin('events as e', 'e.recomm_id', 's.recomm_id')
        .select(['e.reader_id', 's.slate', 'e.extra'])
        .where('s.experiment', '=', experiment)
        .where('s.phase', '=', phase)
        .where('s.shadow', '=', 0)
        .where('e.type', '=', 'click')
        .execute();
      return rows.map((r) => {
        const position = (JSON.parse(r.extra) as { position: number }).position;
        const slot = decodeSlate(r.slate).find((x) => x.position === position);
        return { readerId: r.reader_id, team: slot?.team ?? null };
      });
    },
  };
}
