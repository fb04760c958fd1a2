import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/adapters/http/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { appDeps, openServices, type Services } from '../../src/main/services.js';
import { T0 } from './events.js';

export const ADMIN_KEY = 'test-admin-key';
export const INGEST_KEY = 'test-ingest-key';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  clock: ReturnType<typeof fixedClock>;
  close(): Promise<void>;
}

/** The real app on a real database (SQLite in memory unless `db` is given), with a clock fixed at T0. */
export async function testApp(over: Partial<Config> = {}): Promise<TestApp> {
  const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent', ...over }, {});
  const clock = fixedClock(T0);
  const services = await openServices(config, { clock });
  const app = await createApp(appDeps(services));
  return {
    app,
    services,
    clock,
    async close() {
      await app.close();
      await services.close();
    },
  };
}

export const admin = { authorization: `Bearer ${ADMIN_KEY}` };
