import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { CanaryInput, Deployment } from '../../../app/deploy-admin.js';
import type { Actor } from '../../../app/ports.js';
import { experimentReport } from '../../../app/analysis.js';
import { interleavingReport, shadowReport } from '../../../app/reports.js';
import { experimentTimeline } from '../../../app/timeline.js';
import { unbalancedPhase, type Experiment } from '../../../core/experiments/experiment.js';
import { DomainError } from '../../../core/kernel/errors.js';
import { parseIsoWithZone } from '../../../core/kernel/time.js';
import type { RecommenderConfig } from '../../../core/recommend/types.js';
import type { AppDeps } from '../app.js';
import { requireScope } from '../auth.js';
import { errorBodySchema } from '../errors.js';

const security = [{ adminKey: [] }];
const errors = { 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema };
const placementParam = {
  type: 'object',
  required: ['placement'],
  properties: { placement: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;
const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } } as const;
const recommender = {
  type: 'object',
  required: ['kind', 'version'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', minLength: 1, maxLength: 64 },
    version: { type: 'string', minLength: 1, maxLength: 64 },
    params: { type: 'object' },
  },
} as const;
const reason = { type: 'string', maxLength: 2000 } as const;

/** Who acts: `X-Readnext-Actor` (a person or tool name), else "admin-api"; why: the body's `reason` or `X-Readnext-Reason`. */
function actor(req: FastifyRequest, bodyReason?: unknown): Actor {
  const a = req.headers['x-readnext-actor'];
  const r = req.headers['x-readnext-reason'];
  const why = typeof bodyReason === 'string' ? bodyReason : typeof r === 'string' ? r : null;
  return { actor: typeof a === 'string' && a.trim() !== '' ? a.slice(0, 200) : 'admin-api', reason: why };
}

/** A DELETE's optional JSON body `{reason}` (the dashboard sends it there: a header cannot carry every character). */
const bodyReason = (req: FastifyRequest): unknown => (req.body as { reason?: unknown } | null | undefined)?.reason;

export const deploymentJson = (p: Deployment) => ({
  ...p.config,
  revision: p.revision,
  experiments: p.experiments.map((e) => e.experiment.id),
});
const experimentJson = (e: Experiment) => ({
  ...e,
  createdAt: new Date(e.createdTs).toISOString(),
  startedAt: e.startedTs === null ? null : new Date(e.startedTs).toISOString(),
  stoppedAt: e.stoppedTs === null ? null : new Date(e.stoppedTs).toISOString(),
});

