import type { Kysely } from 'kysely';
import type { Storage } from '../../app/ports.js';
import { kyselyOfStorage } from './open.js';
import type { Database } from './schema.js';

/**
 * For tests and benches only: the Kysely instance behind a storage opened by openStorage, to set
 * up or inspect tables no port exposes (a migration's old rows, reader_days, sizes). The app and the
 * adapters see the ports only; nothing under src/ imports this module.
 *
 * @example
 * await kyselyOf(storage).selectFrom('reader_days').selectAll().execute()
 */
export function kyselyOf(storage: Storage): Kysely<Database> {
  // An object made by Object.create over an opened storage (a test's wrapper) finds it on its prototype chain.
  for (let s: object | null = storage; s !== null; s = Object.getPrototypeOf(s) as object | null) {
    const db = kyselyOfStorage.get(s);
    if (db) return db;
  }
  throw new Error('kyselyOf: not a storage opened by openStorage');
}
