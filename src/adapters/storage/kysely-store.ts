import { Migrator, sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Article, ArticleStatus } from '../../core/catalog/article.js';
import type { ExposureRecord, ServeRecord } from '../../core/events/records.js';
import type { StoredEvent } from '../../core/events/schema.js';
import type { Actor, AppendOutcome, AuditEntry, KeyRole, RollupProgress, RollupWindow, SignalRow, Storage, StoredExperiment, StoredPlacement, UnpricedRevenue } from '../../app/ports.js';
import type { Experiment } from '../../core/experiments/experiment.js';
import type { ArmSums, RevenueCurrency } from '../../core/analysis/metrics.js';
import type { PlacementConfig } from '../../core/recommend/placement.js';
import { migrationProvider } from './migrations/index.js';
import { armSumsFromRows, armSumsQuery, rollupFlow, unpricedQuery } from './rollups.js';
import { articleToRow, exposureToRow, rowToArticle, rowToEvent, rowToExposure, rowToServe, serveToRow, decodeSlate } from './rows.js';
import type { Database } from './schema.js';
import { uuidV7Millis } from '../../core/kernel/ids.js';

export interface AtomicStep {
  query: CompiledQuery;
  mustChange?: boolean;
}

/** Rows per multi-row INSERT: keeps the bound parameters under SQLite's 32,766 and PostgreSQL's 65,535. */
const CHUNK = 500;

