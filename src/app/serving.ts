import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import { assignArm } from '../core/experiments/experiment.js';
import { hash } from '../core/experiments/hash.js';
import { teamDraft } from '../core/experiments/interleaving.js';
import type { FreshState } from '../core/recommend/fresh-state.js';
import { exploreSlate, isExplored, type ServeExploration } from '../core/recommend/explore.js';
import { SharedSlates } from '../core/recommend/shared-slates.js';
import { composeSlate, type ComposedSlate, type SlateRequest } from '../core/recommend/slate.js';
import type { Recommender } from '../core/recommend/types.js';
import type { LiveExperiment, LivePlacement, LivePlacements } from './live-placements.js';
import type { RecordWriter } from './record-writer.js';
import type { ExposureRecord, ServeRecord } from '../core/events/records.js';
import { PairCounts } from './counts.js';

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
  /** Interleaving only: the arm (team) that contributed the item. */
  team?: string;
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

/** One deployed recommender's slate in a preview (RecommendationService.preview). */
export interface PreviewSlate {
  role: 'live' | 'shadow' | 'canary' | 'arm';
  /** The experiment and arm of an `arm` slate; null otherwise. */
  experiment: string | null;
  arm: string | null;
  recommender: { kind: string; version: string };
  /** Something other than the recommender filled the slate (a fallback), or the article is unknown. */
  fallback: boolean;
  /** Recommenders that threw while composing it. */
  faults: { kind: string; message: string }[];
  items: (RecItem & { score: number | null })[];
}

export interface PreviewResponse {
  placement: string;
  articleId: string | null;
  readerId: string | null;
  k: number;
  /** The placement's deployment revision the slates come from. */
  revision: number;
  /** While warming up, readers get the stopgap instead of these slates. */
  warming: boolean;
  slates: PreviewSlate[];
}

export interface ServingCounters {
  requests: number;
  fallbacks: number;
  faults: number;
  shadowRuns: number;
  shadowFaults: number;
}

/** Readers already exposed per experiment (arm and phase of their first exposure), to write each exposure once and keep arms across phases. */
export class ExposureMemory {
  private readonly seen = new Map<string, Map<string, { arm: string; phase: number; lastPhase: number }>>();

  earlier(experiment: string, readerId: string): { arm: string; phase: number } | undefined {
    return this.seen.get(experiment)?.get(readerId);
  }

  /** Records an exposure; true when it is the reader's first in this phase (so it must be written). */
  note(experiment: string, readerId: string, arm: string, phase: number): boolean {
    let m = this.seen.get(experiment);
    if (!m) this.seen.set(experiment, (m = new Map()));
    const cur = m.get(readerId);
    if (!cur) {
      m.set(readerId, { arm, phase, lastPhase: phase });
      return true;
    }
    if (cur.lastPhase === phase) return false;
    cur.lastPhase = phase;
    if (cur.arm !== arm) {
      cur.arm = arm;
      cur.phase = phase;
    }
    return true;
  }

  /**
   * Undoes `note` for an exposure whose write failed (RecordWriter onExposuresDropped), so that the
   * reader's next request writes it again; without this a lost exposure was never sent again. The
   * arm is kept: assignment gives the reader the same one next time. A refused exposure is not
   * forgotten (writing it again would fail again).
   */
  forget(r: Pick<ExposureRecord, 'experiment' | 'readerId' | 'phase'>): void {
    const cur = this.seen.get(r.experiment)?.get(r.readerId);
    // NaN equals no phase: the next note() in any phase is a first exposure again.
    if (cur && cur.lastPhase === r.phase) cur.lastPhase = Number.NaN;
  }

  load(experiment: string, rows: Iterable<{ readerId: string; arm: string; phase: number }>): void {
    for (const r of rows) this.note(experiment, r.readerId, r.arm, r.phase);
  }

