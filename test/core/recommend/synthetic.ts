/**
 * Seeded synthetic reading sessions with a known co-reading structure (topic clusters), for the
 * offline sanity test. Everything comes from one seeded Rng, so a seed pins the whole data set.
 *
 * The model, per reader:
 *   1. a preferred cluster, uniform over the clusters;
 *   2. 1 to `maxSessionsPerReader` sessions, each starting uniformly over the period, of 3 to 6 reads
 *      1 to 5 minutes apart, never the same article twice in a session;
 *   3. each read is, with probability `inCluster`, from the preferred cluster with a Zipf skew
 *      (weight 1/(rank+1)^s over the cluster's published articles, ranks a fixed random order),
 *      otherwise uniform over every published article.
 * Articles are spread evenly over the clusters and published uniformly over the period; a read at t
 * only picks articles published by t.
 */
import type { Article } from '../../../src/core/catalog/article.js';
import type { Rng } from '../../../src/core/kernel/rng.js';
import { article, DAY, MIN } from './helpers.js';

export interface SyntheticOptions {
  start: number;
  days: number;
  articles: number;
  clusters: number;
  readers: number;
  maxSessionsPerReader: number;
  /** Share of reads from the reader's preferred cluster. */
  inCluster: number;
  /** Zipf exponent within a cluster. */
  zipfS: number;
}

export const SYNTHETIC_DEFAULTS: Omit<SyntheticOptions, 'start'> = {
  days: 5, articles: 300, clusters: 10, readers: 3000, maxSessionsPerReader: 3, inCluster: 0.85, zipfS: 1,
};

export interface SyntheticRead {
  articleId: string;
  ts: number;
}
export interface SyntheticSession {
  readerId: string;
  sessionId: string;
  cluster: number;
  reads: SyntheticRead[];
}

export interface SyntheticData {
  articles: Article[];
  /** By start time. */
  sessions: SyntheticSession[];
}

/** A session lasts at most 6 reads · 5 minutes; starts leave an hour before the end of the period. */
const HOUR_OF_READING = 60 * MIN;

export function generateSessions(rng: Rng, opts: SyntheticOptions): SyntheticData {
  const period = opts.days * DAY;
  const articles: Article[] = [];
  // Per cluster, its articles in Zipf rank order (rank 0 = the most read).
  const byCluster: Article[][] = Array.from({ length: opts.clusters }, () => []);
  for (let i = 0; i < opts.articles; i++) {
    const cluster = i % opts.clusters;
    const a = article(`art${String(i).padStart(3, '0')}`, `topic-${cluster}`, opts.start + Math.floor(rng.next() * period));
    articles.push(a);
    byCluster[cluster]!.push(a);
  }
  for (const list of byCluster) shuffle(rng, list);

  const sessions: SyntheticSession[] = [];
  for (let r = 0; r < opts.readers; r++) {
    const readerId = `u${r}`;
    const cluster = rng.int(opts.clusters);
    const nSessions = 1 + rng.int(opts.maxSessionsPerReader);
    for (let s = 0; s < nSessions; s++) {
      const reads: SyntheticRead[] = [];
      const length = 3 + rng.int(4);
      let ts = opts.start + Math.floor(rng.next() * (period - HOUR_OF_READING));
      for (let i = 0; i < length; i++) {
        const seen = new Set(reads.map((x) => x.articleId));
        const pool = rng.next() < opts.inCluster ? byCluster[cluster]! : articles;
        const zipf = pool !== articles;
        const candidates: Article[] = [];
        const weights: number[] = [];
        pool.forEach((a, rank) => {
          if (a.publishedAt > ts || seen.has(a.id)) return;
          candidates.push(a);
          weights.push(zipf ? 1 / (rank + 1) ** opts.zipfS : 1);
        });
        if (candidates.length > 0) reads.push({ articleId: weighted(rng, candidates, weights).id, ts });
        ts += (1 + rng.int(5)) * MIN;
      }
      if (reads.length >= 2) sessions.push({ readerId, sessionId: `${readerId}-s${s}`, cluster, reads });
    }
  }
  sessions.sort((x, y) => x.reads[0]!.ts - y.reads[0]!.ts || (x.sessionId < y.sessionId ? -1 : 1));
  return { articles, sessions };
}

function shuffle<T>(rng: Rng, xs: T[]): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}

function weighted<T>(rng: Rng, xs: readonly T[], weights: readonly number[]): T {
  let total = 0;
  for (const w of weights) total += w;
  let u = rng.next() * total;
  for (let i = 0; i < xs.length; i++) {
    u -= weights[i]!;
    if (u < 0) return xs[i]!;
  }
  return xs[xs.length - 1]!;
}
