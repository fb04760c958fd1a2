import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Collector } from '../app/collector.js';
import { ApiKeys, type KeyState } from '../app/keys.js';
import type { Secrets } from '../app/ports.js';
import { RecordWriter } from '../app/record-writer.js';
import { openStorage } from '../adapters/storage/open.js';
import type { KyselyStorage } from '../adapters/storage/kysely-store.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../core/kernel/clock.js';

export const systemClock: Clock = { now: () => Date.now() };

export const nodeSecrets: Secrets = {
  newKey: () => `rn_${randomBytes(24).toString('base64url')}`,
  hash: (key) => createHash('sha256').update(key, 'utf8').digest('hex'),
  sameHash: (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b)),
};

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function openDb(config: Readonly<Config>): Promise<KyselyStorage> {
  return openStorage(config.db, { sqlite: { synchronous: config.sqliteSynchronous }, maxConnections: config.pgPoolSize });
}

export interface Services {
  storage: KyselyStorage;
  collector: Collector;
  recordWriter: RecordWriter;
  keys: ApiKeys;
  keyStates: KeyState[];
  clock: Clock;
  close(): Promise<void>;
}

/** Opens the database (migrating it) and wires the use cases. */
export async function openServices(config: Readonly<Config>, clock: Clock = systemClock, log: (msg: string) => void = () => undefined): Promise<Services> {
  const storage = await openDb(config);
  const collector = new Collector(storage, clock, { maxPastMs: config.eventMaxPastMs, maxFutureMs: config.eventMaxFutureMs }, config.maxEventsPerCommit);
  const recordWriter = new RecordWriter(storage, {
    flushIntervalMs: config.recordFlushIntervalMs,
    maxBuffered: 1000,
    onError: (e, kind, dropped) => log(`could not write ${dropped} ${kind} records: ${(e as Error).message}`),
  });
  const keys = new ApiKeys(storage, nodeSecrets, clock);
  const keyStates = [await keys.init('admin', config.adminKey), await keys.init('ingest', config.ingestKey)];
  return {
    storage, collector, recordWriter, keys, keyStates, clock,
    async close() {
      await collector.close();
      await recordWriter.close();
      await storage.close();
    },
  };
}
