/**
 * Seeded synthetic reading sessions with a known co-reading structure (topic clusters), for the
 * offline sanity test: `topicSessions` of src/core/simulate/synthetic.ts over articles spread evenly
 * over the clusters (sections `topic-0`, `topic-1`, ...) and published uniformly over the period.
 * Everything comes from one seeded Rng, so a seed pins the whole data set.
 */
import type { Article } from '../../../src/core/catalog/article.js';
import type { Rng } from '../../../src/core/kernel/rng.js';
import { syntheticArticles, topicSessions } from '../../../src/core/simulate/synthetic.js';
import { DAY } from './helpers.js';

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
  days: 5,
  articles: 300,
  clusters: 10,
  readers: 3000,
  maxSessionsPerReader: 3,
  inCluster: 0.85,
  zipfS: 1,
};

export interface SyntheticSession {
  readerId: string;
  sessionId: string;
  cluster: number;
  reads: { articleId: string; ts: number }[];
}

export interface SyntheticData {
  articles: Article[];
  /** By start time. */
  sessions: SyntheticSession[];
}

export function generateSessions(rng: Rng, opts: SyntheticOptions): SyntheticData {
  const window = { from: opts.start, to: opts.start + opts.days * DAY };
  const articles = syntheticArticles(rng, {
    count: opts.articles,
    window,
    sections: Array.from({ length: opts.clusters }, (_, c) => `topic-${c}`),
    id: { prefix: 'art', width: 3 },
    titles: 'id',
  });
  const sessions = topicSessions(rng, articles, {
    window,
    readers: opts.readers,
    maxSessionsPerReader: opts.maxSessionsPerReader,
    inTopic: opts.inCluster,
    zipfS: opts.zipfS,
  });
  return { articles, sessions: sessions.map(({ topic, ...s }) => ({ ...s, cluster: topic })) };
}
