import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/adapters/http/app.js';
import { runCli, type CliDeps } from '../../src/adapters/cli/program.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { cliDeps } from '../../src/main/cli-deps.js';
import { appDeps, openDb, openServices, type Services } from '../../src/main/services.js';
import { SimClock } from '../../src/main/sim-clock.js';
import { ADMIN_KEY, INGEST_KEY, admin } from '../helpers/app.js';
import { BACKENDS } from '../helpers/databases.js';
import { read, T0 } from '../helpers/events.js';

const config = (over: Partial<Config> = {}) =>
  loadConfig({ db: 'sqlite::memory:', adminKey: ADMIN_KEY, ingestKey: INGEST_KEY, logLevel: 'silent', ...over }, {});

describe('SimClock', () => {
  it('reads the real clock until it is set, then only moves forward', () => {
    const clock = new SimClock(fixedClock(T0));
    expect(clock.now()).toBe(T0);
    clock.set(T0 - 86_400_000); // the first setting may be anywhere, the past included
    expect(clock.now()).toBe(T0 - 86_400_000);
    clock.set(T0 - 86_400_000); // standing still is allowed
    clock.set(T0);
    expect(clock.now()).toBe(T0);
    expect(() => clock.set(T0 - 1)).toThrow(/now must not go backwards: 2026-03-01T11:59:59.999Z is before .*2026-03-01T12:00:00.000Z/);
    expect(() => clock.set(Number.NaN)).toThrow(/now must be a time/);
  });
});

describe('turning the simulated clock on', () => {
  it('READNEXT_SIM_CLOCK is off by default, on with 1 or true, and anything else is an error naming it', () => {
    expect(loadConfig({}, {}).simClock).toBe(false);
    expect(loadConfig({}, { READNEXT_SIM_CLOCK: '1' }).simClock).toBe(true);
    expect(loadConfig({}, { READNEXT_SIM_CLOCK: 'TRUE' }).simClock).toBe(true);
    expect(loadConfig({}, { READNEXT_SIM_CLOCK: '0' }).simClock).toBe(false);
    expect(() => loadConfig({}, { READNEXT_SIM_CLOCK: 'yes' })).toThrow(/READNEXT_SIM_CLOCK must be one of 1, true, 0, false/);
  });

  it('readnext serve --sim-clock asks for it; without the flag nothing is said', async () => {
    const seen: unknown[] = [];
    const deps = {
      ...cliDeps({ out: () => undefined, err: () => undefined, isTty: false, env: {} }),
      serve: async (o: unknown) => void seen.push(o),
    };
    expect(await runCli(deps as CliDeps, ['serve', '--sim-clock', '--port', '0'])).toBe(0);
    expect(await runCli(deps as CliDeps, ['serve'])).toBe(0);
    expect(seen).toEqual([{ simClock: true, port: 0 }, {}]);
  });
});

