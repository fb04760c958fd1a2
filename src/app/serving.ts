import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import { assignArm, carryOverFrom } from '../core/experiments/experiment.js';
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
import { RecentMap } from '../core/kernel/recent-map.js';
import type { ExposureLookup } from './exposure-lookup.js';

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
  /**
   * Responses served by the live recommender, outside an experiment, because the reader's earlier
   * arm was neither in memory nor read back in time (ExposureLookup): a slow or failing database.
   */
  armsUnresolved: number;
}

/** One reader's exposure to one experiment as this process knows it (ExposureMemory). */
interface Remembered {
  /** The arm of the reader's current assignment, or null: the database held no exposure when looked up in phase `lastPhase`. */
  arm: string | null;
  /** The phase the arm was first given in (for `null`, the phase looked up in). */
  phase: number;
  /** The last phase this process exposed the reader in (or looked them up in); NaN after `forget`. */
  lastPhase: number;
}

/**
 * Entries an exposure memory holds at most by default (READNEXT_READER_MEMORY_MAX): up to about 300 MB
 * of heap, at about 300 bytes an entry (measured with 30-character reader ids: the key string, the
 * entry and the Map's slot; 141 bytes with bench:readers' 10-character ids, 135 MB for 1M after a
 * full collection), and up to half as much again as garbage after a generation is dropped.
 */
export const DEFAULT_READER_MEMORY_MAX = 1_000_000;

/**
 * Readers already exposed per experiment (arm and phase of their first exposure), to write each
 * exposure once and keep arms across phases. Bounded: at most `capacity` (experiment, reader)
 * entries, the least recently used forgotten first (RecentMap: it keeps at least the most recent
 * half). What an evicted entry held is in the database, which is the truth this memory caches:
 *   - the arm and phase of the first exposure decide the reader's arm in a later phase (correctness):
 *     when they are not here, serving reads them back (ExposureLookup, RecommendationService.prepare);
 *   - `lastPhase` only saves writing an exposure twice in a phase (a hint): the exposures table keeps
 *     the first row of a (experiment, phase, reader) and ignores the others;
 *   - an entry with no arm (`null`) says the database held nothing when looked up in that phase (a
 *     negative cache, bounded with the rest; a hint, valid for that phase only: another process may
 *     expose the reader in the next one).
 */
export class ExposureMemory {
  /** Keyed by `${experiment} ${readerId}` (an experiment id has no space: EXPERIMENT_ID). */
  private readonly seen: RecentMap<string, Remembered>;

  constructor(readonly capacity = DEFAULT_READER_MEMORY_MAX) {
    this.seen = new RecentMap(capacity);
  }

  /** Entries held (never more than `capacity`). */
  get size(): number {
    return this.seen.size;
  }

  /** The reader's earlier exposure when this process holds it (without telling "none" from "not known": see `recall`). */
  earlier(experiment: string, readerId: string): { arm: string; phase: number } | undefined {
    const r = this.seen.get(`${experiment} ${readerId}`);
    return r && r.arm !== null ? (r as { arm: string; phase: number }) : undefined;
  }

  /**
   * What this process knows of the reader's arm in `phase`, whose assignment began in phase `from`
   * (carryOverFrom): their earlier exposure of this assignment, null when it knows there is none to
   * keep, undefined when it does not know (the database must be asked). It knows when it holds an
   * exposure of this assignment (an arm, once given, is kept for the whole assignment, whichever
   * process gave it), or looked the reader up in this phase and found none. An arm of an older
   * assignment tells nothing (the reader may have been exposed since, elsewhere).
   */
  recall(experiment: string, readerId: string, phase: number, from: number): { arm: string; phase: number } | null | undefined {
    const r = this.seen.get(`${experiment} ${readerId}`);
    if (r === undefined) return undefined;
    if (r.arm !== null) return r.phase >= from ? (r as { arm: string; phase: number }) : undefined;
    return r.lastPhase === phase ? null : undefined;
  }

