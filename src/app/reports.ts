import { analyseInterleaving, type InterleavingOutcome } from '../core/experiments/interleaving.js';
import { jaccardAtK, percentile, rbo } from '../core/experiments/shadow.js';
import type { ServeRecord } from '../core/events/records.js';
import type { RecordStore } from './ports.js';

export interface RecommenderSideReport {
  kind: string;
  version: string;
  responses: number;
  errorRate: number;
  latencyMs: { mean: number; p50: number; p99: number };
}

export interface ShadowComparison {
  shadow: RecommenderSideReport;
  /** Requests where both the live and this shadow slate exist. */
  pairs: number;
  /** Mean Jaccard@k between shadow and live slates. */
  jaccard: number;
  /** Mean rank-biased overlap (p = 0.9). */
  rbo: number;
  /**
   * "Would have clicked": share of the reader's next reads in the same session (after the response)
   * that appear in the shadow slate, next to the same share for the live slate.
   */
  nextReads: number;
  shadowHitRate: number;
  liveHitRate: number;
}

export interface ShadowReport {
  placement: string;
  sinceTs: number;
  live: RecommenderSideReport[];
  shadows: ShadowComparison[];
}

function side(rs: readonly ServeRecord[]): RecommenderSideReport {
  const lat = rs.map((r) => r.latencyMs);
  return {
    kind: rs[0]!.recommenderKind,
    version: rs[0]!.recommenderVersion,
    responses: rs.length,
    errorRate: rs.filter((r) => r.fault).length / rs.length,
    latencyMs: { mean: lat.reduce((a, b) => a + b, 0) / lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99) },
  };
}

/**
 * Shadow vs live on the same requests, from the `serve` records: latency and error rate of each,
 * slate overlap (Jaccard@k, RBO), and how often each slate held what the reader went on to read.
 */
export async function shadowReport(records: RecordStore, placement: string, sinceTs: number, limit = 100_000): Promise<ShadowReport> {
  const serves = await records.servesSince(placement, sinceTs, limit);
  const live = serves.filter((s) => !s.shadow);
  const liveById = new Map(live.map((s) => [s.recommId, s]));
  const groups = new Map<string, ServeRecord[]>();
  const key = (s: ServeRecord) => `${s.recommenderKind}@${s.recommenderVersion}`;
  for (const s of serves) {
    if (!s.shadow) continue;
    const g = groups.get(key(s));
    if (g) g.push(s);
    else groups.set(key(s), [s]);
  }
  const liveGroups = new Map<string, ServeRecord[]>();
  for (const s of live) {
    const g = liveGroups.get(key(s));
    if (g) g.push(s);
    else liveGroups.set(key(s), [s]);
  }
  // Next reads: what each session read after each response.
  const sessions = [...new Set(serves.filter((s) => s.shadow && s.sessionId !== null).map((s) => s.sessionId!))];
  const reads = sessions.length > 0 ? await records.sessionReads(sessions, sinceTs) : [];
  const readsBySession = new Map<string, { articleId: string; clientTs: number }[]>();
  for (const r of reads) {
    const l = readsBySession.get(r.sessionId);
    if (l) l.push(r);
    else readsBySession.set(r.sessionId, [r]);
  }
  const shadows: ShadowComparison[] = [];
  for (const rs of groups.values()) {
    let pairs = 0;
    let jac = 0;
    let rb = 0;
    let next = 0;
    let hitS = 0;
    let hitL = 0;
    for (const s of rs) {
      const l = liveById.get(s.recommId);
      if (!l) continue;
      pairs++;
      const a = s.slate.map((x) => x.articleId);
      const b = l.slate.map((x) => x.articleId);
      jac += jaccardAtK(a, b, Math.max(a.length, b.length));
      rb += rbo(a, b);
      if (s.sessionId === null) continue;
      const later = (readsBySession.get(s.sessionId) ?? []).filter((r) => r.clientTs >= s.servedTs && r.articleId !== s.articleId);
      const sa = new Set(a);
      const sb = new Set(b);
      for (const r of later) {
        next++;
        if (sa.has(r.articleId)) hitS++;
        if (sb.has(r.articleId)) hitL++;
      }
    }
    shadows.push({
      shadow: side(rs),
      pairs,
      jaccard: pairs ? jac / pairs : 0,
      rbo: pairs ? rb / pairs : 0,
      nextReads: next,
      shadowHitRate: next ? hitS / next : 0,
      liveHitRate: next ? hitL / next : 0,
    });
  }
  return { placement, sinceTs, live: [...liveGroups.values()].map(side), shadows };
}

/** Interleaving preference per reader, tested with a sign test over readers. */
export async function interleavingReport(
  records: RecordStore,
  experiment: string,
  phase: number,
  teams: [string, string],
): Promise<InterleavingOutcome & { teams: [string, string] }> {
  const clicks = await records.interleavingClicks(experiment, phase);
  const byReader = new Map<string, { a: number; b: number }>();
  for (const c of clicks) {
    if (c.team !== teams[0] && c.team !== teams[1]) continue;
    const r = byReader.get(c.readerId) ?? { a: 0, b: 0 };
    if (c.team === teams[0]) r.a++;
    else r.b++;
    byReader.set(c.readerId, r);
  }
  return { ...analyseInterleaving(byReader), teams };
}
