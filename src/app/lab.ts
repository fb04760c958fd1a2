/**
 * `readnext eval --format events`: the offline lab on readnext's own stored events, split in time.
 * Loads everything through LabEventStore, then runs the pure lab (core/lab): the impression
 * protocols (AUC, MRR, nDCG) and the chronological next-read replay (recall@k, MRR@k, coverage).
 */
import type { Article } from '../core/catalog/article.js';
import { seededRng } from '../core/kernel/rng.js';
import { impressionsFromEvents, nextReadReplay, type NextReadResult } from '../core/lab/events.js';
import { rankScores } from '../core/lab/metrics.js';
import { runProtocol, type Protocol, type ProtocolResult } from '../core/lab/protocols.js';
import type { LabScorer } from '../core/lab/types.js';
import type { LabEventStore } from './ports.js';

export interface EventsEvalOptions {
  /** Epoch ms: events before it train, from it on test. */
  split: number;
  /** Cut-off of the next-read replay. */
  k: number;
  protocol: Protocol;
  seed: number;
  /** Each scorer is built twice (once per evaluation), so no state leaks from one into the other. */
  scorers: { label: string; build(articles: ReadonlyMap<string, Article>): LabScorer }[];
}

export interface EventsEvalReport {
  train: { impressions: number; reads: number };
  test: { impressions: number; reads: number };
  results: { label: string; impressions: ProtocolResult; nextRead: NextReadResult }[];
}

/**
 * Evaluates each scorer on the stored events.
 *
 * @example
 * const report = await evaluateEvents(storage, { split, k: 10, protocol: 'replay', seed: 1, scorers });
 */
export async function evaluateEvents(store: LabEventStore, o: EventsEvalOptions): Promise<EventsEvalReport> {
  const [articleList, rows, reads] = await Promise.all([store.labArticles(), store.labImpressions(), store.labReads()]);
  const articles = new Map(articleList.map((a) => [a.id, a]));
  const impressions = impressionsFromEvents(rows, reads);
  const train = impressions.filter((i) => i.ts < o.split);
  const test = impressions.filter((i) => i.ts >= o.split);
  const trainReads = reads.filter((r) => r.ts < o.split);
  const testReads = reads.filter((r) => r.ts >= o.split);
  const results: EventsEvalReport['results'] = [];
  for (const s of o.scorers) {
    const byImpression = await runProtocol(s.build(articles), train, test, articles, { protocol: o.protocol, seed: o.seed });
    const ties = seededRng(o.seed ^ 0x5eed);
    const nextRead = await nextReadReplay(s.build(articles), train, testReads, trainReads, articles, {
      k: o.k,
      rank: (scores) => rankScores(scores, ties),
    });
    results.push({ label: s.label, impressions: byImpression, nextRead });
  }
  return {
    train: { impressions: train.length, reads: trainReads.length },
    test: { impressions: test.length, reads: testReads.length },
    results,
  };
}
