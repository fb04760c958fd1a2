import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/adapters/cli/program.js';
import type { ExperimentReport } from '../../src/app/analysis.js';
import type { SimTarget } from '../../src/app/sim-control.js';
import { runSimExperiment, type SimulationJson } from '../../src/app/sim-experiment.js';
import { loadConfig } from '../../src/config/config.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { parseWorld } from '../../src/core/simulate/world.js';
import { cliDeps } from '../../src/main/cli-deps.js';
import { startServer, type RunningServer } from '../../src/main/server.js';
import { httpTarget, openInProcessTarget } from '../../src/main/sim-target.js';
import { tempDir } from '../helpers/databases.js';

const dir = tempDir();
const cleanups: (() => Promise<void> | void)[] = [() => dir.remove()];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A small world: the default newsroom with 300 readers over one day. */
const TINY = { name: 'tiny', readers: { count: 300 }, days: 1 };
const file = (name: string, body: unknown) => {
  const path = join(dir.path, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
};
const tiny = file('tiny.json', TINY);
const ADMIN = 'sim-cli-admin-key-0123456789abcdef';
const INGEST = 'sim-cli-ingest-key-0123456789abcdef';

/** Runs `readnext ARGS` in process and captures its output. */
async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    cliDeps({
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      isTty: false,
      clock: fixedClock(Date.parse('2026-12-05T12:00:00Z')),
      env: {},
    }),
    args,
  );
  return { code, out: out.join('\n'), errLines: err };
}

/** Every number anywhere in a JSON value. */
const numbers = (v: unknown): number[] =>
  typeof v === 'number' ? [v] : Array.isArray(v) ? v.flatMap(numbers) : v && typeof v === 'object' ? Object.values(v).flatMap(numbers) : [];

