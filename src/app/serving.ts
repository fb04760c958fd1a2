import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { FreshState } from '../core/recommend/fresh-state.js';
import { composeSlate } from '../core/recommend/slate.js';
import type { Placements } from './placements.js';
import type { RecordWriter } from './record-writer.js';

export interface RecRequest {
  placement: string;
  articleId: string | null;
  readerId: string | null;
  sessionId: string | null;
  /** Slate size; the placement's default when undefined. */
  k: number | undefined;
  /** Opted out or Do Not Track: served by the live recommender, never assigned to an experiment. */
  optOut: boolean;
}

export interface RecItem {
  articleId: string;
  title: string;
  url: string | null;
  position: number;
  reason: string;
}

export interface RecResponse {
  recommId: string;
  placement: string;
  experiment: string | null;
  phase: number | null;
  arm: string | null;
  hashVersion: number | null;
  recommender: { kind: string; version: string };
  fallback: boolean;
  items: RecItem[];
}

export interface ServingCounters {
  requests: number;
  fallbacks: number;
  faults: number;
}

/**
 * The read-next use case. Synchronous on purpose: everything it reads is in memory, and the `serve`
 * record goes to a buffer written off the request path.
 */
export class RecommendationService {
  readonly counters: ServingCounters = { requests: 0, fallbacks: 0, faults: 0 };

  constructor(
    private readonly state: FreshState,
    private readonly placements: Placements,
    private readonly records: RecordWriter,
    private readonly clock: Clock,
    /** A fresh unique id per response. */
    private readonly newId: () => string,
    /** A monotonic millisecond timer for latency (performance.now). */
    private readonly timer: () => number,
    private readonly onFault: (placement: string, kind: string, message: string) => void = () => undefined,
  ) {}

  recommend(req: RecRequest): RecResponse {
    const started = this.timer();
    // 1. Resolve the placement and the slate size.
    const placement = this.placements.get(req.placement);
    if (!placement) throw new DomainError('unknown_placement', `unknown placement "${req.placement}"`, { field: 'placement' });
    const k = req.k ?? placement.config.defaultK;
    if (!Number.isInteger(k) || k < 1 || k > placement.config.maxK) {
      throw new DomainError('invalid_field', `k must be an integer between 1 and ${placement.config.maxK} for placement "${req.placement}"`, { field: 'k' });
    }
    // 2. Compose the slate: live recommender, fallbacks, shared post-processing.
    const now = this.clock.now();
    const readerId = req.optOut ? null : req.readerId;
    const slate = composeSlate(this.state, placement.chain, { placement: placement.config, articleId: req.articleId, readerId, sessionId: req.optOut ? null : req.sessionId, k, now });
    const live = placement.chain[0]!;
    // 3. Count and report faults once each; the reader never sees them.
    this.counters.requests++;
    if (slate.fallback) this.counters.fallbacks++;
    for (const f of slate.faults) {
      this.counters.faults++;
      this.onFault(req.placement, f.kind, f.message);
    }
    const recommId = this.newId();
    const items: RecItem[] = slate.items.map((it) => {
      const a = this.state.catalog.get(it.articleId)!;
      return { articleId: it.articleId, title: a.title, url: a.url, position: it.position, reason: it.reason };
    });
    // 4. Record the response off the hot path (batched by the RecordWriter).
    this.records.serve({
      recommId, placement: req.placement, experiment: null, phase: null, arm: null, hashVersion: null,
      recommenderKind: live.kind, recommenderVersion: live.version, shadow: false,
      readerId, sessionId: req.optOut ? null : req.sessionId, articleId: req.articleId,
      latencyMs: this.timer() - started, fallback: slate.fallback, fault: slate.faults.length > 0,
      slate: slate.items.map((it) => ({ articleId: it.articleId, position: it.position, score: it.score, reason: it.reason })),
      servedTs: now,
    });
    return { recommId, placement: req.placement, experiment: null, phase: null, arm: null, hashVersion: null, recommender: { kind: live.kind, version: live.version }, fallback: slate.fallback, items };
  }
}
