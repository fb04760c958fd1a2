import type { ServeExploration } from '../recommend/explore.js';

/**
 * Server-side records. `exposure`: a reader assigned to an experiment arm, written once per reader,
 * experiment and phase when the server assigns them, so that an arm that shows nothing (the status
 * quo) is still measured. `serve`: one row per recommendation response, shadow slates included.
 */
export interface ExposureRecord {
  experiment: string;
  phase: number;
  arm: string;
  readerId: string;
  hashVersion: number;
  /** First exposure time, epoch ms (the server's clock). */
  exposedTs: number;
  /** The session and article of the request that made the exposure: its page's page view counts after it (EXPOSURE_GRACE_MS). Absent or null: unknown. */
  sessionId?: string | null;
  articleId?: string | null;
}

export interface SlateItem {
  articleId: string;
  position: number;
  score: number | null;
  reason: string | null;
  team?: string | null;
}

export interface ServeRecord {
  recommId: string;
  placement: string;
  experiment: string | null;
  phase: number | null;
  arm: string | null;
  hashVersion: number | null;
  recommenderKind: string;
  recommenderVersion: string;
  /** True for a shadow recommender's slate: computed and logged, never shown. */
  shadow: boolean;
  readerId: string | null;
  sessionId: string | null;
  articleId: string | null;
  /** Time to compute the slate, milliseconds. */
  latencyMs: number;
  fallback: boolean;
  fault: boolean;
  slate: SlateItem[];
  servedTs: number;
  /** The placement's logged exploration on this request (issue 18); null or absent when it had none. */
  exploration?: ServeExploration | null;
}