describe('the HTTP app on a simulated clock', () => {
  let sim: { app: FastifyInstance; services: Services };
  let real: { app: FastifyInstance; services: Services };
  beforeAll(async () => {
    const open = async (c: Readonly<Config>, clock?: SimClock | ReturnType<typeof fixedClock>) => {
      const services = await openServices(c, { clock });
      return { services, app: await createApp(appDeps(services)) };
    };
    sim = await open(config({ simClock: true }));
    real = await open(config(), fixedClock(T0));
  });
  afterAll(async () => {
    for (const x of [sim, real]) {
      await x?.app.close();
      await x?.services.close();
    }
  });

  const setClock = (app: FastifyInstance, now: unknown, headers: Record<string, string> = admin) =>
    app.inject({ method: 'POST', url: '/v1/admin/sim-clock', headers, payload: { now } });

  it('says so in /healthz and in a header on every response, errors included', async () => {
    const health = await sim.app.inject('/healthz');
    expect(health.json()).toEqual({ status: 'ok', clock: 'simulated' });
    for (const url of ['/healthz', '/v1/recommendations?placement=read-next', '/v1/nothing-here', '/v1/admin/articles']) {
      const res = await sim.app.inject(url);
      expect({ url, header: res.headers['x-readnext-clock'] }).toEqual({ url, header: 'simulated' });
    }
    const r = await real.app.inject('/healthz');
    expect(r.json()).toEqual({ status: 'ok', clock: 'real' });
    expect(r.headers['x-readnext-clock']).toBeUndefined();
  });

  it('POST /v1/admin/sim-clock sets the time forward, and events at simulated times are accepted', async () => {
    const past = '2025-01-06T08:00:00.000Z';
    const res = await setClock(sim.app, past);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ now: past });
    expect(sim.services.clock.now()).toBe(Date.parse(past));
    // A year before the real time: outside the real clock's 24-hour window, inside the simulated one's.
    const ev = await sim.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: { events: [read(Date.parse(past) - 60_000, { eventId: 'sim-read-1' })] },
    });
    expect(ev.json()).toMatchObject({ accepted: 1, rejected: 0 });
    expect((await setClock(sim.app, '2025-01-06T09:00:00+01:00')).json()).toEqual({ now: past });
  });

  it('refuses going backwards or a time that is not one (400 naming now), and anyone without the admin key (401)', async () => {
    await setClock(sim.app, '2025-02-01T00:00:00Z');
    const back = await setClock(sim.app, '2025-01-31T23:59:59Z');
    expect(back.statusCode).toBe(400);
    expect(back.json()).toMatchObject({ error: { code: 'invalid_field', field: 'now', message: expect.stringMatching(/backwards/) } });
    for (const bad of ['yesterday', '2025-02-02T00:00:00', 12]) {
      const res = await setClock(sim.app, bad);
      expect({ bad, status: res.statusCode, field: res.json().error.field }).toEqual({ bad, status: 400, field: 'now' });
    }
    expect((await setClock(sim.app, '2025-03-01T00:00:00Z', {})).statusCode).toBe(401);
    expect(sim.services.clock.now()).toBe(Date.parse('2025-02-01T00:00:00Z'));
  });

  it('answers 404 not_simulated on the real clock', async () => {
    const res = await setClock(real.app, '2026-03-01T12:00:00Z');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'not_simulated' } });
    expect((await setClock(real.app, '2026-03-01T12:00:00Z', {})).statusCode).toBe(401);
  });
});

describe('a simulated clock and real events never share a database', () => {
  for (const backend of BACKENDS) {
    it.skipIf(!backend.enabled)(`refuses either clock on the other's database (${backend.name})`, async () => {
      const realDb = await backend.create();
      const simDb = await backend.create();
      try {
        // 1. A real database with one event: a simulated clock is refused, with the count.
        const realSvc = await openServices(config({ db: realDb.url }), { clock: fixedClock(T0) });
        expect((await realSvc.collector.ingest([read(T0)], false)).accepted).toBe(1);
        await realSvc.close();
        await expect(openDb(config({ db: realDb.url, simClock: true }))).rejects.toThrow(
          'READNEXT_SIM_CLOCK: this database holds real events (1); a simulated clock runs only on a new or simulated database',
        );
        // 2. The CLI says it in one line and exits with 2.
        const err: string[] = [];
        const code = await runCli(
          cliDeps({
            out: () => undefined,
            err: (l) => err.push(l),
            isTty: false,
            env: { READNEXT_SIM_CLOCK: '1', READNEXT_DB: realDb.url },
          }),
          ['migrate'],
        );
        expect({ code, err }).toEqual({
          code: 2,
          err: [
            'readnext: READNEXT_SIM_CLOCK: this database holds real events (1); a simulated clock runs only on a new or simulated database',
          ],
        });
        // 3. The real clock still opens it.
        await (await openDb(config({ db: realDb.url }))).close();

        // 4. A new database opened with a simulated clock is marked simulated, events or not ...
        const clock = new SimClock();
        clock.set(Date.parse('2025-01-06T08:00:00Z'));
        const simSvc = await openServices(config({ db: simDb.url, simClock: true }), { clock });
        expect((await simSvc.collector.ingest([read(clock.now())], true)).accepted).toBe(1);
        await simSvc.close();
        // 5. ... a real clock is refused on it, and a simulated one opens it again.
        await expect(openDb(config({ db: simDb.url }))).rejects.toThrow(/READNEXT_SIM_CLOCK: this database is simulated/);
        const again = await openDb(config({ db: simDb.url, simClock: true }));
        expect(await again.getMeta('clock')).toBe('simulated');
        // 6. The meta store replaces a value and knows no key it was not given.
        await again.setMeta('note', 'a');
        await again.setMeta('note', 'b');
        expect([await again.getMeta('note'), await again.getMeta('nothing')]).toEqual(['b', undefined]);
        await again.close();
      } finally {
        await realDb.cleanup();
        await simDb.cleanup();
      }
    });
  }
});
