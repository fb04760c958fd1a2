/**
 * Expected failures carry a stable, machine-readable code. The HTTP error mapper
 * (adapters/http/errors.ts) and the CLI (adapters/cli) translate codes to status and exit codes
 * in exactly one place each. Parsers that reject input item by item return a rejection as a value
 * instead, in a union named for what they parse (ArticleParse in core/catalog/article.ts,
 * EventValidation in core/events/validate.ts).
 *
 * @example
 * throw new DomainError('invalid_field', 'k must be an integer between 1 and 50', { field: 'k' })
 */
export type ErrorCode =
  | 'invalid_field'
  | 'unknown_field'
  | 'missing_field'
  | 'invalid_json'
  | 'invalid_encoding'
  | 'invalid_text'
  | 'invalid_body'
  | 'bad_request'
  | 'request_timeout'
  | 'headers_too_large'
  | 'url_too_long'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'batch_size'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'missing_scope'
  | 'conflict'
  | 'rate_limited'
  | 'invalid_config'
  | 'invalid_database_url'
  | 'import_failed'
  | 'not_ready'
  | 'unknown_placement'
  | 'invalid_weights'
  | 'invalid_state'
  | 'overlapping_experiment'
  | 'unknown_recommender'
  | 'unknown_version'
  | 'missing_guardrails'
  | 'not_simulated'
  | 'storage_unavailable'
  | 'storage_full'
  | 'internal';

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.field = options.field;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
