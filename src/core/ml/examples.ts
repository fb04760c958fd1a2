/**
 * Training examples from reading logs: every shown candidate of an impression, labelled clicked (1)
 * or shown and not clicked (0), with the features FeatureState computed just before the impression.
 *
 * Position is used in training only, to debias: a click at slot p is weighted by 1 / propensity(p),
 * with propensity(p) = CTR(p) / CTR(1) estimated from the same examples (clipped to [0.1, 1]; the
 * estimate is confounded by the ranker that filled the slots, so it overstates the bias a little).
 * No feature carries the position, so serving never needs one. Tested in test/core/ml/features.test.ts.
 */
import type { Signal } from '../recommend/signals.js';
import { FEATURE_NAMES, FeatureState, type ArticleLookup, type FeatureParams } from './features.js';

/** An event as training reads it: the fields of a stored read, page view, click or impression. */
export interface TrainingEvent {
  type: string;
  readerId: string;
  clientTs: number;
  articleId: string | null;
  recommId?: string | null;
  placement?: string | null;
  items?: readonly { articleId: string; position: number }[];
  shadow?: boolean;
}

/** Labelled rows, in the time order of their impressions. */
export interface ExampleSet {
  /** n × d, row-major. */
  X: Float32Array;
  n: number;
  d: number;
  y: Uint8Array;
  /** Impression time of each row, epoch ms. */
  ts: Float64Array;
  /** 1-based slot of each row. */
  position: Uint8Array;
  /** Index of each row's impression (rows of one impression are consecutive). */
  group: Int32Array;
  impressions: number;
}

/** A click later than this after its impression is not counted as the impression's label. */
const CLICK_WITHIN_MS = 30 * 60_000;

/**
 * Replays `events` (in client-time order) through a fresh FeatureState and returns the examples
 * of the live impressions of `placement` (every placement when undefined) at or after `fromTs`;
 * earlier events only warm the state. Each impression's features are computed before the state
 * observes it, and its labels are set by the clicks that follow it (same recommId and article).
 *
 * @example
 * const set = buildExamples(events, catalog, { placement: 'read-next', fromTs: since });
 */
export function buildExamples(events: Iterable<TrainingEvent>, catalog: ArticleLookup, opts: ExampleOptions = {}): ExampleSet {
  const replay = new ExampleReplay(catalog, opts);
  for (const e of events) replay.push(e);
  return replay.done();
}

export interface ExampleOptions {
  placement?: string;
  fromTs?: number;
  params?: FeatureParams;
  maxReaders?: number;
}

/** buildExamples one event at a time (a stream of stored events). */
export class ExampleReplay {
  private readonly state: FeatureState;
  private readonly builder = new ExampleBuilder(FEATURE_NAMES.length);
  private readonly fromTs: number;
  /** Open impressions by recommId: their rows' articles, for the labels; dropped CLICK_WITHIN_MS after. */
  private readonly open = new Map<string, { ts: number; first: number; ids: string[] }>();
  private queue: string[] = [];
  private head = 0;

  constructor(
    catalog: ArticleLookup,
    private readonly opts: ExampleOptions = {},
  ) {
    this.state = new FeatureState(catalog, opts.params, opts.maxReaders);
    this.fromTs = opts.fromTs ?? -Infinity;
  }

  push(e: TrainingEvent): void {
    const { open, queue, state } = this;
    for (; this.head < queue.length; this.head++) {
      const o = open.get(queue[this.head]!);
      if (o && e.clientTs - o.ts <= CLICK_WITHIN_MS) break;
      open.delete(queue[this.head]!);
    }
    if (this.head > 4096) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    if (e.type === 'impression') {
      if (e.shadow === true || !e.items || e.items.length === 0) return;
      const ids = e.items.map((i) => i.articleId);
      if (e.clientTs >= this.fromTs && (this.opts.placement === undefined || e.placement === this.opts.placement)) {
        const first = this.builder.add(state, { readerId: e.readerId, articleId: e.articleId, ts: e.clientTs }, e.items);
        if (e.recommId) {
          open.set(e.recommId, { ts: e.clientTs, first, ids });
          this.queue.push(e.recommId);
        }
      }
      state.shown(e.readerId, ids, e.clientTs);
      return;
    }
    const s = signal(e);
    if (!s) return;
    if (s.kind === 'click' && e.recommId) {
      const o = open.get(e.recommId);
      const at = o ? o.ids.indexOf(s.articleId) : -1;
      if (o && at >= 0) this.builder.label(o.first + at);
    }
    state.add(s);
  }