/** The first string `code` along an error's `cause` chain (drivers' codes: SQLSTATE, SQLITE_*). */
export function errorCode(e: unknown): string | undefined {
  for (let i = 0; i < 8 && e !== null && typeof e === 'object'; i++, e = (e as { cause?: unknown }).cause) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

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
  /**
   * Whether a failed write was refused because of the data written (writing it again fails again),
   * not because of the connection, a lock, the disk or the server: the RecordWriter halves a
   * refused write to find its bad records, and drops a write that failed otherwise.
   */
  abstract refuses(e: unknown): boolean;

  /** Applies the pending migrations, or those up to `to` (a migration's name: tests of a migration). */
  async migrate(to?: string): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider(this.dialect) });
    const { error, results } = to === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(to);
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
      const rows = await this.db.selectFrom('events').selectAll().where('event_id', 'in', ids).execute();
      for (const r of rows) out.push(rowToEvent(r));
    }
    return out;
  }

  async countEvents(): Promise<number> {
    const r = await this.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * PostgreSQL: one read-only REPEATABLE READ transaction, whose snapshot its first statement takes,
   * so `pinned` comes before the scan's sort (seconds on millions of events). The rows come through
   * a cursor: the event loop runs between fetches. (SQLite overrides this: sqlite.ts.)
   */
  async scanSignals(sinceTs: number, onBatch: (rows: SignalRow[]) => void, pinned: () => void | Promise<void> = () => undefined): Promise<number> {
    return this.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
      await sql`select 1`.execute(trx);
      await pinned();
      return this.streamSignals(trx, sinceTs, onBatch);
    });
  }

  private async streamSignals(db: Kysely<Database>, sinceTs: number, onBatch: (rows: SignalRow[]) => void): Promise<number> {
    const BATCH = 10_000;
    let batch: SignalRow[] = [];
    let n = 0;
    const rows = db
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

  async putPlacement(config: PlacementConfig, expectedRevision: number, ts: number, by: Actor, action: string): Promise<number | undefined> {
    const json = JSON.stringify(config);
    const revision = expectedRevision + 1;
    // Compare-and-set on the revision: two admins editing at once cannot overwrite each other silently.
    const write =
      expectedRevision === 0
        ? this.db.insertInto('placements').values({ name: config.name, config: json, revision, updated_ts: ts }).onConflict((oc) => oc.column('name').doNothing())
        : this.db.updateTable('placements').set({ config: json, revision, updated_ts: ts }).where('name', '=', config.name).where('revision', '=', expectedRevision);
    const ok = await this.atomic([
      { query: write.compile(), mustChange: true },
      { query: this.db.insertInto('placement_revisions').values({ name: config.name, revision, config: json, ts, actor: by.actor, reason: by.reason }).compile() },
      ...this.auditSteps(ts, by, action, `placement:${config.name}`, { revision, config }),
    ]);
    return ok ? revision : undefined;
  }

  async getPlacementRevision(name: string, revision: number): Promise<StoredPlacement | undefined> {
    const r = await this.db.selectFrom('placement_revisions').selectAll().where('name', '=', name).where('revision', '=', revision).executeTakeFirst();
    return r && { name: r.name, config: JSON.parse(r.config) as PlacementConfig, revision: Number(r.revision), updatedTs: Number(r.ts) };
  }

  async listPlacementRevisions(name: string): Promise<(StoredPlacement & Actor)[]> {
    const rows = await this.db.selectFrom('placement_revisions').selectAll().where('name', '=', name).orderBy('revision', 'desc').execute();
    return rows.map((r) => ({ name: r.name, config: JSON.parse(r.config) as PlacementConfig, revision: Number(r.revision), updatedTs: Number(r.ts), actor: r.actor, reason: r.reason }));
  }

  async listExperiments(): Promise<StoredExperiment[]> {
    const rows = await this.db.selectFrom('experiments').select(['definition', 'revision']).orderBy('id').execute();
    return rows.map((r) => ({ experiment: JSON.parse(r.definition) as Experiment, revision: Number(r.revision) }));
  }

  async getExperiment(id: string): Promise<StoredExperiment | undefined> {
    const r = await this.db.selectFrom('experiments').select(['definition', 'revision']).where('id', '=', id).executeTakeFirst();
    return r && { experiment: JSON.parse(r.definition) as Experiment, revision: Number(r.revision) };
  }

  async putExperiment(e: Experiment, expectedRevision: number, ts: number, by: Actor, action: string, details?: unknown): Promise<number | undefined> {
    const json = JSON.stringify(e);
    const revision = expectedRevision + 1;
    const write =
      expectedRevision === 0
        ? this.db.insertInto('experiments').values({ id: e.id, placement: e.placement, status: e.status, definition: json, revision, updated_ts: ts }).onConflict((oc) => oc.column('id').doNothing())
        : this.db.updateTable('experiments').set({ status: e.status, definition: json, revision, updated_ts: ts }).where('id', '=', e.id).where('revision', '=', expectedRevision);
    const ok = await this.atomic([{ query: write.compile(), mustChange: true }, ...this.auditSteps(ts, by, action, `experiment:${e.id}`, details ?? { status: e.status, phase: e.phase })]);
    return ok ? revision : undefined;
  }

  async deployVersion(): Promise<number> {
    const r = await this.db.selectFrom('deploy_state').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
    return Number(r.version);
  }

  async listAudit(opts: { limit: number; target?: string }): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (opts.target !== undefined) q = q.where('target', '=', opts.target);
    const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
    return rows.map((r) => ({ id: Number(r.id), ts: Number(r.ts), actor: r.actor, action: r.action, target: r.target, reason: r.reason, details: JSON.parse(r.details) as unknown }));
  }

  private auditSteps(ts: number, by: Actor, action: string, target: string, details: unknown): AtomicStep[] {
    return [
      { query: this.db.insertInto('audit_log').values({ ts, actor: by.actor, action, target, reason: by.reason, details: JSON.stringify(details) }).compile() },
      { query: this.db.updateTable('deploy_state').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).compile() },
    ];
  }

  /**
   * Runs the statements in one transaction; a step with `mustChange` that changes no row rolls the
   * whole transaction back and resolves false (a lost compare-and-set).
   */
  protected abstract atomic(steps: AtomicStep[]): Promise<boolean>;

  /** Runs the statements a flow yields in one write transaction, feeding each one's rows back; returns the flow's result. */
  protected abstract drive<R>(flow: Generator<CompiledQuery, R, Record<string, unknown>[]>): Promise<R>;

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
    await this.allOrNothing(
      [...chunks(records)].map((batch) => ({
        query: this.db
          .insertInto('exposures')
          .values(batch.map(exposureToRow))
          .onConflict((oc) => oc.columns(['experiment', 'phase', 'reader_id']).doNothing())
          .compile(),
      })),
    );
  }

  async appendServes(records: readonly ServeRecord[]): Promise<void> {
    await this.allOrNothing([...chunks(records)].map((batch) => ({ query: this.db.insertInto('serves').values(batch.map(serveToRow)).compile() })));
  }

  /**
   * Several statements in one transaction: the RecordWriter writes a refused write again in halves,
   * so a write must be stored whole or not at all (a serve stored twice would count twice).
   */
  private async allOrNothing(steps: AtomicStep[]): Promise<void> {
    if (steps.length === 1) await this.db.executeQuery(steps[0]!.query);
    else if (steps.length > 1) await this.atomic(steps);
  }

  async listExposures(experiment: string): Promise<ExposureRecord[]> {
    const rows = await this.db.selectFrom('exposures').selectAll().where('experiment', '=', experiment).orderBy('phase').orderBy('exposed_ts').orderBy('reader_id').execute();
    return rows.map(rowToExposure);
  }

  async listServes(opts: { limit: number; recommId?: string }): Promise<ServeRecord[]> {
    let q = this.db.selectFrom('serves').selectAll();
    if (opts.recommId !== undefined) {
      // No index on recomm_id (migration 0009). A UUIDv7 recommId carries the millisecond it was
      // made, which is its serve's served_ts (serving takes both from one clock reading, and its
      // shadows share it): search serves_placement_time around it, placement by placement. Ids of
      // another shape (older versions, other writers), or one not found there, scan the table.
      const ms = uuidV7Millis(opts.recommId);
      if (ms !== undefined) {
        const near = await q
          .where('placement', 'in', (eb) => eb.selectFrom('placements').select('name'))
          .where('served_ts', '>=', ms - RECOMM_TIME_SLACK_MS).where('served_ts', '<=', ms + RECOMM_TIME_SLACK_MS)
          .where('recomm_id', '=', opts.recommId)
          .orderBy('id', 'desc').limit(opts.limit).execute();
        if (near.length > 0) return near.map(rowToServe);
      }
      q = q.where('recomm_id', '=', opts.recommId);
    }
    const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
    return rows.map(rowToServe);
  }

  async servesSince(placement: string, sinceTs: number, limit: number): Promise<ServeRecord[]> {
    const rows = await this.db.selectFrom('serves').selectAll().where('placement', '=', placement).where('served_ts', '>=', sinceTs).orderBy('served_ts').orderBy('id').limit(limit).execute();
    return rows.map(rowToServe);
  }

  async engagementByArm(placement: string, sinceTs: number): Promise<{ arm: string | null; responses: number; impressions: number; clicks: number }[]> {
    const served = await this.db
      .selectFrom('serves')
      .select(['arm', (eb) => eb.fn.countAll().as('n')])
      .where('placement', '=', placement).where('served_ts', '>=', sinceTs).where('shadow', '=', 0)
      .groupBy('arm')
      .execute();
    const engaged = await this.db
      .selectFrom('serves as s')
      .innerJoin('events as e', 'e.recomm_id', 's.recomm_id')
      .select((eb) => [
        's.arm',
        eb.fn.sum<number>(eb.case().when('e.type', '=', 'impression').then(1).else(0).end()).as('impressions'),
        eb.fn.sum<number>(eb.case().when('e.type', '=', 'click').then(1).else(0).end()).as('clicks'),
      ])
      .where('s.placement', '=', placement).where('s.served_ts', '>=', sinceTs).where('s.shadow', '=', 0)
      .where('e.type', 'in', ['impression', 'click'])
      .groupBy('s.arm')
      .execute();
    const byArm = new Map(engaged.map((r) => [r.arm, r]));
    return served.map((r) => ({ arm: r.arm, responses: Number(r.n), impressions: Number(byArm.get(r.arm)?.impressions ?? 0), clicks: Number(byArm.get(r.arm)?.clicks ?? 0) }));
  }

  async sessionReads(sessionIds: readonly string[], sinceTs: number): Promise<{ sessionId: string; articleId: string; clientTs: number }[]> {
    const out: { sessionId: string; articleId: string; clientTs: number }[] = [];
    for (const ids of chunks([...new Set(sessionIds)])) {
      const rows = await this.db
        .selectFrom('events')
        .select(['session_id', 'article_id', 'client_ts'])
        .where('session_id', 'in', ids).where('client_ts', '>=', sinceTs).where('type', 'in', ['read', 'page_view']).where('article_id', 'is not', null)
        .execute();
      for (const r of rows) out.push({ sessionId: r.session_id, articleId: r.article_id!, clientTs: Number(r.client_ts) });
    }
    return out.sort((a, b) => a.clientTs - b.clientTs);
  }

  async interleavingClicks(experiment: string, phase: number): Promise<{ readerId: string; team: string | null }[]> {
    const rows = await this.db
      .selectFrom('serves as s')
      .innerJoin('events as e', 'e.recomm_id', 's.recomm_id')
      .select(['e.reader_id', 's.slate', 'e.extra'])
      .where('s.experiment', '=', experiment).where('s.phase', '=', phase).where('s.shadow', '=', 0).where('e.type', '=', 'click')
      .execute();
    return rows.map((r) => {
      const position = (JSON.parse(r.extra) as { position: number }).position;
      const slot = decodeSlate(r.slate).find((x) => x.position === position);
      return { readerId: r.reader_id, team: slot?.team ?? null };
    });
  }

  /**
   * Per-arm sums of the per-reader measures of core/analysis/metrics.ts, pushed down as one SQL
   * statement that reads the same on SQLite and PostgreSQL: per reader (left join, so an exposed
   * reader with no event counts with zeros), events from the first exposure until `toTs`; then per
   * arm n, Σx, Σx² and the ratio cross-products.
   */
  async advanceRollups(windows: readonly RollupWindow[], cutoffTs: number, maxEvents: number, money?: RevenueCurrency): Promise<RollupProgress> {
    return this.drive(rollupFlow(this.db, this.dialect, windows, cutoffTs, maxEvents, money));
  }

  async unpricedRevenue(experiment: string, phase: number): Promise<UnpricedRevenue[]> {
    const r = await this.db.executeQuery<Record<string, unknown>>(unpricedQuery(this.db, experiment, phase));
    return r.rows.map((x) => ({ arm: String(x.arm), currency: String(x.currency), readers: Number(x.readers), events: Number(x.events), amount: Number(x.amount) }));
  }

  async armSums(experiment: string, phase: number, opts: { revenueCap?: number } = {}): Promise<ArmSums[]> {
    const r = await this.db.executeQuery<Record<string, unknown>>(armSumsQuery(this.db, experiment, phase, opts.revenueCap));
    return armSumsFromRows(r.rows);
  }

  async serveSums(experiment: string, phase: number) {
    const rows = await this.db
      .selectFrom('serves')
      .select((eb) => [
        'arm',
        eb.fn.countAll().as('responses'),
        eb.fn.sum<number>('fault').as('faults'),
        eb.fn.sum<number>('latency_ms').as('latency_sum'),
        eb.fn.sum<number>(sql`latency_ms * latency_ms`).as('latency_sq'),
        eb.fn.max('latency_ms').as('latency_max'),
      ])
      .where('experiment', '=', experiment).where('phase', '=', phase).where('shadow', '=', 0)
      .groupBy('arm')
      .orderBy('arm')
      .execute();
    return rows.map((r) => ({
      arm: String(r.arm), responses: Number(r.responses), faults: Number(r.faults ?? 0), latencySum: Number(r.latency_sum ?? 0),
      latencySumSquares: Number(r.latency_sq ?? 0), latencyMax: Number(r.latency_max ?? 0),
    }));
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

/** How far a serve's served_ts may be from the time in its UUIDv7 recommId, milliseconds (the same clock reading in practice). */
const RECOMM_TIME_SLACK_MS = 1000;
