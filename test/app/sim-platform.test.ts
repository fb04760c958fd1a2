import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimTarget } from '../../src/app/sim-control.js';
import { openInProcessTarget } from '../../src/main/sim-target.js';
import { figure, runScenario, SIM_T0, simArticles, type ScenarioResult } from '../helpers/sim-scenario.js';

describe('the in-process simulation target', () => {
  let target: SimTarget;
  let result: ScenarioResult;
  beforeAll(async () => {
    target = await openInProcessTarget({ startTs: SIM_T0 });
    result = await runScenario(target);
  });
  afterAll(async () => target?.close());

  it('serves the published articles at once, with the experiment arm of each reader', () => {
    expect(result.slates).toHaveLength(24);
    for (const s of result.slates) {
      expect(s.items.length).toBeGreaterThan(0);
      expect(s.items.every((id) => /^a\d$/.test(id))).toBe(true);
      expect(['control', 'popular']).toContain(s.arm);
    }
  });

  it('reports every reader and read it was sent, at simulated times', () => {
    const r = result.report;
    expect(r.experiment).toBe('sim-exp');
    expect(r.fromTs).toBe(SIM_T0);
    expect(r.dataThroughTs).toBe(SIM_T0 + 10 * 60_000);
    for (const [arm, sent] of result.sent) {
      const reads = figure(r, 'articles_read', arm);
      expect(reads?.n).toBe(sent.readers);
      expect((reads?.value ?? 0) * sent.readers).toBeCloseTo(sent.reads, 9);
    }
    expect(r.srm.observed.reduce((a, b) => a + b, 0)).toBe(24);
  });

  it('refuses a clock moved backwards and an event it cannot store, naming it', async () => {
    await expect(target.setTime(SIM_T0)).rejects.toThrow(/now must not go backwards/);
    await expect(
      target.send([
        {
          type: 'read',
          schemaVersion: 1,
          eventId: 'bad-1',
          readerId: 'x',
          sessionId: 'y',
          timestamp: new Date(SIM_T0).toISOString(),
          articleId: 'a1',
          dwellMs: -5,
          scroll: 0.5,
        },
      ]),
    ).rejects.toThrow(/event bad-1 refused \(invalid_field at dwellMs\)/);
  });

  it('deploys on a placement that did not exist', async () => {
    await target.deployLive('sidebar', { kind: 'popular', version: '1' });
    await target.publish(simArticles(2, SIM_T0));
    const slate = await target.recommend({ placement: 'sidebar', readerId: 'r', sessionId: 's', articleId: 'a1' });
    expect(slate.experiment).toBeNull();
    expect(slate.items.length).toBeGreaterThan(0);
  });
});
