import type { RevenueCurrency } from '../core/analysis/metrics.js';
import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import type { Experiment } from '../core/experiments/experiment.js';
import type { ExperimentView } from './deploy-admin.js';
import type { AnalysisStore, RollupAdaptive, RollupLagFloor, RollupProgress, RollupWindow } from './ports.js';

export interface RollupOptions {
  /**
   * Events received in the last lagMs are left for a later pass (milliseconds). Not for the
   * exposures: one stored after its reader's events were rolled up takes them when it is rolled up
   * (adapters/storage/rollups.ts step 1). Nor for the counts: every event is counted once, on
   * SQLite by its rowid (commit order), on PostgreSQL by the commit-safe watermark, however late
   * its transaction commits. On PostgreSQL the lag bounds what a pass claims: its throughTs (a
   * report's dataThroughTs, the snapshots taken at it) holds for the events committed by then, so
   * the lag must cover commit delays there (StorageTuning's rollups.minLag).
   */
  lagMs: number;
  /** The currency revenue is rolled up in, and the rates to it (default DEFAULT_REVENUE_CURRENCY). */
  money?: RevenueCurrency;
  /** Events per pass (one transaction; on SQLite the event loop waits for it); the first pass's when adaptive. */
  batchEvents: number;
  /**
   * Size passes to take about `targetMs` each, between `min` and `max` events: after a pass of n
   * events in d ms the next takes n·targetMs/d. Unset: every pass takes batchEvents. `behind`:
   * while a pass ends more than `behind.ms` of data behind the chain's cutoff, the next ones take
   * about `behind.targetMs` instead (a backlog: fewer, larger commits, a longer hold of the event
   * loop on SQLite).
   */
  adaptive?: RollupAdaptive;
  /** Monotonic milliseconds, to time passes (default performance.now). */
  monotonic?: () => number;
  /** Waits between passes (default setTimeout, or setImmediate for 0 ms). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Take a snapshot of a running phase's per-arm sums after a chain that caught up, once the last
   * one (or the phase's start) is at least this old in data-through time (milliseconds;
   * READNEXT_SNAPSHOT_EVERY_MS). Unset: no snapshots (see snapshotWindows).
   */
  snapshotEveryMs?: number;
}

/** What the rollups read and write to take the experiments' snapshots (AnalysisStore). */
export type SnapshotStore = Pick<AnalysisStore, 'armSums' | 'saveExperimentSnapshot' | 'latestExperimentSnapshots'>;

/**
 * The next pass's size after one of `events` events that took `tookMs` (RollupAdaptive): about
 * `targetMs` of work at that rate, within [min, max]; while the pass ended more than `behind.ms`
 * of data behind the cutoff (`behindMs`), behind's target and bound instead.
 */
export function nextPassSize(a: RollupAdaptive, events: number, tookMs: number, behindMs: number): number {
  const far = a.behind !== undefined && behindMs > a.behind.ms;
  const target = far ? a.behind!.targetMs : a.targetMs;
  const max = far ? (a.behind!.max ?? a.max) : a.max;
  return Math.round(Math.min(max, Math.max(a.min, (events * target) / tookMs)));
}

const defaultSleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/** Refuses a rollup lag that loses events on this database (READNEXT_ROLLUP_LAG_MS; the floor is the storage's, StorageTuning), with what to set. */
export function checkRollupLag(min: RollupLagFloor, lagMs: number): void {
  if (!(lagMs >= min.ms)) {
    throw new DomainError('invalid_config', `READNEXT_ROLLUP_LAG_MS must be at least ${min.ms} on ${min.on}, got ${lagMs}: ${min.why}`, {
      field: 'READNEXT_ROLLUP_LAG_MS',
    });
  }
}

/** Every phase of every experiment, with its end (the next phase's start, the stop, or null while it runs) and its placement. */
export function rollupWindows(experiments: readonly Experiment[]): RollupWindow[] {
  const out: RollupWindow[] = [];
  for (const e of experiments) {
    e.phases.forEach((p, i) =>
      out.push({
        experiment: e.id,
        phase: p.phase,
        fromTs: p.startedTs,
        toTs: e.phases[i + 1]?.startedTs ?? e.stoppedTs ?? null,
        placement: e.placement,
      }),
    );
  }
  return out;
}

