import { describe, expect, it } from 'vitest';
import { reportRollups } from '../../src/app/analysis.js';

describe('reportRollups: how long a server lets a report catch the rollups up', () => {
  const fake = () => {
    const calls: { maxMs?: number }[] = [];
    const money = { currency: 'USD', rates: {} };
    return {
      calls,
      rollups: { money, catchUp: async (o: { maxMs?: number } = {}) => (calls.push(o), { events: 0, throughTs: 1, caughtUp: true }) },
    };
  };

  it('bounds every catch-up by the configured time, or a shorter one the caller asks for, and keeps the currency', async () => {
    const { calls, rollups } = fake();
    const r = reportRollups(rollups, 5000);
    await r.catchUp({});
    await r.catchUp({ maxMs: 100 });
    await r.catchUp({ maxMs: 60_000 });
    expect(calls).toEqual([{ maxMs: 5000 }, { maxMs: 100 }, { maxMs: 5000 }]);
    expect(r.money).toEqual({ currency: 'USD', rates: {} });
  });
});
