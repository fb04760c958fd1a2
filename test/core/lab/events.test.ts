import { describe, expect, it } from 'vitest';
import type { Article } from '../../../src/core/catalog/article.js';
import { impressionsFromEvents, nextReadReplay } from '../../../src/core/lab/events.js';
import { rankScores } from '../../../src/core/lab/metrics.js';
import { seededRng } from '../../../src/core/kernel/rng.js';
import type { LabScorer } from '../../../src/core/lab/types.js';

const article = (id: string, publishedAt: number): Article => ({
  id,
  url: null,
  title: id,
  lead: null,
  body: null,
  section: null,
  tags: [],
  author: null,
  publishedAt,
  updatedAt: null,
  expiresAt: null,
  embargoUntil: null,
  status: 'published',
  paywalled: false,
  language: null,
});

describe('impressionsFromEvents', () => {
  it('labels shown items by the clicks of the impression, with the reads strictly before it as history', () => {
    const imps = impressionsFromEvents(
      [{ recommId: 'r1', readerId: 'u', ts: 10, items: ['a', 'b'], clicked: ['b'] }],
      [
        { readerId: 'u', articleId: 'x', ts: 5 },
        { readerId: 'v', articleId: 'y', ts: 6 },
        { readerId: 'u', articleId: 'z', ts: 10 },
      ],
    );
    expect(imps).toEqual([
      {
        id: 'r1',
        readerId: 'u',
        ts: 10,
        history: ['x'],
        candidates: [
          { articleId: 'a', clicked: false },
          { articleId: 'b', clicked: true },
        ],
      },
    ]);
  });
});

describe('nextReadReplay', () => {
  it('hits when the read article is in the top k before it; observes each read after scoring it', async () => {
    const calls: string[] = [];
    // Prefers "b" over everything: ranks b first.
    const scorer: LabScorer = {
      name: 'likes-b',
      score: (imp) => (
        calls.push(`score:${imp.candidates.map((c) => c.clicked).join()}`),
        imp.candidates.map((c) => (c.articleId === 'b' ? 1 : 0))
      ),
      observe: (imp) =>
        void calls.push(
          `observe:${imp.candidates
            .filter((c) => c.clicked)
            .map((c) => c.articleId)
            .join()}`,
        ),
    };
    const articles = new Map(['a', 'b', 'c'].map((id) => [id, article(id, 0)]));
    const rng = seededRng(1);
    const r = await nextReadReplay(
      scorer,
      [],
      [
        { readerId: 'u', articleId: 'b', ts: 100 },
        { readerId: 'u', articleId: 'a', ts: 200 },
      ],
      [],
      articles,
      {
        k: 1,
        rank: (s) => rankScores(s, rng),
      },
    );
    // Read 1: b ranked 1st → hit (rr 1). Read 2: b already read, a and c tied → a hit at rank 1 or a miss.
    expect(r.reads).toBe(2);
    expect(r.recall === 0.5 || r.recall === 1).toBe(true);
    expect(calls).toEqual(['score:,,', 'observe:b', 'score:,', 'observe:a']);
  });
});
