import { Migrator, sql, type Kysely } from 'kysely';
import type { Article, ArticleStatus } from '../../core/catalog/article.js';
import type { ExposureRecord, ServeRecord } from '../../core/events/records.js';
import type { StoredEvent } from '../../core/events/schema.js';
import type { AppendOutcome, KeyRole, SignalRow, Storage, StoredPlacement } from '../../app/ports.js';
import type { PlacementConfig } from '../../core/recommend/placement.js';
import { migrationProvider } from './migrations.js';
import { articleToRow, exposureToRow, rowToArticle, rowToEvent, rowToExposure, rowToServe, serveToRow } from './rows.js';
import type { Database } from './schema.js';

/** Rows per multi-row INSERT: keeps the bound parameters under SQLite's 32,766 and PostgreSQL's 65,535. */
const CHUNK = 500;

function* chunks<T>(xs: readonly T[], n = CHUNK): Generator<T[]> {
  for (let i = 0; i < xs.length; i += n) yield xs.slice(i, i + n);
}

/**
 * Everything both dialects do the same way, written once in Kysely. A dialect file adds the
 * event append (the hot path, tuned per database) and its connection handling.
 */
export abstract class KyselyStorage implements Storage {
  abstract readonly dialect: 'sqlite' | 'postgres';

  constructor(readonly db: Kysely<Database>) {}

