/**
 * Issue 17's acceptance, end to end: one real `readnext serve --sim-clock` process on a SQLite file,
 * the simulated newsroom driving it over HTTP (widget requests and event batches with the ingest
 * key, its clock and catalog with the admin key), and the `readnext` command run as a newsroom
 * runs it, in other processes on the same database: `train` from the logged days, `model list`,
 * `deploy shadow add`, `shadow report`, `deploy canary start`, `deploy live`, `deploy canary stop`.
 * The server picks each change up by polling the deploy version (docs/ARCHITECTURE.md), without
 * restart. The world pauses at each simulated day's end while the test acts (steppedWorld).
 *
 * Days: 1-2 `popular` live (the logs to train on); 3 the model in shadow; 4 the model as a canary on
 * half the readers; 5 the model live for everyone.
 *
 * In this file numbered comments give the order of the steps within a test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORLD } from '../../src/core/simulate/world.js';
import { httpTarget } from '../../src/main/sim-target.js';
import { tempDir } from '../helpers/databases.js';
import { runCliProcess, spawnServer, type ServerProcess } from '../helpers/process.js';
import { steppedWorld, type DayEnd, type SteppedWorld } from '../helpers/stepped-world.js';

const ADMIN = 'model-e2e-admin-key-0123456789abcdef';
const INGEST = 'model-e2e-ingest-key-0123456789abcdef';
const PLACEMENT = DEFAULT_WORLD.placement.name;
const START = Date.parse(DEFAULT_WORLD.startDate);
const DAY = 86_400_000;
/** Readers of the simulated newsroom: about 900 widget impressions a day, a simulated day over HTTP in a few seconds. */
const READERS = 1500;
/** A step's bound: a simulated day over HTTP and a CLI run take about 10 s on an idle machine; tests of others share its 2 cores. */
const STEP_TIMEOUT_MS = 120_000;

const dir = tempDir('readnext-model-e2e-');
const db = `sqlite:${dir.path}/sim.db`;
/** The CLI on the simulated database: READNEXT_SIM_CLOCK says it is one (a real clock is refused on it). */
const cliEnv = { READNEXT_SIM_CLOCK: '1', READNEXT_LOG_LEVEL: 'warn' };
let server: ServerProcess;
let pid: number;
let world: SteppedWorld;
/** How many responses of the server this file saw, by HTTP status. */
const statuses = new Map<number, number>();
const realFetch = globalThis.fetch;
/** What the run measured, printed at the end (not asserted beyond the checks above it). */
const figures: Record<string, string | number | null> = {};

/** `readnext ARGS --db DB` in a process of its own; exit code 0 expected, stdout returned. */
async function readnext(...args: string[]): Promise<string> {
  const r = await runCliProcess([...args, '--db', db], cliEnv);
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  return r.stdout;
}

async function api<T = Record<string, unknown>>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${ADMIN}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  expect({ path, status: res.status }, text).toEqual({ path, status: 200 });
  return JSON.parse(text) as T;
}

interface DeploymentJson {
  revision: number;
  live: { kind: string; version: string };
  shadows: { kind: string; version: string }[];
  canary: { recommender: { kind: string; version: string }; percent: number; startedTs: number } | null;
}

/** A serve record as GET /v1/admin/serves gives it (src/core/events/records.ts ServeRecord). */
interface ServeJson {
  servedTs: number;
  shadow: boolean;
  arm: string | null;
  recommenderKind: string;
  recommenderVersion: string;
  readerId: string;
  fallback: boolean;
  fault: boolean;
}

/** The server's latest serve records, newest first (its buffered ones written first). */
async function latestServes(limit: number): Promise<ServeJson[]> {
  return (await api<{ items: ServeJson[] }>(`/v1/admin/serves?limit=${limit}`)).items;
}

