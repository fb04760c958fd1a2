import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import { CUPED_RATIO_PAIRS, MEASURES, PRE_MEASURES, RATIO_PAIRS, type ArmSums, type Measure } from '../../core/analysis/metrics.js';
import type { RollupProgress, RollupWindow } from '../../app/ports.js';
import type { Database } from './schema.js';

/**
 * Per-exposure rollups for experiment analysis (docs/adr/0001-analysis-rollups.md).
 *
 * Each exposure row carries its reader's measures since the first exposure (post) and over the
 * CUPED pre-period, so a report sums one row per exposed reader. `advance` moves a cursor over the
 * stored events, a batch at a time, in one transaction:
 *   1. exposures not yet rolled take their pre-period from `reader_days` (the events before the cursor);
 *   2. the batch's events are added to `reader_days` (every reader, for exposures still to come);
 *   3. the distinct sessions of the batch after each exposure go into `exposure_sessions`;
 *   4. the batch's events are added to the rolled exposures of their reader (post when at or after
 *      the first exposure and before the phase's end; pre when in the pre-period);
 *   5. days of reader_days that no pre-period still to be taken can reach are deleted;
 *   6. the cursor moves on.
 * Steps 1 and 4 split every event exactly once between "before the cursor" and "in the batch", so
 * the result does not depend on how the events were batched.
 *
 * The pre-period is the 14 whole UTC days before the day of the first exposure (day granularity,
 * strictly before the exposure, so treatment cannot touch it); sessions have no pre-period value.
 */

export const DAY_MS = 86_400_000;
export const PRE_DAYS = 14;

/** Column of each measure in exposures and reader_days. */
export const MEASURE_COLUMN: Record<Measure, string> = {
  impressions: 'impressions', clicks: 'clicks', reads: 'reads', dwellMs: 'dwell_ms', pageViews: 'page_views', sessions: 'sessions', subscribed: 'subscribed', revenue: 'revenue',
};

/** Measures kept per reader and day (all but sessions), with how one event contributes; subscribed is a max, the others sums. */
const DAY_MEASURES: readonly { col: string; type: string; value: string }[] = [
  { col: 'impressions', type: 'impression', value: '1' },
  { col: 'clicks', type: 'click', value: '1' },
  { col: 'reads', type: 'read', value: '1' },
  { col: 'dwell_ms', type: 'read', value: 'coalesce(v.dwell_ms, 0)' },
  { col: 'page_views', type: 'page_view', value: '1' },
  { col: 'subscribed', type: 'subscribe', value: '1' },
  { col: 'revenue', type: 'subscribe', value: 'coalesce(v.revenue, 0)' },
];

type Dialect = 'sqlite' | 'postgres';
type Row = Record<string, unknown>;

/** A rollup pass: yields the statements to run in one transaction, receives each one's rows. */
export type RollupFlow = Generator<CompiledQuery, RollupProgress, Row[]>;

const agg = (m: (typeof DAY_MEASURES)[number], cond: string) =>
  `${m.col === 'subscribed' ? 'max' : 'sum'}(case when ${cond} and v.type = '${m.type}' then ${m.value} else 0 end)`;

/** The larger of two values: SQLite's scalar max, PostgreSQL's greatest. */
const greatest = (d: Dialect) => (d === 'sqlite' ? 'max' : 'greatest');

