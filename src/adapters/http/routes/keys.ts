import type { FastifyPluginAsync } from 'fastify';
import { KEY_SCOPES, type ApiKeys, type KeyInfo } from '../../../app/keys.js';
import { requireScope } from '../auth.js';
import { errorBodySchema } from '../errors.js';

const security = [{ adminKey: [] }];
const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema };
const keyInfo = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: [...KEY_SCOPES] } },
    prefix: { type: ['string', 'null'], description: "the key's first characters, for recognition; null for keys made before scopes" },
    createdTs: { type: 'integer', description: 'epoch ms' },
    revokedTs: { type: ['integer', 'null'], description: 'epoch ms; null while the key is live' },
  },
} as const;
const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } } as const;

/** A key for JSON: absent values as null, so every field is always there. */
const view = (k: KeyInfo) => ({ ...k, prefix: k.prefix ?? null, revokedTs: k.revokedTs ?? null });

/**
 * Key management (app/keys.ts), scope admin: POST /v1/admin/keys creates a key and answers it once,
 * GET lists them (never a hash or a key), DELETE /v1/admin/keys/:id (or POST .../revoke) revokes
 * one; every process sharing the database refuses it within a second (DEFAULT_KEY_TTL_MS). The same
 * as `readnext keys`. Tests: test/adapters/http/keys.test.ts.
 */
export const keyRoutes =
  (deps: { keys: ApiKeys }): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      await requireScope(deps.keys, req, 'admin');
    });

    app.post(
      '/v1/admin/keys',
      {
        schema: {
          tags: ['keys'],
          security,
          summary: 'Create an API key: the answer holds the key, shown this once (only its hash is stored)',
          body: {
            type: 'object',
            required: ['name', 'scopes'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', description: '1 to 100 letters, digits, spaces or . _ : @ / -' },
              scopes: {
                description: `a non-empty list of ${KEY_SCOPES.join(', ')}, as an array or a comma-separated string; admin implies the others`,
                anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }],
              },
            },
          },
          response: { 201: { type: 'object', properties: { key: { type: 'string' }, ...keyInfo.properties } }, ...errors },
        },
      },
      async (req, reply) => {
        const b = req.body as { name: unknown; scopes: unknown };
        const { key, info } = await deps.keys.create(b.name, b.scopes);
        void reply.code(201).header('cache-control', 'no-store');
        return { key, ...view(info) };
      },
    );

    app.get(
      '/v1/admin/keys',
      {
        schema: {
          tags: ['keys'],
          security,
          summary: 'Every stored key, revoked ones included, oldest first (never a hash or a key)',
          response: { 200: { type: 'object', properties: { keys: { type: 'array', items: keyInfo } } }, ...errors },
        },
      },
      async () => ({ keys: (await deps.keys.list()).map(view) }),
    );

    const revoke = async (id: string) => view(await deps.keys.revoke(id));
    const revokeSchema = {
      tags: ['keys'],
      security,
      summary: 'Revoke a key (404 for an unknown id; revoking a revoked key changes nothing): refused everywhere within a second',
      params: idParam,
      response: { 200: keyInfo, ...errors },
    };
    app.delete('/v1/admin/keys/:id', { schema: revokeSchema }, async (req) => revoke((req.params as { id: string }).id));
    app.post('/v1/admin/keys/:id/revoke', { schema: revokeSchema }, async (req) => revoke((req.params as { id: string }).id));
  };
