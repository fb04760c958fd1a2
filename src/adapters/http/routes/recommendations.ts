import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../app.js';
import { errorBodySchema } from '../errors.js';
import { RecResponseEncoder } from '../rec-json.js';
import { TurnQueue } from '../turn-queue.js';

const id = { type: 'string', minLength: 1, maxLength: 128 } as const;

/** Slates computed per turn of the event loop before it polls again (turn-queue.ts: 4 measured best of 1, 4 and Node's whole batch). */
const SLATES_PER_TURN = 4;

/** The request of a slate, as /v1/recommendations and the admin preview (routes/preview.ts) take it. */
export const slateQueryProperties = {
  placement: { type: 'string', minLength: 1, maxLength: 64 },
  article: { type: 'string', minLength: 1, maxLength: 256 },
  reader: id,
  k: { type: 'integer', minimum: 1, maximum: 100 },
} as const;

/** A slate item as both routes answer it (the preview adds `score`, this route `team`). */
export const slateItemProperties = {
  articleId: { type: 'string' },
  title: { type: 'string' },
  url: { type: ['string', 'null'] },
  position: { type: 'integer' },
  reason: { type: 'string' },
} as const;

const responseSchema = {
  type: 'object',
  properties: {
    recommId: { type: 'string' },
    placement: { type: 'string' },
    experiment: { type: ['string', 'null'] },
    phase: { type: ['integer', 'null'] },
    arm: { type: ['string', 'null'] },
    hashVersion: { type: ['integer', 'null'] },
    recommender: { type: 'object', properties: { kind: { type: 'string' }, version: { type: 'string' } } },
    fallback: { type: 'boolean' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: { ...slateItemProperties, team: { type: ['string', 'null'] } },
      },
    },
  },
} as const;

export const recommendationRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    // Encodes the response (the schema above documents it; the encoder is tested against it).
    const encoder = new RecResponseEncoder();
    const turns = new TurnQueue(SLATES_PER_TURN, (e) => process.emitWarning(`recommendations: a queued slate threw: ${String(e)}`));
    app.get(
      '/v1/recommendations',
      {
        schema: {
          tags: ['serving'],
          summary: 'What to read next',
          description:
            "A ranked slate for a placement. The response is never a 5xx because of a recommender: a fault falls back to the placement's fallback chain. " +
            'An unknown article still gets an answer (flagged `fallback`). `optout=1` (or a `DNT: 1` header) serves the live recommender without any reader state or experiment.',
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['placement'],
            properties: {
              ...slateQueryProperties,
              session: id,
              optout: { type: 'string', enum: ['0', '1', 'true', 'false'] },
            },
          },
          response: { 200: responseSchema, 400: errorBodySchema },
        },
      },
      // The slate is computed in the request's turn of the queue (arrival order, a few a turn of
      // the event loop: turn-queue.ts), synchronously (recommend does no I/O), and answered with
      // reply.send: no promise per request. A DomainError thrown there goes to the error handler.
      // The one exception: a reader whose earlier arm this process does not know waits for the
      // database first (RecommendationService.prepare, bounded; app/exposure-lookup.ts).
      (req, reply) => {
        const q = req.query as { placement: string; article?: string; reader?: string; session?: string; k?: number; optout?: string };
        const optOut = q.optout === '1' || q.optout === 'true' || req.headers.dnt === '1';
        // Personalised (reader history, experiment arm): never cache in shared caches.
        void reply.header('cache-control', 'private, no-store').type('application/json; charset=utf-8');
        const rec = {
          placement: q.placement,
          articleId: q.article ?? null,
          readerId: q.reader ?? null,
          sessionId: q.session ?? null,
          k: q.k,
          optOut,
        };
        const answer = () => {
          try {
            reply.send(encoder.encode(deps.recommendations.recommend(rec)));
          } catch (e) {
            reply.send(e);
          }
        };
        turns.run(() => {
          try {
            const pending = deps.recommendations.prepare(rec);
            if (pending === undefined) answer();
            else pending.then(answer, (e: unknown) => reply.send(e));
          } catch (e) {
            reply.send(e);
          }
        });
        return reply;
      },
    );
  };
