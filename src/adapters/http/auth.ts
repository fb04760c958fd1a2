import type { FastifyRequest } from 'fastify';
import type { ApiKeys } from '../../app/keys.js';
import type { KeyRole } from '../../app/ports.js';
import { DomainError } from '../../core/kernel/errors.js';

const HEADER: Record<KeyRole, string> = { admin: 'x-readnext-admin-key', ingest: 'x-readnext-ingest-key' };

/** `Bearer KEY`; the scheme is case-insensitive (RFC 9110 section 11.1), spaces or tabs follow it. */
const BEARER = /^bearer[ \t]+(\S.*)$/i;

/** The key a request presents for `role`: its own header, or `Authorization: Bearer KEY`. */
export function presentedKey(req: FastifyRequest, role: KeyRole): string | undefined {
  const own = req.headers[HEADER[role]];
  if (typeof own === 'string' && own !== '') return own;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') return BEARER.exec(auth)?.[1]!.trim() || undefined;
  return undefined;
}

/** Throws unless the request carries the admin key. */
export function requireAdmin(keys: ApiKeys, req: FastifyRequest): void {
  const k = presentedKey(req, 'admin');
  if (k === undefined)
    throw new DomainError('unauthorized', 'this endpoint needs the admin key (Authorization: Bearer KEY or X-Readnext-Admin-Key)');
  if (!keys.check('admin', k)) throw new DomainError('unauthorized', 'the admin key is not valid');
}

/**
 * Whether an events request is server-to-server. No key: a browser request (public types only).
 * A key that is present but wrong is an error, so a misconfigured integration notices.
 */
export function ingestTrust(keys: ApiKeys, req: FastifyRequest): boolean {
  const k = presentedKey(req, 'ingest');
  if (k === undefined) return false;
  if (!keys.check('ingest', k)) throw new DomainError('unauthorized', 'the ingest key is not valid');
  return true;
}
