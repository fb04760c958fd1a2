/**
 * The HTTP API's response bodies, as they travel: the contract between the server
 * (src/adapters/http), the browser SDK (src/adapters/web/sdk) and the dashboard. Types only, no
 * imports and no runtime code, so browser code can import it (the lint keeps it that way:
 * eslint.config.js). The OpenAPI schemas in src/adapters/http/routes describe the same shapes;
 * test/api/types.test.ts checks that what the use cases return fits them.
 *
 * Fields are added, never renamed or removed; a client ignores fields it does not know and
 * treats an error code it does not know by its HTTP status.
 */

/** One recommended article of a slate. */
export interface RecommendationItem {
  articleId: string;
  title: string;
  url: string | null;
  /** 1-based rank in the slate. */
  position: number;
  /** Why the recommender chose it (e.g. `co-read`, `latest`, `pinned`). */
  reason: string;
  /** Interleaving only: the arm (team) that contributed the item. */
  team?: string;
}

/** `GET /v1/recommendations` 200: a slate for a placement. */
export interface RecommendationResponse {
  /** Identifies this slate; impression and click events name it. */
  recommId: string;
  placement: string;
  /** The experiment, phase and arm the reader was assigned to; null outside an experiment. */
  experiment: string | null;
  phase: number | null;
  arm: string | null;
  /** The bucketing hash version (with an experiment), else null. */
  hashVersion: number | null;
  /** The recommender that made the slate. */
  recommender: { kind: string; version: string };
  /** True when the placement's fallback chain answered (unknown article, recommender fault, warming up). */
  fallback: boolean;
  items: RecommendationItem[];
}

/** The outcome of one event of a batch, in the batch's order (`index`). */
export type EventResult =
  | { index: number; eventId: string | null; status: 'accepted' | 'duplicate' }
  | { index: number; eventId: string | null; status: 'conflict'; code: 'conflict'; reason: string }
  | { index: number; eventId: string | null; status: 'rejected'; code: string; field: string | null; reason: string }
  /** Dropped by the bot filter (the request's User-Agent is on the bot list): not stored, nothing to retry. */
  | { index: number; eventId: string | null; status: 'filtered'; code: 'bot'; reason: string };

/** `POST /v1/events` 200: per-event outcomes, sent once the accepted events are durably stored. */
export interface EventBatchResponse {
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  /** Events dropped by the bot filter; present only when the batch was filtered. */
  filtered?: number;
  results: EventResult[];
}

/** Every 4xx and 5xx answer of the API. */
export interface ErrorBody {
  error: {
    /** Stable and machine-readable (`invalid_field`, `not_found`...); the status follows from it. */
    code: string;
    message: string;
    /** The field at fault: a body path (`articles/1/publishedAt`) or a query-string or route name; else null. */
    field: string | null;
  };
}
