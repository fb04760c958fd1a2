/**
 * The offline lab's contracts: an impression from a log and a scorer that ranks its candidates.
 * Pure types; the protocols that drive a scorer live in ./protocols.ts. See docs/lab.md.
 */
import type { Article } from '../catalog/article.js';

/**
 * One impression of a log: what a reader was shown at `ts` (epoch ms, UTC), after reading
 * `history`. `clicked` is null when the log has no label for the candidate (a test log
 * without `-label`): such impressions get predictions only, no metrics.
 *
 * @example
 * const imp: LabImpression = { id: "1", readerId: "U1", ts: 0, history: ["N1"],
 *   candidates: [{ articleId: "N2", clicked: true }, { articleId: "N3", clicked: false }] };
 */
export interface LabImpression {
  id: string;
  readerId: string;
  ts: number;
  history: readonly string[];
  candidates: readonly { articleId: string; clicked: boolean | null }[];
}

/**
 * A recommender as the lab sees it. The protocol calls, in this order: `fit` once on the
 * train log; then for each test impression `score` and (replay only) `observe` with the
 * same impression, whose labels the scorer must not have seen before scoring it.
 */
export interface LabScorer {
  readonly name: string;
  /** Static protocol, and replay's warm start from the train log. */
  fit?(train: readonly LabImpression[], articles: ReadonlyMap<string, Article>): void | Promise<void>;
  /** One score per candidate, higher = better; only from what it has observed before. */
  score(imp: LabImpression): number[];
  /** Replay: the outcome of an impression already scored (never before its score). */
  observe?(imp: LabImpression): void;
}

/** Builds a scorer from a `--recommender KIND:CONFIG` config; `seed` for any randomness. */
export type ScorerFactory = (config: Record<string, unknown>, ctx: { articles: ReadonlyMap<string, Article>; seed: number }) => LabScorer;
