import type { FastifyPluginAsync } from 'fastify';
import type { ApiKeys } from '../../../app/keys.js';
import type { ReaderPrivacy } from '../../../app/readers.js';
import { checkReaderId } from '../../../app/readers.js';
import { requireScope } from '../auth.js';
import { errorBodySchema } from '../errors.js';

// No schema bounds on the id: checkReaderId answers with the events' own codes and the field `id`.
const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;
const errors = { 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema };
const security = [{ adminKey: [] }];

/**
 * A reader's privacy (app/readers.ts), admin key: DELETE /v1/admin/readers/:id forgets the reader
 * on every process sharing the database and answers what it deleted; GET .../export gives their
 * data as JSON. Registered as a plugin by main (services.ts appDeps). Tests: test/adapters/http/readers.test.ts.
 */
export const readerRoutes =
  (deps: { keys: ApiKeys; readers: Pick<ReaderPrivacy, 'forget' | 'export'> }): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      await requireScope(deps.keys, req, 'admin');
    });

    app.delete(
      '/v1/admin/readers/:id',
      {
        schema: {
          tags: ['privacy'],
          security,
          summary:
            'Forget a reader: delete their events, exposures, serve records and per-reader rollups, and their in-memory state on every process',
          params: idParam,
          response: errors,
        },
      },
      async (req) => deps.readers.forget(checkReaderId((req.params as { id: string }).id)),
    );

    app.get(
      '/v1/admin/readers/:id/export',
      {
        schema: {
          tags: ['privacy'],
          security,
          summary: "A reader's stored data as JSON: events, exposures and serve records (at most 100,000 of each, oldest first)",
          params: idParam,
          response: errors,
        },
      },
      async (req) => deps.readers.export(checkReaderId((req.params as { id: string }).id)),
    );
  };