export function* rollupFlow(db: Kysely<Database>, dialect: Dialect, windows: readonly RollupWindow[], cutoffTs: number, maxEvents: number): RollupFlow {
  const q = (b: RawBuilder<unknown>) => b.compile(db);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  // Take the write lock first (SQLite: the database's; PostgreSQL: this row's), so two processes never roll up the same events.
  yield q(sql`update rollup_state set cursor = cursor where id = 1`);
  const [state] = yield q(sql`select cursor, through_ts from rollup_state where id = 1`);
  let lo = Number(state?.cursor ?? 0);

  // Events received before floorTs can matter to no exposure: not to a phase's exposures (none is
  // older than its phase) nor to a pre-period still to be taken (new exposures come at or after
  // now; one day of slack for late client times). A cursor behind it (a new installation with
  // history, an upgrade) skips ahead instead of rolling up all history.
  const floorTs = Math.min(cutoffTs, ...windows.map((w) => w.fromTs)) - (PRE_DAYS + 1) * DAY_MS;
  if (dialect === 'postgres') lo = Math.max(lo, floorTs);
  else {
    // The receive time grows with the rowid (one writer, in order): binary search with point lookups.
    const tsAt = function* (rowid: number): Generator<CompiledQuery, number | null, Row[]> {
      const [r] = yield q(sql`select received_ts as ts from events where rowid >= ${rowid} order by rowid limit 1`);
      return num(r?.ts);
    };
    const first = yield* tsAt(lo + 1);
    if (first !== null && first < floorTs) {
      const [m] = yield q(sql`select max(rowid) as m from events`);
      let a = lo; // received before floorTs, or the cursor
      let b = (num(m?.m) ?? lo) + 1; // received at or after floorTs, or past the end
      while (b - a > 1) {
        const mid = Math.floor((a + b) / 2);
        const ts = yield* tsAt(mid);
        if (ts !== null && ts < floorTs) a = mid;
        else b = mid;
      }
      lo = a;
    }
  }

  // The batch: events after the cursor, received before the cutoff, at most maxEvents (about).
  let hi: number;
  let caughtUp: boolean;
  let throughTs: number;
  let batch: RawBuilder<unknown>;
  if (dialect === 'sqlite') {
    const [m] = yield q(sql`select max(rowid) as m from events`);
    const maxRow = num(m?.m) ?? 0;
    hi = Math.min(maxRow, lo + maxEvents);
    const [late] = yield q(sql`select min(rowid) as r, min(received_ts) as ts from events where rowid > ${lo} and rowid <= ${hi} and received_ts >= ${cutoffTs}`);
    const lateRow = num(late?.r);
    if (lateRow !== null) hi = lateRow - 1;
    caughtUp = lateRow !== null || hi === maxRow;
    if (caughtUp) throughTs = cutoffTs;
    else {
      const [last] = yield q(sql`select received_ts as ts from events where rowid = ${hi}`);
      throughTs = num(last?.ts) ?? cutoffTs;
    }
    batch = sql`v.rowid > ${lo} and v.rowid <= ${hi}`;
  } else {
    const [next] = yield q(sql`select received_ts as ts from events where received_ts >= ${lo} and received_ts < ${cutoffTs} order by received_ts offset ${maxEvents} limit 1`);
    const nextTs = num(next?.ts);
    caughtUp = nextTs === null;
    hi = caughtUp ? Math.max(lo, cutoffTs) : Math.max(nextTs!, lo + 1);
    throughTs = hi;
    batch = sql`v.received_ts >= ${lo} and v.received_ts < ${hi}`;
  }
  const events = hi > lo ? Number((yield q(sql`select count(*) as n from events v where ${batch}`))[0]?.n ?? 0) : 0;

  // The phases that take events, and their ends.
  yield q(sql`delete from rollup_windows`);
  for (let i = 0; i < windows.length; i += 500) {
    const rows = windows.slice(i, i + 500).map((w) => sql`(${w.experiment}, ${w.phase}, ${w.toTs})`);
    yield q(sql`insert into rollup_windows (experiment, phase, to_ts) values ${sql.join(rows)}`);
  }

  // 1. New exposures: the pre-period from reader_days (events before the cursor).
  const pre = DAY_MEASURES.map((m) => `pre_${m.col}`);
  const dayStart = `(e.exposed_ts / ${DAY_MS})`;
  const [unrolled] = yield q(sql`select 1 as x from exposures where rolled = 0 limit 1`);
  if (unrolled) {
    yield q(sql`update exposures set ${sql.raw(pre.map((c) => `${c} = d.${c}`).join(', '))}
      from (
        select e.experiment, e.phase, e.reader_id, ${sql.raw(DAY_MEASURES.map((m) => `${m.col === 'subscribed' ? 'max' : 'sum'}(r.${m.col}) as pre_${m.col}`).join(', '))}
        from exposures e join reader_days r on r.day in (${sql.raw(Array.from({ length: PRE_DAYS }, (_, i) => `${dayStart} - ${i + 1}`).join(', '))}) and r.reader_id = e.reader_id
        where e.rolled = 0
        group by e.experiment, e.phase, e.reader_id
      ) d
      where exposures.rolled = 0 and exposures.experiment = d.experiment and exposures.phase = d.phase and exposures.reader_id = d.reader_id`);
    yield q(sql`update exposures set rolled = 1 where rolled = 0`);
  }

  if (events > 0) {
    // 2. Every reader's day totals.
    const g = greatest(dialect);
    yield q(sql`insert into reader_days (reader_id, day, ${sql.raw(DAY_MEASURES.map((m) => m.col).join(', '))})
      select v.reader_id, v.client_ts / ${sql.raw(String(DAY_MS))}, ${sql.raw(DAY_MEASURES.map((m) => agg(m, 'true')).join(', '))}
      from events v where ${batch}
      group by v.reader_id, v.client_ts / ${sql.raw(String(DAY_MS))}
      on conflict (day, reader_id) do update set ${sql.raw(
        DAY_MEASURES.map((m) => (m.col === 'subscribed' ? `subscribed = ${g}(reader_days.subscribed, excluded.subscribed)` : `${m.col} = reader_days.${m.col} + excluded.${m.col}`)).join(', '),
      )}`);

    // The batch's events of exposed readers, within the pre-period's start and the phase's end,
    // joined once into a scratch table that steps 3 and 4 read.
    yield q(sql`create temp table rollup_batch as
      select e.experiment, e.phase, e.reader_id, e.exposed_ts, v.type, v.client_ts, v.session_id, v.dwell_ms, v.revenue
      from events v
      join exposures e on e.reader_id = v.reader_id and e.rolled = 1
      join rollup_windows w on w.experiment = e.experiment and w.phase = e.phase
      where ${batch} and v.client_ts >= (${sql.raw(dayStart)} - ${PRE_DAYS}) * ${sql.raw(String(DAY_MS))} and (w.to_ts is null or v.client_ts < w.to_ts)`);

    // 3. Sessions after the first exposure.
    yield q(sql`insert into exposure_sessions (experiment, phase, reader_id, session_id)
      select distinct v.experiment, v.phase, v.reader_id, v.session_id from rollup_batch v where v.client_ts >= v.exposed_ts
      on conflict do nothing`);

    // 4. Post and pre measures of the rolled exposures.
    const post = 'v.client_ts >= v.exposed_ts';
    const before = `v.client_ts < (v.exposed_ts / ${DAY_MS}) * ${DAY_MS}`;
    const cols = [...DAY_MEASURES.map((m) => ({ ...m, out: m.col, cond: post })), ...DAY_MEASURES.map((m) => ({ ...m, out: `pre_${m.col}`, cond: before }))];
    const set = cols.map((c) => (c.col === 'subscribed' ? `${c.out} = ${g}(exposures.${c.out}, d.${c.out})` : `${c.out} = exposures.${c.out} + d.${c.out}`));
    set.push(`sessions = (select count(*) from exposure_sessions s where s.experiment = exposures.experiment and s.phase = exposures.phase and s.reader_id = exposures.reader_id)`);
    yield q(sql`update exposures set ${sql.raw(set.join(', '))}
      from (
        select v.experiment, v.phase, v.reader_id, ${sql.raw(cols.map((c) => `${agg(c, c.cond)} as ${c.out}`).join(', '))}
        from rollup_batch v
        group by v.experiment, v.phase, v.reader_id
      ) d
      where exposures.experiment = d.experiment and exposures.phase = d.phase and exposures.reader_id = d.reader_id`);
    yield q(sql`drop table rollup_batch`);
  }

  // 5. Days no pre-period still to be taken can reach (before floorTs, see above): one range at
  // the left edge of reader_days' key, usually empty.
  yield q(sql`delete from reader_days where day < ${Math.floor(floorTs / DAY_MS)}`);

  // 6. The cursor.
  yield q(sql`update rollup_state set cursor = ${hi}, through_ts = ${throughTs} where id = 1`);
  return { events, throughTs, caughtUp };
}

