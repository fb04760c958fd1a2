import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync, RouteOptions } from 'fastify';
import { DomainError } from '../../core/kernel/errors.js';

/** Requests per client address per minute on the public routes (config READNEXT_RATE_LIMIT_*); 0 = no limit. */
export interface RateLimits {
  /** GET /v1/recommendations. */
  recommendationsPerMin: number;
  /** POST /v1/events (a batch counts once). */
  eventsPerMin: number;
  /** Each page of the demo site (/ and /articles/:id) and GET /sdk.js. */
  sitePerMin: number;
}

/** The public routes (no key) and the limit each takes; everything else (admin, ops, dashboard) is never limited here. */
function limitFor(route: Pick<RouteOptions, 'url' | 'method'>, limits: RateLimits): number {
  const methods = ([] as string[]).concat(route.method);
  const get = methods.includes('GET') || methods.includes('HEAD');
  if (get && route.url === '/v1/recommendations') return limits.recommendationsPerMin;
  if (methods.includes('POST') && route.url === '/v1/events') return limits.eventsPerMin;
  if (get && (route.url === '/' || route.url === '/articles/:id' || route.url === '/sdk.js')) return limits.sitePerMin;
  return 0;
}

const MINUTE_MS = 60_000;

/**
 * Per-client rate limits on the public routes (@fastify/rate-limit), counted per route and client
 * address (`request.ip`, which honours the app's trustProxy) in a fixed one-minute window, in this
 * process's memory: each process limits on its own. Over the limit: 429 `rate_limited` in the app's
 * error shape, with `Retry-After` (seconds to the window's end) and the x-ratelimit-* headers.
 *
 * Register before the routes: the limit is attached to each route as it is declared (an onRoute
 * hook), so a route without a limit, and every route when all limits are 0, pays nothing per request.
 */
export async function registerRateLimits(app: FastifyInstance, limits: RateLimits): Promise<void> {
  if (limits.recommendationsPerMin <= 0 && limits.eventsPerMin <= 0 && limits.sitePerMin <= 0) return;
  // Before the plugin's own onRoute hook, which reads config.rateLimit.
  app.addHook('onRoute', (route) => {
    const max = limitFor(route, limits);
    if (max > 0) route.config = { ...route.config, rateLimit: { max, timeWindow: MINUTE_MS } } as typeof route.config;
  });
  await app.register(rateLimit, {
    global: false,
    // Client addresses remembered per route (least recently seen forgotten first).
    cache: 100_000,
    errorResponseBuilder: (_req, ctx) =>
      new DomainError(
        'rate_limited',
        `too many requests from this address: at most ${ctx.max} a minute on this route; try again in ${Math.max(1, Math.ceil(ctx.ttl / 1000))} s`,
      ),
  });
}

/** One year, seconds: HSTS's usual max-age. */
const HSTS_MAX_AGE_S = 365 * 24 * 60 * 60;

/**
 * Security headers (@fastify/helmet) on the routes registered in `routes`: the demo site, the SDK
 * and the dashboard. Helmet's Content-Security-Policy is off: the site and the dashboard each send
 * their own, written for their pages (a route's header wins over helmet's, which is set first), and
 * the SDK is a script, not a page. Cross-Origin-Resource-Policy is same-origin here; GET /sdk.js
 * sets cross-origin itself, since newsrooms load it from their own pages. HSTS only on a request
 * that arrived over https (directly, or through a proxy trusted by READNEXT_TRUST_PROXY): over plain
 * http browsers ignore it, and a local or test server must never pin itself to https.
 *
 * Not on the JSON API: helmet's two hooks run on every request of the scope it is registered in,
 * and browsers do not render the API's JSON.
 */
export const securityHeaders =
  (routes: FastifyPluginAsync): FastifyPluginAsync =>
  async (scope) => {
    await scope.register(helmet, { global: true, contentSecurityPolicy: false, strictTransportSecurity: false });
    scope.addHook('onRequest', (req, reply, done) => {
      if (req.protocol === 'https') void reply.header('strict-transport-security', `max-age=${HSTS_MAX_AGE_S}`);
      done();
    });
    await scope.register(routes);
  };
