import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { InProcessTarget } from '../app/sim-platform.js';
import type { SimTarget } from '../app/sim-control.js';
import { HttpTarget } from '../adapters/simclient/http.js';
import { loadConfig, type Config } from '../config/config.js';
import type { RecommenderRegistry } from '../core/recommend/registry.js';
import { openServices, type Services } from './services.js';
import { SimClock } from './sim-clock.js';

/**
 * The platform in process, on a simulated clock set to `startTs`: the app services over a database
 * of its own (default: a fresh SQLite file in a temporary directory, removed on close), with no
 * background pollers (nothing else writes to it). The environment is not read: the simulation is
 * the same wherever it runs; `config` overrides the defaults.
 *
 * @example
 * const target = await openInProcessTarget({ startTs: Date.parse('2026-01-05T00:00:00Z') });
 * try { ... } finally { await target.close(); }
 */
export async function openInProcessTarget(opts: {
  db?: string;
  startTs: number;
  config?: Partial<Config>;
  registry?: RecommenderRegistry;
}): Promise<SimTarget> {
  const dir = opts.db === undefined ? mkdtempSync(join(tmpdir(), 'readnext-sim-')) : undefined;
  const remove = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { services: s, clock } = await openSimServices({
      db: dir ? `sqlite:${join(dir, 'sim.db')}` : opts.db!,
      startTs: opts.startTs,
      // A throwaway file: a process crash loses it anyway, so no fsync per commit.
      config: { ...(dir ? { sqliteSynchronous: 'NORMAL' as const } : {}), ...opts.config },
      ...(opts.registry ? { registry: opts.registry } : {}),
    });
    return targetOf(s, clock, async () => {
      try {
        await s.close();
      } finally {
        remove();
      }
    });
  } catch (e) {
    remove();
    throw e;
  }
}

/**
 * App services over `db` on a simulated clock set to `startTs`, with the simulation's target on
 * them (closing the target does nothing: close the services). The environment is not read;
 * `config` overrides the defaults. Tests and calibrations that also need the services use it.
 */
export async function openSimServices(opts: {
  db: string;
  startTs: number;
  config?: Partial<Config>;
  registry?: RecommenderRegistry;
}): Promise<{ services: Services; clock: SimClock; target: InProcessTarget }> {
  const config = loadConfig({ db: opts.db, logLevel: 'silent', ...opts.config, simClock: true }, {});
  const clock = new SimClock();
  clock.set(opts.startTs);
  // Checkpoints off the commit path, as a server does: in process, each simulated minute is a
  // small commit, and WAL checkpoints inside them took about half the storage time (bench:simulate).
  const services = await openServices(config, { clock, registry: opts.registry, checkpointInBackground: true });
  return { services, clock, target: targetOf(services, clock, async () => undefined) };
}

/** The simulation's view of opened services on a simulated clock (tests drive their own services with it). */
export function targetOf(s: Services, clock: SimClock, close: () => Promise<void>): InProcessTarget {
  return new InProcessTarget({
    clock,
    catalog: s.catalog,
    recommendations: s.recommendations,
    collector: s.collector,
    deployments: s.deployments,
    experiments: s.placements,
    analysis: s.storage,
    rollups: s.rollups,
    recordWriter: s.recordWriter,
    training: { models: s.storage, articles: s.storage, clock, timer: () => performance.now() },
    close,
  });
}

/** The platform over HTTP: a running `readnext serve --sim-clock` at `url`, driven with its admin and ingest keys. */
export function httpTarget(opts: { url: string; adminKey: string; ingestKey: string }): SimTarget {
  return new HttpTarget(opts);
}
