import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import {
  CUPED_RATIO_PAIRS,
  DEFAULT_REVENUE_CURRENCY,
  EXPOSURE_GRACE_MS,
  MEASURES,
  PRE_MEASURES,
  RATIO_PAIRS,
  type ArmSums,
  type Measure,
  type RevenueCurrency,
} from '../../core/analysis/metrics.js';
import { DomainError } from '../../core/kernel/errors.js';
import type { RollupProgress, RollupWindow } from '../../app/ports.js';
import { sqliteCursorCheck, sqliteCursorEvent } from './rollup-cursor.js';
import { rebaseForeignWatermark } from './rollup-rebase.js';
import type { Database } from './schema.js';

/**
 * Per-exposure rollups for experiment analysis (docs/adr/0001-analysis-rollups.md).
 *
 * Each exposure row carries its reader's measures since the first exposure (post) and over the
 * CUPED pre-period, so a report sums one row per exposed reader. `advance` moves a cursor over the
 * stored events, a batch at a time, in one transaction:
 *   1. exposures not yet rolled take their pre-period from `reader_days` and their post measures
 *      from the events already behind the cursor (an exposure stored after some of its reader's
 *      events were rolled up, or its page's page view: a short range of recent events);
 *   2. the batch's events are added to `reader_days` (every reader, for exposures still to come);
 *   3. the distinct sessions of the batch after each exposure go into `exposure_session_ids` (by
 *      the exposure's integer id: migrations 0021 and 0024), and the new ones are counted;
 *   4. the batch's events are added to the rolled exposures of their reader (post when after the
 *      first exposure and before the phase's end; pre when in the pre-period);
 *   5. days of reader_days that no pre-period still to be taken can reach are deleted;
 *   6. the cursor moves on.
 * Steps 1 and 4 split every event exactly once between "behind the cursor" and "in the batch", so
 * the result depends neither on how the events were batched nor on when the exposures were stored.
 *
 * Every time is the server's receive time (core/analysis/metrics.ts says which events count): an
 * event is after the exposure when received at or after it, or when it is the page view of the
 * exposure's page (same session and article, received at most EXPOSURE_GRACE_MS before it). The
 * pre-period is the 14 whole UTC days before the day of exposure − EXPOSURE_GRACE_MS (so it never
 * meets the post window); sessions have no pre-period value.
 *
 * Commit-safe watermark. SQLite's cursor is a rowid: one writer hands rowids out in commit order,
 * so every row behind the cursor was committed before the pass. PostgreSQL's cursor is a receive
 * time, and a transaction can commit rows received before the cursor after a pass has moved past
 * them (a group commit held up, a slow client transaction): a lag after the receive time was a
 * bound, not a proof. So each event row keeps the id of the transaction that stored it (`xid`,
 * migration 0019), and the rollups keep a watermark W (`rollup_state.watermark`): an xmax and the
 * ids below it that were still running, as in a snapshot (pg_snapshot). A row is "below W" when its
 * transaction id is under W's xmax and not one of W's running ids: that transaction had ended when
 * W was taken, so all its rows are visible and no more will come. Invariant: after a pass with
 * cursor T and watermark W, the rolled-up rows are exactly those received before T (and from the
 * skip-ahead floor) below W, or stored before migration 0019 (a null id: all committed then). The
 * next pass takes a snapshot S at its start and sets W' from it (W' ⊇ W: S's xmax, capped so that
 * a pass takes about maxEvents late rows, and S's running ids under it), then takes the rows
 * received in [T, T') below W' and the late ones: received in [floor, T), not below W (an id in
 * W's running list or at least its xmax, by the events_xid index) and below W'. Each row is counted
 * once, whenever its transaction commits, and a transaction held open holds back only its own rows
 * (and the rows stored after the cap). Steps 1 and 4 split as before: "behind the cursor" is
 * received before T and below W.
 *
 * Deltas (SQLite, migration 0022). Steps 2-4 update rows at keys spread over exposures,
 * exposure_session_ids and reader_days (a pass's readers are anyone's): once those tables outgrow
 * the page cache, each event dirtied about a page in each, and a pass's commit wrote them all (at
 * 500,000 exposed readers about 89 us an event). So a SQLite pass appends instead: per exposure of
 * the batch its sums (exposure_deltas), its sessions not stored yet (exposure_session_deltas: the
 * same pair may come from several passes), per reader and day its totals (reader_day_deltas), all
 * at the end of unindexed tables. Later passes merge them, in each table's key order, so that each
 * page of the keyed tables is written once per merge rather than once per pass: when they reach a
 * share of the exposures (MERGE_POLICY), and at the end of a chain (so that a report, after its
 * catch-up, usually finds none). A merge of many rows runs over several passes, a range of
 * exposure ids (rollup_state.merge_rid, over the delta rows appended before it began: merge_row,
 * merge_session_row) or part of the earliest day of reader_day_deltas per pass, so that no pass holds the
 * event loop for the whole merge; a chain that has caught up goes on until it is done
 * (RollupProgress.moreToMerge). What reads the sums reads them merged: the report (armSumsQuery)
 * adds the delta rows no merge has taken yet; a pre-period taken in step 1 that reaches a day the
 * deltas hold (rollup_state.delta_day, their earliest) merges all of reader_day_deltas first. A
 * pass appends the session pairs of its events as they come, and a merge inserts and counts each
 * distinct pair exposure_session_ids does not hold, once, however often passes appended it.
 *
 * Measured (AMD EPYC, 2 vCPU; docs/adr/0006-sqlite-rollup-deltas.md): the first catch-up after
 * 10M events from 500,000 exposed readers (bench:analysis) 11,204 -> 64,077 events/s (76,002 with
 * migration 0023's covering index); in bench/rollup-throughput.ts's profile of the same size the
 * longest pass that merged held the event loop 1.3-1.9 s (the first pass, which claims 500,000 new
 * exposures at once, 2.4 s, and 4.3 s with 0023's index, which a claim updates). The tables came
 * out the same as when updated in place (the bench's digest at 1M and 3M events, and across every
 * variant at 10M).
 */

/**
 * SQLite: when a pass merges the deltas ("Deltas" above): once they hold `share` of the exposures'
 * rows and at least `minRows` rows (the larger of their two tables), and at the end of a chain
 * (`caughtUp`; tests turn it off to keep deltas across chains). A merge updates about every page of
 * exposures whatever its size, so the larger the share, the less a rolled-up event costs, and the
 * more a report that finds deltas waiting has to add up: at 10M events / 500,000 readers
 * (bench/rollup-throughput.ts's profile, passes sized as the server's) a share of 0.5 gave 49,382
 * events/s (merging most of the time), 2 gave 56,212. Ranges of 50,000 ids: each scans the deltas
 * (unindexed: an index on rid cost more in the appends and the final delete than it saved, 41,357).
 */