  /** Every reader id remembered, once per experiment (a reader's erasure: app/readers.ts). */
  *readerIds(): IterableIterator<string> {
    for (const m of this.seen.values()) yield* m.keys();
  }

  /** Forgets the readers `match` accepts in every experiment: a later request is a first exposure. */
  forgetReaders(match: (readerId: string) => boolean): number {
    let n = 0;
    for (const m of this.seen.values())
      for (const k of [...m.keys()])
        if (match(k)) {
          m.delete(k);
          n++;
        }
    return n;
  }
}

type Variant =
  | { kind: 'live'; recommender: Recommender }
  | { kind: 'canary'; recommender: Recommender }
  | { kind: 'arm'; experiment: LiveExperiment; arm: number; name: string }
  | { kind: 'interleave'; experiment: LiveExperiment; arm: number; name: string };

/**
 * The read-next use case. Synchronous on purpose: everything it reads is in memory; the `serve`
 * and `exposure` records go to a buffer written off the request path, and shadow recommenders run
 * after the response is on its way.
 */
export class RecommendationService {
  readonly counters: ServingCounters = { requests: 0, fallbacks: 0, faults: 0, shadowRuns: 0, shadowFaults: 0 };
  /**
   * The same fallbacks and faults per placement and recommender kind (/metrics): a fallback under
   * the kind that was to serve (`interleaving` for an interleaved slate), a fault under the kind
   * that threw; shadow faults apart. Touched only when something falls back or throws.
   */
  readonly byPlacement = { fallbacks: new PairCounts(), faults: new PairCounts(), shadowFaults: new PairCounts() };
  /** Rankings shared between readers (see SharedSlates); its counts say how often requests used them. */
  readonly slates: SharedSlates;
  /**
   * Set while the serving state is being rebuilt at start (see warmingUp): what every placement
   * serves meanwhile, instead of its own recommenders, experiments, canary and shadows.
   */
  private stopgap: Recommender | undefined;

  constructor(
    private readonly state: FreshState,
    private readonly placements: Pick<LivePlacements, 'get'>,
    private readonly records: RecordWriter,
    private readonly exposures: ExposureMemory,
    private readonly clock: Clock,
    /** A fresh unique id per response. */
    private readonly newId: () => string,
    /** A monotonic millisecond timer for latency (performance.now). */
    private readonly timer: () => number,
    /** Runs work after the response is sent (setImmediate). */
    private readonly later: (f: () => void) => void,
    private readonly onFault: (placement: string, kind: string, message: string) => void = () => undefined,
  ) {
    this.slates = new SharedSlates(state);
  }

  /**
   * Until `ready()`, every request is served by `stopgap` alone (a recommender that needs no
   * reading signals, such as `latest`), flagged `fallback`, with no experiment, canary or shadow:
   * the counters are incomplete, an arm served from them would be judged on a state it does not
   * have, and a reader's earlier arm may not be known yet. No exposure is written, so the
   * experiment analysis never counts these responses.
   */
  warmingUp(stopgap: Recommender): void {
    this.stopgap = stopgap;
  }

  ready(): void {
    this.stopgap = undefined;
  }

  get warming(): boolean {
    return this.stopgap !== undefined;
  }