/**
 * The phases to snapshot, and at which data-through time, after a chain that has every event
 * received before `throughTs` rolled up (`latest`: the latest snapshot's time per
 * "experiment phase"):
 * - a running phase (no end yet), when `throughTs` is at least `everyMs` past its latest snapshot,
 *   or past its start when it has none: at `throughTs`, so snapshots come about every `everyMs`
 *   while the rollups are looked at, and none before the phase has `everyMs` of data;
 * - an ended phase (a next phase started, or the experiment stopped), once: at its end, when the
 *   data is through the end and its latest snapshot is before it (its sums no longer change).
 */
export function snapshotWindows(
  windows: readonly RollupWindow[],
  latest: ReadonlyMap<string, number>,
  throughTs: number,
  everyMs: number,
): { experiment: string; phase: number; ts: number }[] {
  const out: { experiment: string; phase: number; ts: number }[] = [];
  for (const w of windows) {
    const last = latest.get(`${w.experiment} ${w.phase}`);
    if (w.toTs === null) {
      if (throughTs - Math.max(last ?? w.fromTs, w.fromTs) >= everyMs)
        out.push({ experiment: w.experiment, phase: w.phase, ts: throughTs });
    } else if (throughTs >= w.toTs && (last === undefined || last < w.toTs)) {
      out.push({ experiment: w.experiment, phase: w.phase, ts: w.toTs });
    }
  }
  return out;
}

/**
 * Keeps the per-exposure rollups of the experiment report up to date, off the ingestion path: a
 * pass every interval, and a catch-up before each report. Passes of one process never overlap;
 * passes of several processes are serialised by the database.
 */
export class AnalysisRollups {
  private running: Promise<RollupProgress> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Set by stop(): a running chain ends after its current pass instead of catching up. */
  private stopping = false;
  /** Whether the running chain is a background one, and whether a foreground caller waits for it to end. */
  private runningInBackground = false;
  private yieldToForeground = false;
  /** Events of the next pass (adapted to the pass time when `adaptive` is set). */
  private batch: number;
  private rolledUp = 0;
  private through: number | undefined;

  /**
   * `store` takes the snapshots too when it has their methods (SnapshotStore) and
   * `opts.snapshotEveryMs` is set.
   */
  constructor(
    private readonly store: Pick<AnalysisStore, 'advanceRollups'> & Partial<SnapshotStore>,
    private readonly deployments: Pick<ExperimentView, 'listExperiments'>,
    private readonly clock: Clock,
    private readonly opts: RollupOptions,
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    this.batch = opts.batchEvents;
  }

  /** The currency revenue is rolled up in (the report says it). */
  get money(): RevenueCurrency | undefined {
    return this.opts.money;
  }

  /**
   * Events this process rolled up since it started, and the latest data-through time its passes
   * reached (every event received before it is in; undefined before the first pass). Read by
   * /metrics: now − throughTs is how far behind a report would be without its catch-up.
   */
  get progress(): { events: number; throughTs: number | undefined } {
    return { events: this.rolledUp, throughTs: this.through };
  }

  /** Events the next pass will take. */
  get batchEvents(): number {
    return this.batch;
  }