export interface MergePolicy {
  share: number;
  minRows: number;
  caughtUp: boolean;
  /**
   * A merge of at most this many rows runs in one pass; a larger one merges `chunkIds` exposure ids,
   * or the earliest day's rows among the first `chunkRows` of reader_day_deltas, per pass.
   */
  wholeRows: number;
  chunkIds: number;
  chunkRows: number;
}
export const MERGE_POLICY: MergePolicy = {
  share: 2,
  minRows: 50_000,
  caughtUp: true,
  wholeRows: 50_000,
  chunkIds: 50_000,
  chunkRows: 200_000,
};

/** SQLite: a delta row (alias d) not merged yet: not in the ids and rows a merge in progress has done (rollup_state alias s). */
const pendingDelta = (rowCol: 'merge_row' | 'merge_session_row') => `not coalesce(d.rowid <= s.${rowCol} and d.rid < s.merge_rid, 0)`;

export const DAY_MS = 86_400_000;
export const PRE_DAYS = 14;

/**
 * SQLite: how far receive times may go back as rowids grow (one writer stamps them on receipt and
 * commits in order; a clock step or a second writing process can reorder them a little). The range
 * of step 1 starts this much earlier.
 */
const RECEIVE_ORDER_SLACK_MS = 1000;

/** Column of each measure in exposures and reader_days. */
export const MEASURE_COLUMN: Record<Measure, string> = {
  impressions: 'impressions',
  clicks: 'clicks',
  reads: 'reads',
  dwellMs: 'dwell_ms',
  pageViews: 'page_views',
  sessions: 'sessions',
  subscribed: 'subscribed',
  revenue: 'revenue',
};

/**
 * Measures kept per reader and day (all but sessions), with how one event contributes (from the
 * scratch table, whose revenue is converted already); subscribed is a max, the others sums.
 * Impressions and clicks count the experiment's placement only after exposure (`here`); their
 * pre-period values are over every placement and the report does not use them (PRE_MEASURES).
 */
const DAY_MEASURES: readonly { col: string; type: string; value: string; here?: boolean }[] = [
  { col: 'impressions', type: 'impression', value: '1', here: true },
  { col: 'clicks', type: 'click', value: '1', here: true },
  { col: 'reads', type: 'read', value: '1' },
  { col: 'dwell_ms', type: 'read', value: 'coalesce(v.dwell_ms, 0)' },
  { col: 'page_views', type: 'page_view', value: '1' },
  { col: 'subscribed', type: 'subscribe', value: '1' },
  { col: 'revenue', type: 'subscribe', value: 'coalesce(v.revenue, 0)' },
];

type Dialect = 'sqlite' | 'postgres';
type Row = Record<string, unknown>;

/** How values of a measure's column add up: subscribed (and pre_subscribed) is the larger, the others the sum. */
const aggregateOf = (col: string) => (col.endsWith('subscribed') ? 'max' : 'sum');
/** Two values of a column added up (`larger`: the dialect's scalar max, see greatest). */
const combine = (col: string, a: string, b: string, larger = 'max') =>
  col.endsWith('subscribed') ? `${larger}(${a}, ${b})` : `${a} + ${b}`;

/** The columns of exposure_deltas (post and pre measures), and their sums per exposure. */
const EXPOSURE_DELTA_COLUMNS = DAY_MEASURES.flatMap((m) => [m.col, `pre_${m.col}`]);
const deltaSums = EXPOSURE_DELTA_COLUMNS.map((c) => `${aggregateOf(c)}(${c}) as ${c}`).join(', ');

/** A rollup pass: yields the statements to run in one transaction, receives each one's rows. */
export type RollupFlow = Generator<CompiledQuery, RollupProgress, Row[]>;

/** One event's (alias v) contribution to a measure when `cond` holds; `agg`: the events' sum (subscribed: max). */
const each = (m: { type: string; value: string }, cond: string) =>
  `(case when ${cond} and v.type = '${m.type}' then ${m.value} else 0 end)`;
const agg = (m: { col: string; type: string; value: string }, cond: string) => `${aggregateOf(m.col)}${each(m, cond)}`;

/** The larger of two values: SQLite's scalar max, PostgreSQL's greatest. */
const greatest = (d: Dialect) => (d === 'sqlite' ? 'max' : 'greatest');

/** A text field of an event's `extra` JSON (rows.ts eventExtra). */
const extraField = (d: Dialect, field: 'placement' | 'currency') =>
  d === 'sqlite' ? `json_extract(v.extra, '$.${field}')` : `(v.extra::json ->> '${field}')`;

/** A subscribe event's revenue in the pass's currency: null when its currency has no rate. */
const converted = (d: Dialect) => `(v.revenue * (select x.rate from rollup_rates x where x.currency = ${extraField(d, 'currency')}))`;

/** Adds a row to reader_days' row of its day and reader (subscribed: the larger). */
const dayUpsert = (d: Dialect) =>
  `on conflict (day, reader_id) do update set ${DAY_MEASURES.map(
    (m) => `${m.col} = ${combine(m.col, `reader_days.${m.col}`, `excluded.${m.col}`, greatest(d))}`,
  ).join(', ')}`;

/** First day of the pre-period's end, per exposure: the day of exposure − grace. */
const preEndDay = `((e.exposed_ts - ${EXPOSURE_GRACE_MS}) / ${DAY_MS})`;

/** PostgreSQL's rollup watermark (see "Commit-safe watermark" above): transaction ids under xmax and not in xip had ended. */
export interface Watermark {
  xmax: number;
  xip: number[];
}

const parseIds = (v: unknown): number[] => (typeof v === 'string' && v !== '' ? v.split(',').map(Number) : []);

/** Stored as "xmax:id,id"; none yet (a new database, or the first pass after migration 0019): nothing below it. */
export function parseWatermark(v: unknown): Watermark {
  if (typeof v !== 'string') return { xmax: 0, xip: [] };
  const [xmax, xip] = v.split(':');
  return { xmax: Number(xmax), xip: parseIds(xip) };
}