/**
 * Per-arm sufficient statistics from the rolled-up exposures of one phase: n, Σx, Σx² and the
 * CUPED sums (Σx_pre, Σx_pre², Σx·x_pre) per measure, and Σx·y for each ratio metric's pair. An
 * optional cap winsorises each reader's revenue (post and pre) at an upper bound.
 */
export function armSumsQuery(db: Kysely<Database>, experiment: string, phase: number, revenueCap?: number): CompiledQuery {
  const x = (k: Measure, pre = false): RawBuilder<unknown> => {
    if (pre && !PRE_MEASURES.has(k)) return sql`0`;
    const col = sql.ref(`${pre ? 'pre_' : ''}${MEASURE_COLUMN[k]}`);
    return k === 'revenue' && revenueCap !== undefined ? sql`(case when ${col} > ${revenueCap} then ${revenueCap} else ${col} end)` : sql`${col}`;
  };
  const cols = sql.join([
    ...MEASURES.flatMap((k) => [
      sql`sum(${x(k)}) as ${sql.ref(`s_${k}`)}`, sql`sum(${x(k)} * ${x(k)}) as ${sql.ref(`q_${k}`)}`,
      sql`sum(${x(k, true)}) as ${sql.ref(`ps_${k}`)}`, sql`sum(${x(k, true)} * ${x(k, true)}) as ${sql.ref(`pq_${k}`)}`,
      sql`sum(${x(k)} * ${x(k, true)}) as ${sql.ref(`pp_${k}`)}`,
    ]),
    ...RATIO_PAIRS.map(([a, b]) => sql`sum(${x(a)} * ${x(b)}) as ${sql.ref(`c_${a}_${b}`)}`),
    ...CUPED_RATIO_PAIRS.flatMap(([a, b]) => [
      sql`sum(${x(a, true)} * ${x(b, true)}) as ${sql.ref(`cpp_${a}_${b}`)}`,
      sql`sum(${x(a)} * ${x(b, true)}) as ${sql.ref(`cop_${a}_${b}`)}`,
      sql`sum(${x(a, true)} * ${x(b)}) as ${sql.ref(`cpo_${a}_${b}`)}`,
    ]),
  ]);
  return sql`select arm, count(*) as n, ${cols} from exposures where experiment = ${experiment} and phase = ${phase} group by arm order by arm`.compile(db);
}

export function armSumsFromRows(rows: readonly Row[]): ArmSums[] {
  const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
  const per = (r: Row, prefix: string) => Object.fromEntries(MEASURES.map((k) => [k, num(r[`${prefix}_${k}`])])) as Record<Measure, number>;
  return rows.map((r) => ({
    arm: String(r.arm),
    n: num(r.n),
    sum: per(r, 's'),
    sumSquares: per(r, 'q'),
    crossProducts: Object.fromEntries(RATIO_PAIRS.map(([a, b]) => [`${a}*${b}`, num(r[`c_${a}_${b}`])])),
    pre: { sum: per(r, 'ps'), sumSquares: per(r, 'pq') },
    sumPostPre: per(r, 'pp'),
    preCrossProducts: Object.fromEntries(
      CUPED_RATIO_PAIRS.map(([a, b]) => [`${a}*${b}`, { prePre: num(r[`cpp_${a}_${b}`]), postPre: num(r[`cop_${a}_${b}`]), prePost: num(r[`cpo_${a}_${b}`]) }]),
    ),
  }));
}