  /**
   * Records an exposure; true when it is the reader's first in this phase (so it must be written).
   * `from`, the first phase of the current assignment, moves an arm kept from an older assignment to
   * this phase (the same arm drawn again by a new seed).
   */
  note(experiment: string, readerId: string, arm: string, phase: number, from = Number.NEGATIVE_INFINITY): boolean {
    const key = `${experiment} ${readerId}`;
    const cur = this.seen.get(key);
    if (!cur || cur.arm === null) {
      this.seen.set(key, { arm, phase, lastPhase: phase });
      return true;
    }
    if (cur.lastPhase === phase) return false;
    cur.lastPhase = phase;
    if (cur.arm !== arm || cur.phase < from) {
      cur.arm = arm;
      cur.phase = phase;
    }
    return true;
  }

  /**
   * The reader's stored exposures from phase `from` on (the database's answer to a lookup made in
   * `phase`), replacing what this process held: their first one gives the arm, their last one says
   * which phase is written already; none leaves a negative entry for `phase`. `from`: the first
   * phase of the current assignment (the lookup's carryOverFrom).
   */
  recalled(
    experiment: string,
    readerId: string,
    phase: number,
    rows: readonly { arm: string; phase: number }[],
    from = Number.NEGATIVE_INFINITY,
  ): void {
    const key = `${experiment} ${readerId}`;
    if (rows.length === 0) {
      const cur = this.seen.peek(key);
      // This process may have exposed the reader in this assignment, its write not yet stored: keep
      // what it knows. An arm of an older assignment is no such thing: kept, `recall` would send the
      // reader to the database again on every request, served outside the experiment each time.
      if (cur === undefined || cur.arm === null || (cur.phase < from && !(cur.lastPhase >= from)))
        this.seen.set(key, { arm: null, phase, lastPhase: phase });
      return;
    }
    let first = rows[0]!;
    let last = rows[0]!;
    for (const r of rows) {
      if (r.phase < first.phase) first = r;
      if (r.phase > last.phase) last = r;
    }
    const cur = this.seen.peek(key);
    const lastPhase = cur && cur.arm === first.arm && cur.lastPhase > last.phase ? cur.lastPhase : last.phase;
    this.seen.set(key, { arm: first.arm, phase: first.phase, lastPhase });
  }

  /**
   * Undoes `note` for an exposure whose write failed (RecordWriter onExposuresDropped), so that the
   * reader's next request writes it again; without this a lost exposure was never sent again. The
   * arm is kept: assignment gives the reader the same one next time. A refused exposure is not
   * forgotten (writing it again would fail again).
   */
  forget(r: Pick<ExposureRecord, 'experiment' | 'readerId' | 'phase'>): void {
    const cur = this.seen.peek(`${r.experiment} ${r.readerId}`);
    // NaN equals no phase: the next note() in any phase is a first exposure again.
    if (cur && cur.lastPhase === r.phase) cur.lastPhase = Number.NaN;
  }

  load(experiment: string, rows: Iterable<{ readerId: string; arm: string; phase: number }>): void {
    for (const r of rows) this.note(experiment, r.readerId, r.arm, r.phase);
  }

  /** Every reader id remembered, once per experiment (a reader's erasure: app/readers.ts). */
  *readerIds(): IterableIterator<string> {
    for (const k of this.seen.keys()) yield k.slice(k.indexOf(' ') + 1);
  }

  /** Forgets the readers `match` accepts in every experiment: a later request is a first exposure. */
  forgetReaders(match: (readerId: string) => boolean): number {
    return this.seen.deleteWhere((k) => match(k.slice(k.indexOf(' ') + 1)));
  }
}

type Variant =
  | { kind: 'live'; recommender: Recommender }
  | { kind: 'canary'; recommender: Recommender }
  /** `from`: the first phase of the experiment's current assignment (carryOverFrom), when an earlier phase shares it. */
  | { kind: 'arm'; experiment: LiveExperiment; arm: number; name: string; from: number | undefined }
  | { kind: 'interleave'; experiment: LiveExperiment; arm: number; name: string; from: number | undefined };

/**
 * The read-next use case. Synchronous on purpose: everything it reads is in memory; the `serve`
 * and `exposure` records go to a buffer written off the request path, and shadow recommenders run
 * after the response is on its way.
 */
