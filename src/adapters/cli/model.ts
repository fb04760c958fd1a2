/**
 * `readnext train` and `readnext model list|show|compare|delete`: the learned ranker's training
 * use case and its registry (src/app/training.ts). Registered with the command tree; the use case,
 * the GBDT and the progress bar are imported when a command runs, so `readnext --help` loads none
 * of them. Tests: test/adapters/cli/model.test.ts.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { ArticleStore, ModelStore, PlacementStore } from '../../app/ports.js';
import { DomainError } from '../../core/kernel/errors.js';
import type { ModelSummary } from '../../core/ml/model.js';

/** What the model commands need from the composition root. */
export interface ModelDeps {
  out(line: string): void;
  err(line: string): void;
  isTty: boolean;
  now(): number;
  /** The registry and the stored events: the configured database unless `db` is given. */
  open(db: string | undefined): Promise<{
    models: ModelStore & Pick<PlacementStore, 'listPlacements' | 'listExperiments'>;
    articles: Pick<ArticleStore, 'articlesStoredSince'>;
    close(): Promise<void>;
  }>;
}

const DAY_MS = 86_400_000;

/** `2026-01-05` (UTC midnight) or an ISO 8601 time with a zone. */
function date(option: string) {
  return (v: string): number => {
    const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    const ms = day ? Date.UTC(+day[1]!, +day[2]! - 1, +day[3]!) : Date.parse(v);
    const valid =
      Number.isFinite(ms) && (day ? new Date(ms).toISOString().startsWith(v) : /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(v));
    if (!valid) throw new InvalidArgumentError(`${option} must be a day (2026-01-05, UTC) or an ISO 8601 time with a zone`);
    return ms;
  };
}

