/**
 * Deterministic, versioned assignment, compatible with GrowthBook's SDKs (spec 0.8.0), so a
 * newsroom can move experiments between GrowthBook and readnext without reshuffling readers.
 * Pinned by the golden cases in test/fixtures/vectors/growthbook_assignment_vectors.json.
 */

/**
 * 32-bit FNV-1a over the UTF-16 code units of a JavaScript string (not its UTF-8 bytes: that is
 * what every GrowthBook SDK hashes). offset basis 0x811c9dc5, prime 0x01000193
 * (Fowler, Noll, Vo: http://www.isthe.com/chongo/tech/comp/fnv/).
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    // h * 16777619 mod 2^32, written as shifts to stay exact in 53-bit doubles.
    h += (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24);
  }
  return h >>> 0;
}

export type HashVersion = 1 | 2;
export const HASH_VERSIONS: readonly HashVersion[] = [1, 2];

/**
 * A reader's position in [0, 1).
 *   v2 (default): (fnv1a32(fnv1a32(seed + id) + "") % 10000) / 10000
 *   v1 (legacy, biased for similar seeds): (fnv1a32(id + seed) % 1000) / 1000
 * Unknown versions give undefined (GrowthBook returns null).
 */
export function hash(seed: string, id: string, version: number): number | undefined {
  if (version === 2) return (fnv1a32(String(fnv1a32(seed + id))) % 10000) / 10000;
  if (version === 1) return (fnv1a32(id + seed) % 1000) / 1000;
  return undefined;
}

/** n equal weights summing to 1; [] for n <= 0. */
export function equalWeights(n: number): number[] {
  if (n <= 0) return [];
  return new Array<number>(n).fill(1 / n);
}

/**
 * Bucket ranges [start, end) per arm. Coverage (the audience share) is clamped to [0, 1]; weights
 * default to equal and fall back to equal when their count mismatches or their sum is outside
 * [0.99, 1.01]. range_i = [c_i, c_i + coverage·w_i] with c_i the cumulative weight before i, so
 * lowering coverage never moves a reader from one arm to another.
 */
export function bucketRanges(numArms: number, coverage: number, weights?: readonly number[] | null): [number, number][] {
  const cov = coverage < 0 ? 0 : coverage > 1 ? 1 : coverage;
  let w = weights ?? equalWeights(numArms);
  if (w.length !== numArms) w = equalWeights(numArms);
  const sum = w.reduce((a, b) => a + b, 0);
  if (sum < 0.99 || sum > 1.01) w = equalWeights(numArms);
  let cumulative = 0;
  return w.map((wi) => {
    const start = cumulative;
    cumulative += wi;
    return [start, start + cov * wi];
  });
}

/** The arm whose range holds n, or -1 (not in the experiment). */
export function chooseArm(n: number, ranges: readonly (readonly [number, number])[]): number {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (n >= r[0] && n < r[1]) return i;
  }
  return -1;
}

export interface Namespace {
  id: string;
  start: number;
  end: number;
}

/**
 * Namespaces (our "layers") make experiments mutually exclusive: each experiment of a layer owns a
 * disjoint [start, end) slice of hash("__" + layer, id, v1).
 */
export function inNamespace(id: string, ns: Namespace): boolean {
  const n = hash(`__${ns.id}`, id, 1)!;
  return n >= ns.start && n < ns.end;
}
