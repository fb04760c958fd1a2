import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorCode } from '../../core/kernel/errors.js';

/** The one place where error codes become HTTP statuses. */
const STATUS: Record<ErrorCode, number> = {
  invalid_field: 400,
  unknown_field: 400,
  missing_field: 400,
  invalid_json: 400,
  invalid_body: 400,
  batch_size: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  unauthorized: 401,
  forbidden: 403,
  conflict: 409,
  invalid_config: 500,
  invalid_database_url: 500,
  import_failed: 500,
  not_ready: 503,
  unknown_placement: 400,
  invalid_weights: 400,
  invalid_state: 409,
  overlapping_experiment: 409,
  unknown_recommender: 400,
  unknown_version: 404,
  missing_guardrails: 400,
  internal: 500,
};

export interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}

export const errorBodySchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: ['string', 'null'] } },
    },
  },
} as const;

/** Fastify's own failures (body parsing, limits, schema validation) mapped onto our codes. */
function fromFastify(e: FastifyError): DomainError | undefined {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DomainError('body_too_large', `request body exceeds the limit: ${e.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DomainError('unsupported_media_type', 'send application/json (or text/plain holding JSON)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DomainError('invalid_json', 'the body is empty; expected a JSON document');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new DomainError('invalid_json', `the body is not valid JSON: ${e.message}`);
  }
  if (e.validation && e.validation.length > 0) {
    const v = e.validation[0]!;
    const params = v.params as Record<string, unknown>;
    const path = v.instancePath.replace(/^\//, '');
    const prop = (params.missingProperty ?? params.additionalProperty) as string | undefined;
    const field = [e.validationContext === 'body' ? '' : e.validationContext, path, prop].filter(Boolean).join('/') || null;
    if (v.keyword === 'additionalProperties') return new DomainError('unknown_field', `unknown field "${field}"`, { field: field ?? undefined });
    if (v.keyword === 'required') return new DomainError('missing_field', `"${field}" is required`, { field: field ?? undefined });
    return new DomainError('invalid_field', `"${field ?? e.validationContext}" ${v.message ?? 'is invalid'}`, { field: field ?? undefined });
  }
  if (e instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message))) {
    return new DomainError('invalid_json', `the body is not valid JSON: ${e.message}`);
  }
  return undefined;
}

/** Where the HTTP adapter writes the one thing it logs, an unhandled error (a pino logger in production). */
export interface ErrorLog {
  error(obj: object, msg: string): void;
}

/** The app's error handler: domain errors as 4xx bodies with a stable code, anything else a logged 500. */
export const errorHandler = (log: ErrorLog | undefined) => (e: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => handleError(log, e, req, reply);

function handleError(log: ErrorLog | undefined, e: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const d = e instanceof DomainError ? e : fromFastify(e);
  if (d) {
    const body: ErrorBody = { error: { code: d.code, message: d.message, field: d.field ?? null } };
    return reply.code(STATUS[d.code]).send(body);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return reply.code(e.statusCode).send({ error: { code: 'bad_request', message: e.message, field: null } });
  }
  log?.error({ err: e, reqId: req.id, method: req.method, url: req.url }, 'unhandled error');
  return reply.code(500).send({ error: { code: 'internal', message: 'internal error', field: null } });
}
