/**
 * `readnext reader forget|export ID`: a reader's privacy (src/app/readers.ts) from the command
 * line, on the configured database or `--db`. Running servers on the same database drop the
 * reader from memory at their next poll. Tests: test/adapters/cli/readers.test.ts.
 */
import type { Command } from 'commander';
import type { ReaderPrivacy } from '../../app/readers.js';

export interface ReaderDeps {
  out(line: string): void;
  /** The reader use case over the configured database unless `db` is given. */
  open(db: string | undefined): Promise<{ readers: Pick<ReaderPrivacy, 'forget' | 'export'>; close(): Promise<void> }>;
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
