import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { grants, type ApiKeys } from '../../../app/keys.js';
import { DashboardSessions, DEFAULT_SESSION_LIMITS, SignInLimiter, type SessionSecrets } from '../../../app/sessions.js';
import type { Clock } from '../../../core/kernel/clock.js';
import { DomainError } from '../../../core/kernel/errors.js';
import { requireCsrf, SESSION_COOKIE, sessionCookie } from '../auth.js';
import { errorBodySchema } from '../errors.js';

/** The dashboard's options (AppDeps.dashboard). */
export interface DashboardOptions {
  /** The built single-page app: index.html and assets/* (dist/dashboard, written by `npm run build`). */
  dir: string;
  /** How long a session lives, ms (default 8 hours). */
  sessionTtlMs?: number;
  /** Sessions held at most (default 1,000). */
  maxSessions?: number;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export const nodeSessionSecrets: SessionSecrets = {
  token: () => randomBytes(32).toString('base64url'),
  hash: (text) => sha256(text).toString('base64url'),
  // Digests first: equal lengths for timingSafeEqual, whatever was presented.
  same: (a, b) => timingSafeEqual(sha256(a), sha256(b)),
};

/** The sessions and the sign-in brake of one app, on its clock. */
export function dashboardSessions(clock: Clock, o: DashboardOptions): { sessions: DashboardSessions; limiter: SignInLimiter } {
  const limits = { ttlMs: o.sessionTtlMs ?? DEFAULT_SESSION_LIMITS.ttlMs, max: o.maxSessions ?? DEFAULT_SESSION_LIMITS.max };
  return { sessions: new DashboardSessions(clock, nodeSessionSecrets, limits), limiter: new SignInLimiter(clock) };
}

/** Served on everything under /dashboard (the SPA loads only its own files and calls only this origin). */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Vite names what it writes under assets/ by content hash: a name never changes content. */
const IMMUTABLE = 'public, max-age=31536000, immutable'; // 1 year, seconds
const NOT_BUILT =
  '<!doctype html><title>readnext dashboard</title><p>The dashboard is not built: run <code>npm run build</code> (npm install does it too), then reload.</p>\n';

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 429: errorBodySchema };
const csrfBody = {
  200: { type: 'object', required: ['csrfToken'], properties: { csrfToken: { type: 'string' } } },
  ...errors,
};

/**
 * The dashboard: sign-in sessions (POST, GET, DELETE /v1/dashboard/session) and the single-page app
 * under /dashboard/. The sessions are accepted on /v1/admin/* by auth.ts's sessionAuth, which
 * createApp installs with these same sessions.
 */
