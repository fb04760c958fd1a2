import type { FastifyPluginAsync } from 'fastify';
import { MAX_EVENTS_PER_BATCH } from '../../../app/collector.js';
import { isBotUserAgent, SDK_MARK } from '../../../core/events/bots.js';
import { EVENT_SCHEMAS } from '../../../core/events/schema.js';
import { DomainError } from '../../../core/kernel/errors.js';
import type { AppDeps } from '../app.js';
import { ingestTrust } from '../auth.js';
import { errorBodySchema } from '../errors.js';

/** For the OpenAPI document only: events are validated one by one by the collector, so that one bad event never sinks its batch. */
const documentedBody = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: {
    events: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_EVENTS_PER_BATCH,
      items: { oneOf: Object.values(EVENT_SCHEMAS).map(({ $id: _id, ...schema }) => schema) },
    },
  },
};

const replySchema = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    duplicates: { type: 'integer' },
    conflicts: { type: 'integer' },
    rejected: { type: 'integer' },
    filtered: { type: 'integer' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          eventId: { type: ['string', 'null'] },
          status: { type: 'string', enum: ['accepted', 'duplicate', 'conflict', 'rejected', 'filtered'] },
          code: { type: 'string' },
          field: { type: ['string', 'null'] },
          reason: { type: 'string' },
        },
      },
    },
  },
} as const;

export const eventRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    app.post(
      '/v1/events',
      {
        schema: {
          tags: ['collector'],
          summary: 'Store a batch of 1 to 1000 reading events',
          description:
            'Each event is validated on its own; the reply gives, per event, accepted / duplicate / conflict / rejected with a code and reason. ' +
            'The reply is sent only once the accepted events are durably stored. `subscribe` events need a key with scope ingest (401 for an unknown or revoked key, 403 missing_scope for a key without it). ' +
            'Bodies may be sent as application/json or text/plain (sendBeacon). ' +
            'A request without the ingest key whose User-Agent is on the bot list (a crawler, an HTTP library) is answered 200 with every event `filtered` and counted under the reason `bot`, unless it comes from the readnext SDK (`?sdk=readnext`).',
          body: documentedBody,
          response: { 200: replySchema, 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 413: errorBodySchema },
        },
        // Documentation only, see documentedBody.
        validatorCompiler: () => () => true,
      },
      async (req) => {
        const trusted = await ingestTrust(deps.keys, req);
        const body = req.body as unknown;
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          throw new DomainError('invalid_body', 'the body must be a JSON object {"events": [...]}', { field: 'events' });
        }
        const extra = Object.keys(body).find((k) => k !== 'events');
        if (extra !== undefined)
          throw new DomainError('unknown_field', `unknown field "${extra}"; the body is {"events": [...]}`, { field: extra });
        const events = (body as { events?: unknown }).events;
        if (!Array.isArray(events)) throw new DomainError('missing_field', '"events" must be an array of events', { field: 'events' });
        if (events.length < 1 || events.length > MAX_EVENTS_PER_BATCH) {
          throw new DomainError('batch_size', `a batch holds 1 to ${MAX_EVENTS_PER_BATCH} events, got ${events.length}`, {
            field: 'events',
          });
        }
        // The bot filter: never the ingest key's server-to-server posts, never the readnext SDK's.
        const fromSdk = (req.query as Record<string, unknown> | undefined)?.[SDK_MARK.param] === SDK_MARK.value;
        if (!trusted && !fromSdk && isBotUserAgent(req.headers['user-agent'])) return deps.collector.filter(events, 'bot');
        return deps.collector.ingest(events, trusted, req.jsonEscapeFree);
      },
    );
  };