const xid = (x: number) => sql`${String(x)}::xid8`;
const xids = (xs: readonly number[]) => sql`${`{${xs.join(',')}}`}::xid8[]`;
/** An event's (alias v) transaction had ended when the watermark was taken. */
export const below = (w: Watermark) => sql`(v.xid < ${xid(w.xmax)} and v.xid <> all(${xids(w.xip)}))`;

export function* rollupFlow(
  db: Kysely<Database>,
  dialect: Dialect,
  windows: readonly RollupWindow[],
  cutoffTs: number,
  maxEvents: number,
  money: RevenueCurrency = DEFAULT_REVENUE_CURRENCY,
  merge: MergePolicy = MERGE_POLICY,
): RollupFlow {
  const q = (b: RawBuilder<unknown>) => b.compile(db);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  // SQLite: the deltas' first and last rowids (rows come in rowid order: their number), and the exposures' last id.
  const deltaSizes = function* (): Generator<CompiledQuery, Row | undefined, Row[]> {
    const [n] = yield q(sql`select (select min(rowid) from exposure_deltas) as e0, (select max(rowid) from exposure_deltas) as e1,
      (select max(rowid) from exposure_session_deltas) as s1, (select min(rowid) from reader_day_deltas) as d0,
      (select max(rowid) from reader_day_deltas) as d1, (select max(id) from exposures) as x`);
    return n;
  };
  const rowsFrom = (a: unknown, b: unknown) => (num(b) === null ? 0 : num(b)! - num(a)! + 1);
  // The deltas' rows (of either table) at which a merge starts, by the policy and the exposures' last id.
  const mergeAt = (n: Row | undefined) => Math.max(merge.minRows, (num(n?.x) ?? 0) * merge.share);
  // Take the write lock first (SQLite: the database's; PostgreSQL: this row's), so two processes never roll up the same events.
  yield q(sql`update rollup_state set cursor = cursor where id = 1`);
  // PostgreSQL: the pass's grouping of hundreds of thousands of wide rows in memory, not spilled to
  // disk (4 MB by default): 64 MB up to 250,000 events, more for larger passes (a backlog's, see
  // postgresTuning), about 256 bytes an event.
  if (dialect === 'postgres') {
    yield q(sql.raw(`set local work_mem = '${Math.max(64, Math.ceil((maxEvents * 256) / 2 ** 20))}MB'`));
    // No JIT: it compiled the reader_days aggregation again on every pass (about 0.45 s of a 150,000-event
    // pass, more than it saved), and the pass's statements are simple enough to interpret.
    yield q(sql`set local jit = off`);
    // The commit does not wait for its WAL to reach the disk. Safe here: the pass writes only derived
    // rows (exposures' sums, reader_days, exposure_session_ids) and the cursor that says what they
    // cover, in this one transaction; a crash can lose the last passes only whole (derived rows and
    // cursor together, never one without the other), and the next pass rolls the same events up
    // again. PostgreSQL keeps the WAL in order, so no later commit survives one that was lost.
    yield q(sql`set local synchronous_commit = off`);
  }
  const [state] = yield q(
    dialect === 'postgres'
      ? sql`select cursor, through_ts, currency, watermark from rollup_state where id = 1`
      : sql`select cursor, through_ts, currency, delta_day, merge_rid, merge_row, merge_session_row from rollup_state where id = 1`,
  );
  // SQLite: the earliest day in reader_day_deltas (see "Deltas" above).
  let deltaDay = num(state?.delta_day);
  let lo = Number(state?.cursor ?? 0);
  // Rolled-up revenue is in one currency: a pass in another would add two currencies together.
  const held = state?.currency === null || state?.currency === undefined ? null : String(state.currency);
  if (held !== null && held !== money.currency) {
    throw new DomainError(
      'invalid_config',
      `the experiment rollups hold revenue in ${held}, not ${money.currency}: set READNEXT_CURRENCY=${held} (and rates to it in READNEXT_FX_RATES)`,
      { field: 'READNEXT_CURRENCY' },
    );
  }
  if (held === null) yield q(sql`update rollup_state set currency = ${money.currency} where id = 1`);
  // SQLite: a cursor whose rowids were renumbered (a .dump restore) is found again first (rollup-cursor.ts).
  const renumbered = dialect === 'sqlite' ? yield* sqliteCursorCheck(q, lo) : undefined;
  if (renumbered) lo = renumbered.cursor;

  // SQLite: the receive time grows with the rowid (one writer, in order); the last rowid in
  // (a, b] whose receive time is before ts, by binary search with point lookups.
  const tsAt = function* (rowid: number): Generator<CompiledQuery, number | null, Row[]> {
    const [r] = yield q(sql`select received_ts as ts from events where rowid >= ${rowid} order by rowid limit 1`);
    return num(r?.ts);
  };
  const lastBefore = function* (ts: number, a: number, b: number): Generator<CompiledQuery, number, Row[]> {
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2);
      const at = yield* tsAt(mid);
      if (at !== null && at < ts) a = mid;
      else b = mid;
    }
    return a;
  };

  // Events received before floorTs can matter to no exposure: not to a phase's exposures (none is
  // older than its phase) nor to a pre-period still to be taken (new exposures come at or after
  // now; one day of slack). A cursor behind it (a new installation with history, an upgrade)
  // skips ahead instead of rolling up all history.
  const floorTs = Math.min(cutoffTs, ...windows.map((w) => w.fromTs)) - (PRE_DAYS + 1) * DAY_MS;
  if (dialect === 'postgres') lo = Math.max(lo, floorTs);
  else {
    const first = yield* tsAt(lo + 1);
    if (first !== null && first < floorTs) {
      const [m] = yield q(sql`select max(rowid) as m from events`);
      lo = yield* lastBefore(floorTs, lo, (num(m?.m) ?? lo) + 1);
    }
  }

  // The batch: events after the cursor, received before the cutoff, at most maxEvents (about);
  // PostgreSQL: below the new watermark, with the late rows (see "Commit-safe watermark" above).
  // PostgreSQL: a watermark copied from another cluster is re-anchored to this one first (rollup-rebase.ts).
  const rebased =
    dialect === 'postgres' ? yield* rebaseForeignWatermark(q, parseWatermark(state?.watermark), Number(state?.cursor ?? 0)) : undefined;
  const mark = rebased?.mark ?? parseWatermark(state?.watermark);
  let next: Watermark = mark;
  let hi: number;
  let caughtUp: boolean;
  let throughTs: number;
  let batch: RawBuilder<unknown>;
  // SQLite: a merge of deltas in progress, or due by their size, takes the pass alone (its events
  // wait for the next), so that a pass holds the event loop for the one or the other ("Deltas" above).
  let mergeFirst = false;
  if (dialect === 'sqlite') {
    const n = yield* deltaSizes();
    const over = (rows: number) => rows > 0 && rows >= mergeAt(n);
    mergeFirst = state?.merge_rid !== null && state?.merge_rid !== undefined;
    mergeFirst ||= over(rowsFrom(n?.e0, n?.e1)) || over(rowsFrom(n?.d0, n?.d1));
  }
  if (dialect === 'sqlite') {
    const [m] = yield q(sql`select max(rowid) as m from events`);
    const maxRow = num(m?.m) ?? 0;
    hi = mergeFirst ? lo : Math.min(maxRow, lo + maxEvents);
    const [late] = yield q(
      sql`select min(rowid) as r, min(received_ts) as ts from events where rowid > ${lo} and rowid <= ${hi} and received_ts >= ${cutoffTs}`,
    );
    const lateRow = num(late?.r);
    if (lateRow !== null) hi = lateRow - 1;
    caughtUp = lateRow !== null || hi === maxRow;
    // A pass that only merges leaves the data-through time where it was.
    if (mergeFirst && !caughtUp) throughTs = Number(state?.through_ts ?? 0);
    else if (caughtUp) throughTs = cutoffTs;
    else {
      const [last] = yield q(sql`select received_ts as ts from events where rowid = ${hi}`);
      throughTs = num(last?.ts) ?? cutoffTs;
    }
    batch = sql`v.rowid > ${lo} and v.rowid <= ${hi}`;
  } else {
    // The new watermark: this pass's snapshot, its xmax capped at about maxEvents late rows (a
    // transaction's rows are taken whole, and every id W had running).
    const [snap] =
      yield q(sql`select pg_snapshot_xmax(s)::text::int8 as xmax, array_to_string(array(select x::text from pg_snapshot_xip(s) x), ',') as xip
      from pg_current_snapshot() s`);
    const taken: Watermark = { xmax: num(snap?.xmax) ?? 0, xip: parseIds(snap?.xip) };
    const late = sql`(v.xid >= ${xid(mark.xmax)} or v.xid = any(${xids(mark.xip)})) and v.received_ts >= ${floorTs} and v.received_ts < ${lo}
      and ${below(taken)}`;
    const [cap] = yield q(sql`select v.xid::text::int8 as x from events v where ${late} order by v.xid offset ${maxEvents} limit 1`);
    const capX = num(cap?.x);
    const xmax = capX === null ? taken.xmax : Math.min(taken.xmax, Math.max(capX, mark.xmax + 1));
    next = { xmax, xip: taken.xip.filter((x) => x < xmax) };
    const [after] = yield q(
      sql`select received_ts as ts from events where received_ts >= ${lo} and received_ts < ${cutoffTs} order by received_ts offset ${maxEvents} limit 1`,
    );
    const nextTs = num(after?.ts);
    caughtUp = nextTs === null && xmax === taken.xmax;
    hi = nextTs === null ? Math.max(lo, cutoffTs) : Math.max(nextTs, lo + 1);
    throughTs = hi;
    batch = sql`((v.received_ts >= ${lo} and v.received_ts < ${hi} and (v.xid is null or ${below(next)})) or (${late} and v.xid < ${xid(xmax)}))`;
  }
  // Whether the pass may take events; how many (PostgreSQL: counted by step 2's statement, one scan of the batch fewer).
  const some = hi > lo || next !== mark;
  const [counted] =
    some && dialect === 'sqlite' ? yield q(sql`select count(*) as n, min(v.received_ts) as ts from events v where ${batch}`) : [];
  let events = Number(counted?.n ?? 0);

  // The phases that take events, their ends and placements; the pass's currency rates.
  yield q(sql`delete from rollup_windows`);
  for (let i = 0; i < windows.length; i += 500) {
    const rows = windows.slice(i, i + 500).map((w) => sql`(${w.experiment}, ${w.phase}, ${w.toTs}, ${w.placement ?? null})`);
    yield q(sql`insert into rollup_windows (experiment, phase, to_ts, placement) values ${sql.join(rows)}`);
  }
  yield q(sql`delete from rollup_rates`);
  const rates = [[money.currency, 1] as const, ...Object.entries(money.rates).filter(([c]) => c !== money.currency)];
  yield q(sql`insert into rollup_rates (currency, rate) values ${sql.join(rates.map(([c, r]) => sql`(${c}, ${r})`))}`);

  // The events of `where` joined to the exposures of their readers (rolled = 1, or being rolled = 2), within the
  // pre-period's start and the phase's end, into a scratch table: whether each is after the
  // exposure (post), in its pre-period (pre, only when `withPre`), of the experiment's placement
  // (here), and its revenue converted. Then the exposures take their sessions, unpriced revenue and
  // sums from it. The conditions that compare an event's receive time with its exposure's are written
  // `received_ts + 0`: PostgreSQL otherwise scans the events_received index once per exposure
  // (a parameterised nested loop: minutes per pass of 50,000 events with 20,000 exposures).
  const g = greatest(dialect);
  let scratched = false;
  const scratch = function* (): Generator<CompiledQuery, void, Row[]> {
    if (scratched) return;
    scratched = true;
    yield q(sql`create temp table if not exists rollup_batch (experiment text, phase int, reader_id text, type text, session_id text,
        dwell_ms int, post, pre, here, currency, revenue, amount real, rid int)`);
    yield q(
      sql`create temp table if not exists rollup_added (rid integer not null, session_id text not null, primary key (rid, session_id)) without rowid`,
    );
    yield q(sql`create temp table if not exists rollup_new_sessions (rid integer primary key, sessions int)`);
  };
  const fold = function* (where: RawBuilder<unknown>, rolled: 1 | 2, withPre: boolean): Generator<CompiledQuery, void, Row[]> {
    const post = `(v.received_ts >= e.exposed_ts or (v.type = 'page_view' and v.received_ts >= e.exposed_ts - ${EXPOSURE_GRACE_MS}
      and v.session_id = e.session_id and (v.article_id = e.article_id or (v.article_id is null and e.article_id is null))))`;
    const pre = withPre ? `v.received_ts + 0 < ${preEndDay} * ${DAY_MS}` : 'false';
    // SQLite: the scratch tables are made once per connection and emptied after each pass (below):
    // creating and dropping them changed the schema each pass, which made SQLite prepare every
    // statement that reads them again. The columns' types are those create table ... as select gave
    // (the affinity of each source column; none for an expression): the keys' must match exposures'
    // for the lookups below to use the whole index.
    if (dialect === 'sqlite') yield* scratch();
    yield q(sql`${sql.raw(dialect === 'sqlite' ? 'insert into rollup_batch' : 'create temp table rollup_batch as')}
      select e.experiment, e.phase, e.reader_id, v.type, v.session_id, v.dwell_ms,
        case when ${sql.raw(post)} then 1 else 0 end as post,
        case when ${sql.raw(pre)} then 1 else 0 end as pre,
        case when v.type not in ('impression', 'click') then 1 when ${sql.raw(extraField(dialect, 'placement'))} = w.placement then 1 else 0 end as here,
        case when v.type = 'subscribe' then ${sql.raw(extraField(dialect, 'currency'))} end as currency,
        case when v.type = 'subscribe' then ${sql.raw(converted(dialect))} end as revenue,
        v.revenue as amount, e.id as rid
      from events v
      join exposures e on e.reader_id = v.reader_id and e.rolled = ${sql.raw(String(rolled))}
      join rollup_windows w on w.experiment = e.experiment and w.phase = e.phase
      where ${where} and v.received_ts + 0 >= (${sql.raw(preEndDay)} - ${PRE_DAYS}) * ${sql.raw(String(DAY_MS))} and (w.to_ts is null or v.received_ts + 0 < w.to_ts)`);

    // Sessions after the first exposure that the exposure did not have yet: stored, and counted
    // into its sessions below (counting all of an exposure's sessions again on every pass was the
    // largest cost of a pass: an index range per touched exposure).
    if (dialect === 'postgres') {
      // One statement: the insert says which went in. By the exposure's integer id (migration 0024).
      yield q(sql`create temp table rollup_new_sessions (rid bigint, sessions bigint)`);
      // The new ones by an anti-join, not ON CONFLICT DO NOTHING: a speculative insertion writes a
      // third WAL record per row and takes a lock; only passes insert here, one at a time (the
      // rollup_state row lock above), so no other transaction can insert a key meanwhile. In key
      // order (the distinct's sort), so the index probes and insertions walk the index once.
      yield q(sql`with added as (
          insert into exposure_session_ids (exposure_id, session_id)
          select n.rid, n.session_id from (select distinct v.rid, v.session_id from rollup_batch v where v.post = 1 order by 1, 2) n
          where not exists (select 1 from exposure_session_ids s where s.exposure_id = n.rid and s.session_id = n.session_id)
          returning exposure_id
        )
        insert into rollup_new_sessions select a.exposure_id, count(*) from added a group by a.exposure_id`);
    } else {
      // SQLite: every pair of the batch appended as it comes (duplicates and pairs stored already
      // too), by the exposure's integer id (migration 0021); a merge keeps the distinct ones that
      // exposure_session_ids lacks, in key order ("Deltas" above). Probing exposure_session_ids here,
      // a random search per pair in a table of millions of rows, cost more than the merge's ordered one.
      yield q(sql`insert into exposure_session_deltas (rid, session_id) select v.rid, v.session_id from rollup_batch v where v.post = 1`);
    }
    // Their number per exposure, looked up by key from the update below (a join there made
    // PostgreSQL, which estimates such joins at one row, rescan it for every exposure).
    if (dialect === 'postgres') {
      yield q(sql`create unique index rollup_new_sessions_key on rollup_new_sessions (rid)`);
      yield q(sql`analyze rollup_new_sessions`);
    }
    // Revenue in a currency without a rate: apart, per currency.
    yield q(sql`insert into exposure_unpriced (experiment, phase, reader_id, currency, events, amount)
      select v.experiment, v.phase, v.reader_id, coalesce(v.currency, '?'), count(*), sum(coalesce(v.amount, 0)) from rollup_batch v
      where v.post = 1 and v.type = 'subscribe' and v.revenue is null
      group by v.experiment, v.phase, v.reader_id, coalesce(v.currency, '?')
      on conflict (experiment, phase, reader_id, currency) do update set events = exposure_unpriced.events + excluded.events, amount = exposure_unpriced.amount + excluded.amount`);
    // Post and pre measures. SQLite: the pre measures only when an event is in a pre-period (the
    // batches of the first days of an experiment, before its exposures), a third fewer aggregates
    // and columns to write otherwise.
    const anyPre =
      withPre && (dialect === 'postgres' || num((yield q(sql`select exists (select 1 from rollup_batch where pre = 1) as p`))[0]?.p) === 1);
    const cols = [
      ...DAY_MEASURES.map((m) => ({ ...m, out: m.col, cond: m.here ? 'v.post = 1 and v.here = 1' : 'v.post = 1' })),
      ...(anyPre ? DAY_MEASURES.map((m) => ({ ...m, out: `pre_${m.col}`, cond: 'v.pre = 1' })) : []),
    ];
    const sums = sql.raw(cols.map((c) => `${agg(c, c.cond)} as ${c.out}`).join(', '));
    if (dialect === 'postgres') {
      const set = cols.map((c) => `${c.out} = ${combine(c.out, `exposures.${c.out}`, `d.${c.out}`, g)}`);
      set.push(`sessions = exposures.sessions + coalesce((select n.sessions from rollup_new_sessions n where n.rid = exposures.id), 0)`);
      // Grouped and joined by the exposure's integer id (rid = e.id, one per experiment, phase and
      // reader): hashing one bigint instead of three columns, and a lookup in exposures_id instead of
      // exposures_reader plus a filter. At 10M events from 500,000 readers this statement took 71 s
      // instead of 91 s of a 229 s catch-up (bench/rollup-throughput.ts's profile, same digest).
      yield q(sql`update exposures set ${sql.raw(set.join(', '))}
      from (select v.rid, ${sums} from rollup_batch v group by v.rid) d
      where exposures.id = d.rid`);
      yield q(sql`drop table rollup_new_sessions`);
      yield q(sql`drop table rollup_batch`);
    } else {
      // SQLite: appended to the deltas, a row per event that counts (a merge adds them up: grouping them
      // here, a sort, saved it little, as a reader rarely has two events in a pass), merged later ("Deltas" above).
      const values = sql.raw(cols.map((c) => each(c, c.cond)).join(', '));
      yield q(sql`insert into exposure_deltas (rid, ${sql.raw(cols.map((c) => c.out).join(', '))})
        select v.rid, ${values} from rollup_batch v where v.post = 1 or v.pre = 1`);
      yield q(sql`delete from rollup_added`);
      yield q(sql`delete from rollup_batch`);
    }
  };

  // SQLite: the deltas into the tables they add to, in each table's key order, each table's pages
  // written once however many passes appended to the deltas ("Deltas" above).
  // Days: every row (`upTo` null), or the rows up to rowid `upTo` of the earliest day among them
  // (rows come in receive order, so usually the table's earliest day; one imported late, with older
  // receive times, waits for a later part, and each part merges at least one row).
  const mergeDays = function* (upTo: number | null): Generator<CompiledQuery, void, Row[]> {
    const all = upTo === null;
    const sums = DAY_MEASURES.map((m) => `${aggregateOf(m.col)}(${m.col})`).join(', ');
    const dayCols = DAY_MEASURES.map((m) => m.col).join(', ');
    const which = all ? sql`true` : sql`rowid <= ${upTo} and day = (select min(d.day) from reader_day_deltas d where d.rowid <= ${upTo})`;
    // (A WHERE clause also because SQLite's parser needs one between a SELECT and ON CONFLICT.)
    yield q(sql`insert into reader_days (reader_id, day, ${sql.raw(dayCols)})
      select reader_id, day, ${sql.raw(sums)} from reader_day_deltas where ${which} group by day, reader_id order by day, reader_id
      ${sql.raw(dayUpsert('sqlite'))}`);
    yield q(sql`delete from reader_day_deltas where ${which}`);
    deltaDay = all ? null : num((yield q(sql`select min(day) as d from reader_day_deltas`))[0]?.d);
    yield q(sql`update rollup_state set delta_day = ${deltaDay} where id = 1`);
  };
  // Exposures: the ids in [from, to) of the rows appended before the merge began (rowid <= rowTo,
  // sessions rowid <= sessionRowTo); a merge runs over passes, a range of ids each.
  const mergeExposures = function* (from: number, to: number, rowTo: number, sessionRowTo: number): Generator<CompiledQuery, void, Row[]> {
    yield* scratch();
    // A session pair may be in the deltas of several passes (a session spans them): inserted and
    // counted once, and not at all when a range merged earlier stored it (its rid's range was merged
    // between two passes that both appended it).
    yield q(sql`insert into rollup_added (rid, session_id) select distinct rid, session_id from exposure_session_deltas
      where rowid <= ${sessionRowTo} and rid >= ${from} and rid < ${to} order by 1, 2`);
    yield q(sql`delete from rollup_added
      where exists (select 1 from exposure_session_ids s where s.exposure_id = rollup_added.rid and s.session_id = rollup_added.session_id)`);
    yield q(sql`insert into exposure_session_ids (exposure_id, session_id) select rid, session_id from rollup_added order by 1, 2`);
    yield q(sql`insert into rollup_new_sessions (rid, sessions) select rid, count(*) from rollup_added group by rid order by rid`);
    // Every rid with new sessions has sums in the same range (its pass appended both).
    const set = EXPOSURE_DELTA_COLUMNS.map((c) => `${c} = ${combine(c, `exposures.${c}`, `d.${c}`)}`);
    set.push(`sessions = exposures.sessions + coalesce((select n.sessions from rollup_new_sessions n where n.rid = exposures.id), 0)`);
    yield q(sql`update exposures set ${sql.raw(set.join(', '))}
      from (select rid, ${sql.raw(deltaSums)} from exposure_deltas where rowid <= ${rowTo} and rid >= ${from} and rid < ${to} group by rid) d
      where exposures.id = d.rid`);
    yield q(sql`delete from rollup_added`);
    yield q(sql`delete from rollup_new_sessions`);
  };

  // 1. New exposures: the pre-period from reader_days (events behind the cursor), then the post
  // measures of the events behind the cursor received since the earliest new exposure − grace
  // (none, usually: the exposure is stored before its reader's later events are rolled up; with a
  // short lag, the few seconds between). Every event behind the cursor is in reader_days; every
  // one after it comes in a later batch, which the exposure, rolled now, takes in step 4. The new
  // exposures are claimed first (rolled = 2) in one statement: on PostgreSQL one stored while the
  // pass runs waits for the next pass instead of being marked rolled without its events. An
  // exposure whose phase has no window (not in the deployments' experiments) gets no pre-period,
  // as it gets no post measures (the fold joins the windows too): its sums are zeros however the
  // events were batched (test/adapters/storage/rollup-batching.test.ts).
  yield q(sql`update exposures set rolled = 2 where rolled = 0`);
  const [claimed] = yield q(sql`select min(exposed_ts) as m, max(exposed_ts) as x from exposures where rolled = 2`);
  const earliest = num(claimed?.m);
  if (earliest !== null) {
    // SQLite: a pre-period that reaches a day of reader_day_deltas takes them merged first.
    if (dialect === 'sqlite' && deltaDay !== null && Math.floor((Number(claimed!.x) - EXPOSURE_GRACE_MS) / DAY_MS) > deltaDay)
      yield* mergeDays(null);
    const pre = DAY_MEASURES.map((m) => `pre_${m.col}`);
    yield q(sql`update exposures set ${sql.raw(pre.map((c) => `${c} = d.${c}`).join(', '))}
      from (
        select e.experiment, e.phase, e.reader_id, ${sql.raw(DAY_MEASURES.map((m) => `${aggregateOf(m.col)}(r.${m.col}) as pre_${m.col}`).join(', '))}
        from exposures e join rollup_windows w on w.experiment = e.experiment and w.phase = e.phase
        join reader_days r on r.day in (${sql.raw(Array.from({ length: PRE_DAYS }, (_, i) => `${preEndDay} - ${i + 1}`).join(', '))}) and r.reader_id = e.reader_id
        where e.rolled = 2
        group by e.experiment, e.phase, e.reader_id
      ) d
      where exposures.rolled = 2 and exposures.experiment = d.experiment and exposures.phase = d.phase and exposures.reader_id = d.reader_id`);
    const since = earliest - EXPOSURE_GRACE_MS;
    let behind: RawBuilder<unknown> | undefined;
    if (dialect === 'postgres') {
      // Behind the cursor: received before it, below the last pass's watermark (or stored before migration 0019).
      if (lo > since) behind = sql`v.received_ts >= ${since} and v.received_ts < ${lo} and (v.xid is null or ${below(mark)})`;
    } else if (lo > 0) {
      const last = yield* tsAt(lo);
      if (last !== null && last >= since - RECEIVE_ORDER_SLACK_MS) {
        const from = yield* lastBefore(since - RECEIVE_ORDER_SLACK_MS, 0, lo);
        behind = sql`v.rowid > ${from} and v.rowid <= ${lo}`;
      }
    }
    if (behind) yield* fold(behind, 2, false);
    yield q(sql`update exposures set rolled = 1 where rolled = 2`);
  }

  if (dialect === 'postgres' ? some : events > 0) {
    // 2. Every reader's day totals (receive time's UTC day; revenue converted, none when unpriced).
    const dayValue = (m: (typeof DAY_MEASURES)[number]) => (m.col === 'revenue' ? `coalesce(${converted(dialect)}, 0)` : m.value);
    const dayCols = DAY_MEASURES.map((m) => m.col).join(', ');
    const dayRows = sql`select v.reader_id, v.received_ts / ${sql.raw(String(DAY_MS))} as day, ${sql.raw(DAY_MEASURES.map((m) => `${agg({ ...m, value: dayValue(m) }, 'true')} as ${m.col}`).join(', '))}${sql.raw(dialect === 'postgres' ? ', count(*) as n' : '')}
      from events v where ${batch}
      group by v.reader_id, v.received_ts / ${sql.raw(String(DAY_MS))}`;
    const upsert = sql.raw(dayUpsert(dialect));
    if (dialect === 'postgres') {
      // Every row of reader_days comes from events received before the cursor (lo), so days after
      // the cursor's day are new keys: a plain insert, in key order (at the index's right edge),
      // without the speculative insertion of ON CONFLICT (a probe, a lock and a third WAL record
      // per row). The cursor's day and before (its rest, late rows) are upserted as before. Were
      // a key there after all, the insert would fail the pass, never count twice.
      const lastDay = Math.floor((lo - 1) / DAY_MS);
      const [counted] = yield q(sql`with d as materialized (${dayRows}),
        upserted as (insert into reader_days (reader_id, day, ${sql.raw(dayCols)}) select ${sql.raw(`reader_id, day, ${dayCols}`)} from d where d.day <= ${lastDay} order by 2, 1 ${upsert}),
        inserted as (insert into reader_days (reader_id, day, ${sql.raw(dayCols)}) select ${sql.raw(`reader_id, day, ${dayCols}`)} from d where d.day > ${lastDay} order by 2, 1)
        select coalesce(sum(d.n), 0) as n from d`);
      events = Number(counted?.n ?? 0);
    } else {
      // SQLite: appended to the deltas, a row per event (not grouped by reader and day: a sort that
      // saved the merge little), merged later ("Deltas" above); the earliest day they hold is kept.
      yield q(sql`insert into reader_day_deltas (reader_id, day, ${sql.raw(dayCols)})
        select v.reader_id, v.received_ts / ${sql.raw(String(DAY_MS))}, ${sql.raw(DAY_MEASURES.map((m) => each({ ...m, value: dayValue(m) }, 'true')).join(', '))}
        from events v where ${batch}`);
      const first = Math.floor(Number(counted!.ts) / DAY_MS);
      if (deltaDay === null || first < deltaDay) {
        deltaDay = first;
        yield q(sql`update rollup_state set delta_day = ${first} where id = 1`);
      }
    }

    // 3-4. The batch's events of exposed readers: sessions, unpriced revenue, post and pre sums.
    if (events > 0) yield* fold(batch, 1, true);
  }

  // 5. Days no pre-period still to be taken can reach (before floorTs, see above): one range at
  // the left edge of reader_days' key, usually empty.
  yield q(sql`delete from reader_days where day < ${Math.floor(floorTs / DAY_MS)}`);

  // SQLite: merging the deltas ("Deltas" above), when the chain has caught up (a report then finds
  // none, usually) or when they have grown to a share of the exposures. A merge of many rows runs a
  // range of exposure ids, or one day of reader_day_deltas, per pass, so that no pass holds the
  // event loop much longer than its events do; a few rows are merged at once.
  let compacted = false;
  let moreToMerge = false;
  if (dialect === 'sqlite') {
    let n = yield* deltaSizes();
    const maxId = num(n?.x) ?? 0;
    // By size only in a pass that takes no events (mergeFirst): one that would cross the threshold with its own leaves the merge to the next.
    const due = (rows: number) => rows > 0 && ((caughtUp && merge.caughtUp) || (mergeFirst && rows >= mergeAt(n)));
    let at = num(state?.merge_rid);
    let rowTo = num(state?.merge_row) ?? 0;
    let sessionRowTo = num(state?.merge_session_row) ?? 0;
    for (;;) {
      if (at === null) {
        if (!due(rowsFrom(n?.e0, n?.e1))) break;
        at = 0;
        rowTo = num(n?.e1)!;
        sessionRowTo = num(n?.s1) ?? 0;
      }
      const all = rowsFrom(n?.e0, rowTo) <= merge.wholeRows;
      const to = all ? maxId + 1 : at + merge.chunkIds;
      yield* mergeExposures(at, to, rowTo, sessionRowTo);
      if (to > maxId) {
        yield q(sql`delete from exposure_deltas where rowid <= ${rowTo}`);
        yield q(sql`delete from exposure_session_deltas where rowid <= ${sessionRowTo}`);
        at = null;
      } else at = to;
      yield q(sql`update rollup_state set merge_rid = ${at}, merge_row = ${rowTo}, merge_session_row = ${sessionRowTo} where id = 1`);
      compacted = true;
      // At a chain's end, a merge that has just ended leaves the rows appended after it began: merged too when few.
      if (at !== null || !(caughtUp && merge.caughtUp)) break;
      n = yield* deltaSizes();
      if (rowsFrom(n?.e0, n?.e1) > merge.wholeRows) {
        // Too many for this pass: a merge of them starts in the next.
        moreToMerge = true;
        break;
      }
    }
    const days = rowsFrom(n?.d0, n?.d1);
    if ((!compacted || caughtUp) && due(days)) {
      yield* mergeDays(days <= merge.wholeRows ? null : num(n?.d0)! + merge.chunkRows - 1);
      compacted = true;
    }
    // Caught up with part of a merge left: the chain goes on (AnalysisRollups) and merges the rest.
    moreToMerge ||= caughtUp && merge.caughtUp && (at !== null || (deltaDay !== null && rowsFrom(n?.d0, n?.d1) > 0));
  }

  // 6. The cursor.
  yield q(
    dialect === 'postgres'
      ? sql`update rollup_state set cursor = ${hi}, through_ts = ${throughTs}, watermark = ${`${next.xmax}:${next.xip.join(',')}`} where id = 1`
      : sql`update rollup_state set cursor = ${hi}, through_ts = ${throughTs}, cursor_event = ${sqliteCursorEvent(hi)} where id = 1`,
  );
  const notice = rebased?.notice ?? renumbered?.notice;
  return {
    events,
    throughTs,
    caughtUp,
    ...(compacted ? { compacted } : {}),
    ...(moreToMerge ? { moreToMerge } : {}),
    ...(notice ? { notice } : {}),
  };
}