  recommend(req: RecRequest): RecResponse {
    const started = this.timer();
    // 1. Resolve the placement and the slate size.
    const { placement, k } = this.placementAndK(req);
    const now = this.clock.now();
    const readerId = req.optOut ? null : req.readerId;
    const sessionId = req.optOut ? null : req.sessionId;
    const slateReq: SlateRequest = { placement: placement.config, articleId: req.articleId, readerId, sessionId, k, now };
    const recommId = this.newId();

    // 2. Choose what serves this reader: an experiment arm, the canary, or the live recommender
    // (the stopgap alone while warming up).
    const stopgap = this.stopgap;
    const variant: Variant = stopgap ? { kind: 'live', recommender: stopgap } : this.choose(placement, readerId);
    const chain = stopgap ? [stopgap] : placement.chain;
    let slate: ComposedSlate;
    let teams: (string | undefined)[] = [];
    let exploration: ServeExploration | null = null;
    let shadowSlates: { slate: ComposedSlate; latencyMs: number }[] | undefined;
    let servedBy: Recommender;
    if (variant.kind === 'interleave') {
      // Team-draft between the two arms; the coin is seeded by the recommId, so a slate can be replayed.
      const [a, b] = variant.experiment.arms as [Recommender, Recommender];
      const sa = this.slates.compose([a, ...chain.slice(1)], slateReq);
      const sb = this.slates.compose([b, ...chain.slice(1)], slateReq);
      let toss = 0;
      const merged = teamDraft(
        sa.items.map((i) => i.articleId),
        sb.items.map((i) => i.articleId),
        k,
        () => hash(recommId, `coin${toss++}`, 2)! < 0.5,
      );
      const byId = new Map([...sb.items, ...sa.items].map((i) => [i.articleId, i]));
      const names = variant.experiment.experiment.arms.map((x) => x.name);
      slate = {
        items: merged.map((m, i) => ({ ...byId.get(m.id)!, position: i + 1 })),
        fallback: sa.fallback || sb.fallback,
        faults: [...sa.faults, ...sb.faults],
      };
      teams = merged.map((m) => names[m.team]);
      servedBy = { kind: 'interleaving', version: `${a.kind}@${a.version}+${b.kind}@${b.version}`, recommend: () => [] };
    } else {
      servedBy = variant.kind === 'arm' ? variant.experiment.arms[variant.arm]! : variant.recommender;
      // `none` is the status quo: it shows nothing at all, neither the fallback chain nor editorial
      // pins (an experiment's control arm would otherwise not be the status quo).
      // The live recommender heads the placement's own chain: no new array per request.
      const served = servedBy === chain[0] ? chain : [servedBy, ...chain.slice(1)];
      const ex = placement.config.exploration;
      if (servedBy.kind === 'none') slate = { items: [], fallback: false, faults: [] };
      else if (ex !== null && variant.kind === 'live' && !stopgap) {
        // Logged exploration (explore.ts): the chain's best `pool` items and the shadows' choices,
        // shown in order or at random. The shadows are composed now (and logged later from these).
        const full = this.slates.compose(served, { ...slateReq, k: Math.max(k, ex.pool) + placement.config.pins.length });
        shadowSlates = placement.shadows.map((sh) => {
          const t0 = this.timer();
          return { slate: this.slates.compose([sh], slateReq), latencyMs: this.timer() - t0 };
        });
        const extra = shadowSlates.flatMap((x) => x.slate.items.filter((i) => i.source !== -1));
        const e = exploreSlate(full, k, ex, recommId, isExplored(req.placement, recommId, ex.share), extra);
        slate = e.slate;
        exploration = e.log;
      } else slate = this.slates.compose(served, slateReq);
      if (stopgap) slate = { ...slate, fallback: true };
    }

    // 3. Count and report faults once each; the reader never sees them.
    this.counters.requests++;
    if (slate.fallback) {
      this.counters.fallbacks++;
      this.byPlacement.fallbacks.add(req.placement, servedBy.kind);
    }
    for (const f of slate.faults) {
      this.counters.faults++;
      this.byPlacement.faults.add(req.placement, f.kind);
      this.onFault(req.placement, f.kind, f.message);
    }

    const exp = variant.kind === 'arm' || variant.kind === 'interleave' ? variant.experiment.experiment : undefined;
    const attribution = {
      experiment: exp?.id ?? null,
      phase: exp?.phase ?? null,
      arm:
        variant.kind === 'canary' ? 'canary' : variant.kind === 'arm' ? variant.name : variant.kind === 'interleave' ? 'interleaved' : null,
      hashVersion: exp?.hashVersion ?? null,
    };
    // 4. Exposure: once per reader, experiment and phase, whatever the arm shows (even nothing).
    if (exp && readerId !== null && this.exposures.note(exp.id, readerId, attribution.arm!, exp.phase)) {
      this.records.exposure({
        experiment: exp.id,
        phase: exp.phase,
        arm: attribution.arm!,
        readerId,
        hashVersion: exp.hashVersion,
        exposedTs: now,
        sessionId,
        articleId: req.articleId,
      });
    }
    const items: RecItem[] = [];
    const recorded: ServeRecord['slate'] = [];
    for (let i = 0; i < slate.items.length; i++) {
      const it = slate.items[i]!;
      const a = it.article ?? this.state.catalog.get(it.articleId)!;
      const item: RecItem = { articleId: it.articleId, title: a.title, url: a.url, position: it.position, reason: it.reason };
      const r: ServeRecord['slate'][number] = { articleId: it.articleId, position: it.position, score: it.score, reason: it.reason };
      if (teams[i] !== undefined) item.team = r.team = teams[i];
      items.push(item);
      recorded.push(r);
    }
    // 5. Record the response off the hot path (batched by the RecordWriter). Objects are written
    // out field by field on this path: spreads cost more than the rest of the record.
    this.records.serve({
      recommId,
      placement: req.placement,
      experiment: attribution.experiment,
      phase: attribution.phase,
      arm: attribution.arm,
      hashVersion: attribution.hashVersion,
      recommenderKind: servedBy.kind,
      recommenderVersion: servedBy.version,
      shadow: false,
      readerId,
      sessionId,
      articleId: req.articleId,
      latencyMs: this.timer() - started,
      fallback: slate.fallback,
      fault: slate.faults.length > 0,
      slate: recorded,
      servedTs: now,
      exploration,
    });
    // 6. Shadows: same request, after the response; logged, never shown.
    if (placement.shadows.length > 0 && !stopgap)
      this.later(() => this.runShadows(placement, slateReq, recommId, attribution, shadowSlates));
    return {
      recommId,
      placement: req.placement,
      experiment: attribution.experiment,
      phase: attribution.phase,
      arm: attribution.arm,
      hashVersion: attribution.hashVersion,
      recommender: { kind: servedBy.kind, version: servedBy.version },
      fallback: slate.fallback,
      items,
    };
  }

