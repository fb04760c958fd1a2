import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../../api/types.js';
import { DomainError, type ErrorCode } from '../../core/kernel/errors.js';

/** The one place where error codes become HTTP statuses. */
const STATUS: Record<ErrorCode, number> = {
  invalid_field: 400,
  unknown_field: 400,
  missing_field: 400,
  invalid_json: 400,
  invalid_encoding: 400,
  invalid_text: 400,
  invalid_body: 400,
  bad_request: 400,
  request_timeout: 408,
  headers_too_large: 431,
  url_too_long: 414,
  batch_size: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  unauthorized: 401,
  forbidden: 403,
  missing_scope: 403,
  conflict: 409,
  rate_limited: 429,
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
  not_simulated: 404,
  // The database cannot store the request's data now (events: nothing of the batch was acknowledged); Retry-After says when to try again.
  storage_unavailable: 503,
  storage_full: 503,
  internal: 500,
};

/**
 * Seconds a client should wait before sending again (Retry-After, RFC 9110 section 10.2.3): a
 * database restarting is back in seconds; a full disk needs someone to free space.
 */
const RETRY_AFTER_S: Partial<Record<ErrorCode, number>> = { storage_unavailable: 2, storage_full: 30 };

export type { ErrorBody } from '../../api/types.js';

export const errorBodySchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(STATUS), description: 'stable, machine-readable; the status follows from it' },
        message: { type: 'string' },
        field: {
          type: ['string', 'null'],
          description: 'the field at fault: a body path (articles/1/publishedAt) or a bare query-string or route name (k)',
        },
      },
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
    case 'FST_ERR_BAD_URL':
      return new DomainError('bad_request', `the URL is not valid: ${e.message}`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new DomainError('url_too_long', `a path segment is too long: ${e.message}`);
  }
  if (e.validation && e.validation.length > 0) {
    const v = e.validation[0]!;
    const params = v.params as Record<string, unknown>;
    const path = v.instancePath.replace(/^\//, '');
    const prop = (params.missingProperty ?? params.additionalProperty) as string | undefined;
    // Body fields are paths (articles/1/publishedAt); query-string, route and header fields are
    // bare names (k), as the handlers name them. A key may be "" (`?=x`): it is named "", not null.
    // A fault of the whole body (not an object) names the part: "body".
    const field = prop === undefined ? path || e.validationContext || null : path ? `${path}/${prop}` : prop;
    if (v.keyword === 'additionalProperties')
      return new DomainError('unknown_field', `unknown field "${field}"`, { field: field ?? undefined });
    if (v.keyword === 'required') return new DomainError('missing_field', `"${field}" is required`, { field: field ?? undefined });
    return new DomainError('invalid_field', `"${field ?? e.validationContext}" ${v.message ?? 'is invalid'}`, {
      field: field ?? undefined,
    });
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

/** When each storage fault code was last logged (per process): an outage logs once per OUTAGE_LOG_MS, not per request. */
const outageLogged = new Map<string, number>();
const OUTAGE_LOG_MS = 10_000;

/** Logs a storage outage answered with 503 (with its driver cause), at most once per OUTAGE_LOG_MS per code. */
function logOutage(log: ErrorLog | undefined, d: DomainError, req: FastifyRequest): void {
  const now = Date.now();
  if (now - (outageLogged.get(d.code) ?? -Infinity) < OUTAGE_LOG_MS) return;
  outageLogged.set(d.code, now);
  log?.error(
    { err: d.cause ?? d, code: d.code, method: req.method, url: req.url },
    `storage fault answered 503 (${d.code}); logged once per 10 s`,
  );
}

/** The app's error handler: domain errors as 4xx bodies with a stable code, anything else a logged 500. */
export const errorHandler =
  (log: ErrorLog | undefined) =>
  (e: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply =>
    handleError(log, e, req, reply);

function handleError(log: ErrorLog | undefined, e: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const d = e instanceof DomainError ? e : fromFastify(e);
  if (d) {
    const body: ErrorBody = { error: { code: d.code, message: d.message, field: d.field ?? null } };
    const retry = RETRY_AFTER_S[d.code];
    if (retry !== undefined) void reply.header('retry-after', String(retry));
    if (d.code === 'storage_unavailable' || d.code === 'storage_full') logOutage(log, d, req);
    return reply.code(STATUS[d.code]).send(body);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const body: ErrorBody = { error: { code: 'bad_request', message: e.message, field: null } };
    return reply.code(e.statusCode).send(body);
  }
  log?.error({ err: e, reqId: req.id, method: req.method, url: req.url }, 'unhandled error');
  return reply.code(500).send({ error: { code: 'internal', message: 'internal error', field: null } });
}

/**
 * The errors Node's HTTP parser raises before a request reaches Fastify (a request or header
 * timeout, headers over `maxHeaderSize`, bytes that are not HTTP), answered in the same shape:
 * Fastify's `clientErrorHandler`. Like Node's default, it answers only while nothing of a response
 * has been written on the socket, then closes the connection (its framing can no longer be trusted).
 */
export function clientErrorHandler(e: NodeJS.ErrnoException, socket: Socket): void {
  if (e.code === 'ECONNRESET' || socket.destroyed) return;
  const d =
    e.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new DomainError('request_timeout', 'the request (headers and body) was not received in time')
      : e.code === 'HPE_HEADER_OVERFLOW'
        ? new DomainError('headers_too_large', 'the request headers exceed the server limit')
        : new DomainError('bad_request', `the request is not valid HTTP/1.1${e.code ? ` (${e.code})` : ''}`);
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const status = STATUS[d.code];
    const body = JSON.stringify({ error: { code: d.code, message: d.message, field: null } } satisfies ErrorBody);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(e);
}
