/**
 * `readnext reader forget|export ID`: a reader's privacy (src/app/readers.ts) from the command
 * line, on the configured database or `--db`. Running servers on the same database drop the
 * reader from memory at their next poll. Tests: test/adapters/cli/readers.test.ts.
 */
import type { Command } from 'commander';
import type { ReaderPrivacy } from '../../app/readers.js';
import type { RetentionResult } from '../../app/retention.js';

export interface ReaderDeps {
  out(line: string): void;
  /** The reader use case over the configured database unless `db` is given. */
  open(db: string | undefined): Promise<{ readers: Pick<ReaderPrivacy, 'forget' | 'export'>; close(): Promise<void> }>;
  /** One retention pass (READNEXT_RETENTION_DAYS) over the configured database unless `db` is given. */
  retention(db: string | undefined): Promise<{ days: number; run(): Promise<RetentionResult>; close(): Promise<void> }>;
}

export function registerReader(program: Command, deps: ReaderDeps): void {
  const reader = program.command('reader').description("a reader's privacy: export or forget their data");
  reader
    .command('forget <id>')
    .description(
      'erase a reader: their events, exposures, serve records and per-reader rollups in one transaction; servers on the database forget them in memory within a poll (READNEXT_PLACEMENT_POLL_MS)',
    )
    .option('--json', 'print the answer as JSON')
    .option('--db <url>', 'database URL')
    .action(async (id: string, o: { json?: boolean; db?: string }) => {
      const s = await deps.open(o.db);
      try {
        const a = await s.readers.forget(id);
        if (o.json) deps.out(JSON.stringify(a));
        else {
          const r = a.removed;
          deps.out(
            `forgot reader ${JSON.stringify(id)}: ${r.events} events, ${r.exposures} exposures, ${r.serves} serve records, ` +
              `${r.readerDays} reader days, ${r.exposureSessions} exposure sessions, ${r.exposureUnpriced} unpriced revenue rows deleted (erasure ${a.erasure})`,
          );
        }
      } finally {
        await s.close();
      }
    });
  reader
    .command('export <id>')
    .description("print a reader's stored data as JSON: events, exposures and serve records (at most 100,000 of each, oldest first)")
    .option('--db <url>', 'database URL')
    .action(async (id: string, o: { db?: string }) => {
      const s = await deps.open(o.db);
      try {
        deps.out(JSON.stringify(await s.readers.export(id), null, 2));
      } finally {
        await s.close();
      }
    });
}

/** `readnext retention run`: one retention pass now (app/retention.ts), printing what it deleted. */
export function registerRetention(program: Command, deps: ReaderDeps): void {
  program
    .command('retention')
    .description('raw events and serve records older than READNEXT_RETENTION_DAYS')
    .command('run')
    .description('delete them now, in batches (a server does it hourly), and print how many; rollups and snapshots are kept')
    .option('--json', 'print the answer as JSON')
    .option('--db <url>', 'database URL')
    .action(async (o: { json?: boolean; db?: string }) => {
      const s = await deps.retention(o.db);
      try {
        const r = await s.run();
        if (o.json) deps.out(JSON.stringify({ days: s.days, ...r }));
        else if (s.days === 0) deps.out('READNEXT_RETENTION_DAYS is 0 (unset): everything is kept, nothing deleted');
        else
          deps.out(
            `retention ${s.days} days: deleted ${r.events} events received and ${r.serves} serve records served before ${new Date(r.beforeTs).toISOString()}`,
          );
      } finally {
        await s.close();
      }
    });
}
