import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { StoredEvent } from '../../core/events/schema.js';
import type { AppendOutcome, SignalRow, StorageTuning } from '../../app/ports.js';
import { errorCode, type AtomicStep, type Dialect, type Flow } from './dialect.js';
import { EVENT_COLUMNS, pushEventParams, putServeParams, sameEvent, SERVE_COLUMNS, serveParams } from './rows.js';
import type { ExposureRecord, ServeRecord } from '../../core/events/records.js';
import type { Database, EventRow } from './schema.js';
import { impressionIds, SHADOW_MARK } from './events.js';

/**
 * How SQLite wants its work sized. Writes are serial (one writer, and better-sqlite3 runs each
 * transaction whole on the event loop), so the numbers keep each one short.
 */
export const SQLITE_TUNING: StorageTuning = {
  // One big commit at a time: SQLite writes are serial, so parallel commits would only queue.
  commits: { maxEvents: Number.POSITIVE_INFINITY, parallel: 1 },
  rollups: {
    // A pass runs on the event loop (better-sqlite3 is synchronous): small passes, about 0.1 s each
    // when every event's reader is exposed (measured with 100,000 exposed readers), let requests in
    // between. That is the first pass's size; the next ones are sized by time (adaptive).
    batchEvents: 1000,
    // Passes are sized to hold the event loop about 0.1 s each: a pass's cost is mostly the pages it
    // dirties, which its events share, so larger passes roll up more per second (measured on 1M
    // events / 50k exposed readers: passes of 5,000 1.5-1.8x the rate of passes of 1,000) while a
    // time budget, unlike a fixed count, also bounds the hold on a slower machine or a larger table.
    // Behind by more than a minute of data (a restart, a backlog after a peak), passes take about
    // 0.5 s: a pass's commit (the pages it dirtied, written to the WAL and checkpointed) costs about
    // as much as its statements and its events share those pages, so 3,000 events a pass took 31%
    // less process CPU than 1,000 (1M events / 50k exposed readers), and passes of 0.5 s (up to
    // 50,000 events) caught up 1.3x as fast as passes of 0.25 s (about 10,000). The price: requests
    // wait up to 0.5 s instead of 0.1 s behind a pass while the backlog lasts; the background share
    // still bounds the rollups' part of wall time.
    adaptive: { targetMs: 100, min: 500, max: 50_000, behind: { ms: 60_000, targetMs: 500 } },
    // Passes run on the event loop, so their share is taken from ingestion: bench:ingest --experiment
    // (every reader exposed, 2026-12-04) measured SQLite HTTP ingestion at 125,000 events/s without
    // rollups, 85,500 with a share of 0.5 and 109,500 with 0.2. At 0.2, sustained ingestion at that
    // peak outruns the rollups (reports say how far their data goes, `dataThroughTs`, and catch up
    // when asked); below it they keep up.
    backgroundShare: 0.2,
    // None: the rollup cursor is a rowid, handed out in commit order under one write lock, so any
    // lag is exact.
    minLag: { ms: 0, on: 'SQLite', why: 'the rollup cursor is a rowid, handed out in commit order' },
  },
};

/** Rows per multi-row INSERT of events: 64 x 11 parameters, well under SQLite's limit. */
const ROWS_PER_INSERT = 64;

export interface SqliteOptions {
  /**
   * FULL: a commit is fsync'ed to the WAL before it returns, so an acknowledged event survives a
   * process crash and a power loss. NORMAL: survives a process crash (the WAL is in the OS page
   * cache), a power loss may drop the last commits.
   */
  synchronous: 'FULL' | 'NORMAL';
  /**
   * Checkpoint the WAL from a worker thread with its own connection every this many milliseconds,
   * instead of inside the commits of this connection (a checkpoint copies pages into the database
   * file and fsyncs it: milliseconds the event loop would otherwise wait). This connection then
   * checkpoints only as a backstop, when the WAL passes BACKSTOP_PAGES. Unset: SQLite's default.
   */
  backgroundCheckpointMs?: number;
}