/** Per arm and currency: revenue after exposure in a currency without a rate (never in armSums' revenue). */
export function unpricedQuery(db: Kysely<Database>, experiment: string, phase: number): CompiledQuery {
  return sql`select e.arm, u.currency, sum(u.events) as events, sum(u.amount) as amount, count(*) as readers
    from exposure_unpriced u join exposures e on e.experiment = u.experiment and e.phase = u.phase and e.reader_id = u.reader_id
    where u.experiment = ${experiment} and u.phase = ${phase}
    group by e.arm, u.currency order by e.arm, u.currency`.compile(db);
}

/** SQLite: whether rollup passes left deltas to merge (usually not after a chain that caught up). */
export const deltasWaitQuery = (db: Kysely<Database>): CompiledQuery =>
  sql`select exists (select 1 from exposure_deltas d join rollup_state s on s.id = 1 where ${sql.raw(pendingDelta('merge_row'))})
    or exists (select 1 from exposure_session_deltas d join rollup_state s on s.id = 1 where ${sql.raw(pendingDelta('merge_session_row'))}) as waiting`.compile(
    db,
  );

/**
 * SQLite: the exposures of a phase with the deltas not merged yet added ("Deltas" above): sums
 * added, subscribed the larger, sessions the distinct pairs of exposure_session_deltas (none of
 * them in exposure_session_ids yet).
 */
