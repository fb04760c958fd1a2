import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../app.js';
import { requireScope } from '../auth.js';
import { errorBodySchema } from '../errors.js';
import { slateItemProperties, slateQueryProperties } from './recommendations.js';

const nullableString = { type: ['string', 'null'] } as const;

const slateSchema = {
  type: 'object',
  properties: {
    role: { type: 'string', enum: ['live', 'shadow', 'canary', 'arm'] },
    experiment: nullableString,
    arm: nullableString,
    recommender: { type: 'object', properties: { kind: { type: 'string' }, version: { type: 'string' } } },
    fallback: { type: 'boolean' },
    faults: { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, message: { type: 'string' } } } },
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: { ...slateItemProperties, score: { type: ['number', 'null'] } },
      },
    },
  },
} as const;

/** GET /v1/admin/preview: every deployed recommender's slate for one request, side by side (RecommendationService.preview). */
export const previewRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      await requireScope(deps.keys, req);
    });
    app.get(
      '/v1/admin/preview',
      {
        schema: {
          tags: ['serving'],
          security: [{ adminKey: [] }],
          summary: 'The slate each recommender deployed on a placement would give for a request, side by side; writes nothing',
          description:
            'Live, each shadow, the canary and each arm of each running experiment. The live one, the canary and the arms are composed with ' +
            "the placement's fallbacks (the live slate is what /v1/recommendations serves a reader outside any experiment, canary or exploration), " +
            'a shadow alone. No serve or exposure record is written and no serving counter moves.',
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['placement'],
            properties: slateQueryProperties,
          },
          response: {
            200: {
              type: 'object',
              properties: {
                placement: { type: 'string' },
                articleId: nullableString,
                readerId: nullableString,
                k: { type: 'integer' },
                revision: { type: 'integer' },
                warming: { type: 'boolean' },
                slates: { type: 'array', items: slateSchema },
              },
            },
            400: errorBodySchema,
            401: errorBodySchema,
          },
        },
      },
      async (req, reply) => {
        const q = req.query as { placement: string; article?: string; reader?: string; k?: number };
        void reply.header('cache-control', 'private, no-store');
        return deps.recommendations.preview({ placement: q.placement, articleId: q.article ?? null, readerId: q.reader ?? null, k: q.k });
      },
    );
  };