  /**
   * Rolls up until every event received before now − lag is in, one batch per pass, yielding to
   * the event loop between passes. `maxShare` (0 < share ≤ 1) bounds the share of wall time the
   * passes take: after a pass of d ms the chain waits d·(1 − share)/share ms, so that under
   * sustained ingestion faster than the rollups the collector keeps the rest of the event loop
   * (SQLite passes run on it) and the rollups fall behind instead of starving ingestion. `maxMs`
   * bounds the chain's wall time: it ends after the pass that crosses it, not caught up, and the
   * progress says how far it got (throughTs).
   *
   * One chain at a time. A background chain (start()) gives way: a foreground caller (a report)
   * makes it end after its current pass and then runs its own at full share, instead of waiting for
   * a chain that, under sustained ingestion, takes minutes at its small share; a background call
   * while any chain runs does nothing. A foreground caller behind another foreground chain waits for
   * it, then runs its own.
   */
  async catchUp(opts: { maxShare?: number; maxMs?: number; background?: boolean } = {}): Promise<RollupProgress> {
    if (opts.background && this.running) return this.running;
    while (this.running) {
      if (this.runningInBackground) this.yieldToForeground = true;
      await this.running.catch(() => undefined);
    }
    this.yieldToForeground = false;
    this.runningInBackground = opts.background === true;
    const run = this.chain(opts.maxShare ?? 1, opts.maxMs ?? Number.POSITIVE_INFINITY, this.runningInBackground);
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
    }
  }

  private async chain(maxShare: number, maxMs: number, background: boolean): Promise<RollupProgress> {
    const total: RollupProgress = { events: 0, throughTs: 0, caughtUp: false };
    const cutoff = this.clock.now() - this.opts.lagMs;
    const windows = rollupWindows(this.deployments.listExperiments().map((x) => x.experiment));
    const now = this.opts.monotonic ?? (() => performance.now());
    const sleep = this.opts.sleep ?? defaultSleep;
    const began = now();
    for (;;) {
      const t0 = now();
      // A chain with a time budget (a report's) takes passes of the usual size, not a backlog's larger ones.
      const size = this.opts.adaptive && Number.isFinite(maxMs) ? Math.min(this.batch, this.opts.adaptive.max) : this.batch;
      const p = await this.store.advanceRollups(windows, cutoff, size, this.opts.money);
      const took = now() - t0;
      if (p.notice) this.log(p.notice);
      const a = this.opts.adaptive;
      // Only a full pass says how long a full pass takes (not one that merged deltas too).
      if (a && !p.caughtUp && !p.compacted && p.events > 0 && took > 0) this.batch = nextPassSize(a, p.events, took, cutoff - p.throughTs);
      total.events += p.events;
      total.throughTs = p.throughTs;
      this.rolledUp += p.events;
      if (this.through === undefined || p.throughTs > this.through) this.through = p.throughTs;
      total.caughtUp = p.caughtUp;
      // Within the chain, so that no other chain's pass moves the sums past throughTs meanwhile.
      if (p.caughtUp && !p.moreToMerge) await this.snapshot(windows, p.throughTs);
      // Stopping: the pass committed with its cursor, so what is left waits for the next start.
      // A chain that has caught up ends once the deltas are merged (SQLite: a large merge takes a pass per part).
      if ((p.caughtUp && !p.moreToMerge) || this.stopping || (background && this.yieldToForeground) || now() - began >= maxMs) return total;
      await sleep(maxShare >= 1 ? 0 : (took * (1 - maxShare)) / maxShare);
      if (background && this.yieldToForeground) return total;
    }
  }

  /** The snapshots due after a chain that caught up (snapshotWindows); a failure is logged and never fails the chain. */
  private async snapshot(windows: readonly RollupWindow[], throughTs: number): Promise<void> {
    const everyMs = this.opts.snapshotEveryMs;
    const { armSums, saveExperimentSnapshot, latestExperimentSnapshots } = this.store;
    if (everyMs === undefined || !armSums || !saveExperimentSnapshot || !latestExperimentSnapshots || windows.length === 0) return;
    let latest: Map<string, number>;
    try {
      latest = new Map((await latestExperimentSnapshots.call(this.store)).map((x) => [`${x.experiment} ${x.phase}`, x.ts]));
    } catch (e) {
      this.log(`experiment snapshots failed: ${(e as Error).message}`);
      return;
    }
    for (const due of snapshotWindows(windows, latest, throughTs, everyMs)) {
      try {
        const sums = await armSums.call(this.store, due.experiment, due.phase);
        await saveExperimentSnapshot.call(this.store, { ...due, sums });
      } catch (e) {
        this.log(`experiment snapshot of ${due.experiment} phase ${due.phase} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Background passes every `everyMs`, taking at most `maxShare` of wall time while behind (StorageTuning's rollups.backgroundShare). */
  start(everyMs: number, maxShare: number): void {
    this.timer = setInterval(
      () => void this.catchUp({ maxShare, background: true }).catch((e: Error) => this.log(`analysis rollup failed: ${e.message}`)),
      everyMs,
    );
    this.timer.unref();
  }

  /**
   * Stops the background passes and waits for the running pass, not for the chain to catch up: a
   * server stopped while the rollups are behind (sustained ingestion) would otherwise roll up for as
   * long as it took, past any shutdown timeout (bench:ingest --experiment saw more than 30 s).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
