/**
 * Team-draft interleaving (Radlinski, Kurup, Joachims, "How does clickthrough data reflect
 * retrieval quality?", CIKM 2008, algorithm 2): the two teams take turns picking their best item
 * not yet in the slate; the team with fewer picks goes next, a coin decides ties. Each item keeps
 * its team, and clicks credit that team.
 *
 * @example
 * teamDraft(['a','b','c'], ['b','d'], 3, () => true) // [{id:'a',team:0},{id:'b',team:1},{id:'c',team:0}]
 */
export function teamDraft(a: readonly string[], b: readonly string[], k: number, coin: () => boolean): { id: string; team: 0 | 1 }[] {
  const out: { id: string; team: 0 | 1 }[] = [];
  const used = new Set<string>();
  const lists = [a, b] as const;
  const next = [0, 0];
  const picks = [0, 0];
  const advance = (t: 0 | 1) => {
    while (next[t]! < lists[t].length && used.has(lists[t][next[t]!]!)) next[t]!++;
    return next[t]! < lists[t].length;
  };
  while (out.length < k) {
    const hasA = advance(0);
    const hasB = advance(1);
    if (!hasA && !hasB) break;
    let t: 0 | 1;
    if (!hasA) t = 1;
    else if (!hasB) t = 0;
    else t = picks[0]! < picks[1]! || (picks[0] === picks[1] && coin()) ? 0 : 1;
    const id = lists[t][next[t]!]!;
    used.add(id);
    out.push({ id, team: t });
    picks[t]!++;
  }
  return out;
}

/**
 * Two-sided exact sign test: with `wins` readers preferring A and `losses` preferring B (ties
 * dropped), p = min(1, 2·P(X <= min(wins, losses))), X ~ Binomial(wins + losses, 1/2).
 * Reference: Conover, Practical Nonparametric Statistics, 3rd ed., §3.4.
 */
export function signTest(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  const m = Math.min(wins, losses);
  // Σ_{i<=m} C(n, i) / 2^n, summed in log space to stay exact for large n.
  let logC = 0; // log C(n, 0)
  let sum = 0;
  const log2n = n * Math.LN2;
  for (let i = 0; i <= m; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logC - log2n);
  }
  return Math.min(1, 2 * sum);
}

export interface InterleavingOutcome {
  /** Readers whose clicks favoured each team (ties excluded). */
  readersPreferringA: number;
  readersPreferringB: number;
  readersTied: number;
  clicksA: number;
  clicksB: number;
  /** (prefA − prefB) / (prefA + prefB), in [-1, 1]; 0 when nobody preferred either. */
  preference: number;
  pValue: number;
}

/**
 * Aggregates clicks per reader before testing: a reader's sessions are correlated, so each reader
 * is one vote (the team with more of their clicks), and the sign test runs over readers.
 */
export function analyseInterleaving(clicksByReader: ReadonlyMap<string, { a: number; b: number }>): InterleavingOutcome {
  let pa = 0;
  let pb = 0;
  let tied = 0;
  let ca = 0;
  let cb = 0;
  for (const { a, b } of clicksByReader.values()) {
    ca += a;
    cb += b;
    if (a > b) pa++;
    else if (b > a) pb++;
    else tied++;
  }
  return {
    readersPreferringA: pa,
    readersPreferringB: pb,
    readersTied: tied,
    clicksA: ca,
    clicksB: cb,
    preference: pa + pb === 0 ? 0 : (pa - pb) / (pa + pb),
    pValue: signTest(pa, pb),
  };
}
