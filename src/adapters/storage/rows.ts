import type { Article, ArticleStatus } from '../../core/catalog/article.js';
import type { ExposureRecord, ServeRecord } from '../../core/events/records.js';
import { eventJson, type StoredEvent } from '../../core/events/schema.js';
import type { Insertable } from 'kysely';
import type { ArticleRow, EventRow, ExposureRow, ServeRow } from './schema.js';

/** Row <-> domain mapping, shared by both dialects. */

// PostgreSQL returns bigint as a string unless told otherwise; the pool parses it, and this guards the rest.
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

export function articleToRow(a: Article, storedTs: number): ArticleRow {
  return {
    id: a.id, url: a.url, title: a.title, lead: a.lead, body: a.body, section: a.section, tags: JSON.stringify(a.tags),
    author: a.author, published_ts: a.publishedAt, updated_ts: a.updatedAt, expires_ts: a.expiresAt,
    embargo_until_ts: a.embargoUntil, status: a.status, paywalled: a.paywalled ? 1 : 0, language: a.language, stored_ts: storedTs,
  };
}

export function rowToArticle(r: ArticleRow): Article {
  return {
    id: r.id, url: r.url, title: r.title, lead: r.lead, body: r.body, section: r.section, tags: JSON.parse(r.tags) as string[],
    author: r.author, publishedAt: num(r.published_ts), updatedAt: numOrNull(r.updated_ts), expiresAt: numOrNull(r.expires_ts),
    embargoUntil: numOrNull(r.embargo_until_ts), status: r.status as ArticleStatus, paywalled: num(r.paywalled) === 1, language: r.language,
  };
}

/** The stored body: the normalised event without its receive time, so a replay compares equal. */
export const eventBody = (e: StoredEvent): string => eventJson(e);

/** Column order of `pushEventParams`, for positional multi-row inserts. */
export const EVENT_COLUMNS = ['event_id', 'type', 'reader_id', 'session_id', 'client_ts', 'received_ts', 'article_id', 'recomm_id', 'dwell_ms', 'revenue', 'body'] as const;

/** Appends an event's column values in EVENT_COLUMNS order (no intermediate row object: this is the ingest hot path). */
export function pushEventParams(out: unknown[], e: StoredEvent, body: string): void {
  out.push(
    e.eventId, e.type, e.readerId, e.sessionId, e.clientTs, e.receivedTs,
    'articleId' in e ? e.articleId : null,
    'recommId' in e ? e.recommId : null,
    e.type === 'read' ? e.dwellMs : null,
    e.type === 'subscribe' ? e.revenue : null,
    body,
  );
}

export function eventToRow(e: StoredEvent, body: string): EventRow {
  return {
    event_id: e.eventId, type: e.type, reader_id: e.readerId, session_id: e.sessionId, client_ts: e.clientTs,
    received_ts: e.receivedTs,
    article_id: 'articleId' in e ? e.articleId : null,
    recomm_id: 'recommId' in e ? e.recommId : null,
    dwell_ms: e.type === 'read' ? e.dwellMs : null,
    revenue: e.type === 'subscribe' ? e.revenue : null,
    body,
  };
}

export function rowToEvent(r: Pick<EventRow, 'body' | 'received_ts'>): StoredEvent {
  return { ...(JSON.parse(r.body) as Omit<StoredEvent, 'receivedTs'>), receivedTs: num(r.received_ts) } as StoredEvent;
}

export function exposureToRow(e: ExposureRecord): Insertable<ExposureRow> {
  return { experiment: e.experiment, phase: e.phase, reader_id: e.readerId, arm: e.arm, hash_version: e.hashVersion, exposed_ts: e.exposedTs };
}

export function rowToExposure(r: Pick<ExposureRow, 'experiment' | 'phase' | 'reader_id' | 'arm' | 'hash_version' | 'exposed_ts'>): ExposureRecord {
  return { experiment: r.experiment, phase: num(r.phase), readerId: r.reader_id, arm: r.arm, hashVersion: num(r.hash_version), exposedTs: num(r.exposed_ts) };
}

/** Columns of a serve row in a fixed order, for prepared positional inserts. */
export const SERVE_COLUMNS = [
  'recomm_id', 'placement', 'experiment', 'phase', 'arm', 'hash_version', 'recommender_kind', 'recommender_version', 'shadow',
  'reader_id', 'session_id', 'article_id', 'latency_ms', 'fallback', 'fault', 'slate', 'served_ts',
] as const satisfies readonly (keyof Omit<ServeRow, 'id'>)[];

export function serveParams(s: ServeRecord): unknown[] {
  const row = serveToRow(s);
  return SERVE_COLUMNS.map((c) => row[c]);
}

export function serveToRow(s: ServeRecord): Omit<ServeRow, 'id'> {
  return {
    recomm_id: s.recommId, placement: s.placement, experiment: s.experiment, phase: s.phase, arm: s.arm, hash_version: s.hashVersion,
    recommender_kind: s.recommenderKind, recommender_version: s.recommenderVersion, shadow: s.shadow ? 1 : 0,
    reader_id: s.readerId, session_id: s.sessionId, article_id: s.articleId, latency_ms: s.latencyMs,
    fallback: s.fallback ? 1 : 0, fault: s.fault ? 1 : 0, slate: JSON.stringify(s.slate), served_ts: s.servedTs,
  };
}

export function rowToServe(r: Omit<ServeRow, 'id'>): ServeRecord {
  return {
    recommId: r.recomm_id, placement: r.placement, experiment: r.experiment, phase: numOrNull(r.phase), arm: r.arm,
    hashVersion: numOrNull(r.hash_version), recommenderKind: r.recommender_kind, recommenderVersion: r.recommender_version,
    shadow: num(r.shadow) === 1, readerId: r.reader_id, sessionId: r.session_id, articleId: r.article_id,
    latencyMs: num(r.latency_ms), fallback: num(r.fallback) === 1, fault: num(r.fault) === 1,
    slate: JSON.parse(r.slate) as ServeRecord['slate'], servedTs: num(r.served_ts),
  };
}
