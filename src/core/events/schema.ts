/**
 * Reading events, schema version 1. One JSON schema per type; every schema is closed
 * (`additionalProperties: false`) so a misspelt field is rejected with its name instead of being
 * silently dropped. The schemas are plain data: the HTTP adapter publishes them in the OpenAPI
 * document and `validate.ts` compiles them.
 */
export const EVENT_SCHEMA_VERSION = 1;

export const BROWSER_EVENT_TYPES = ['page_view', 'impression', 'click', 'read'] as const;
/** Server-to-server only: accepted solely with the ingest key, so revenue cannot be forged. */
export const SERVER_EVENT_TYPES = ['subscribe'] as const;
export const EVENT_TYPES = [...BROWSER_EVENT_TYPES, ...SERVER_EVENT_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
/** Article ids follow the catalog's limit. */
const articleRef = { type: 'string', minLength: 1, maxLength: 256 } as const;
const optionalText = (maxLength: number) => ({ type: ['string', 'null'], maxLength }) as const;

const common = {
  type: { type: 'string' },
  schemaVersion: { type: 'integer', const: EVENT_SCHEMA_VERSION },
  eventId: id,
  readerId: id,
  sessionId: id,
  timestamp: { type: 'string', minLength: 10, maxLength: 40, description: 'ISO 8601 date-time with a zone' },
} as const;
const commonRequired = ['type', 'eventId', 'readerId', 'sessionId', 'timestamp'] as const;

const recommender = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['kind', 'version'],
  properties: { kind: { type: 'string', minLength: 1, maxLength: 64 }, version: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const EVENT_SCHEMAS = {
  page_view: {
    $id: 'readnext/events/page_view/v1',
    type: 'object',
    additionalProperties: false,
    required: [...commonRequired],
    anyOf: [{ required: ['articleId'] }, { required: ['page'] }],
    properties: {
      ...common,
      articleId: articleRef,
      page: { type: 'string', minLength: 1, maxLength: 2048, description: 'a non-article page, e.g. "/" or "/sport"' },
      url: optionalText(2048),
      referrer: optionalText(2048),
    },
  },
  impression: {
    $id: 'readnext/events/impression/v1',
    type: 'object',
    additionalProperties: false,
    required: [...commonRequired, 'recommId', 'placement', 'items'],
    properties: {
      ...common,
      recommId: id,
      placement: { type: 'string', minLength: 1, maxLength: 64 },
      articleId: { ...articleRef, description: 'the article the widget was shown on' },
      items: {
        type: 'array',
        minItems: 1,
        maxItems: 100,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['articleId', 'position'],
          properties: {
            articleId: articleRef,
            position: { type: 'integer', minimum: 1, maximum: 100, description: '1-based slot' },
            team: { type: ['string', 'null'], maxLength: 64, description: 'interleaving team' },
          },
        },
      },
      experiment: optionalText(128),
      phase: { type: ['integer', 'null'], minimum: 0 },
      arm: optionalText(128),
      hashVersion: { type: ['integer', 'null'], minimum: 1, maximum: 2 },
      recommender,
      shadow: { type: 'boolean' },
    },
  },
  click: {
    $id: 'readnext/events/click/v1',
    type: 'object',
    additionalProperties: false,
    required: [...commonRequired, 'recommId', 'articleId', 'position'],
    properties: {
      ...common,
      recommId: id,
      articleId: articleRef,
      position: { type: 'integer', minimum: 1, maximum: 100 },
      placement: { type: 'string', minLength: 1, maxLength: 64 },
    },
  },
  read: {
    $id: 'readnext/events/read/v1',
    type: 'object',
    additionalProperties: false,
    required: [...commonRequired, 'articleId', 'dwellMs', 'scroll'],
    properties: {
      ...common,
      articleId: articleRef,
      dwellMs: { type: 'integer', minimum: 0, maximum: 86_400_000, description: 'milliseconds' },
      scroll: { type: 'number', minimum: 0, maximum: 1, description: 'deepest scroll as a fraction of the article' },
      recommId: id,
    },
  },
  subscribe: {
    $id: 'readnext/events/subscribe/v1',
    type: 'object',
    additionalProperties: false,
    required: [...commonRequired, 'plan', 'revenue', 'currency'],
    properties: {
      ...common,
      plan: { type: 'string', minLength: 1, maxLength: 128 },
      revenue: { type: 'number', minimum: 0, maximum: 1e9, description: 'decimal, major units' },
      currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217' },
      articleId: articleRef,
    },
  },
} as const;

interface Common {
  eventId: string;
  readerId: string;
  sessionId: string;
  /** Client timestamp, epoch ms. */
  clientTs: number;
}
export interface RecommenderRef {
  kind: string;
  version: string;
}
export type ReadingEvent =
  | (Common & { type: 'page_view'; articleId: string | null; page: string | null; url: string | null; referrer: string | null })
  | (Common & {
      type: 'impression';
      recommId: string;
      placement: string;
      articleId: string | null;
      items: { articleId: string; position: number; team: string | null }[];
      experiment: string | null;
      phase: number | null;
      arm: string | null;
      hashVersion: number | null;
      recommender: RecommenderRef | null;
      shadow: boolean;
    })
  | (Common & { type: 'click'; recommId: string; articleId: string; position: number; placement: string | null })
  | (Common & { type: 'read'; articleId: string; dwellMs: number; scroll: number; recommId: string | null })
  | (Common & { type: 'subscribe'; plan: string; revenue: number; currency: string; articleId: string | null });

/** An event as stored: the validated event plus the server's receive time (epoch ms). */
export type StoredEvent = ReadingEvent & { receivedTs: number };

/** The canonical JSON of an event, without its receive time: two stored events are the same event when these are equal. */
export function eventJson(e: StoredEvent | ReadingEvent): string {
  if (!('receivedTs' in e)) return JSON.stringify(e);
  const { receivedTs: _r, ...rest } = e;
  return JSON.stringify(rest);
}
