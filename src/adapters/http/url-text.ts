import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { badTextReason } from '../../core/kernel/strings.js';
import { DomainError } from '../../core/kernel/errors.js';

/**
 * The first query-string or route value that events would refuse as text (a NUL or a lone
 * surrogate; see `badTextReason`), as the error to answer with, or undefined. Field names are bare
 * (`reader`, `id`), as for every query-string and route field.
 *
 * Why: such a value reaches the database as an id. PostgreSQL refuses a NUL in text (`invalid byte
 * sequence for encoding "UTF8": 0x00`), so `?reader=x%00` answered 200 and then failed the record
 * writer's batch (and a lookup by `:id` answered 500). A NUL arrives as `%00`; a lone surrogate
 * cannot come out of a URL today (the query-string parser leaves undecodable escapes such as
 * `%ED%A0%80` as they are, and the router refuses them in a path) but is checked the same way.
 *
 * @example
 * urlTextError({ placement: 'read-next', reader: 'x\u0000' }, {})?.field // 'reader'
 */
export function urlTextError(query: unknown, params: unknown): DomainError | undefined {
  return firstBad(query) ?? firstBad(params);
}

function firstBad(values: unknown): DomainError | undefined {
  if (values === null || typeof values !== 'object') return undefined;
  for (const name in values) {
    if (!Object.hasOwn(values, name)) continue;
    const v = (values as Record<string, unknown>)[name];
    // A repeated query-string key comes as an array of its values.
    for (const s of Array.isArray(v) ? v : [v]) {
      if (typeof s !== 'string') continue;
      const reason = badTextReason(s);
      if (reason !== undefined) return new DomainError('invalid_text', `"${name}" ${reason}`, { field: name });
    }
  }
  return undefined;
}

/**
 * A `preValidation` hook for every route: after authentication (onRequest) and before the schema,
 * so that `?reader=x%00` is a 400 `invalid_text` naming `reader`, like an event with such a field.
 */
export function rejectBadUrlText(req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  done(urlTextError(req.query, req.params));
}
