import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Deployment, DeploymentAdmin } from '../../app/deploy-admin.js';
import type { Actor, AnalysisStore, PlacementStore, RecordStore } from '../../app/ports.js';
import { experimentReport } from '../../app/analysis.js';
import { interleavingReport, shadowReport } from '../../app/reports.js';
import { unbalancedPhase } from '../../core/experiments/experiment.js';
import { DomainError } from '../../core/kernel/errors.js';
import { parseIsoWithZone } from '../../core/kernel/time.js';
import { kindsMarkdown, type RecommenderRegistry } from '../../core/recommend/registry.js';
import { DEFAULT_EXPLORATION_POOL } from '../../core/recommend/placement.js';
import type { RecommenderConfig } from '../../core/recommend/types.js';
import type { RevenueCurrency } from '../../core/analysis/metrics.js';

/** What the deploy, experiment and shadow commands need: the deployments use case on the configured database. */
export interface DeployDeps {
  /** The recommender kinds this build knows (`readnext recommenders`). */
  registry: RecommenderRegistry;
  open(db: string | undefined): Promise<{
    deployments: DeploymentAdmin;
    records: RecordStore;
    audit: Pick<PlacementStore, 'listAudit'>;
    analysis: AnalysisStore;
    /** The configured rollup lag (READNEXT_ROLLUP_LAG_MS) and revenue currency (READNEXT_CURRENCY, READNEXT_FX_RATES). */
    rollup: { lagMs: number; money: RevenueCurrency };
    close(): Promise<void>;
  }>;
  actor: string;
  now(): number;
  out(line: string): void;
  readStdin(): Promise<string>;
}

/** "co-read@2" -> {kind: 'co-read', version: '2'}; params from --params JSON. */
function recommender(spec: string, params: string | undefined): RecommenderConfig {
  const m = /^([a-z][a-z0-9-]*)@([^\s@]{1,64})$/.exec(spec);
  if (!m) throw new DomainError('invalid_field', `recommender "${spec}" must be KIND@VERSION, e.g. co-read@2`, { field: 'recommender' });
  const rc: RecommenderConfig = { kind: m[1]!, version: m[2]! };
  if (params !== undefined) rc.params = json(params, '--params') as Record<string, unknown>;
  return rc;
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DomainError('invalid_json', `${what} is not valid JSON: ${(e as Error).message}`, { field: what });
  }
}

const number = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};

const summary = (p: Deployment) =>
  `${p.config.name}: revision ${p.revision}, live ${p.config.live.kind}@${p.config.live.version}` +
  (p.config.shadows.length ? `, shadows ${p.config.shadows.map((s) => `${s.kind}@${s.version}`).join(' ')}` : '') +
  (p.config.canary
    ? `, canary ${p.config.canary.recommender.kind}@${p.config.canary.recommender.version} on ${p.config.canary.percent}%`
    : '') +
  (p.config.exploration
    ? `, exploring ${+(p.config.exploration.share * 100).toFixed(2)}% of live slates (pool ${p.config.exploration.pool})`
    : '') +
  (p.experiments.length ? `, experiments ${p.experiments.map((e) => e.experiment.id).join(' ')}` : '');

