import { sql } from 'kysely';
import type { KpiStore } from '../../app/ports.js';
import type { Dialect } from './dialect.js';

const DAY_MS = 86_400_000;

/**
 * The Overview's daily KPIs (KpiStore) as SQL that reads the same on SQLite and PostgreSQL except
 * for JSON access: one scan of the window's page views and reads, one of its subscribe events.
 * Days are UTC days of the client time, floor(client_ts / 86,400,000), as in data-report.ts.
 */
export function kpiStore(d: Dialect): KpiStore {
  const { db } = d;
  const currencyOf = d.name === 'postgres' ? sql<string>`(extra::json ->> 'currency')` : sql<string>`json_extract(extra, '$.currency')`;
  return {
    async dailyTraffic(sinceTs, untilTs) {
      const r = await sql<{ day: unknown; page_views: unknown; reads: unknown; readers: unknown; reading_readers: unknown }>`
        select client_ts / ${sql.lit(DAY_MS)} as day,
          sum(case when type = 'page_view' then 1 else 0 end) as page_views,
          sum(case when type = 'read' then 1 else 0 end) as reads,
          count(distinct reader_id) as readers,
          count(distinct case when type = 'read' then reader_id end) as reading_readers
        from events where client_ts >= ${sinceTs} and client_ts < ${untilTs}
        group by client_ts / ${sql.lit(DAY_MS)} order by day`.execute(db);
      return r.rows.map((x) => ({
        day: Number(x.day),
        pageViews: Number(x.page_views ?? 0),
        reads: Number(x.reads ?? 0),
        readers: Number(x.readers),
        readingReaders: Number(x.reading_readers),
      }));
    },

    async dailyRevenue(sinceTs, untilTs) {
      const r = await sql<{ day: unknown; currency: string | null; events: unknown; amount: unknown }>`
        select client_ts / ${sql.lit(DAY_MS)} as day, ${currencyOf} as currency, count(*) as events, coalesce(sum(revenue), 0) as amount
        from events where type = 'subscribe' and client_ts >= ${sinceTs} and client_ts < ${untilTs}
        group by client_ts / ${sql.lit(DAY_MS)}, ${currencyOf} order by day, currency`.execute(db);
      return r.rows.map((x) => ({ day: Number(x.day), currency: x.currency ?? '?', events: Number(x.events), amount: Number(x.amount) }));
    },
  };
}
