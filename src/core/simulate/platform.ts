import type { Article } from '../catalog/article.js';

/**
 * The seam between the simulated newsroom and the platform it drives. The world (run.ts) only sees
 * this port; the app implements it in process (app/sim-platform.ts) and the HTTP client adapter
 * implements it over a running `readnext serve --sim-clock` (adapters/simclient). Both receive the
 * same calls in the same order for the same seed, so both give the same report.
 *
 * Call order the world keeps: `setTime` moves forward only; articles are published when the
 * simulated clock reaches their publication time; events are flushed with `send` at each
 * simulated-minute boundary (then the clock moves on), and `recommend` is called at the moment a
 * reader opens an article page, seeing every event sent before it.
 */
export interface SimPlatform {
  /** Moves the platform's clock to `now` (epoch ms). Never called with a time before the last one. */
  setTime(now: number): Promise<void>;
  /** Publishes (upserts) articles into the catalog. */
  publish(articles: readonly Article[]): Promise<void>;
  /** The read-next widget asks for a slate for a reader on an article page. */
  recommend(req: SimRecRequest): Promise<SimSlate>;
  /**
   * Events as the SDK (browser types) and the newsroom's server (`subscribe`) send them: the wire
   * JSON of src/core/events/schema.ts (ISO timestamps), sent with the ingest key. Resolves once every
   * event is stored; a refused event is an error (the world only makes valid events).
   */
  send(events: readonly WireEvent[]): Promise<void>;
}

export interface SimRecRequest {
  placement: string;
  readerId: string;
  sessionId: string;
  articleId: string;
  /** Slate size; the placement's default when undefined. */
  k?: number;
}

/** What the widget shows: the response's recommId (null when nothing is recorded) and the article ids, slot 1 first. */
export interface SimSlate {
  recommId: string | null;
  items: string[];
  /** Interleaving: the team of each item (same order), when the response has teams. */
  teams?: (string | null)[];
  /** The experiment arm the response was served from, when any (for the impression event). */
  experiment?: { id: string; phase: number; arm: string } | null;
}

/** One event on the wire (schema version 1); `type`-specific fields as in EVENT_SCHEMAS. */
export interface WireEvent {
  type: 'page_view' | 'impression' | 'click' | 'read' | 'subscribe';
  schemaVersion: 1;
  eventId: string;
  readerId: string;
  sessionId: string;
  /** ISO 8601 with a zone (`new Date(ms).toISOString()` done by the world from simulated ms). */
  timestamp: string;
  [field: string]: unknown;
}
