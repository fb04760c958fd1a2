/**
 * The lab's two protocols, which drive a LabScorer over a train and a test log:
 *
 * - `static`: 1. fit on the train log; 2. score every test impression (no outcome is ever observed).
 * - `replay` (default): 1. fit on the train log; 2. for each test impression in time order (ties in
 *   log order): score it, then observe its outcome. A scorer so updates its state from the
 *   outcomes of earlier impressions only, as it would in production.
 *
 * `score` always receives the impression with its labels hidden (`clicked: null`), so no scorer
 * can read an outcome before it ranks it. Ranks are 1-based, ties broken with a seeded Rng
 * (metrics.ts). Tests: test/core/lab/protocols.test.ts (a spy scorer checks the order).
 */
import type { Article } from '../catalog/article.js';
import { seededRng } from '../kernel/rng.js';
import { addImpression, EMPTY_TOTALS, impressionMetrics, means, rankScores, type ImpressionMetrics } from './metrics.js';
import type { LabImpression, LabScorer } from './types.js';

export const PROTOCOLS = ['replay', 'static'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** How many test impressions each metric counted, and why the others were skipped. */
export interface ScoredCounts {
  /** Test impressions ranked (every one gets a line in the predictions). */
  impressions: number;
  /** Impressions with at least one click: counted by MRR and nDCG. */
  scored: number;
  /** Impressions not counted: without a click, or without labels. */
  skipped: number;
  /** Of those, impressions without labels (a test log without `-label`). */
  unlabelled: number;
  /** Impressions counted by AUC: at least one click and one non-click. */
  aucScored: number;
}

export interface ProtocolResult {
  scorer: string;
  protocol: Protocol;
  /** Means over impressions (null when no impression counted). */
  metrics: ImpressionMetrics;
  counts: ScoredCounts;
  /** 1-based ranks of each test impression's candidates, in the test log's order. */
  ranks: number[][];
}

/** An impression as `score` sees it: every label hidden. */
function unlabelled(imp: LabImpression): LabImpression {
  return { ...imp, candidates: imp.candidates.map((c) => ({ articleId: c.articleId, clicked: null })) };
}

/** Impressions in time order, ties in log order (Array.prototype.sort is stable). */
export function inTimeOrder(log: readonly LabImpression[]): LabImpression[] {
  return [...log].sort((a, b) => a.ts - b.ts);
}

/**
 * Runs one scorer through a protocol and scores its rankings. `seed` seeds the tie-breaking.
 *
 * @example
 * const r = await runProtocol(randomScorer(1), train, test, articles, { protocol: 'replay', seed: 1 });
 * r.metrics.auc // ≈ 0.5
 */
export async function runProtocol(
  scorer: LabScorer,
  train: readonly LabImpression[],
  test: readonly LabImpression[],
  articles: ReadonlyMap<string, Article>,
  opts: { protocol: Protocol; seed: number },
): Promise<ProtocolResult> {
  const ties = seededRng(opts.seed ^ 0x5eed);
  const position = new Map<LabImpression, number>(test.map((imp, i) => [imp, i]));
  const ranks: number[][] = new Array<number[]>(test.length);

  // 1. Fit on the train log.
  await scorer.fit?.(train, articles);

  // 2. Score each test impression (replay: in time order, then observe its outcome).
  const order = opts.protocol === 'replay' ? inTimeOrder(test) : [...test];
  for (const imp of order) {
    const scores = scorer.score(unlabelled(imp));
    if (!Array.isArray(scores) || scores.length !== imp.candidates.length)
      throw new Error(
        `scorer ${scorer.name} returned ${Array.isArray(scores) ? scores.length : 'no'} scores for impression ${imp.id} of ${imp.candidates.length} candidates`,
      );
    ranks[position.get(imp)!] = rankScores(scores, ties);
    if (opts.protocol === 'replay') scorer.observe?.(imp);
  }

  // 3. Metrics, in the test log's order.
  let totals = EMPTY_TOTALS;
  const counts: ScoredCounts = { impressions: test.length, scored: 0, skipped: 0, unlabelled: 0, aucScored: 0 };
  test.forEach((imp, i) => {
    if (imp.candidates.some((c) => c.clicked === null)) {
      counts.unlabelled++;
      counts.skipped++;
      return;
    }
    const m = impressionMetrics(
      imp.candidates.map((c) => (c.clicked ? 1 : 0)),
      ranks[i]!,
    );
    totals = addImpression(totals, m);
    if (m.mrr === null) counts.skipped++;
    else counts.scored++;
    if (m.auc !== null) counts.aucScored++;
  });
  return { scorer: scorer.name, protocol: opts.protocol, metrics: means(totals), counts, ranks };
}

/**
 * The predictions file of the MIND benchmark: one line per test impression in the log's order,
 * `ImpressionID [r1,r2,...]` with the 1-based rank of each candidate in the log's candidate order.
 *
 * @example
 * predictionsText([{ id: '1' }], [[2, 1, 3]]) // '1 [2,1,3]\n'
 */
export function predictionsText(test: readonly Pick<LabImpression, 'id'>[], ranks: readonly (readonly number[])[]): string {
  return test.map((imp, i) => `${imp.id} [${ranks[i]!.join(',')}]\n`).join('');
}

/** Scores candidates uniformly at random: the floor every recommender must beat (AUC ≈ 0.5). */
export function randomScorer(seed: number): LabScorer {
  const rng = seededRng(seed);
  return { name: 'random', score: (imp) => imp.candidates.map(() => rng.next()) };
}
