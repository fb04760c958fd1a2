import type { CliDeps } from '../adapters/cli/program.js';
import { loadConfig, type Config } from '../config/config.js';
import { systemClock, VERSION } from './runtime.js';
import { once } from 'node:events';
import { userInfo } from 'node:os';
import { DeploymentAdmin } from '../app/deploy-admin.js';
import type { Clock } from '../core/kernel/clock.js';
import { appRecommenders } from './recommenders.js';
import { simulateDeps } from './simulate.js';
import { evalDeps } from './eval.js';
import { simulatedNow } from './sim-clock.js';

// The server, the storage adapters and their drivers are imported by the commands that use them,
// so `readnext --help` loads none of them (docs/adr/0003-compiled-entry-point.md).
const openDb = async (c: Readonly<Config>) => (await import('./services.js')).openDb(c);

/** Wires the CLI to the real services. `env` is passed through to the config loader (tests give their own). */
export function cliDeps(io: {
  out: (l: string) => void;
  err: (l: string) => void;
  isTty: boolean;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}): CliDeps {
  const config = (over: { db?: string; host?: string; port?: number; simClock?: boolean } = {}) => loadConfig(over, io.env);
  const registry = appRecommenders();
  // On a simulated database (READNEXT_SIM_CLOCK=1) the deploy and model commands act at the time its
  // server's simulated clock was last set (read at each open; main/sim-clock.ts settableSimClock),
  // else at the clock's time.
  let simNow: number | undefined;
  const clock: Clock = { now: () => simNow ?? (io.clock ?? systemClock).now() };
  const open = async (c: Readonly<Config>) => {
    const storage = await openDb(c);
    if (c.simClock) simNow = await simulatedNow(storage);
    return storage;
  };
  return {
    version: VERSION,
    clock: io.clock ?? systemClock,
    out: io.out,
    err: io.err,
    isTty: io.isTty,
    async serve(o) {
      const { startServer } = await import('./server.js');
      const c = config(o);
      const server = await startServer(c, io.err);
      io.err(`readnext ${VERSION} serving on ${server.url} (database ${c.db.startsWith('postgres') ? 'postgres' : c.db})`);
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          io.err(`readnext: ${sig}, shutting down`);
          void server.stop().then(resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    },
    async demo(o) {
      const [{ runDemo }, { default: cliProgress }] = await Promise.all([import('./demo.js'), import('cli-progress')]);
      let bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
      let barLabel = '';
      const endBar = () => {
        bar?.stop();
        bar = undefined;
      };
      const demo = await runDemo(o, {
        print: (line) => {
          endBar();
          io.out(line);
        },
        progress: io.isTty
          ? (label, share) => {
              if (!bar || label !== barLabel) {
                endBar();
                barLabel = label;
                bar = new cliProgress.SingleBar(
                  { format: `    ${label} [{bar}] {percentage}%`, hideCursor: true, stream: process.stderr },
                  cliProgress.Presets.shades_classic,
                );
                bar.start(100, 0);
              }
              bar.update(Math.round(share * 100));
            }
          : undefined,
      });
      endBar();
      if (o.live === false) return demo.stop();
      await new Promise<void>((resolve, reject) => {
        const stop = (sig: string) => {
          io.err(`readnext: ${sig}, stopping the demo`);
          void demo.stop().then(resolve, reject);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
        demo.live.then(
          () => io.out('live: the simulated month ended; still serving (Ctrl-C stops)'),
          (e: Error) => reject(e),
        );
      });
    },
    async openCatalog(db) {
      const c = config({ db });
      const storage = await openDb(c);
      return { store: storage, url: c.db, close: () => storage.close() };
    },
    deploy: {
      registry,
      actor: `cli:${userInfo().username}`,
      now: clock.now,
      out: io.out,
      readStdin: async () => {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      },
      async open(db) {
        const c = config({ db });
        const storage = await open(c);
        // The admin side only: validating a deployment needs the registry, not the serving state.
        const deployments = new DeploymentAdmin(storage, registry, clock);
        await deployments.init();
        const rollup = { lagMs: c.rollupLagMs, money: { currency: c.currency, rates: c.fxRates } };
        return { deployments, records: storage, audit: storage, analysis: storage, rollup, close: () => storage.close() };
      },
    },
    simulate: simulateDeps({ ...io, now: () => (io.clock ?? systemClock).now() }),
    lab: evalDeps({ out: io.out, err: io.err, registry, config }),
    models: {
      out: io.out,
      err: io.err,
      isTty: io.isTty,
      now: clock.now,
      async open(db) {
        const storage = await open(config({ db }));
        return { models: storage, articles: storage, close: () => storage.close() };
      },
    },
    data: {
      out: io.out,
      now: clock.now,
      async open(db) {
        const storage = await open(config({ db }));
        return { store: storage, models: storage, articles: storage, lab: storage, close: () => storage.close() };
      },
    },
    readers: {
      out: io.out,
      async open(db) {
        const storage = await open(config({ db }));
        const [{ ReaderPrivacy }, { hash }] = await Promise.all([import('../app/readers.js'), import('node:crypto')]);
        // No memory of its own: running servers poll the erasure (services.ts).
        const readers = new ReaderPrivacy(storage, clock, (id) => hash('sha256', id, 'hex'));
        return { readers, close: () => storage.close() };
      },
      async retention(db) {
        const c = config({ db });
        const storage = await open(c);
        const { Retention } = await import('../app/retention.js');
        const retention = new Retention(storage, clock, { days: c.retentionDays });
        return { days: c.retentionDays, run: () => retention.run(), close: () => storage.close() };
      },
    },
    keys: {
      out: io.out,
      async open(db) {
        const storage = await open(config({ db }));
        const [{ ApiKeys }, { nodeSecrets }] = await Promise.all([import('../app/keys.js'), import('./services.js')]);
        return { keys: new ApiKeys(storage, nodeSecrets, clock), close: () => storage.close() };
      },
    },
    roi: {
      async open(db) {
        const c = config({ db });
        const storage = await open(c);
        const deployments = new DeploymentAdmin(storage, registry, clock);
        await deployments.init();
        const { experimentReport } = await import('../app/analysis.js');
        const rollup = { lagMs: c.rollupLagMs, money: { currency: c.currency, rates: c.fxRates } };
        return {
          sources: {
            experimentReport: async (id: string) => experimentReport(await deployments.experiments(), storage, clock, id, { rollup }),
            records: storage,
            models: storage,
            now: clock.now(),
          },
          store: storage,
          close: () => storage.close(),
        };
      },
    },
    exports: {
      now: clock.now,
      err: io.err,
      // Whole lines go through `out` (it adds the newline); stdout's buffer is drained before more.
      async stdout(chunk) {
        io.out(chunk);
        if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
      },
      async open(db) {
        const storage = await open(config({ db }));
        const { exportStoreOf } = await import('../adapters/storage/export.js');
        return { store: exportStoreOf(storage), close: () => storage.close() };
      },
    },
    async migrate(db) {
      const c = config({ db });
      const storage = await openDb(c);
      await storage.close();
      return c.db;
    },
  };
}
