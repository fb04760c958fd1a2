/**
 * Fault injection: SQLite out of disk space. `readnext serve` runs on a SQLite file in a small
 * filesystem of its own (a tmpfs mounted for the test: a real ENOSPC, not a page-count cap), under
 * sustained ingestion. A ballast file then fills the filesystem to its last byte, as another
 * process filling the disk would; once the server has answered `storage_full` a few times the
 * ballast is deleted, and ingestion must resume without a restart. Then a clean stop, and the
 * database is checked directly:
 *   - every ingestion answer is a 200 or a 503 with Retry-After (no 500, no other code);
 *   - lost: an acknowledged event not stored; duplicated: stored twice; unknown: never sent (all 0);
 *   - PRAGMA integrity_check answers ok.
 * A batch answered 503 (or not answered) is sent again after a short wait, as the SDK's queue does.
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import type { ServerProcess } from '../helpers/process.js';
import { checkStoredEvents, hasExited, postEvents, sleep, spawnFaultServer, stopServer } from './common.js';

const run = promisify(execFile);
const ADMIN_KEY = 'fault-full-admin-key-0123456789abcd';
const INGEST_KEY = 'fault-full-ingest-key-0123456789abc';

export interface SmallFs {
  dir: string;
  remove(): Promise<void>;
}

/** A tmpfs of `mb` MiB mounted on a fresh temporary directory, or why it cannot be mounted here (not root, no mount). */
export async function mountSmallFs(mb: number): Promise<SmallFs | { error: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'readnext-full-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${mb}m,mode=0700`, 'tmpfs', dir]);
  } catch (e) {
    rmdirSync(dir);
    return { error: `cannot mount a tmpfs (${(e as { stderr?: string }).stderr?.trim() || (e as Error).message})` };
  }
  // Should the test process end without its afterAll (killed, crashed), the mount must not outlive it.
  const unmountOnExit = () => {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      // already unmounted
    }
  };
  process.once('exit', unmountOnExit);
  return {
    dir,
    async remove() {
      process.off('exit', unmountOnExit);
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `path` until the filesystem refuses (ENOSPC), in ever smaller chunks down to 512 bytes; the bytes written. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (let size = 1 << 20; size >= 512; size >>= 1) {
      const buf = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          written += writeSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

export interface SqliteFullReport {
  eventsSent: number;
  acknowledged: number;
  stored: number;
  lost: string[];
  duplicated: string[];
  unknown: string[];
  /** 503 answers with Retry-After, per code. */
  unavailable: Record<string, number>;
  /** A sample message of a storage_full answer. */
  fullMessage: string | null;
  /** Answers that were neither a 200 nor a 503 with Retry-After, and requests without an answer. */
  wrongAnswers: string[];
  /** 200 answers while the disk was full (events then went into room SQLite already had). */
  acknowledgedWhileFull: number;
  acknowledgedAfter: number;
  ballastBytes: number;
  integrity: string;
  serverRestarted: boolean;
  serverExit: string | null;
  cleanStop: number | null;
  ms: number;
}

export async function runSqliteFull(fs: SmallFs, opts: { log?: (line: string) => void } = {}): Promise<SqliteFullReport> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  const path = join(fs.dir, 'full.db');
  const ballast = join(fs.dir, 'ballast');
  const server: ServerProcess = await spawnFaultServer(`sqlite:${path}`, { admin: ADMIN_KEY, ingest: INGEST_KEY });
  const exited = () => hasExited(server);
  const runTag = `f${Date.now().toString(36)}`;
  let phase: 'before' | 'full' | 'freed' = 'before';
  let stop = false;
  let giveUp = false;
  let nextBatch = 0;
  const sent = new Set<string>();
  const acked = new Set<string>();
  const unavailable: Record<string, number> = {};
  const wrongAnswers: string[] = [];
  let fullMessage: string | null = null;
  let acknowledgedWhileFull = 0;
  let acknowledgedAfter = 0;
  let ballastBytes = 0;
  let cleanStop: number | null = null;

  const newBatch = () => {
    const id = nextBatch++;
    const ts = Date.now();
    return Array.from({ length: 100 }, (_, i) => ({
      type: 'read',
      eventId: `${runTag}-b${id}-${i}`,
      readerId: `reader-${id % 41}-${'r'.repeat(40)}`,
      sessionId: `session-${id % 41}-${'s'.repeat(40)}`,
      timestamp: new Date(ts - i).toISOString(),
      articleId: `article-${(id + i) % 97}`,
      dwellMs: 10_000 + i,
      scroll: 0.4,
    }));
  };

  const deliver = async (events: Record<string, unknown>[]): Promise<void> => {
    for (;;) {
      if (giveUp || exited()) return;
      for (const e of events) sent.add(e.eventId as string);
      const at = phase;
      let res: Response;
      try {
        res = await postEvents(server.url, INGEST_KEY, events);
      } catch (e) {
        wrongAnswers.push(`no answer: ${(e as Error).message}`);
        await sleep(100);
        continue;
      }
      const text = await res.text();
      if (res.status === 200) {
        let n = 0;
        for (const r of (JSON.parse(text) as { results: { eventId: string; status: string }[] }).results) {
          if (r.status !== 'accepted' && r.status !== 'duplicate') wrongAnswers.push(`${r.eventId}: ${r.status}`);
          else if (!acked.has(r.eventId)) {
            acked.add(r.eventId);
            n++;
          }
        }
        if (at === 'full') acknowledgedWhileFull += n;
        if (at === 'freed' && phase === 'freed') acknowledgedAfter += n;
        return;
      }
      const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      const retryAfter = res.headers.get('retry-after');
      if (res.status === 503 && retryAfter !== null && Number(retryAfter) > 0 && err?.code) {
        unavailable[err.code] = (unavailable[err.code] ?? 0) + 1;
        if (err.code === 'storage_full') fullMessage ??= err.message ?? null;
      } else wrongAnswers.push(`${res.status} ${text.slice(0, 200)} retry-after=${retryAfter}`);
      await sleep(100);
    }
  };

  try {
    const clients = Array.from({ length: 2 }, async () => {
      while (!stop && !exited()) await deliver(newBatch());
    });
    await sleep(1000);
    ballastBytes = fillDisk(ballast);
    phase = 'full';
    log(`disk filled (${ballastBytes} bytes of ballast) after ${acked.size} events acknowledged`);
    // Until the server has said storage_full a few times (bounded: SQLite first uses the room its files already have).
    const deadline = performance.now() + 30_000;
    while ((unavailable.storage_full ?? 0) < 5 && performance.now() < deadline && !exited()) await sleep(50);
    rmSync(ballast);
    phase = 'freed';
    log(`space freed after ${unavailable.storage_full ?? 0} storage_full answers`);
    const deadline2 = performance.now() + 20_000;
    while (acknowledgedAfter === 0 && performance.now() < deadline2 && !exited()) await sleep(50);
    await sleep(500);
    stop = true;
    const timer = setTimeout(() => (giveUp = true), 20_000);
    await Promise.all(clients);
    clearTimeout(timer);
  } finally {
    if (!exited()) cleanStop = await stopServer(server);
  }
  const serverExit = cleanStop === null ? server.stderr().slice(-3000) : null;

  const db = new BetterSqlite3(path);
  let integrity: string;
  let rows: { event_id: string; n: number }[];
  try {
    integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    rows = db.prepare('select event_id, count(*) as n from events group by event_id').all() as { event_id: string; n: number }[];
  } finally {
    db.close();
  }
  const { stored, lost, duplicated, unknown } = checkStoredEvents(rows, sent, acked);
  return {
    eventsSent: sent.size,
    acknowledged: acked.size,
    stored,
    lost,
    duplicated,
    unknown,
    unavailable,
    fullMessage,
    wrongAnswers,
    acknowledgedWhileFull,
    acknowledgedAfter,
    ballastBytes,
    integrity,
    serverRestarted: cleanStop === null,
    serverExit,
    cleanStop,
    ms: Math.round(performance.now() - t0),
  };
}

export function formatSqliteFull(r: SqliteFullReport): string {
  return (
    `SQLite out of space (tmpfs, ${(r.ballastBytes / 2 ** 20).toFixed(1)} MiB of ballast): ${r.eventsSent} events sent, ` +
    `${r.acknowledged} acknowledged (${r.acknowledgedWhileFull} while full, ${r.acknowledgedAfter} after space returned), ` +
    `${r.stored} stored, lost ${r.lost.length}, duplicated ${r.duplicated.length}, unknown ${r.unknown.length}; ` +
    `503 answers ${JSON.stringify(r.unavailable)}, ${r.wrongAnswers.length} other answers; integrity_check ${r.integrity}; ` +
    `clean stop exit ${r.cleanStop}; ${(r.ms / 1000).toFixed(1)} s`
  );
}
