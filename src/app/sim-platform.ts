import type { Article } from '../core/catalog/article.js';
import type { Clock } from '../core/kernel/clock.js';
import type { RecommenderConfig } from '../core/recommend/types.js';
import type { SimRecRequest, SimSlate, WireEvent } from '../core/simulate/platform.js';
import type { Engine } from '../core/stats/compare.js';
import { experimentReport, type ExperimentReport } from './analysis.js';
import type { CatalogService } from './catalog.js';
import { MAX_EVENTS_PER_BATCH, type Collector, type IngestReply } from './collector.js';
import type { DeploymentAdmin, ExperimentView } from './deploy-admin.js';
import type { Actor, AnalysisStore } from './ports.js';
import type { RecordWriter } from './record-writer.js';
import type { AnalysisRollups } from './rollups.js';
import type { RecommendationService, RecResponse } from './serving.js';
import type { SimTarget, SimTrainedModel, SimTrainOptions } from './sim-control.js';
import { trainModel, type TrainingDeps } from './training.js';

/** A clock the simulation sets (main/sim-clock.ts SimClock): forward only, an error otherwise. */
export interface SettableClock extends Clock {
  set(ms: number): void;
}

/** The app services the in-process target drives (main/sim-target.ts opens them on a simulated clock). */
export interface InProcessServices {
  clock: SettableClock;
  catalog: Pick<CatalogService, 'upsert'>;
  recommendations: Pick<RecommendationService, 'recommend' | 'prepare'>;
  collector: Pick<Collector, 'ingest'>;
  deployments: Pick<DeploymentAdmin, 'get' | 'put' | 'setLive' | 'createExperiment' | 'startExperiment'>;
  /** What serving sees (refreshed after every admin write of this process): the report's experiments. */
  experiments: ExperimentView;
  analysis: AnalysisStore;
  /** The rollups, caught up fully before a report (their lag is 0 on a simulated clock: main/services.ts). */
  rollups: Pick<AnalysisRollups, 'catchUp' | 'money'>;
  /** Serve and exposure records wait here (about 10 ms) before they are written: flushed before a report. */
  recordWriter: Pick<RecordWriter, 'flush'>;
  /** The model registry and the catalog, for training on the stored events (absent: the target cannot train). */
  training?: TrainingDeps;
  close(): Promise<void>;
}

const SIMULATION: Actor = { actor: 'simulation', reason: null };

/** The slate the world sees, from a recommendation response (the HTTP client builds the same from the JSON). */
export function simSlate(r: Pick<RecResponse, 'recommId' | 'experiment' | 'phase' | 'arm' | 'items'>): SimSlate {
  const slate: SimSlate = {
    recommId: r.recommId,
    items: r.items.map((i) => i.articleId),
    experiment: r.experiment === null ? null : { id: r.experiment, phase: r.phase ?? 0, arm: r.arm ?? '' },
  };
  if (r.items.some((i) => i.team !== undefined && i.team !== null)) slate.teams = r.items.map((i) => i.team ?? null);
  return slate;
}

/** The first event a reply did not store (rejected or conflicting), as an error naming it; duplicates are fine. */
export function refusedEvent(reply: Pick<IngestReply, 'results'>, offset = 0): Error | undefined {
  for (const r of reply.results) {
    if (r.status === 'rejected')
      return new Error(`event ${r.eventId ?? `#${offset + r.index}`} refused (${r.code}${r.field ? ` at ${r.field}` : ''}): ${r.reason}`);
    if (r.status === 'conflict') return new Error(`event ${r.eventId ?? `#${offset + r.index}`} refused (conflict): ${r.reason}`);
  }
  return undefined;
}

/**
 * The simulated newsroom's platform in process: the same use cases the HTTP API calls (catalog,
 * serving, the collector with the ingest key's trust, deployments, experiment reports), without
 * HTTP, for the calibration runs that need speed. Given the same calls it stores the same events
 * and exposures as the HTTP target (adapters/simclient/http.ts), so both give the same report.
 */
export class InProcessTarget implements SimTarget {
  constructor(private readonly s: InProcessServices) {}

  async setTime(now: number): Promise<void> {
    this.s.clock.set(now);
  }

  async publish(articles: readonly Article[]): Promise<void> {
    // The catalog service tells the serving state, so the next slate can hold them.
    if (articles.length > 0) await this.s.catalog.upsert(articles);
  }

  async recommend(req: SimRecRequest): Promise<SimSlate> {
    const rec = {
      placement: req.placement,
      articleId: req.articleId,
      readerId: req.readerId,
      sessionId: req.sessionId,
      k: req.k,
      optOut: false,
    };
    // As the HTTP route does: a reader's earlier arm read back from the database when not in memory.
    await this.s.recommendations.prepare(rec);
    return simSlate(this.s.recommendations.recommend(rec));
  }

  /** Batches of at most MAX_EVENTS_PER_BATCH, as the HTTP API takes them; the group commit merges them. */
  async send(events: readonly WireEvent[]): Promise<void> {
    const batches: Promise<Error | undefined>[] = [];
    for (let i = 0; i < events.length; i += MAX_EVENTS_PER_BATCH) {
      const offset = i;
      batches.push(this.s.collector.ingest(events.slice(i, i + MAX_EVENTS_PER_BATCH), true).then((r) => refusedEvent(r, offset)));
    }
    const refused = (await Promise.all(batches)).find((e) => e !== undefined);
    if (refused) throw refused;
  }

  async deployLive(placement: string, live: RecommenderConfig): Promise<void> {
    if (await this.s.deployments.get(placement)) await this.s.deployments.setLive(placement, live, SIMULATION);
    else await this.s.deployments.put(placement, { live }, 0, SIMULATION);
  }

  async startExperiment(experiment: unknown): Promise<string> {
    const e = await this.s.deployments.createExperiment(experiment, SIMULATION);
    await this.s.deployments.startExperiment(e.id, SIMULATION);
    return e.id;
  }

  /** The report at the current clock: every exposure written, every event received before the clock rolled up. */
  async report(experimentId: string, opts: { engine?: Engine; alpha?: number } = {}): Promise<ExperimentReport> {
    await this.s.recordWriter.flush();
    const rollups = this.s.rollups;
    return experimentReport(this.s.experiments, this.s.analysis, this.s.clock, experimentId, {
      ...opts,
      rollups: { catchUp: () => rollups.catchUp(), money: rollups.money },
    });
  }

  async train(placement: string, opts: SimTrainOptions): Promise<SimTrainedModel> {
    if (!this.s.training) throw new Error('this in-process target was opened without the model registry: it cannot train');
    // Every event sent so far is stored (send resolves after the commit); the records too, for the replay.
    await this.s.recordWriter.flush();
    const m = await trainModel(this.s.training, {
      placement,
      sinceTs: opts.sinceTs,
      untilTs: opts.untilTs,
      seed: opts.seed,
      warmupMs: 0,
      gbdt: opts.gbdt,
    });
    return {
      version: String(m.version),
      auc: m.metrics.auc,
      trainExamples: m.metrics.trainExamples,
      trainClickRate: m.metrics.trainClickRate,
    };
  }

  close(): Promise<void> {
    return this.s.close();
  }
}
