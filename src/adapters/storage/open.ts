import { Migrator, sql, type Kysely } from 'kysely';
import { DomainError } from '../../core/kernel/errors.js';
import type { LabEventStore, StorageHandle } from '../../app/ports.js';
import { analysisStore } from './analysis.js';
import { dataReportStore } from './data-report.js';
import { articleStore } from './articles.js';
import { placementStore } from './deployments.js';
import type { Dialect } from './dialect.js';
import { eventStore } from './events.js';
import { keyStore } from './keys.js';
import { kpiStore } from './kpis.js';
import { labEventStore } from './lab.js';
import { metaStore } from './meta.js';
import { migrationProvider } from './migrations/index.js';
import { modelStore } from './models.js';
import { roiStore } from './roi.js';
import { explainOpenError, PostgresDriver } from './postgres.js';
import { readerStore } from './readers.js';
import { recordStore } from './records.js';
import { retentionStore } from './retention.js';
import type { Database } from './schema.js';
import { SqliteDriver, type SqliteOptions } from './sqlite.js';

export type DatabaseUrl = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

/**
 * Chooses the backend from the URL: `sqlite:PATH` (relative or absolute), `sqlite::memory:`,
 * `postgres://...` or `postgresql://...`.
 */
export function parseDatabaseUrl(url: string): DatabaseUrl {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '')
      throw new DomainError('invalid_database_url', 'sqlite URL needs a path: sqlite:PATH or sqlite::memory:', { field: 'db' });
    return { dialect: 'sqlite', path };
  }
  throw new DomainError('invalid_database_url', `unsupported database URL "${url}": use sqlite:PATH, sqlite::memory: or postgres://...`, {
    field: 'db',
  });
}

export interface OpenOptions {
  sqlite?: SqliteOptions;
  /** PostgreSQL pool size. */
  maxConnections?: number;
  /** Migrate only up to this migration (tests of a migration); default: all. */
  migrateTo?: string;
}

/** An opened database: the ports (StorageHandle), and its migrations. */
export interface OpenedStorage extends StorageHandle, LabEventStore {
  /** Applies the pending migrations, or those up to `to` (a migration's name: tests of a migration). */
  migrate(to?: string): Promise<void>;
}

/** The Kysely instance behind each opened storage, for tests and benches only (testing.ts). */
export const kyselyOfStorage = new WeakMap<object, Kysely<Database>>();

/**
 * One Storage from the stores of each port over one dialect. Plain own properties, so a test may
 * replace one method (test/main/record-isolation.test.ts) and every user sees it.
 */
function compose(d: Dialect): OpenedStorage {
  const storage: OpenedStorage = {
    ...eventStore(d),
    ...placementStore(d),
    ...articleStore(d),
    ...recordStore(d),
    ...analysisStore(d),
    ...keyStore(d),
    ...metaStore(d),
    ...modelStore(d),
    ...labEventStore(d),
    ...dataReportStore(d),
    ...roiStore(d),
    ...kpiStore(d),
    ...readerStore(d),
    ...retentionStore(d),
    dialect: d.name,
    tuning: d.tuning,
    refuses: (e) => d.refuses(e),
    async ping() {
      await sql`select 1`.execute(d.db);
    },
    async migrate(to) {
      const migrator = new Migrator({ db: d.db, provider: migrationProvider(d.name) });
      const { error, results } = to === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(to);
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
        throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    },
    close: () => d.close(),
  };
  kyselyOfStorage.set(storage, d.db);
  return storage;
}

/** Opens the database named by `url` and applies pending migrations. */
export async function openStorage(url: string, opts: OpenOptions = {}): Promise<OpenedStorage> {
  const parsed = parseDatabaseUrl(url);
  const storage = compose(
    parsed.dialect === 'sqlite'
      ? SqliteDriver.open(parsed.path, opts.sqlite ?? { synchronous: 'FULL' })
      : PostgresDriver.open(parsed.url, opts.maxConnections),
  );
  try {
    await storage.migrate(opts.migrateTo);
  } catch (e) {
    await storage.close().catch(() => undefined);
    // The first query connects: a missing database or an unreachable server surfaces here.
    throw parsed.dialect === 'postgres' ? explainOpenError(parsed.url, e) : e;
  }
  return storage;
}
