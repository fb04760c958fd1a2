/**
 * The ROI's loop with production on the simulated newsroom (issue 19), end to end through the CLI:
 * `readnext simulate` runs the model's A/B test against co-read (the best heuristic of the default
 * world) on a database, then `readnext roi update` reads that experiment's report from the same
 * database and replaces the prior of the model's online lift by its posterior.
 *
 * The newsroom's prior is optimistic on purpose (an offline replay suggested +12% and it trusts it
 * nearly whole), so the test checks what the loop must do with a measurement of the truth: the
 * interval of the model's lift shrinks and its centre moves toward the simulator's true effect
 * (common random numbers: `simulate --json`'s truth); in the `null` world, where recommendations
 * change nothing, the same test moves P(model is best) down. Seeded runs: deterministic.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/adapters/cli/program.js';
import { newspaperTemplate } from '../../src/core/roi/template.js';
import { cliDeps } from '../../src/main/cli-deps.js';
import { tempDir } from '../helpers/databases.js';

const dir = tempDir('readnext-roi-loop-');
afterAll(() => dir.remove());
const EXPERIMENT = join(import.meta.dirname, '../../worlds/experiments/model-vs-co-read.json');
const READERS = '2500';

async function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(cliDeps({ out: (l) => out.push(l), err: (l) => err.push(l), isTty: false, env }), args);
  return { code, out: out.join('\n'), err };
}

/** The template with an optimistic prior on the model and its online lift measured by the experiment's articles read. */
function scenario(): Record<string, any> {
  const doc = newspaperTemplate() as Record<string, any>;
  doc.samples = 50_000;
  doc.parameters.model_offline_lift = { dist: 'normal', mean: 0.12, sd: 0.04, description: 'an optimistic offline replay' };
  doc.parameters.transfer = { dist: 'lognormal', p5: 0.6, p95: 1.4, description: 'trusted nearly whole' };
  doc.parameters.model_online_lift.measured_by = 'experiment:model-vs-co-read:articles_read:model';
  delete doc.parameters.heuristic_uplift.measured_by;
  delete doc.planned_test;
  return doc;
}

async function simulateThenUpdate(world: string): Promise<{ truth: number; measured: number; before: any; after: any }> {
  const db = `sqlite:${join(dir.path, `${world}.db`)}`;
  const sim = await cli(
    {},
    'simulate',
    '--world',
    world,
    '--experiment',
    EXPERIMENT,
    '--warmup-days',
    '2',
    '--days',
    '2',
    '--readers',
    READERS,
    '--seed',
    '1',
    '--db',
    db,
    '--json',
  );
  expect(sim.err.filter((l) => !l.startsWith('['))).toEqual([]);
  expect(sim.code).toBe(0);
  const effect = JSON.parse(sim.out).metrics.find((m: any) => m.metric === 'articles_read' && m.arm === 'model').effect;
  const path = join(dir.path, `${world}.json`);
  writeFileSync(path, JSON.stringify(scenario()));
  const before = JSON.parse((await cli({}, 'roi', '--input', path, '--json')).out);
  const env = { READNEXT_SIM_CLOCK: '1' };
  const up = await cli(env, 'roi', 'update', '--input', path, '--name', world, '--db', db, '--json');
  expect(up.err).toEqual([]);
  expect(up.code).toBe(0);
  const after = JSON.parse(up.out).result;
  const history = JSON.parse((await cli(env, 'roi', 'history', '--name', world, '--db', db, '--json')).out);
  expect(history).toHaveLength(1);
  return { truth: effect.truth, measured: effect.estimate, before, after };
}

describe('the ROI after production measured', () => {
  it('default world: the model lift interval shrinks and its centre moves toward the truth', async () => {
    const { truth, measured, before, after } = await simulateThenUpdate('default');
    const prior = before.inputs.model_online_lift;
    const post = after.inputs.model_online_lift;
    const update = after.updates.find((u: any) => u.parameter === 'model_online_lift');
    expect(update).toMatchObject({ method: 'sir', source: 'experiment:model-vs-co-read:articles_read:model' });
    expect(update.measurement.mean).toBeCloseTo(measured, 12);
    expect(update.ess).toBeGreaterThan(1000);
    expect(post.p95 - post.p5).toBeLessThan(prior.p95 - prior.p5);
    expect(Math.abs(post.mean - truth)).toBeLessThan(Math.abs(prior.mean - truth));
  }, 300_000);

  it('null world: the same test moves P(model is best) down', async () => {
    const { truth, before, after } = await simulateThenUpdate('null');
    expect(Math.abs(truth)).toBeLessThan(0.02);
    expect(after.options.model.p_best).toBeLessThan(before.options.model.p_best);
  }, 300_000);
});
