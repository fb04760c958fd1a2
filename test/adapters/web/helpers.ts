import { rowToEvent } from '../../../src/adapters/storage/rows.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../../../src/adapters/http/app.js';
import { demoSite } from '../../../src/adapters/web/site.js';
import { loadConfig, type Config } from '../../../src/config/config.js';
import type { ReadingEvent } from '../../../src/core/events/schema.js';
import { appDeps, openServices, systemClock, type Services } from '../../../src/main/services.js';
import { admin, ADMIN_KEY, INGEST_KEY } from '../../helpers/app.js';
import { builtSdk } from '../../helpers/sdk.js';

export interface LiveApp {
  app: FastifyInstance;
  services: Services;
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/**
 * The real app with the demo site, like `testApp()` but on the system clock (a browser stamps
 * events with its own time, which the collector checks against the server's) and listening on a
 * free port for the browser.
 */
export async function liveApp(over: Partial<Config> = {}): Promise<LiveApp> {
  const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent', ...over }, {});
  const services = await openServices(config, { clock: systemClock });
  const app = await createApp(
    appDeps(services, [demoSite({ articles: services.storage, siteName: 'The Browser Times', sdkFile: await builtSdk() })]),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('the app is not listening on a TCP port');
  return {
    app,
    services,
    url: `http://127.0.0.1:${addr.port}`,
    async close() {
      await app.close();
      await services.close();
    },
  };
}

/** Loads articles through the admin API, so that every in-memory view of the catalog hears of them. */
export async function seedArticles(app: FastifyInstance, articles: readonly Record<string, unknown>[]): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } });
  if (res.statusCode !== 200) throw new Error(`seeding articles failed: ${res.statusCode} ${res.body}`);
}

/** Every stored reading event, oldest first (by client time). */
export async function storedEvents(services: Services): Promise<ReadingEvent[]> {
  const rows = await kyselyOf(services.storage).selectFrom('events').selectAll().execute();
  return rows
    .map((r) => {
      const { receivedTs: _r, ...e } = rowToEvent(r);
      return e as ReadingEvent;
    })
    .sort((a, b) => a.clientTs - b.clientTs);
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The Chromium to drive, or undefined when this machine has none. */
export function findChromium(): string | undefined {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  try {
    const p = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser || command -v google-chrome'], {
      encoding: 'utf8',
    }).trim();
    return p || undefined;
  } catch {
    return undefined;
  }
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
