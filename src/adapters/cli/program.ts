import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ImportSummary } from '../../app/catalog.js';
import type { ArticleStore } from '../../app/ports.js';
import type { Clock } from '../../core/kernel/clock.js';
import { isDomainError } from '../../core/kernel/errors.js';
import { registerData, type DataDeps } from './data.js';
import { registerDeploy, type DeployDeps } from './deploy.js';
import { registerEval, type EvalDeps } from './eval.js';
import { registerExport, type ExportDeps } from './export-events.js';
import { registerKeys, type KeyCliDeps } from './keys.js';
import { registerModel, type ModelDeps } from './model.js';
import { registerReader, registerRetention, type ReaderDeps } from './readers.js';
import { registerStats } from './stats.js';
import { registerRoi, type RoiDeps } from './roi.js';
import { registerSimulate, type SimulateDeps } from './simulate.js';
import { IMPORT_FORMATS, type ImportFormat } from './import-formats.js';

/** What the CLI needs from the composition root; the CLI itself never opens a database or a port. */
/** `readnext demo`'s options (main/demo.ts runDemo takes these and a few more for tests). */
export interface DemoCommandOptions {
  fast?: boolean;
  world?: string;
  seed?: number;
  /** A catalog file instead of ../shared's or generated articles ('none': generated). */
  catalog?: string;
  reset?: boolean;
  /** Directory of the demo's database and state (default data/demo under the working directory). */
  dir?: string;
  host?: string;
  port?: number;
  /** False: stop after the story instead of serving live traffic. */
  live?: boolean;
}

export interface CliDeps {
  version: string;
  clock: Clock;
  out: (line: string) => void;
  err: (line: string) => void;
  isTty: boolean;
  /** Runs the server until a signal stops it. */
  serve(opts: { db?: string; host?: string; port?: number; simClock?: boolean }): Promise<void>;
  /** Plays the demo story (main/demo.ts), then serves its live phase until a signal stops it (or returns after the story with `live: false`). */
  demo(opts: DemoCommandOptions): Promise<void>;
  /** Opens (and migrates) the database: the configured one unless `db` is given. */
  openCatalog(db: string | undefined): Promise<{ store: ArticleStore; url: string; close(): Promise<void> }>;
  migrate(db: string | undefined): Promise<string>;
  deploy: DeployDeps;
  simulate: SimulateDeps;
  lab: EvalDeps;
  models: ModelDeps;
  data: DataDeps;
  readers: ReaderDeps;
  keys: KeyCliDeps;
  roi: Pick<RoiDeps, 'open'>;
  exports: ExportDeps;
}

/** Exit codes: 0 done, 1 done but some input rows were rejected, 2 bad usage or input, 3 failure. */
export const EXIT = { ok: 0, rejectedRows: 1, usage: 2, failure: 3 } as const;

const port = (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError('must be an integer between 0 and 65535');
  return n;
};

function summaryLine(source: string, s: ImportSummary): string {
  return `imported ${s.inserted + s.updated} articles from ${source} (${s.inserted} new, ${s.updated} updated), ${s.rejected.length} rejected of ${s.read} read`;
}

/**
 * Builds the `readnext` command tree. Every failure ends as exactly one line on stderr and an
 * exit code from EXIT, decided in `runCli`.
 */
