/**
 * `readnext roi` (issue 19): the ROI of the scenarios under uncertainty.
 *
 *   readnext roi --input FILE|- [--json] [--db URL]   analyse a scenario document (the CLI contract)
 *   readnext roi init                                  print the newspaper template
 *   readnext roi update --input FILE|- [--name N] [--json] [--db URL]
 *                                                      replace measured priors by posteriors, store the revision
 *   readnext roi history [--name N] [--json] [--db URL]
 *
 * The `--json` output of `roi --input` is a stable contract (outside checks use it):
 * {"options":{"a":{"mean","quantiles","p_positive","p_best"},...},"best","evpi","evpi_se","evppi":{...},"evppi_se":{...}}
 * (plus fields a person or the dashboard reads). An invalid document exits 2 with one line naming
 * the field. Tests: test/adapters/cli/roi.test.ts.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { RoiRevision, RoiStore } from '../../app/ports.js';
import { analyseScenario, measurementsOf, updateScenario, type InputUpdate, type RoiResult, type RoiSourceDeps } from '../../app/roi.js';
import { DomainError, isDomainError } from '../../core/kernel/errors.js';
import { newspaperTemplate } from '../../core/roi/template.js';

const USAGE = 2;

export interface RoiDeps {
  out(line: string): void;
  /** Records the exit code and prints the one error line (stderr). */
  fail(code: number, line: string): void;
  /** A file, or standard input for `-`. */
  readInput?(path: string): Promise<string>;
  /** Opens the database for measurements and revisions. */
  open(db: string | undefined): Promise<{ sources: RoiSourceDeps; store: RoiStore; close(): Promise<void> }>;
}

async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const money = (x: number, currency: string | null): string => {
  const a = Math.abs(x);
  const s = a >= 1e6 ? `${(a / 1e6).toFixed(2)}M` : a >= 1e3 ? `${(a / 1e3).toFixed(1)}k` : a.toFixed(a >= 10 ? 0 : 2);
  return `${x < 0 ? '−' : ''}${s}${currency ? ` ${currency}` : ''}`;
};
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The analysis as a person reads it. */
export function roiText(r: RoiResult): string[] {
  const c = r.currency;
  const lines: string[] = [];
  const names = Object.keys(r.options);
  const w = Math.max(6, ...names.map((n) => n.length));
  lines.push(
    `${'option'.padEnd(w)}  ${'mean'.padStart(12)}  ${'5%'.padStart(12)}  ${'median'.padStart(12)}  ${'95%'.padStart(12)}  P(>0)   P(best)`,
  );
  for (const n of names) {
    const o = r.options[n]!;
    lines.push(
      `${n.padEnd(w)}  ${money(o.mean, c).padStart(12)}  ${money(o.quantiles.p5, c).padStart(12)}  ${money(o.quantiles.p50, c).padStart(12)}  ${money(o.quantiles.p95, c).padStart(12)}  ${pct(o.p_positive).padStart(6)}  ${pct(o.p_best).padStart(6)}`,
    );
  }
  lines.push(`best on expected value: ${r.best} (${r.samples.toLocaleString('en-US')} samples, seed ${r.seed})`);
  lines.push(`EVPI ${money(r.evpi, c)} ± ${money(r.evpi_se, c)}: what knowing every input exactly would be worth`);
  const top = r.ranking.filter((n) => r.evppi[n]! > 2 * r.evppi_se[n]!);
  lines.push("EVPPI (what removing one input's uncertainty is worth), highest first:");
  for (const n of r.ranking.slice(0, 8))
    lines.push(`  ${n.padEnd(30)} ${money(r.evppi[n]!, c).padStart(12)} ± ${money(r.evppi_se[n]!, c)}`);
  lines.push(
    top.length > 0
      ? `lift this uncertainty first: ${top[0]}`
      : "no single input's uncertainty is worth lifting (every EVPPI is within 2 standard errors of 0)",
  );
  const t = r.planned_test;
  if (t) {
    const b = t.best;
    lines.push(
      b.n === 0
        ? `a planned A/B test of ${t.input} does not pay at any size up to ${t.table.at(-1)!.n.toLocaleString('en-US')} readers per arm (EVPPI ${money(t.evppi, c)})`
        : `a planned A/B test of ${t.input} pays best with ${b.n.toLocaleString('en-US')} readers per arm: EVSI ${money(b.evsi, c)} ± ${money(b.evsi_se, c)} for a cost of ${money(b.cost, c)} (net ${money(b.net, c)}; EVPPI ${money(t.evppi, c)})`,
    );
  }
  for (const u of r.updates)
    lines.push(
      `updated ${u.parameter} from ${u.source} (${u.method}${u.ess !== undefined ? `, ESS ${Math.round(u.ess)}` : ''}): prior ${u.prior.mean.toPrecision(3)} ± ${u.prior.sd.toPrecision(3)} -> posterior ${u.posterior.mean.toPrecision(3)} ± ${u.posterior.sd.toPrecision(3)}`,
    );
  return lines;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DomainError('invalid_field', `input: not valid JSON: ${(e as Error).message.split('\n')[0]}`, { field: 'input' });
  }
}

