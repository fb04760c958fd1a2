/**
 * `readnext demo` (what `npm start` runs): the story of app/demo.ts on its own database file
 * (data/demo/readnext-demo.db, never the production default), with the server, the dashboard and
 * the demo site up from the start, on a simulated clock that the story moves and that then follows
 * real time while the same simulated readers keep browsing (the live phase).
 *
 * The story is placed so that it ends at today's midnight (UTC): the live phase then catches up to
 * now and goes on in real time, and the dashboard's days are real days. A second run finds the
 * story done (data/demo/demo.json) and resumes the live phase on the same database; `--reset`
 * starts over. The demo's keys are kept in that file (mode 0600) so that a resumed demo can print
 * the admin key again: a demo's convenience, never the server's way (it stores keys hashed only).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DemoCommandOptions } from '../adapters/cli/program.js';
import { createApp } from '../adapters/http/app.js';
import { demoSite } from '../adapters/web/site.js';
import { loadConfig, type Config } from '../config/config.js';
import type { Article } from '../core/catalog/article.js';
import { DomainError } from '../core/kernel/errors.js';
import { DAY_MS } from '../core/kernel/time.js';
import { seededRng } from '../core/kernel/rng.js';
import { runWorld } from '../core/simulate/run.js';
import type { SimPlatform } from '../core/simulate/platform.js';
import { parseWorld, type WorldSpec } from '../core/simulate/world.js';
import { DEMO_SCHEDULES, playDemo, storyDays, type DemoDeps, type DemoResult, type DemoSchedule } from '../app/demo.js';
import { experimentReport, reportRollups } from '../app/analysis.js';
import { SDK_FILE } from './runtime.js';
import { appDeps, openServices, type Services } from './services.js';
import { SimClock } from './sim-clock.js';
import { targetOf } from './sim-target.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORLDS_DIR = join(ROOT, 'worlds');
/** The real catalog used when the shared data sits beside the checkout (never committed; see its NOTICE.md). */
export const SHARED_CATALOG = resolve(ROOT, '..', 'shared', 'data', 'wikipedia-current-events', 'items.jsonl');
/** The data report's signal part on the latest 20,000 impressions with 500 bootstrap resamples: seconds, not half a minute. */
const DEMO_SIGNAL = { maxImpressions: 20_000, resamples: 500 };
/** Days of live traffic a run of the world plays after the story (real time: a month). */
const LIVE_DAYS = 30;
/**
 * Readers of the live phase: at the worlds' median of 1.5 visits a week, 100,000 readers make a
 * visit every few seconds in real time, enough for the dashboard to move while one watches.
 */
const LIVE_READERS = 100_000;
const RESUME_CATCH_UP_MS = 10 * 60_000;

export interface DemoCliOptions extends DemoCommandOptions {
  /** The story's start, epoch ms (default: so that it ends at today's midnight UTC). */
  startTs?: number;
  /** The readers (default the schedule's): tests make the story smaller. */
  readers?: number;
  /** The live phase's readers (default LIVE_READERS). */
  liveReaders?: number;
}

/** data/demo/demo.json: what was played, so a second run resumes it. */
interface DemoState {
  version: 1;
  world: string;
  seed: number;
  schedule: DemoSchedule;
  startTs: number;
  storyEndTs: number | null;
  /** Live runs started so far (each a new world run with its own articles and event ids). */
  generation: number;
  adminKey: string;
  ingestKey: string;
}

export interface RunningDemo {
  url: string;
  adminKey: string;
  services: Services;
  app: FastifyInstance;
  /** The story's result (null when the demo resumed a finished story). */
  result: DemoResult | null;
  /** Resolves when the live phase ends (after LIVE_DAYS, or stop()); rejects if it fails. */
  live: Promise<void>;
  stop(): Promise<void>;
}

const newKey = (): string => randomBytes(18).toString('base64url');

