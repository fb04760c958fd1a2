import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../src/app/group-commit.js';

describe('GroupCommitter', () => {
  it('merges batches submitted in the same turn into one commit and gives each caller its own outcomes', async () => {
    const commits: number[][] = [];
    const g = new GroupCommitter<number, string>(async (xs) => {
      commits.push(xs);
      return xs.map((x) => `ok${x}`);
    });
    const [a, b, c] = await Promise.all([g.submit([1, 2]), g.submit([3]), g.submit([4, 5, 6])]);
    expect(commits).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(a).toEqual(['ok1', 'ok2']);
    expect(b).toEqual(['ok3']);
    expect(c).toEqual(['ok4', 'ok5', 'ok6']);
  });

  it('queues work that arrives during a commit for the next commit, never overlapping two', async () => {
    let running = 0;
    let maxRunning = 0;
    const commits: number[][] = [];
    const g = new GroupCommitter<number, number>(async (xs) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      commits.push(xs);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return xs;
    });
    const first = g.submit([1]);
    await new Promise((r) => setTimeout(r, 5)); // 1 is committing now
    const later = [g.submit([2]), g.submit([3])];
    await Promise.all([first, ...later]);
    expect(commits).toEqual([[1], [2, 3]]);
    expect(maxRunning).toBe(1);
  });

  it('splits a backlog at maxItems without splitting a caller', async () => {
    const sizes: number[] = [];
    const g = new GroupCommitter<number, number>(async (xs) => {
      sizes.push(xs.length);
      return xs;
    }, 5);
    await Promise.all([g.submit([1, 2, 3]), g.submit([4, 5, 6]), g.submit([7])]);
    expect(sizes).toEqual([3, 4]);
  });

  it('rejects every caller of a failed commit, and keeps working afterwards', async () => {
    let fail = true;
    const g = new GroupCommitter<number, number>(async (xs) => {
      if (fail) throw new Error('disk full');
      return xs;
    });
    const results = await Promise.allSettled([g.submit([1]), g.submit([2])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await g.submit([3])).toEqual([3]);
  });

  it('close() commits what is queued and refuses new work', async () => {
    const seen: number[] = [];
    const g = new GroupCommitter<number, number>(async (xs) => {
      seen.push(...xs);
      return xs;
    });
    const p = g.submit([1, 2]);
    await g.close();
    expect(await p).toEqual([1, 2]);
    expect(seen).toEqual([1, 2]);
    await expect(g.submit([3])).rejects.toThrow(/closed/);
  });

  it('close() waits for a commit still waiting on I/O instead of spinning (PostgreSQL-like)', async () => {
    const g = new GroupCommitter<number, number>(async (xs) => {
      await new Promise((r) => setTimeout(r, 30));
      return xs;
    });
    const p = g.submit([1]);
    await new Promise((r) => setImmediate(r)); // the commit has started and waits on its "I/O"
    const q = g.submit([2]);
    await g.close();
    expect(await p).toEqual([1]);
    expect(await q).toEqual([2]);
  });

  it('runs up to maxInFlight commits at once when asked (PostgreSQL)', async () => {
    let running = 0;
    let maxRunning = 0;
    const g = new GroupCommitter<number, number>(
      async (xs) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return xs;
      },
      1,
      3,
    );
    const all = await Promise.all([1, 2, 3, 4, 5].map((x) => g.submit([x])));
    expect(all).toEqual([[1], [2], [3], [4], [5]]);
    expect(maxRunning).toBe(3);
  });
});