export class RecommendationService {
  readonly counters: ServingCounters = { requests: 0, fallbacks: 0, faults: 0, shadowRuns: 0, shadowFaults: 0, armsUnresolved: 0 };
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
    /**
     * Reads back from the database what the exposure memory does not hold (see prepare). Without
     * it the memory is taken as the whole truth: one process that never evicts (tests).
     */
    private readonly lookup?: Pick<ExposureLookup, 'lookup'>,
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

  /**
   * What must be read from the database before `recommend` can choose this reader's arm: undefined
   * (the hot path, no I/O) when the exposure memory knows the reader in every running experiment of
   * the placement, or no earlier exposure can matter (carryOverFrom); else a promise that resolves
   * once the reader's stored exposures are in the memory, or after a bounded wait (ExposureLookup
   * says what is served then). Never rejects. An unknown placement is left to `recommend` to refuse.
   */
  prepare(req: Pick<RecRequest, 'placement' | 'readerId' | 'optOut'>): Promise<void> | undefined {
    const lookup = this.lookup;
    if (lookup === undefined || this.stopgap || req.optOut || req.readerId === null) return undefined;
    const p = this.placements.get(req.placement);
    if (!p || p.experiments.length === 0) return undefined;
    let wait: Promise<void> | undefined;
    for (const { experiment: e } of p.experiments) {
      const from = carryOverFrom(e, req.readerId);
      if (from === undefined || this.exposures.recall(e.id, req.readerId, e.phase, from) !== undefined) continue;
      const w = lookup.lookup(e.id, req.readerId, e.phase, from);
      wait = wait === undefined || wait === w ? w : Promise.all([wait, w]).then(() => undefined);
    }
    return wait;
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
        const e = exploreSlate(
          full,
          k,
          ex,
          recommId,
          isExplored(req.placement, recommId, ex.share),
          shadowSlates.map((x) => x.slate.items),
        );
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

    const assigned = variant.kind === 'arm' || variant.kind === 'interleave' ? variant : undefined;
    const exp = assigned?.experiment.experiment;
    const attribution = {
      experiment: exp?.id ?? null,
      phase: exp?.phase ?? null,
      arm:
        variant.kind === 'canary' ? 'canary' : variant.kind === 'arm' ? variant.name : variant.kind === 'interleave' ? 'interleaved' : null,
      hashVersion: exp?.hashVersion ?? null,
    };
    // 4. Exposure: once per reader, experiment and phase, whatever the arm shows (even nothing).
    // No `from`: this phase starts the assignment, and an arm drawn again in it belongs to it.
    if (exp && readerId !== null && this.exposures.note(exp.id, readerId, attribution.arm!, exp.phase, assigned!.from ?? exp.phase)) {
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
      const x = e.experiment;
      // An earlier exposure decides the arm only when an earlier phase shares the current assignment.
      const from = carryOverFrom(x, readerId);
      let earlier: { arm: string; phase: number } | null | undefined;
      if (from !== undefined) {
        earlier = this.exposures.recall(x.id, readerId, x.phase, from);
        if (earlier === undefined && this.lookup) {
          // Not known here and not read back in time (prepare): the live recommender serves, no
          // exposure is written (ExposureLookup). Asked now for the reader's next request, when
          // the caller did not prepare.
          void this.lookup.lookup(x.id, readerId, x.phase, from);
          this.counters.armsUnresolved++;
          return live;
        }
      }
      // An arm stored for this very phase (carried from an earlier one, or drawn in it) stands: a
      // process that knows only that row (preloaded at start) must not draw the reader afresh.
      const stored = earlier && earlier.phase === x.phase ? x.arms.findIndex((arm) => arm.name === earlier.arm) : -1;
      const got = stored >= 0 ? { arm: stored, name: earlier!.arm } : assignArm(x, readerId, earlier ?? undefined);
      if (got)
        return x.kind === 'interleaving'
          ? { kind: 'interleave', experiment: e, ...got, from }
          : { kind: 'arm', experiment: e, ...got, from };
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
