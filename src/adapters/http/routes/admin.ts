import type { FastifyPluginAsync } from 'fastify';
import { articleToJson, parseArticleJson, type Article } from '../../../core/catalog/article.js';
import { DomainError } from '../../../core/kernel/errors.js';
import { parseIsoWithZone } from '../../../core/kernel/time.js';
import type { AppDeps } from '../app.js';
import { requireScope } from '../auth.js';
import { errorBodySchema } from '../errors.js';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const errors = { 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema };
const security = [{ adminKey: [] }];

/**
 * An article the catalog refuses, with the codes events use: a field the schema lacks, a required
 * field absent, or a bad value. parseArticleJson's reasons for the first two are fixed strings
 * (pinned in test/core/catalog/article.test.ts).
 */
function parseOrThrow(input: unknown, at: string): Article {
  const r = parseArticleJson(input);
  if (!r.ok) {
    const field = [at, r.error.field].filter(Boolean).join('/');
    const code = r.error.reason.startsWith('unknown field')
      ? 'unknown_field'
      : r.error.reason === 'is required'
        ? 'missing_field'
        : 'invalid_field';
    throw new DomainError(code, `${field ? `"${field}" ` : ''}${r.error.reason}`, { field });
  }
  return r.article;
}

/** Admin API: every route needs a key, of scope read for GET and write otherwise unless its config says (auth.ts neededScope). */
export const adminRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      // The route's pattern, not req.url: the router decodes the path, so `/v1/%61dmin/serves`
      // reaches /v1/admin/serves while its raw URL does not start with /v1/admin/.
      if (req.routeOptions.url?.startsWith('/v1/admin/') !== false) await requireScope(deps.keys, req);
    });

    app.post(
      '/v1/admin/articles',
      {
        schema: {
          tags: ['catalog'],
          security,
          summary: 'Upsert up to 1000 articles (idempotent)',
          body: {
            type: 'object',
            required: ['articles'],
            additionalProperties: false,
            properties: { articles: { type: 'array', minItems: 1, maxItems: 1000 } },
          },
          response: errors,
        },
      },
      async (req) => {
        const { articles } = req.body as { articles: unknown[] };
        const parsed = articles.map((a, i) => parseOrThrow(a, `articles/${i}`));
        return deps.catalog.upsert(parsed);
      },
    );

    app.put(
      '/v1/admin/articles/:id',
      { schema: { tags: ['catalog'], security, summary: 'Upsert one article', params: idParam, response: errors } },
      async (req) => {
        const { id } = req.params as { id: string };
        const body = req.body as Record<string, unknown> | null;
        if (body === null || typeof body !== 'object' || Array.isArray(body))
          throw new DomainError('invalid_body', 'the body must be an article object', { field: 'body' });
        if (body.id !== undefined && body.id !== id)
          throw new DomainError('invalid_field', `"id" in the body (${String(body.id)}) differs from the path (${id})`, { field: 'id' });
        const article = parseOrThrow({ ...body, id }, '');
        const r = await deps.catalog.upsert([article]);
        return { ...r, article: articleToJson(article) };
      },
    );

    app.get('/v1/admin/articles/:id', { schema: { tags: ['catalog'], security, params: idParam, response: errors } }, async (req) => {
      const { id } = req.params as { id: string };
      const a = await deps.catalog.get(id);
      if (!a) throw new DomainError('not_found', `no article "${id}"`, { field: 'id' });
      return articleToJson(a);
    });

    app.get(
      '/v1/admin/articles',
      {
        schema: {
          tags: ['catalog'],
          security,
          summary: 'List articles, newest first; `q`: the title contains it (case-insensitive), `total` counts the matches',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
              offset: { type: 'integer', minimum: 0, default: 0 },
              section: { type: 'string', maxLength: 200 },
              q: { type: 'string', maxLength: 200 },
            },
          },
          response: errors,
        },
      },
      async (req) => {
        const q = req.query as { limit: number; offset: number; section?: string; q?: string };
        const { total, items } = await deps.catalog.list(q);
        return { total, items: items.map(articleToJson) };
      },
    );

    for (const [action, status] of [
      ['unpublish', 'unpublished'],
      ['retract', 'retracted'],
      ['publish', 'published'],
    ] as const) {
      app.post(
        `/v1/admin/articles/:id/${action}`,
        { schema: { tags: ['catalog'], security, summary: `Mark an article ${status}`, params: idParam, response: errors } },
        async (req) => {
          const { id } = req.params as { id: string };
          if (!(await deps.catalog.setStatus(id, status))) throw new DomainError('not_found', `no article "${id}"`, { field: 'id' });
          return { id, status };
        },
      );
    }

    app.delete('/v1/admin/articles/:id', { schema: { tags: ['catalog'], security, params: idParam, response: errors } }, async (req) => {
      const { id } = req.params as { id: string };
      if (!(await deps.catalog.delete(id))) throw new DomainError('not_found', `no article "${id}"`, { field: 'id' });
      return { id, deleted: true };
    });

    app.get(
      '/v1/admin/serving/stats',
      { schema: { tags: ['serving'], security, summary: 'Requests, fallbacks and faults served by this process', response: errors } },
      async () => ({
        ...deps.recommendations.counters,
        // Slates composed from rankings shared between readers, slates ranked on their own, and shared rankings made (ADR 0002).
        sharedSlates: deps.recommendations.slates.counts.shared,
        ownSlates: deps.recommendations.slates.counts.full,
        sharedRankings: deps.recommendations.slates.counts.rankings,
        // Serve and exposure records written, dropped by a failed write, and refused by the database (each refused one alone; see RecordWriter).
        recordsWritten: deps.recordWriter.written.serves + deps.recordWriter.written.exposures,
        recordsDropped: deps.recordWriter.written.dropped,
        recordsRefused: deps.recordWriter.written.refused,
      }),
    );

    app.get(
      '/v1/admin/serves',
      {
        schema: {
          tags: ['records'],
          security,
          summary: 'Latest serve records (one per recommendation response, shadow slates included)',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
              recommId: { type: 'string', maxLength: 128 },
            },
          },
          response: errors,
        },
      },
      async (req) => {
        await deps.recordWriter.flush();
        const q = req.query as { limit: number; recommId?: string };
        const items = await deps.records.listServes(q);
        return { items: items.map((s) => ({ ...s, servedAt: new Date(s.servedTs).toISOString() })) };
      },
    );

    app.get(
      '/v1/admin/exposures',
      {
        schema: {
          tags: ['records'],
          security,
          summary: 'Exposures of one experiment',
          querystring: {
            type: 'object',
            required: ['experiment'],
            additionalProperties: false,
            properties: { experiment: { type: 'string', minLength: 1, maxLength: 128 } },
          },
          response: errors,
        },
      },
      async (req) => {
        await deps.recordWriter.flush();
        const { experiment } = req.query as { experiment: string };
        const items = await deps.records.listExposures(experiment);
        return { items: items.map((e) => ({ ...e, exposedAt: new Date(e.exposedTs).toISOString() })) };
      },
    );

    app.get(
      '/v1/admin/data/report',
      {
        schema: {
          tags: ['data'],
          security,
          summary: 'The data report: quality and stability of the stored events (src/app/data-report.ts)',
          description:
            'since / until: a UTC day (2026-03-01) or an ISO 8601 time with a zone; until is excluded and defaults to now, since to 14 days before until. ' +
            'placement: the placement of the feature drift and model decay (default: the one with most impressions).',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              since: { type: 'string', maxLength: 64 },
              until: { type: 'string', maxLength: 64 },
              placement: { type: 'string', minLength: 1, maxLength: 128 },
            },
          },
          response: errors,
        },
      },
      async (req) => {
        if (!deps.dataReport) throw new DomainError('not_found', 'this server has no data report');
        const q = req.query as { since?: string; until?: string; placement?: string };
        return deps.dataReport(q);
      },
    );

    app.get(
      '/v1/admin/kpis',
      {
        schema: {
          tags: ['data'],
          security,
          summary: "The Overview's KPIs per UTC day: page views, reads, readers, widget CTR per placement, revenue (src/app/kpis.ts)",
          description:
            'since / until: a UTC day (2026-03-01) or an ISO 8601 time with a zone, over client times; until is excluded and defaults to now, since to 14 days before until; at most 92 days.',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { since: { type: 'string', maxLength: 64 }, until: { type: 'string', maxLength: 64 } },
          },
          response: errors,
        },
      },
      async (req) => {
        if (!deps.kpis) throw new DomainError('not_found', 'this server has no KPIs');
        return deps.kpis(req.query as { since?: string; until?: string });
      },
    );

    const roiOf = (): NonNullable<AppDeps['roi']> => {
      if (!deps.roi) throw new DomainError('not_found', 'this server has no ROI');
      return deps.roi;
    };
    const roiDoc = { type: 'object', description: 'a scenario document (`readnext roi init` prints the template)' } as const;

    app.post(
      '/v1/admin/roi',
      {
        // Computes and stores nothing: a read.
        config: { scope: 'read' },
        schema: {
          tags: ['roi'],
          security,
          summary:
            "ROI under uncertainty of a scenario document: per option mean, quantiles, P(>0), P(best); EVPI; every input's EVPPI (src/app/roi.ts)",
          description:
            'The body of `readnext roi --input FILE --json`. {"dist":"measured"} inputs are resolved from this server\'s experiments, logs and models; ' +
            '`measured_by` applies on POST /v1/admin/roi/update only. An invalid document answers 400 naming the field.',
          body: roiDoc,
          response: errors,
        },
      },
      async (req) => roiOf().analyse(req.body),
    );

    app.post(
      '/v1/admin/roi/update',
      {
        schema: {
          tags: ['roi'],
          security,
          summary: 'Replace the priors of measured inputs by their posteriors, recompute, and store the revision (`readnext roi update`)',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
          },
          body: roiDoc,
          response: errors,
        },
      },
      async (req) => roiOf().update(req.body, (req.query as { name?: string }).name),
    );

    app.get(
      '/v1/admin/roi/revisions',
      {
        schema: {
          tags: ['roi'],
          security,
          summary: 'The stored ROI revisions, oldest first: how the uncertainty and the decision moved',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
          },
          response: errors,
        },
      },
      async (req) => ({ revisions: await roiOf().revisions((req.query as { name?: string }).name) }),
    );

    app.get(
      '/v1/admin/ope',
      {
        schema: {
          tags: ['data'],
          security,
          summary:
            "Off-policy evaluation: a candidate's clicks per slate estimated from the placement's logged exploration (src/app/ope.ts)",
          description:
            'The body of `readnext ope --json`. candidate: KIND@VERSION, live or a shadow on the placement in the window. ' +
            'since / until: ISO 8601 times with a zone; until is excluded and defaults to now, since to 7 days before until. ' +
            'Refusals answer 409 invalid_state with the reason: no explored traffic in the window (field placement), a candidate ' +
            'the logs never showed, or one no estimator can evaluate (too little support, too small an effective sample size; field candidate). ' +
            'An estimator that alone refuses is reported in the body (estimates.NAME.ok false, with its code and reason).',
          querystring: {
            type: 'object',
            required: ['placement', 'candidate'],
            additionalProperties: false,
            properties: {
              placement: { type: 'string', minLength: 1, maxLength: 128 },
              candidate: { type: 'string', minLength: 1, maxLength: 200 },
              since: { type: 'string', maxLength: 64 },
              until: { type: 'string', maxLength: 64 },
            },
          },
          response: { ...errors, 409: errorBodySchema },
        },
      },
      async (req) => {
        const q = req.query as { placement: string; candidate: string; since?: string; until?: string };
        const m = /^([a-z][a-z0-9-]*)@([^\s@]{1,64})$/.exec(q.candidate);
        if (!m)
          throw new DomainError('invalid_field', `"candidate" (${q.candidate}) must be KIND@VERSION, e.g. co-read@2`, {
            field: 'candidate',
          });
        const time = (v: string | undefined, field: 'since' | 'until', fallback: number): number => {
          if (v === undefined) return fallback;
          const t = parseIsoWithZone(v);
          if (t === undefined)
            throw new DomainError('invalid_field', `"${field}" (${v}) is not an ISO 8601 time with a zone, on a day that exists`, {
              field,
            });
          return t;
        };
        const untilTs = time(q.until, 'until', deps.clock.now());
        const sinceTs = time(q.since, 'since', untilTs - 7 * 86_400_000);
        if (untilTs <= sinceTs)
          throw new DomainError('invalid_field', 'the window is empty: until must be after since', { field: 'until' });
        // The serve records buffered in this process are part of the log.
        await deps.recordWriter.flush();
        const { offPolicyEstimate } = await import('../../../app/ope.js');
        const r = await offPolicyEstimate(deps.records, {
          placement: q.placement,
          candidate: { kind: m[1]!, version: m[2]! },
          sinceTs,
          untilTs,
        });
        const refused = Object.entries(r.estimates).filter(([, e]) => !e.ok) as [string, { code: string; reason: string }][];
        if (refused.length === Object.keys(r.estimates).length)
          throw new DomainError(
            'invalid_state',
            `no estimator could evaluate ${r.candidate} on ${r.rounds} logged slates (${r.explored} explored): ` +
              refused.map(([name, e]) => `${name} ${e.code}: ${e.reason}`).join('; '),
            { field: 'candidate' },
          );
        return r;
      },
    );
  };
