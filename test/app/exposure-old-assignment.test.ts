import { describe, expect, it } from 'vitest';
import { ExposureLookup, type LookupTimers } from '../../src/app/exposure-lookup.js';
import { ExposureMemory } from '../../src/app/serving.js';

/** `soon` runs on the next microtask; the bounded wait never fires (the store answers first). */
const timers: LookupTimers = { soon: (f) => queueMicrotask(f), after: () => () => undefined };

describe('a read-back that finds nothing for a reader remembered from an older assignment', () => {
  // Phase 1 exposed the reader in arm a; phase 2 re-randomised (a new assignment from phase 2 on)
  // and the reader did not come back until phase 3. The database holds nothing from phase 2 on.
  it('leaves the reader known as new to this assignment, so they are not looked up on every request', async () => {
    let queries = 0;
    const store = {
      exposuresOf: async () => {
        queries++;
        return [];
      },
    };
    const memory = new ExposureMemory(100);
    memory.note('e', 'r1', 'a', 1);
    expect(memory.recall('e', 'r1', 3, 2)).toBeUndefined();
    const lookup = new ExposureLookup(store, memory, { maxWaitMs: 250, maxBatch: 500, maxPending: 100, concurrency: 2 }, timers);
    await lookup.lookup('e', 'r1', 3, 2);
    expect(queries).toBe(1);
    // Known now: no exposure of this assignment (serving draws the arm and writes the exposure).
    expect(memory.recall('e', 'r1', 3, 2)).toBeNull();
  });

  it('keeps an exposure of the current assignment made while the lookup ran', () => {
    const memory = new ExposureMemory(100);
    memory.note('e', 'r1', 'b', 3, 2);
    memory.recalled('e', 'r1', 3, [], 2);
    expect(memory.recall('e', 'r1', 3, 2)).toMatchObject({ arm: 'b', phase: 3 });
  });
});
