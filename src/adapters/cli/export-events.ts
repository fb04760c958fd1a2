/**
 * `readnext export events`: the stored events of a window as JSON lines (the wire schema of
 * POST /v1/events plus receivedAt) or as a Parquet file of typed columns, streamed batch by batch
 * (app/export-events.ts). The writers are loaded when the command runs, so `readnext --help` loads
 * none of them. Tests: test/adapters/cli/export-events.test.ts.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Option, type Command } from 'commander';
import type { EventExportStore, EventSink } from '../../app/export-events.js';
import { EVENT_TYPES, type StoredEvent } from '../../core/events/schema.js';
import { toWireEvent } from '../../core/events/wire.js';
import { DomainError } from '../../core/kernel/errors.js';

/** What the export command needs from the composition root. */
export interface ExportDeps {
  now(): number;
  /** Diagnostics (the summary line): stderr, so stdout holds the data only. */
  err(line: string): void;
  /** Writes a chunk of standard output (whole lines, without the last newline); resolves when more may be written. */
  stdout(chunk: string): Promise<void>;
  /** The configured database unless `db` is given. */
  open(db: string | undefined): Promise<{ store: EventExportStore; close(): Promise<void> }>;
}

export const EXPORT_FORMATS = ['jsonl', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Characters of JSON lines gathered before a write: few large writes instead of one per event. */
const JSONL_CHUNK = 1 << 20;

/** JSON lines to standard output (`write` a chunk of lines) or to a file. */
export function jsonlSink(write: (chunk: string) => Promise<void>, end: () => Promise<void> = async () => undefined): EventSink {
  let buf = '';
  return {
    async write(batch) {
      for (const e of batch) {
        buf += (buf === '' ? '' : '\n') + JSON.stringify(toWireEvent(e));
        if (buf.length >= JSONL_CHUNK) {
          const chunk = buf;
          buf = '';
          await write(chunk);
        }
      }
    },
    async end() {
      if (buf !== '') await write(buf);
      buf = '';
      await end();
    },
  };
}

function fileLines(path: string): EventSink {
  const file = createWriteStream(path);
  const failed = once(file, 'error').then(([e]) => Promise.reject(e as Error));
  failed.catch(() => undefined);
  return jsonlSink(
    async (chunk) => {
      if (!file.write(`${chunk}\n`)) await Promise.race([once(file, 'drain'), failed]);
    },
    async () => {
      file.end();
      await Promise.race([once(file, 'finish'), failed]);
    },
  );
}

type ColumnType = 'STRING' | 'JSON' | 'TIMESTAMP' | 'INT32' | 'DOUBLE' | 'BOOLEAN';

/**
 * The Parquet columns: every field of every event type under its wire name, null where an event has
 * none. Timestamps are INT64 milliseconds (TIMESTAMP_MILLIS, UTC); `items` and `recommender` are
 * JSON text.
 */
export const PARQUET_COLUMNS: readonly { name: string; type: ColumnType; required?: boolean }[] = [
  { name: 'type', type: 'STRING', required: true },
  { name: 'schemaVersion', type: 'INT32', required: true },
  { name: 'eventId', type: 'STRING', required: true },
  { name: 'readerId', type: 'STRING', required: true },
  { name: 'sessionId', type: 'STRING', required: true },
  { name: 'timestamp', type: 'TIMESTAMP', required: true },
  { name: 'receivedAt', type: 'TIMESTAMP', required: true },
  { name: 'articleId', type: 'STRING' },
  { name: 'page', type: 'STRING' },
  { name: 'url', type: 'STRING' },
  { name: 'referrer', type: 'STRING' },
  { name: 'recommId', type: 'STRING' },
  { name: 'placement', type: 'STRING' },
  { name: 'items', type: 'JSON' },
  { name: 'experiment', type: 'STRING' },
  { name: 'phase', type: 'INT32' },
  { name: 'arm', type: 'STRING' },
  { name: 'hashVersion', type: 'INT32' },
  { name: 'recommender', type: 'JSON' },
  { name: 'shadow', type: 'BOOLEAN' },
  { name: 'position', type: 'INT32' },
  { name: 'dwellMs', type: 'INT32' },
  { name: 'scroll', type: 'DOUBLE' },
  { name: 'plan', type: 'STRING' },
  { name: 'revenue', type: 'DOUBLE' },
  { name: 'currency', type: 'STRING' },
];

/** Rows per Parquet row group: what the writer holds in memory at most (about 25 MB of column values). */
export const PARQUET_ROW_GROUP = 50_000;

const ELEMENT = {
  STRING: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  JSON: { type: 'BYTE_ARRAY', converted_type: 'JSON' },
  TIMESTAMP: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' },
  INT32: { type: 'INT32' },
  DOUBLE: { type: 'DOUBLE' },
  BOOLEAN: { type: 'BOOLEAN' },
} as const;

async function parquetSink(path: string, rowGroup = PARQUET_ROW_GROUP): Promise<EventSink> {
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  const schema = [
    { name: 'root', num_children: PARQUET_COLUMNS.length },
    ...PARQUET_COLUMNS.map((c) => ({ name: c.name, ...ELEMENT[c.type], repetition_type: c.required ? 'REQUIRED' : 'OPTIONAL' })),
  ] as ConstructorParameters<typeof ParquetWriter>[0]['schema'];
  const writer = new ParquetWriter({ writer: fileWriter(path), schema, createdBy: 'readnext export events' });
  let columns: unknown[][] = PARQUET_COLUMNS.map(() => []);
  let rows = 0;
  const flush = async () => {
    if (rows === 0) return;
    const columnData = PARQUET_COLUMNS.map((c, i) => ({ name: c.name, data: columns[i]! }));
    columns = PARQUET_COLUMNS.map(() => []);
    const n = rows;
    rows = 0;
    await writer.write({ columnData: columnData as Parameters<typeof writer.write>[0]['columnData'], rowGroupSize: n });
  };
  const add = (e: StoredEvent) => {
    const w = toWireEvent(e);
    for (let i = 0; i < PARQUET_COLUMNS.length; i++) {
      const name = PARQUET_COLUMNS[i]!.name;
      columns[i]!.push(name === 'timestamp' ? e.clientTs : name === 'receivedAt' ? e.receivedTs : (w[name] ?? null));
    }
    rows++;
  };
  return {
    async write(batch) {
      for (const e of batch) {
        add(e);
        if (rows >= rowGroup) await flush();
      }
    },
    async end() {
      await flush();
      await writer.finish();
    },
  };
}

export function registerExport(program: Command, deps: ExportDeps): void {
  const exp = program.command('export').description('export stored data for a warehouse or a notebook');
  exp
    .command('events')
    .description(
      'the stored events of a window of client time, ordered by time then event id, as JSON lines (the POST /v1/events schema plus receivedAt) or Parquet',
    )
    .requiredOption('--since <date>', 'first day (2026-03-01, UTC) or ISO time of the window (client time)')
    .option('--until <date>', 'end of the window, excluded (default: now)')
    .addOption(new Option('--type <type>', 'only events of this type').choices([...EVENT_TYPES]))
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).default('jsonl'))
    .option('--out <file>', 'output file (default: standard output; required for parquet)')
    .option('--db <url>', 'database URL')
    .action(async (o: { since: string; until?: string; type?: string; format: ExportFormat; out?: string; db?: string }) => {
      const { exportEvents, exportQuery } = await import('../../app/export-events.js');
      if (o.format === 'parquet' && o.out === undefined)
        throw new DomainError('invalid_field', '--format parquet needs --out FILE (Parquet is not written to standard output)', {
          field: 'out',
        });
      const s = await deps.open(o.db);
      try {
        // Now once the database is open: on a simulated one, its simulated time.
        const q = exportQuery(o, deps.now());
        const sink =
          o.format === 'parquet'
            ? await parquetSink(o.out!)
            : o.out === undefined
              ? jsonlSink((chunk) => deps.stdout(chunk))
              : fileLines(o.out);
        const started = performance.now();
        const n = await exportEvents(s.store, q, sink);
        const secs = (performance.now() - started) / 1000;
        deps.err(
          `exported ${n} events (${new Date(q.sinceTs).toISOString()} .. ${new Date(q.untilTs).toISOString()}${q.types ? `, ${q.types.join(', ')}` : ''}) ` +
            `as ${o.format}${o.out === undefined ? '' : ` to ${o.out}`} in ${secs.toFixed(1)} s`,
        );
      } finally {
        await s.close();
      }
    });
}
