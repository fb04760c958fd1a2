import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStorage, type OpenedStorage } from '../../src/adapters/storage/open.js';

/** Base URL of the PostgreSQL used by tests; the suites for it are skipped when unset. */
export const PG_URL = process.env.READNEXT_TEST_PG;

export const PG_SKIP_MESSAGE =
  'READNEXT_TEST_PG is not set: skipping the PostgreSQL suite (e.g. READNEXT_TEST_PG=postgres://postgres@127.0.0.1:5432/test)';

/** Creates a database of its own for one suite, so suites running in parallel never share tables. */
export async function freshPostgresUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!PG_URL) throw new Error(PG_SKIP_MESSAGE);
  const name = `readnext_t_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export function tempDir(prefix = 'readnext-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  enabled: boolean;
  /** A database URL of its own, and how to remove it. */
  create(): Promise<{ url: string; cleanup(): Promise<void> }>;
}

export const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    enabled: true,
    async create() {
      const dir = tempDir();
      return { url: `sqlite:${join(dir.path, 'test.db')}`, cleanup: async () => dir.remove() };
    },
  },
  {
    name: 'postgres',
    enabled: Boolean(PG_URL),
    async create() {
      const db = await freshPostgresUrl();
      return { url: db.url, cleanup: () => db.drop() };
    },
  },
];

if (!PG_URL) console.warn(PG_SKIP_MESSAGE);

export async function openBackend(b: Backend): Promise<{ storage: OpenedStorage; url: string; cleanup(): Promise<void> }> {
  const { url, cleanup } = await b.create();
  const storage = await openStorage(url, { sqlite: { synchronous: 'NORMAL' } });
  return {
    storage,
    url,
    async cleanup() {
      await storage.close().catch(() => undefined);
      await cleanup();
    },
  };
}
