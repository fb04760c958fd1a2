import type { ExperimentReport } from '../../app/analysis.js';
import { MAX_EVENTS_PER_BATCH, type IngestReply } from '../../app/collector.js';
import type { SimTarget } from '../../app/sim-control.js';
import { refusedEvent, simSlate } from '../../app/sim-platform.js';
import type { RecResponse } from '../../app/serving.js';
import { articleToJson, type Article } from '../../core/catalog/article.js';
import type { RecommenderConfig } from '../../core/recommend/types.js';
import type { SimRecRequest, SimSlate, WireEvent } from '../../core/simulate/platform.js';
import type { Engine } from '../../core/stats/compare.js';

export interface HttpTargetOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8080 (a `readnext serve --sim-clock`). */
  url: string;
  adminKey: string;
  ingestKey: string;
  /** Event batches in flight at once (default 4); the server's group commit merges them. */
  parallel?: number;
  /** Longest wait for a report whose rollups have caught up with the clock, milliseconds (default 10 minutes). */
  reportTimeoutMs?: number;
}

/** Articles per upsert request (the admin API's limit). */
const ARTICLES_PER_REQUEST = 1000;

/**
 * The simulated newsroom's platform over HTTP: a running `readnext serve --sim-clock`, driven as a
 * newsroom would (the widget's GET /v1/recommendations, SDK-shaped event batches with the ingest
 * key) and administered with the admin key (its clock, catalog, deployments and experiments).
 * Given the same calls it stores what the in-process target (app/sim-platform.ts) stores.
 */
export class HttpTarget implements SimTarget {
  private readonly base: string;
  /** The clock as last set here: a report waits until the server's rollups reach it. */
  private now: number | undefined;
  private ready: Promise<void> | undefined;

  constructor(private readonly opts: HttpTargetOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  /**
   * Waits until the server has rebuilt its serving state (/readyz): until then it serves "latest"
   * to everyone, outside any experiment, and a simulation would measure that.
   */
  waitUntilReady(timeoutMs = 120_000): Promise<void> {
    return (this.ready ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await fetch(`${this.base}/readyz`);
        await res.arrayBuffer();
        if (res.ok) return;
        if (Date.now() > deadline) throw new Error(`${this.base} is not ready after ${timeoutMs} ms (/readyz answered ${res.status})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })());
  }

  async setTime(now: number): Promise<void> {
    await this.waitUntilReady();
    await this.call('POST', '/v1/admin/sim-clock', { admin: true, body: { now: new Date(now).toISOString() } });
    this.now = now;
  }

  async publish(articles: readonly Article[]): Promise<void> {
    await this.waitUntilReady();
    for (let i = 0; i < articles.length; i += ARTICLES_PER_REQUEST) {
      const body = { articles: articles.slice(i, i + ARTICLES_PER_REQUEST).map(articleToJson) };
      await this.call('POST', '/v1/admin/articles', { admin: true, body });
    }
  }

  async recommend(req: SimRecRequest): Promise<SimSlate> {
    await this.waitUntilReady();
    const q = new URLSearchParams({ placement: req.placement, reader: req.readerId, session: req.sessionId, article: req.articleId });
    if (req.k !== undefined) q.set('k', String(req.k));
    return simSlate(await this.call<RecResponse>('GET', `/v1/recommendations?${q}`));
  }

  /** Batches of at most the server's MAX_EVENTS_PER_BATCH, a few in flight at once; resolves once all are stored. */
  async send(events: readonly WireEvent[]): Promise<void> {
    await this.waitUntilReady();
    const offsets: number[] = [];
    for (let i = 0; i < events.length; i += MAX_EVENTS_PER_BATCH) offsets.push(i);
    let next = 0;
    let refused: Error | undefined;
    const worker = async () => {
      while (next < offsets.length && !refused) {
        const offset = offsets[next++]!;
        const reply = await this.call<IngestReply>('POST', '/v1/events', {
          ingest: true,
          body: { events: events.slice(offset, offset + MAX_EVENTS_PER_BATCH) },
        });
        refused ??= refusedEvent(reply, offset);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.parallel ?? 4, offsets.length) }, worker));
    if (refused) throw refused;
  }

  async deployLive(placement: string, live: RecommenderConfig): Promise<void> {
    await this.waitUntilReady();
    const path = `/v1/admin/deployments/${encodeURIComponent(placement)}`;
    const exists = await this.call('GET', path, { admin: true, allow404: true });
    if (exists === undefined) await this.call('PUT', path, { admin: true, body: { live } });
    else await this.call('POST', `${path}/live`, { admin: true, body: { recommender: live } });
  }

  async startExperiment(experiment: unknown): Promise<string> {
    await this.waitUntilReady();
    const e = await this.call<{ id: string }>('POST', '/v1/admin/experiments', { admin: true, body: experiment });
    await this.call('POST', `/v1/admin/experiments/${encodeURIComponent(e.id)}/start`, { admin: true, body: {} });
    return e.id;
  }

  /**
   * The report once the server's rollups have taken every event received before the clock: a report
   * catches them up for at most READNEXT_REPORT_CATCH_UP_MS and says how far its data goes
   * (dataThroughTs), so ask again until it reaches the clock.
   */
  async report(experimentId: string, opts: { engine?: Engine; alpha?: number } = {}): Promise<ExperimentReport> {
    const q = new URLSearchParams();
    if (opts.engine) q.set('engine', opts.engine);
    if (opts.alpha !== undefined) q.set('alpha', String(opts.alpha));
    const path = `/v1/admin/experiments/${encodeURIComponent(experimentId)}/report${q.size > 0 ? `?${q}` : ''}`;
    const deadline = Date.now() + (this.opts.reportTimeoutMs ?? 600_000);
    for (;;) {
      const r = await this.call<ExperimentReport>('GET', path, { admin: true });
      // A stopped experiment's data ends at its stop (toTs); a running one's at the clock.
      const upTo = Math.min(r.toTs, this.now ?? r.toTs);
      if (r.dataThroughTs >= upTo) return r;
      if (Date.now() > deadline)
        throw new Error(
          `the report of ${experimentId} has data through ${new Date(r.dataThroughTs).toISOString()} only, not ${new Date(upTo).toISOString()}: the server's rollups did not catch up`,
        );
    }
  }

  /** The server is not ours to stop. */
  async close(): Promise<void> {}

  private async call<T = unknown>(
    method: string,
    path: string,
    o: { admin?: boolean; ingest?: boolean; body?: unknown; allow404?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (o.admin) headers.authorization = `Bearer ${this.opts.adminKey}`;
    if (o.ingest) headers['x-readnext-ingest-key'] = this.opts.ingestKey;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    const text = await res.text();
    if (res.status === 404 && o.allow404) return undefined as T;
    if (!res.ok) {
      let detail = text.slice(0, 300);
      try {
        const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (e) detail = `${e.code}: ${e.message}`;
      } catch {
        // not JSON: the text as it came
      }
      throw new Error(`${method} ${path.split('?')[0]} answered ${res.status} (${detail})`);
    }
    return JSON.parse(text) as T;
  }
}
