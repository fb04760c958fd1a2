/**
 * `readnext eval`: the offline lab. Scores recommenders on MIND-format logs (`--format mind`) or
 * on readnext's own stored events (`--format events`), with the protocols and metrics of
 * src/core/lab (docs/lab.md). Registered with the command tree; the lab itself is imported when
 * the command runs, so `readnext --help` loads none of it. Tests: test/main/eval-cli.test.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { LabEventStore } from '../../app/ports.js';
import { DomainError } from '../../core/kernel/errors.js';
import type { ImpressionMetrics } from '../../core/lab/metrics.js';
import type { ProtocolResult, Protocol } from '../../core/lab/protocols.js';
import type { ScorerFactory } from '../../core/lab/types.js';
import type { Article } from '../../core/catalog/article.js';

/** What `eval` needs from the composition root. */
export interface EvalDeps {
  out(line: string): void;
  err(line: string): void;
  /** The scorers the lab can run by name, and the names `--recommender all` runs. */
  scorers(): Promise<{ factories: ReadonlyMap<string, ScorerFactory>; all: readonly string[] }>;
  /** readnext's stored events (`--format events`): the configured database unless `db` is given. */
  openEvents(db: string | undefined): Promise<{ events: LabEventStore; close(): Promise<void> }>;
}

interface EvalOptions {
  format: 'mind' | 'events';
  train?: string;
  test?: string;
  recommender?: string[];
  protocol: Protocol;
  seed: number;
  predictions?: string;
  json?: boolean;
  db?: string;
  split?: string;
  k: number;
}

/** One recommender's figures, as `--json` prints them. */
export interface EvalResultJson {
  recommender: string;
  auc: number | null;
  mrr: number | null;
  ndcg5: number | null;
  ndcg10: number | null;
  impressions: number;
  scored: number;
  skipped: number;
  aucScored: number;
  unlabelled: number;
}

const integer = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be an integer of at least ${min}`);
  return n;
};

const usage = (field: string, message: string) => new DomainError('invalid_field', message, { field });

async function text(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw usage(option, `${option} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

const fixed = (v: number | null) => (v === null ? '-' : v.toFixed(4));

function resultJson(label: string, r: ProtocolResult): EvalResultJson {
  const m: ImpressionMetrics = r.metrics;
  return { recommender: label, auc: m.auc, mrr: m.mrr, ndcg5: m.ndcg5, ndcg10: m.ndcg10, ...r.counts };
}

function table(rows: EvalResultJson[]): string[] {
  const width = Math.max(11, ...rows.map((r) => r.recommender.length));
  const head = `${'recommender'.padEnd(width)}  ${['AUC', 'MRR', 'nDCG@5', 'nDCG@10'].map((h) => h.padStart(7)).join('  ')}  ${'scored'.padStart(7)}  ${'skipped'.padStart(7)}`;
  return [
    head,
    ...rows.map(
      (r) =>
        `${r.recommender.padEnd(width)}  ${[r.auc, r.mrr, r.ndcg5, r.ndcg10].map((v) => fixed(v).padStart(7)).join('  ')}  ${String(r.scored).padStart(7)}  ${String(r.skipped).padStart(7)}`,
    ),
  ];
}

/** Resolves `--recommender` values (default `all`) to labelled factories; unknown names are usage errors. */
async function chooseScorers(deps: EvalDeps, specs: readonly string[]) {
  const { parseScorerSpec } = await import('../../core/lab/heuristic.js');
  const { factories, all } = await deps.scorers();
  const chosen: { label: string; factory: ScorerFactory; config: Record<string, unknown> }[] = [];
  for (const spec of specs.length === 0 ? ['all'] : specs) {
    if (spec.trim() === 'all') {
      for (const name of all) chosen.push({ label: name, factory: factories.get(name)!, config: {} });
      continue;
    }
    const p = parseScorerSpec(spec);
    if ('error' in p) throw usage('recommender', `--recommender ${p.error}`);
    const factory = factories.get(p.kind);
    if (!factory) throw usage('recommender', `--recommender ${p.kind}: unknown; known: all, ${[...factories.keys()].join(', ')}`);
    chosen.push({ label: spec.trim(), factory, config: p.config });
  }
  return chosen;
}

