import { sql, type RawBuilder } from 'kysely';
import type { DataReportStore, EventQualityCounts, EventStore } from '../../app/ports.js';
import type { Dialect } from './dialect.js';
import { SHADOW_MARK } from './events.js';

const DAY_MS = 86_400_000;
/**
 * How long before the window a serve (for an impression) or an impression (for a click) may lie
 * and still count as its match: a page left open overnight shows its widget late. 1 day.
 */
export const SERVE_LOOKBACK_MS = DAY_MS;

/**
 * The rejection counter (EventStore.countRejections) and the data report's aggregates
 * (DataReportStore), as SQL that reads the same on SQLite and PostgreSQL except where noted
 * (JSON access, anti-joins). Nothing here returns events: only counts.
 */
export function dataReportStore(d: Dialect): DataReportStore & Required<Pick<EventStore, 'countRejections'>> {
  const { db } = d;
  const pg = d.name === 'postgres';
  /** The `placement` of an event's `extra` JSON. */
  const placementOf = (col: RawBuilder<unknown>) =>
    pg ? sql<string>`(${col}::json ->> 'placement')` : sql<string>`json_extract(${col}, '$.placement')`;
  const count = async (q: RawBuilder<{ n: unknown }>) => Number((await q.execute(db)).rows[0]?.n ?? 0);

  return {
    async countRejections(counts) {
      const rows = counts.filter((c) => c.count > 0);
      if (rows.length === 0) return;
      await db
        .insertInto('event_rejections')
        .values(rows.map((c) => ({ day: c.day, reason: c.reason, count: c.count })))
        .onConflict((oc) => oc.columns(['day', 'reason']).doUpdateSet({ count: sql`event_rejections.count + excluded.count` }))
        .execute();
    },

    async rejectionCounts(fromDay, toDay) {
      const rows = await db
        .selectFrom('event_rejections')
        .select(['day', 'reason', 'count'])
        .where('day', '>=', fromDay)
        .where('day', '<=', toDay)
        .orderBy('day')
        .orderBy('reason')
        .execute();
      return rows.map((r) => ({ day: r.day, reason: r.reason, count: Number(r.count) }));
    },

    async eventQuality(sinceTs, untilTs): Promise<EventQualityCounts> {
      const inWindow = sql`client_ts >= ${sinceTs} and client_ts < ${untilTs}`;
      const types = await sql<{ type: string; n: unknown }>`select type, count(*) as n from events where ${inWindow} group by type`.execute(
        db,
      );
      const byType = Object.fromEntries(types.rows.map((r) => [r.type, Number(r.n)]));
      const withArticle = await count(sql`select count(*) as n from events where ${inWindow} and article_id is not null`);
      const unknownArticle = await count(
        sql`select count(*) as n from events e where ${inWindow} and e.article_id is not null
            and not exists (select 1 from articles a where a.id = e.article_id)`,
      );
      // Anti-joins against a set built once: SQLite makes NOT IN (subquery) one ephemeral index,
      // PostgreSQL turns NOT EXISTS into a hash anti-join (its NOT IN cannot, because of NULLs).
      // serves has no index on recomm_id (migration 0009), so a correlated probe would scan it per row.
      const lookback = sinceTs - SERVE_LOOKBACK_MS;
      const impressionsWithoutServe = await count(
        pg
          ? sql`select count(*) as n from events e where ${inWindow} and e.type = 'impression'
                and not exists (select 1 from serves s where s.recomm_id = e.recomm_id and s.served_ts >= ${lookback} and s.served_ts < ${untilTs})`
          : sql`select count(*) as n from events e where ${inWindow} and e.type = 'impression'
                and e.recomm_id not in (select recomm_id from serves where served_ts >= ${lookback} and served_ts < ${untilTs})`,
      );
      // Clicks probe impressions through events_recomm (partial index on recomm_id) on both databases.
      const clicksWithoutImpression = await count(
        sql`select count(*) as n from events e where ${inWindow} and e.type = 'click'
            and not exists (select 1 from events i where i.recomm_id = e.recomm_id and i.type = 'impression'
                            and i.client_ts >= ${lookback} and i.client_ts < ${untilTs})`,
      );
      const sameContentRepeats = await count(
        sql`select coalesce(sum(c - 1), 0) as n from (
              select count(*) as c from events where ${inWindow}
              group by reader_id, type, article_id, client_ts having count(*) > 1) as g`,
      );
      return {
        byType,
        withArticle,
        unknownArticle,
        impressions: byType.impression ?? 0,
        impressionsWithoutServe,
        clicks: byType.click ?? 0,
        clicksWithoutImpression,
        sameContentRepeats,
      };
    },

    async clockSkew(sinceTs, untilTs, quantiles) {
      const skew = sql`abs(client_ts - received_ts)`;
      const n = await count(sql`select count(*) as n from events where client_ts >= ${sinceTs} and client_ts < ${untilTs}`);
      const values: number[] = [];
      for (const q of quantiles) {
        if (n === 0) {
          values.push(Number.NaN);
          continue;
        }
        const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
        const r = await sql<{ v: unknown }>`select ${skew} as v from events where client_ts >= ${sinceTs} and client_ts < ${untilTs}
          order by ${skew} limit 1 offset ${rank - 1}`.execute(db);
        values.push(Number(r.rows[0]?.v));
      }
      return { n, values };
    },

    async catalogGaps() {
      const r = await sql<{ articles: unknown; no_text: unknown; no_section: unknown }>`select count(*) as articles,
          coalesce(sum(case when coalesce(trim(lead), '') = '' and coalesce(trim(body), '') = '' then 1 else 0 end), 0) as no_text,
          coalesce(sum(case when coalesce(trim(section), '') = '' then 1 else 0 end), 0) as no_section
        from articles`.execute(db);
      const x = r.rows[0]!;
      return { articles: Number(x.articles), withoutText: Number(x.no_text), withoutSection: Number(x.no_section) };
    },

    async dailyPlacementCtr(sinceTs, untilTs) {
      // Each live impression with the clicks carrying its recommId (a probe of events_recomm), then per day and placement.
      const r = await sql<{ day: unknown; placement: string | null; impressions: unknown; clicks: unknown }>`
        select day, placement, count(*) as impressions, sum(c) as clicks from (
          select i.client_ts / ${sql.lit(DAY_MS)} as day, ${placementOf(sql.ref('i.extra'))} as placement,
            (select count(*) from events c where c.recomm_id = i.recomm_id and c.type = 'click') as c
          from events i
          where i.type = 'impression' and i.client_ts >= ${sinceTs} and i.client_ts < ${untilTs}
            and i.extra not like ${`%${SHADOW_MARK}%`}
        ) as x group by day, placement order by day, placement`.execute(db);
      return r.rows.map((x) => ({
        day: Number(x.day),
        placement: x.placement ?? '',
        impressions: Number(x.impressions),
        clicks: Number(x.clicks ?? 0),
      }));
    },

    async dailySectionCtr(sinceTs, untilTs) {
      // Live impressions of the window, each shown item (JSON array `items` of `extra`) with its
      // article's section, and each click carrying an impression's recommId with the clicked
      // article's section; both dated by the impression, then per day, placement and section.
      const day = sql`i.client_ts / ${sql.lit(DAY_MS)}`;
      const placement = placementOf(sql.ref('i.extra'));
      const live = sql`i.type = 'impression' and i.client_ts >= ${sinceTs} and i.client_ts < ${untilTs}
        and i.extra not like ${`%${SHADOW_MARK}%`}`;
      const items = pg
        ? sql`events i cross join lateral json_array_elements(i.extra::json -> 'items') as j(v)
              left join articles a on a.id = (j.v ->> 'articleId')`
        : sql`events i, json_each(i.extra, '$.items') as j left join articles a on a.id = json_extract(j.value, '$.articleId')`;
      const r = await sql<{ day: unknown; placement: string | null; section: string | null; impressions: unknown; clicks: unknown }>`
        select day, placement, section, sum(n) as impressions, sum(c) as clicks from (
          select ${day} as day, ${placement} as placement, a.section as section, 1 as n, 0 as c
          from ${items} where ${live}
          union all
          select ${day} as day, ${placement} as placement, a.section as section, 0 as n, 1 as c
          from events i join events k on k.recomm_id = i.recomm_id and k.type = 'click'
            left join articles a on a.id = k.article_id
          where ${live}
        ) as x group by day, placement, section order by day, placement, section`.execute(db);
      return r.rows.map((x) => ({
        day: Number(x.day),
        placement: x.placement ?? '',
        section: x.section,
        impressions: Number(x.impressions ?? 0),
        clicks: Number(x.clicks ?? 0),
      }));
    },

    async dailyReadSections(sinceTs, untilTs) {
      const r = await sql<{ day: unknown; section: string | null; reads: unknown }>`
        select e.client_ts / ${sql.lit(DAY_MS)} as day, a.section as section, count(*) as reads
        from events e left join articles a on a.id = e.article_id
        where e.type = 'read' and e.client_ts >= ${sinceTs} and e.client_ts < ${untilTs}
        group by e.client_ts / ${sql.lit(DAY_MS)}, a.section order by day, section`.execute(db);
      return r.rows.map((x) => ({ day: Number(x.day), section: x.section, reads: Number(x.reads) }));
    },

    async dailyReadsPerReader(sinceTs, untilTs) {
      const r = await sql<{ day: unknown; reads: unknown; readers: unknown }>`
        select day, reads, count(*) as readers from (
          select client_ts / ${sql.lit(DAY_MS)} as day, reader_id, count(*) as reads from events
          where type = 'read' and client_ts >= ${sinceTs} and client_ts < ${untilTs}
          group by client_ts / ${sql.lit(DAY_MS)}, reader_id
        ) as x group by day, reads order by day, reads`.execute(db);
      return r.rows.map((x) => ({ day: Number(x.day), reads: Number(x.reads), readers: Number(x.readers) }));
    },
  };
}
