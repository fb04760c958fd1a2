import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { grants, type ApiKeys, type KeyInfo, type KeyRole, type KeyScope } from '../../app/keys.js';
import type { DashboardSessions, Session } from '../../app/sessions.js';
import { DomainError } from '../../core/kernel/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a /v1/admin route needs when not the default of its method (neededScope). */
    scope?: KeyScope;
  }
}

const HEADER: Record<KeyRole, string> = { admin: 'x-readnext-admin-key', ingest: 'x-readnext-ingest-key' };

/** `Bearer KEY`; the scheme is case-insensitive (RFC 9110 section 11.1), spaces or tabs follow it. */
const BEARER = /^bearer[ \t]+(\S.*)$/i;

/** The key a request presents: the header of `role` (any key may go in either), or `Authorization: Bearer KEY`. */
export function presentedKey(req: FastifyRequest, role: KeyRole): string | undefined {
  const own = req.headers[HEADER[role]];
  if (typeof own === 'string' && own !== '') return own;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') return BEARER.exec(auth)?.[1]!.trim() || undefined;
  return undefined;
}

/**
 * The scope an admin route needs: its route config's `scope` (`config: { scope: 'admin' }`), else
 * `read` for GET and HEAD and `write` for every other method.
 */
export function neededScope(req: FastifyRequest): KeyScope {
  return req.routeOptions.config?.scope ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
}

/** 403 missing_scope, naming the scope wanted and the ones the key has. */
function missing(need: KeyScope, who: string, has: readonly KeyScope[]): DomainError {
  return new DomainError(
    'missing_scope',
    `this endpoint needs a key with scope ${need}${need === 'admin' ? '' : ' (or admin)'}; ${who} has ${has.join(', ') || 'none'}`,
  );
}

/**
 * Throws unless the request carries a live key (or a dashboard session, sessionAuth) that grants
 * `need` (default neededScope): no key, or an unknown or revoked one, is 401 unauthorized; a valid
 * key without the scope is 403 missing_scope naming it. Answers the key (undefined for a session).
 */
export async function requireScope(keys: ApiKeys, req: FastifyRequest, need = neededScope(req)): Promise<KeyInfo | undefined> {
  const session = viaSession.get(req);
  if (session) {
    if (session.keyId === undefined) return undefined;
    const key = await keys.byId(session.keyId);
    if (!key) throw new DomainError('unauthorized', 'the key this dashboard session signed in with was revoked: sign in again');
    if (!grants(key.scopes, need)) throw missing(need, `this dashboard session's key ${key.id}`, key.scopes);
    return key;
  }
  const k = presentedKey(req, 'admin');
  if (k === undefined)
    throw new DomainError(
      'unauthorized',
      `this endpoint needs a key with scope ${need}${need === 'admin' ? '' : ' (or admin)'}: Authorization: Bearer KEY or X-Readnext-Admin-Key`,
    );
  const key = await keys.authenticate(k);
  if (!key) throw new DomainError('unauthorized', 'the key is not valid (unknown or revoked)');
  if (!grants(key.scopes, need)) throw missing(need, `key ${key.id}`, key.scopes);
  return key;
}

/**
 * Whether an events request is server-to-server. No key: a browser request (public types only).
 * A key that is present but unknown or revoked is 401, and one without the scope ingest (or admin)
 * 403, so a misconfigured integration notices.
 */
export async function ingestTrust(keys: ApiKeys, req: FastifyRequest): Promise<boolean> {
  const k = presentedKey(req, 'ingest');
  if (k === undefined) return false;
  const key = await keys.authenticate(k);
  if (!key) throw new DomainError('unauthorized', 'the ingest key is not valid (unknown or revoked)');
  if (!grants(key.scopes, 'ingest')) throw missing('ingest', `key ${key.id}`, key.scopes);
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

/** The requests admitted by sessionAuth, and their session: requireScope checks its key. */
const viaSession = new WeakMap<FastifyRequest, Session>();

/**
 * Lets a dashboard session stand for the key it signed in with on /v1/admin/* (an app-wide
 * onRequest hook, so it runs before the admin routes' requireScope, which checks that key's scopes
 * and that it is not revoked). A request that presents a key is left to requireScope. Otherwise, with the session cookie: a live session admits GET and HEAD,
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
    viaSession.set(req, session);
    done();
  };
}
