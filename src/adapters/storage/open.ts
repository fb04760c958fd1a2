import { DomainError } from '../../core/kernel/errors.js';
import { explainOpenError, PostgresStorage } from './postgres.js';
import { SqliteStorage, type SqliteOptions } from './sqlite.js';
import type { KyselyStorage } from './kysely-store.js';

export type DatabaseUrl = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

/**
 * Chooses the backend from the URL: `sqlite:PATH` (relative or absolute), `sqlite::memory:`,
 * `postgres://...` or `postgresql://...`.
 */
export function parseDatabaseUrl(url: string): DatabaseUrl {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new DomainError('invalid_database_url', 'sqlite URL needs a path: sqlite:PATH or sqlite::memory:', { field: 'db' });
    return { dialect: 'sqlite', path };
  }
  throw new DomainError('invalid_database_url', `unsupported database URL "${url}": use sqlite:PATH, sqlite::memory: or postgres://...`, { field: 'db' });
}

export interface OpenOptions {
  sqlite?: SqliteOptions;
  /** PostgreSQL pool size. */
  maxConnections?: number;
  /** Migrate only up to this migration (tests of a migration); default: all. */
  migrateTo?: string;
}

/** Opens the database named by `url` and applies pending migrations. */
export async function openStorage(url: string, opts: OpenOptions = {}): Promise<KyselyStorage> {
  const parsed = parseDatabaseUrl(url);
  const storage =
    parsed.dialect === 'sqlite'
      ? SqliteStorage.open(parsed.path, opts.sqlite ?? { synchronous: 'FULL' })
      : PostgresStorage.open(parsed.url, opts.maxConnections);
  try {
    await storage.migrate(opts.migrateTo);
  } catch (e) {
    await storage.close().catch(() => undefined);
    // The first query connects: a missing database or an unreachable server surfaces here.
    throw parsed.dialect === 'postgres' ? explainOpenError(parsed.url, e) : e;
  }
  return storage;
}