/** Adds `recommenders`, `deploy`, `experiment`, `shadow` and `audit` to the program. */
export function registerDeploy(program: Command, deps: DeployDeps): void {
  const by = (why: string | undefined): Actor => ({ actor: deps.actor, reason: why ?? null });
  const withD = async <T>(db: string | undefined, f: (d: Awaited<ReturnType<DeployDeps['open']>>) => Promise<T>): Promise<T> => {
    const h = await deps.open(db);
    try {
      return await f(h);
    } finally {
      await h.close();
    }
  };
  const print = (v: unknown) => deps.out(JSON.stringify(v, null, 2));

  program
    .command('recommenders')
    .description('the recommender kinds this build knows, with their params (default, range, unit)')
    .option('--markdown', 'as the markdown table in the README')
    .action((o: { markdown?: boolean }) => {
      const kinds = deps.registry.kinds();
      if (o.markdown) return deps.out(kindsMarkdown(kinds).trimEnd());
      for (const k of kinds) {
        deps.out(`${k.kind}: ${k.doc}`);
        for (const [name, p] of Object.entries(k.params)) {
          const range =
            p.type === 'enum'
              ? `one of ${p.values.join(', ')}`
              : p.type === 'boolean'
                ? 'true or false'
                : `${p.min} to ${p.max}${p.unit ? ` ${p.unit}` : ''}`;
          deps.out(`  ${name} = ${String(p.default)} (${range}): ${p.doc}`);
        }
      }
    });

  const deploy = program.command('deploy').description('what each placement serves: live, shadows, canary; rollback; history');
  deploy
    .command('show')
    .argument('[placement]', 'placement name (all when omitted)')
    .option('--db <url>', 'database URL')
    .option('--json', 'print the full deployment as JSON')
    .description('show deployments')
    .action(async (placement: string | undefined, o: { db?: string; json?: boolean }) =>
      withD(o.db, async ({ deployments }) => {
        const list = placement ? [(await deployments.get(placement)) ?? missing(placement)] : await deployments.list();
        if (o.json) print(list.map((p) => ({ ...p.config, revision: p.revision })));
        else for (const p of list) deps.out(summary(p));
      }),
    );
  deploy
    .command('live')
    .argument('<placement>')
    .argument('<recommender>', 'KIND@VERSION, e.g. co-read@2')
    .option('--params <json>', 'recommender parameters as JSON')
    .option('--why <reason>', 'why (kept in the audit log)')
    .option('--db <url>', 'database URL')
    .description('make a recommender live on a placement')
    .action(async (placement: string, spec: string, o: { params?: string; why?: string; db?: string }) =>
      withD(o.db, async ({ deployments }) =>
        deps.out(summary(await deployments.setLive(placement, recommender(spec, o.params), by(o.why)))),
      ),
    );
  const shadow = deploy.command('shadow').description('shadow recommenders: computed on live requests and logged, never shown');
  for (const action of ['add', 'remove'] as const) {
    shadow
      .command(action)
      .argument('<placement>')
      .argument('<recommender>', 'KIND@VERSION')
      .option('--params <json>', 'recommender parameters as JSON (add)')
      .option('--why <reason>', 'why (kept in the audit log)')
      .option('--db <url>', 'database URL')
      .action(async (placement: string, spec: string, o: { params?: string; why?: string; db?: string }) =>
        withD(o.db, async ({ deployments }) => {
          const rc = recommender(spec, o.params);
          deps.out(
            summary(
              action === 'add'
                ? await deployments.addShadow(placement, rc, by(o.why))
                : await deployments.removeShadow(placement, rc, by(o.why)),
            ),
          );
        }),
      );
  }
  deploy
    .command('explore')
    .argument('<placement>')
    .option('--share <x>', 'share of live slates drawn at random from the pool, (0, 0.5]', number('--share'))
    .option('--pool <n>', `items the random slates draw from (default ${DEFAULT_EXPLORATION_POOL})`, number('--pool'))
    .option(
      '--shadow-share <x>',
      "share of explored slates that show one shadow's slate whole, [0, 1] (default 0)",
      number('--shadow-share'),
    )
    .option('--off', 'stop exploring')
    .option('--why <reason>', 'why (kept in the audit log)')
    .option('--db <url>', 'database URL')
    .description(
      'logged exploration: a share of live slates drawn at random from the live best items, with their propensities (for `readnext ope`)',
    )
    .action(
      async (placement: string, o: { share?: number; pool?: number; shadowShare?: number; off?: boolean; why?: string; db?: string }) =>
        withD(o.db, async ({ deployments }) => {
          if (o.off === true && (o.share !== undefined || o.pool !== undefined || o.shadowShare !== undefined))
            throw new DomainError('invalid_field', '--off takes no --share, --pool or --shadow-share', { field: 'off' });
          if (o.off !== true && o.share === undefined)
            throw new DomainError('missing_field', '--share is required (or --off)', { field: 'share' });
          const ex =
            o.off === true
              ? null
              : {
                  share: o.share,
                  pool: o.pool ?? DEFAULT_EXPLORATION_POOL,
                  ...(o.shadowShare === undefined ? {} : { shadowShare: o.shadowShare }),
                };
          deps.out(summary(await deployments.setExploration(placement, ex, by(o.why))));
        }),
    );
  const canary = deploy
    .command('canary')
    .description('a new recommender on a share of readers, rolled back automatically on a guardrail breach');
  canary
    .command('start')
    .argument('<placement>')
    .argument('<recommender>', 'KIND@VERSION')
    .requiredOption('--percent <n>', 'share of readers, (0, 50]', number('--percent'))
    .requiredOption('--max-error-rate <x>', 'guardrail: highest fault share, [0, 1]', number('--max-error-rate'))
    .requiredOption('--max-p99-ms <ms>', 'guardrail: highest p99 latency, milliseconds', number('--max-p99-ms'))
    .requiredOption('--min-ctr-ratio <x>', 'guardrail: lowest CTR as a fraction of live, [0, 1]', number('--min-ctr-ratio'))
    .option('--params <json>', 'recommender parameters as JSON')
    .option('--why <reason>', 'why (kept in the audit log)')
    .option('--db <url>', 'database URL')
    .action(
      async (
        placement: string,
        spec: string,
        o: { percent: number; maxErrorRate: number; maxP99Ms: number; minCtrRatio: number; params?: string; why?: string; db?: string },
      ) =>
        withD(o.db, async ({ deployments }) => {
          const c = {
            recommender: recommender(spec, o.params),
            percent: o.percent,
            guardrails: { maxErrorRate: o.maxErrorRate, maxP99LatencyMs: o.maxP99Ms, minCtrRatio: o.minCtrRatio },
          };
          deps.out(summary(await deployments.startCanary(placement, c, by(o.why))));
        }),
    );
  canary
    .command('stop')
    .argument('<placement>')
    .option('--why <reason>', 'why (kept in the audit log)')
    .option('--db <url>', 'database URL')
    .action(async (placement: string, o: { why?: string; db?: string }) =>
      withD(o.db, async ({ deployments }) => deps.out(summary(await deployments.stopCanary(placement, by(o.why))))),
    );
  deploy
    .command('rollback')
    .argument('[placement]', 'placement name', 'read-next')
    .option('--to <revision>', 'revision to restore (default: the previous one)', (v) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError('--to must be a revision number');
      return Number(v);
    })
    .option('--why <reason>', 'why (kept in the audit log)')
    .option('--db <url>', 'database URL')
    .description('restore an earlier deployment as a new revision')
    .action(async (placement: string, o: { to?: number; why?: string; db?: string }) =>
      withD(o.db, async ({ deployments }) => deps.out(summary(await deployments.rollback(placement, o.to, by(o.why))))),
    );
  deploy
    .command('history')
    .argument('[placement]', 'placement name', 'read-next')
    .option('--db <url>', 'database URL')
    .action(async (placement: string, o: { db?: string }) =>
      withD(o.db, async ({ deployments }) => {
        for (const r of await deployments.history(placement)) {
          deps.out(
            `${r.revision}\t${new Date(r.updatedTs).toISOString()}\t${r.actor}\tlive ${r.config.live.kind}@${r.config.live.version}\t${r.reason ?? ''}`,
          );
        }
      }),
    );

  const exp = program.command('experiment').description('A/B/n and interleaving experiments on a placement');
  exp
    .command('create')
    .requiredOption('--file <path>', 'experiment definition as JSON (- = stdin)')
    .option('--why <reason>', 'why (kept in the audit log)')
    .option('--db <url>', 'database URL')
    .action(async (o: { file: string; why?: string; db?: string }) =>
      withD(o.db, async ({ deployments }) => {
        const text =
          o.file === '-'
            ? await deps.readStdin()
            : await readFile(o.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
                throw new DomainError('invalid_field', `cannot read ${o.file}: ${e.code ?? e.message}`, { field: 'file' });
              });
        const e = await deployments.createExperiment(json(text, o.file), by(o.why));
        deps.out(`created experiment ${e.id} (draft) on ${e.placement}: arms ${e.arms.map((a) => `${a.name}=${a.weight}`).join(' ')}`);
      }),
    );
  for (const action of ['start', 'stop'] as const) {
    exp
      .command(action)
      .argument('<id>')
      .option('--why <reason>', 'why (kept in the audit log)')
      .option('--db <url>', 'database URL')
      .action(async (id: string, o: { why?: string; db?: string }) =>
        withD(o.db, async ({ deployments }) => {
          const e = action === 'start' ? await deployments.startExperiment(id, by(o.why)) : await deployments.stopExperiment(id, by(o.why));
          deps.out(`experiment ${e.id}: ${e.status}, phase ${e.phase}`);
        }),
      );
  }
  exp
    .command('weights')
    .argument('<id>')
    .option('--weights <list>', 'comma-separated weights, one per arm (sum 1 ± 0.001)')
    .option('--coverage <x>', 'audience share, [0, 1]', number('--coverage'))
    .option('--re-randomise', 'draw arms afresh in the new phase (default: readers keep their arm)')
    .option('--why <reason>', 'why (kept in the audit log)')
    .option('--db <url>', 'database URL')
    .description('change weights or audience; on a running experiment this starts a new phase')
    .action(async (id: string, o: { weights?: string; coverage?: number; reRandomise?: boolean; why?: string; db?: string }) =>
      withD(o.db, async ({ deployments }) => {
        const weights = o.weights === undefined ? undefined : o.weights.split(',').map((w) => number('--weights')(w));
        const e = await deployments.changeExperiment(id, { weights, coverage: o.coverage, reRandomise: o.reRandomise }, by(o.why));
        deps.out(`experiment ${e.id}: phase ${e.phase}, weights ${e.arms.map((a) => a.weight).join(',')}, coverage ${e.coverage}`);
        const warning = e.phase > 0 ? unbalancedPhase(e, e.phase) : null;
        if (warning) deps.out(`warning: ${warning}`);
      }),
    );
  exp
    .command('status')
    .argument('<id>')
    .option('--db <url>', 'database URL')
    .action(async (id: string, o: { db?: string }) =>
      withD(o.db, async ({ deployments, records }) => {
        const e = (await deployments.experiments()).getExperiment(id)?.experiment;
        if (!e) throw new DomainError('not_found', `no experiment "${id}"`, { field: 'id' });
        const extra =
          e.kind === 'interleaving' && e.phase > 0
            ? { interleaving: await interleavingReport(records, e.id, e.phase, [e.arms[0]!.name, e.arms[1]!.name]) }
            : {};
        print({ ...e, ...extra });
      }),
    );
  exp
    .command('report')
    .argument('<id>')
    .addOption(
      new Option('--engine <engine>', 'statistics engine').choices(['frequentist', 'sequential', 'bayesian']).default('frequentist'),
    )
    .option('--phase <n>', 'phase (default: the current one)', (v) => Number(v))
    .option('--revenue-cap <amount>', 'cap revenue per reader (winsorising), major units', number('--revenue-cap'))
    .option('--no-cuped', 'no CUPED adjustment')
    .option('--json', 'print the whole report as JSON')
    .option('--db <url>', 'database URL')
    .description(
      'a decision per treatment arm (ship, do not ship, keep running, untrustworthy), SRM, data quality and business metrics per arm',
    )
    .action(
      async (
        id: string,
        o: {
          engine: 'frequentist' | 'sequential' | 'bayesian';
          phase?: number;
          revenueCap?: number;
          cuped: boolean;
          json?: boolean;
          db?: string;
        },
      ) =>
        withD(o.db, async ({ deployments, analysis, rollup }) => {
          const r = await experimentReport(await deployments.experiments(), analysis, { now: deps.now }, id, {
            engine: o.engine,
            phase: o.phase,
            revenueCap: o.revenueCap,
            cuped: o.cuped,
            rollup,
          });
          if (o.json) return print(r);
          deps.out(
            `experiment ${r.experiment}, phase ${r.phase}, ${new Date(r.fromTs).toISOString()} to ${new Date(r.toTs).toISOString()}, ${r.engine}; events received until ${new Date(r.dataThroughTs).toISOString()} are in`,
          );
          deps.out(
            `readers per arm: ${r.srm.observed.map((n, i) => `${r.metrics[0]?.arms[i]?.arm ?? i}=${n}`).join(' ')}; SRM p = ${r.srm.pValue.toPrecision(3)}${r.srm.flag ? ' (SAMPLE RATIO MISMATCH: do not trust the results)' : ''}`,
          );
          const q = r.dataQuality.activeShare;
          deps.out(
            `readers with a page view after exposure: ${q.arms.map((a) => `${a.arm} ${a.share === null ? '-' : (a.share * 100).toFixed(1) + '%'}`).join(' ')}; ${q.note ?? `p = ${q.pValue.toPrecision(3)}`}${q.flag ? ' (ONE-SIDED DATA LOSS: do not trust the results)' : ''}`,
          );
          for (const t of r.trust) deps.out(`DO NOT TRUST THESE RESULTS: ${t.message}`);
          for (const d of r.decisions) deps.out(`decision for ${d.arm}: ${d.decision.replaceAll('_', ' ').toUpperCase()}: ${d.sentence}`);
          deps.out(
            `primary ${r.design.primaryMetric}; guardrails ${r.design.guardrailMetrics.join(', ') || 'none'} (one-sided at alpha ${r.alpha}); secondary ${r.design.secondaryMetrics.join(', ') || 'none'} (Holm-adjusted, do not decide)`,
          );
          for (const g of r.guardrails) {
            deps.out(
              `serving ${g.arm}: ${g.responses} responses, error rate ${g.errorRate === null ? '-' : (g.errorRate * 100).toFixed(2) + '%'}, mean latency ${g.meanLatencyMs === null ? '-' : g.meanLatencyMs.toFixed(3) + ' ms'}`,
            );
          }
          for (const m of r.metrics) {
            deps.out(
              `${m.name} (${m.role}): ${m.arms.map((a) => `${a.arm} ${a.value === null ? '-' : a.value.toPrecision(4)}`).join(', ')}`,
            );
            for (const c of m.comparisons) deps.out(`  ${c.verdict}`);
          }
          deps.out(`revenue in ${r.revenue.currency}`);
          for (const u of r.revenue.unpriced)
            deps.out(
              `  NOT INCLUDED (${u.currency} has no rate in READNEXT_FX_RATES): ${u.arm} ${u.events} subscribe events, ${u.amount} ${u.currency}`,
            );
        }),
    );
  exp
    .command('list')
    .option('--db <url>', 'database URL')
    .action(async (o: { db?: string }) =>
      withD(o.db, async ({ deployments }) => {
        for (const { experiment: e } of (await deployments.experiments()).listExperiments())
          deps.out(`${e.id}\t${e.status}\tphase ${e.phase}\t${e.kind}\t${e.placement}\t${e.arms.map((a) => a.name).join(',')}`);
      }),
    );

  program
    .command('shadow')
    .description('shadow recommenders vs live')
    .command('report')
    .argument('[placement]', 'placement name', 'read-next')
    .option('--since <iso>', 'from this time (default: the last 24 hours)')
    .option('--db <url>', 'database URL')
    .action(async (placement: string, o: { since?: string; db?: string }) =>
      withD(o.db, async ({ records }) => {
        const since = o.since === undefined ? deps.now() - 24 * 3_600_000 : parseIsoWithZone(o.since);
        if (since === undefined)
          throw new DomainError('invalid_field', `--since "${o.since}" is not an ISO 8601 time with a zone, on a day that exists`, {
            field: 'since',
          });
        print(await shadowReport(records, placement, since));
      }),
    );

  program
    .command('ope')
    .description("off-policy evaluation: a candidate's clicks per slate estimated from the placement's logged exploration")
    .requiredOption('--placement <name>', 'the placement whose explored traffic is the log')
    .requiredOption('--candidate <recommender>', 'KIND@VERSION: live or a shadow on the placement in the window')
    .option('--since <iso>', 'from this time (default: the last 7 days)')
    .option('--until <iso>', 'to this time, excluded (default: now)')
    .option('--json', 'print the report as JSON')
    .option('--db <url>', 'database URL')
    .action(async (o: { placement: string; candidate: string; since?: string; until?: string; json?: boolean; db?: string }) =>
      withD(o.db, async ({ records }) => {
        const time = (v: string | undefined, field: 'since' | 'until', fallback: number): number => {
          if (v === undefined) return fallback;
          const t = parseIsoWithZone(v);
          if (t === undefined)
            throw new DomainError('invalid_field', `--${field} "${v}" is not an ISO 8601 time with a zone, on a day that exists`, {
              field,
            });
          return t;
        };
        const until = time(o.until, 'until', deps.now());
        const since = time(o.since, 'since', until - 7 * 86_400_000);
        const c = recommender(o.candidate, undefined);
        const { offPolicyEstimate } = await import('../../app/ope.js');
        const r = await offPolicyEstimate(records, { placement: o.placement, candidate: c, sinceTs: since, untilTs: until });
        if (o.json) return print(r);
        deps.out(
          `${r.placement}: ${r.rounds} logged slates of ${r.slateSize} items shown (${r.explored} explored); ` +
            `live ${r.live.recommender} earned ${r.live.clicksPerSlate.toFixed(4)} clicks per slate [${r.live.ci.map((x) => x.toFixed(4)).join(', ')}]`,
        );
        for (const [name, e] of Object.entries(r.estimates)) {
          if (!e.ok) deps.out(`  ${name.padEnd(6)} refused: ${e.reason}`);
          else {
            const x = e.estimate;
            deps.out(
              `  ${name.padEnd(6)} ${r.candidate}: ${x.perSlate.value.toFixed(4)} clicks per slate [${x.perSlate.ci.map((v) => v.toFixed(4)).join(', ')}], ` +
                `${x.perItem.value.toFixed(4)} per item; n ${x.n}, ESS ${x.ess.toFixed(0)}, support ${(100 * x.support).toFixed(1)}%`,
            );
          }
        }
        if (Object.values(r.estimates).every((e) => !e.ok))
          throw new DomainError(
            'invalid_state',
            `no estimator could evaluate ${r.candidate}: ${Object.values(r.estimates).map((e) => (e.ok ? '' : e.reason))[1]}`,
          );
      }),
    );

  program
    .command('audit')
    .description('the audit log of deployments and experiments, newest first')
    .option('--target <target>', 'e.g. placement:read-next or experiment:ID')
    .option('--limit <n>', 'entries', (v) => Number(v), 50)
    .option('--db <url>', 'database URL')
    .action(async (o: { target?: string; limit: number; db?: string }) =>
      withD(o.db, async ({ audit }) => {
        for (const a of await audit.listAudit({ limit: o.limit, target: o.target }))
          deps.out(`${new Date(a.ts).toISOString()}\t${a.actor}\t${a.action}\t${a.target}\t${a.reason ?? ''}`);
      }),
    );
}

function missing(placement: string): never {
  throw new DomainError('unknown_placement', `unknown placement "${placement}"`, { field: 'placement' });
}
