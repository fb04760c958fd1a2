/**
 * `readnext simulate`: a simulated newsroom (a world file) drives the platform through an
 * experiment, and the report is printed beside the truth (every arm run alone over the same seeded
 * readers). Registered with the command tree; everything it runs (the world, the orchestrator, the
 * progress bar, the catalog parsers) is imported when the command runs, so `readnext --help` loads
 * none of it. The JSON contract is app/sim-experiment.ts simulationJson. Tests:
 * test/main/simulate-cli.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Article } from '../../core/catalog/article.js';
import { DomainError, isDomainError } from '../../core/kernel/errors.js';
import { DAY_MS } from '../../core/kernel/time.js';
import type { Engine } from '../../core/stats/compare.js';
import type { SimTarget } from '../../app/sim-control.js';
import type { SimulationJson } from '../../app/sim-experiment.js';

/** What `simulate` needs from the composition root: the targets it drives and where the shipped worlds are. */
export interface SimulateDeps {
  out(line: string): void;
  err(line: string): void;
  /** A progress bar is drawn only on a terminal. */
  isTty: boolean;
  /** The time MIND catalog rows are dated with (they carry none); the world rebases catalog dates anyway. */
  now(): number;
  /** The file of a shipped world by its bare name (`default`, `null`, `tie`, `small-effect`), or null when there is none. */
  shippedWorld(name: string): string | null;
  /** The names of the shipped worlds, for the error message. */
  shippedWorlds(): string[];
  /** An in-process target on `db`, or on a fresh temporary SQLite database (removed on close) when `db` is undefined. */
  openInProcess(o: { db?: string; startTs: number }): Promise<SimTarget>;
  /** A running `readnext serve --sim-clock`. */
  openHttp(o: { url: string; adminKey: string; ingestKey: string }): Promise<SimTarget>;
}

interface SimulateOptions {
  world: string;
  experiment?: string;
  readers?: number;
  days?: number;
  warmupDays: number;
  seed: number;
  db?: string;
  json?: boolean;
  server?: string;
  adminKey?: string;
  ingestKey?: string;
  catalog?: string;
  engine: Engine;
  looks: 'final' | 'daily';
}

const integer = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be an integer of at least ${min}`);
  return n;
};

/** Reads a file as text; an unreadable file is a usage error naming the option. */
async function text(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new DomainError(
      'invalid_field',
      `${option} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      {
        field: option,
      },
    );
  }
}

function json(source: string, option: string, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new DomainError('invalid_json', `${option} ${source}: not valid JSON (${(e as Error).message})`, { field: option });
  }
}

/** A world's or an experiment's validation error, as one line naming the option, the file and the field (its JSON path). */
function fieldError(option: string, source: string, e: unknown): never {
  if (isDomainError(e)) {
    const field = e.field ?? '';
    const message = field && !e.message.includes(field) ? `${field}: ${e.message}` : e.message;
    throw new DomainError(e.code, `${option} ${source}: ${message}`, { field: field || option });
  }
  throw e;
}

/** Adds `simulate` to the program. */
export function registerSimulate(program: Command, deps: SimulateDeps): void {
  program
    .command('simulate')
    .description('run a simulated newsroom through an experiment on the platform and print the report beside the true effects')
    .requiredOption('--world <file>', 'world JSON file, or the name of a shipped world: default, null, tie, small-effect')
    .option('--experiment <file>', "experiment JSON (as `experiment create` takes it); default the world's")
    .option('--readers <n>', "readers in the population; default the world's", integer('--readers', 1))
    .option('--days <d>', "simulated days; default the world's", integer('--days', 1))
    .option(
      '--warmup-days <d>',
      'simulated days before the experiment starts, the control live for everyone and logged; an arm {"kind":"model","version":"trained"} gets the model trained on them',
      integer('--warmup-days', 0),
      0,
    )
    .option('--seed <s>', 'random seed: the same seed gives the same run', integer('--seed', 0), 1)
    .option(
      '--catalog <file>',
      "a real catalog (JSON lines, RSS/Atom, MIND, Wikipedia current events) instead of the world's generated articles",
    )
    .addOption(
      new Option('--engine <engine>', 'statistics engine of the report')
        .choices(['frequentist', 'sequential', 'bayesian'])
        .default('frequentist'),
    )
    .addOption(
      new Option('--looks <looks>', 'report looks: the final one only, or one per simulated day (the JSON shows the final)')
        .choices(['final', 'daily'])
        .default('final'),
    )
    .option('--db <url>', 'run in process on this database (default: a fresh temporary SQLite)')
    .option('--server <url>', 'drive a running `readnext serve --sim-clock` over HTTP instead')
    .option('--admin-key <key>', 'admin key of --server')
    .option('--ingest-key <key>', 'ingest key of --server')
    .option('--json', 'print the result as JSON: {"metrics":[{metric, arm, estimate, ci, truth}], "verdict": ...}')
    .action(async (o: SimulateOptions) => simulate(deps, o));
}

