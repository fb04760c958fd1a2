import { describe, expect, it } from 'vitest';
import { ExposureLookup, type LookupTimers } from '../../src/app/exposure-lookup.js';
import { ExposureMemory } from '../../src/app/serving.js';

// The read-back's own rules with a database that is slow, failing or answering (a stand-in store:
// the real ones are exercised by test/main/exposure-scale-out.test.ts on SQLite and PostgreSQL).

/** Timers run by hand: `turn()` runs what `soon` queued, `elapse()` fires what `after` set. */
function manualTimers() {
  const soon: (() => void)[] = [];
  const timeouts: { f: () => void; cancelled: boolean }[] = [];
  const timers: LookupTimers = {
    soon: (f) => soon.push(f),
    after: (_ms, f) => {
      const t = { f, cancelled: false };
      timeouts.push(t);
      return () => (t.cancelled = true);
    },
  };
  return {
    timers,
    turn: () => soon.splice(0).forEach((f) => f()),
    elapse: () => timeouts.splice(0).forEach((t) => t.cancelled || t.f()),
  };
}

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

describe('ExposureLookup', () => {
  it('asks once for the misses of one turn, and fills the memory with arms and negatives', async () => {
    const asked: string[][] = [];
    const store = {
      exposuresOf: async (_e: string, ids: readonly string[]) => {
        asked.push([...ids]);
        return [
          { readerId: 'r1', arm: 'b', phase: 1 },
          { readerId: 'r1', arm: 'b', phase: 2 },
        ];
      },
    };
    const memory = new ExposureMemory(100);
    const t = manualTimers();
    const lookup = new ExposureLookup(store, memory, { maxWaitMs: 250, maxBatch: 500, maxPending: 100, concurrency: 2 }, t.timers);
    const waits = ['r1', 'r2', 'r1'].map((r) => lookup.lookup('e', r, 3, 1));
    expect(lookup.waiting).toBe(2);
    t.turn();
    await Promise.all(waits);
    expect(asked).toEqual([['r1', 'r2']]);
    expect(memory.recall('e', 'r1', 3, 1)).toMatchObject({ arm: 'b', phase: 1 });
    // None stored: known in this phase only (another process may expose the reader in the next one).
    expect(memory.recall('e', 'r2', 3, 1)).toBeNull();
    expect(memory.recall('e', 'r2', 4, 1)).toBeUndefined();
    expect(lookup.waiting).toBe(0);
  });

  it('lets the request go after the bounded wait when the database does not answer, and keeps the late answer', async () => {
    let answer!: (rows: { readerId: string; arm: string; phase: number }[]) => void;
    const store = { exposuresOf: () => new Promise<{ readerId: string; arm: string; phase: number }[]>((r) => (answer = r)) };
    const memory = new ExposureMemory(100);
    const t = manualTimers();
    const lookup = new ExposureLookup(store, memory, { maxWaitMs: 250, maxBatch: 500, maxPending: 100, concurrency: 2 }, t.timers);
    const wait = lookup.lookup('e', 'r1', 2, 1);
    t.turn();
    expect(await settled(wait)).toBe(false);
    t.elapse();
    expect(await settled(wait)).toBe(true);
    expect(lookup.counts.late).toBe(1);
    expect(memory.recall('e', 'r1', 2, 1)).toBeUndefined();
    answer([{ readerId: 'r1', arm: 'a', phase: 1 }]);
    await settled(Promise.resolve());
    expect(memory.recall('e', 'r1', 2, 1)).toMatchObject({ arm: 'a' });
  });

  it('reports a failing database once until it answers again; the readers stay unknown', async () => {
    let fail = true;
    const store = {
      exposuresOf: async () => {
        if (fail) throw new Error('down');
        return [];
      },
    };
    const errors: unknown[] = [];
    const memory = new ExposureMemory(100);
    const t = manualTimers();
    const lookup = new ExposureLookup(store, memory, { maxWaitMs: 250, maxBatch: 500, maxPending: 100, concurrency: 2 }, t.timers, (e) =>
      errors.push(e),
    );
    for (const r of ['r1', 'r2', 'r3']) {
      const w = lookup.lookup('e', r, 2, 1);
      t.turn();
      await w;
    }
    expect(errors).toHaveLength(1);
    expect(lookup.counts.failed).toBe(3);
    expect(memory.recall('e', 'r1', 2, 1)).toBeUndefined();
    fail = false;
    const w = lookup.lookup('e', 'r1', 2, 1);
    t.turn();
    await w;
    expect(memory.recall('e', 'r1', 2, 1)).toBeNull();
  });

  it('stops making requests wait after a late batch, and waits again once a batch answers in time', async () => {
    const answers: (() => void)[] = [];
    const store = { exposuresOf: () => new Promise<never[]>((r) => answers.push(() => r([]))) };
    const t = manualTimers();
    const lookup = new ExposureLookup(
      store,
      new ExposureMemory(100),
      { maxWaitMs: 250, maxBatch: 500, maxPending: 100, concurrency: 1 },
      t.timers,
    );
    // 1. A batch misses its wait.
    const first = lookup.lookup('e', 'r1', 2, 1);
    t.turn();
    t.elapse();
    await first;
    // 2. Degraded: a new reader does not wait, and its batch waits for the one query slot.
    expect(await settled(lookup.lookup('e', 'r2', 2, 1))).toBe(true);
    t.turn();
    expect(answers).toHaveLength(1);
    // 3. The first answer (late) frees the slot; the second batch then answers in time.
    answers.shift()!();
    await settled(Promise.resolve());
    t.turn();
    expect(answers).toHaveLength(1);
    answers.shift()!();
    await settled(Promise.resolve());
    // 4. Waiting again.
    const third = lookup.lookup('e', 'r3', 2, 1);
    expect(await settled(third)).toBe(false);
    t.turn();
    answers.shift()!();
    expect(await settled(third)).toBe(true);
  });

  it('does not queue more than maxPending readers: the others go on at once', async () => {
    const store = { exposuresOf: () => new Promise<never>(() => undefined) };
    const t = manualTimers();
    const lookup = new ExposureLookup(
      store,
      new ExposureMemory(100),
      { maxWaitMs: 250, maxBatch: 2, maxPending: 3, concurrency: 2 },
      t.timers,
    );
    for (const r of ['r1', 'r2', 'r3']) void lookup.lookup('e', r, 2, 1);
    expect(await settled(lookup.lookup('e', 'r4', 2, 1))).toBe(true);
    expect(lookup.counts.shed).toBe(1);
    expect(lookup.waiting).toBe(3);
  });
});