/** What a revision's history line shows: the best option, each option's P(best), EVPI, the updated inputs. */
function historyLine(r: RoiRevision<unknown, InputUpdate[], RoiResult>): string {
  const res = r.result;
  const pb = Object.entries(res.options)
    .map(([n, o]) => `${n} ${pct(o.p_best)}`)
    .join(', ');
  const ups = r.sources.map((u) => `${u.parameter} ${u.posterior.mean.toPrecision(3)} ± ${u.posterior.sd.toPrecision(3)}`).join('; ');
  return `#${r.id} ${new Date(r.createdTs).toISOString()} best ${res.best}; P(best) ${pb}; EVPI ${money(res.evpi, res.currency)}${ups ? `; ${ups}` : ''}`;
}

export function registerRoi(program: Command, deps: RoiDeps): Command {
  const read = deps.readInput ?? readInput;
  const guard =
    <A extends unknown[]>(f: (...a: A) => Promise<void>) =>
    async (...a: A): Promise<void> => {
      try {
        await f(...a);
      } catch (e) {
        if (isDomainError(e)) return deps.fail(USAGE, `readnext: ${e.message}`);
        throw e;
      }
    };
  const load = async (path: string): Promise<unknown> => {
    let text: string;
    try {
      text = await read(path);
    } catch (e) {
      throw new DomainError('invalid_field', `input: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        field: 'input',
      });
    }
    return parseJson(text);
  };

  const roi = program
    .command('roi')
    // `roi --input` and `roi update --input` both: options before a subcommand are roi's, after it the subcommand's.
    .enablePositionalOptions()
    .description('ROI of the scenarios under uncertainty: Monte Carlo, P(best), EVPI and per-input EVPPI (see `roi init`)')
    .option('--input <file>', 'scenario document (JSON); - reads standard input')
    .option('--json', 'print the result as JSON: {"options":{...},"best","evpi","evpi_se","evppi":{...},"evppi_se":{...}}')
    .option('--db <url>', 'database to resolve {"dist":"measured"} inputs from')
    .action(
      guard(async (o: { input?: string; json?: boolean; db?: string }) => {
        if (o.input === undefined)
          throw new DomainError(
            'invalid_field',
            'input: required (--input FILE, or - for standard input); `readnext roi init` prints a template',
            { field: 'input' },
          );
        const doc = await load(o.input);
        // Measured inputs need the database; priors as written otherwise (`roi update` applies measured_by).
        const needsDb = JSON.stringify(doc).includes('"measured"');
        let result: RoiResult;
        if (needsDb && o.db !== undefined) {
          const d = await deps.open(o.db);
          try {
            const measured = await measurementsOf(doc, d.sources, { measuredBy: false });
            result = analyseScenario(doc, measured);
          } finally {
            await d.close();
          }
        } else result = analyseScenario(doc);
        if (o.json) deps.out(JSON.stringify(result));
        else for (const l of roiText(result)) deps.out(l);
      }),
    );

  roi
    .command('init')
    .description('print the newspaper template: status quo, heuristic and model, every input uncertain (edit the ranges)')
    .action(() => deps.out(JSON.stringify(newspaperTemplate(), null, 2)));

  roi
    .command('update')
    .description(
      'replace the priors of measured inputs (measured_by) by their posteriors from experiments, off-policy estimates or offline evaluations; store the revision',
    )
    .requiredOption('--input <file>', 'scenario document (JSON); - reads standard input')
    .option('--name <name>', 'revision series (default: the document\'s name, else "default")')
    .option('--json', 'print the revision as JSON')
    .option('--db <url>', 'database URL')
    .action(
      guard(async (o: { input: string; name?: string; json?: boolean; db?: string }) => {
        const doc = await load(o.input);
        const d = await deps.open(o.db);
        try {
          const { revision, previous } = await updateScenario(doc, { ...d.sources, store: d.store }, { name: o.name });
          if (o.json)
            return deps.out(
              JSON.stringify({ revision: revision.id, name: revision.name, previous: previous?.id ?? null, result: revision.result }),
            );
          for (const l of roiText(revision.result)) deps.out(l);
          if (previous) {
            const moved = Object.entries(revision.result.options)
              .map(([n, x]) => `${n} ${pct(previous.result.options[n]?.p_best ?? NaN)} -> ${pct(x.p_best)}`)
              .join(', ');
            deps.out(`P(best) since revision #${previous.id}: ${moved}; best ${previous.result.best} -> ${revision.result.best}`);
          }
          deps.out(`stored revision #${revision.id} of "${revision.name}"`);
        } finally {
          await d.close();
        }
      }),
    );

  roi
    .command('history')
    .description('the stored revisions: how the uncertainty and the decision moved')
    .option('--name <name>', 'revision series (default: all)')
    .option('--json', 'print the revisions as JSON')
    .option('--db <url>', 'database URL')
    .action(
      guard(async (o: { name?: string; json?: boolean; db?: string }) => {
        const d = await deps.open(o.db);
        try {
          const revs = (await d.store.listRoiRevisions(o.name)) as RoiRevision<unknown, InputUpdate[], RoiResult>[];
          if (o.json)
            return deps.out(
              JSON.stringify(revs.map((r) => ({ id: r.id, name: r.name, createdTs: r.createdTs, sources: r.sources, result: r.result }))),
            );
          if (revs.length === 0) return deps.out('no revisions yet: `readnext roi update --input FILE` stores one');
          for (const r of revs) deps.out(historyLine(r));
        } finally {
          await d.close();
        }
      }),
    );
  return roi;
}