async function simulate(deps: SimulateDeps, o: SimulateOptions): Promise<void> {
  if (o.server !== undefined && o.db !== undefined)
    throw new DomainError('invalid_field', '--db and --server exclude each other', { field: '--db' });
  if (o.server !== undefined && (!o.adminKey || !o.ingestKey))
    throw new DomainError('missing_field', '--server needs --admin-key and --ingest-key', {
      field: o.adminKey ? '--ingest-key' : '--admin-key',
    });
  // Loaded here, not at start: the world, the orchestrator and the bar are this command's alone.
  const [{ parseWorld }, sim, { parseExperiment }] = await Promise.all([
    import('../../core/simulate/world.js'),
    import('../../app/sim-experiment.js'),
    import('../../core/experiments/experiment.js'),
  ]);

  // 1. Inputs, each validated before anything runs.
  const file = /[/\\]|\.json$/i.test(o.world) ? o.world : deps.shippedWorld(o.world);
  if (file === null)
    throw new DomainError(
      'invalid_field',
      `--world: no shipped world "${o.world}" (one of ${deps.shippedWorlds().join(', ')}, or a file path)`,
      {
        field: '--world',
      },
    );
  const worldJson = json(file, '--world', await text(file, '--world'));
  let world: Awaited<ReturnType<typeof parseWorld>>;
  try {
    world = parseWorld(worldJson);
  } catch (e) {
    fieldError('--world', file, e);
  }
  const experiment = o.experiment === undefined ? undefined : json(o.experiment, '--experiment', await text(o.experiment, '--experiment'));
  const startTs = sim.simStartTs(world);
  let arms: number;
  try {
    arms = parseExperiment(experiment ?? world.experiment, startTs + o.warmupDays * DAY_MS).arms.length;
  } catch (e) {
    fieldError('--experiment', o.experiment!, e);
  }
  const catalog = o.catalog === undefined ? undefined : await readCatalog(deps, o.catalog);
  const run = { world, experiment, seed: o.seed, readers: o.readers, days: o.days, warmupDays: o.warmupDays, catalog };

  // 2. The experiment on the chosen platform, then the truth (fresh in-process targets, one per arm).
  const progress = await bar(deps.isTty, 1 + arms);
  let result: Awaited<ReturnType<typeof sim.runSimExperiment>>;
  let truth: Awaited<ReturnType<typeof sim.simGroundTruth>>;
  try {
    const target =
      o.server !== undefined
        ? await deps.openHttp({ url: o.server, adminKey: o.adminKey!, ingestKey: o.ingestKey! })
        : await deps.openInProcess({ db: o.db, startTs: startTs });
    try {
      result = await sim.runSimExperiment(target, { ...run, engine: o.engine, looks: o.looks, onProgress: (s) => progress.update(s) });
    } finally {
      await target.close();
    }
    truth = await sim.simGroundTruth(() => deps.openInProcess({ startTs: startTs }), {
      ...run,
      onProgress: (s) => progress.update(1 + s * arms),
    });
  } finally {
    progress.stop();
  }

  // 3. The report beside the truth.
  const out = sim.simulationJson({
    world: world.name,
    seed: o.seed,
    readers: o.readers ?? world.readers.count,
    days: o.days ?? world.days,
    warmupDays: o.warmupDays,
    model: result.model,
    experimentId: result.experimentId,
    report: result.reports.at(-1)!,
    truth,
  });
  if (o.json) deps.out(JSON.stringify(out, null, 2));
  else for (const line of table(out)) deps.out(line);
}