/** WAL pages (4 KiB) after which a commit checkpoints anyway, when a background checkpointer runs (~80 MiB). */
const BACKSTOP_PAGES = 20_000;

/** The checkpointer: CommonJS run with `eval`, so it needs no loader for TypeScript. */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { parentPort.postMessage(String(e && e.message || e)); }
}, workerData.everyMs);
parentPort.on('message', (m) => { if (m === 'stop') { clearInterval(timer); db.close(); parentPort.close(); } });
`;

/**
 * The reading signals and live impressions the serving state is rebuilt from (EventStore.scanSignals),
 * oldest first, ties in commit order (rowid). The third column is an impression's `extra` (its items,
 * read by impressionIds; shadows are left out before the sort: SHADOW_MARK), any other row's article.
 */
const SIGNALS_SQL =
  "SELECT type, reader_id, CASE type WHEN 'impression' THEN extra ELSE article_id END, client_ts FROM events " +
  `WHERE client_ts >= ? AND (type IN ('read', 'click', 'page_view') AND article_id IS NOT NULL OR type = 'impression' AND instr(extra, '${SHADOW_MARK}') = 0) ` +
  'ORDER BY client_ts, rowid';
/** Rows per batch of the signal scan, and batches the scanner may send ahead of the main thread. */
const SCAN_BATCH = 10_000;
const SCAN_AHEAD = 4;

/**
 * The signal scanner: its own read-only connection in a worker thread. A read transaction started
 * by a first small read pins the WAL snapshot; the sort and the scan (seconds on millions of
 * events, all in SQLite) then run off the event loop while the server's connection writes.
 * `taken[0]` counts the batches the main thread has applied: the worker stays SCAN_AHEAD ahead at
 * most; `taken[1]` becomes 1 once the caller's `pinned` has resolved. The sort runs in memory
 * (`temp_store = MEMORY`, about 60 bytes a signal, plus its `extra` for an impression): sorting
 * 2.25M signals through temporary files kept the disk so busy that the server's fsync'ed event
 * commits waited up to 2.4 s (bench:startup, SQLite, 3M events: slowest acknowledgement before
 * ready 2.39 s with files, 0.09 s in memory). The scanner reads each impression's ids from its
 * `extra` (impressionIds) so the main thread gets them ready to apply.
 */
const SCANNER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('temp_store = MEMORY');
const taken = new Int32Array(workerData.taken);
db.exec('BEGIN');
db.prepare('SELECT 1 FROM events LIMIT 1').get();
parentPort.postMessage({ pinned: true });
while (Atomics.load(taken, 1) === 0) Atomics.wait(taken, 1, 0, 100);
let sent = 0;
let batch = [];
const send = () => {
  for (let t = Atomics.load(taken, 0); sent - t >= workerData.ahead; t = Atomics.load(taken, 0)) Atomics.wait(taken, 0, t, 100);
  parentPort.postMessage({ rows: batch });
  sent++;
  batch = [];
};
// A copy of impressionIds (events.ts), which the worker cannot import.
const MARK = '"articleId":"';
const impressionIds = (extra) => {
  if (extra === null) return undefined;
  if (!extra.includes('\\\\')) {
    let at = extra.indexOf(MARK);
    if (at >= 0) {
      if (extra.includes(workerData.shadowMark)) return undefined;
      const out = [];
      while (at >= 0) {
        const start = at + MARK.length;
        const end = extra.indexOf('"', start);
        out.push(extra.slice(start, end));
        at = extra.indexOf(MARK, end);
      }
      return out;
    }
  }
  const x = JSON.parse(extra);
  if (x.shadow === true || !Array.isArray(x.items) || x.items.length === 0) return undefined;
  return x.items.map((i) => i.articleId);
};
for (const r of db.prepare(workerData.sql).raw().iterate(workerData.since)) {
  if (r[0] === 'impression' && (r[2] = impressionIds(r[2])) === undefined) continue;
  batch.push(r);
  if (batch.length >= workerData.batch) send();
}
if (batch.length > 0) send();
db.exec('COMMIT');
db.close();
parentPort.postMessage({ done: true });
`;

