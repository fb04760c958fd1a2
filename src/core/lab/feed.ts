import type { Article } from '../catalog/article.js';
import type { LabImpression } from './types.js';

/** Where a lab scorer keeps what it has seen: its catalog and its reading signals. */
export interface LabStateSink {
  knows(articleId: string): boolean;
  upsert(articles: Article[]): void;
  read(readerId: string, articleId: string, ts: number): void;
}

/**
 * What a lab scorer does on entering an impression, before scoring it: the impression's articles
 * (history and candidates) it has not seen join its catalog (from the log's news, else an id-only
 * stub dated at the impression), and each history read not fed before becomes a read signal at
 * the impression's time, once per reader and article.
 */
export function impressionFeeder(articles: ReadonlyMap<string, Article>, sink: LabStateSink): (imp: LabImpression) => void {
  const readsFed = new Map<string, Set<string>>();
  return (imp) => {
    const fresh: Article[] = [];
    for (const id of [...imp.history, ...imp.candidates.map((c) => c.articleId)]) {
      if (sink.knows(id) || fresh.some((a) => a.id === id)) continue;
      fresh.push(articles.get(id) ?? idOnlyArticle(id, imp.ts));
    }
    if (fresh.length > 0) sink.upsert(fresh);
    let read = readsFed.get(imp.readerId);
    if (read === undefined) readsFed.set(imp.readerId, (read = new Set()));
    for (const id of imp.history) {
      if (read.has(id)) continue;
      read.add(id);
      sink.read(imp.readerId, id, imp.ts);
    }
  };
}

/** An article known only by its id in the logs (no news row), published at `ts`. */
export function idOnlyArticle(id: string, ts: number): Article {
  return {
    id,
    url: null,
    title: '',
    lead: null,
    body: null,
    section: null,
    tags: [],
    author: null,
    publishedAt: ts,
    updatedAt: null,
    expiresAt: null,
    embargoUntil: null,
    status: 'published',
    paywalled: false,
    language: null,
  };
}
