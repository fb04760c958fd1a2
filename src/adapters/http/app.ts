import { isUtf8 } from 'node:buffer';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import { pino } from 'pino';
import type { RollupProgress } from '../../app/ports.js';
import type { Collector } from '../../app/collector.js';
import type { ApiKeys } from '../../app/keys.js';
import type { CatalogService } from '../../app/catalog.js';
import type { CanaryGuard } from '../../app/canary.js';
import type { DataReport } from '../../app/data-report.js';
import type { KpiReport } from '../../app/kpis.js';
import type { ModelAdmin } from '../../app/model-admin.js';
import type { DeploymentAdmin } from '../../app/deploy-admin.js';
import type { LivePlacements } from '../../app/live-placements.js';
import type { AnalysisStore, PlacementStore, RecordStore, RoiRevision } from '../../app/ports.js';
import type { RoiResult } from '../../app/roi.js';
import type { RecommendationService } from '../../app/serving.js';
import type { RecordWriter } from '../../app/record-writer.js';
import type { Clock } from '../../core/kernel/clock.js';
import { jsonTextIsEscapeFree } from '../../core/events/validate.js';
import { DomainError } from '../../core/kernel/errors.js';
import { sessionAuth } from './auth.js';
import { clientErrorHandler, errorHandler, type ErrorLog } from './errors.js';
import { AppMetrics, metricsRoute, type MetricsOptions, type MetricsSources } from './metrics.js';
import { adminRoutes } from './routes/admin.js';
import { dashboardRoutes, dashboardSessions, type DashboardOptions } from './routes/dashboard.js';
import { deploymentRoutes } from './routes/deployments.js';
import { eventRoutes } from './routes/events.js';
import { previewRoutes } from './routes/preview.js';
import { modelRoutes } from './routes/models.js';
import { registerRateLimits, securityHeaders, type RateLimits } from './protection.js';
import { recommendationRoutes } from './routes/recommendations.js';
import { keyRoutes } from './routes/keys.js';
import { simClockRoutes } from './routes/sim-clock.js';
import { rejectBadUrlText } from './url-text.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the JSON body parser: the body's text had no \u escape (see jsonTextIsEscapeFree). */
    jsonEscapeFree: boolean;
  }
}

export interface AppDeps {
  collector: Collector;
  catalog: CatalogService;
  recommendations: RecommendationService;
  /** The admin use cases (validate, store, audit, shadows, canary, experiments). */
  deployments: DeploymentAdmin;
  /** What this process serves: read by the admin API's GETs, reports and shadow checks. */
  placements: LivePlacements;
  canaryGuard: CanaryGuard;
  records: RecordStore;
  audit: Pick<PlacementStore, 'listAudit'>;
  analysis: AnalysisStore;
  /** Brings the experiment rollups up to date before a report. */
  rollups: { catchUp(o: { maxMs?: number }): Promise<RollupProgress> };
  recordWriter: RecordWriter;
  keys: ApiKeys;
  clock: Clock;
  /**
   * Set when the server runs on a simulated clock (--sim-clock): the same clock, settable forward only
   * (POST /v1/admin/sim-clock answers once `set` resolved).
   */
  simClock?: Clock & { set(ms: number): void | Promise<void> };
  /**
   * The data report of GET /v1/admin/data/report (app/data-report.ts) over the raw query values; it
   * parses them (DomainError invalid_field naming since or until). Unset: that route answers 404.
   */
  dataReport?: (q: { since?: string; until?: string; placement?: string }) => Promise<DataReport>;
  /** The Overview's daily KPIs of GET /v1/admin/kpis (app/kpis.ts) over the raw since / until, parsed as dataReport's. Unset: 404. */
  kpis?: (q: { since?: string; until?: string }) => Promise<KpiReport>;
  /**
   * ROI under uncertainty (app/roi.ts) for POST /v1/admin/roi, /v1/admin/roi/update and GET
   * /v1/admin/roi/revisions. Unset: those routes answer 404.
   */
  roi?: {
    analyse(doc: unknown): Promise<RoiResult>;
    update(doc: unknown, name?: string): Promise<{ revision: number; name: string; previous: number | null; result: RoiResult }>;
    revisions(name?: string): Promise<RoiRevision[]>;
  };
  /** The model registry and training of /v1/admin/models (routes/models.ts). Unset: those routes answer 404. */
  models?: ModelAdmin;
  /**
   * The dashboard (routes/dashboard.ts): sign-in sessions, accepted on /v1/admin/* in place of the
   * admin key, and the built SPA under /dashboard/. Unset: neither.
   */
  dashboard?: DashboardOptions;
  /** Cheap database round trip for /readyz. */
  ping: () => Promise<void>;
  /** While the serving state is rebuilt at start: what is going on (/readyz then answers 503 not_ready); undefined once ready. */
  warmingUp?: () => string | undefined;
  /** Prometheus metrics at GET /metrics (metrics.ts), on a registry of this app's own. Unset: no /metrics. */
  metrics?: MetricsOptions & Pick<MetricsSources, 'rollups'>;
  options: {
    bodyLimitBytes: number;
    corsOrigins: readonly string[];
    logLevel: string;
    version: string;
    /** Limits on slow clients, for a listening server (main/server.ts); unset: Node's and Fastify's, which never cut off a stalled body. */
    timeouts?: HttpTimeouts;
    /** Proxies believed about the client's address and protocol (config READNEXT_TRUST_PROXY); unset: none. */
    trustProxy?: boolean | number | string[];
    /** Per-client limits on the public routes (protection.ts); unset: none. */
    rateLimits?: RateLimits;
  };
  /** Where unhandled errors are logged; a pino logger at `options.logLevel` when not given. */
  errorLog?: ErrorLog;
  /** Routes from other adapters (the web adapter's demo site and SDK), composed by main. */
  plugins?: FastifyPluginAsync[];
}