function worldFile(name: string): string {
  if (/[/\\]|\.json$/i.test(name)) return name;
  const f = join(WORLDS_DIR, `${name}.json`);
  if (!existsSync(f))
    throw new DomainError('invalid_field', `--world: no shipped world "${name}" (a name in worlds/, or a file path)`, { field: '--world' });
  return f;
}

function readWorld(name: string): WorldSpec {
  const file = worldFile(name);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DomainError('invalid_field', `--world ${file}: ${(e as Error).message}`, { field: '--world' });
  }
  try {
    return parseWorld(json);
  } catch (e) {
    throw new DomainError('invalid_field', `--world ${file}: ${(e as Error).message}`, { field: '--world' });
  }
}

async function readCatalog(file: string): Promise<Article[]> {
  const { readArticles, resolveFormat } = await import('../adapters/cli/import-articles.js');
  const out: Article[] = [];
  for await (const r of readArticles(file, await resolveFormat(file, undefined), Date.now())) if (r.result.ok) out.push(r.result.article);
  return out;
}

/**
 * A real catalog spaced to the world's publishing rate (`articles.perHour`), newest first, keeping
 * its order: the shared Wikipedia current-events items come at about 18 a day, and a newsroom that
 * publishes that little gives any recommender the same few candidates. The world then shifts the
 * dates onto its clock (core/simulate/newsroom.ts rebaseCatalog). Dates only: titles, sections and
 * texts are the real ones.
 */
export function spaceCatalog(catalog: readonly Article[], perHour: number): Article[] {
  const sorted = [...catalog].sort((a, b) => b.publishedAt - a.publishedAt || (a.id < b.id ? -1 : 1));
  const newest = sorted[0]?.publishedAt ?? 0;
  const gap = 3_600_000 / perHour;
  return sorted.map((a, i) => {
    const publishedAt = newest - Math.round(i * gap);
    const shift = publishedAt - a.publishedAt;
    const moved = (t: number | null) => (t === null ? null : t + shift);
    return { ...a, publishedAt, updatedAt: moved(a.updatedAt), expiresAt: moved(a.expiresAt), embargoUntil: moved(a.embargoUntil) };
  });
}

/** Version 4 UUIDs from a seeded stream: the same seed, the same recommendation ids (and explored slates). */
export function seededUuids(seed: number): () => string {
  const rng = seededRng(seed);
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(16).toString(16)).join('');
  return () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[rng.int(4)]}${hex(3)}-${hex(12)}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Plays (or resumes) the demo. Prints through `print`; `progress` draws long steps. Returns once
 * the story is played and the live phase has started (or, with `live: false`, once the story is played).
 */
