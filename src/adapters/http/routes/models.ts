import type { FastifyPluginAsync } from 'fastify';
import type { ModelAdmin } from '../../../app/model-admin.js';
import { DomainError } from '../../../core/kernel/errors.js';
import { parseReportTime } from '../../../core/kernel/time.js';
import type { AppDeps } from '../app.js';
import { requireScope } from '../auth.js';
import { errorBodySchema } from '../errors.js';

const security = [{ adminKey: [] }];
const errors = { 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema };
const placement = { type: 'string', minLength: 1, maxLength: 64 } as const;
const time = {
  type: 'string',
  maxLength: 64,
  description: 'a UTC day (2026-03-01, its midnight) or an ISO 8601 time with a zone',
} as const;

/**
 * The model registry (src/app/model-admin.ts): list and read the learned rankers with their
 * offline metrics, and train one on the stored events as `readnext train` does.
 *
 * POST /v1/admin/models/train answers when the model is stored (200), not with a job to poll: a
 * server trains in a worker thread on its own connection (src/main/jobs.ts), so its event loop
 * keeps answering meanwhile, and the request simply waits for the model (GET /v1/admin/models
 * says what is training). On an in-memory database the training runs on the event loop. One
 * training at a time: a second request meanwhile is refused with 409 conflict. A worker that fails
 * answers 500 `internal` saying what failed. Unset `deps.models`: these routes answer 404.
 */
export const modelRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      await requireScope(deps.keys, req);
    });
    const models = (): ModelAdmin => {
      if (!deps.models) throw new DomainError('not_found', 'this server has no model registry');
      return deps.models;
    };

    app.get(
      '/v1/admin/models',
      {
        schema: {
          tags: ['models'],
          security,
          summary: 'The model registry, newest first: window, seed, feature spec, offline metrics, where each is deployed (no trees)',
          querystring: { type: 'object', additionalProperties: false, properties: { placement } },
          response: errors,
        },
      },
      async (req) => {
        const q = req.query as { placement?: string };
        return { items: await models().list(q.placement), training: models().training };
      },
    );

    app.get(
      '/v1/admin/models/:version',
      {
        schema: {
          tags: ['models'],
          security,
          summary: 'One model: its summary, tree count and feature importances (total split gain per feature)',
          params: { type: 'object', required: ['version'], properties: { version: { type: 'integer', minimum: 1 } } },
          response: errors,
        },
      },
      async (req) => models().show((req.params as { version: number }).version),
    );

    app.post(
      '/v1/admin/models/train',
      {
        schema: {
          tags: ['models'],
          security,
          summary: "Train a ranker for a placement on the stored events (as `readnext train`); answers with the stored model's details",
          description:
            'Impressions in [since, until) are the examples, the latest 20% the test slice. until defaults to now, since to 7 days before until. ' +
            'The request answers once the model is stored (seconds to minutes on large logs); the server trains in a worker thread and answers other requests meanwhile. ' +
            'One training at a time: 409 conflict while another runs. 409 invalid_state when the window has no impressions or no clicks.',
          body: {
            type: 'object',
            required: ['placement'],
            additionalProperties: false,
            properties: { placement, since: time, until: time, seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 } },
          },
          response: errors,
        },
      },
      async (req) => {
        const b = req.body as { placement: string; since?: string; until?: string; seed?: number };
        const m = models();
        return m.train({
          placement: b.placement,
          ...(b.since === undefined ? {} : { sinceTs: parseReportTime(b.since, 'since') }),
          ...(b.until === undefined ? {} : { untilTs: parseReportTime(b.until, 'until') }),
          ...(b.seed === undefined ? {} : { seed: b.seed }),
        });
      },
    );
  };