  /** The request's placement and slate size (its default when not asked): unknown_placement, or invalid_field naming `k`. */
  private placementAndK(req: Pick<RecRequest, 'placement' | 'k'>) {
    const placement = this.placements.get(req.placement);
    if (!placement) throw new DomainError('unknown_placement', `unknown placement "${req.placement}"`, { field: 'placement' });
    const k = req.k ?? placement.config.defaultK;
    if (!Number.isInteger(k) || k < 1 || k > placement.config.maxK) {
      throw new DomainError(
        'invalid_field',
        `k must be an integer between 1 and ${placement.config.maxK} for placement "${req.placement}"`,
        { field: 'k' },
      );
    }
    return { placement, k };
  }

  /**
   * What every recommender deployed on the placement would show for this request, side by side:
   * the live one, each shadow, the canary, each arm of each running experiment. Each is composed
   * as serving composes it: the live one, the canary and the arms with the placement's fallback
   * chain (so the live slate is the one /v1/recommendations answers a reader who is in no
   * experiment, canary or exploration; a placement that explores shows it unexplored), a shadow
   * alone; `none` shows nothing, as served. Interleaving experiments show each arm (the team-draft
   * merge depends on the response id). Read only: no serve or exposure record, no counter, no
   * shared ranking made or used (composeSlate directly: SharedSlates' result without its cache),
   * no assignment remembered.
   */
  preview(req: Omit<RecRequest, 'optOut' | 'sessionId'>): PreviewResponse {
    const { placement, k } = this.placementAndK(req);
    const slateReq: SlateRequest = {
      placement: placement.config,
      articleId: req.articleId,
      readerId: req.readerId,
      sessionId: null,
      k,
      now: this.clock.now(),
    };
    const fallbacks = placement.chain.slice(1);
    const one = (
      role: PreviewSlate['role'],
      r: Recommender,
      alone: boolean,
      experiment: string | null = null,
      arm: string | null = null,
    ) => {
      const s: ComposedSlate =
        r.kind === 'none'
          ? { items: [], fallback: false, faults: [] }
          : composeSlate(this.state, alone ? [r] : [r, ...fallbacks], slateReq);
      return {
        role,
        experiment,
        arm,
        recommender: { kind: r.kind, version: r.version },
        fallback: s.fallback,
        faults: s.faults.map((f) => ({ kind: f.kind, message: f.message })),
        items: s.items.map((it) => {
          const a = it.article ?? this.state.catalog.get(it.articleId);
          return {
            articleId: it.articleId,
            title: a?.title ?? '',
            url: a?.url ?? null,
            position: it.position,
            reason: it.reason,
            score: it.score,
          };
        }),
      };
    };
    const slates: PreviewSlate[] = [
      one('live', placement.chain[0]!, false),
      ...placement.shadows.map((sh) => one('shadow', sh, true)),
      ...(placement.canary ? [one('canary', placement.canary, false)] : []),
      ...placement.experiments.flatMap((e) =>
        e.arms.map((r, i) => one('arm', r, false, e.experiment.id, e.experiment.arms[i]?.name ?? String(i))),
      ),
    ];
    return {
      placement: req.placement,
      articleId: req.articleId,
      readerId: req.readerId,
      k,
      revision: placement.revision,
      warming: this.warming,
      slates,
    };
  }

