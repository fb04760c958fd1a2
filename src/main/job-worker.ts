/**
 * The worker thread of jobs.ts: opens its own storage on the server's database URL, runs one job
 * (a training, or the data report) and posts the result back, or its failure: a DomainError keeps
 * its code and field, anything else its message (jobs.ts maps it to `internal`). Bundled by
 * scripts/build.mjs as dist/main/job-worker.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { openStorage, type OpenedStorage } from '../adapters/storage/open.js';
import type { ModelStore } from '../app/ports.js';
import { isDomainError } from '../core/kernel/errors.js';
import type { Job, JobWorkerData, MainMessage, WorkerMessage } from './jobs.js';

/** PostgreSQL connections of the worker's pool: a job reads with one at a time. */
const PG_POOL = 2;

const port = parentPort!;
const post = (m: WorkerMessage) => port.postMessage(m);

/** The server's clock, asked for over the port (its answer is the next message). */
const serverNow = (): Promise<number> =>
  new Promise((resolve) => {
    port.once('message', (m: MainMessage) => resolve(m.now));
    post({ kind: 'now' });
  });

async function run(storage: OpenedStorage, job: Job): Promise<unknown> {
  if (job.kind === 'train') {
    const { trainModel } = await import('../app/training.js');
    // The model's creation time is the server's clock when it is stored, as in process.
    const models: ModelStore = {
      ...storage,
      putModel: async (record) => storage.putModel({ ...record, createdTs: await serverNow() }),
    };
    const m = await trainModel({ models, articles: storage, clock: { now: () => Date.now() }, timer: () => performance.now() }, job.opts);
    return { version: m.version };
  }
  const { dataReport } = await import('../app/data-report.js');
  return dataReport({ store: storage, models: storage, articles: storage, lab: storage }, job.opts);
}

const { db, job } = workerData as JobWorkerData;
let storage: OpenedStorage | undefined;
let answer: WorkerMessage;
try {
  storage = await openStorage(db.url, { sqlite: { synchronous: db.sqliteSynchronous }, maxConnections: PG_POOL });
  answer = { kind: 'done', result: await run(storage, job) };
} catch (e) {
  answer = {
    kind: 'failed',
    error: isDomainError(e)
      ? { message: e.message, code: e.code, ...(e.field === undefined ? {} : { field: e.field }) }
      : { message: e instanceof Error ? e.message : String(e) },
  };
}
// Closed before answering: the main thread ends the worker once it has the answer.
await storage?.close().catch(() => undefined);
post(answer);
