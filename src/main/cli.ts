import { runCli } from '../adapters/cli/program.js';
import { cliDeps } from './cli-deps.js';

/** Composition root of the `readnext` command. */
process.exitCode = await runCli(
  cliDeps({ out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`), isTty: Boolean(process.stderr.isTTY) }),
  process.argv.slice(2),
);