function mergedExposures(experiment: string, phase: number): RawBuilder<unknown> {
  const merged = EXPOSURE_DELTA_COLUMNS.map((c) => `${combine(c, `e.${c}`, `coalesce(m.${c}, 0)`)} as ${c}`);
  return sql`(select e.arm, ${sql.raw(merged.join(', '))}, e.sessions + coalesce(n.sessions, 0) as sessions
    from exposures e
    left join (select d.rid, ${sql.raw(deltaSums)} from exposure_deltas d join rollup_state s on s.id = 1
      where ${sql.raw(pendingDelta('merge_row'))} group by d.rid) m on m.rid = e.id
    left join (select d.rid, count(distinct d.session_id) as sessions from exposure_session_deltas d join rollup_state s on s.id = 1
      where ${sql.raw(pendingDelta('merge_session_row'))}
        and not exists (select 1 from exposure_session_ids i where i.exposure_id = d.rid and i.session_id = d.session_id)
      group by d.rid) n on n.rid = e.id
    where e.experiment = ${experiment} and e.phase = ${phase}) x`;
}

/**
 * Per-arm sufficient statistics from the rolled-up exposures of one phase: n, Σx, Σx² and the
 * CUPED sums (Σx_pre, Σx_pre², Σx·x_pre) per measure, and Σx·y for each ratio metric's pair. An
 * optional cap winsorises each reader's revenue (post and pre) at an upper bound.
 */
