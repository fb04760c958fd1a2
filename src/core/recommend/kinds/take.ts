import type { Candidate, RecContext } from '../types.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** Takes candidates from an ordered list of ids while they are eligible, up to `limit`. */
export function take(
  ids: Iterable<string>,
  ctx: RecContext,
  limit: number,
  score: (id: string, i: number) => number,
  reason: string,
): Candidate[] {
  const out: Candidate[] = [];
  let i = 0;
  for (const id of ids) {
    if (out.length >= limit) break;
    if (!ctx.eligible(id)) continue;
    out.push({ articleId: id, score: score(id, i++), reason });
  }
  return out;
}

export function* ids(articles: Iterable<{ id: string }>): IterableIterator<string> {
  for (const a of articles) yield a.id;
}
