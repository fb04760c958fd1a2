/**
 * `readnext roi` (issue 19): the CLI contract (JSON in, JSON out, exit 2 with one line naming the
 * field), the template, and the loop with production (`roi update` reading an experiment's report
 * from the database, storing revisions, `roi history`).
 *
 * Closed forms (tolerance: 3 Monte Carlo standard errors, as the issue asks): two options a = 0,
 * b = p1 − p2 with p1 ~ N(1, 1), p2 ~ N(0, 2): b ~ N(1, √5), so
 *   EVPI = μΦ(μ/σ) + σφ(μ/σ) − max(0, μ)        with μ = 1, σ = √5,
 *   EVPPI(p1) = Φ(1) + φ(1) − 1                 (E[b | p1] = p1),
 *   EVPPI(p2) = Φ(½) + 2φ(½) − 1               (E[b | p2] = 1 − p2 ~ N(1, 2)).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/adapters/cli/program.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { normalCdf, normalPdf } from '../../../src/core/stats/distributions.js';
import { cliDeps } from '../../../src/main/cli-deps.js';
import { tempDir } from '../../helpers/databases.js';

const dir = tempDir();
afterAll(() => dir.remove());
const db = `sqlite:${join(dir.path, 'roi.db')}`;
const clock = fixedClock(Date.UTC(2026, 2, 1));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(cliDeps({ out: (l) => out.push(l), err: (l) => err.push(l), isTty: false, clock, env: {} }), args);
  return { code, out: out.join('\n'), err };
}

let n = 0;
function file(doc: unknown): string {
  const p = join(dir.path, `doc-${n++}.json`);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
}

const CONTRACT = {
  samples: 200000,
  seed: 1,
  parameters: { p1: { dist: 'normal', mean: 1, sd: 1 }, p2: { dist: 'normal', mean: 0, sd: 2 } },
  options: { a: '0', b: 'p1 - p2' },
};

describe('readnext roi --input FILE --json (the contract)', () => {
  it('prints the options, the best, EVPI and every EVPPI with standard errors, against the closed forms', async () => {
    const r = await cli('roi', '--input', file(CONTRACT), '--json');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j.options)).toEqual(['a', 'b']);
    for (const o of Object.values(j.options) as any[]) {
      expect(Object.keys(o)).toEqual(expect.arrayContaining(['mean', 'quantiles', 'p_positive', 'p_best']));
      expect(Object.keys(o.quantiles)).toEqual(['p5', 'p25', 'p50', 'p75', 'p95']);
    }
    expect(j.best).toBe('b');
    const mu = 1;
    const sigma = Math.sqrt(5);
    expect(j.options.a.mean).toBe(0);
    expect(Math.abs(j.options.b.mean - 1)).toBeLessThan(3 * (sigma / Math.sqrt(200000)));
    // P(b > 0) = Φ(1/√5); P(b best) the same (a is 0).
    const pPos = normalCdf(mu / sigma);
    const seP = Math.sqrt((pPos * (1 - pPos)) / 200000);
    expect(Math.abs(j.options.b.p_positive - pPos)).toBeLessThan(3 * seP);
    expect(Math.abs(j.options.b.p_best - pPos)).toBeLessThan(3 * seP);
    expect(j.options.a.p_best + j.options.b.p_best).toBeCloseTo(1, 12);
    const evpi = mu * normalCdf(mu / sigma) + sigma * normalPdf(mu / sigma) - mu;
    expect(j.evpi_se).toBeGreaterThan(0);
    expect(Math.abs(j.evpi - evpi)).toBeLessThan(3 * j.evpi_se);
    const e1 = normalCdf(1) + normalPdf(1) - 1;
    const e2 = normalCdf(0.5) + 2 * normalPdf(0.5) - 1;
    expect(Math.abs(j.evppi.p1 - e1)).toBeLessThan(3 * j.evppi_se.p1);
    expect(Math.abs(j.evppi.p2 - e2)).toBeLessThan(3 * j.evppi_se.p2);
    expect(j.ranking).toEqual(['p2', 'p1']);
  });

  it('reads standard input with -, and is reproducible with the seed', async () => {
    const a = await cli('roi', '--input', file({ ...CONTRACT, samples: 20000 }), '--json');
    const b = await cli('roi', '--input', file({ ...CONTRACT, samples: 20000 }), '--json');
    expect(a.out).toBe(b.out);
    const c = await cli('roi', '--input', file({ ...CONTRACT, samples: 20000, seed: 2 }), '--json');
    expect(c.out).not.toBe(a.out);
  });

  it.each([
    [
      'an unknown distribution',
      { ...CONTRACT, parameters: { ...CONTRACT.parameters, p1: { dist: 'cauchy', mean: 1 } } },
      'parameters.p1.dist',
    ],
    ['a negative sd', { ...CONTRACT, parameters: { ...CONTRACT.parameters, p1: { dist: 'normal', mean: 1, sd: -1 } } }, 'parameters.p1.sd'],
    ['an expression naming an unknown input', { ...CONTRACT, options: { a: '0', b: 'p1 - p3' } }, 'options.b'],
    ['a syntax error', { ...CONTRACT, options: { a: '0', b: 'p1 - ' } }, 'options.b'],
    ['too many samples', { ...CONTRACT, samples: 1e9 }, 'samples'],
  ])('exits 2 with one line naming the field for %s', async (_what, doc, field) => {
    const r = await cli('roi', '--input', file(doc), '--json');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(field);
  });

  it('exits 2 on a file that is not JSON, a missing file, or no --input', async () => {
    for (const args of [['--input', file('{"samples": ')], ['--input', join(dir.path, 'nope.json')], []]) {
      const r = await cli('roi', ...args);
      expect(r.code).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/input/);
    }
  });
});

describe('a planned test', () => {
  it('gives EVSI by size, rising toward the EVPPI, and the size of the best net value', async () => {
    const doc = {
      ...CONTRACT,
      samples: 50000,
      planned_test: { input: 'p1', sd_per_reader: 10, readers_per_day: 1000, loss_per_reader: 0.00001, max_readers_per_arm: 100000 },
    };
    const j = JSON.parse((await cli('roi', '--input', file(doc), '--json')).out);
    const t = j.planned_test;
    expect(t.input).toBe('p1');
    expect(t.table[0].n).toBe(0);
    const evsis = t.table.map((r: { evsi: number }) => r.evsi);
    // EVSI grows with n (common random numbers), and stays below EVPPI(p1) within its standard error.
    for (let i = 1; i < evsis.length; i++) expect(evsis[i]).toBeGreaterThanOrEqual(evsis[i - 1] - 1e-3);
    expect(evsis.at(-1)).toBeLessThan(t.evppi + 3 * j.evppi_se.p1);
    expect(t.best.net).toBe(Math.max(...t.table.map((r: { net: number }) => r.net)));
    const bad = await cli('roi', '--input', file({ ...doc, planned_test: { ...doc.planned_test, input: 'p9' } }));
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toContain('planned_test.input');
  });
});

describe('readnext roi init', () => {
  it('prints the newspaper template, which analyses as it is: three options, the transfer factor an input', async () => {
    const init = await cli('roi', 'init');
    expect(init.code).toBe(0);
    const doc = JSON.parse(init.out);
    expect(Object.keys(doc.options)).toEqual(['status_quo', 'heuristic', 'model']);
    expect(doc.parameters.transfer.description).toMatch(/offline/);
    const r = await cli('roi', '--input', file({ ...doc, samples: 20000 }), '--json');
    expect(r.err).toEqual([]);
    const j = JSON.parse(r.out);
    expect(j.options.status_quo.mean).toBe(0);
    // Every input has an EVPPI, the derived online lift included.
    expect(Object.keys(j.evppi)).toEqual(expect.arrayContaining([...Object.keys(doc.parameters)]));
    const text = await cli('roi', '--input', file({ ...doc, samples: 20000 }));
    expect(text.out).toMatch(/best on expected value/);
    expect(text.out).toMatch(/EVPI/);
  });
});

describe('readnext roi update and history', () => {
  it('refuses a measurement whose experiment does not exist, naming the input', async () => {
    const doc = {
      ...CONTRACT,
      parameters: { ...CONTRACT.parameters, p1: { dist: 'normal', mean: 1, sd: 1, measured_by: 'experiment:nope:articles_read' } },
    };
    const r = await cli('roi', 'update', '--input', file(doc), '--db', db);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/nope/);
  });

  it('stores a revision without measurements, and lists it', async () => {
    const r = await cli('roi', 'update', '--input', file({ ...CONTRACT, samples: 5000 }), '--name', 'contract', '--db', db, '--json');
    expect(r.err).toEqual([]);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ name: 'contract', previous: null });
    const again = JSON.parse(
      (await cli('roi', 'update', '--input', file({ ...CONTRACT, samples: 5000 }), '--name', 'contract', '--db', db, '--json')).out,
    );
    expect(again.previous).toBe(j.revision);
    const h = await cli('roi', 'history', '--name', 'contract', '--db', db, '--json');
    expect(JSON.parse(h.out).map((x: any) => x.id)).toEqual([j.revision, again.revision]);
    const text = await cli('roi', 'history', '--db', db);
    expect(text.out.split('\n')).toHaveLength(2);
  });
});
