import type { FastifyPluginAsync } from 'fastify';
import { articleToJson, parseArticleJson, type Article } from '../../../core/catalog/article.js';
import { DomainError } from '../../../core/kernel/errors.js';
import type { AppDeps } from '../app.js';
import { requireAdmin } from '../auth.js';
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

/** Admin API: every route needs the admin key. */
export const adminRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      if (req.url.startsWith('/v1/admin/')) requireAdmin(deps.keys, req);
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
          throw new DomainError('invalid_body', 'the body must be an article object');
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
          summary: 'List articles, newest first',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
              offset: { type: 'integer', minimum: 0, default: 0 },
              section: { type: 'string', maxLength: 200 },
            },
          },
          response: errors,
        },
      },
      async (req) => {
        const q = req.query as { limit: number; offset: number; section?: string };
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
  };