/** A scanned row, its third column already an impression's article ids (the scanner's impressionIds). */
const toSignal = (r: unknown[]): SignalRow =>
  r[0] === 'impression'
    ? { type: 'impression', readerId: r[1] as string, articleIds: r[2] as string[], clientTs: Number(r[3]) }
    : { type: r[0] as 'read', readerId: r[1] as string, articleId: r[2] as string, clientTs: Number(r[3]) };

/**
 * SQLite through better-sqlite3, in WAL mode. better-sqlite3 is synchronous, so a write
 * transaction runs whole within one event-loop turn and cannot interleave with another; the
 * event append uses it directly (prepared statements in one transaction) because it is the hot path.
 */
export class SqliteDriver implements Dialect {
  readonly name = 'sqlite' as const;
  readonly tuning = SQLITE_TUNING;
  readonly db: Kysely<Database>;
  private readonly appendTx: BetterSqlite3.Transaction<(events: readonly StoredEvent[]) => AppendOutcome[]>;

  private readonly recordsTx: (serves: readonly ServeRecord[], exposures: readonly ExposureRecord[]) => void;

  private exposuresOfSt: BetterSqlite3.Statement<[string, string, number], { reader_id: string; arm: string; phase: number }> | undefined;

  /**
   * The exposure read-back (RecordStore.exposuresOf, app/exposure-lookup.ts) as one prepared
   * statement on the connection, the readers as a JSON array (json_each): it runs at once instead
   * of through Kysely's one-connection queue, shared with every other asynchronous query of the
   * process (bench:readers in phase 2: 2,752 → 7,364 req/s; why the queue cost that much is not
   * established). Same rows as records.ts's query, on the index by reader_id (covering since migration 0023). It never runs
   * inside another transaction: every SQLite write here is a synchronous better-sqlite3 one.
   */
  async exposuresOf(
    experiment: string,
    readerIds: readonly string[],
    fromPhase: number,
  ): Promise<{ readerId: string; arm: string; phase: number }[]> {
    this.exposuresOfSt ??= this.raw.prepare(
      // CROSS JOIN keeps the readers outer and `+` keeps the (experiment, phase) key out of the plan:
      // otherwise SQLite scans every exposure of the experiment instead of the readers' few rows.
      'SELECT e.reader_id, e.arm, e.phase FROM json_each(?) AS j CROSS JOIN exposures AS e ON e.reader_id = j.value WHERE +e.experiment = ? AND +e.phase >= ?',
    );
    return this.exposuresOfSt
      .all(JSON.stringify([...new Set(readerIds)]), experiment, fromPhase)
      .map((r) => ({ readerId: r.reader_id, arm: r.arm, phase: Number(r.phase) }));
  }

