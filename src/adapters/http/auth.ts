import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ApiKeys } from '../../app/keys.js';
import type { KeyRole } from '../../app/ports.js';
import type { DashboardSessions, Session } from '../../app/sessions.js';
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

/** Throws unless the request carries the admin key or a live dashboard session (sessionAuth). */
export function requireAdmin(keys: ApiKeys, req: FastifyRequest): void {
  if (viaSession.has(req)) return;
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

/** The dashboard's session cookie (routes/dashboard.ts sets it). */
export const SESSION_COOKIE = 'readnext_session';
const COOKIE = new RegExp(`(?:^|;)[ \\t]*${SESSION_COOKIE}=([^;]*)`);

/** The session cookie's value in a request's Cookie header (the first, if several). */
export function sessionCookie(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  return (typeof header === 'string' && COOKIE.exec(header)?.[1]?.trim()) || undefined;
}

/** Methods that change state: with a session cookie, they must carry the session's x-csrf-token. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Throws 403 forbidden unless the request carries the session's CSRF token (synchronizer token). */
export function requireCsrf(sessions: DashboardSessions, session: Session, req: FastifyRequest): void {
  const t = req.headers['x-csrf-token'];
  if (!sessions.csrfMatches(session, typeof t === 'string' ? t : undefined))
    throw new DomainError('forbidden', 'a change made with the dashboard session needs its token in the x-csrf-token header');
}

/** The requests admitted by sessionAuth: requireAdmin lets them through. */
const viaSession = new WeakSet<FastifyRequest>();

/**
 * Lets a dashboard session stand for the admin key on /v1/admin/* (an app-wide onRequest hook, so
 * it runs before the admin routes' requireAdmin). A request that presents the admin key is left to
 * requireAdmin, as before. Otherwise, with the session cookie: a live session admits GET and HEAD,
 * and a state-changing method only with the session's x-csrf-token (else 403 forbidden); an unknown
 * or expired session is 401 unauthorized.
 */
export function sessionAuth(sessions: DashboardSessions): onRequestHookHandler {
  return (req, _reply, done) => {
    if (!req.url.startsWith('/v1/admin/') || presentedKey(req, 'admin') !== undefined) return done();
    const cookie = sessionCookie(req);
    if (cookie === undefined) return done();
    const session = sessions.get(cookie);
    try {
      if (!session) throw new DomainError('unauthorized', 'the dashboard session has expired or ended: sign in again');
      if (STATE_CHANGING.has(req.method)) requireCsrf(sessions, session, req);
    } catch (e) {
      return done(e as Error);
    }
    viaSession.add(req);
    done();
  };
}
