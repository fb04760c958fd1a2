import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { Watermark } from './rollups.js';

type Row = Record<string, unknown>;
type Compile = (b: RawBuilder<unknown>) => CompiledQuery;

const xid = (x: number) => sql`${String(x)}::xid8`;
const xids = (xs: readonly number[]) => sql`${`{${xs.join(',')}}`}::xid8[]`;

/**
 * PostgreSQL: the watermark a pass starts from, re-anchored to this cluster when the stored one
 * was taken in another (issue 22). A copy of the database (pg_dump and restore, logical
 * replication) keeps `rollup_state.watermark` and every event's `xid` (plain columns) as the old
 * cluster had them, while this cluster hands out its own transaction ids, lower when it is younger.
 * Ids of one cluster never go back (xid8 carries the epoch), so a stored watermark W whose xmax is
 * above the current snapshot's was taken elsewhere. Left alone, the pass set the watermark back to
 * this cluster's snapshot, and as the counter climbed, later passes took the counted copied rows
 * (ids at or above the new xmax) again as late rows; the copied rows W had not counted waited for
 * the counter to reach their foreign ids; this cluster's rows looked counted to step 1 and to
 * retention.
 *
 * The rule (adapters/storage/rollups.ts, "Commit-safe watermark"): the counted rows are those
 * received before the cursor T that are below the watermark or have a null id (committed, placed
 * by the receive time alone). One statement, so one snapshot S, rewrites the ids of the rows S sees
 * (all committed) that the new watermark M would misplace, and M replaces W. M is S with one more
 * id counted as running: V = S's xmin − 1, an id that had ended before S (every id under xmin had):
 *   - received before T, not below W (the old cluster had not counted them): id V. Under M they
 *     are late (V is in M's running ids), and V is below this pass's own snapshot: this pass takes
 *     them, once, as any late row (a transaction's late rows are taken whole); V is below every
 *     later watermark;
 *   - below W and received before T (counted), or received at or after T (not reached yet), whose
 *     id is not below M (at or above S's xmax, one of its running ids, or V): null. Counted ones
 *     stay counted (the cursor only moves forward); the others are taken by the receive-time
 *     cursor when it reaches them, as the rows stored before migration 0019;
 *   - the rest keep their ids: below M, so below every later watermark (a later snapshot's running
 *     ids below S's xmax are among S's), counted when W counted them, taken by the cursor otherwise.
 * This cluster's rows that S does not see (running, or committed after S) keep their own ids, not
 * below M: the late rows or the batch take them as before. Why not recompute the rollups from
 * scratch: retention has deleted counted events that no recomputation would find again.
 *
 * Assumed: a row this cluster stored and committed before the pass that re-anchors, with a receive
 * time before the copied cursor (events held back since before the copy and replayed into it), is
 * taken as counted when its id is below W (its own id cannot tell it from a copied one); the
 * first pass after the copy runs within the rollup interval. Not detected: a copy into a cluster
 * whose counter is already past W's xmax (see docs/adr/0001-analysis-rollups.md).
 *
 * Returns the watermark to start from, and the line to log when it re-anchored (once: the new
 * watermark is this cluster's).
 */
export function* rebaseForeignWatermark(
  q: Compile,
  mark: Watermark,
  cursor: number,
): Generator<CompiledQuery, { mark: Watermark; notice?: string }, Row[]> {
  const [now] = yield q(sql`select pg_snapshot_xmax(pg_current_snapshot())::text::int8 as xmax`);
  const xmax = Number(now?.xmax);
  if (!(xmax < mark.xmax)) return { mark };
  const notCounted = sql`(v.received_ts < ${cursor} and not (v.xid < ${xid(mark.xmax)} and v.xid <> all(${xids(mark.xip)})))`;
  const [r] =
    yield q(sql`with s as materialized (select pg_current_snapshot() as snap, (pg_snapshot_xmin(pg_current_snapshot())::text::int8 - 1)::text::xid8 as ended),
      moved as (
        update events v set xid = case when ${notCounted} then s.ended end
        from s
        where v.xid is not null and (${notCounted} or not (pg_visible_in_snapshot(v.xid, s.snap) and v.xid <> s.ended))
        returning v.xid is not null as late, v.received_ts < ${cursor} as behind
      )
    select pg_snapshot_xmax(s.snap)::text::int8 as xmax, array_to_string(array(select x::text from pg_snapshot_xip(s.snap) x), ',') as xip,
      s.ended::text::int8 as ended,
      (select count(*) from moved where late) as late,
      (select count(*) from moved where not late and behind) as counted,
      (select count(*) from moved where not late and not behind) as ahead
    from s`);
  const ended = Number(r?.ended);
  const ids = typeof r?.xip === 'string' && r.xip !== '' ? r.xip.split(',').map(Number) : [];
  const next: Watermark = { xmax: Number(r?.xmax), xip: [...ids, ended].sort((a, b) => a - b) };
  const notice =
    `PostgreSQL rollups: the stored watermark (xmax ${mark.xmax}) is ahead of this cluster's transaction ids (xmax ${next.xmax}): ` +
    `the database was copied from another cluster (pg_dump restore, logical replication). Re-anchored to this cluster's snapshot: ` +
    `${Number(r?.counted)} counted events before the cursor and ${Number(r?.ahead)} events after it now placed by receive time, ` +
    `${Number(r?.late)} copied events the old cluster had not counted taken as late rows; no event is counted twice or lost.`;
  return { mark: next, notice };
}