  constructor(
    private readonly raw: BetterSqlite3.Database,
    private readonly synchronous: SqliteOptions['synchronous'] = 'FULL',
  ) {
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
    // Prepared lazily (the events table exists only after migrate()), one statement per row count.
    const inserts = new Map<number, BetterSqlite3.Statement>();
    const head = `INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES `;
    const tuple = `(${EVENT_COLUMNS.map(() => '?').join(', ')})`;
    const insert = (rows: number) => {
      let st = inserts.get(rows);
      if (!st) inserts.set(rows, (st = raw.prepare(`${head}${new Array(rows).fill(tuple).join(', ')} ON CONFLICT (event_id) DO NOTHING`)));
      return st;
    };
    let maxRowid: BetterSqlite3.Statement<[], number> | undefined;
    let since: BetterSqlite3.Statement<[number | bigint], string> | undefined;
    let stored: BetterSqlite3.Statement<[string], EventRow> | undefined;
    this.appendTx = raw.transaction((events: readonly StoredEvent[]) => {
      maxRowid ??= raw.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM events').pluck();
      since ??= raw.prepare<[number | bigint], string>('SELECT event_id FROM events WHERE rowid > ?').pluck();
      stored ??= raw.prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS.join(', ')} FROM events WHERE event_id = ?`);
      const out: AppendOutcome[] = new Array(events.length).fill('accepted');
      // Multi-row inserts with positional parameters: far fewer statement steps than one row at a
      // time. Without RETURNING: when a statement inserts all its rows (the normal case) they are all
      // accepted; when it inserts fewer, the rows it added are the ones past the largest rowid
      // before it (a single writer hands out max(rowid) + 1), and the others are replays.
      let before: number | bigint = maxRowid.get()!;
      for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
        const end = Math.min(i + ROWS_PER_INSERT, events.length);
        const params: unknown[] = [];
        for (let j = i; j < end; j++) pushEventParams(params, events[j]!);
        const r = insert(end - i).run(params);
        if (r.changes < end - i) {
          const inserted = new Set(since.all(before));
          // Rows go in in order, so the first occurrence of an inserted id is the one that was stored.
          for (let k = i; k < end; k++) {
            const e = events[k]!;
            if (inserted.delete(e.eventId)) continue;
            const row = stored.get(e.eventId);
            out[k] = row !== undefined && sameEvent(row, e) ? 'duplicate' : 'conflict';
          }
        }
        if (r.changes > 0) before = r.lastInsertRowid;
      }
      return out;
    });
    let serve: BetterSqlite3.Statement | undefined;
    let serves32: BetterSqlite3.Statement | undefined;
    let exposure: BetterSqlite3.Statement | undefined;
    const serveTuple = `(${SERVE_COLUMNS.map(() => '?').join(', ')})`;
    this.recordsTx = raw.transaction((serves: readonly ServeRecord[], exposures: readonly ExposureRecord[]) => {
      serve ??= raw.prepare(`INSERT INTO serves (${SERVE_COLUMNS.join(', ')}) VALUES ${serveTuple}`);
      serves32 ??= raw.prepare(`INSERT INTO serves (${SERVE_COLUMNS.join(', ')}) VALUES ${new Array(32).fill(serveTuple).join(', ')}`);
      exposure ??= raw.prepare(
        'INSERT INTO exposures (experiment, phase, reader_id, arm, hash_version, exposed_ts, session_id, article_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (experiment, phase, reader_id) DO NOTHING',
      );
      let i = 0;
      const params = new Array<unknown>(32 * SERVE_COLUMNS.length);
      for (; i + 32 <= serves.length; i += 32) {
        let at = 0;
        for (let j = i; j < i + 32; j++) at = putServeParams(params, at, serves[j]!);
        serves32.run(params);
      }
      for (; i < serves.length; i++) serve.run(serveParams(serves[i]!));
      for (const e of exposures)
        exposure.run(e.experiment, e.phase, e.readerId, e.arm, e.hashVersion, e.exposedTs, e.sessionId ?? null, e.articleId ?? null);
    });
  }

  /**
   * Serve and exposure records are telemetry written off the request path (a crash may lose the
   * last 100 ms of them, as documented): their commits skip the fsync (synchronous = NORMAL for
   * that one transaction), which took ~10 ms per flush on the request thread. The next event
   * commit, with FULL, makes the WAL durable for both.
   */
  private relaxed(f: () => void): void {
    if (this.synchronous === 'NORMAL') return f();
    this.raw.pragma('synchronous = NORMAL');
    try {
      f();
    } finally {
      this.raw.pragma(`synchronous = ${this.synchronous}`);
    }
  }

  /**
   * A constraint failed (SQLITE_CONSTRAINT_*), a value is too big or of the wrong type (SQLITE_TOOBIG,
   * SQLITE_MISMATCH); not SQLITE_BUSY, SQLITE_FULL, SQLITE_IOERR_* and the like.
   * https://www.sqlite.org/rescode.html
   */
  refuses(e: unknown): boolean {
    const code = errorCode(e);
    return code !== undefined && (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH');
  }

  async appendRecords(serves: readonly ServeRecord[], exposures: readonly ExposureRecord[]): Promise<void> {
    if (serves.length + exposures.length > 0) this.relaxed(() => this.recordsTx(serves, exposures));
  }

  static open(path: string, opts: SqliteOptions): SqliteDriver {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const raw = new BetterSqlite3(path);
    raw.pragma('journal_mode = WAL');
    raw.pragma(`synchronous = ${opts.synchronous}`);
    // Another process (an import, a second server) may hold the write lock for a moment.
    raw.pragma('busy_timeout = 5000');
    raw.pragma('foreign_keys = ON');
    // Rollup passes update exposures, exposure_sessions and reader_days at keys spread over the
    // tables: with SQLite's default page cache (2 MB) most of their pages were read again from the
    // OS on every pass. 64 MB (taken as pages are read), and the passes' scratch tables in memory:
    // 10% less CPU per rolled-up event with 128 MB (bench/rollup-throughput.ts, 1M events).
    raw.pragma('cache_size = -65536');
    raw.pragma('temp_store = MEMORY');
    const storage = new SqliteDriver(raw, opts.synchronous);
    if (path !== ':memory:') storage.path = path;
    if (opts.backgroundCheckpointMs !== undefined && path !== ':memory:') {
      raw.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      const worker = new Worker(CHECKPOINTER, {
        eval: true,
        workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path, everyMs: opts.backgroundCheckpointMs },
      });
      worker.on('message', (m: string) => process.emitWarning(`readnext: WAL checkpoint failed: ${m}`));
      worker.on('error', (e) => {
        // Without the worker, commits checkpoint again as SQLite does by default.
        process.emitWarning(`readnext: WAL checkpointer stopped: ${e.message}`);
        raw.pragma('wal_autocheckpoint = 1000');
      });
      worker.unref();
      storage.checkpointer = worker;
    }
    return storage;
  }

  private checkpointer: Worker | undefined;
  /** The database file (undefined in memory): the signal scanner opens it again. */
  private path: string | undefined;
  private readonly scanners = new Set<Worker>();

  /**
   * A file database is scanned by a worker thread with its own connection (SCANNER): the server's
   * connection and event loop stay free. In memory there is no second connection: the scan runs
   * here, synchronously, so nothing is stored while it runs.
   */
  async scanSignals(
    sinceTs: number,
    onBatch: (rows: SignalRow[]) => void,
    pinned: () => void | Promise<void> = () => undefined,
  ): Promise<number> {
    if (this.path === undefined) {
      // Read at once (the snapshot), delivered after `pinned`.
      const rows: SignalRow[] = [];
      for (const r of this.raw.prepare(SIGNALS_SQL).raw().all(sinceTs) as unknown[][]) {
        if (r[0] === 'impression' && (r[2] = impressionIds(r[2] as string)) === undefined) continue;
        rows.push(toSignal(r));
      }
      await pinned();
      for (let i = 0; i < rows.length; i += SCAN_BATCH) onBatch(rows.slice(i, i + SCAN_BATCH));
      return rows.length;
    }
    const taken = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(SCANNER, {
      eval: true,
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        path: this.path,
        sql: SIGNALS_SQL,
        since: sinceTs,
        shadowMark: SHADOW_MARK,
        batch: SCAN_BATCH,
        ahead: SCAN_AHEAD,
        taken: taken.buffer,
      },
    });
    this.scanners.add(worker);
    return new Promise<number>((resolve, reject) => {
      let n = 0;
      let settled = false;
      const end = (e: Error | undefined) => {
        if (settled) return;
        settled = true;
        this.scanners.delete(worker);
        if (e) {
          void worker.terminate();
          reject(e);
        } else resolve(n);
      };
      worker.on('message', (m: { pinned?: true; rows?: unknown[][]; done?: true }) => {
        try {
          if (m.pinned) {
            void Promise.resolve()
              .then(pinned)
              .then(() => {
                Atomics.store(taken, 1, 1);
                Atomics.notify(taken, 1);
              }, end);
          } else if (m.rows) {
            onBatch(m.rows.map(toSignal));
            n += m.rows.length;
            Atomics.add(taken, 0, 1);
            Atomics.notify(taken, 0);
          } else if (m.done) end(undefined);
        } catch (e) {
          end(e as Error);
        }
      });
      worker.on('error', (e) => end(e));
      worker.on('exit', (code) => end(new Error(`the signal scan stopped (worker exit code ${code})`)));
    });
  }

  async appendEvents(events: readonly StoredEvent[]): Promise<AppendOutcome[]> {
    // IMMEDIATE: the write lock before the first read (max rowid), so another process's commit in
    // between cannot fail the upgrade (SQLITE_BUSY_SNAPSHOT); busy_timeout waits for the lock instead.
    return this.appendTx.immediate(events);
  }

  /**
   * The statements run inside one synchronous better-sqlite3 transaction: nothing else can run on
   * the connection meanwhile (an async Kysely transaction could swallow a concurrent event append).
   */
  async atomic(steps: AtomicStep[]): Promise<boolean> {
    const abort = new Error('compare-and-set lost');
    try {
      this.raw.transaction(() => {
        for (const s of steps) {
          const r = this.raw.prepare(s.query.sql).run(...(s.query.parameters as unknown[]));
          if (s.mustChange && r.changes === 0) throw abort;
        }
      })();
      return true;
    } catch (e) {
      if (e === abort) return false;
      throw e;
    }
  }

  /**
   * Synchronous, like atomic: BEGIN IMMEDIATE takes the write lock before the flow reads its cursor.
   * Commits without the fsync (relaxed): a flow writes derived data (rollups) together with its
   * cursor, so a power loss can only take both back to an earlier consistent state.
   */
  async drive<R>(flow: Flow<R>): Promise<R> {
    let out: R | undefined;
    this.relaxed(() => (out = this.runFlow(flow)));
    return out as R;
  }

  /**
   * Flows' statements, prepared once by their text: a rollup pass runs about 25, the same texts
   * every pass (the values are parameters), and preparing them took 1.3 ms of a pass of 1,000
   * events (about 19 ms of CPU). It pays only because the rollups' scratch tables are no longer
   * created and dropped each pass (a schema change makes SQLite prepare the statements that read
   * them again). Cleared when full (texts that vary, such as a multi-row insert's).
   */
  private readonly flowStatements = new Map<string, BetterSqlite3.Statement>();

  private flowStatement(text: string): BetterSqlite3.Statement {
    let stmt = this.flowStatements.get(text);
    if (!stmt) {
      if (this.flowStatements.size >= 256) this.flowStatements.clear();
      stmt = this.raw.prepare(text);
      this.flowStatements.set(text, stmt);
    }
    return stmt;
  }

  private runFlow<R>(flow: Flow<R>): R {
    return this.raw
      .transaction(() => {
        let step = flow.next([]);
        while (!step.done) {
          const stmt = this.flowStatement(step.value.sql);
          const params = step.value.parameters as unknown[];
          const rows = stmt.reader ? (stmt.all(...params) as Record<string, unknown>[]) : (stmt.run(...params), []);
          step = flow.next(rows);
        }
        return step.value;
      })
      .immediate();
  }

  async close(): Promise<void> {
    for (const w of this.scanners) await w.terminate();
    if (this.checkpointer) {
      const w = this.checkpointer;
      this.checkpointer = undefined;
      const exited = new Promise((r) => w.once('exit', r));
      // Referenced while we wait: with the worker and the timer both unref'ed, nothing would keep
      // the event loop alive and a process awaiting close() would exit with code 13 (unsettled await).
      w.ref();
      w.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      await w.terminate();
    }
    await this.db.destroy();
  }
}
