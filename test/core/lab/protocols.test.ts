import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mindLabDir } from '../../helpers/mind-lab.js';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../src/core/recommend/kinds/index.js';
import { heuristicScorer, labScorers, parseScorerSpec } from '../../../src/core/lab/heuristic.js';
import { loadMindLogs } from '../../../src/core/lab/mind.js';
import { predictionsText, randomScorer, runProtocol } from '../../../src/core/lab/protocols.js';
import type { LabImpression, LabScorer } from '../../../src/core/lab/types.js';

const fixture = (f: string) => ({ name: f, text: readFileSync(join(mindLabDir(), f), 'utf8') });
const logs = loadMindLogs({
  trainNews: fixture('train/news.tsv'),
  trainBehaviors: fixture('train/behaviors.tsv'),
  testNews: fixture('test/news.tsv'),
  testBehaviors: fixture('test/behaviors.tsv'),
});

const imp = (id: string, ts: number, clicked: boolean[]): LabImpression => ({
  id,
  readerId: 'U',
  ts,
  history: [],
  candidates: clicked.map((c, i) => ({ articleId: `N${i}`, clicked: c })),
});

/** Records every call in order, and what `score` could see of the labels. */
function spy(): LabScorer & { calls: string[]; seenLabels: (boolean | null)[] } {
  const calls: string[] = [];
  const seenLabels: (boolean | null)[] = [];
  return {
    name: 'spy',
    calls,
    seenLabels,
    fit: (train) => void calls.push(`fit:${train.map((i) => i.id).join(',')}`),
    score(i) {
      calls.push(`score:${i.id}`);
      seenLabels.push(...i.candidates.map((c) => c.clicked));
      return i.candidates.map(() => 0);
    },
    observe: (i) => void calls.push(`observe:${i.id}`),
  };
}

describe('protocols', () => {
  // The test log is out of time order: replay must still go by time.
  const train = [imp('t1', 0, [true, false])];
  const test = [imp('b', 300, [false, true]), imp('a', 100, [true, false, false]), imp('c', 200, [true])];

  it('replay: fit, then in time order each impression is scored before its outcome is observed, and labels are hidden from score', async () => {
    const s = spy();
    await runProtocol(s, train, test, new Map(), { protocol: 'replay', seed: 1 });
    // 1. fit on train  2. a (t=100)  3. c (t=200)  4. b (t=300)
    expect(s.calls).toEqual(['fit:t1', 'score:a', 'observe:a', 'score:c', 'observe:c', 'score:b', 'observe:b']);
    expect(s.seenLabels.every((l) => l === null)).toBe(true);
  });

  it('static: fit, then score every test impression, never observe', async () => {
    const s = spy();
    await runProtocol(s, train, test, new Map(), { protocol: 'static', seed: 1 });
    expect(s.calls).toEqual(['fit:t1', 'score:b', 'score:a', 'score:c']);
  });

  it('ranks come back in the test log order, and count what was scored and skipped', async () => {
    const r = await runProtocol(randomScorer(1), train, [...test, imp('d', 50, [false, false])], new Map(), {
      protocol: 'replay',
      seed: 1,
    });
    expect(r.ranks.map((x) => x.length)).toEqual([2, 3, 1, 2]);
    expect(r.counts).toEqual({ impressions: 4, scored: 3, skipped: 1, unlabelled: 0, aucScored: 2 });
  });

  it('the same seed gives the same ranks; a constant scorer gets random permutations', async () => {
    const constant: LabScorer = { name: 'constant', score: (i) => i.candidates.map(() => 1) };
    const a = await runProtocol(constant, [], logs.test, logs.articles, { protocol: 'static', seed: 5 });
    const b = await runProtocol(constant, [], logs.test, logs.articles, { protocol: 'static', seed: 5 });
    const c = await runProtocol(constant, [], logs.test, logs.articles, { protocol: 'static', seed: 6 });
    expect(a.ranks).toEqual(b.ranks);
    expect(a.ranks).not.toEqual(c.ranks);
    expect(a.metrics.auc!).toBeGreaterThan(0.35);
    expect(a.metrics.auc!).toBeLessThan(0.65);
  });

  it('refuses a scorer that returns the wrong number of scores', async () => {
    const bad: LabScorer = { name: 'bad', score: () => [1] };
    await expect(runProtocol(bad, [], test, new Map(), { protocol: 'static', seed: 1 })).rejects.toThrow(
      /bad returned 1 scores for impression b of 2/,
    );
  });
});