describe('readnext simulate', () => {
  it('--json: one entry per metric and arm, the estimate inside its interval, every number finite, and the verdict', async () => {
    const r = await cli('simulate', '--world', tiny, '--seed', '3', '--json');
    expect(r.errLines).toEqual([]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as SimulationJson;
    expect(j).toMatchObject({
      world: 'tiny',
      seed: 3,
      readers: 300,
      days: 1,
      warmupDays: 0,
      model: null,
      experiment: 'default-latest-vs-co-read',
      engine: 'frequentist',
    });
    expect(numbers(j).every(Number.isFinite)).toBe(true);
    const arms = ['control', 'co-read'];
    const metrics = ['ctr', 'articles_read', 'pages_per_session', 'dwell_per_read', 'conversion', 'revenue_per_reader'];
    expect(j.metrics.map((m) => `${m.metric}/${m.arm}`)).toEqual(metrics.flatMap((m) => arms.map((a) => `${m}/${a}`)));
    for (const m of j.metrics) {
      expect(Object.keys(m).slice(0, 5)).toEqual(['metric', 'arm', 'estimate', 'ci', 'truth']);
      expect(typeof m.estimate).toBe('number');
      expect(typeof m.truth).toBe('number');
      const [lo, hi] = m.ci!;
      expect(lo).toBeLessThanOrEqual(m.estimate!);
      expect(m.estimate!).toBeLessThanOrEqual(hi);
      if (m.arm === 'control') expect(m.effect).toBeUndefined();
      else {
        expect(m.effect!.ci[0]).toBeLessThanOrEqual(m.effect!.ci[1]);
        expect(m.effect!.covered).toBe(m.effect!.ci[0] <= m.effect!.truth! && m.effect!.truth! <= m.effect!.ci[1]);
      }
    }
    expect(j.truthOnly.map((t) => `${t.metric}/${t.arm}`)).toEqual(arms.map((a) => `ad_revenue_per_reader/${a}`));
    expect(j.verdict.primaryMetric).toBe('articles_read');
    expect(Object.keys(j.verdict.decision)).toEqual(['co-read']);
    expect(['ship', 'do_not_ship', 'keep_running', 'untrustworthy']).toContain(j.verdict.decision['co-read']);
    expect(arms).toContain(j.verdict.truthBest);
    expect(j.verdict.correct).toBe(j.verdict.pick === j.verdict.truthBest);

    // The same seed, the same output; the table shows the same figures.
    const again = await cli('simulate', '--world', tiny, '--seed', '3', '--json');
    expect(JSON.parse(again.out)).toEqual(j);
    const table = await cli('simulate', '--world', tiny, '--seed', '3');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^world tiny, seed 3, 300 readers, 1 day; experiment default-latest-vs-co-read/);
    expect(table.out).toMatch(/^articles_read +co-read +\S+ +\[\S+, \S+\] +\S+ +[+-]\d/m);
    expect(table.out).toMatch(/^verdict on articles_read: co-read (ship|do_not_ship|keep_running|untrustworthy); the newsroom serves /m);
  }, 120_000);

  it('takes a shipped world by its name', async () => {
    const r = await cli('simulate', '--world', 'null', '--readers', '200', '--days', '1', '--json');
    expect(r.errLines).toEqual([]);
    const j = JSON.parse(r.out) as SimulationJson;
    expect(j).toMatchObject({ world: 'null', readers: 200, days: 1 });
    // The null world: every arm's truth is the same.
    for (const m of j.metrics.filter((x) => x.effect)) expect(m.effect!.truth).toBeCloseTo(0, 12);
  }, 120_000);

  it('--warmup-days: the experiment starts after them, and says so', async () => {
    const r = await cli('simulate', '--world', tiny, '--warmup-days', '1', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as SimulationJson;
    expect(j).toMatchObject({ days: 1, warmupDays: 1, model: null });
    const table = await cli('simulate', '--world', tiny, '--warmup-days', '1');
    expect(table.out).toMatch(/^world tiny, seed 1, 300 readers, 1 day after 1 warm-up day; experiment /);
  }, 120_000);

  it('--catalog: a real catalog through the importers, its rejected rows counted on stderr', async () => {
    const src = fileURLToPath(new URL('../fixtures/catalog-sample.jsonl', import.meta.url));
    const r = await cli('simulate', '--world', tiny, '--catalog', src, '--json');
    expect(r.code).toBe(0);
    expect(r.errLines).toEqual([`readnext: --catalog ${src}: 2 rows rejected, 3 articles used`]);
    expect((JSON.parse(r.out) as SimulationJson).metrics).toHaveLength(12);
  }, 120_000);

  it('bad input: exit code 2 and one line naming the field', async () => {
    const cases: [string[], RegExp][] = [
      [['--world', file('bad.json', { readers: { count: -5 } })], /readers\.count/],
      [['--world', file('unknown.json', { readerz: 1 })], /readerz/],
      [['--world', file('arm.json', { experiment: { id: 'x', placement: 'read-next', arms: [{ name: 'a' }] } })], /experiment\.arms/],
      [['--world', file('syntax.json', '{"days": ')], /--world .*syntax\.json: not valid JSON/],
      [['--world', join(dir.path, 'missing.json')], /^readnext: --world \S+missing\.json: cannot read it \(ENOENT\)$/],
      [
        ['--world', 'no-such-world'],
        /--world: no shipped world "no-such-world" \(one of default, demo, drift, noise, null, small-effect, tie/,
      ],
      [['--world', tiny, '--readers', 'many'], /--readers must be an integer/],
      [['--world', tiny, '--readers', '0'], /--readers must be an integer of at least 1/],
      [['--world', tiny, '--experiment', join(dir.path, 'nope.json')], /--experiment .*nope\.json: cannot read it/],
      [
        ['--world', tiny, '--experiment', file('exp.json', { id: 'e', placement: 'read-next', arms: [] })],
        /^readnext: --experiment \S+exp\.json: arms must be/,
      ],
      [['--world', tiny, '--catalog', join(dir.path, 'none.jsonl')], /^readnext: --catalog: cannot read \S+none\.jsonl: ENOENT$/],
      [['--world', tiny, '--server', 'http://127.0.0.1:9'], /--server needs --admin-key and --ingest-key/],
      [['--world', tiny, '--warmup-days', '-1'], /--warmup-days must be an integer of at least 0/],
      [
        ['--world', tiny, '--experiment', fileURLToPath(new URL('../../worlds/experiments/model-vs-co-read.json', import.meta.url))],
        /^readnext: an arm serves the model trained in this run \(version "trained"\): it needs warm-up days .*\(--warmup-days\)$/,
      ],
    ];
    for (const [args, line] of cases) {
      const r = await cli('simulate', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errLines, args.join(' ')).toHaveLength(1);
      expect(r.errLines[0], args.join(' ')).toMatch(line);
    }
  });
});

/** What a report measured, per arm and per comparison (not when it was taken). */
function figures(r: ExperimentReport) {
  return r.metrics.map((m) => ({
    metric: m.metric,
    arms: m.arms,
    comparisons: m.comparisons.map((c) => ({
      arm: c.arm,
      estimate: c.estimate,
      se: c.se,
      ci: c.ci,
      pValue: c.pValue,
      decides: c.significant,
    })),
  }));
}

/** Equal counts exactly, and every other number to 1e-9. */
function expectSame(a: unknown, b: unknown, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isInteger(a) && Number.isInteger(b)) expect(b, path).toBe(a);
    else expect(b, path).toBeCloseTo(a, 9);
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    expect(Object.keys(b as object), path).toEqual(Object.keys(a as object));
    for (const k of Object.keys(a as object))
      expectSame((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
  } else expect(b, path).toEqual(a);
}

describe('the same seed over HTTP and in process', () => {
  const world = parseWorld(TINY);
  const start = Date.parse(world.startDate);

  async function server(name: string): Promise<RunningServer> {
    const config = loadConfig(
      {
        db: `sqlite:${join(dir.path, name)}`,
        port: 0,
        adminKey: ADMIN,
        ingestKey: INGEST,
        logLevel: 'silent',
        sqliteSynchronous: 'NORMAL',
        simClock: true,
      },
      {},
    );
    const s = await startServer(config, () => undefined);
    cleanups.push(() => s.stop());
    return s;
  }

  it('gives the same report numbers (HttpTarget against InProcessTarget)', async () => {
    const run = async (target: SimTarget) => {
      try {
        return await runSimExperiment(target, { world, seed: 21, looks: 'daily' });
      } finally {
        await target.close();
      }
    };
    const s = await server('http-vs-process.db');
    const overHttp = await run(httpTarget({ url: s.url, adminKey: ADMIN, ingestKey: INGEST }));
    const inProcess = await run(await openInProcessTarget({ startTs: start }));
    expect(overHttp.tally).toEqual(inProcess.tally);
    const [h, p] = [overHttp.reports.at(-1)!, inProcess.reports.at(-1)!];
    expect(h.srm.observed).toEqual(p.srm.observed);
    expect(h.srm.observed.reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
    expect(h.decisions).toEqual(p.decisions);
    expect([h.fromTs, h.toTs, h.dataThroughTs]).toEqual([p.fromTs, p.toTs, p.dataThroughTs]);
    expectSame(figures(p), figures(h));
  }, 180_000);

  it('readnext simulate --server gives the output the in-process run gives', async () => {
    const s = await server('cli-server.db');
    const overHttp = await cli(
      'simulate',
      '--world',
      tiny,
      '--seed',
      '4',
      '--json',
      '--server',
      s.url,
      '--admin-key',
      ADMIN,
      '--ingest-key',
      INGEST,
    );
    expect(overHttp.errLines).toEqual([]);
    const inProcess = await cli('simulate', '--world', tiny, '--seed', '4', '--json');
    expectSame(JSON.parse(inProcess.out), JSON.parse(overHttp.out));
  }, 180_000);
});