  /** Rows so far. */
  get rows(): number {
    return this.builder.rows;
  }

  done(): ExampleSet {
    return this.builder.done();
  }
}

function signal(e: TrainingEvent): Signal | undefined {
  if (!e.articleId) return undefined;
  const kind = e.type === 'read' ? 'read' : e.type === 'click' ? 'click' : e.type === 'page_view' ? 'view' : undefined;
  return kind ? { kind, readerId: e.readerId, articleId: e.articleId, ts: e.clientTs } : undefined;
}

/** Growable example storage. */
class ExampleBuilder {
  private X = new Float32Array(0);
  private y = new Uint8Array(0);
  private ts = new Float64Array(0);
  private position = new Uint8Array(0);
  private group = new Int32Array(0);
  private n = 0;
  private impressions = 0;

  constructor(private readonly d: number) {
    this.grow(1024);
  }

  add(state: FeatureState, q: { readerId: string; articleId: string | null; ts: number }, items: TrainingEvent['items'] & {}): number {
    const first = this.n;
    if (first + items.length > this.y.length) this.grow(Math.max(this.y.length * 2, first + items.length));
    state.features(
      q,
      items.map((i) => i.articleId),
      this.X,
      first,
    );
    for (let i = 0; i < items.length; i++) {
      this.ts[first + i] = q.ts;
      this.position[first + i] = Math.min(255, items[i]!.position);
      this.group[first + i] = this.impressions;
    }
    this.n += items.length;
    this.impressions++;
    return first;
  }

  get rows(): number {
    return this.n;
  }

  label(row: number): void {
    this.y[row] = 1;
  }

  done(): ExampleSet {
    const n = this.n;
    return {
      X: this.X.slice(0, n * this.d),
      n,
      d: this.d,
      y: this.y.slice(0, n),
      ts: this.ts.slice(0, n),
      position: this.position.slice(0, n),
      group: this.group.slice(0, n),
      impressions: this.impressions,
    };
  }

  private grow(rows: number): void {
    const X = new Float32Array(rows * this.d);
    X.set(this.X);
    this.X = X;
    const y = new Uint8Array(rows);
    y.set(this.y);
    this.y = y;
    const ts = new Float64Array(rows);
    ts.set(this.ts);
    this.ts = ts;
    const p = new Uint8Array(rows);
    p.set(this.position);
    this.position = p;
    const g = new Int32Array(rows);
    g.set(this.group);
    this.group = g;
  }
}

/**
 * Inverse-propensity weights: 1 for a row without a click, 1 / propensity(p) for a click at slot p,
 * propensity(p) = CTR(p) / CTR(1) clipped to [0.1, 1] (slots with fewer than 100 rows: 1).
 */
export function positionWeights(set: Pick<ExampleSet, 'n' | 'y' | 'position'>): { weights: Float32Array; propensity: number[] } {
  const shown: number[] = [];
  const clicked: number[] = [];
  for (let i = 0; i < set.n; i++) {
    const p = set.position[i]!;
    shown[p] = (shown[p] ?? 0) + 1;
    clicked[p] = (clicked[p] ?? 0) + set.y[i]!;
  }
  const ctr1 = (clicked[1] ?? 0) / Math.max(1, shown[1] ?? 0);
  const propensity = shown.map((s, p) =>
    p === 0 || s === undefined || s < 100 || ctr1 === 0 ? 1 : Math.min(1, Math.max(0.1, (clicked[p] ?? 0) / s / ctr1)),
  );
  const weights = new Float32Array(set.n);
  for (let i = 0; i < set.n; i++) weights[i] = set.y[i] ? 1 / (propensity[set.position[i]!] ?? 1) : 1;
  return { weights, propensity: propensity.map((x) => x ?? 1) };
}

/** Rows [0, k) and [k, n) of a set, where row k is the first whose impression is at or after `cutTs`. */
export function splitAt(set: ExampleSet, cutTs: number): [ExampleSet, ExampleSet] {
  let k = 0;
  while (k < set.n && set.ts[k]! < cutTs) k++;
  const part = (from: number, to: number): ExampleSet => {
    const g0 = from < set.n ? set.group[from]! : 0;
    return {
      X: set.X.subarray(from * set.d, to * set.d),
      n: to - from,
      d: set.d,
      y: set.y.subarray(from, to),
      ts: set.ts.subarray(from, to),
      position: set.position.subarray(from, to),
      group: set.group.subarray(from, to).map((g) => g - g0),
      impressions: to > from ? set.group[to - 1]! - g0 + 1 : 0,
    };
  };
  return [part(0, k), part(k, set.n)];
}
