import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimTarget } from '../../../src/app/sim-control.js';
import { loadConfig } from '../../../src/config/config.js';
import { startServer, type RunningServer } from '../../../src/main/server.js';
import { httpTarget, openInProcessTarget } from '../../../src/main/sim-target.js';
import { ADMIN_KEY, INGEST_KEY } from '../../helpers/app.js';
import { tempDir } from '../../helpers/databases.js';
import { figure, runScenario, SIM_T0, type ScenarioResult } from '../../helpers/sim-scenario.js';

/** The figures a report measures (not how fast it was served): what the two targets must agree on. */
const measured = (r: ScenarioResult['report']) =>
  JSON.parse(JSON.stringify({ metrics: r.metrics, srm: r.srm, decisions: r.decisions, dataQuality: r.dataQuality, trust: r.trust }));

describe('the HTTP simulation target, against readnext serve --sim-clock', () => {
  const dir = tempDir();
  const printed: string[] = [];
  let server: RunningServer;
  let target: SimTarget;
  let overHttp: ScenarioResult;
  beforeAll(async () => {
    const config = loadConfig(
      {
        db: `sqlite:${join(dir.path, 'sim.db')}`,
        port: 0,
        adminKey: ADMIN_KEY,
        ingestKey: INGEST_KEY,
        logLevel: 'silent',
        sqliteSynchronous: 'NORMAL',
        simClock: true,
      },
      {},
    );
    server = await startServer(config, (l) => printed.push(l));
    target = httpTarget({ url: server.url, adminKey: ADMIN_KEY, ingestKey: INGEST_KEY });
    overHttp = await runScenario(target);
  });
  afterAll(async () => {
    await target?.close();
    await server?.stop();
    dir.remove();
  });

  it('warns at start that the clock is simulated', () => {
    expect(printed.some((l) => /WARNING: running on a SIMULATED clock/.test(l))).toBe(true);
  });

  it('reports every reader and read it sent, with the server on the simulated clock', async () => {
    const r = overHttp.report;
    expect(r.fromTs).toBe(SIM_T0);
    expect(r.dataThroughTs).toBe(SIM_T0 + 10 * 60_000);
    expect(r.srm.observed.reduce((a, b) => a + b, 0)).toBe(24);
    for (const [arm, sent] of overHttp.sent) {
      const reads = figure(r, 'articles_read', arm);
      expect(reads?.n).toBe(sent.readers);
      expect((reads?.value ?? 0) * sent.readers).toBeCloseTo(sent.reads, 9);
    }
    const health = await fetch(`${server.url}/healthz`);
    expect(health.headers.get('x-readnext-clock')).toBe('simulated');
    expect(await health.json()).toEqual({ status: 'ok', clock: 'simulated' });
  });

  it('gives the report the in-process target gives for the same calls', async () => {
    const inProcess = await openInProcessTarget({ startTs: SIM_T0 });
    try {
      const same = await runScenario(inProcess);
      expect(same.slates).toEqual(overHttp.slates);
      expect(measured(same.report)).toEqual(measured(overHttp.report));
    } finally {
      await inProcess.close();
    }
  });

  it('names a refused event and a clock set backwards', async () => {
    await expect(
      target.send([
        { type: 'page_view', schemaVersion: 1, eventId: 'bad-pv', readerId: 'r', sessionId: 's', timestamp: 'soon', articleId: 'a1' },
      ]),
    ).rejects.toThrow(/event bad-pv refused \(invalid_field at timestamp\)/);
    await expect(target.setTime(SIM_T0)).rejects.toThrow(/sim-clock answered 400 \(invalid_field: now must not go backwards/);
  });
});