/** Waits (bounded) until the running server serves revision `revision` of the placement or a later one; that deployment. */
async function served(revision: number): Promise<DeploymentJson> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const d = await api<DeploymentJson>(`/v1/admin/deployments/${PLACEMENT}`);
    if (d.revision >= revision) return d;
    if (Date.now() > deadline) throw new Error(`the server still serves revision ${d.revision} of ${PLACEMENT}, not ${revision}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The revision a `readnext deploy ...` line reports: "read-next: revision 4, live popular@1, ...". */
function revisionOf(line: string): number {
  const m = /^read-next: revision (\d+), /.exec(line.trim());
  expect(m, line).not.toBeNull();
  return Number(m![1]);
}

async function dayEnd(day: number): Promise<DayEnd> {
  const d = await world.nextDay();
  expect(d?.day).toBe(day);
  return d!;
}

beforeAll(async () => {
  globalThis.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    return res;
  };
  server = await spawnServer(
    ['--db', db, '--sim-clock'],
    {
      READNEXT_ADMIN_KEY: ADMIN,
      READNEXT_INGEST_KEY: INGEST,
      // A throwaway file: no fsync per commit.
      READNEXT_SQLITE_SYNCHRONOUS: 'NORMAL',
    },
    100_000,
  );
  pid = server.child.pid!;
  const target = httpTarget({ url: server.url, adminKey: ADMIN, ingestKey: INGEST });
  await target.setTime(START);
  await target.deployLive(PLACEMENT, { kind: 'popular', version: '1' });
  world = steppedWorld(DEFAULT_WORLD, target, { seed: 17, readers: READERS, days: 5 });
}, 120_000);

afterAll(async () => {
  globalThis.fetch = realFetch;
  await server?.kill();
  dir.remove();
});

describe('a model trained by `readnext train` on simulated logs goes shadow → canary → live on one running server', () => {
  let version: number;

  it(
    '`readnext train` in another process trains on the two logged days while the server runs, and `readnext model list` shows it',
    async () => {
      // 1. Two simulated days with `popular` live: the logs.
      expect((await dayEnd(1)).now).toBe(START + DAY);
      const { now } = await dayEnd(2);
      expect(now).toBe(START + 2 * DAY);
      // 2. Train on them: from half a day in (the first half warms the features up, as in
      // test/main/model-kind.test.ts) until now, the simulated clock's time the server keeps in the database.
      const out = await readnext(
        'train',
        '--placement',
        PLACEMENT,
        '--since',
        new Date(START + DAY / 2).toISOString(),
        '--rounds',
        '20',
        '--json',
      );
      const m = JSON.parse(out) as {
        version: number;
        placement: string;
        window: { sinceTs: number; untilTs: number };
        metrics: { trainImpressions: number; auc: number | null };
      };
      expect(m).toMatchObject({ placement: PLACEMENT, window: { sinceTs: START + DAY / 2, untilTs: now } });
      expect(m.metrics.trainImpressions).toBeGreaterThan(500);
      version = m.version;
      Object.assign(figures, { model: version, trainImpressions: m.metrics.trainImpressions, auc: m.metrics.auc });
      // 3. The registry lists it.
      const list = JSON.parse(await readnext('model', 'list', '--json')) as { version: number; placement: string }[];
      expect(list.map((x) => [x.version, x.placement])).toEqual([[version, PLACEMENT]]);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '`readnext deploy shadow add` puts it in shadow, and the running server picks it up without restart',
    async () => {
      const out = await readnext('deploy', 'shadow', 'add', PLACEMENT, `model@${version}`, '--why', 'issue 17 e2e');
      expect(out.trim()).toMatch(new RegExp(`live popular@1, shadows model@${version}$`));
      const d = await served(revisionOf(out));
      expect(d.shadows).toEqual([{ kind: 'model', version: String(version) }]);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'after a simulated day of live requests, `readnext shadow report` gives the model’s shadow runs beside live, without faults',
    async () => {
      const { now } = await dayEnd(3);
      // The report's window: the last 24 hours of the simulated clock, the day the shadow ran.
      const r = JSON.parse(await readnext('shadow', 'report', PLACEMENT)) as {
        sinceTs: number;
        live: { kind: string; version: string; responses: number; errorRate: number }[];
        shadows: {
          shadow: { kind: string; version: string; responses: number; errorRate: number; latencyMs: { p99: number } };
          pairs: number;
          nextReads: number;
        }[];
      };
      expect(r.sinceTs).toBe(now - DAY);
      expect(r.live.map((l) => [l.kind, l.version, l.errorRate])).toEqual([['popular', '1', 0]]);
      expect(r.shadows).toHaveLength(1);
      const s = r.shadows[0]!;
      expect(s.shadow).toMatchObject({ kind: 'model', version: String(version), errorRate: 0 });
      expect(s.shadow.responses).toBeGreaterThan(100);
      // Each shadow run pairs with the live response it ran beside.
      expect(s.pairs).toBe(s.shadow.responses);
      expect(s.nextReads).toBeGreaterThan(0);
      Object.assign(figures, { shadowRuns: s.shadow.responses, shadowLatencyP99Ms: s.shadow.latencyMs.p99 });
      const stats = await api<{ shadowRuns: number; shadowFaults: number; faults: number }>('/v1/admin/serving/stats');
      expect(stats.shadowRuns).toBeGreaterThanOrEqual(s.shadow.responses);
      expect(stats).toMatchObject({ shadowFaults: 0, faults: 0 });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '`readnext deploy canary start` sends half the readers to the model; a simulated day later its guardrails saw its responses, no breach',
    async () => {
      // 1. The canary, from the CLI, at the simulated clock's time.
      const out = await readnext(
        'deploy',
        'canary',
        'start',
        PLACEMENT,
        `model@${version}`,
        '--percent',
        '50',
        '--max-error-rate',
        '0.01',
        '--max-p99-ms',
        '1000',
        // Rolled back only if its CTR is confidently under a quarter of live's: this checks that the
        // guardrails see the canary, not that a model trained on two small days beats popular.
        '--min-ctr-ratio',
        '0.25',
        '--why',
        'issue 17 e2e',
      );
      expect(out.trim()).toMatch(new RegExp(`canary model@${version} on 50%$`));
      const d = await served(revisionOf(out));
      expect(d.canary).toMatchObject({ recommender: { kind: 'model', version: String(version) }, percent: 50, startedTs: START + 3 * DAY });
      // 2. A simulated day of traffic.
      await dayEnd(4);
      // 3. The live responses of the day (serve records): some from the canary's model, the rest from popular.
      const serves = (await latestServes(1000)).filter((s) => !s.shadow);
      expect(serves.length).toBeGreaterThan(200);
      const byArm = new Map<string, Set<string>>();
      for (const s of serves) {
        const key = `${s.arm ?? 'live'}/${s.recommenderKind}`;
        byArm.set(key, (byArm.get(key) ?? new Set()).add(s.readerId));
      }
      expect([...byArm.keys()].sort()).toEqual(['canary/model', 'live/popular']);
      expect(serves.filter((s) => s.fault)).toEqual([]);
      // Readers, not responses, are split: about half each (hash of the reader, seeded by the canary's start).
      const canaryReaders = byArm.get('canary/model')!.size;
      const share = canaryReaders / (canaryReaders + byArm.get('live/popular')!.size);
      expect(share).toBeGreaterThan(0.3);
      expect(share).toBeLessThan(0.7);
      // 4. The guardrails, checked now: they count the canary's responses of the day and find no breach.
      const check = await api<{
        items: {
          placement: string;
          responses: number;
          canaryCtr: number | null;
          liveCtr: number | null;
          breaches: string[];
          rolledBack: boolean;
        }[];
      }>('/v1/admin/canaries/check', { method: 'POST', body: {} });
      expect(check.items).toHaveLength(1);
      expect(check.items[0]).toMatchObject({ placement: PLACEMENT, breaches: [], rolledBack: false });
      expect(check.items[0]!.responses).toBeGreaterThan(100);
      Object.assign(figures, {
        canaryReaderShare: Number(share.toFixed(3)),
        canaryResponsesChecked: check.items[0]!.responses,
        canaryCtr: check.items[0]!.canaryCtr,
        liveCtr: check.items[0]!.liveCtr,
      });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '`readnext deploy live`, `deploy canary stop` and `deploy shadow remove` make it live: a simulated day later every response was the model’s',
    async () => {
      // 1. Promote: live, then no canary and no shadow (the live model need not shadow itself).
      await readnext('deploy', 'live', PLACEMENT, `model@${version}`, '--why', 'issue 17 e2e: canary held');
      await readnext('deploy', 'canary', 'stop', PLACEMENT, '--why', 'promoted');
      const out = await readnext('deploy', 'shadow', 'remove', PLACEMENT, `model@${version}`, '--why', 'promoted');
      const d = await served(revisionOf(out));
      expect(d).toMatchObject({ live: { kind: 'model', version: String(version) }, shadows: [], canary: null });
      // 2. A simulated day of traffic, then the world's end.
      const { now } = await dayEnd(5);
      expect(await world.nextDay()).toBeUndefined();
      // 3. The day's last responses: every one from the model, without a fault.
      const serves = await latestServes(500);
      expect(serves).toHaveLength(500);
      expect(serves.every((s) => s.servedTs > now - DAY)).toBe(true);
      expect(new Set(serves.map((s) => `${s.shadow ? 'shadow' : (s.arm ?? 'live')} ${s.recommenderKind}@${s.recommenderVersion}`))).toEqual(
        new Set([`live model@${version}`]),
      );
      expect(serves.filter((s) => s.fault)).toEqual([]);
      // A slate the model could not fill (too few eligible candidates) is topped up by the chain: flagged, not a fault.
      const fallbacks = serves.filter((s) => s.fallback).length;
      expect(fallbacks).toBeLessThan(serves.length / 10);
      figures.liveFallbackShare = fallbacks / serves.length;
    },
    STEP_TIMEOUT_MS,
  );

  it('was one server process throughout: never restarted, never a 5xx', async () => {
    expect(server.child.pid).toBe(pid);
    expect(server.child.exitCode).toBeNull();
    expect(server.stderr().match(/serving on /g)).toHaveLength(1);
    const errors = [...statuses].filter(([status]) => status >= 500);
    expect(errors).toEqual([]);
    expect(statuses.get(200)).toBeGreaterThan(1000);
    console.log(`model e2e: ${JSON.stringify({ ...figures, http: Object.fromEntries(statuses) })}`);
  });
});
