import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/adapters/cli/program.js';
import type { EvalResultJson } from '../../src/adapters/cli/eval.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { parseBehaviors } from '../../src/core/lab/mind.js';
import { cliDeps } from '../../src/main/cli-deps.js';
import { tempDir } from '../helpers/databases.js';
import { mindLabDir } from '../helpers/mind-lab.js';

const F = mindLabDir();
const dir = tempDir();
afterAll(() => dir.remove());

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

const mind = (...rest: string[]) => ['eval', '--format', 'mind', '--train', join(F, 'train'), '--test', join(F, 'test'), ...rest];

/** Checks a predictions file against the test log: one line per impression in order, ranks a permutation of 1..n. */
function checkPredictions(file: string, behaviors: string) {
  const imps = parseBehaviors(readFileSync(behaviors, 'utf8')).impressions;
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  expect(lines).toHaveLength(imps.length);
  return lines.map((line, i) => {
    const m = /^(\S+) \[(\d+(?:,\d+)*)\]$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(m![1]).toBe(imps[i]!.id);
    const ranks = m![2]!.split(',').map(Number);
    expect([...ranks].sort((a, b) => a - b)).toEqual(imps[i]!.candidates.map((_, j) => j + 1));
    return ranks;
  });
}

describe('readnext eval --format mind', () => {
  it('--predictions: the MIND submission of the first recommender, one line per test impression in log order', async () => {
    const file = join(dir.path, 'pred.txt');
    const r = await cli(...mind('--recommender', 'popular', '--recommender', 'random', '--predictions', file, '--seed', '3'));
    expect(r.code).toBe(1); // the fixtures hold malformed lines
    expect(r.out).toContain(`predictions of popular written to ${file}`);
    const ranks = checkPredictions(file, join(F, 'test/behaviors.tsv'));
    // Same seed, same file.
    await cli(...mind('--recommender', 'popular', '--predictions', file, '--seed', '3'));
    expect(checkPredictions(file, join(F, 'test/behaviors.tsv'))).toEqual(ranks);
  });

  it('reports each malformed line as FILE:LINE: reason, and still scores the good ones', async () => {
    const r = await cli(...mind('--recommender', 'random'));
    expect(r.errLines).toContain(`${join(F, 'train/behaviors.tsv')}:11: time "13/40/2019 8:00:00 AM" is not M/D/YYYY h:mm:ss AM|PM`);
    expect(r.errLines).toContain(`${join(F, 'test/behaviors.tsv')}:26: duplicate impression id 1010 (first on line 11); kept the first`);
    expect(r.out).toMatch(/^random\s+0\.\d{4}/m);
  });

  it('--json: per recommender AUC, MRR, nDCG@5, nDCG@10 and the impressions scored and skipped; all = random and every heuristic', async () => {
    const r = await cli(...mind('--json', '--protocol', 'static'));
    const j = JSON.parse(r.out) as {
      format: string;
      protocol: string;
      seed: number;
      test: { impressions: number };
      input: Record<string, number>;
      predictions: null;
      results: EvalResultJson[];
    };
    expect(j).toMatchObject({ format: 'mind', protocol: 'static', seed: 1, test: { impressions: 81 }, predictions: null });
    expect(j.input).toEqual({ malformedLines: 5, duplicateImpressions: 2, unknownArticles: 3 });
    expect(j.results.map((x) => x.recommender)).toEqual(['random', 'latest', 'popular', 'same-section', 'co-read', 'model']);
    for (const x of j.results) {
      for (const m of [x.auc, x.mrr, x.ndcg5, x.ndcg10]) expect(m).toBeGreaterThan(0);
      expect(x.impressions).toBe(81);
      expect(x.scored + x.skipped).toBe(81);
    }
  });

  it('popular beats random under replay (the fixture plants a hot article a day)', async () => {
    const r = await cli(...mind('--json', '--recommender', 'random', '--recommender', 'popular:{"halfLifeMinutes":720}'));
    const [rnd, pop] = (JSON.parse(r.out) as { results: EvalResultJson[] }).results;
    expect(pop!.recommender).toBe('popular:{"halfLifeMinutes":720}');
    expect(pop!.auc! - rnd!.auc!).toBeGreaterThan(0.1);
  });

  it('a test log without labels: predictions only, no metrics, exit 0 on clean files', async () => {
    const file = join(dir.path, 'unlabelled.txt');
    const u = join(F, 'test-unlabelled');
    const r = await cli('eval', '--format', 'mind', '--train', u, '--test', u, '--recommender', 'popular', '--predictions', file, '--json');
    expect(r.errLines.filter((l) => !l.includes('news.tsv'))).toEqual([]);
    const j = JSON.parse(r.out) as { results: EvalResultJson[] };
    expect(j.results[0]).toMatchObject({ auc: null, mrr: null, ndcg5: null, ndcg10: null, impressions: 30, scored: 0, unlabelled: 30 });
    checkPredictions(file, join(u, 'behaviors.tsv'));
  });

  it.each([
    [['eval', '--train', 'x', '--test', 'y'], /--format/],
    [['eval', '--format', 'csv'], /--format/],
    [['eval', '--format', 'mind', '--test', join(F, 'test')], /--train DIR is required/],
    [mind('--protocol', 'online'), /--protocol/],
    [mind('--seed', 'x'), /--seed must be an integer/],
    [mind('--recommender', 'nope'), /--recommender nope: unknown; known: all, random/],
    [mind('--recommender', 'popular:{bad'), /--recommender popular: the config is not valid JSON/],
    [mind('--recommender', 'popular:{"halfLifeMinutes":-1}'), /--recommender popular:.*halfLifeMinutes/],
    [
      ['eval', '--format', 'mind', '--train', join(F, 'nowhere'), '--test', join(F, 'test')],
      /--train .*nowhere.*: cannot read it \(ENOENT\)/,
    ],
    [mind('--predictions', join(F, 'no-such-dir', 'p.txt')), /--predictions .*: cannot write it \(ENOENT\)/],
    [mind('--split', '2026-01-01T00:00:00Z'), /--split is for --format events/],
    [['eval', '--format', 'events', '--db', 'sqlite::memory:'], /--split ISO is required/],
    [['eval', '--format', 'events', '--db', 'sqlite::memory:', '--split', 'yesterday'], /--split yesterday: not an ISO 8601 time/],
  ])('exit 2 with one line: %j', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.errLines.filter((l) => l.startsWith('readnext:'))).toHaveLength(1);
    expect(r.errLines.at(-1)).toMatch(message);
  });
});

describe('readnext eval --format events', () => {
  it('on an empty database: exit 2, nothing stored from the split on', async () => {
    const r = await cli('eval', '--format', 'events', '--db', `sqlite:${join(dir.path, 'empty.db')}`, '--split', '2026-01-01T00:00:00Z');
    expect(r.code).toBe(2);
    expect(r.errLines.at(-1)).toMatch(/no impression or read stored from then on/);
  });
});