/** Builds each scorer, naming the recommender in any config error. */
function build(
  c: { label: string; factory: ScorerFactory; config: Record<string, unknown> },
  articles: ReadonlyMap<string, Article>,
  seed: number,
) {
  try {
    return c.factory(c.config, { articles, seed });
  } catch (e) {
    throw usage('recommender', `--recommender ${c.label}: ${(e as Error).message}`);
  }
}

export function registerEval(program: Command, deps: EvalDeps, setCode: (code: number) => void): void {
  program
    .command('eval')
    .description('offline lab: score recommenders on MIND logs or on stored events (AUC, MRR, nDCG@5, nDCG@10; docs/lab.md)')
    .addOption(
      new Option('--format <format>', 'mind: MIND-format --train and --test directories; events: this database, split in time')
        .choices(['mind', 'events'])
        .makeOptionMandatory(),
    )
    .option('--train <dir>', 'mind: directory with news.tsv and behaviors.tsv to fit on')
    .option('--test <dir>', 'mind: directory with news.tsv and behaviors.tsv to score (labels optional: without them, predictions only)')
    .option(
      '--recommender <kind[:json]>',
      'a recommender kind with optional JSON params (popular:{"halfLifeMinutes":60}), `random`, or `all` (random, every heuristic, the model when there is one); repeatable; default all',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addOption(
      new Option(
        '--protocol <protocol>',
        'replay: the test log in time order, each outcome observed after it is scored; static: fit on train, then score',
      )
        .choices(['replay', 'static'])
        .default('replay'),
    )
    .option('--seed <n>', 'seed of ties and random scorers', integer('--seed', 0), 1)
    .option(
      '--predictions <file>',
      'mind: write the MIND submission (`ImpressionID [r1,r2,...]`, 1-based ranks in candidate order, one line per test impression in log order) of the first --recommender (with `all`: random)',
    )
    .option('--json', 'print the figures as JSON')
    .option('--db <url>', 'events: database URL')
    .option('--split <iso>', 'events: ISO 8601 time with a zone; events before it train, from it on test')
    .option('--k <n>', 'events: cut-off of the next-read replay (recall@k, MRR@k)', integer('--k', 1), 10)
    .addHelpText(
      'after',
      '\nExit codes: 0 done; 1 done, but some input lines were malformed (each reported as FILE:LINE: reason); 2 bad usage or input.',
    )
    .action(async (o: EvalOptions) => {
      if (o.format === 'mind') await evalMind(deps, o, setCode);
      else await evalEvents(deps, o);
    });
}

async function evalMind(deps: EvalDeps, o: EvalOptions, setCode: (code: number) => void): Promise<void> {
  for (const opt of ['train', 'test'] as const) if (o[opt] === undefined) throw usage(opt, `--${opt} DIR is required with --format mind`);
  if (o.split !== undefined) throw usage('split', '--split is for --format events');
  const chosen = await chooseScorers(deps, o.recommender ?? []);
  const read = async (opt: 'train' | 'test', file: string) => {
    const path = join(o[opt]!, file);
    return { name: path, text: await text(path, `--${opt}`) };
  };
  const [trainNews, trainBehaviors, testNews, testBehaviors] = await Promise.all([
    read('train', 'news.tsv'),
    read('train', 'behaviors.tsv'),
    read('test', 'news.tsv'),
    read('test', 'behaviors.tsv'),
  ]);
  const [{ loadMindLogs }, { runProtocol, predictionsText }] = await Promise.all([
    import('../../core/lab/mind.js'),
    import('../../core/lab/protocols.js'),
  ]);
  const logs = loadMindLogs({ trainNews, trainBehaviors, testNews, testBehaviors });
  for (const p of logs.problems) deps.err(p);
  if (logs.test.length === 0) throw usage('test', `--test ${testBehaviors.name}: no impression could be loaded`);

  const results: EvalResultJson[] = [];
  let predictionRanks: number[][] | undefined;
  for (const c of chosen) {
    const scorer = build(c, logs.articles, o.seed);
    const r = await runProtocol(scorer, logs.train, logs.test, logs.articles, { protocol: o.protocol, seed: o.seed });
    predictionRanks ??= r.ranks;
    results.push(resultJson(c.label, r));
  }
  if (o.predictions !== undefined) {
    try {
      await writeFile(o.predictions, predictionsText(logs.test, predictionRanks!));
    } catch (e) {
      throw usage(
        'predictions',
        `--predictions ${o.predictions}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
  const input = {
    malformedLines: logs.counts.malformed,
    duplicateImpressions: logs.counts.duplicates,
    unknownArticles: logs.unknownArticles,
  };
  if (o.json) {
    deps.out(
      JSON.stringify(
        {
          format: 'mind',
          protocol: o.protocol,
          seed: o.seed,
          train: { impressions: logs.train.length },
          test: { impressions: logs.test.length },
          input,
          predictions: o.predictions === undefined ? null : { file: o.predictions, recommender: results[0]!.recommender },
          results,
        },
        null,
        2,
      ),
    );
  } else {
    deps.out(
      `mind, protocol ${o.protocol}, seed ${o.seed}: train ${logs.train.length} impressions, test ${logs.test.length}; ` +
        `${input.malformedLines} malformed lines, ${input.duplicateImpressions} duplicate impression ids skipped, ${input.unknownArticles} articles without a news row`,
    );
    for (const line of table(results)) deps.out(line);
    if (o.predictions !== undefined) deps.out(`predictions of ${results[0]!.recommender} written to ${o.predictions}`);
  }
  if (logs.counts.malformed > 0) setCode(1);
}

async function evalEvents(deps: EvalDeps, o: EvalOptions): Promise<void> {
  for (const opt of ['train', 'test', 'predictions'] as const) if (o[opt] !== undefined) throw usage(opt, `--${opt} is for --format mind`);
  if (o.split === undefined) throw usage('split', '--split ISO is required with --format events');
  const { parseIsoWithZone } = await import('../../core/kernel/time.js');
  const split = parseIsoWithZone(o.split);
  if (split === undefined) throw usage('split', `--split ${o.split}: not an ISO 8601 time with a zone (e.g. 2026-01-01T00:00:00Z)`);
  const chosen = await chooseScorers(deps, o.recommender ?? []);
  const { evaluateEvents } = await import('../../app/lab.js');
  const source = await deps.openEvents(o.db);
  let report: Awaited<ReturnType<typeof evaluateEvents>>;
  try {
    report = await evaluateEvents(source.events, {
      split,
      k: o.k,
      protocol: o.protocol,
      seed: o.seed,
      scorers: chosen.map((c) => ({ label: c.label, build: (articles: ReadonlyMap<string, Article>) => build(c, articles, o.seed) })),
    });
  } finally {
    await source.close();
  }
  if (report.test.impressions === 0 && report.test.reads === 0)
    throw usage('split', `--split ${o.split}: no impression or read stored from then on`);
  const results = report.results.map((r) => ({ ...resultJson(r.label, r.impressions), nextRead: r.nextRead }));
  if (o.json) {
    deps.out(
      JSON.stringify(
        { format: 'events', protocol: o.protocol, seed: o.seed, split: o.split, k: o.k, train: report.train, test: report.test, results },
        null,
        2,
      ),
    );
    return;
  }
  deps.out(
    `events split at ${o.split}, protocol ${o.protocol}, seed ${o.seed}: train ${report.train.impressions} impressions, ${report.train.reads} reads; test ${report.test.impressions} impressions, ${report.test.reads} reads`,
  );
  for (const line of table(results)) deps.out(line);
  deps.out(`next-read replay (k = ${o.k}):`);
  const width = Math.max(11, ...results.map((r) => r.recommender.length));
  deps.out(
    `${'recommender'.padEnd(width)}  ${`recall@${o.k}`.padStart(9)}  ${`MRR@${o.k}`.padStart(9)}  ${'coverage'.padStart(9)}  ${'reads'.padStart(7)}`,
  );
  for (const r of results)
    deps.out(
      `${r.recommender.padEnd(width)}  ${fixed(r.nextRead.recall).padStart(9)}  ${fixed(r.nextRead.mrr).padStart(9)}  ${fixed(r.nextRead.coverage).padStart(9)}  ${String(r.nextRead.reads).padStart(7)}`,
    );
}
