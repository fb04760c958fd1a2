import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SignalLog, type Signal } from '../../../src/core/recommend/signals.js';

const sig = (readerId: string, articleId: string, ts: number): Signal => ({ kind: 'read', readerId, articleId, ts });

describe('SignalLog interning is bounded by the ring', () => {
  it('holds at most twice its capacity of ids however many distinct readers pass', () => {
    const log = new SignalLog(1000);
    for (let i = 0; i < 100_000; i++) {
      log.push(sig(`reader-${i}`, `a${i % 50}`, i));
      if (i % 997 === 0) expect(log.interned).toBeLessThanOrEqual(2000);
    }
    // The last 1,000 readers and the 50 articles.
    expect(log.interned).toBe(1050);
    expect([...log].map((s) => s.readerId)).toEqual(Array.from({ length: 1000 }, (_, j) => `reader-${99_000 + j}`));
  });

  it('gives back what was pushed, in order, through pushes, wraps and erasures (against a plain list)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.array(
          fc.oneof(
            fc.tuple(fc.constant('push' as const), fc.nat(6), fc.nat(4)),
            fc.tuple(fc.constant('forget' as const), fc.nat(6), fc.nat(4)),
          ),
          {
            maxLength: 80,
          },
        ),
        (capacity, ops) => {
          const log = new SignalLog(capacity);
          let model: Signal[] = [];
          let ts = 0;
          for (const [op, r, a] of ops) {
            if (op === 'push') {
              const s = sig(`r${r}`, `a${a}`, ts++);
              log.push(s);
              model.push(s);
              if (model.length > capacity) model.shift();
            } else {
              log.forgetReaders((id) => id === `r${r}`);
              model = model.filter((s) => s.readerId !== `r${r}` && s.articleId !== `r${r}`);
            }
            expect([...log]).toEqual(model);
            const held = new Set(model.flatMap((s) => [s.readerId, s.articleId]));
            expect(new Set(log.internedIds())).toEqual(held);
          }
        },
      ),
    );
  });
});
