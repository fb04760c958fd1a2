import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecRequest } from '../../src/app/serving.js';
import { ExposureMemory } from '../../src/app/serving.js';
import { loadConfig } from '../../src/config/config.js';
import { fixedClock } from '../../src/core/kernel/clock.js';
import { openServices, type Services } from '../../src/main/services.js';
import { T0 } from '../helpers/events.js';

// A re-randomised phase starts a new assignment: an exposure this process makes in it must count
// as one of that assignment, also when the reader draws the arm they had before.

const EXP = 'new-assignment';
const READERS = Array.from({ length: 200 }, (_, i) => `na-reader-${i}`);
const actor = { actor: 'test', reason: 'new assignment' };
const req = (readerId: string): RecRequest => ({ placement: 'read-next', articleId: null, readerId, sessionId: null, k: 3, optOut: false });

describe('exposures of a re-randomised phase', () => {
  let s: Services;
  beforeAll(async () => {
    s = await openServices(
      loadConfig({ db: 'sqlite::memory:', adminKey: 'na-admin-key', ingestKey: 'na-ingest-key', logLevel: 'silent' }, {}),
      {
        clock: fixedClock(T0),
      },
    );
    await s.deployments.createExperiment(
      {
        id: EXP,
        placement: 'read-next',
        arms: [
          { name: 'control', recommender: { kind: 'none', version: '1' } },
          { name: 'treatment', recommender: { kind: 'latest', version: 'na' } },
        ],
      },
      actor,
    );
    await s.deployments.startExperiment(EXP, actor);
    // 1. Phase 1 exposes every reader; 2. phase 2 re-randomises, and exposes them again.
    for (const r of READERS) expect(s.recommendations.recommend(req(r))).toMatchObject({ experiment: EXP, phase: 1 });
    await s.deployments.changeExperiment(EXP, { reRandomise: true }, actor);
    await s.placements.refresh();
    for (const r of READERS) expect(s.recommendations.recommend(req(r))).toMatchObject({ experiment: EXP, phase: 2 });
    // 3. Phase 3 changes the weights only: phase 2's assignment goes on.
    await s.deployments.changeExperiment(EXP, { weights: [0.3, 0.7] }, actor);
    await s.placements.refresh();
  }, 60_000);
  afterAll(async () => s?.close());

  it('needs no read-back in phase 3 for a reader this process exposed in phase 2', () => {
    const asked = READERS.filter((r) => s.recommendations.prepare(req(r)) !== undefined);
    expect(asked).toEqual([]);
  });
});

describe('a read-back that finds nothing while this process exposed the reader in the assignment', () => {
  it('keeps the arm this process gave (its exposure may not be written yet)', () => {
    const memory = new ExposureMemory(100);
    memory.note('e', 'r1', 'a', 1);
    // Phase 2 re-randomised and drew the same arm; phase 3 continues its assignment (from 2).
    memory.note('e', 'r1', 'a', 2);
    memory.recalled('e', 'r1', 3, [], 2);
    expect(memory.recall('e', 'r1', 3, 2)).not.toBeNull();
  });
});
