import type { Article, ArticleStatus } from '../../core/catalog/article.js';
import type { ExposureRecord, ServeRecord, SlateItem } from '../../core/events/records.js';
import type { ServeExploration } from '../../core/recommend/explore.js';
import { eventJson, type StoredEvent } from '../../core/events/schema.js';
import { isPlainJsonString } from '../../core/kernel/strings.js';
import type { Insertable } from 'kysely';
import type { ArticleRow, EventRow, ExposureRow, ServeRow } from './schema.js';

/** Row <-> domain mapping, shared by both dialects. */

// PostgreSQL returns bigint as a string unless told otherwise; the pool parses it, and this guards the rest.
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

export function articleToRow(a: Article, storedTs: number): ArticleRow {
  return {
    id: a.id,
    url: a.url,
    title: a.title,
    lead: a.lead,
    body: a.body,
    section: a.section,
    tags: JSON.stringify(a.tags),
    author: a.author,
    published_ts: a.publishedAt,
    updated_ts: a.updatedAt,
    expires_ts: a.expiresAt,
    embargo_until_ts: a.embargoUntil,
    status: a.status,
    paywalled: a.paywalled ? 1 : 0,
    language: a.language,
    stored_ts: storedTs,
  };
}

export function rowToArticle(r: ArticleRow): Article {
  return {
    id: r.id,
    url: r.url,
    title: r.title,
    lead: r.lead,
    body: r.body,
    section: r.section,
    tags: JSON.parse(r.tags) as string[],
    author: r.author,
    publishedAt: num(r.published_ts),
    updatedAt: numOrNull(r.updated_ts),
    expiresAt: numOrNull(r.expires_ts),
    embargoUntil: numOrNull(r.embargo_until_ts),
    status: r.status as ArticleStatus,
    paywalled: num(r.paywalled) === 1,
    language: r.language,
  };
}

/**
 * An event row keeps the fields every query needs in columns and the rest of the normalised event,
 * nulls and `false` left out, as a small JSON object in `extra` (a page view's is usually just its
 * referrer). Storing the whole event again as JSON doubled the bytes per row and cost more than a
 * quarter of the insert time (measured on SQLite, docs/ARCHITECTURE.md).
 */
export const EVENT_COLUMNS = [
  'event_id',
  'type',
  'reader_id',
  'session_id',
  'client_ts',
  'received_ts',
  'article_id',
  'recomm_id',
  'dwell_ms',
  'revenue',
  'extra',
] as const;

/** The fields of `extra`, per type, in the order of the normalised event. */
export const EXTRA_FIELDS = {
  page_view: ['page', 'url', 'referrer'],
  impression: ['placement', 'items', 'experiment', 'phase', 'arm', 'hashVersion', 'recommender', 'shadow'],
  click: ['position', 'placement'],
  read: ['scroll'],
  subscribe: ['plan', 'currency'],
} as const satisfies Record<StoredEvent['type'], readonly string[]>;

/** `,"key":value` for a field that is set (not null, false or absent), else nothing. */
const field = (key: string, v: unknown): string => (v === null || v === false || v === undefined ? '' : `,"${key}":${JSON.stringify(v)}`);
const object = (fields: string): string => (fields === '' ? '{}' : `{${fields.slice(1)}}`);

/**
 * The `extra` JSON of an event (see EVENT_COLUMNS): the EXTRA_FIELDS of its type that are set, in
 * that order; an impression's items without a null team. Written out per type: building an object
 * for JSON.stringify was 4% of ingest CPU. (test/adapters/storage/event-extra.test.ts checks it
 * against the object-building form on random events.)
 */
export function eventExtra(e: StoredEvent): string {
  switch (e.type) {
    case 'read':
      return `{"scroll":${JSON.stringify(e.scroll)}}`;
    case 'page_view':
      return object(field('page', e.page) + field('url', e.url) + field('referrer', e.referrer));
    case 'click':
      return object(field('position', e.position) + field('placement', e.placement));
    case 'subscribe':
      return object(field('plan', e.plan) + field('currency', e.currency));
    case 'impression': {
      let items = '';
      for (const i of e.items)
        items += `,{"articleId":${JSON.stringify(i.articleId)},"position":${JSON.stringify(i.position)}${field('team', i.team)}}`;
      return object(
        field('placement', e.placement) +
          `,"items":[${items.slice(1)}]` +
          field('experiment', e.experiment) +
          field('phase', e.phase) +
          field('arm', e.arm) +
          field('hashVersion', e.hashVersion) +
          field('recommender', e.recommender) +
          field('shadow', e.shadow),
      );
    }
  }
}

