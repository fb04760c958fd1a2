/**
 * Fault injection: SIGKILL `readnext serve` during sustained ingestion, restart it on the same
 * database, again and again, then check the store against what the clients were told.
 *
 * Each cycle starts the built command (bin/readnext.mjs serve) on a fresh port, runs concurrent
 * clients that post batches of events with unique ids, and kills the process with SIGKILL at a
 * seeded random moment. Every 200 reply is recorded per event (accepted or duplicate); a batch
 * without a reply (connection reset, refused, non-200) is "un-acknowledged" and, as a real client
 * would, is sent again on a later cycle with probability `resendShare` (the others are given up).
 * At the end a clean start (and SIGTERM stop) precedes the check, made on the database directly:
 *   - lost: an acknowledged event not stored (must be 0);
 *   - duplicated: an event id stored more than once (must be 0);
 *   - unknown: a stored event id that no client ever sent (must be 0);
 *   - wrong answers: any `conflict` or `rejected` status (the clients send valid, identical resends).
 *
 * Used by test/faults/kill-cycles.test.ts (CI) and `npm run fault:kill -- --cycles N --db sqlite|postgres`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { kyselyOfStorage, openStorage } from '../../src/adapters/storage/open.js';
import { CLI, REPO } from '../helpers/process.js';
import { BROWSER_UA, checkStoredEvents, type StoredCheck } from './common.js';

export const FAULT_ADMIN_KEY = 'fault-kill-admin-key-0123456789';
export const FAULT_INGEST_KEY = 'fault-kill-ingest-key-012345678';

export interface KillCyclesOptions {
  /** Database URL (sqlite:PATH or postgres://...), shared by every cycle. */
  db: string;
  cycles: number;
  seed: number;
  /** Concurrent clients per cycle. */
  clients?: number;
  /** Events per batch. */
  batchSize?: number;
  /** The kill comes uniformly between these many ms after the clients start. */
  killAfterMs?: [number, number];
  /** Share of the un-acknowledged batches a client sends again on the next cycle. */
  resendShare?: number;
  log?: (line: string) => void;
}

export interface KillCyclesReport {
  db: 'sqlite' | 'postgres';
  seed: number;
  cycles: number;
  batchesSent: number;
  batchesResent: number;
  batchesAcknowledged: number;
  batchesGivenUp: number;
  eventsSent: number;
  /** Distinct event ids answered accepted or duplicate. */
  acknowledged: number;
  /** Resent events answered duplicate: the kill came between the commit and the reply. */
  duplicateAnswers: number;
  stored: number;
  lost: string[];
  duplicated: string[];
  unknown: string[];
  wrongAnswers: string[];
  ms: number;
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)); enough to make the kill moments reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
  stderr(): string;
}

/** Every server started and not yet seen exiting: killServers() ends them (afterAll, process exit). */
const live = new Set<ChildProcess>();