const integer = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be an integer of at least ${min}`);
  return n;
};

const iso = (ms: number) => new Date(ms).toISOString();
const fixed = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));

function summaryLine(m: ModelSummary): string {
  return `${String(m.version).padStart(4)}  ${m.placement}  ${iso(m.createdTs)}  ${iso(m.window.sinceTs)} .. ${iso(m.window.untilTs)}  seed ${m.seed}  AUC ${fixed(m.metrics.auc)}  ${m.metrics.trainExamples} examples  ${Math.round(m.sizeBytes / 1024)} KiB`;
}

async function withStore<T>(deps: ModelDeps, db: string | undefined, f: (s: Awaited<ReturnType<ModelDeps['open']>>) => Promise<T>) {
  const s = await deps.open(db);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

export function registerModel(program: Command, deps: ModelDeps): void {
  program
    .command('train')
    .description('train a ranker for a placement from the stored events and store it in the model registry (served as kind "model")')
    .requiredOption('--placement <name>', 'the placement whose impressions are the examples')
    .option('--since <date>', 'first day or time of the training window (default: 7 days before --until)', date('--since'))
    .option('--until <date>', 'end of the training window, excluded (default: now)', date('--until'))
    .option('--seed <n>', 'seed of the trees (default 1)', integer('--seed', 0), 1)
    .option('--rounds <n>', 'boosting rounds at most (default 200)', integer('--rounds', 1))
    .option(
      '--early-stopping <rounds>',
      'stop once the latest 10% of the training slice has not improved for this many rounds; 0 = off (default 10, on above 10,000 examples)',
      integer('--early-stopping', 0),
    )
    .option('--json', "print the stored model's summary as JSON")
    .option('--db <url>', 'database URL')
    .action(
      async (o: {
        placement: string;
        since?: number;
        until?: number;
        seed: number;
        rounds?: number;
        earlyStopping?: number;
        json?: boolean;
        db?: string;
      }) => {
        const [{ trainModel }, { default: cliProgress }] = await Promise.all([import('../../app/training.js'), import('cli-progress')]);
        const bar = deps.isTty
          ? new cliProgress.SingleBar(
              { format: '{stage} [{bar}] {percentage}% {detail}', hideCursor: true },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
        const m = await withStore(deps, o.db, async (s) => {
          // Now once the database is open: on a simulated one, its simulated time (main/cli-deps.ts).
          const until = o.until ?? deps.now();
          const since = o.since ?? until - 7 * DAY_MS;
          if (!(until > since)) throw new DomainError('invalid_field', '--until must be after --since', { field: 'until' });
          bar?.start(100, 0, { stage: 'replaying events', detail: '' });
          try {
            return await trainModel(
              { models: s.models, articles: s.articles, clock: { now: deps.now }, timer: () => performance.now() },
              {
                placement: o.placement,
                sinceTs: since,
                untilTs: until,
                seed: o.seed,
                ...(o.rounds === undefined ? {} : { gbdt: { rounds: o.rounds } }),
                ...(o.earlyStopping === undefined ? {} : { earlyStopping: o.earlyStopping === 0 ? 'off' : { rounds: o.earlyStopping } }),
                onProgress: (p) => {
                  if (!bar) return;
                  if (p.stage === 'events')
                    bar.update(Math.floor(p.share * 100), { stage: 'replaying events', detail: `${p.events} events` });
                  else
                    bar.update(Math.floor((p.round / p.rounds) * 100), {
                      stage: 'training trees  ',
                      detail: `round ${p.round}/${p.rounds}`,
                    });
                },
              },
            );
          } finally {
            bar?.stop();
          }
        });
        const { model: _trees, ...summary } = m;
        if (o.json) {
          deps.out(JSON.stringify(summary, null, 2));
          return;
        }
        deps.out(
          `stored model ${m.version} for placement "${m.placement}": AUC ${fixed(m.metrics.auc)} on the later ${m.metrics.testImpressions} impressions ` +
            `(trained on ${m.metrics.trainExamples} examples of ${m.metrics.trainImpressions} impressions in ${m.metrics.trainSeconds.toFixed(1)} s, ` +
            `${m.model.trees.length} trees${m.metrics.earlyStopping ? `: early stopping at round ${m.metrics.earlyStopping.bestRound} on the latest ${m.metrics.earlyStopping.validationExamples} examples` : ''}); ` +
            `deploy it with: readnext deploy shadow add ${m.placement} model@${m.version}`,
        );
      },
    );

  const model = program.command('model').description('the model registry: models trained with `readnext train`');
  model
    .command('list')
    .description('list the stored models, newest first')
    .option('--placement <name>', 'only the models of this placement')
    .option('--json', 'print JSON')
    .option('--db <url>', 'database URL')
    .action(async (o: { placement?: string; json?: boolean; db?: string }) => {
      const { ModelRegistry } = await import('../../app/training.js');
      const list = await withStore(deps, o.db, (s) => new ModelRegistry(s.models).list(o.placement));
      if (o.json) deps.out(JSON.stringify(list, null, 2));
      else if (list.length === 0) deps.out('no models (train one with: readnext train --placement NAME)');
      else for (const m of list) deps.out(summaryLine(m));
    });

  model
    .command('show')
    .description('a model: its window, seed, feature spec, offline metrics and feature importances')
    .argument('<version>', 'model version', integer('version', 1))
    .option('--json', 'print JSON')
    .option('--db <url>', 'database URL')
    .action(async (version: number, o: { json?: boolean; db?: string }) => {
      const { ModelRegistry } = await import('../../app/training.js');
      const m = await withStore(deps, o.db, (s) => new ModelRegistry(s.models).show(version));
      if (o.json) {
        deps.out(JSON.stringify(m, null, 2));
        return;
      }
      deps.out(summaryLine(m));
      deps.out(`features v${m.featureSpec.version} (${m.featureSpec.names.length}), ${m.trees} trees`);
      deps.out(
        `test slice from ${iso(m.metrics.testFromTs)}: ${m.metrics.testExamples} examples, click rate ${fixed(m.metrics.testClickRate)}, AUC ${fixed(m.metrics.auc)}, log loss ${fixed(m.metrics.testLogLoss)}`,
      );
      deps.out(
        `single-feature AUC: ${Object.entries(m.metrics.featureAuc)
          .map(([k, v]) => `${k} ${fixed(v, 3)}`)
          .join(', ')}`,
      );
      const total = m.importance.reduce((a, b) => a + b.gain, 0) || 1;
      deps.out('importance (share of split gain):');
      for (const f of m.importance.filter((x) => x.gain > 0)) deps.out(`  ${f.feature.padEnd(22)} ${((100 * f.gain) / total).toFixed(1)}%`);
    });

  model
    .command('compare')
    .description('two models side by side: windows, metrics and feature importances')
    .argument('<v1>', 'model version', integer('v1', 1))
    .argument('<v2>', 'model version', integer('v2', 1))
    .option('--json', 'print JSON')
    .option('--db <url>', 'database URL')
    .action(async (v1: number, v2: number, o: { json?: boolean; db?: string }) => {
      const { ModelRegistry } = await import('../../app/training.js');
      const [a, b] = await withStore(deps, o.db, (s) => new ModelRegistry(s.models).compare(v1, v2));
      if (o.json) {
        deps.out(JSON.stringify([a, b], null, 2));
        return;
      }
      const row = (name: string, x: string, y: string) => deps.out(`${name.padEnd(24)} ${x.padStart(26)} ${y.padStart(26)}`);
      row('', `model ${a.version}`, `model ${b.version}`);
      row('placement', a.placement, b.placement);
      row('since', iso(a.window.sinceTs), iso(b.window.sinceTs));
      row('until', iso(a.window.untilTs), iso(b.window.untilTs));
      row('seed', String(a.seed), String(b.seed));
      row('features', `v${a.featureSpec.version}`, `v${b.featureSpec.version}`);
      row('trees', String(a.trees), String(b.trees));
      row('train examples', String(a.metrics.trainExamples), String(b.metrics.trainExamples));
      row('test AUC', fixed(a.metrics.auc), fixed(b.metrics.auc));
      row('test log loss', fixed(a.metrics.testLogLoss), fixed(b.metrics.testLogLoss));
      row('size KiB', String(Math.round(a.sizeBytes / 1024)), String(Math.round(b.sizeBytes / 1024)));
      const share = (m: typeof a) => {
        const total = m.importance.reduce((s, f) => s + f.gain, 0) || 1;
        return new Map(m.importance.map((f) => [f.feature, (100 * f.gain) / total]));
      };
      const sa = share(a);
      const sb = share(b);
      for (const f of a.importance.slice(0, 8))
        row(`  ${f.feature}`, `${(sa.get(f.feature) ?? 0).toFixed(1)}%`, `${(sb.get(f.feature) ?? 0).toFixed(1)}%`);
      if (a.window.untilTs !== b.window.untilTs || a.placement !== b.placement)
        deps.out('note: the test slices differ (other window or placement): their AUCs are not measured on the same impressions');
    });

  model
    .command('delete')
    .description('delete a model no deployment or experiment uses')
    .argument('<version>', 'model version', integer('version', 1))
    .option('--db <url>', 'database URL')
    .action(async (version: number, o: { db?: string }) => {
      const { ModelRegistry } = await import('../../app/training.js');
      await withStore(deps, o.db, (s) => new ModelRegistry(s.models).delete(version));
      deps.out(`deleted model ${version}`);
    });
}
