import { describe, expect, it } from 'vitest';
import { RecentMap } from '../../../src/core/kernel/recent-map.js';
import { FeatureState } from '../../../src/core/ml/features.js';
import { FreshState } from '../../../src/core/recommend/fresh-state.js';
import { SignalLog, type Signal } from '../../../src/core/recommend/signals.js';

const sig = (readerId: string, articleId: string, ts: number, kind: Signal['kind'] = 'read'): Signal => ({ kind, readerId, articleId, ts });

describe('forgetting readers in memory', () => {
  it("SignalLog drops the readers' signals across the ring's wrap, keeps the others in order, and takes more after", () => {
    const log = new SignalLog(5);
    // 7 pushes into 5 slots: the ring has wrapped, holding ts 3..7.
    for (let i = 1; i <= 7; i++) log.push(sig(i % 2 === 0 ? 'gone' : `r${i}`, `a${i}`, i));
    expect(log.forgetReaders((r) => r === 'gone')).toBe(2);
    expect([...log].map((s) => s.ts)).toEqual([3, 5, 7]);
    expect([...log.internedIds()]).not.toContain('gone');
    for (let i = 8; i <= 10; i++) log.push(sig(`r${i}`, `a${i}`, i));
    expect([...log].map((s) => `${s.readerId}:${s.articleId}:${s.ts}`)).toEqual(['r5:a5:5', 'r7:a7:7', 'r8:a8:8', 'r9:a9:9', 'r10:a10:10']);
    expect(log.forgetReaders(() => false)).toBe(0);
  });

  it('RecentMap.deleteWhere removes from both generations', () => {
    const m = new RecentMap<string, number>(6);
    for (const k of ['a', 'b', 'c', 'd']) m.set(k, 1); // 'a', 'b', 'c' are in the old generation, 'd' in the young one
    expect(m.deleteWhere((k) => k === 'a' || k === 'd')).toBe(2);
    expect([...m.keys()].sort()).toEqual(['b', 'c']);
  });

  it('FreshState: histories, counters built later and observers forget; aggregates keep the past reads', () => {
    const state = new FreshState({ signalCapacity: 100, maxReaders: 100, historyPerReader: 10 });
    const features = state.observer('f', () => new FeatureState(state.catalog));
    for (const [i, r] of ['gone', 'kept', 'gone', 'kept'].entries()) state.add(sig(r, i < 2 ? 'a1' : 'a2', 1000 + i));
    state.addImpression('gone', ['a3'], 2000);
    const pop = state.popularity(3_600_000, { read: 1, click: 1, view: 1 });
    const before = pop.score('a1', 3000);
    expect(state.forgetReaders((r) => r === 'gone')).toBe(1);
    expect(state.history('gone')).toEqual([]);
    expect(state.history('kept')).toEqual(['a2', 'a1']);
    expect(features.history('gone')).toEqual([]);
    expect(new Set(state.readerIds())).not.toContain('gone');
    // Popularity is an aggregate: the reader's past reads stay in it.
    expect(pop.score('a1', 3000)).toBe(before);
    // A counter created after the erasure is built from the log without the reader.
    const co = state.coVisitation({ halfLifeMs: 3_600_000, windowMs: 3_600_000, lookback: 5, maxNeighbours: 5 });
    expect([...co.readerIds()]).toEqual(['kept']);
    expect(co.co('a1', 'a2', 3000)).toBeGreaterThan(0);
  });
});
