import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler, RouteOptions } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, type Histogram, Registry } from 'prom-client';
import type { CanaryGuard } from '../../app/canary.js';
import type { Collector } from '../../app/collector.js';
import type { ApiKeys } from '../../app/keys.js';
import type { RecordWriter } from '../../app/record-writer.js';
import type { RecommendationService } from '../../app/serving.js';
import type { Clock } from '../../core/kernel/clock.js';
import { DomainError } from '../../core/kernel/errors.js';
import { presentedKey, requireScope } from './auth.js';

/** What /metrics reads when it is scraped: the use cases' own in-process counters, never a copy. */
export interface MetricsSources {
  recommendations: Pick<RecommendationService, 'counters' | 'byPlacement'>;
  collector: Pick<Collector, 'counts' | 'backlog'>;
  recordWriter: Pick<RecordWriter, 'written'>;
  canaryGuard: Pick<CanaryGuard, 'counts'>;
  /** The background rollups of this process (AnalysisRollups.progress); unset: no rollup metrics. */
  rollups?: { readonly progress: { events: number; throughTs: number | undefined } };
  clock: Clock;
  /** While the serving state is rebuilt at start: what is going on; undefined once ready. */
  warmingUp?: () => string | undefined;
}

export interface MetricsOptions {
  /**
   * READNEXT_METRICS_TOKEN: a bearer token that may read /metrics and nothing else. The admin key
   * is accepted too; unset, only the admin key.
   */
  token: string | undefined;
  /** Node's process metrics (prom-client's collectDefaultMetrics: CPU, memory, heap, GC, event loop lag); default on. */
  processMetrics?: boolean;
}

let processRegistry: Registry | undefined;

/**
 * Node's process metrics, in a registry of their own made once per process: they describe the
 * process, which every app in it shares, and each registration of prom-client's collectors starts
 * an event-loop-delay timer and a GC observer that are never stopped (a test file builds dozens of
 * apps). Every app's /metrics gives them before its own.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Latency buckets, seconds: a recommendation takes about 0.1 ms in process and an event batch a
 * commit (about 1 to 10 ms), a report seconds; so from 0.5 ms to 10 s.
 */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** The label value of requests that matched no route (404 from the not-found handler). */
export const UNMATCHED_ROUTE = 'unmatched';

/** One route and method's requests since the app was built: per status class, and per latency bucket (not cumulative) with their sum. */
interface RouteTally {
  route: string;
  method: string;
  status: number[];
  buckets: number[];
  sumSeconds: number;
}

const newTally = (route: string, method: string): RouteTally => ({
  route,
  method,
  status: STATUS_CLASSES.map(() => 0),
  buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
  sumSeconds: 0,
});

/** The index of the first bucket whose bound holds `seconds`; the last (+Inf) when none does. */
function bucketOf(seconds: number): number {
  let i = 0;
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
  return i;
}

/**
 * A histogram read from the route tallies when scraped. prom-client's Histogram cannot be given
 * counts, only observations, so this is a metric of its own, registered as prom-client's are
 * (Registry.registerMetric): `get()` gives the metric object in the shape prom-client's histograms
 * give (cumulative `_bucket` samples with `le`, then `_sum` and `_count`), which the registry writes
 * in the text format.
 */
function talliedHistogram(name: string, help: string, tallies: readonly RouteTally[]) {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values = [];
      for (const t of tallies) {
        // A route not requested yet has no series (as prom-client makes a label set's on first use).
        if (t.buckets.every((n) => n === 0)) continue;
        let count = 0;
        for (let i = 0; i < t.buckets.length; i++) {
          count += t.buckets[i]!;
          const le = i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i]! : '+Inf';
          values.push({ labels: { route: t.route, method: t.method, le }, value: count, metricName: `${name}_bucket` });
        }
        values.push({ labels: { route: t.route, method: t.method }, value: t.sumSeconds, metricName: `${name}_sum` });
        values.push({ labels: { route: t.route, method: t.method }, value: count, metricName: `${name}_count` });
      }
      return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values });
    },
  };
}

/**
 * One registry per app (never prom-client's global one: tests build several apps in one process),
 * served at GET /metrics in the Prometheus text format after the process's metrics.
 *
 * HTTP requests are counted by route pattern (Fastify's route url, e.g. `/v1/admin/articles/:id`:
 * never the raw URL, so the label values are bounded by the routes), method and status class, and
 * timed per route and method. The per-route hooks are added when each route is declared (onRoute)
 * with a tally of plain numbers made then, so a request adds to three numbers and allocates
 * nothing; prom-client reads the tallies when scraped. (Its own inc and observe, with label
 * objects made once, took about 0.4 us a request, hashing the labels each time; the tallies take
 * about 0.02 us.) The onResponse hook makes Fastify time each request with a pair of response
 * listeners (reply.elapsedTime); with app.inject on a trivial route that measured 23.6 against
 * 23.5 us of CPU a request without the hook (best of 9 runs of 10,000), within the noise.
 *
 * Everything else is read when scraped (collect), from the counters the use cases keep anyway.
 */