describe('ExposureMemory bounds', () => {
  it('never holds more than its capacity, and forgets the least recently used first', () => {
    const m = new ExposureMemory(10);
    for (let i = 0; i < 100; i++) {
      m.note('e', `r${i}`, 'a', 1);
      m.earlier('e', 'r0');
      expect(m.size).toBeLessThanOrEqual(10);
    }
    // r0, used at every step, is kept; r1 is long gone: its next note is a first exposure again.
    expect(m.earlier('e', 'r0')).toEqual({ arm: 'a', phase: 1, lastPhase: 1 });
    expect(m.note('e', 'r1', 'a', 1)).toBe(true);
  });

  it('tells an arm of an older assignment from one of the current one', () => {
    const m = new ExposureMemory(10);
    m.note('e', 'r', 'a', 1);
    // Phase 3 re-randomised (assignment from phase 3 on): phase 1's arm says nothing.
    expect(m.recall('e', 'r', 4, 3)).toBeUndefined();
    expect(m.recall('e', 'r', 2, 1)).toMatchObject({ arm: 'a', phase: 1 });
    // The same arm drawn again in phase 3 belongs to the new assignment.
    expect(m.note('e', 'r', 'a', 3, 3)).toBe(true);
    expect(m.recall('e', 'r', 4, 3)).toMatchObject({ arm: 'a', phase: 3 });
  });
});
