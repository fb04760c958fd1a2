import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type HttpTimeouts } from '../../../src/adapters/http/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { appDeps, openServices, type Services } from '../../../src/main/services.js';
import { ADMIN_KEY, INGEST_KEY } from '../../helpers/app.js';
import { read, T0 } from '../../helpers/events.js';

// A real listening server with small timeouts, spoken to over raw sockets: what Node's HTTP parser
// does before Fastify sees a request never shows in app.inject().
const TIMEOUTS: HttpTimeouts = { headersMs: 300, requestMs: 500, keepAliveMs: 5000 };
/** How long a cut-off may take: the timeout, Node's check interval (a tenth of it) and a loaded machine's delays. A correctness bound, not a speed one. */
const CUT_OFF_BOUND_MS = 10 * TIMEOUTS.requestMs;
/** A route that computes for longer than the request timeout: only the arrival of a request is timed. */
const SLOW_MS = 3 * TIMEOUTS.requestMs;

let services: Services;
let app: FastifyInstance;
let port: number;
beforeAll(async () => {
  const config = loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent' }, {});
  services = await openServices(config, { clock: fixedClock(T0) });
  const deps = appDeps(services, [
    async (a) => {
      a.get('/test/slow', async () => {
        await sleep(SLOW_MS);
        return { done: true };
      });
    },
  ]);
  app = await createApp({ ...deps, options: { ...deps.options, timeouts: TIMEOUTS } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await app.close();
  await services.close();
});

interface Exchange {
  /** Everything the server sent before it closed the connection (or before `waitMs`). */
  received: string;
  closed: boolean;
  elapsedMs: number;
}

/** Writes `parts` (pausing `pauseMs` after each but the last), then reads until the server closes the connection or `waitMs` passes. */
function exchange(parts: (string | Buffer)[], waitMs: number, pauseMs = 0): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const give = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closed, elapsedMs: performance.now() - started });
    };
    const timer = setTimeout(() => give(false), waitMs);
    socket.on('data', (d) => (received += d.toString('utf8')));
    socket.on('close', () => give(true));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? give(true) : reject(e)));
    socket.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        socket.write(p);
        if (i < parts.length - 1) await sleep(pauseMs);
      }
    });
  });
}

/** The status and JSON body of each response in `raw`. */
function responses(raw: string): { status: number; headers: string; body: unknown }[] {
  const out: { status: number; headers: string; body: unknown }[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const headers = rest.slice(0, end);
    const length = Number(/content-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
    const body = rest.slice(end + 4, end + 4 + length);
    out.push({ status: Number(headers.slice(9, 12)), headers, body: JSON.parse(body) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

describe('slow and stalled clients are cut off', () => {
  it(
    'a body shorter than its Content-Length: 408 request_timeout, then the connection is closed',
    async () => {
      const head = `POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
      const r = await exchange([head + '{"events":'], CUT_OFF_BOUND_MS);
      expect(r.closed).toBe(true);
      expect(r.elapsedMs).toBeGreaterThanOrEqual(TIMEOUTS.requestMs - 50);
      const [res] = responses(r.received);
      expect(res).toMatchObject({ status: 408, body: { error: { code: 'request_timeout', field: null } } });
      expect(res!.headers).toMatch(/connection: close/i);
    },
    3 * CUT_OFF_BOUND_MS,
  );

  it(
    'headers that never end: 408 after the headers timeout',
    async () => {
      const r = await exchange(['GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n'], CUT_OFF_BOUND_MS, 100);
      expect(r.closed).toBe(true);
      expect(r.elapsedMs).toBeGreaterThanOrEqual(TIMEOUTS.headersMs - 50);
      expect(responses(r.received)[0]).toMatchObject({ status: 408, body: { error: { code: 'request_timeout' } } });
    },
    3 * CUT_OFF_BOUND_MS,
  );

  it(
    'a request computed for longer than the request timeout is answered',
    async () => {
      const r = await exchange(['GET /test/slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], SLOW_MS + CUT_OFF_BOUND_MS);
      expect(responses(r.received)).toMatchObject([{ status: 200, body: { done: true } }]);
    },
    3 * (SLOW_MS + CUT_OFF_BOUND_MS),
  );

  it(
    'a keep-alive connection idle for longer than the request timeout still serves its next request',
    async () => {
      const body = JSON.stringify({ events: [read()] });
      const post = `POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const r = await exchange(
        [post, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
        3 * CUT_OFF_BOUND_MS,
        2 * TIMEOUTS.requestMs,
      );
      expect(responses(r.received)).toMatchObject([
        { status: 200, body: { accepted: 1 } },
        { status: 200, body: { status: 'ok' } },
      ]);
    },
    6 * CUT_OFF_BOUND_MS,
  );
});

describe("the HTTP parser's errors in the one error shape", () => {
  it('headers over the limit: 431 headers_too_large', async () => {
    const r = await exchange([`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`], CUT_OFF_BOUND_MS);
    expect(responses(r.received)).toMatchObject([{ status: 431, body: { error: { code: 'headers_too_large', field: null } } }]);
  });

  it('bytes that are not HTTP: 400 bad_request', async () => {
    const r = await exchange(['HELLO THERE\r\n\r\n'], CUT_OFF_BOUND_MS);
    const [res] = responses(r.received);
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'bad_request', field: null } } });
    expect((res!.body as { error: { message: string } }).error.message).toMatch(/not valid HTTP/);
  });
});
