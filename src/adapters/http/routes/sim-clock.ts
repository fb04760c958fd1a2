import type { FastifyPluginAsync } from 'fastify';
import { DomainError } from '../../../core/kernel/errors.js';
import { parseIsoWithZone } from '../../../core/kernel/time.js';
import type { AppDeps } from '../app.js';
import { requireScope } from '../auth.js';
import { errorBodySchema } from '../errors.js';

/**
 * The simulated clock's control (a server started with --sim-clock / READNEXT_SIM_CLOCK=1): the
 * simulation sets the time forward; a server on the real clock answers 404 not_simulated.
 */
export const simClockRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      await requireScope(deps.keys, req);
    });
    app.post(
      '/v1/admin/sim-clock',
      {
        schema: {
          tags: ['ops'],
          security: [{ adminKey: [] }],
          summary: 'Set the simulated clock (forward only; only on a server started with --sim-clock)',
          body: {
            type: 'object',
            required: ['now'],
            additionalProperties: false,
            properties: { now: { type: 'string', description: 'ISO 8601 with a zone; not before the time last set' } },
          },
          response: {
            200: { type: 'object', properties: { now: { type: 'string' } } },
            400: errorBodySchema,
            401: errorBodySchema,
            404: errorBodySchema,
          },
        },
      },
      async (req) => {
        const clock = deps.simClock;
        if (!clock)
          throw new DomainError(
            'not_simulated',
            'this server runs on the real clock; start it with --sim-clock (READNEXT_SIM_CLOCK=1) to set the time',
          );
        const raw = (req.body as { now: string }).now;
        const ms = parseIsoWithZone(raw);
        if (ms === undefined)
          throw new DomainError('invalid_field', `now must be an ISO 8601 time with a zone, got ${JSON.stringify(raw).slice(0, 80)}`, {
            field: 'now',
          });
        await clock.set(ms);
        return { now: new Date(clock.now()).toISOString() };
      },
    );
  };