export const dashboardRoutes =
  (d: { keys: ApiKeys; sessions: DashboardSessions; limiter: SignInLimiter; options: DashboardOptions }): FastifyPluginAsync =>
  async (app) => {
    const { sessions, limiter } = d;
    const maxAgeS = Math.floor(sessions.limits.ttlMs / 1000);
    /** Secure when the client reached us (or the proxy in front of us) over https. */
    const secure = (req: FastifyRequest) => {
      const proto = req.headers['x-forwarded-proto'];
      return req.protocol === 'https' || (typeof proto === 'string' && proto.split(',')[0]!.trim().toLowerCase() === 'https');
    };
    const setCookie = (req: FastifyRequest, reply: FastifyReply, value: string, maxAge: number) =>
      reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure(req) ? '; Secure' : ''}`,
      );
    const live = (req: FastifyRequest) => {
      const s = sessions.get(sessionCookie(req));
      if (!s) throw new DomainError('unauthorized', 'no dashboard session: sign in with the admin key');
      return s;
    };

    app.post(
      '/v1/dashboard/session',
      {
        schema: {
          tags: ['dashboard'],
          summary: `Sign in with a key of scope read or admin (the session has its scopes and ends when it is revoked): sets the ${SESSION_COOKIE} cookie (HttpOnly, SameSite=Strict, ${maxAgeS} s) and answers the CSRF token`,
          body: {
            type: 'object',
            required: ['key'],
            additionalProperties: false,
            properties: { key: { type: 'string', minLength: 1, maxLength: 1024 } },
          },
          response: csrfBody,
        },
      },
      async (req, reply) => {
        void reply.header('cache-control', 'no-store');
        const wait = limiter.waitMs(req.ip);
        if (wait > 0) {
          void reply.header('retry-after', String(Math.ceil(wait / 1000)));
          throw new DomainError('rate_limited', `too many failed sign-ins from this address: try again in ${Math.ceil(wait / 1000)} s`);
        }
        const key = await d.keys.authenticate((req.body as { key: string }).key);
        if (!key) {
          limiter.fail(req.ip);
          throw new DomainError('unauthorized', 'the key is not valid (unknown or revoked)', { field: 'key' });
        }
        // The session gets the key's scopes (auth.ts requireScope); without read the dashboard shows nothing.
        if (!grants(key.scopes, 'read'))
          throw new DomainError(
            'missing_scope',
            `signing in to the dashboard needs a key with scope read (or admin); key ${key.id} has ${key.scopes.join(', ')}`,
            {
              field: 'key',
            },
          );
        sessions.end(sessionCookie(req));
        const s = sessions.create(key.id);
        setCookie(req, reply, s.cookie, maxAgeS);
        return { csrfToken: s.csrfToken };
      },
    );

    app.get(
      '/v1/dashboard/session',
      {
        schema: {
          tags: ['dashboard'],
          summary: "The session's CSRF token while the cookie is a live session (401 otherwise)",
          response: csrfBody,
        },
      },
      async (req, reply) => {
        void reply.header('cache-control', 'no-store');
        return { csrfToken: live(req).csrfToken };
      },
    );

    app.delete(
      '/v1/dashboard/session',
      {
        schema: {
          tags: ['dashboard'],
          summary: 'Sign out (needs the x-csrf-token header): ends the session and clears the cookie',
          response: { 204: { type: 'null' }, ...errors },
        },
      },
      async (req, reply) => {
        requireCsrf(sessions, live(req), req);
        sessions.end(sessionCookie(req));
        setCookie(req, reply, '', 0);
        return reply.header('cache-control', 'no-store').code(204).send();
      },
    );

    await app.register(staticApp(d.options.dir));
  };

/**
 * The built SPA under /dashboard/: a file when the path names one, else index.html (the app routes
 * on the client), except under assets/, where a missing file is a 404 (a stale page asking for an
 * asset of an older build must not get HTML as its script). index.html is `no-cache` (revalidated:
 * it names the current assets); assets are immutable. Files are streamed, with a weak ETag.
 */
function staticApp(dir: string): FastifyPluginAsync {
  const root = resolve(dir);
  return async (app) => {
    app.addHook('onRequest', (_req, reply, done) => {
      void reply.headers(SECURITY_HEADERS);
      done();
    });

    app.get('/dashboard', { schema: { hide: true } }, async (req, reply) => {
      const q = req.url.indexOf('?');
      return reply.redirect(`/dashboard/${q < 0 ? '' : req.url.slice(q)}`, 302);
    });

    app.get('/dashboard/*', { schema: { hide: true } }, async (req, reply) => {
      const rel = (req.params as { '*': string })['*'];
      const file = rel === '' ? undefined : await fileIn(root, rel);
      if (file) return sendFile(req, reply, file.path, file.size, file.mtimeMs, rel.startsWith('assets/') ? IMMUTABLE : 'no-cache');
      if (rel.startsWith('assets/'))
        return reply.code(404).send({ error: { code: 'not_found', message: `no file /dashboard/${rel}`, field: null } });
      const index = await fileIn(root, 'index.html');
      if (!index) return reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      return sendFile(req, reply, index.path, index.size, index.mtimeMs, 'no-cache');
    });
  };
}

/** The regular file at `rel` under `root`; undefined for anything else, a dot segment or a path leaving root. */
async function fileIn(root: string, rel: string): Promise<{ path: string; size: number; mtimeMs: number } | undefined> {
  if (rel.includes('\0') || rel.includes('\\') || rel.split('/').some((s) => s === '' || s.startsWith('.'))) return undefined;
  const path = join(root, rel);
  if (!path.startsWith(root + sep)) return undefined;
  try {
    const st = await stat(path);
    return st.isFile() ? { path, size: st.size, mtimeMs: st.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

function sendFile(req: FastifyRequest, reply: FastifyReply, path: string, size: number, mtimeMs: number, cache: string): FastifyReply {
  const etag = `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
  void reply.header('cache-control', cache).header('etag', etag);
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply
    .type(TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream')
    .header('content-length', size)
    .send(createReadStream(path));
}
