import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { StoredEvent } from '../../core/events/schema.js';
import { eventExtra } from './rows.js';

/**
 * Versioned migrations, applied in name order at every start (Kysely's Migrator records what ran
 * and takes a lock, so several processes starting together are safe). Written once with Kysely's
 * schema builder for both dialects; `autoIncrement` vs `serial` is the one dialect branch.
 * Never edit a released migration: add the next one.
 */
function migrations(dialect: 'sqlite' | 'postgres'): Record<string, Migration> {
  return {
    '0001_foundation': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('articles')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('url', 'text')
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('lead', 'text')
          .addColumn('body', 'text')
          .addColumn('section', 'text')
          .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('author', 'text')
          .addColumn('published_ts', 'bigint', (c) => c.notNull())
          .addColumn('updated_ts', 'bigint')
          .addColumn('expires_ts', 'bigint')
          .addColumn('embargo_until_ts', 'bigint')
          .addColumn('status', 'text', (c) => c.notNull().defaultTo('published'))
          .addColumn('paywalled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('language', 'text')
          .execute();
        await db.schema.createIndex('articles_published').on('articles').columns(['published_ts']).execute();

        await db.schema
          .createTable('events')
          .addColumn('event_id', 'text', (c) => c.primaryKey())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('reader_id', 'text', (c) => c.notNull())
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addColumn('client_ts', 'bigint', (c) => c.notNull())
          .addColumn('received_ts', 'bigint', (c) => c.notNull())
          .addColumn('article_id', 'text')
          .addColumn('recomm_id', 'text')
          .addColumn('dwell_ms', 'integer')
          .addColumn('revenue', 'double precision')
          .addColumn('body', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('exposures')
          .addColumn('experiment', 'text', (c) => c.notNull())
          .addColumn('phase', 'integer', (c) => c.notNull())
          .addColumn('reader_id', 'text', (c) => c.notNull())
          .addColumn('arm', 'text', (c) => c.notNull())
          .addColumn('hash_version', 'integer', (c) => c.notNull())
          .addColumn('exposed_ts', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('exposures_pk', ['experiment', 'phase', 'reader_id'])
          .execute();

        await db.schema
          .createTable('serves')
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('recomm_id', 'text', (c) => c.notNull())
          .addColumn('placement', 'text', (c) => c.notNull())
          .addColumn('experiment', 'text')
          .addColumn('phase', 'integer')
          .addColumn('arm', 'text')
          .addColumn('hash_version', 'integer')
          .addColumn('recommender_kind', 'text', (c) => c.notNull())
          .addColumn('recommender_version', 'text', (c) => c.notNull())
          .addColumn('shadow', 'integer', (c) => c.notNull())
          .addColumn('reader_id', 'text')
          .addColumn('session_id', 'text')
          .addColumn('article_id', 'text')
          .addColumn('latency_ms', 'double precision', (c) => c.notNull())
          .addColumn('fallback', 'integer', (c) => c.notNull())
          .addColumn('fault', 'integer', (c) => c.notNull())
          .addColumn('slate', 'text', (c) => c.notNull())
          .addColumn('served_ts', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('serves_recomm').on('serves').columns(['recomm_id']).execute();
        await db.schema.createIndex('serves_time').on('serves').columns(['served_ts']).execute();

        await db.schema
          .createTable('api_keys')
          .addColumn('role', 'text', (c) => c.primaryKey())
          .addColumn('key_hash', 'text', (c) => c.notNull())
          .addColumn('created_ts', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0002_placements': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('placements')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('updated_ts', 'bigint', (c) => c.notNull())
          .execute();
        // When a row was last written here (not the newsroom's updatedAt): serving nodes poll it to pick up imports made by other processes.
        await db.schema.alterTable('articles').addColumn('stored_ts', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.createIndex('articles_stored').on('articles').columns(['stored_ts']).execute();
      },
    },
    '0003_deployments': {
      async up(db: Kysely<unknown>) {
        const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
          t.addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()));
        // Every deployment a placement ever had, so any revision can be restored.
        await db.schema
          .createTable('placement_revisions')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addPrimaryKeyConstraint('placement_revisions_pk', ['name', 'revision'])
          .execute();
        await db.schema
          .createTable('experiments')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('placement', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('definition', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('updated_ts', 'bigint', (c) => c.notNull())
          .execute();
        // Append-only: who changed what, when and why.
        await id(db.schema.createTable('audit_log'))
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('details', 'text', (c) => c.notNull())
          .execute();
        // One row whose version moves on every deployment or experiment change: what serving nodes poll.
        await db.schema
          .createTable('deploy_state')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('version', 'bigint', (c) => c.notNull())
          .execute();
        await db.insertInto('deploy_state' as never).values({ id: 1, version: 0 } as never).execute();
        // Attribution joins (canary CTR, shadow and experiment analysis) look events up by recommId.
        await db.schema.createIndex('events_recomm').on('events').column('recomm_id').where('recomm_id', 'is not', null).execute();
        await db.schema.createIndex('serves_placement_time').on('serves').columns(['placement', 'served_ts']).execute();
      },
    },
    '0004_fewer_serve_indexes': {
      async up(db: Kysely<unknown>) {
        // Every query by time also filters by placement (serves_placement_time): one index less to
        // maintain per recommendation response.
        await db.schema.dropIndex('serves_time').execute();
      },
    },
    '0005_analysis_rollups': {
      async up(db: Kysely<unknown>) {
        // Per-exposure rollups (docs/adr/0001-analysis-rollups.md): the report reads one row per
        // exposed reader instead of joining every stored event. Filled by advanceRollups, off the
        // ingestion path, from a cursor over the events.
        let t = db.schema.alterTable('exposures');
        const cols = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'sessions', 'subscribed', 'revenue'];
        const pre = ['pre_impressions', 'pre_clicks', 'pre_reads', 'pre_dwell_ms', 'pre_page_views', 'pre_subscribed', 'pre_revenue'];
        for (const c of [...cols, ...pre, 'rolled']) {
          await t.addColumn(c, c.endsWith('revenue') ? 'double precision' : 'bigint', (x) => x.notNull().defaultTo(0)).execute();
          t = db.schema.alterTable('exposures');
        }
        await db.schema.createIndex('exposures_reader').on('exposures').column('reader_id').execute();
        await db.schema.createIndex('exposures_unrolled').on('exposures').column('reader_id').where(sql.ref('rolled'), '=', 0).execute();
        // Distinct sessions per exposure after the first exposure (pages per session).
        await db.schema
          .createTable('exposure_sessions')
          .addColumn('experiment', 'text', (c) => c.notNull())
          .addColumn('phase', 'integer', (c) => c.notNull())
          .addColumn('reader_id', 'text', (c) => c.notNull())
          .addColumn('session_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('exposure_sessions_pk', ['experiment', 'phase', 'reader_id', 'session_id'])
          .execute();
        // Every reader's activity per UTC day: the CUPED pre-period of a reader exposed later.
        let days = db.schema
          .createTable('reader_days')
          .addColumn('reader_id', 'text', (c) => c.notNull())
          .addColumn('day', 'integer', (c) => c.notNull());
        for (const c of cols.filter((x) => x !== 'sessions')) days = days.addColumn(c, c === 'revenue' ? 'double precision' : 'bigint', (x) => x.notNull().defaultTo(0));
        await days.addPrimaryKeyConstraint('reader_days_pk', ['reader_id', 'day']).execute();
        // The phases whose exposures take events, with their end (null: running); rewritten by each advance.
        await db.schema
          .createTable('rollup_windows')
          .addColumn('experiment', 'text', (c) => c.notNull())
          .addColumn('phase', 'integer', (c) => c.notNull())
          .addColumn('to_ts', 'bigint')
          .addPrimaryKeyConstraint('rollup_windows_pk', ['experiment', 'phase'])
          .execute();
        // One row: how far the events have been rolled up (SQLite: rowid; PostgreSQL: received time) and up to which receive time.
        await db.schema
          .createTable('rollup_state')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('cursor', 'bigint', (c) => c.notNull())
          .addColumn('through_ts', 'bigint', (c) => c.notNull())
          .execute();
        await db.insertInto('rollup_state' as never).values({ id: 1, cursor: 0, through_ts: 0 } as never).execute();
        // PostgreSQL reads the events to roll up by receive time (appends land at the right edge of
        // this index); SQLite uses the rowid, which a single writer hands out in commit order.
        if (dialect === 'postgres') await db.schema.createIndex('events_received').on('events').column('received_ts').execute();
      },
    },
    '0006_event_extra': {
      async up(db: Kysely<unknown>) {
        // Events stop storing the whole event again as JSON: `body` becomes `extra`, the fields
        // without a column (rows.ts eventExtra). Existing rows are rewritten in keyset batches.
        // One UPDATE per batch, the new values passed as one JSON array of [id, extra] pairs: a
        // statement per row took 13 s per 200,000 events on SQLite and 74 s on PostgreSQL.
        await db.schema.alterTable('events').renameColumn('body', 'extra').execute();
        const pairs =
          dialect === 'postgres'
            ? (json: string) => sql`(select x ->> 0 as event_id, x ->> 1 as extra from json_array_elements(${json}::json) as x)`
            : (json: string) => sql`(select json_extract(value, '$[0]') as event_id, json_extract(value, '$[1]') as extra from json_each(${json}))`;
        let last = '';
        for (;;) {
          const { rows } = await sql<{ event_id: string; extra: string }>`select event_id, extra from events where event_id > ${last} order by event_id limit 5000`.execute(db);
          if (rows.length === 0) break;
          const json = JSON.stringify(rows.map((r) => [r.event_id, eventExtra({ ...(JSON.parse(r.extra) as Omit<StoredEvent, 'receivedTs'>), receivedTs: 0 } as StoredEvent)]));
          await sql`update events set extra = v.extra from ${pairs(json)} as v where events.event_id = v.event_id`.execute(db);
          last = rows[rows.length - 1]!.event_id;
        }
      },
    },
    '0007_reader_days_by_day': {
      async up(db: Kysely<unknown>) {
        // reader_days keyed by (day, reader_id) instead of (reader_id, day): days older than any
        // pre-period still to be taken are pruned as one range at the left edge of the key (the old
        // key needed a full scan), and a pass's upserts of recent days share fewer pages. The
        // pre-period lookup becomes 14 point lookups per new exposure.
        let days = db.schema
          .createTable('reader_days_next')
          .addColumn('day', 'integer', (c) => c.notNull())
          .addColumn('reader_id', 'text', (c) => c.notNull());
        const cols = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'subscribed', 'revenue'];
        for (const c of cols) days = days.addColumn(c, c === 'revenue' ? 'double precision' : 'bigint', (x) => x.notNull().defaultTo(0));
        await days.addPrimaryKeyConstraint('reader_days_by_day_pk', ['day', 'reader_id']).execute();
        const list = ['day', 'reader_id', ...cols].join(', ');
        await sql`insert into reader_days_next (${sql.raw(list)}) select ${sql.raw(list)} from reader_days`.execute(db);
        await db.schema.dropTable('reader_days').execute();
        await db.schema.alterTable('reader_days_next').renameTo('reader_days').execute();
      },
    },
    '0008_ids_collate_c': {
      async up(db: Kysely<unknown>) {
        // PostgreSQL: identifiers compare byte by byte (COLLATE "C") instead of by the database's
        // locale. Ids are never sorted for people, and a locale comparison (strcoll) is what every
        // B-tree insert and every sort or group by of an id paid: inserting 500,000 rows into a
        // text-keyed table took 8-16% less time with "C" (PostgreSQL 15, C.UTF-8 database, bench
        // VM), and sorts can use abbreviated keys. Every id column changes together: comparing two
        // columns of different collations is an error. SQLite compares bytes already (BINARY).
        if (dialect !== 'postgres') return;
        for (const [table, columns] of Object.entries(ID_COLUMNS)) {
          const alter = columns.map((c) => `alter column ${c} type text collate "C"`).join(', ');
          await sql.raw(`alter table ${table} ${alter}`).execute(db);
        }
      },
    },
    '0009_serves_one_index': {
      async up(db: Kysely<unknown>) {
        // One B-tree less per recommendation response: serves_recomm indexed every serve by its
        // recommId (~0.5-0.9 us per row on SQLite, of ~7 us a serve record costs a busy server).
        // What looked serves up by recommId now finds them another way: joins from an experiment's
        // clicks go through this partial index (live serves, most of them, have no experiment and
        // cost it nothing), and listServes by recommId reads the time a UUIDv7 recommId carries
        // and searches serves_placement_time around it (KyselyStorage.listServes).
        await db.schema.dropIndex('serves_recomm').execute();
        await db.schema.createIndex('serves_experiment').on('serves').columns(['experiment', 'phase']).where(sql.ref('experiment'), 'is not', null).execute();
      },
    },
    '0010_report_over_receive_time': {
      async up(db: Kysely<unknown>) {
        // What experiment reports are computed over (docs/adr/0001-analysis-rollups.md): the
        // server's receive time places events (not the reader's clock), the exposure's own page
        // view counts after it (the exposure keeps its session and article), CTR counts the
        // experiment's placement only, revenue is converted to one currency or counted apart.
        // Ids compare byte by byte on PostgreSQL (migration 0008).
        const id = dialect === 'postgres' ? 'text collate "C"' : 'text';
        for (const c of ['session_id', 'article_id']) await sql.raw(`alter table exposures add column ${c} ${id}`).execute(db);
        await sql.raw(`alter table rollup_windows add column placement ${id}`).execute(db);
        await sql.raw(`alter table rollup_state add column currency text`).execute(db);
        await db.schema.createTable('rollup_rates').addColumn('currency', 'text', (c) => c.primaryKey()).addColumn('rate', 'double precision', (c) => c.notNull()).execute();
        await sql
          .raw(`create table exposure_unpriced (experiment ${id} not null, phase integer not null, reader_id ${id} not null, currency text not null,
            events bigint not null, amount double precision not null, constraint exposure_unpriced_pk primary key (experiment, phase, reader_id, currency))`)
          .execute(db);
        // A pass claims the new exposures (rolled = 2) before it rolls them up (adapters/storage/rollups.ts step 1).
        await db.schema.createIndex('exposures_claimed').on('exposures').column('reader_id').where(sql.ref('rolled'), '=', 2).execute();
        // Everything rolled up so far was placed by the client's clock: roll it up again under the
        // new rules (from the skip-ahead floor: 15 days before the earliest phase's start).
        const cols = ['impressions', 'clicks', 'reads', 'dwell_ms', 'page_views', 'sessions', 'subscribed', 'revenue'];
        const pre = ['pre_impressions', 'pre_clicks', 'pre_reads', 'pre_dwell_ms', 'pre_page_views', 'pre_subscribed', 'pre_revenue'];
        await sql.raw(`update exposures set ${[...cols, ...pre, 'rolled'].map((c) => `${c} = 0`).join(', ')}`).execute(db);
        await sql`delete from exposure_sessions`.execute(db);
        await sql`delete from reader_days`.execute(db);
        await sql`update rollup_state set cursor = 0, through_ts = 0`.execute(db);
      },
    },
  };
}

/** The identifier columns of each table (migration 0008): ids, names, codes; not free text. */
const ID_COLUMNS: Record<string, readonly string[]> = {
  articles: ['id', 'section', 'status', 'language'],
  events: ['event_id', 'type', 'reader_id', 'session_id', 'article_id', 'recomm_id'],
  exposures: ['experiment', 'reader_id', 'arm'],
  exposure_sessions: ['experiment', 'reader_id', 'session_id'],
  reader_days: ['reader_id'],
  rollup_windows: ['experiment'],
  serves: ['recomm_id', 'placement', 'experiment', 'arm', 'recommender_kind', 'recommender_version', 'reader_id', 'session_id', 'article_id'],
  experiments: ['id', 'placement', 'status'],
  placements: ['name'],
  placement_revisions: ['name'],
  api_keys: ['key_hash', 'role'],
  audit_log: ['action', 'actor', 'target'],
};

export function migrationProvider(dialect: 'sqlite' | 'postgres'): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
