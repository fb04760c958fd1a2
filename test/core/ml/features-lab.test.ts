/**
 * The learned ranker in the offline lab: fitted on a train log, replayed over a test log in the
 * MIND form (ID-only articles), it beats random and popularity on AUC where clicks follow a
 * co-reading structure, and its scores never depend on the labels of what it scores.
 */
import { describe, expect, it } from 'vitest';
import { labScorers } from '../../../src/core/lab/heuristic.js';
import { runProtocol } from '../../../src/core/lab/protocols.js';
import type { LabImpression } from '../../../src/core/lab/types.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import { modelLabScorer, modelScorerFactory } from '../../../src/core/ml/lab-scorer.js';
import { builtinRegistry } from '../../../src/core/recommend/kinds/index.js';

const T0 = Date.parse('2019-11-11T00:00:00Z');
const MIN = 60_000;

/**
 * Readers of topic g read and click articles of topic g (g = article index mod 4); candidates are
 * 6 articles of mixed topics. Popularity carries no signal; co-reading with the history does.
 */
function lab(seed: number, n: number, from: number): LabImpression[] {
  const rng = seededRng(seed);
  const out: LabImpression[] = [];
  for (let i = 0; i < n; i++) {
    const reader = rng.int(60);
    const g = reader % 4;
    const topic = (k: number) => `N${4 * rng.int(20) + k}`;
    const history = [topic(g), topic(g), topic(g)];
    const cands = new Set<string>();
    while (cands.size < 6) cands.add(topic(rng.int(4)));
    const candidates = [...cands].map((id) => ({
      articleId: id,
      clicked: Number(id.slice(1)) % 4 === g ? rng.next() < 0.6 : rng.next() < 0.05,
    }));
    out.push({ id: `${from + i}`, readerId: `U${reader}`, ts: T0 + (from + i) * MIN, history, candidates });
  }
  return out;
}

describe('the model lab scorer', () => {
  const train = lab(1, 1500, 0);
  const test = lab(2, 400, 1500);

  it('beats random and popular on AUC (replay protocol)', async () => {
    const { factories } = labScorers(builtinRegistry(), new Map([['model', modelScorerFactory]]));
    const run = (name: string, config: Record<string, unknown> = {}) =>
      runProtocol(factories.get(name)!(config, { articles: new Map(), seed: 1 }), train, test, new Map(), { protocol: 'replay', seed: 1 });
    const model = await run('model', { rounds: 40 });
    const random = await run('random');
    const popular = await run('popular');
    expect(model.metrics.auc!).toBeGreaterThan(random.metrics.auc! + 0.1);
    expect(model.metrics.auc!).toBeGreaterThan(popular.metrics.auc! + 0.05);
  });

  it('scores from what it observed before, never from the labels of what it scores', async () => {
    const a = modelLabScorer({ rounds: 10 }, { articles: new Map(), seed: 3 });
    const b = modelLabScorer({ rounds: 10 }, { articles: new Map(), seed: 3 });
    await a.fit!(train, new Map());
    await b.fit!(train, new Map());
    const imp = test[0]!;
    const flipped = { ...imp, candidates: imp.candidates.map((c) => ({ ...c, clicked: !c.clicked })) };
    expect(a.score(imp)).toEqual(b.score(flipped));
    expect(() => modelLabScorer({ depth: 3 }, { articles: new Map(), seed: 1 })).toThrow(/unknown config "depth"/);
  });
});