/** Deployments per placement and experiments: every change audited, applied by every node without restart. */
export const deploymentRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      await requireScope(deps.keys, req);
    });
    const d = deps.deployments;
    const live = deps.placements;

    app.get(
      '/v1/admin/deployments',
      { schema: { tags: ['deploy'], security, summary: "Every placement's deployment", response: errors } },
      async () => ({
        version: live.deployVersion,
        items: live.list().map(deploymentJson),
      }),
    );

    app.get(
      '/v1/admin/deployments/:placement',
      { schema: { tags: ['deploy'], security, params: placementParam, response: errors } },
      async (req) => {
        const { placement } = req.params as { placement: string };
        const p = live.get(placement);
        if (!p) throw new DomainError('unknown_placement', `unknown placement "${placement}"`, { field: 'placement' });
        return deploymentJson(p);
      },
    );

    app.put(
      '/v1/admin/deployments/:placement',
      {
        schema: {
          tags: ['deploy'],
          security,
          params: placementParam,
          response: errors,
          summary:
            "Create or replace a placement's deployment: live recommender, fallbacks, shadows, canary, k, TTL, diversity, pins, blocks",
          description: 'Send the `revision` you read as If-Match (or ?revision=) to refuse overwriting a concurrent change (409 conflict).',
          querystring: { type: 'object', additionalProperties: false, properties: { revision: { type: 'integer', minimum: 0 } } },
        },
      },
      async (req) => {
        const { placement } = req.params as { placement: string };
        const body = { ...(req.body as Record<string, unknown>) };
        const why = body.reason;
        delete body.reason;
        delete body.revision;
        delete body.experiments;
        const ifMatch = req.headers['if-match'];
        const q = (req.query as { revision?: number }).revision;
        const expected = q ?? (typeof ifMatch === 'string' && /^"?\d+"?$/.test(ifMatch) ? Number(ifMatch.replaceAll('"', '')) : undefined);
        return deploymentJson(await d.put(placement, body, expected, actor(req, why)));
      },
    );

    app.post(
      '/v1/admin/deployments/:placement/live',
      {
        schema: {
          tags: ['deploy'],
          security,
          params: placementParam,
          summary: 'Make a recommender live',
          body: { type: 'object', required: ['recommender'], additionalProperties: false, properties: { recommender, reason } },
          response: errors,
        },
      },
      async (req) => {
        const { placement } = req.params as { placement: string };
        const b = req.body as { recommender: RecommenderConfig; reason?: string };
        return deploymentJson(await d.setLive(placement, b.recommender, actor(req, b.reason)));
      },
    );

    app.post(
      '/v1/admin/deployments/:placement/shadows',
      {
        schema: {
          tags: ['deploy'],
          security,
          params: placementParam,
          summary: 'Add a shadow recommender (computed and logged, never shown)',
          body: { type: 'object', required: ['recommender'], additionalProperties: false, properties: { recommender, reason } },
          response: errors,
        },
      },
      async (req) => {
        const { placement } = req.params as { placement: string };
        const b = req.body as { recommender: RecommenderConfig; reason?: string };
        return deploymentJson(await d.addShadow(placement, b.recommender, actor(req, b.reason)));
      },
    );

    app.delete(
      '/v1/admin/deployments/:placement/shadows/:kind/:version',
      { schema: { tags: ['deploy'], security, summary: 'Remove a shadow', response: errors } },
      async (req) => {
        const { placement, kind, version } = req.params as { placement: string; kind: string; version: string };
        return deploymentJson(await d.removeShadow(placement, { kind, version }, actor(req, bodyReason(req))));
      },
    );

    app.post(
      '/v1/admin/deployments/:placement/canary',
      {
        schema: {
          tags: ['deploy'],
          security,
          params: placementParam,
          response: errors,
          summary: 'Start a canary: a share of readers on a new recommender, rolled back automatically when a guardrail breaks',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: { recommender, percent: { type: 'number' }, guardrails: { type: 'object' }, reason },
          },
        },
      },
      async (req) => {
        const { placement } = req.params as { placement: string };
        // The body's shape is checked by parsePlacementConfig (missing fields name themselves).
        const { reason: why, ...canary } = req.body as CanaryInput & { reason?: string };
        return deploymentJson(await d.startCanary(placement, canary, actor(req, why)));
      },
    );

    app.delete(
      '/v1/admin/deployments/:placement/canary',
      { schema: { tags: ['deploy'], security, params: placementParam, summary: 'Stop the canary', response: errors } },
      async (req) => {
        const { placement } = req.params as { placement: string };
        return deploymentJson(await d.stopCanary(placement, actor(req, bodyReason(req))));
      },
    );

    app.put(
      '/v1/admin/deployments/:placement/exploration',
      {
        schema: {
          tags: ['deploy'],
          security,
          params: placementParam,
          response: errors,
          summary: 'Set the logged exploration {share, pool} on live slates, or stop it with {"exploration": null}',
          body: {
            type: 'object',
            required: ['exploration'],
            additionalProperties: false,
            // The shape of {share, pool} is checked by parsePlacementConfig (the field names itself).
            properties: { exploration: { type: ['object', 'null'] }, reason },
          },
        },
      },
      async (req) => {
        const { placement } = req.params as { placement: string };
        const b = req.body as { exploration: unknown; reason?: string };
        return deploymentJson(await d.setExploration(placement, b.exploration, actor(req, b.reason)));
      },
    );

    app.post(
      '/v1/admin/deployments/:placement/rollback',
      {
        schema: {
          tags: ['deploy'],
          security,
          params: placementParam,
          response: errors,
          summary: 'Restore an earlier deployment (default: the previous revision) as a new revision',
          body: { type: 'object', additionalProperties: false, properties: { to: { type: 'integer', minimum: 1 }, reason } },
        },
      },
      async (req) => {
        const { placement } = req.params as { placement: string };
        const b = (req.body ?? {}) as { to?: number; reason?: string };
        return deploymentJson(await d.rollback(placement, b.to, actor(req, b.reason)));
      },
    );

    app.get(
      '/v1/admin/deployments/:placement/history',
      { schema: { tags: ['deploy'], security, params: placementParam, response: errors } },
      async (req) => {
        const { placement } = req.params as { placement: string };
        const rows = await d.history(placement);
        return {
          items: rows.map((r) => ({
            revision: r.revision,
            at: new Date(r.updatedTs).toISOString(),
            actor: r.actor,
            reason: r.reason,
            config: r.config,
          })),
        };
      },
    );

    app.get(
      '/v1/admin/audit',
      {
        schema: {
          tags: ['deploy'],
          security,
          summary: 'The append-only audit log, newest first',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, target: { type: 'string', maxLength: 200 } },
          },
          response: errors,
        },
      },
      async (req) => {
        const q = req.query as { limit: number; target?: string };
        const rows = await deps.audit.listAudit(q);
        return { items: rows.map((r) => ({ ...r, at: new Date(r.ts).toISOString() })) };
      },
    );

    app.post(
      '/v1/admin/canaries/check',
      {
        schema: {
          tags: ['deploy'],
          security,
          summary: "Check every canary's guardrails now (they are also checked periodically); breaches roll back",
          response: errors,
        },
      },
      async () => {
        // The guardrails read the stored `serve` records: write this process's buffered ones first.
        await deps.recordWriter.flush();
        return { items: await deps.canaryGuard.checkAll() };
      },
    );

    app.get(
      '/v1/admin/shadow-report',
      {
        schema: {
          tags: ['deploy'],
          security,
          summary: 'Shadow vs live on the same requests: latency, errors, overlap (Jaccard, RBO), would-have-clicked',
          querystring: {
            type: 'object',
            required: ['placement'],
            additionalProperties: false,
            properties: {
              placement: { type: 'string', minLength: 1, maxLength: 64 },
              since: { type: 'string', format: 'date-time' },
              limit: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 100_000 },
            },
          },
          response: errors,
        },
      },
      async (req) => {
        const q = req.query as { placement: string; since?: string; limit: number };
        if (!live.get(q.placement))
          throw new DomainError('unknown_placement', `unknown placement "${q.placement}"`, { field: 'placement' });
        await deps.recordWriter.flush();
        const since = q.since ? parseIsoWithZone(q.since) : deps.clock.now() - 24 * 3_600_000;
        if (since === undefined)
          throw new DomainError('invalid_field', `"since" is not an ISO 8601 time with a zone, on a day that exists`, { field: 'since' });
        return shadowReport(deps.records, q.placement, since, q.limit);
      },
    );

    // ---- experiments

    app.get(
      '/v1/admin/experiments/:id/report',
      {
        schema: {
          tags: ['experiments'],
          security,
          params: idParam,
          response: errors,
          summary: 'Business metrics per arm with estimates, intervals, p-values or chance to win, SRM and a verdict',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              phase: { type: 'integer', minimum: 1 },
              engine: { type: 'string', enum: ['frequentist', 'sequential', 'bayesian'] },
              alpha: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
              revenueCap: { type: 'number', exclusiveMinimum: 0 },
              cuped: { type: 'boolean' },
            },
          },
        },
      },
      async (req) => {
        const { id } = req.params as { id: string };
        await deps.recordWriter.flush();
        return experimentReport(live, deps.analysis, deps.clock, id, {
          ...(req.query as { phase?: number; engine?: 'frequentist'; alpha?: number; revenueCap?: number; cuped?: boolean }),
          rollups: deps.rollups,
        });
      },
    );

    app.get(
      '/v1/admin/experiments/:id/timeline',
      {
        schema: {
          tags: ['experiments'],
          security,
          params: idParam,
          response: errors,
          summary: "A metric's relative effect per treatment arm over time, with its always-valid confidence sequence (sequential engine)",
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              phase: { type: 'integer', minimum: 1 },
              metric: { type: 'string', minLength: 1, maxLength: 64 },
              alpha: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
            },
          },
        },
      },
      async (req) => {
        const { id } = req.params as { id: string };
        await deps.recordWriter.flush();
        return experimentTimeline(live, deps.analysis, deps.clock, id, {
          ...(req.query as { phase?: number; metric?: string; alpha?: number }),
          rollups: deps.rollups,
        });
      },
    );

    app.get(
      '/v1/admin/experiments/:id/interleaving',
      {
        schema: {
          tags: ['experiments'],
          security,
          params: idParam,
          summary: 'Team preference per reader with a sign test (interleaving experiments)',
          response: errors,
        },
      },
      async (req) => {
        const { id } = req.params as { id: string };
        const e = live.getExperiment(id)?.experiment;
        if (!e) throw new DomainError('not_found', `no experiment "${id}"`, { field: 'id' });
        if (e.kind !== 'interleaving')
          throw new DomainError('invalid_state', `experiment "${id}" is not an interleaving experiment`, { field: 'kind' });
        await deps.recordWriter.flush();
        return {
          experiment: id,
          phase: e.phase,
          ...(await interleavingReport(deps.records, id, e.phase, [e.arms[0]!.name, e.arms[1]!.name])),
        };
      },
    );

    app.post(
      '/v1/admin/experiments',
      {
        schema: {
          tags: ['experiments'],
          security,
          summary: 'Create an experiment (a draft)',
          response: { ...errors, 201: { type: 'object', additionalProperties: true } },
        },
      },
      async (req, reply) => {
        const { reason: why, ...body } = (req.body ?? {}) as Record<string, unknown>;
        const e = await d.createExperiment(body, actor(req, why));
        return reply.code(201).send(experimentJson(e));
      },
    );

    app.get('/v1/admin/experiments', { schema: { tags: ['experiments'], security, response: errors } }, async () => ({
      items: live.listExperiments().map((e) => experimentJson(e.experiment)),
    }));

    app.get(
      '/v1/admin/experiments/:id',
      { schema: { tags: ['experiments'], security, params: idParam, response: errors } },
      async (req) => {
        const { id } = req.params as { id: string };
        const e = live.getExperiment(id);
        if (!e) throw new DomainError('not_found', `no experiment "${id}"`, { field: 'id' });
        return experimentJson(e.experiment);
      },
    );

    for (const action of ['start', 'stop'] as const) {
      app.post(
        `/v1/admin/experiments/:id/${action}`,
        { schema: { tags: ['experiments'], security, params: idParam, summary: `${action} an experiment`, response: errors } },
        async (req) => {
          const { id } = req.params as { id: string };
          const why = (req.body as { reason?: unknown } | undefined)?.reason;
          const by = actor(req, why);
          return experimentJson(action === 'start' ? await d.startExperiment(id, by) : await d.stopExperiment(id, by));
        },
      );
    }

    app.patch(
      '/v1/admin/experiments/:id',
      {
        schema: {
          tags: ['experiments'],
          security,
          params: idParam,
          response: errors,
          summary:
            'Change weights or audience; on a running experiment this starts a new phase (readers keep their arm unless reRandomise; changing weights without it returns a warning: that phase fails SRM by construction)',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              weights: { type: 'array', items: { type: 'number' } },
              coverage: { type: 'number' },
              reRandomise: { type: 'boolean' },
              reason,
            },
          },
        },
      },
      async (req) => {
        const { id } = req.params as { id: string };
        const b = req.body as { weights?: number[]; coverage?: number; reRandomise?: boolean; reason?: string };
        const e = await d.changeExperiment(id, b, actor(req, b.reason));
        // Weights changed without re-randomising: the new phase fails SRM by construction (unbalancedPhase).
        return { ...experimentJson(e), warning: e.phase > 0 ? unbalancedPhase(e, e.phase) : null };
      },
    );
  };