export function buildProgram(deps: CliDeps, result: { code: number } = { code: EXIT.ok }): Command {
  const program = new Command('readnext')
    .description('Read-next recommendations for newsrooms: serve, collect, experiment, analyse.')
    .version(deps.version)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.out(s.trimEnd()), writeErr: () => undefined })
    // A command's options are its own only before its subcommands (commander otherwise reads them
    // after too): `roi --input` and `roi update --input` both exist. The program has no option but --version.
    .enablePositionalOptions();

  program
    .command('serve')
    .description('run the HTTP server (API, collector, admin)')
    .option('--db <url>', 'database URL (sqlite:PATH, sqlite::memory:, postgres://...); default READNEXT_DB or sqlite:./data/readnext.db')
    .option('--host <host>', 'interface to listen on; default READNEXT_HOST or 127.0.0.1')
    .option('--port <port>', 'port; default READNEXT_PORT or 8080', port)
    .option('--sim-clock', 'run on a simulated clock set through POST /v1/admin/sim-clock (simulations only; default READNEXT_SIM_CLOCK)')
    .action(async (o: { db?: string; host?: string; port?: number; simClock?: boolean }) => deps.serve(o));

  program
    .command('demo')
    .description(
      'play the story on a simulated newsroom (its own database, data/demo/): backfill, data report, ROI, a heuristic A/B test, a model in shadow, canary and A/B test, the ROI updated; then serve live simulated traffic with the dashboard (what `npm start` runs)',
    )
    .option('--fast', 'a shorter story (fewer readers and days)')
    .option('--world <file>', 'world JSON file, or the name of a shipped world (default: demo; null: recommendations change nothing)')
    .option('--seed <n>', 'random seed of the simulated newsroom (default: 1)', (v) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number');
      return Number(v);
    })
    .option(
      '--catalog <file>',
      "articles to play with (JSON lines, RSS/Atom, MIND, Wikipedia current events); default ../shared's when present, else generated; none: generated",
    )
    .option('--reset', 'start over (delete the demo database) instead of resuming the live demo')
    .option('--dir <dir>', 'directory of the demo database and state (default: data/demo)')
    .option('--host <host>', 'interface to listen on (default: 127.0.0.1)')
    .option('--port <port>', 'port (default: 8080)', port)
    .option('--no-live', 'exit after the story instead of serving live traffic')
    .action(async (o: DemoCommandOptions) => deps.demo(o));

  program
    .command('migrate')
    .description('apply pending database migrations and exit (the server also does this at start)')
    .option('--db <url>', 'database URL')
    .action(async (o: { db?: string }) => {
      deps.out(`migrated ${await deps.migrate(o.db)}`);
    });

  const imp = program.command('import').description('import data into the database');
  imp
    .command('articles')
    .description('import articles from a file or URL: JSON lines, RSS 2.0 / Atom, MIND news.tsv, Wikipedia current events')
    .argument('<source>', 'file path or http(s) URL')
    .addOption(new Option('--format <format>', 'input format (detected when omitted)').choices([...IMPORT_FORMATS]))
    .option('--rebase-dates', 'shift all dates so the newest article is published now, keeping their spacing')
    .option('--db <url>', 'database URL')
    .action(async (source: string, o: { format?: ImportFormat; rebaseDates?: boolean; db?: string }) => {
      // Loaded here, not at start: the feed parsers and the progress bar are this command's alone.
      const [{ importArticles }, { readArticles, resolveFormat }, { default: cliProgress }] = await Promise.all([
        import('../../app/catalog.js'),
        import('./import-articles.js'),
        import('cli-progress'),
      ]);
      const format = await resolveFormat(source, o.format);
      const now = deps.clock.now();
      const catalog = await deps.openCatalog(o.db);
      const bar = deps.isTty
        ? new cliProgress.SingleBar(
            { format: 'importing [{bar}] {value}/{total} articles', hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      let summary: ImportSummary;
      let started = false;
      try {
        summary = await importArticles(catalog.store, readArticles(source, format, now), {
          now,
          rebase: Boolean(o.rebaseDates),
          onProgress: (done, total) => {
            if (!bar) return;
            if (!started) {
              bar.start(total, 0);
              started = true;
            }
            bar.update(done);
          },
        });
      } finally {
        bar?.stop();
        await catalog.close();
      }
      for (const r of summary.rejected) deps.err(`${source}:${r.line}: ${r.field ? `${r.field}: ` : ''}${r.reason}`);
      deps.out(summaryLine(source, summary));
      if (summary.rejected.length > 0) result.code = EXIT.rejectedRows;
    });

  registerDeploy(program, deps.deploy);
  registerSimulate(program, deps.simulate);
  registerEval(program, deps.lab, (code) => (result.code = code));
  registerModel(program, deps.models);
  registerData(program, deps.data);
  registerReader(program, deps.readers);
  registerRetention(program, deps.readers);
  registerExport(program, deps.exports);
  registerRoi(program, {
    out: deps.out,
    open: (db) => deps.roi.open(db),
    fail: (code, line) => {
      deps.err(line);
      result.code = code;
    },
  });
  registerKeys(program, deps.keys);
  registerStats(program, {
    out: deps.out,
    fail: (code, line) => {
      deps.err(line);
      result.code = code;
    },
  });
  return program;
}

/** Runs the CLI and returns its exit code (the caller exits). */
export async function runCli(deps: CliDeps, argv: string[]): Promise<number> {
  const result: { code: number } = { code: EXIT.ok };
  const program = buildProgram(deps, result);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      deps.err(`readnext: ${e.message.replace(/^error: /, '').split('\n')[0]}`);
      return EXIT.usage;
    }
    if (isDomainError(e)) {
      deps.err(`readnext: ${e.message}`);
      return e.code === 'import_failed' || e.code === 'internal' || e.code === 'not_ready' ? EXIT.failure : EXIT.usage;
    }
    deps.err(`readnext: ${(e as Error).message ?? String(e)}`);
    return EXIT.failure;
  }
}
