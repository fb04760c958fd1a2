/**
 * Fault injection: PostgreSQL stopped under load. A `readnext serve` process runs on a cluster of
 * the test's own (pg-cluster.ts); clients post event batches (unique ids) and ask for
 * recommendations without pause; the cluster is stopped with `pg_ctl stop -m immediate` (its
 * backends die at once, as in a crash) for `outageMs`, then started again. The server is never
 * restarted. What the clients saw is checked against the cluster's `events` table at the end:
 *   - every ingestion answer is a 200 or a 503 with Retry-After (nothing else, never a 5xx but 503);
 *   - during the outage (between the stop's end and the start's beginning) ingestion answers 503 only;
 *   - lost: an event acknowledged (accepted or duplicate in a 200) but not stored (must be 0);
 *   - duplicated: an event id stored more than once (must be 0); unknown: stored but never sent (0);
 *   - recommendations answer 200 with items throughout, from the server's memory;
 *   - after the restart ingestion is acknowledged again by the same process.
 * A batch answered 503 (or not answered) is sent again after a short wait, as a client honouring
 * Retry-After would (the wait is shortened: the test is bounded in time).
 */
import pg from 'pg';
import type { ServerProcess } from '../helpers/process.js';
import { BROWSER_UA, checkStoredEvents, hasExited, postEvents, sleep, spawnFaultServer, stopServer } from './common.js';
import type { PgCluster } from './pg-cluster.js';

export const OUTAGE_ADMIN_KEY = 'fault-pg-outage-admin-key-0123456789';
export const OUTAGE_INGEST_KEY = 'fault-pg-outage-ingest-key-012345678';
const ARTICLES = 30;

export interface PgOutageOptions {
  cluster: PgCluster;
  /** How long PostgreSQL stays down. */
  outageMs?: number;
  /** Load before the stop, and after ingestion is acknowledged again. */
  beforeMs?: number;
  afterMs?: number;
  ingestClients?: number;
  recClients?: number;
  batchSize?: number;
  log?: (line: string) => void;
}

export interface PgOutageReport {
  batchesSent: number;
  eventsSent: number;
  acknowledged: number;
  stored: number;
  lost: string[];
  duplicated: string[];
  unknown: string[];
  /** Ingestion answers 503 with a Retry-After header, in all and during the outage. */
  unavailable: number;
  unavailableDuringOutage: number;
  /** The error codes of those 503 answers. */
  unavailableCodes: string[];
  /** Ingestion answers during the outage that were not a 503 with Retry-After (status and code). */
  wrongDuringOutage: string[];
  /** Ingestion answers that were neither a 200 nor a 503 with Retry-After, at any time; and requests without an answer. */
  wrongAnswers: string[];
  noAnswer: number;
  /** Recommendation requests answered 200 with items during the outage, and any other answer at any time. */
  recsDuringOutage: number;
  recsServed: number;
  recsWrong: string[];
  /** Events acknowledged after PostgreSQL came back, by the same server process. */
  acknowledgedAfter: number;
  /** From PostgreSQL's start to the first acknowledged batch. */
  recoveryMs: number | null;
  serverRestarted: boolean;
  /** The server's stderr when it exited during the run (its last 3,000 characters). */
  serverExit: string | null;
  outageMs: number;
  ms: number;
}

type Phase = 'before' | 'stopping' | 'down' | 'starting' | 'after';

