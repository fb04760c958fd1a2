/**
 * Heavy admin computations off the server's event loop: training a ranker (POST
 * /v1/admin/models/train) and the data report (GET /v1/admin/data/report) run in a worker thread
 * (job-worker.ts) that opens its own storage on the same database URL (SQLite in WAL mode takes a
 * second connection, PostgreSQL a second pool) and posts the result back. Boosting trees and fitting
 * the signal part's scorers took minutes of CPU on large logs (4 minutes on a 400 MB simulated
 * database), during which the server answered nothing; and better-sqlite3 runs every query on the
 * calling thread, so even the report's SQL blocked it.
 *
 * An in-memory SQLite database has no second connection: there the jobs run in this process
 * (`jobRunner` gives undefined). The CLI runs them in process too (no server to block).
 * Tests: test/main/jobs.test.ts.
 */
import { Worker } from 'node:worker_threads';
import { parseDatabaseUrl } from '../adapters/storage/open.js';
import type { DataReport, DataReportOptions } from '../app/data-report.js';
import type { Config } from '../config/config.js';
import { DomainError, type ErrorCode } from '../core/kernel/errors.js';

/** The database the worker opens: the server's URL and SQLite setting, a small PostgreSQL pool. */
export interface JobDatabase {
  url: string;
  sqliteSynchronous: Config['sqliteSynchronous'];
}

/** A training of app/training.ts's trainModel, its window resolved (epoch ms). */
export interface TrainJob {
  kind: 'train';
  opts: { placement: string; sinceTs: number; untilTs: number; seed: number };
}
export interface DataReportJob {
  kind: 'data-report';
  opts: DataReportOptions;
}
export type Job = TrainJob | DataReportJob;
export type JobResult<J extends Job> = J extends TrainJob ? { version: number } : DataReport;

/** What job-worker.ts receives as workerData. */
export interface JobWorkerData {
  db: JobDatabase;
  job: Job;
}

/**
 * The messages between the threads. The worker asks for `now` before it stores a model, so that
 * its creation time is the server's clock (a simulated or fixed one included), as in process.
 */
export type WorkerMessage =
  { kind: 'now' } | { kind: 'done'; result: unknown } | { kind: 'failed'; error: { message: string; code?: ErrorCode; field?: string } };
export type MainMessage = { kind: 'now'; now: number };

/**
 * The worker's entry: the bundled job-worker.mjs beside this chunk (scripts/build.mjs builds it
 * into dist/main/ as an entry point of its own), or, run from the TypeScript sources (vitest,
 * bin/tsnode.mjs), job-worker.ts through tsx's loader. A worker does not inherit the loader the
 * main thread was started with on Node 20, and `execArgv: ['--import', 'tsx']` does not apply
 * hooks to the worker's own entry there (ERR_UNKNOWN_FILE_EXTENSION), so a small evaluated
 * bootstrap imports it with tsx's `tsImport`.
 */
export function workerEntry(): { code: string; eval: true } | { url: URL; eval: false } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./job-worker.mjs', import.meta.url), eval: false };
  const url = new URL('./job-worker.ts', import.meta.url).href;
  return {
    code: `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(url)}, ${JSON.stringify(import.meta.url)}))`,
    eval: true,
  };
}

/** Runs one job in a worker thread; rejects with the job's DomainError, or `internal` when the worker itself failed. */
export type JobRunner = <J extends Job>(job: J) => Promise<JobResult<J>>;

/**
 * The runner of a server's database, or undefined when it cannot be opened twice (SQLite in memory).
 * `now` is the server's clock. `entry` replaces the worker's entry (tests of a failing worker).
 *
 * @example
 * const run = jobRunner(config, () => clock.now());
 * const { version } = await run({ kind: 'train', opts: { placement: 'read-next', sinceTs, untilTs, seed: 1 } });
 */
export function jobRunner(
  config: Pick<Config, 'db' | 'sqliteSynchronous'>,
  now: () => number,
  entry: ReturnType<typeof workerEntry> = workerEntry(),
): JobRunner | undefined {
  const parsed = parseDatabaseUrl(config.db);
  if (parsed.dialect === 'sqlite' && parsed.path === ':memory:') return undefined;
  const db: JobDatabase = { url: config.db, sqliteSynchronous: config.sqliteSynchronous };
  return <J extends Job>(job: J) => runJob(db, job, now, entry) as Promise<JobResult<J>>;
}

const what = (job: Job): string => (job.kind === 'train' ? `the training of placement "${job.opts.placement}"` : 'the data report');

function runJob(db: JobDatabase, job: Job, now: () => number, entry: ReturnType<typeof workerEntry>): Promise<unknown> {
  const workerData: JobWorkerData = { db, job };
  const worker = entry.eval ? new Worker(entry.code, { eval: true, workerData }) : new Worker(entry.url, { workerData });
  // A server closing mid-job does not wait for it: the job's storage goes with the process.
  worker.unref();
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    const crashed = (why: string) => settle(() => reject(new DomainError('internal', `${what(job)} failed in its worker thread: ${why}`)));
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'now') worker.postMessage({ kind: 'now', now: now() } satisfies MainMessage);
      else if (m.kind === 'done') settle(() => resolve(m.result));
      else {
        const e = m.error;
        settle(() =>
          reject(
            e.code === undefined
              ? new DomainError('internal', `${what(job)} failed in its worker thread: ${e.message}`)
              : new DomainError(e.code, e.message, e.field === undefined ? {} : { field: e.field }),
          ),
        );
      }
    });
    worker.on('error', (e) => crashed(e.message));
    worker.on('exit', (code) => crashed(`the thread exited (code ${code}) before it answered`));
  });
}
