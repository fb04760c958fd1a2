import { describe, expect, it } from 'vitest';
import { TurnQueue } from '../../../src/adapters/http/turn-queue.js';

/** A scheduler the test drives: each scheduled turn waits in `pending` until `next()` runs it. */
function manual() {
  const pending: (() => void)[] = [];
  return {
    schedule: (f: () => void) => void pending.push(f),
    next: () => pending.shift()!(),
    get waiting() {
      return pending.length;
    },
  };
}

describe('TurnQueue: request work in arrival order, a few jobs a turn', () => {
  it('runs at most perTurn jobs a turn, in the order they came, and schedules one turn at a time', () => {
    const s = manual();
    const q = new TurnQueue(
      2,
      (e) => {
        throw e;
      },
      s.schedule,
    );
    const ran: number[] = [];
    for (let i = 0; i < 5; i++) q.run(() => ran.push(i));
    expect(s.waiting).toBe(1);
    expect(q.length).toBe(5);
    s.next();
    expect(ran).toEqual([0, 1]);
    // Work that arrives between turns (the poll) queues behind the jobs already waiting.
    q.run(() => ran.push(5));
    expect(s.waiting).toBe(1);
    s.next();
    expect(ran).toEqual([0, 1, 2, 3]);
    s.next();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.waiting).toBe(0);
    expect(q.length).toBe(0);
    // Empty again: the next job schedules a new turn.
    q.run(() => ran.push(6));
    expect(s.waiting).toBe(1);
    s.next();
    expect(ran.at(-1)).toBe(6);
  });

  it('reports a job that throws and goes on with the others', () => {
    const s = manual();
    const errors: unknown[] = [];
    const q = new TurnQueue(3, (e) => errors.push(e), s.schedule);
    const ran: string[] = [];
    q.run(() => ran.push('a'));
    q.run(() => {
      throw new Error('boom');
    });
    q.run(() => ran.push('c'));
    s.next();
    expect(ran).toEqual(['a', 'c']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
  });

  it('lets other callbacks run between its turns (setImmediate)', async () => {
    const q = new TurnQueue(1, (e) => {
      throw e;
    });
    const order: string[] = [];
    q.run(() => {
      order.push('job 1');
      // Something else the event loop has to do (I/O, a timer's work) while jobs wait.
      setImmediate(() => order.push('other'));
    });
    q.run(() => order.push('job 2'));
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['job 1', 'other', 'job 2']);
  });

  it('refuses a turn of no job', () => {
    expect(() => new TurnQueue(0, () => undefined)).toThrow(/perTurn must be a positive integer/);
  });
});
