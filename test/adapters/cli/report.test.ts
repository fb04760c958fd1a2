import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/adapters/storage/open.js';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { runCliOn } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/databases.js';

const T = Date.parse('2026-11-25T12:00:00Z');
const dir = tempDir();
afterAll(() => dir.remove());
const db = `sqlite:${join(dir.path, 'report.db')}`;
const clock = fixedClock(T);

/** `readnext ARGS` in process, on the test's database and clock; stdout and stderr as strings. */
async function cli(...args: string[]) {
  const r = await runCliOn(db, clock, args);
  return { code: r.code, out: r.out.join('\n'), err: r.err.join('\n') };
}

/** A running experiment in its own layer, with `readers` per arm exposed at T + 1 s; `silent(arm, i)` readers send nothing. */
async function experiment(id: string, readers: [number, number], silent: (arm: string, i: number) => boolean = () => false) {
  const file = join(dir.path, `${id}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      id,
      placement: 'read-next',
      layer: id,
      arms: [
        { name: 'control', recommender: { kind: 'none', version: '1' } },
        { name: 'b', recommender: { kind: 'latest', version: '1' } },
      ],
    }),
  );
  expect((await cli('experiment', 'create', '--file', file)).code).toBe(0);
  clock.set(T);
  expect((await cli('experiment', 'start', id)).code).toBe(0);
  const s = await openStorage(db);
  try {
    const at = T + 1000;
    const exposures = (['control', 'b'] as const).flatMap((arm, k) =>
      Array.from({ length: readers[k]! }, (_, i) => ({
        experiment: id,
        phase: 1,
        arm,
        readerId: `${id}-${arm}-${i}`,
        hashVersion: 2,
        exposedTs: at,
        sessionId: `s-${id}-${arm}-${i}`,
        articleId: 'p1',
      })),
    );
    await s.appendExposures(exposures);
    const events = exposures
      .filter((x, i) => !silent(x.arm, i % Math.max(...readers)))
      .flatMap((x, i) => {
        const base = { readerId: x.readerId, sessionId: x.sessionId, clientTs: at + 10, receivedTs: at + 10 };
        return [
          { ...base, eventId: `${x.readerId}-pv`, type: 'page_view', articleId: 'p1', page: null, url: null, referrer: null },
          ...Array.from({ length: 1 + (i % 3) }, (_, j) => ({
            ...base,
            eventId: `${x.readerId}-r${j}`,
            type: 'read',
            articleId: `a${j}`,
            dwellMs: 20_000 + ((i * 37) % 9000),
            scroll: 1,
            recommId: null,
          })),
        ] as StoredEvent[];
      });
    await s.appendEvents(events);
  } finally {
    await s.close();
  }
  clock.set(T + 3_600_000);
}

describe('readnext experiment report: the decision, and "do not trust" in the text and the JSON alike', () => {
  it('prints the decision per arm and the metrics with their roles', async () => {
    await experiment('cli-ok', [300, 300]);
    const r = await cli('experiment', 'report', 'cli-ok');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^readers with a page view after exposure: control 100\.0% b 100\.0%; not run: every exposed reader sent a page view, nothing is lost$/m,
    );
    expect(r.out).toMatch(/^decision for b: KEEP RUNNING: no detectable effect on articles read per reader yet \(p = .*\): /m);
    expect(r.out).toMatch(
      /^primary articles_read; guardrails conversion, dwell_per_read \(one-sided at alpha 0\.05\); secondary ctr, pages_per_session, revenue_per_reader \(Holm-adjusted, do not decide\)$/m,
    );
    expect(r.out).toMatch(/^Articles read per reader \(primary\): control 2\.000, b 2\.000$/m);
    expect(r.out).not.toMatch(/DO NOT TRUST|ship it/);
  });

  it('an SRM flag: every verdict says "do not trust these results"', async () => {
    await experiment('cli-srm', [300, 200]);
    const text = await cli('experiment', 'report', 'cli-srm');
    expect(text.out).toMatch(
      /^DO NOT TRUST THESE RESULTS: sample ratio mismatch \(readers 300 vs 200 for weights 0\.5 vs 0\.5, p = .* < 0\.001\)$/m,
    );
    expect(text.out).toMatch(/^decision for b: UNTRUSTWORTHY: do not trust these results: sample ratio mismatch/m);
    const verdicts = text.out.split('\n').filter((l) => l.startsWith('  '));
    expect(verdicts).toHaveLength(6);
    for (const v of verdicts) expect(v).toBe('  do not trust these results (sample ratio mismatch)');
    const json = JSON.parse((await cli('experiment', 'report', 'cli-srm', '--json')).out);
    expect(json.trust.map((t: { code: string }) => t.code)).toEqual(['srm']);
    expect(json.decisions).toEqual([
      { arm: 'b', decision: 'untrustworthy', sentence: expect.stringMatching(/^do not trust these results: sample ratio mismatch/) },
    ]);
  });

  it("one-sided data loss (a fifth of b's readers send nothing) is flagged though SRM passes", async () => {
    await experiment('cli-loss', [300, 300], (arm, i) => arm === 'b' && i % 5 === 0);
    const json = JSON.parse((await cli('experiment', 'report', 'cli-loss', '--json')).out);
    expect(json.srm.flag).toBe(false);
    expect(json.dataQuality.activeShare).toMatchObject({
      flag: true,
      arms: [
        { arm: 'control', n: 300, active: 300, share: 1 },
        { arm: 'b', n: 300, active: 240, share: 0.8 },
      ],
    });
    expect(json.decisions[0].decision).toBe('untrustworthy');
    const text = await cli('experiment', 'report', 'cli-loss');
    expect(text.out).toMatch(
      /^readers with a page view after exposure: control 100\.0% b 80\.0%; p = .* \(ONE-SIDED DATA LOSS: do not trust the results\)$/m,
    );
    expect(text.out).toMatch(/^decision for b: UNTRUSTWORTHY: do not trust these results: one-sided data loss/m);
  });
});

describe('readnext experiment weights', () => {
  it('warns that changing weights without re-randomising breaks the new phase, and the report says so for that phase', async () => {
    await experiment('cli-w', [200, 200]);
    const changed = await cli('experiment', 'weights', 'cli-w', '--weights', '0.2,0.8');
    expect(changed.code).toBe(0);
    expect(changed.out).toMatch(/^experiment cli-w: phase 2, weights 0\.2,0\.8, coverage 1$/m);
    expect(changed.out).toMatch(
      /^warning: phase 2 has weights 0\.2,0\.8 where phase 1 had 0\.5,0\.5, without re-randomising: .*--re-randomise/m,
    );
    clock.advance(3_600_000);
    const report = JSON.parse((await cli('experiment', 'report', 'cli-w', '--json')).out);
    expect(report.phase).toBe(2);
    expect(report.trust.map((t: { code: string }) => t.code)).toContain('unbalanced_phase');
    expect(report.decisions[0].decision).toBe('untrustworthy');
    // Phase 1 is unaffected; re-randomising gives no warning.
    expect(JSON.parse((await cli('experiment', 'report', 'cli-w', '--json', '--phase', '1')).out).trust).toEqual([]);
    const again = await cli('experiment', 'weights', 'cli-w', '--weights', '0.5,0.5', '--re-randomise');
    expect(again.out).not.toMatch(/warning/);
  });
});
