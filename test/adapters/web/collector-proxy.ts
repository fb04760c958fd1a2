import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What the proxy does with `POST /v1/events`; every other request is always forwarded. */
export type CollectorMode =
  | { kind: 'up' }
  /** The connection is dropped without an answer: the collector is unreachable, the site is not. */
  | { kind: 'unreachable' }
  | { kind: 'status'; status: number; retryAfterS: number };

export interface SeenPost {
  /** When the proxy received it, and (for answered ones) when it answered (ms). */
  at: number;
  answeredAt?: number;
  /** The status the browser got; 0 when dropped or forwarded and not yet answered. */
  status: number;
  /** Each event's JSON, by id. */
  events: Map<string, string>;
}

/**
 * A plain HTTP proxy in front of the live app, for the SDK's outage tests: the page's origin is the
 * proxy, so the SDK posts its events here. `stop()` closes the listener and every connection
 * (the browser gets "connection refused", as from a stopped server) and `start()` listens again on
 * the same port, in front of the same app and database. `mode` fails only the collector.
 */
export class CollectorProxy {
  mode: CollectorMode = { kind: 'up' };
  readonly posts: SeenPost[] = [];
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly target: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr !== 'object') throw new Error('the proxy is not listening on a TCP port');
    this.port = addr.port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/events')) return this.forward(req, res, body);
      const seen: SeenPost = { at: Date.now(), status: 0, events: new Map() };
      try {
        for (const e of (JSON.parse(body.toString('utf8')) as { events: { eventId: string }[] }).events) {
          seen.events.set(e.eventId, JSON.stringify(e));
        }
      } catch {
        // not a batch: recorded without events
      }
      this.posts.push(seen);
      const mode = this.mode;
      if (mode.kind === 'unreachable') {
        req.socket.destroy();
        return;
      }
      if (mode.kind === 'status') {
        seen.status = mode.status;
        seen.answeredAt = Date.now();
        res.writeHead(mode.status, { 'content-type': 'application/json', 'retry-after': String(mode.retryAfterS) });
        res.end(JSON.stringify({ error: { code: mode.status === 429 ? 'rate_limited' : 'unavailable', message: 'test', field: null } }));
        return;
      }
      this.forward(req, res, body, seen);
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, seen?: SeenPost): void {
    const up = request({ host: '127.0.0.1', port: this.target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (seen) {
        seen.status = answer.statusCode ?? 0;
        seen.answeredAt = Date.now();
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  }
}