describe('predictionsText: the MIND submission format', () => {
  it('writes one line per impression, in order, ranks in candidate order', () => {
    expect(predictionsText([{ id: '7' }, { id: '3' }], [[2, 1, 3], [1]])).toBe('7 [2,1,3]\n3 [1]\n');
  });

  it('on the fixtures: every line a permutation of 1..n of its impression', async () => {
    const r = await runProtocol(randomScorer(2), logs.train, logs.test, logs.articles, { protocol: 'replay', seed: 2 });
    const lines = predictionsText(logs.test, r.ranks).trimEnd().split('\n');
    expect(lines).toHaveLength(logs.test.length);
    lines.forEach((line, i) => {
      const m = /^(\S+) \[(\d+(?:,\d+)*)\]$/.exec(line)!;
      expect(m[1]).toBe(logs.test[i]!.id);
      const ranks = m[2]!.split(',').map(Number);
      expect([...ranks].sort((x, y) => x - y)).toEqual(logs.test[i]!.candidates.map((_, j) => j + 1));
    });
  });
});

describe('heuristic scorers', () => {
  const registry = builtinRegistry();

  it('popular beats random on the fixture with a planted hot article, under replay', async () => {
    const pop = await runProtocol(
      heuristicScorer(registry, { kind: 'popular', version: 'lab', params: { halfLifeMinutes: 720 } }, 'popular', logs.articles),
      logs.train,
      logs.test,
      logs.articles,
      { protocol: 'replay', seed: 1 },
    );
    const rnd = await runProtocol(randomScorer(1), logs.train, logs.test, logs.articles, { protocol: 'replay', seed: 1 });
    expect(pop.metrics.auc! - rnd.metrics.auc!).toBeGreaterThan(0.1);
    expect(pop.metrics.ndcg10! - rnd.metrics.ndcg10!).toBeGreaterThan(0.05);
  });

  it('replay lets popularity see the test window clicks; static does not', async () => {
    const run = (protocol: 'replay' | 'static') =>
      runProtocol(
        heuristicScorer(registry, { kind: 'popular', version: 'lab', params: { halfLifeMinutes: 720 } }, 'popular', logs.articles),
        logs.train,
        logs.test,
        logs.articles,
        { protocol, seed: 1 },
      );
    expect((await run('replay')).metrics.auc!).toBeGreaterThan((await run('static')).metrics.auc!);
  });

  it('every registered kind scores every candidate, unknown articles included', async () => {
    const { factories, all } = labScorers(registry);
    expect(all).toEqual(['random', 'latest', 'popular', 'same-section', 'co-read']);
    for (const name of [...all, 'none']) {
      const s = factories.get(name)!({}, { articles: logs.articles, seed: 1 });
      const r = await runProtocol(s, logs.train, logs.test, logs.articles, { protocol: 'replay', seed: 1 });
      expect(r.counts.impressions).toBe(logs.test.length);
      expect(r.metrics.auc).not.toBeNull();
    }
  });

  it('a bad kind config names the param', () => {
    const { factories } = labScorers(registry);
    expect(() => factories.get('popular')!({ halfLifeMinutes: -1 }, { articles: new Map(), seed: 1 })).toThrow(/halfLifeMinutes/);
  });
});

describe('parseScorerSpec', () => {
  it.each([
    ['popular', { kind: 'popular', config: {} }],
    ['popular:{"halfLifeMinutes":60}', { kind: 'popular', config: { halfLifeMinutes: 60 } }],
    [':{}', { error: '":{}" names no recommender kind' }],
    ['popular:[1]', { error: 'popular: the config must be a JSON object' }],
  ])('%s', (spec, out) => expect(parseScorerSpec(spec)).toEqual(out));

  it('reports bad JSON', () =>
    expect(parseScorerSpec('popular:{x')).toMatchObject({ error: expect.stringMatching(/^popular: the config is not valid JSON/) }));
});