export function killServers(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function startServer(db: string, timeoutMs = 30_000): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', '--db', db, '--port', '0'], {
    cwd: REPO,
    env: {
      ...process.env,
      READNEXT_NO_REBUILD: '1',
      READNEXT_LOG_LEVEL: 'warn',
      READNEXT_ADMIN_KEY: FAULT_ADMIN_KEY,
      READNEXT_INGEST_KEY: FAULT_INGEST_KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${err}`)), timeoutMs);
      const onData = () => {
        const m = /serving on (http:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          child.stderr!.off('data', onData);
          resolve(m[1]!);
        }
      };
      child.stderr!.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`server exited (${child.exitCode ?? child.signalCode}) before serving:\n${err}`));
      });
    });
    // Accepts events? /healthz answers once the routes are up.
    const health = await fetch(`${url}/healthz`);
    if (!health.ok) throw new Error(`/healthz answered ${health.status}`);
    return { child, url, exited, stderr: () => err };
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  }
}

type Batch = { id: number; events: Record<string, unknown>[]; sends: number };

/** Runs the cycles and the final check; throws only when a server cannot start. */
export async function runKillCycles(opts: KillCyclesOptions): Promise<KillCyclesReport> {
  const t0 = performance.now();
  const rnd = mulberry32(opts.seed);
  const clients = opts.clients ?? 4;
  const batchSize = opts.batchSize ?? 40;
  const [killMin, killMax] = opts.killAfterMs ?? [300, 1500];
  const resendShare = opts.resendShare ?? 0.6;
  const log = opts.log ?? (() => undefined);
  const runTag = `k${opts.seed.toString(36)}${Date.now().toString(36)}`;

  const sent = new Set<string>();
  const acked = new Map<string, 'accepted' | 'duplicate'>();
  const wrongAnswers: string[] = [];
  let unacked: Batch[] = [];
  let nextBatch = 0;
  let batchesSent = 0;
  let batchesResent = 0;
  let batchesAcknowledged = 0;
  let batchesGivenUp = 0;
  let duplicateAnswers = 0;

  const newBatch = (): Batch => {
    const id = nextBatch++;
    const now = Date.now();
    const events = Array.from({ length: batchSize }, (_, i) => ({
      type: 'read',
      eventId: `${runTag}-b${id}-${i}`,
      readerId: `reader-${id % 97}`,
      sessionId: `session-${id % 97}`,
      timestamp: new Date(now - i).toISOString(),
      articleId: `a${(id + i) % 31}`,
      dwellMs: 30_000 + i,
      scroll: 0.5,
    }));
    return { id, events, sends: 0 };
  };

  /** 'ok': a 200 reply; 'no': another status; 'dead': no reply at all (the process is gone). */
  const post = async (url: string, batch: Batch): Promise<'ok' | 'no' | 'dead'> => {
    batch.sends++;
    batchesSent++;
    if (batch.sends > 1) batchesResent++;
    for (const e of batch.events) sent.add(e.eventId as string);
    let res: Response;
    try {
      res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${FAULT_INGEST_KEY}`,
          'user-agent': BROWSER_UA,
        },
        body: JSON.stringify({ events: batch.events }),
      });
    } catch {
      return 'dead'; // the process died under the request (or refused it)
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return 'no';
    }
    let body: { results: { eventId: string | null; status: string; code?: string }[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      return 'dead'; // killed mid-reply: no acknowledgement
    }
    for (const r of body.results) {
      if (r.status === 'accepted' || r.status === 'duplicate') {
        // A duplicate answer on a resend: the earlier attempt was stored though never acknowledged.
        if (r.status === 'duplicate') duplicateAnswers++;
        if (!acked.has(r.eventId!)) acked.set(r.eventId!, r.status);
      } else {
        wrongAnswers.push(`${r.eventId}: ${r.status} ${r.code ?? ''}`);
      }
    }
    batchesAcknowledged++;
    return 'ok';
  };

  for (let cycle = 1; cycle <= opts.cycles; cycle++) {
    const server = await startServer(opts.db);
    // The un-acknowledged batches of earlier cycles: some are sent again, first; the rest are given up.
    const resend: Batch[] = [];
    for (const b of unacked) (rnd() < resendShare ? resend : (batchesGivenUp++, [])).push(b);
    unacked = [];
    const killAt = killMin + rnd() * (killMax - killMin);
    let dead = false;
    const runClient = async () => {
      while (!dead) {
        const batch = resend.shift() ?? newBatch();
        const outcome = await post(server.url, batch);
        if (outcome !== 'ok') unacked.push(batch);
        if (outcome === 'dead') return;
        if (outcome === 'no') await new Promise((r) => setTimeout(r, 50)); // 429, 503: back off a little
      }
    };
    const acksBefore = batchesAcknowledged;
    const running = Array.from({ length: clients }, runClient);
    await new Promise((r) => setTimeout(r, killAt));
    server.child.kill('SIGKILL');
    await server.exited;
    dead = true;
    await Promise.all(running);
    // Resends not yet taken stay due.
    unacked.push(...resend);
    log(
      `cycle ${cycle}/${opts.cycles}: killed after ${Math.round(killAt)} ms, ${batchesAcknowledged - acksBefore} batches acknowledged, ` +
        `${unacked.length} un-acknowledged`,
    );
  }
  batchesGivenUp += unacked.length;

  // A clean start and stop on the same database (recovery, replay), then the check.
  const last = await startServer(opts.db);
  last.child.kill('SIGTERM');
  await last.exited;
  if (last.child.exitCode !== 0) throw new Error(`the clean stop exited with ${last.child.exitCode}:\n${last.stderr()}`);

  const storage = await openStorage(opts.db);
  let stored = 0;
  let check: StoredCheck;
  try {
    const db = kyselyOfStorage.get(storage)!;
    const rows = await sql<{ event_id: string; n: number | string }>`select event_id, count(*) as n from events group by event_id`.execute(
      db,
    );
    check = checkStoredEvents(rows.rows, sent, acked.keys());
    stored = await storage.countEvents();
  } finally {
    await storage.close();
  }
  const { lost, duplicated, unknown } = check;

  return {
    db: opts.db.startsWith('sqlite:') ? 'sqlite' : 'postgres',
    seed: opts.seed,
    cycles: opts.cycles,
    batchesSent,
    batchesResent,
    batchesAcknowledged,
    batchesGivenUp,
    eventsSent: sent.size,
    acknowledged: acked.size,
    duplicateAnswers,
    stored,
    lost,
    duplicated,
    unknown,
    wrongAnswers,
    ms: Math.round(performance.now() - t0),
  };
}

export function formatReport(r: KillCyclesReport): string {
  return (
    `kill cycles (${r.db}, seed ${r.seed}): ${r.cycles} cycles, ${r.batchesSent} batches sent ` +
    `(${r.batchesResent} resends, ${r.batchesAcknowledged} acknowledged, ${r.batchesGivenUp} given up), ` +
    `${r.eventsSent} events sent, ${r.acknowledged} acknowledged (${r.duplicateAnswers} answered duplicate on resend), ` +
    `${r.stored} stored, lost ${r.lost.length}, duplicated ${r.duplicated.length}, unknown ${r.unknown.length}, ` +
    `wrong answers ${r.wrongAnswers.length}, ${(r.ms / 1000).toFixed(1)} s`
  );
}