/** How long a client may take, milliseconds (config: READNEXT_*_TIMEOUT_MS). */
export interface HttpTimeouts {
  /** From a request's first byte to the end of its headers. */
  headersMs: number;
  /** From a request's first byte to the end of its body; at least `headersMs`. */
  requestMs: number;
  /** How long an idle keep-alive connection stays open between two requests. */
  keepAliveMs: number;
}

/**
 * Node checks the two request timeouts on a timer (30 s by default, whatever the timeouts), so a
 * stalled client would outlive a short timeout by up to that much: check ten times per timeout,
 * at most once a second. The check walks only connections with a request in progress.
 */
const checkEveryMs = (t: HttpTimeouts): number => Math.max(10, Math.min(1000, Math.floor(Math.min(t.headersMs, t.requestMs) / 10)));

/** Fastify's and Node's server options for `timeouts`; with none, theirs. */
function serverTimeouts(t: HttpTimeouts | undefined) {
  if (!t) return {};
  return {
    // No idle limit on a socket: a request being computed (a long report) sends nothing for a
    // while. Slow and stalled clients are cut off by the two request timeouts, which stop counting
    // once a request has been received.
    connectionTimeout: 0,
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    http: { headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: checkEveryMs(t) },
  };
}

/**
 * Builds the HTTP app and never listens: `main/server.ts` does, tests use `app.inject()`.
 *
 * The hot paths log nothing per request (per-request logging halves throughput), and Fastify gets
 * no logger at all: with one, even with request logging off, every request paid for a child
 * logger and a pair of response listeners (about 1.5 us, 2.5% of a read-next request). What the
 * adapter logs, unhandled errors, goes to its own pino logger with the request id, method and URL.
 * Fastify's own diagnostics (a reply sent twice, a hook failing after the response) are not logged.
 */