/** Articles of a catalog file through the importers' parsers (format detected); rejected rows are counted on stderr. */
async function readCatalog(deps: SimulateDeps, source: string): Promise<Article[]> {
  const { readArticles, resolveFormat } = await import('./import-articles.js');
  const format = await resolveFormat(source, undefined).catch((e: unknown) => {
    throw isDomainError(e) ? new DomainError(e.code, `--catalog: ${e.message}`, { field: '--catalog' }) : e;
  });
  const articles: Article[] = [];
  let rejected = 0;
  for await (const r of readArticles(source, format, deps.now())) {
    if (r.result.ok) articles.push(r.result.article);
    else rejected++;
  }
  if (articles.length === 0) throw new DomainError('invalid_field', `--catalog ${source}: no valid article`, { field: '--catalog' });
  if (rejected > 0) deps.err(`readnext: --catalog ${source}: ${rejected} rows rejected, ${articles.length} articles used`);
  return articles;
}

/** A progress bar over `total` units of work on a terminal's stderr; nothing elsewhere. */
async function bar(tty: boolean, total: number): Promise<{ update(done: number): void; stop(): void }> {
  if (!tty) return { update: () => undefined, stop: () => undefined };
  const { default: cliProgress } = await import('cli-progress');
  const b = new cliProgress.SingleBar(
    { format: 'simulating [{bar}] {percentage}% (experiment, then the truth of each arm)', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  b.start(total * 1000, 0);
  return { update: (done) => b.update(Math.round(Math.min(total, done) * 1000)), stop: () => b.stop() };
}

const num = (v: number | null, digits = 4): string => (v === null ? '-' : Number(v.toPrecision(digits)).toString());
const pct = (v: number | null): string => (v === null ? '-' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);

/** The readable form: one row per metric and arm, the effect beside each treatment, then the verdict. */
export function table(j: SimulationJson): string[] {
  const level = `${Math.round((1 - j.alpha) * 100)}% CI`;
  const rows = [['metric', 'arm', 'estimate', level, 'truth', 'effect', `effect ${level}`, 'true effect', 'covered']];
  for (const m of j.metrics)
    rows.push([
      m.metric,
      m.arm,
      num(m.estimate),
      m.ci ? `[${num(m.ci[0])}, ${num(m.ci[1])}]` : '-',
      num(m.truth),
      m.effect ? pct(m.effect.estimate) : '',
      m.effect ? `[${pct(m.effect.ci[0])}, ${pct(m.effect.ci[1])}]` : '',
      m.effect ? pct(m.effect.truth) : '',
      m.effect ? (m.effect.covered === null ? '-' : m.effect.covered ? 'yes' : 'no') : '',
    ]);
  for (const t of j.truthOnly) rows.push([t.metric, t.arm, '-', '-', num(t.truth), '', '', '', '']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const v = j.verdict;
  const warmup = j.warmupDays > 0 ? ` after ${j.warmupDays} warm-up day${j.warmupDays === 1 ? '' : 's'}` : '';
  const model = j.model
    ? [
        `model ${j.model.version} trained on the warm-up's logs: ${j.model.trainExamples} examples (click rate ${num(j.model.trainClickRate, 3)}), AUC ${num(j.model.auc)} on their latest 20%`,
      ]
    : [];
  return [
    `world ${j.world}, seed ${j.seed}${j.readers === null ? '' : `, ${j.readers} readers`}${j.days === null ? '' : `, ${j.days} day${j.days === 1 ? '' : 's'}`}${warmup}; experiment ${j.experiment}, ${j.engine} engine, alpha ${j.alpha}`,
    ...model,
    ...rows.map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
    `verdict on ${v.primaryMetric}: ${Object.entries(v.decision)
      .map(([arm, d]) => `${arm} ${d}`)
      .join(', ')}; the newsroom serves ${v.pick}; truly best: ${v.truthBest} (${v.correct ? 'correct' : 'wrong'})`,
  ];
}