export async function runPgOutage(opts: PgOutageOptions): Promise<PgOutageReport> {
  const t0 = performance.now();
  const { cluster } = opts;
  const outageMs = opts.outageMs ?? 4000;
  const beforeMs = opts.beforeMs ?? 1500;
  const afterMs = opts.afterMs ?? 1500;
  const batchSize = opts.batchSize ?? 20;
  const log = opts.log ?? (() => undefined);
  const runTag = `o${Date.now().toString(36)}`;

  const server: ServerProcess = await spawnFaultServer(cluster.url, { admin: OUTAGE_ADMIN_KEY, ingest: OUTAGE_INGEST_KEY });
  const pid = server.child.pid;
  const exited = () => hasExited(server);
  try {
    const now = Date.now();
    const articles = Array.from({ length: ARTICLES }, (_, i) => ({
      id: `a${i}`,
      title: `Article ${i}`,
      section: `s${i % 3}`,
      publishedAt: new Date(now - (i + 1) * 60_000).toISOString(),
    }));
    const seeded = await fetch(`${server.url}/v1/admin/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OUTAGE_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ articles }),
    });
    if (seeded.status !== 200) throw new Error(`seeding the catalog answered ${seeded.status}: ${await seeded.text()}\n${server.stderr()}`);

    let phase: Phase = 'before';
    let stop = false;
    /** Set when the drain after the run is over: a batch still not acknowledged is given up. */
    let giveUp = false;
    let restartedAt = 0;
    const sent = new Set<string>();
    const acked = new Set<string>();
    const wrongAnswers: string[] = [];
    const wrongDuringOutage: string[] = [];
    const recsWrong: string[] = [];
    let batchesSent = 0;
    let nextBatch = 0;
    let unavailable = 0;
    let unavailableDuringOutage = 0;
    const codes = new Set<string>();
    let noAnswer = 0;
    let recsDuringOutage = 0;
    let recsServed = 0;
    let acknowledgedAfter = 0;
    let recoveryMs: number | null = null;

    const newBatch = () => {
      const id = nextBatch++;
      const ts = Date.now();
      return Array.from({ length: batchSize }, (_, i) => ({
        type: 'read',
        eventId: `${runTag}-b${id}-${i}`,
        readerId: `reader-${id % 53}`,
        sessionId: `session-${id % 53}`,
        timestamp: new Date(ts - i).toISOString(),
        articleId: `a${(id + i) % ARTICLES}`,
        dwellMs: 20_000 + i,
        scroll: 0.6,
      }));
    };

    /** Posts a batch until it is acknowledged (or given up); true when acknowledged. */
    const deliver = async (events: Record<string, unknown>[]): Promise<boolean> => {
      for (;;) {
        if (giveUp || exited()) return false;
        batchesSent++;
        for (const e of events) sent.add(e.eventId as string);
        const during = phase === 'down';
        let res: Response;
        try {
          res = await postEvents(server.url, OUTAGE_INGEST_KEY, events);
        } catch (e) {
          noAnswer++;
          wrongAnswers.push(`no answer: ${(e as Error).message}`);
          await sleep(100);
          continue;
        }
        const text = await res.text();
        if (res.status === 200) {
          const body = JSON.parse(text) as { results: { eventId: string; status: string }[] };
          let n = 0;
          for (const r of body.results) {
            if (r.status === 'accepted' || r.status === 'duplicate') {
              if (!acked.has(r.eventId)) n++;
              acked.add(r.eventId);
            } else wrongAnswers.push(`${r.eventId}: ${r.status}`);
          }
          if (during) wrongDuringOutage.push(`200 while PostgreSQL was down (${n} events acknowledged)`);
          if (phase === 'after') {
            acknowledgedAfter += n;
            recoveryMs ??= performance.now() - restartedAt;
          }
          return true;
        }
        const code = /"code":"([a-z_]+)"/.exec(text)?.[1] ?? '?';
        const retryAfter = res.headers.get('retry-after');
        if (res.status === 503 && retryAfter !== null && Number(retryAfter) > 0) {
          unavailable++;
          codes.add(code);
          if (during) unavailableDuringOutage++;
        } else {
          const what = `${res.status} ${code} retry-after=${retryAfter}`;
          wrongAnswers.push(what);
          if (during) wrongDuringOutage.push(what);
        }
        // Retry-After says seconds; a bounded test waits a tenth of a second before sending the same batch again.
        await sleep(100);
      }
    };

    const ingestClient = async () => {
      while (!stop && !exited()) await deliver(newBatch());
    };
    const recClient = async (c: number) => {
      for (let i = 0; !stop && !exited(); i++) {
        const during = phase === 'down';
        try {
          const res = await fetch(
            `${server.url}/v1/recommendations?placement=read-next&article=a${i % ARTICLES}&reader=rec-${c}-${i % 17}&k=4`,
            { headers: { 'user-agent': BROWSER_UA }, signal: AbortSignal.timeout(15_000) },
          );
          const body = (await res.json()) as { items?: unknown[] };
          if (res.status === 200 && (body.items?.length ?? 0) > 0) {
            recsServed++;
            if (during) recsDuringOutage++;
          } else recsWrong.push(`${res.status} ${JSON.stringify(body).slice(0, 120)}`);
        } catch (e) {
          recsWrong.push(`no answer: ${(e as Error).message}`);
        }
        await sleep(5);
      }
    };

    const clients = [
      ...Array.from({ length: opts.ingestClients ?? 3 }, ingestClient),
      ...Array.from({ length: opts.recClients ?? 2 }, (_, c) => recClient(c)),
    ];
    await sleep(beforeMs);
    const ackedBefore = acked.size;
    phase = 'stopping';
    await cluster.stopImmediate();
    phase = 'down';
    log(`PostgreSQL stopped after ${ackedBefore} events acknowledged`);
    await sleep(outageMs);
    phase = 'starting';
    restartedAt = performance.now();
    await cluster.start();
    phase = 'after';
    log(`PostgreSQL started again in ${Math.round(performance.now() - restartedAt)} ms`);
    // Load goes on until ingestion is acknowledged again (bounded), then for afterMs more.
    const deadline = performance.now() + 30_000;
    while (recoveryMs === null && performance.now() < deadline && !exited()) await sleep(50);
    await sleep(afterMs);
    stop = true;
    // Batches in flight are sent until acknowledged, for at most 20 s more.
    const drained = Promise.all(clients);
    const timer = setTimeout(() => (giveUp = true), 20_000);
    await drained;
    clearTimeout(timer);
    log(`load stopped: ${acked.size} events acknowledged, ${unavailable} answers 503`);
    const serverRestarted = exited() || server.child.pid !== pid;
    const serverExit = exited() ? server.stderr().slice(-3000) : null;

    // The check, on the cluster directly.
    const db = new pg.Client({ connectionString: cluster.url });
    await db.connect();
    let rows: { event_id: string; n: string }[];
    try {
      rows = (await db.query<{ event_id: string; n: string }>('select event_id, count(*) as n from events group by event_id')).rows;
    } finally {
      await db.end();
    }
    const { stored, lost, duplicated, unknown } = checkStoredEvents(rows, sent, acked);
    return {
      batchesSent,
      eventsSent: sent.size,
      acknowledged: acked.size,
      stored,
      lost,
      duplicated,
      unknown,
      unavailable,
      unavailableDuringOutage,
      unavailableCodes: [...codes],
      wrongDuringOutage,
      wrongAnswers,
      noAnswer,
      recsDuringOutage,
      recsServed,
      recsWrong,
      acknowledgedAfter,
      recoveryMs: recoveryMs === null ? null : Math.round(recoveryMs),
      serverRestarted,
      serverExit,
      outageMs,
      ms: Math.round(performance.now() - t0),
    };
  } finally {
    // A clean stop; SIGKILL if it does not come within 15 s (the report is made by then).
    await stopServer(server);
  }
}

export function formatPgOutage(r: PgOutageReport): string {
  return (
    `PostgreSQL outage (${r.outageMs} ms, pg_ctl stop -m immediate): ${r.eventsSent} events sent in ${r.batchesSent} posts, ` +
    `${r.acknowledged} acknowledged, ${r.stored} stored, lost ${r.lost.length}, duplicated ${r.duplicated.length}, ` +
    `unknown ${r.unknown.length}; ${r.unavailable} answers 503 with Retry-After (${r.unavailableDuringOutage} while down; codes ${r.unavailableCodes.join(', ')}), ` +
    `${r.wrongAnswers.length} other answers, ${r.noAnswer} unanswered; recommendations ${r.recsServed} served ` +
    `(${r.recsDuringOutage} while down), ${r.recsWrong.length} not; ${r.acknowledgedAfter} events acknowledged after the restart ` +
    `(first ${r.recoveryMs} ms after PostgreSQL's start), server restarted: ${r.serverRestarted}, ${(r.ms / 1000).toFixed(1)} s`
  );
}