  abstract appendEvents(events: readonly StoredEvent[]): Promise<AppendOutcome[]>;
  abstract close(): Promise<void>;

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider(this.dialect) });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  // ---- events

  async getEvents(eventIds: readonly string[]): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (const ids of chunks(eventIds)) {
      const rows = await this.db.selectFrom('events').select(['body', 'received_ts']).where('event_id', 'in', ids).execute();
      for (const r of rows) out.push(rowToEvent(r));
    }
    return out;
  }

  async countEvents(): Promise<number> {
    const r = await this.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async scanSignals(sinceTs: number, onBatch: (rows: SignalRow[]) => void): Promise<number> {
    const BATCH = 10_000;
    let batch: SignalRow[] = [];
    let n = 0;
    const rows = this.db
      .selectFrom('events')
      .select(['type', 'reader_id', 'article_id', 'client_ts'])
      .where('client_ts', '>=', sinceTs)
      .where('article_id', 'is not', null)
      .where('type', 'in', ['read', 'click', 'page_view'])
      .orderBy('client_ts')
      .stream(BATCH);
    for await (const r of rows) {
      batch.push({ type: r.type as SignalRow['type'], readerId: r.reader_id, articleId: r.article_id!, clientTs: Number(r.client_ts) });
      if (batch.length >= BATCH) {
        onBatch(batch);
        n += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) onBatch(batch);
    return n + batch.length;
  }

  // ---- placements

  async listPlacements(): Promise<StoredPlacement[]> {
    const rows = await this.db.selectFrom('placements').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, config: JSON.parse(r.config) as PlacementConfig, revision: Number(r.revision), updatedTs: Number(r.updated_ts) }));
  }

  async getPlacement(name: string): Promise<StoredPlacement | undefined> {
    const r = await this.db.selectFrom('placements').selectAll().where('name', '=', name).executeTakeFirst();
    return r && { name: r.name, config: JSON.parse(r.config) as PlacementConfig, revision: Number(r.revision), updatedTs: Number(r.updated_ts) };
  }

  async putPlacement(config: PlacementConfig, expectedRevision: number, updatedTs: number): Promise<number | undefined> {
    const json = JSON.stringify(config);
    if (expectedRevision === 0) {
      const r = await this.db
        .insertInto('placements')
        .values({ name: config.name, config: json, revision: 1, updated_ts: updatedTs })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0 ? 1 : undefined;
    }
    // Compare-and-set on the revision: two admins editing at once cannot overwrite each other silently.
    const r = await this.db
      .updateTable('placements')
      .set({ config: json, revision: expectedRevision + 1, updated_ts: updatedTs })
      .where('name', '=', config.name)
      .where('revision', '=', expectedRevision)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0 ? expectedRevision + 1 : undefined;
  }

  // ---- articles

  async upsertArticles(articles: readonly Article[], storedTs: number): Promise<{ inserted: number; updated: number }> {
    let inserted = 0;
    for (const batch of chunks(articles, 200)) {
      const ids = [...new Set(batch.map((a) => a.id))];
      const existing = await this.db.selectFrom('articles').select('id').where('id', 'in', ids).execute();
      inserted += ids.length - existing.length;
      await this.db
        .insertInto('articles')
        .values(batch.map((a) => articleToRow(a, storedTs)))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            url: eb.ref('excluded.url'), title: eb.ref('excluded.title'), lead: eb.ref('excluded.lead'), body: eb.ref('excluded.body'),
            section: eb.ref('excluded.section'), tags: eb.ref('excluded.tags'), author: eb.ref('excluded.author'),
            published_ts: eb.ref('excluded.published_ts'), updated_ts: eb.ref('excluded.updated_ts'), expires_ts: eb.ref('excluded.expires_ts'),
            embargo_until_ts: eb.ref('excluded.embargo_until_ts'), status: eb.ref('excluded.status'), paywalled: eb.ref('excluded.paywalled'),
            language: eb.ref('excluded.language'), stored_ts: eb.ref('excluded.stored_ts'),
          })),
        )
        .execute();
    }
    return { inserted, updated: articles.length - inserted };
  }

  async getArticle(id: string): Promise<Article | undefined> {
    const r = await this.db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? rowToArticle(r) : undefined;
  }

  async setArticleStatus(id: string, status: ArticleStatus, storedTs: number): Promise<boolean> {
    const r = await this.db.updateTable('articles').set({ status, stored_ts: storedTs }).where('id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deleteArticle(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('articles').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async articlesStoredSince(sinceTs: number): Promise<Article[]> {
    const rows = await this.db.selectFrom('articles').selectAll().where('stored_ts', '>=', sinceTs).execute();
    return rows.map(rowToArticle);
  }

  async countArticles(): Promise<number> {
    const r = await this.db.selectFrom('articles').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async listArticles(opts: { limit: number; offset: number; section?: string }): Promise<Article[]> {
    let q = this.db.selectFrom('articles').selectAll();
    if (opts.section !== undefined) q = q.where('section', '=', opts.section);
    const rows = await q.orderBy('published_ts', 'desc').orderBy('id').limit(opts.limit).offset(opts.offset).execute();
    return rows.map(rowToArticle);
  }

  // ---- server-side records

  async appendExposures(records: readonly ExposureRecord[]): Promise<void> {
    for (const batch of chunks(records)) {
      await this.db
        .insertInto('exposures')
        .values(batch.map(exposureToRow))
        .onConflict((oc) => oc.columns(['experiment', 'phase', 'reader_id']).doNothing())
        .execute();
    }
  }

  async appendServes(records: readonly ServeRecord[]): Promise<void> {
    for (const batch of chunks(records)) await this.db.insertInto('serves').values(batch.map(serveToRow)).execute();
  }

  async listExposures(experiment: string): Promise<ExposureRecord[]> {
    const rows = await this.db.selectFrom('exposures').selectAll().where('experiment', '=', experiment).orderBy('exposed_ts').orderBy('reader_id').execute();
    return rows.map(rowToExposure);
  }

  async listServes(opts: { limit: number; recommId?: string }): Promise<ServeRecord[]> {
    let q = this.db.selectFrom('serves').selectAll();
    if (opts.recommId !== undefined) q = q.where('recomm_id', '=', opts.recommId);
    const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
    return rows.map(rowToServe);
  }

  // ---- keys

  async getKeyHash(role: KeyRole): Promise<string | undefined> {
    const r = await this.db.selectFrom('api_keys').select('key_hash').where('role', '=', role).executeTakeFirst();
    return r?.key_hash;
  }

  async putKeyHashIfAbsent(role: KeyRole, hash: string, createdTs: number): Promise<string> {
    await this.db
      .insertInto('api_keys')
      .values({ role, key_hash: hash, created_ts: createdTs })
      .onConflict((oc) => oc.column('role').doNothing())
      .execute();
    return (await this.getKeyHash(role))!;
  }
}
