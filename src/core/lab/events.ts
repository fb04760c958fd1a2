/**
 * readnext's own events as lab logs, and the chronological next-read replay. Pure: the rows come
 * from app/lab.ts. Tests: test/core/lab/events.test.ts.
 */
import type { Article } from '../catalog/article.js';
import { isShowable, DEFAULT_TTL_MS } from '../recommend/catalog-index.js';
import type { LabImpression, LabScorer } from './types.js';

/** Reads kept as an impression's history (the serving state keeps 50 per reader by default). */
export const HISTORY_LENGTH = 50;

export interface ReadRow {
  readerId: string;
  articleId: string;
  ts: number;
}

/**
 * Stored impressions as LabImpressions: the candidates are the shown items in slot order, clicked
 * when a click carries the impression's recommId; the history is the reader's reads strictly
 * before the impression, oldest first, each article once (its latest read), at most 50.
 * `impressions` and `reads` are oldest first.
 */
export function impressionsFromEvents(
  impressions: readonly { recommId: string; readerId: string; ts: number; items: readonly string[]; clicked: readonly string[] }[],
  reads: readonly ReadRow[],
): LabImpression[] {
  const history = new Map<string, string[]>();
  const out: LabImpression[] = [];
  let r = 0;
  for (const imp of impressions) {
    for (; r < reads.length && reads[r]!.ts < imp.ts; r++) remember(history, reads[r]!);
    const clicked = new Set(imp.clicked);
    out.push({
      id: imp.recommId,
      readerId: imp.readerId,
      ts: imp.ts,
      history: [...(history.get(imp.readerId) ?? [])],
      candidates: imp.items.map((articleId) => ({ articleId, clicked: clicked.has(articleId) })),
    });
  }
  return out;
}

function remember(history: Map<string, string[]>, read: ReadRow): void {
  let h = history.get(read.readerId);
  if (h === undefined) history.set(read.readerId, (h = []));
  const at = h.indexOf(read.articleId);
  if (at >= 0) h.splice(at, 1);
  h.push(read.articleId);
  if (h.length > HISTORY_LENGTH) h.shift();
}

/** A read as a one-candidate clicked impression: how reads without an impression reach `fit`. */
export function readAsImpression(read: ReadRow, history: readonly string[], id: string): LabImpression {
  return { id, readerId: read.readerId, ts: read.ts, history, candidates: [{ articleId: read.articleId, clicked: true }] };
}

/** The next-read replay's figures: recall@k and MRR@k over the test reads, and catalog coverage. */
export interface NextReadResult {
  /** Test reads replayed (each one a query). */
  reads: number;
  /** Share of reads whose article was in the top k recommended just before. */
  recall: number | null;
  /** Mean of 1/rank of the read article when in the top k, else 0. */
  mrr: number | null;
  /** Distinct articles recommended in any top k, over the articles that could be recommended at any test read. */
  coverage: number | null;
}

/**
 * The chronological next-read replay. For each test read in time order:
 *
 * 1. candidates: the catalog articles showable at the read's time under the default TTL (72 h),
 *    minus what the reader already read (the read article is a candidate only if it was showable
 *    and new to the reader: otherwise the read counts as a miss);
 * 2. the scorer scores them (labels hidden), ties broken by `rank`; the top k are recommended;
 * 3. hit when the read article is among them, at 1-based rank r: recall 1, reciprocal rank 1/r;
 * 4. the scorer observes the read as that impression's click, then the read joins the history.
 *
 * `train` (impressions and reads before the split) fits the scorer first, reads entering as
 * one-candidate clicked impressions. `rank` is metrics.ts rankScores with the run's Rng.
 */
export async function nextReadReplay(
  scorer: LabScorer,
  train: readonly LabImpression[],
  testReads: readonly ReadRow[],
  trainReads: readonly ReadRow[],
  articles: ReadonlyMap<string, Article>,
  opts: { k: number; rank: (scores: readonly number[]) => number[] },
): Promise<NextReadResult> {
  const history = new Map<string, string[]>();
  const fitLog: LabImpression[] = [...train];
  trainReads.forEach((read, i) => {
    fitLog.push(readAsImpression(read, [...(history.get(read.readerId) ?? [])], `read-${i}`));
    remember(history, read);
  });
  fitLog.sort((a, b) => a.ts - b.ts);
  await scorer.fit?.(fitLog, articles);

  const catalog = [...articles.values()];
  const recommended = new Set<string>();
  const eligibleEver = new Set<string>();
  let hits = 0;
  let rr = 0;
  for (const [i, read] of testReads.entries()) {
    const past = history.get(read.readerId) ?? [];
    const seen = new Set(past);
    // 1. candidates
    const candidates = catalog.filter((a) => isShowable(a, read.ts, DEFAULT_TTL_MS) && !seen.has(a.id)).map((a) => a.id);
    for (const id of candidates) eligibleEver.add(id);
    const imp: LabImpression = {
      id: `next-read-${i}`,
      readerId: read.readerId,
      ts: read.ts,
      history: [...past],
      candidates: candidates.map((articleId) => ({ articleId, clicked: null })),
    };
    // 2. rank
    const ranks = candidates.length === 0 ? [] : opts.rank(scorer.score(imp));
    // 3. score the read
    const at = candidates.indexOf(read.articleId);
    candidates.forEach((id, j) => {
      if (ranks[j]! <= opts.k) recommended.add(id);
    });
    if (at >= 0 && ranks[at]! <= opts.k) {
      hits++;
      rr += 1 / ranks[at]!;
    }
    // 4. observe, remember
    const outcome = candidates.map((articleId) => ({ articleId, clicked: articleId === read.articleId }));
    if (at < 0) outcome.push({ articleId: read.articleId, clicked: true });
    scorer.observe?.({ ...imp, candidates: outcome });
    remember(history, read);
  }
  const n = testReads.length;
  return {
    reads: n,
    recall: n === 0 ? null : hits / n,
    mrr: n === 0 ? null : rr / n,
    coverage: eligibleEver.size === 0 ? null : recommended.size / eligibleEver.size,
  };
}