/** Appends an event's column values in EVENT_COLUMNS order (no intermediate row object: this is the ingest hot path). */
export function pushEventParams(out: unknown[], e: StoredEvent): void {
  out.push(
    e.eventId,
    e.type,
    e.readerId,
    e.sessionId,
    e.clientTs,
    e.receivedTs,
    'articleId' in e ? e.articleId : null,
    'recommId' in e ? e.recommId : null,
    e.type === 'read' ? e.dwellMs : null,
    e.type === 'subscribe' ? e.revenue : null,
    eventExtra(e),
  );
}

/**
 * An element of a PostgreSQL array literal: NULL, a number as JavaScript prints it (finite values
 * only reach here: the schemas refuse NaN and Infinity, and epoch milliseconds print without an
 * exponent), or a text in double quotes with backslash and double quote escaped, which PostgreSQL's
 * array input reads back verbatim (documentation, "8.15.6 Array Input and Output Syntax").
 */
function pgElement(v: string | number | null): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return String(v);
  let needs = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 34 || c === 92) {
      needs = true;
      break;
    }
  }
  return needs ? `"${v.replace(/["\\]/g, '\\$&')}"` : `"${v}"`;
}

/** A PostgreSQL array literal of the values ({"a",NULL,"b\"c"}), for a `$n::text[]`-style parameter. */
export function pgArray(values: readonly (string | number | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + pgElement(values[i]!);
  return out + '}';
}

/** The events' column values in EVENT_COLUMNS order, one array literal per column (PostgreSQL's batch insert). */
export function eventColumnArrays(events: readonly StoredEvent[]): string[] {
  const cols: (string | number | null)[][] = EVENT_COLUMNS.map(() => new Array(events.length));
  const row: unknown[] = [];
  for (let i = 0; i < events.length; i++) {
    row.length = 0;
    pushEventParams(row, events[i]!);
    for (let c = 0; c < cols.length; c++) cols[c]![i] = row[c] as string | number | null;
  }
  return cols.map(pgArray);
}

export function eventToRow(e: StoredEvent): EventRow {
  return {
    event_id: e.eventId,
    type: e.type,
    reader_id: e.readerId,
    session_id: e.sessionId,
    client_ts: e.clientTs,
    received_ts: e.receivedTs,
    article_id: 'articleId' in e ? e.articleId : null,
    recomm_id: 'recommId' in e ? e.recommId : null,
    dwell_ms: e.type === 'read' ? e.dwellMs : null,
    revenue: e.type === 'subscribe' ? e.revenue : null,
    extra: eventExtra(e),
  };
}

type EventRowIn = Omit<EventRow, 'client_ts' | 'received_ts' | 'dwell_ms' | 'revenue'> &
  Record<'client_ts' | 'received_ts' | 'dwell_ms' | 'revenue', unknown>;

/** The stored event of a row: exactly the normalised event that was appended (same fields, same order). */
export function rowToEvent(r: EventRowIn): StoredEvent {
  const x = JSON.parse(r.extra) as Record<string, unknown>;
  const or = <T>(v: unknown, d: T): T => (v === undefined ? d : (v as T));
  const base = { eventId: r.event_id, readerId: r.reader_id, sessionId: r.session_id, clientTs: num(r.client_ts) };
  const receivedTs = num(r.received_ts);
  switch (r.type) {
    case 'page_view':
      return {
        type: 'page_view',
        ...base,
        articleId: r.article_id,
        page: or(x.page, null),
        url: or(x.url, null),
        referrer: or(x.referrer, null),
        receivedTs,
      };
    case 'impression':
      return {
        type: 'impression',
        ...base,
        recommId: r.recomm_id!,
        placement: x.placement as string,
        articleId: r.article_id,
        items: (x.items as { articleId: string; position: number; team?: string | null }[]).map((i) => ({
          articleId: i.articleId,
          position: i.position,
          team: i.team ?? null,
        })),
        experiment: or(x.experiment, null),
        phase: or(x.phase, null),
        arm: or(x.arm, null),
        hashVersion: or(x.hashVersion, null),
        recommender: or(x.recommender, null),
        shadow: x.shadow === true,
        receivedTs,
      };
    case 'click':
      return {
        type: 'click',
        ...base,
        recommId: r.recomm_id!,
        articleId: r.article_id!,
        position: x.position as number,
        placement: or(x.placement, null),
        receivedTs,
      };
    case 'read':
      return {
        type: 'read',
        ...base,
        articleId: r.article_id!,
        dwellMs: num(r.dwell_ms),
        scroll: x.scroll as number,
        recommId: r.recomm_id,
        receivedTs,
      };
    case 'subscribe':
      return {
        type: 'subscribe',
        ...base,
        plan: x.plan as string,
        revenue: num(r.revenue),
        currency: x.currency as string,
        articleId: r.article_id,
        receivedTs,
      };
    default:
      throw new Error(`stored event ${r.event_id} has an unknown type "${r.type}"`);
  }
}

/** Whether a stored row holds the same event as `e` (a replay), whatever the receive times. */
export function sameEvent(r: EventRowIn, e: StoredEvent): boolean {
  // Both sides go through the same mapping, so key order and left-out nulls cannot tell them apart.
  return eventJson(rowToEvent(r)) === eventJson(rowToEvent(eventToRow(e)));
}

export function exposureToRow(e: ExposureRecord): Insertable<ExposureRow> {
  return {
    experiment: e.experiment,
    phase: e.phase,
    reader_id: e.readerId,
    arm: e.arm,
    hash_version: e.hashVersion,
    exposed_ts: e.exposedTs,
    session_id: e.sessionId ?? null,
    article_id: e.articleId ?? null,
  };
}

/** The exposure's session and article are left out when unknown (exposures stored before migration 0010). */
export function rowToExposure(
  r: Pick<ExposureRow, 'experiment' | 'phase' | 'reader_id' | 'arm' | 'hash_version' | 'exposed_ts'> &
    Partial<Pick<ExposureRow, 'session_id' | 'article_id'>>,
): ExposureRecord {
  const e: ExposureRecord = {
    experiment: r.experiment,
    phase: num(r.phase),
    readerId: r.reader_id,
    arm: r.arm,
    hashVersion: num(r.hash_version),
    exposedTs: num(r.exposed_ts),
  };
  if (r.session_id != null) e.sessionId = r.session_id;
  if (r.article_id != null) e.articleId = r.article_id;
  return e;
}

/** Columns of a serve row in a fixed order, for prepared positional inserts. */
export const SERVE_COLUMNS = [
  'recomm_id',
  'placement',
  'experiment',
  'phase',
  'arm',
  'hash_version',
  'recommender_kind',
  'recommender_version',
  'shadow',
  'reader_id',
  'session_id',
  'article_id',
  'latency_ms',
  'fallback',
  'fault',
  'slate',
  'served_ts',
  'exploration',
] as const satisfies readonly (keyof Omit<ServeRow, 'id'>)[];

/**
 * Appends a serve row's values in SERVE_COLUMNS order to `out` at `at`; returns the next index. Field
 * by field, without the row object serveToRow makes: this runs once per recommendation response.
 */
export function putServeParams(out: unknown[], at: number, s: ServeRecord): number {
  out[at++] = s.recommId;
  out[at++] = s.placement;
  out[at++] = s.experiment;
  out[at++] = s.phase;
  out[at++] = s.arm;
  out[at++] = s.hashVersion;
  out[at++] = s.recommenderKind;
  out[at++] = s.recommenderVersion;
  out[at++] = s.shadow ? 1 : 0;
  out[at++] = s.readerId;
  out[at++] = s.sessionId;
  out[at++] = s.articleId;
  out[at++] = s.latencyMs;
  out[at++] = s.fallback ? 1 : 0;
  out[at++] = s.fault ? 1 : 0;
  out[at++] = slateJson(s.slate);
  out[at++] = s.servedTs;
  out[at++] = s.exploration ? JSON.stringify(s.exploration) : null;
  return at;
}

export function serveParams(s: ServeRecord): unknown[] {
  const out = new Array<unknown>(SERVE_COLUMNS.length);
  putServeParams(out, 0, s);
  return out;
}

/** Escaped JSON of the article ids and reasons that need escaping, reused. */
const escaped = new Map<string, string>();
const MAX_ESCAPED = 50_000;

function quoted(v: string | null): string {
  if (v === null) return 'null';
  // The usual id or reason: no escaping, no lookup in a large Map (cache misses on a busy server).
  if (isPlainJsonString(v)) return `"${v}"`;
  let j = escaped.get(v);
  if (j === undefined) {
    j = JSON.stringify(v);
    if (escaped.size >= MAX_ESCAPED) escaped.clear();
    escaped.set(v, j);
  }
  return j;
}

/**
 * A slate as stored, compact: a JSON array with one array per item, `[articleId, score]`, then the
 * reason when it differs from the previous item's (always on the first item), then the team when
 * there is one (the reason is then written too): `[["a1",0.5,"read by readers of this article"],
 * ["a2",0.25],["a3",null,"editor's pick"]]`. The position is the index + 1, as every slate serving
 * composes has it. A slate the compact form cannot hold (positions out of order, a field outside
 * the type) is stored as JSON.stringify gives it, an array of objects; slates written before the
 * compact form are also that, and decodeSlate reads both.
 *
 * Why: a serve row is written per recommendation response, and on SQLite its cost grows with its
 * bytes (each WAL frame is checksummed and written twice: header, page). The object form was 570 B
 * of a ~750 B row for a five-item slate; the compact one is ~230 B. In-process, recommend + encode +
 * serve row went from ~22 to ~18 µs (2026-12-04, AMD EPYC VM). Ids and reasons are escaped once and
 * reused: JSON.stringify of the slate was a fifth of a serve row's cost.
 */
export function slateJson(slate: readonly SlateItem[]): string {
  let out = '[';
  let reason: string | null | undefined;
  for (let i = 0; i < slate.length; i++) {
    const it = slate[i]!;
    // Outside the compact form: the general path.
    if (typeof it.articleId !== 'string' || it.position !== i + 1 || it.score === undefined || it.reason === undefined)
      return JSON.stringify(slate);
    if (i > 0) out += ',';
    out += `[${quoted(it.articleId)},${it.score === null ? 'null' : num2json(it.score)}`;
    if (it.team !== undefined) out += `,${quoted(it.reason)},${quoted(it.team)}`;
    else if (i === 0 || it.reason !== reason) out += `,${quoted(it.reason)}`;
    reason = it.reason;
    out += ']';
  }
  return `${out}]`;
}

type StoredItem = [string, number | null, (string | null)?, (string | null)?];

/** Reads a stored slate, compact or objects (see slateJson): items as JSON.parse of JSON.stringify would give them. */
export function decodeSlate(text: string): SlateItem[] {
  const parsed = JSON.parse(text) as (StoredItem | SlateItem)[];
  if (parsed.length === 0 || !Array.isArray(parsed[0])) return parsed as SlateItem[];
  const out: SlateItem[] = new Array(parsed.length);
  let reason: string | null = null;
  for (let i = 0; i < parsed.length; i++) {
    const t = parsed[i] as StoredItem;
    if (t.length > 2) reason = t[2]!;
    const item: SlateItem = { articleId: t[0], position: i + 1, score: t[1], reason };
    if (t.length > 3) item.team = t[3]!;
    out[i] = item;
  }
  return out;
}

/** JSON.stringify of a number: non-finite ones become null. */
const num2json = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

export function serveToRow(s: ServeRecord): Omit<ServeRow, 'id'> {
  return {
    recomm_id: s.recommId,
    placement: s.placement,
    experiment: s.experiment,
    phase: s.phase,
    arm: s.arm,
    hash_version: s.hashVersion,
    recommender_kind: s.recommenderKind,
    recommender_version: s.recommenderVersion,
    shadow: s.shadow ? 1 : 0,
    reader_id: s.readerId,
    session_id: s.sessionId,
    article_id: s.articleId,
    latency_ms: s.latencyMs,
    fallback: s.fallback ? 1 : 0,
    fault: s.fault ? 1 : 0,
    slate: slateJson(s.slate),
    served_ts: s.servedTs,
    exploration: s.exploration ? JSON.stringify(s.exploration) : null,
  };
}

export function rowToServe(r: Omit<ServeRow, 'id'>): ServeRecord {
  const s: ServeRecord = {
    recommId: r.recomm_id,
    placement: r.placement,
    experiment: r.experiment,
    phase: numOrNull(r.phase),
    arm: r.arm,
    hashVersion: numOrNull(r.hash_version),
    recommenderKind: r.recommender_kind,
    recommenderVersion: r.recommender_version,
    shadow: num(r.shadow) === 1,
    readerId: r.reader_id,
    sessionId: r.session_id,
    articleId: r.article_id,
    latencyMs: num(r.latency_ms),
    fallback: num(r.fallback) === 1,
    fault: num(r.fault) === 1,
    slate: decodeSlate(r.slate),
    servedTs: num(r.served_ts),
  };
  if (r.exploration != null) s.exploration = JSON.parse(r.exploration) as ServeExploration;
  return s;
}