export function armSumsQuery(
  db: Kysely<Database>,
  withDeltas: boolean,
  experiment: string,
  phase: number,
  revenueCap?: number,
): CompiledQuery {
  const x = (k: Measure, pre = false): RawBuilder<unknown> => {
    if (pre && !PRE_MEASURES.has(k)) return sql`0`;
    const col = sql.ref(`${pre ? 'pre_' : ''}${MEASURE_COLUMN[k]}`);
    return k === 'revenue' && revenueCap !== undefined
      ? sql`(case when ${col} > ${revenueCap} then ${revenueCap} else ${col} end)`
      : sql`${col}`;
  };
  const cols = sql.join([
    ...MEASURES.flatMap((k) => [
      sql`sum(${x(k)}) as ${sql.ref(`s_${k}`)}`,
      sql`sum(${x(k)} * ${x(k)}) as ${sql.ref(`q_${k}`)}`,
      sql`sum(${x(k, true)}) as ${sql.ref(`ps_${k}`)}`,
      sql`sum(${x(k, true)} * ${x(k, true)}) as ${sql.ref(`pq_${k}`)}`,
      sql`sum(${x(k)} * ${x(k, true)}) as ${sql.ref(`pp_${k}`)}`,
    ]),
    ...RATIO_PAIRS.map(([a, b]) => sql`sum(${x(a)} * ${x(b)}) as ${sql.ref(`c_${a}_${b}`)}`),
    ...CUPED_RATIO_PAIRS.flatMap(([a, b]) => [
      sql`sum(${x(a, true)} * ${x(b, true)}) as ${sql.ref(`cpp_${a}_${b}`)}`,
      sql`sum(${x(a)} * ${x(b, true)}) as ${sql.ref(`cop_${a}_${b}`)}`,
      sql`sum(${x(a, true)} * ${x(b)}) as ${sql.ref(`cpo_${a}_${b}`)}`,
    ]),
  ]);
  const rows = withDeltas ? mergedExposures(experiment, phase) : sql`exposures where experiment = ${experiment} and phase = ${phase}`;
  return sql`select arm, count(*) as n, sum(case when page_views > 0 then 1 else 0 end) as active, ${cols} from ${rows} group by arm order by arm`.compile(
    db,
  );
}

export function armSumsFromRows(rows: readonly Row[]): ArmSums[] {
  const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
  const per = (r: Row, prefix: string) => Object.fromEntries(MEASURES.map((k) => [k, num(r[`${prefix}_${k}`])])) as Record<Measure, number>;
  return rows.map((r) => ({
    arm: String(r.arm),
    n: num(r.n),
    active: num(r.active),
    sum: per(r, 's'),
    sumSquares: per(r, 'q'),
    crossProducts: Object.fromEntries(RATIO_PAIRS.map(([a, b]) => [`${a}*${b}`, num(r[`c_${a}_${b}`])])),
    pre: { sum: per(r, 'ps'), sumSquares: per(r, 'pq') },
    sumPostPre: per(r, 'pp'),
    preCrossProducts: Object.fromEntries(
      CUPED_RATIO_PAIRS.map(([a, b]) => [
        `${a}*${b}`,
        { prePre: num(r[`cpp_${a}_${b}`]), postPre: num(r[`cop_${a}_${b}`]), prePost: num(r[`cpo_${a}_${b}`]) },
      ]),
    ),
  }));
}
