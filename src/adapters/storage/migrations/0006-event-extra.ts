import { sql, type Kysely, type Migration } from 'kysely';

/** Migration 0006_event_extra. Frozen: see ./index.ts. */
export function bodyToExtra(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Events stop storing the whole event again as JSON: `body` becomes `extra`, the fields
      // without a column (extraOf below). Existing rows are rewritten in keyset batches.
      // One UPDATE per batch, the new values passed as one JSON array of [id, extra] pairs: a
      // statement per row took 13 s per 200,000 events on SQLite and 74 s on PostgreSQL.
      await db.schema.alterTable('events').renameColumn('body', 'extra').execute();
      const pairs =
        dialect === 'postgres'
          ? (json: string) => sql`(select x ->> 0 as event_id, x ->> 1 as extra from json_array_elements(${json}::json) as x)`
          : (json: string) =>
              sql`(select json_extract(value, '$[0]') as event_id, json_extract(value, '$[1]') as extra from json_each(${json}))`;
      let last = '';
      for (;;) {
        const { rows } = await sql<{
          event_id: string;
          extra: string;
        }>`select event_id, extra from events where event_id > ${last} order by event_id limit 5000`.execute(db);
        if (rows.length === 0) break;
        const json = JSON.stringify(rows.map((r) => [r.event_id, extraOf(JSON.parse(r.extra) as OldEvent)]));
        await sql`update events set extra = v.extra from ${pairs(json)} as v where events.event_id = v.event_id`.execute(db);
        last = rows[rows.length - 1]!.event_id;
      }
    },
  };
}

/** An event as 0001-0005 stored it whole in `body`: the normalised event without its receive time. */
type OldEvent = Record<string, unknown> & { type: string; items?: { articleId: unknown; position: unknown; team?: unknown }[] };

/** `,"key":value` for a field that is set (not null, false or absent), else nothing. */
const field = (key: string, v: unknown): string => (v === null || v === false || v === undefined ? '' : `,"${key}":${JSON.stringify(v)}`);
const object = (fields: string): string => (fields === '' ? '{}' : `{${fields.slice(1)}}`);

/**
 * The `extra` JSON of an event, as rows.ts eventExtra wrote it when this migration was released
 * (the fields without a column that are set, per type, in the order of the normalised event; an
 * impression's items without a null team). A copy, not an import: a migration must do tomorrow what
 * it did the day it ran on the first database, whatever becomes of the live code.
 */
function extraOf(e: OldEvent): string | undefined {
  switch (e.type) {
    case 'read':
      return `{"scroll":${JSON.stringify(e.scroll)}}`;
    case 'page_view':
      return object(field('page', e.page) + field('url', e.url) + field('referrer', e.referrer));
    case 'click':
      return object(field('position', e.position) + field('placement', e.placement));
    case 'subscribe':
      return object(field('plan', e.plan) + field('currency', e.currency));
    case 'impression': {
      let items = '';
      for (const i of e.items!)
        items += `,{"articleId":${JSON.stringify(i.articleId)},"position":${JSON.stringify(i.position)}${field('team', i.team)}}`;
      return object(
        field('placement', e.placement) +
          `,"items":[${items.slice(1)}]` +
          field('experiment', e.experiment) +
          field('phase', e.phase) +
          field('arm', e.arm) +
          field('hashVersion', e.hashVersion) +
          field('recommender', e.recommender) +
          field('shadow', e.shadow),
      );
    }
    default:
      // An unknown type: eventExtra's switch fell through (undefined, a null in the JSON array).
      return undefined;
  }
}
