import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecRequest, RecResponse } from '../../src/app/serving.js';
import { loadConfig } from '../../src/config/config.js';
import { assignArm } from '../../src/core/experiments/experiment.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { createApp } from '../../src/adapters/http/app.js';
import { appDeps, openServices, type Services } from '../../src/main/services.js';
import { BACKENDS } from '../helpers/databases.js';
import { T0 } from '../helpers/events.js';

// Several processes on one database (src/app/exposure-lookup.ts): a reader keeps the arm another
// process gave them in an earlier phase, and a process whose exposure memory holds 1,000 readers
// serves 10,000 of them correctly by reading evicted ones back. Numbered comments give the order.

const EXP = 'scale-out';
const READERS = Array.from({ length: 10_000 }, (_, i) => `so-reader-${i}`);
const actor = { actor: 'test', reason: 'scale-out' };
const req = (readerId: string): RecRequest => ({
  placement: 'read-next',
  articleId: null,
  readerId,
  sessionId: null,
  k: 3,
  optOut: false,
});

/** As the HTTP route serves: the read-back first when needed, then the synchronous recommend. */
async function serve(s: Services, readerId: string): Promise<RecResponse> {
  await s.recommendations.prepare(req(readerId));
  return s.recommendations.recommend(req(readerId));
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`arms across phases and processes (${backend.name})`, () => {
    let cleanup: () => Promise<void>;
    let a: Services;
    let b: Services;
    /** A process whose exposure memory holds 1,000 entries. */
    let c: Services;
    const phase1 = new Map<string, string>();
    let base: Parameters<typeof loadConfig>[0];

    beforeAll(async () => {
      const db = await backend.create();
      cleanup = db.cleanup;
      base = {
        db: db.url,
        adminKey: 'so-admin-key-0123456789abcdef',
        ingestKey: 'so-ingest-key-0123456789abcdef',
        logLevel: 'silent' as const,
      };
      const clock = fixedClock(T0);
      // 1. Three processes start before the experiment exists: none of them loads its exposures at start.
      a = await openServices(loadConfig(base, {}), { clock });
      b = await openServices(loadConfig(base, {}), { clock });
      c = await openServices(loadConfig(base, { READNEXT_READER_MEMORY_MAX: '1000' }), { clock });
      expect(c.exposures.capacity).toBe(1000);
      await a.deployments.createExperiment(
        {
          id: EXP,
          placement: 'read-next',
          arms: [
            { name: 'control', recommender: { kind: 'none', version: '1' } },
            { name: 'treatment', recommender: { kind: 'latest', version: 'so' } },
          ],
        },
        actor,
      );
      await a.deployments.startExperiment(EXP, actor);
      for (const s of [b, c]) await s.placements.refresh();
      // 2. Phase 1: A alone exposes every reader.
      for (const r of READERS) {
        const res = await serve(a, r);
        expect(res).toMatchObject({ experiment: EXP, phase: 1 });
        phase1.set(r, res.arm!);
      }
      await a.recordWriter.flush();
      // 3. Phase 2 changes the weights without re-randomising: every reader must keep their arm.
      await a.deployments.changeExperiment(EXP, { weights: [0.1, 0.9] }, actor);
      for (const s of [b, c]) await s.placements.refresh();
    }, 120_000);

    afterAll(async () => {
      for (const s of [a, b, c]) await s?.close();
      await cleanup?.();
    });

    it('the test can fail: hashing alone would move readers to another arm in phase 2', () => {
      const exp = c.placements.listExperiments().find((e) => e.experiment.id === EXP)!.experiment;
      expect(exp.phase).toBe(2);
      const moved = READERS.filter((r) => assignArm(exp, r)!.name !== phase1.get(r)).length;
      expect(moved).toBeGreaterThan(1000);
    });

    it('4. B, started before A exposed them, gives readers their phase-1 arm in phase 2', async () => {
      for (const r of READERS.slice(0, 300)) {
        const res = await serve(b, r);
        expect(res).toMatchObject({ experiment: EXP, phase: 2, arm: phase1.get(r) });
      }
    });

    it('5. a request not prepared for serves the live recommender, writes no exposure, and asks the database for the next one', async () => {
      const r = READERS[300]!;
      const unresolved = b.recommendations.counters.armsUnresolved;
      const before = b.recommendations.recommend(req(r));
      expect(before).toMatchObject({ experiment: null, arm: null });
      expect(b.recommendations.counters.armsUnresolved).toBe(unresolved + 1);
      await b.recordWriter.flush();
      const stored = await b.storage.exposuresOf(EXP, [r], 1);
      expect(stored).toEqual([{ readerId: r, arm: phase1.get(r), phase: 1 }]);
      await serve(b, r).then((res) => expect(res).toMatchObject({ experiment: EXP, phase: 2, arm: phase1.get(r) }));
    });

    it('5b. the HTTP route waits for the read-back: readers new to B keep their arm at their first request', async () => {
      const app = await createApp(appDeps(b));
      try {
        for (const r of READERS.slice(301, 341)) {
          const res = await app.inject({ method: 'GET', url: `/v1/recommendations?placement=read-next&reader=${r}&k=3` });
          expect(res.statusCode).toBe(200);
          expect(res.json()).toMatchObject({ experiment: EXP, phase: 2, arm: phase1.get(r) });
        }
      } finally {
        await app.close();
      }
    });

    it('6. C, holding 1,000 readers at most, keeps the arm of all 10,000, twice over', async () => {
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < READERS.length; i += 500) {
          // Concurrent requests: the misses of one turn are looked up together.
          const got = await Promise.all(READERS.slice(i, i + 500).map((r) => serve(c, r)));
          got.forEach((res, j) => expect(res).toMatchObject({ experiment: EXP, phase: 2, arm: phase1.get(READERS[i + j]!) }));
          expect(c.exposures.size).toBeLessThanOrEqual(1000);
        }
      }
      for (const s of [b, c]) await s.recordWriter.flush();
      // One phase-2 exposure per reader, with the arm of phase 1, whichever process wrote it.
      const stored = (await c.storage.listExposures(EXP)).filter((e) => e.phase === 2);
      expect(stored).toHaveLength(READERS.length);
      for (const e of stored) expect(e.arm).toBe(phase1.get(e.readerId));
    }, 120_000);

    it('7. a process starting now preloads the latest exposures, no more than it holds, and reads the others back', async () => {
      const d = await openServices(loadConfig(base, { READNEXT_READER_MEMORY_MAX: '1000' }), { clock: fixedClock(T0) });
      try {
        expect(d.exposures.size).toBeGreaterThan(0);
        expect(d.exposures.size).toBeLessThanOrEqual(1000);
        for (const r of READERS.slice(0, 1000)) expect(await serve(d, r)).toMatchObject({ phase: 2, arm: phase1.get(r) });
      } finally {
        await d.close();
      }
    });

    it('8. a re-randomised phase draws arms afresh, and the next phase keeps those, in every process', async () => {
      await a.deployments.changeExperiment(EXP, { reRandomise: true }, actor);
      for (const s of [b, c]) await s.placements.refresh();
      const phase3 = new Map<string, string>();
      for (const r of READERS.slice(0, 400)) phase3.set(r, (await serve(b, r)).arm!);
      await b.recordWriter.flush();
      expect([...phase3].filter(([r, arm]) => arm !== phase1.get(r)).length).toBeGreaterThan(0);
      await a.deployments.changeExperiment(EXP, { weights: [0.9, 0.1] }, actor);
      for (const s of [b, c]) await s.placements.refresh();
      for (const r of READERS.slice(0, 400)) expect(await serve(c, r)).toMatchObject({ phase: 4, arm: phase3.get(r) });
    }, 60_000);
  });
}
