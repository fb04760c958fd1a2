import type { FastifyInstance } from 'fastify';
import { createApp } from '../adapters/http/app.js';
import { demoSite } from '../adapters/web/site.js';
import type { Config } from '../config/config.js';
import { SDK_FILE } from './runtime.js';
import { appDeps, openServices, type Services } from './services.js';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  url: string;
  stop(): Promise<void>;
}

/**
 * Opens the database, builds the app and listens. Generated keys are printed once, here. It
 * listens before the serving state is rebuilt from the stored events (seconds per million events):
 * events are stored from the start, and /readyz answers 503 until the state is ready (openServices).
 */
export async function startServer(
  config: Readonly<Config>,
  print: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<RunningServer> {
  const services = await openServices(config, { log: print, background: true, warmInBackground: true });
  if (services.simClock)
    print(
      'readnext: WARNING: running on a SIMULATED clock (--sim-clock / READNEXT_SIM_CLOCK=1): time moves only when POST /v1/admin/sim-clock sets it, and events are accepted at simulated times. Never for production.',
    );
  for (const k of services.keyStates) {
    if (k.generated) print(`readnext: generated the ${k.role} key (shown once, stored hashed): ${k.generated}`);
  }
  const app = await createApp(
    appDeps(services, [demoSite({ articles: services.storage, clock: services.clock, sdkFile: SDK_FILE, log: print })]),
  );
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    app,
    services,
    url,
    stop: () =>
      (stopping ??= (async () => {
        // 1. stop accepting requests and finish the ones in flight, 2. commit what is queued, 3. close the database.
        await app.close();
        await services.close();
      })()),
  };
}
