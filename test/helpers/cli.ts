import { runCli } from '../../src/adapters/cli/program.js';
import type { Clock } from '../../src/core/kernel/clock.js';
import { cliDeps } from '../../src/main/cli-deps.js';

/** What an in-process CLI run wrote, line by line, and its exit code. */
export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

/**
 * `readnext ARGS --db DB` in process (no child: fast, and the test's clock is the CLI's), not a
 * terminal, with an empty environment so that no READNEXT_* of the machine running the tests leaks in.
 */
export async function runCliOn(db: string, clock: Clock, args: readonly string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(cliDeps({ out: (l) => out.push(l), err: (l) => err.push(l), isTty: false, clock, env: {} }), [
    ...args,
    '--db',
    db,
  ]);
  return { code, out, err };
}