export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const log = deps.errorLog ?? (deps.options.logLevel === 'silent' ? undefined : pino({ level: deps.options.logLevel }));
  const onError = errorHandler(log);
  const app = Fastify({
    logger: false,
    bodyLimit: deps.options.bodyLimitBytes,
    ...serverTimeouts(deps.options.timeouts),
    // Fastify's typings pick the HTTP/2 overload for a union here; each member is a valid trustProxy.
    trustProxy: (deps.options.trustProxy ?? false) as boolean,
    // Every error in one shape: the HTTP parser's (timeouts, headers too large) and the router's (a
    // URL that does not decode) too, which Fastify would otherwise answer in its own.
    clientErrorHandler,
    frameworkErrors: onError,
    // Plain JSON.parse instead of secure-json-parse (about 7% of ingest CPU): nothing here merges a
    // parsed body into another object, and every schema is closed, so a "__proto__" or
    // "constructor" key is just an unknown field and is rejected as such (tested in events.test.ts).
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    // Client-supplied ids may contain anything; route params are decoded by Fastify.
    routerOptions: { maxParamLength: 512 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });
  app.setErrorHandler(onError);
  // Before any route: every route declared after this is counted and timed.
  const metrics =
    deps.metrics &&
    new AppMetrics(
      {
        recommendations: deps.recommendations,
        collector: deps.collector,
        recordWriter: deps.recordWriter,
        canaryGuard: deps.canaryGuard,
        clock: deps.clock,
        ...(deps.metrics.rollups ? { rollups: deps.metrics.rollups } : {}),
        ...(deps.warmingUp ? { warmingUp: deps.warmingUp } : {}),
      },
      deps.metrics,
    );
  if (metrics) app.addHook('onRoute', metrics.onRoute);
  app.setNotFoundHandler((req, reply) => {
    metrics?.notFound(req.method);
    void reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}`, field: null } });
  });
  // Query-string and route values holding a NUL or a lone surrogate: 400 invalid_text, on every route (see url-text.ts).
  app.addHook('preValidation', rejectBadUrlText);

  // JSON bodies: plain JSON.parse (see onProtoPoisoning above), noting whether the text has a \u
  // escape; without one no parsed string can hold a NUL or a lone surrogate, and the collector skips
  // that check (about 0.3 us per event). That holds because a body that is not valid UTF-8 is refused
  // (isUtf8, simdutf: a fraction of JSON.parse's time) rather than decoded with U+FFFD in place of
  // its bad bytes. sendBeacon can only post text/plain without a CORS preflight: it is read as JSON too.
  app.decorateRequest('jsonEscapeFree', false);
  const parseJson = (req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(new DomainError('invalid_encoding', 'the body is not valid UTF-8'), undefined);
    let text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark, as Fastify's parser allows
    if (text.length === 0) return done(new DomainError('invalid_json', 'the body is empty; expected a JSON document'), undefined);
    try {
      const parsed: unknown = JSON.parse(text);
      req.jsonEscapeFree = jsonTextIsEscapeFree(text);
      done(null, parsed);
    } catch (e) {
      done(new DomainError('invalid_json', `the body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJson);
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, parseJson);

  if (deps.options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...deps.options.corsOrigins],
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type'],
      // The SDK's queue waits out a 429's or a 503's Retry-After: a page on another origin must be able to read it.
      exposedHeaders: ['retry-after'],
      maxAge: 86_400, // 1 day, seconds
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'readnext API',
        version: deps.options.version,
        description: 'Read-next recommendations, reading events and experiments for newsrooms.',
      },
      components: {
        securitySchemes: {
          adminKey: { type: 'http', scheme: 'bearer', description: 'the admin key' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'the metrics token (READNEXT_METRICS_TOKEN): GET /metrics only' },
          ingestKey: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Readnext-Ingest-Key',
            description: 'the ingest key (server-to-server events)',
          },
        },
      },
    },
  });

  // A simulated clock says so on every response, errors included (onRequest runs before any of them).
  const clockKind = deps.simClock ? 'simulated' : 'real';
  if (deps.simClock) {
    app.addHook('onRequest', (_req, reply, done) => {
      void reply.header('x-readnext-clock', 'simulated');
      done();
    });
  }
  app.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'The process is up, and whether its clock is real or simulated' } },
    async () => ({
      status: 'ok',
      clock: clockKind,
    }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary:
          'The process can reach its database and has rebuilt its serving state (503 not_ready until then; events are stored meanwhile)',
      },
    },
    async () => {
      const warming = deps.warmingUp?.();
      if (warming !== undefined) throw new DomainError('not_ready', warming);
      try {
        await deps.ping();
      } catch (e) {
        throw new DomainError('not_ready', `database unreachable: ${(e as Error).message}`);
      }
      return { status: 'ready', eventBacklog: deps.collector.backlog };
    },
  );
  if (metrics) metricsRoute(app, metrics, deps.keys);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Before the admin routes: their requireScope admits what this hook admitted.
  const dashboard = deps.dashboard && dashboardSessions(deps.clock, deps.dashboard);
  if (dashboard) app.addHook('onRequest', sessionAuth(dashboard.sessions));

  // Before the public routes: their limits are attached as they are declared.
  if (deps.options.rateLimits) await registerRateLimits(app, deps.options.rateLimits);

  await app.register(eventRoutes(deps));
  await app.register(recommendationRoutes(deps));
  await app.register(adminRoutes(deps));
  await app.register(deploymentRoutes(deps));
  await app.register(previewRoutes(deps));
  await app.register(modelRoutes(deps));
  await app.register(simClockRoutes(deps));
  await app.register(keyRoutes(deps));
  // The pages (dashboard, demo site, SDK) get helmet's security headers; the JSON API above does not (protection.ts).
  await app.register(
    securityHeaders(async (pages) => {
      if (dashboard) await pages.register(dashboardRoutes({ keys: deps.keys, ...dashboard, options: deps.dashboard! }));
      for (const p of deps.plugins ?? []) await pages.register(p);
    }),
  );
  return app;
}