export class AppMetrics {
  /** This app's own metrics (the process metrics are apart, see processMetrics). */
  readonly registry = new Registry();
  private readonly process: Registry | undefined;
  private readonly tallies: RouteTally[] = [];
  private readonly unmatched = new Map<string, RouteTally>();
  private readonly tokenHash: Buffer | undefined;

  constructor(
    private readonly src: MetricsSources,
    opts: MetricsOptions,
  ) {
    const registers = [this.registry];
    this.tokenHash = opts.token === undefined ? undefined : sha256(opts.token);
    this.process = opts.processMetrics === false ? undefined : processMetrics();
    const { tallies, unmatched } = this;
    new Counter({
      name: 'readnext_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status class',
      labelNames: ['route', 'method', 'status_class'],
      registers,
      collect() {
        this.reset();
        for (const t of [...tallies, ...unmatched.values()])
          t.status.forEach((n, c) => {
            if (n > 0) this.inc({ route: t.route, method: t.method, status_class: STATUS_CLASSES[c]! }, n);
          });
      },
    });
    const duration = talliedHistogram(
      'readnext_http_request_duration_seconds',
      'Time from routing a request to the end of its response, by route pattern and method',
      tallies,
    );
    // Duck-typed: the registry calls get() and reads name, help and type (see talliedHistogram).
    this.registry.registerMetric(duration as unknown as Histogram);
    this.collected(registers);
  }