  private choose(p: LivePlacement, readerId: string | null): Variant {
    const live: Variant = { kind: 'live', recommender: p.chain[0]! };
    // Anonymous and opted-out readers are never assigned: no stable unit to analyse, and no consent.
    if (readerId === null) return live;
    for (const e of p.experiments) {
      const got = assignArm(e.experiment, readerId, this.exposures.earlier(e.experiment.id, readerId));
      if (got)
        return e.experiment.kind === 'interleaving'
          ? { kind: 'interleave', experiment: e, ...got }
          : { kind: 'arm', experiment: e, ...got };
    }
    const c = p.config.canary;
    if (c && p.canary && hash(`canary:${p.config.name}:${c.startedTs}`, readerId, 2)! < c.percent / 100)
      return { kind: 'canary', recommender: p.canary };
    return live;
  }

  private runShadows(
    p: LivePlacement,
    slateReq: SlateRequest,
    recommId: string,
    attribution: { experiment: string | null; phase: number | null; arm: string | null; hashVersion: number | null },
    composed?: readonly { slate: ComposedSlate; latencyMs: number }[],
  ): void {
    for (const [i, shadow] of p.shadows.entries()) {
      const t0 = this.timer();
      // The shadow alone, without fallbacks: we measure what it would have shown (composed before
      // the response when the placement explores: its items join the exploration pool).
      const pre = composed?.[i];
      const s = pre?.slate ?? this.slates.compose([shadow], slateReq);
      this.counters.shadowRuns++;
      if (s.faults.length > 0) this.counters.shadowFaults++;
      for (const f of s.faults) this.byPlacement.shadowFaults.add(p.config.name, f.kind);
      this.records.serve({
        recommId,
        placement: p.config.name,
        ...attribution,
        recommenderKind: shadow.kind,
        recommenderVersion: shadow.version,
        shadow: true,
        readerId: slateReq.readerId,
        sessionId: slateReq.sessionId,
        articleId: slateReq.articleId,
        latencyMs: pre?.latencyMs ?? this.timer() - t0,
        fallback: false,
        fault: s.faults.length > 0,
        slate: s.items.map((it) => ({ articleId: it.articleId, position: it.position, score: it.score, reason: it.reason })),
        servedTs: slateReq.now,
      });
    }
  }
}
