import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../scripts/build.mjs';
import { tempDir } from '../helpers/databases.js';
import { formatModelFaults, runModelFaults, storeFailingModels } from './model-faults.js';

// Issue 22: a model that fails to load and one whose scoring throws, live on a running server
// (model-faults.ts says how): every request falls back, none answers 5xx, each fault is counted.
const REQUESTS = 300;
const dir = tempDir('readnext-fault-model-');
beforeAll(async () => {
  await ensureBuilt();
}, 180_000);
afterAll(() => dir.remove());

describe('learned models that fail while live', () => {
  it('fall back through the placement chain, never answer 5xx, and count one fault per request', async () => {
    const db = `sqlite:${dir.path}/models.db`;
    const versions = await storeFailingModels(db);
    const r = await runModelFaults(db, versions, REQUESTS);
    console.log(formatModelFaults(r));
    expect(r.statuses).toEqual({ 200: 2 * REQUESTS });
    expect(r.wrong).toEqual([]);
    expect(r.perPlacement).toEqual({ 'model-corrupt': REQUESTS, 'model-throws': REQUESTS });
    expect(r.faultsCounted).toEqual(r.perPlacement);
    // The answers name the failing model as the recommender that was to serve (fallback flagged).
    expect(r.servedBy).toEqual({ 'model-corrupt': { model: REQUESTS }, 'model-throws': { model: REQUESTS } });
  }, 120_000);
});
