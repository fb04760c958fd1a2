/**
 * What the fault runs share (pg-outage.ts, sqlite-full.ts, kill-cycles.ts, model-faults.ts): the
 * server they start, the ingestion request their clients send, its stop, and the final check of
 * what the clients were told against what the database holds.
 */
import { spawnServer, type ServerProcess } from '../helpers/process.js';

/** A desktop browser's user agent: the events route filters out events whose user agent looks like a bot's. */
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `readnext serve` on `db` with the run's admin and ingestion keys and without the start-up
 * rebuild (READNEXT_NO_REBUILD: a fault run starts on an empty or test-made database); `env` adds to it.
 */
export function spawnFaultServer(
  db: string,
  keys: { admin: string; ingest: string },
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  return spawnServer(['--db', db], {
    READNEXT_NO_REBUILD: '1',
    READNEXT_ADMIN_KEY: keys.admin,
    READNEXT_INGEST_KEY: keys.ingest,
    ...env,
  });
}

/** Whether the server process has exited (by itself or killed). */
export const hasExited = (server: ServerProcess): boolean => server.child.exitCode !== null || server.child.signalCode !== null;

/** One POST /v1/events of `events` as a browser would send it; no answer in 15 s rejects (a retry, for the caller). */
export function postEvents(url: string, ingestKey: string, events: readonly Record<string, unknown>[]): Promise<Response> {
  return fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ingestKey}`, 'user-agent': BROWSER_UA },
    body: JSON.stringify({ events }),
    signal: AbortSignal.timeout(15_000),
  });
}

/** A clean stop (SIGTERM), with SIGKILL should it not come within 15 s; the exit code. */
export async function stopServer(server: ServerProcess): Promise<number | null> {
  const killer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  try {
    return await server.kill('SIGTERM');
  } finally {
    clearTimeout(killer);
  }
}

export interface StoredCheck {
  /** Rows in the events table. */
  stored: number;
  /** Acknowledged to a client but not stored. */
  lost: string[];
  /** Stored more than once. */
  duplicated: string[];
  /** Stored but never sent. */
  unknown: string[];
}

/**
 * Compares `select event_id, count(*) as n from events group by event_id` (`n` a string from
 * PostgreSQL's bigint) with the event ids the clients sent and those they were told were stored.
 */
export function checkStoredEvents(
  rows: readonly { event_id: string; n: number | string }[],
  sent: ReadonlySet<string>,
  acked: Iterable<string>,
): StoredCheck {
  const storedIds = new Set<string>();
  const duplicated: string[] = [];
  const unknown: string[] = [];
  let stored = 0;
  for (const r of rows) {
    const n = Number(r.n);
    storedIds.add(r.event_id);
    stored += n;
    if (n > 1) duplicated.push(r.event_id);
    if (!sent.has(r.event_id)) unknown.push(r.event_id);
  }
  const lost = [...acked].filter((id) => !storedIds.has(id));
  return { stored, lost, duplicated, unknown };
}
