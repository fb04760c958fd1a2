import { describe, expect, it } from 'vitest';
import { AnalysisRollups } from '../../src/app/rollups.js';
import { fixedClock } from '../../src/core/kernel/clock.js';

/** A pass that repaired a copied cursor or watermark (issue 22) says so in its progress: logged by the chain, once per pass that did it. */
describe('AnalysisRollups: what a pass repaired', () => {
  it('logs the notice of the pass that re-anchored, and nothing for the others', async () => {
    let pass = 0;
    const store = {
      async advanceRollups() {
        pass++;
        return pass === 1
          ? { events: 5, throughTs: 1000, caughtUp: false, notice: 'PostgreSQL rollups: re-anchored' }
          : { events: 1, throughTs: 2000, caughtUp: pass >= 3 };
      },
    };
    const logged: string[] = [];
    const r = new AnalysisRollups(store, { listExperiments: () => [] }, fixedClock(5000), { lagMs: 0, batchEvents: 10 }, (m) =>
      logged.push(m),
    );
    expect(await r.catchUp()).toEqual({ events: 7, throughTs: 2000, caughtUp: true });
    await r.catchUp();
    expect(logged).toEqual(['PostgreSQL rollups: re-anchored']);
  });
});