  /** An onRoute hook: times and counts every route declared after it (register it before any route). */
  readonly onRoute = (route: RouteOptions): void => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const byMethod = new Map<string, RouteTally>();
    for (const method of methods) {
      const t = newTally(route.url, method);
      this.tallies.push(t);
      byMethod.set(method, t);
    }
    const hook: onResponseHookHandler = (req, reply, done) => {
      const t = byMethod.get(req.method);
      if (t) {
        t.status[statusClass(reply.statusCode)]!++;
        // Fastify times the request from routing to the response's end (its onResponse listeners).
        const seconds = reply.elapsedTime / 1000;
        t.buckets[bucketOf(seconds)]!++;
        t.sumSeconds += seconds;
      }
      done();
    };
    const own = route.onResponse;
    route.onResponse = own === undefined ? [hook] : Array.isArray(own) ? [...own, hook] : [own, hook];
  };

  /** Counts a request that matched no route (the not-found handler calls it); not timed. */
  notFound(method: string): void {
    let t = this.unmatched.get(method);
    if (!t) this.unmatched.set(method, (t = newTally(UNMATCHED_ROUTE, method)));
    t.status[3]!++;
  }

  /** Throws 401 unless the request carries the metrics token or a live key, and 403 if that key lacks the scope read (or admin). */
  async authorize(keys: ApiKeys, req: FastifyRequest): Promise<void> {
    const k = presentedKey(req, 'admin');
    if (k === undefined)
      throw new DomainError(
        'unauthorized',
        'this endpoint needs the metrics token (READNEXT_METRICS_TOKEN) or a key with scope read: Authorization: Bearer TOKEN',
      );
    if (this.tokenHash && timingSafeEqual(sha256(k), this.tokenHash)) return;
    await requireScope(keys, req, 'read');
  }

  /** Answers a scrape in the Prometheus text format. */
  async reply(reply: FastifyReply): Promise<string> {
    void reply.header('content-type', this.registry.contentType);
    // Two expositions one after the other are one: their metric names are disjoint.
    const [proc, own] = await Promise.all([this.process?.metrics() ?? '', this.registry.metrics()]);
    return proc + own;
  }

  /**
   * The use cases' counters, read at scrape time. Counters are reset and re-added from their source
   * on each scrape: the source is the truth, and it only grows.
   */
  private collected(registers: Registry[]): void {
    const { src } = this;
    new Counter({
      name: 'readnext_recommendations_total',
      help: 'Recommendation responses served by this process',
      registers,
      collect() {
        this.reset();
        this.inc(src.recommendations.counters.requests);
      },
    });
    const byPlacement = src.recommendations.byPlacement;
    new Counter({
      name: 'readnext_recommender_fallbacks_total',
      help: 'Responses filled by something other than the recommender that was to serve them, by placement and that recommender kind',
      labelNames: ['placement', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const [placement, kind, n] of byPlacement.fallbacks.entries()) this.inc({ placement, kind }, n);
      },
    });
    new Counter({
      name: 'readnext_recommender_faults_total',
      help: 'Recommenders that threw while composing a slate (the reader got a fallback), by placement, kind and role (serving or shadow)',
      labelNames: ['placement', 'kind', 'role'],
      registers,
      collect() {
        this.reset();
        for (const [placement, kind, n] of byPlacement.faults.entries()) this.inc({ placement, kind, role: 'serving' }, n);
        for (const [placement, kind, n] of byPlacement.shadowFaults.entries()) this.inc({ placement, kind, role: 'shadow' }, n);
      },
    });
    new Counter({
      name: 'readnext_shadow_runs_total',
      help: 'Shadow slates composed after a response',
      registers,
      collect() {
        this.reset();
        this.inc(src.recommendations.counters.shadowRuns);
      },
    });
    const events = src.collector.counts;
    new Counter({
      name: 'readnext_events_total',
      help: 'Events received by POST /v1/events, by outcome: accepted (stored now), duplicate, conflict, rejected',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        let rejected = 0;
        for (const [, n] of events.rejected.entries()) rejected += n;
        this.inc({ outcome: 'accepted' }, events.accepted);
        this.inc({ outcome: 'duplicate' }, events.duplicates);
        this.inc({ outcome: 'conflict' }, events.conflicts);
        this.inc({ outcome: 'rejected' }, rejected);
      },
    });
    new Counter({
      name: 'readnext_events_rejected_total',
      help: "Events rejected by validation, by the rejection's code (the reason clients get)",
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of events.rejected.entries()) this.inc({ reason }, n);
      },
    });
    new Gauge({
      name: 'readnext_ingest_backlog_events',
      help: 'Valid events waiting for their commit (the collector acknowledges them once stored)',
      registers,
      collect() {
        this.set(src.collector.backlog);
      },
    });
    new Counter({
      name: 'readnext_records_total',
      help: 'Serve and exposure records, by outcome: written, dropped (a failed write), refused (by the database)',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        const w = src.recordWriter.written;
        this.inc({ outcome: 'written' }, w.serves + w.exposures);
        this.inc({ outcome: 'dropped' }, w.dropped);
        this.inc({ outcome: 'refused' }, w.refused);
      },
    });
    const canary = src.canaryGuard.counts;
    new Counter({
      name: 'readnext_canary_checks_total',
      help: 'Canary guardrail checks made by this process, by placement',
      labelNames: ['placement'],
      registers,
      collect() {
        this.reset();
        for (const [placement, n] of canary.checks.entries()) this.inc({ placement }, n);
      },
    });
    new Counter({
      name: 'readnext_canary_rollbacks_total',
      help: 'Canaries rolled back by this process because a guardrail was breached, by placement',
      labelNames: ['placement'],
      registers,
      collect() {
        this.reset();
        for (const [placement, n] of canary.rollbacks.entries()) this.inc({ placement }, n);
      },
    });
    const rollups = src.rollups;
    if (rollups) {
      new Counter({
        name: 'readnext_rollup_events_total',
        help: "Events rolled up into the experiments' per-exposure measures by this process",
        registers,
        collect() {
          this.reset();
          this.inc(rollups.progress.events);
        },
      });
      new Gauge({
        name: 'readnext_rollup_lag_seconds',
        help: "Now minus the rollups' data-through time (every event received before it is rolled up); at least READNEXT_ROLLUP_LAG_MS. No sample before the first pass",
        registers,
        collect() {
          const t = rollups.progress.throughTs;
          // No sample rather than a 0 that would read as caught up.
          if (t === undefined) this.remove();
          else this.set((src.clock.now() - t) / 1000);
        },
      });
    }
    new Gauge({
      name: 'readnext_warming_up',
      help: '1 while the serving state is rebuilt at start (/readyz answers 503, recommendations come from "latest"), then 0',
      registers,
      collect() {
        this.set(src.warmingUp?.() === undefined ? 0 : 1);
      },
    });
  }
}

/** 0 for 1xx ... 4 for 5xx (a status outside 100..599 counts as 5xx). */
function statusClass(code: number): number {
  const c = Math.floor(code / 100) - 1;
  return c >= 0 && c <= 4 ? c : 4;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Adds GET /metrics to `app` (after AppMetrics.onRoute was added as an onRoute hook). */
export function metricsRoute(app: FastifyInstance, metrics: AppMetrics, keys: ApiKeys): void {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics of this process (text format); the metrics token (READNEXT_METRICS_TOKEN) or a key with scope read',
        security: [{ metricsToken: [] }, { adminKey: [] }],
      },
    },
    async (req, reply) => {
      await metrics.authorize(keys, req);
      return metrics.reply(reply);
    },
  );
}
