/**
 * `readnext demo --fast` (issue 21) in process, as demo.test.ts, for what depends on the world:
 * the figures come from the simulated traffic (another seed moves them, the same seed repeats them),
 * and the null world ends with no detectable effect and no case for the model. Apart from
 * demo.test.ts so that the two files' stories run side by side. Each story takes 1-3 minutes (more
 * on a loaded 2-core machine): the time limits are guards against a hang, not targets.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_SCHEDULES, storyDays, type DemoStep } from '../../src/app/demo.js';
import { DAY_MS } from '../../src/core/kernel/time.js';
import { runDemo } from '../../src/main/demo.js';
import { tempDir } from '../helpers/databases.js';

const READERS = 3000;
const fast = DEMO_SCHEDULES.fast;
/** The story ends an hour ago, as in demo.test.ts. */
const startTs = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000 - storyDays(fast) * DAY_MS;

describe('the demo figures come from the simulated traffic', () => {
  /** The figures of a tiny story (300 readers) with `seed`: events, the heuristic's estimate, the shadow's overlap and hits (not its latency: wall time). */
  async function figures(seed: number): Promise<unknown[]> {
    const d = tempDir('readnext-demo-seed-');
    const run = await runDemo(
      { fast: true, live: false, dir: d.path, port: 0, catalog: 'none', readers: 300, seed, startTs },
      { print: () => undefined },
    );
    try {
      const at = (n: number): DemoStep => run.result!.steps.find((s) => s.step === n)!;
      const shadow = at(5).figures.shadow as { pairs: number; jaccard: number; shadowHitRate: number };
      return [at(1).figures.events, (at(4).figures as { estimate: number }).estimate, [shadow.pairs, shadow.jaccard, shadow.shadowHitRate]];
    } finally {
      await run.stop();
      d.remove();
    }
  }

  it('another seed gives other figures; the same seed the same', async () => {
    const [a, b, c] = [await figures(1), await figures(2), await figures(1)];
    expect(a).toEqual(c);
    for (let i = 0; i < a.length; i++) expect(b[i]).not.toEqual(a[i]);
  }, 360_000);
});

describe('readnext demo --world null', () => {
  it('ends with no detectable effect and an ROI that does not recommend the model', async () => {
    const d = tempDir('readnext-demo-null-');
    const lines: string[] = [];
    const run = await runDemo(
      { world: 'null', fast: true, live: false, dir: d.path, port: 0, catalog: 'none', readers: READERS, startTs },
      { print: (l) => lines.push(l) },
    );
    try {
      const at = (n: number) => run.result!.steps.find((s) => s.step === n)!;
      expect(at(4).lines.join('\n')).toMatch(/no detectable effect/);
      expect(run.result!.heuristicShipped).toBe(false);
      expect(run.result!.modelShipped).toBe(false);
      const roi = at(7).figures.roi as { best: string };
      expect(roi.best).not.toBe('model');
      expect(at(7).lines.join('\n')).not.toMatch(/decision: build the model/);
    } finally {
      await run.stop();
      d.remove();
    }
  }, 360_000);
});