export async function runDemo(
  o: DemoCliOptions,
  io: { print(line: string): void; progress?(label: string, share: number): void; env?: NodeJS.ProcessEnv },
): Promise<RunningDemo> {
  const dir = resolve(o.dir ?? join('data', 'demo'));
  const dbFile = join(dir, 'readnext-demo.db');
  const stateFile = join(dir, 'demo.json');
  mkdirSync(dir, { recursive: true });
  let state: DemoState | null = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState) : null;
  const asked = { world: o.world ?? 'demo', seed: o.seed ?? 1, fast: Boolean(o.fast) };
  const resume = !o.reset && state !== null && state.storyEndTs !== null;
  if (!resume) {
    if (state && !o.reset) io.print(`readnext demo: the last story in ${dir} did not finish: starting over`);
    for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, stateFile]) rmSync(f, { force: true });
    state = null;
  }
  // The world asked is checked even when resuming: a typo is an error, not a silent resume.
  const askedWorld = readWorld(asked.world);
  if (resume && (o.world !== undefined || o.seed !== undefined || o.fast) && (state!.world !== asked.world || state!.seed !== asked.seed))
    io.print(
      `readnext demo: ${dir} holds the story of world "${state!.world}" seed ${state!.seed}: resuming it (\`--reset\` plays the one asked)`,
    );
  const world = resume ? readWorld(state!.world) : askedWorld;
  const schedule: DemoSchedule = resume
    ? state!.schedule
    : { ...DEMO_SCHEDULES[asked.fast ? 'fast' : 'full'], ...(o.readers === undefined ? {} : { readers: o.readers }) };
  const days = storyDays(schedule);
  const todayMidnight = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const startTs = resume ? state!.startTs : (o.startTs ?? todayMidnight - days * DAY_MS);
  state ??= {
    version: 1,
    world: asked.world,
    seed: asked.seed,
    schedule,
    startTs,
    storyEndTs: null,
    generation: 0,
    adminKey: newKey(),
    ingestKey: newKey(),
  };
  const save = () => writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  save();

  const clock = new SimClock();
  // Resumed: the clock ten minutes back (the live phase catches them up at once, so the dashboard
  // moves as soon as it opens) or at the story's end if later; else at the story's start.
  clock.set(resume ? Math.max(Date.now() - RESUME_CATCH_UP_MS, state.storyEndTs!) : startTs);
  const config: Readonly<Config> = loadConfig(
    {
      db: `sqlite:${dbFile}`,
      simClock: true,
      adminKey: state.adminKey,
      ingestKey: state.ingestKey,
      logLevel: 'silent',
      sqliteSynchronous: 'NORMAL',
      ...(o.host === undefined ? {} : { host: o.host }),
      ...(o.port === undefined ? {} : { port: o.port }),
    },
    {},
  );
  const services = await openServices(config, {
    clock,
    checkpointInBackground: true,
    randomUuid: seededUuids(state.seed + 7919 * state.generation),
  });
  const app = await createApp(
    appDeps(services, [demoSite({ articles: services.storage, clock: services.clock, sdkFile: SDK_FILE, log: io.print })]),
  );
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await services.close();
    throw new DomainError('invalid_config', `cannot listen on ${config.host}:${config.port} (${(e as Error).message}): pass --port`, {
      field: '--port',
    });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const link = (hash: string) => `${url}/dashboard/${hash}`;
  const target = targetOf(services, clock, async () => undefined);
  let stopped = false;
  let liveRun: Promise<unknown> = Promise.resolve();
  const stop = async () => {
    stopped = true;
    await liveRun.catch(() => undefined);
    await app.close();
    await services.close();
  };
  // Real time from the story's end: each simulated minute waits for the wall clock to reach it.
  const pace = async (simTs: number) => {
    for (;;) {
      if (stopped) throw new DemoStopped();
      const wait = simTs - Date.now();
      if (wait <= 0) return;
      await sleep(Math.min(wait, 1000));
    }
  };
  const announce = () => {
    io.print('');
    io.print(`live: the simulated readers keep reading in real time. Dashboard ${url}/dashboard/ (admin key ${state!.adminKey})`);
    io.print(
      `      demo site ${url}/  ·  API ${url}/v1/  ·  Ctrl-C stops; \`npm start\` again resumes; \`npm start -- --reset\` starts over`,
    );
  };

  /**
   * The live phase: a world run of its own from the later of the story's end and now, paced to real
   * time, with LIVE_READERS readers (a story's few thousand would make one visit a minute in real
   * time) and articles of its own (`sim-g<generation>a…`, so they never overwrite the story's).
   */
  const startLive = (): Promise<void> => {
    state!.generation += 1;
    save();
    const from = Math.ceil(Math.max(clock.now(), state!.storyEndTs!) / 60_000) * 60_000;
    const paced: SimPlatform = {
      setTime: async (t) => {
        await pace(t);
        await target.setTime(t);
      },
      publish: (a) => target.publish(a),
      recommend: (r) => target.recommend(r),
      send: (e) => target.send(e),
    };
    const run = runWorld(world, paced, {
      seed: state!.seed + 1000 * state!.generation,
      readers: o.liveReaders ?? LIVE_READERS,
      days: LIVE_DAYS,
      startTs: from,
      articleIdPrefix: `sim-g${state!.generation}a`,
    });
    liveRun = run;
    announce();
    return run
      .then(() => {
        if (!stopped) io.print('live: the simulated month ended; still serving (Ctrl-C stops)');
      })
      .catch((e: unknown) => {
        if (!(e instanceof DemoStopped)) throw e;
      });
  };

  try {
    if (resume) {
      io.print(`readnext demo: resuming the live demo on ${dbFile} (the story was played; \`--reset\` starts over)`);
      const live = o.live === false ? Promise.resolve() : startLive();
      return { url, adminKey: state.adminKey, services, app, result: null, live, stop };
    }

    const catalogFile = o.catalog === 'none' ? undefined : (o.catalog ?? (existsSync(SHARED_CATALOG) ? SHARED_CATALOG : undefined));
    const catalog = catalogFile ? spaceCatalog(await readCatalog(catalogFile), world.articles.perHour) : undefined;
    io.print(
      `readnext demo: a simulated newsroom (world "${world.name}", seed ${state.seed}, ${schedule.readers.toLocaleString('en')} readers, ${days} simulated days${o.fast ? ', --fast' : ''}) on ${dbFile}`,
    );
    io.print(
      `    ${catalog ? `catalog: ${catalog.length.toLocaleString('en')} real news items (${catalogFile}), spaced ${world.articles.perHour} an hour` : 'catalog: generated articles'}; dashboard ${url}/dashboard/ (admin key ${state.adminKey})`,
    );
    const rollups = reportRollups(services.rollups, Number.POSITIVE_INFINITY);
    const deps: DemoDeps = {
      platform: target,
      deployments: services.deployments,
      flush: () => services.recordWriter.flush(),
      report: async (id) => {
        await services.recordWriter.flush();
        return experimentReport(services.placements, services.storage, clock, id, { rollups });
      },
      dataReport: async (sinceTs, untilTs) => {
        await services.recordWriter.flush();
        const { dataReport } = await import('../app/data-report.js');
        return dataReport(
          { store: services.storage, models: services.storage, articles: services.storage, lab: services.storage },
          { sinceTs, untilTs, now: clock.now(), signal: DEMO_SIGNAL },
        );
      },
      train: (placement, sinceTs, untilTs, seed) => target.train(placement, { sinceTs, untilTs, seed }),
      shadowReport: async (placement, sinceTs) => (await import('../app/reports.js')).shadowReport(services.storage, placement, sinceTs),
      ope: async (placement, candidate, sinceTs, untilTs) =>
        (await import('../app/ope.js')).offPolicyEstimate(services.storage, { placement, candidate, sinceTs, untilTs }),
      checkCanaries: () => services.canaryGuard.checkAll(),
      catchUp: async () => {
        await services.recordWriter.flush();
        await services.rollups.catchUp();
      },
      roiAnalyse: async (doc, name) => {
        const roi = await import('../app/roi.js');
        const result = roi.analyseScenario(doc);
        await services.storage.addRoiRevision({ name, createdTs: clock.now(), document: doc, sources: [], result });
        return result;
      },
      roiUpdate: async (doc, name) => {
        const roi = await import('../app/roi.js');
        await services.recordWriter.flush();
        const { revision } = await roi.updateScenario(
          doc,
          {
            experimentReport: (id) => experimentReport(services.placements, services.storage, clock, id, { rollups }),
            records: services.storage,
            models: services.storage,
            now: clock.now(),
            store: services.storage,
          },
          { name },
        );
        return revision.result;
      },
    };
    const run = playDemo(deps, {
      world,
      seed: state.seed,
      schedule,
      startTs,
      ...(catalog ? { catalog } : {}),
      link,
      print: io.print,
      ...(io.progress ? { progress: io.progress } : {}),
    });
    liveRun = run;
    const result = await run;
    state.storyEndTs = result.storyEndTs;
    save();
    const live = o.live === false ? Promise.resolve() : startLive();
    return { url, adminKey: state.adminKey, services, app, result, live, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Thrown by the pacing when the demo stops: ends the live run quietly. */
class DemoStopped extends Error {
  constructor() {
    super('the demo stopped');
  }
}
