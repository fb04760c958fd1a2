import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/adapters/storage/open.js';
import type { StoredEvent } from '../../../src/core/events/schema.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { syntheticArticle } from '../../../src/core/simulate/synthetic.js';
import { runCliOn } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/databases.js';

const DAY = 86_400_000;
const S = Date.UTC(2026, 2, 1);
const dir = tempDir();
afterAll(() => dir.remove());
const db = `sqlite:${join(dir.path, 'data.db')}`;
const clock = fixedClock(S + 3 * DAY);

/** `readnext ARGS` in process, on the test's database and clock. */
async function cli(...args: string[]) {
  const r = await runCliOn(db, clock, args);
  return { ...r, out: r.out.join('\n') };
}

beforeAll(async () => {
  const s = await openStorage(db);
  try {
    await s.upsertArticles([syntheticArticle('a1', 'world', S), syntheticArticle('a2', 'sport', S)], S);
    const events: StoredEvent[] = [];
    for (let d = 0; d < 3; d++)
      for (let i = 0; i < 20; i++) {
        const ts = S + d * DAY + i * 60_000;
        const common = { readerId: `r${i % 5}`, sessionId: `s${i}`, clientTs: ts, receivedTs: ts + 200 };
        events.push({
          ...common,
          type: 'impression',
          eventId: `i-${d}-${i}`,
          recommId: `rc-${d}-${i}`,
          placement: 'read-next',
          articleId: null,
          items: [{ articleId: 'a1', position: 1, team: null }],
          experiment: null,
          phase: null,
          arm: null,
          hashVersion: null,
          recommender: null,
          shadow: false,
        });
        if (i % 4 === 0)
          events.push({
            ...common,
            type: 'click',
            eventId: `c-${d}-${i}`,
            recommId: `rc-${d}-${i}`,
            articleId: 'a1',
            position: 1,
            placement: 'read-next',
          });
        events.push({
          ...common,
          type: 'read',
          eventId: `r-${d}-${i}`,
          articleId: i % 2 ? 'a1' : 'a2',
          dwellMs: 1000,
          scroll: 1,
          recommId: null,
        });
      }
    await s.appendEvents(events);
  } finally {
    await s.close();
  }
});

describe('readnext data report', () => {
  it('prints short sections with figures and alerts', async () => {
    const r = await cli('data', 'report', '--since', '2026-03-01', '--until', '2026-03-04');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^data report 2026-03-01T00:00:00.000Z \.\. 2026-03-04T00:00:00.000Z \(3 days\)/);
    expect(r.out).toContain('quality');
    expect(r.out).toMatch(/events +135 \(impression 60, read 60, click 15\)/);
    expect(r.out).toMatch(/clicks without an impression +0 of 15/);
    expect(r.out).toMatch(/clock skew .*median 200 ms, p99 200 ms over 135 events/);
    expect(r.out).toContain('0 events dropped by the bot filter (a User-Agent on the bot list), 0.0% of the events sent');
    expect(r.out).toMatch(/2026-03-02 +ctr read-next 25\.0% of 20; reads 20 by 5 readers \(4\.00 each\)/);
    expect(r.out).toContain('fewer than 1000 examples in a half: the figures are shown, without alerts');
    expect(r.out).toContain('model decay: no model of read-next in the registry');
    expect(r.out).toMatch(/alerts: 0$/);
  });

  it('--json prints the report, with its signal part', async () => {
    const r = await cli('data', 'report', '--since', '2026-03-01', '--until', '2026-03-04', '--placement', 'read-next', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    // A handful of impressions: the signal part runs and says it cannot tell (app/data-signal.ts).
    expect(j.signal).toMatchObject({ placement: 'read-next', verdict: expect.stringMatching(/^no detectable signal/) });
    expect(j.window).toEqual({ sinceTs: S, untilTs: S + 3 * DAY, placement: 'read-next' });
    expect(j.quality.events).toBe(135);
    expect(j.stability.days).toHaveLength(3);
    expect(j.stability.features.placement).toBe('read-next');
  });

  it('defaults to the 14 days before now', async () => {
    const j = JSON.parse((await cli('data', 'report', '--json')).out);
    expect(j.window).toMatchObject({ sinceTs: S - 11 * DAY, untilTs: S + 3 * DAY });
  });

  it.each([
    [['--since', 'yesterday'], /^readnext: since must be a day \(2026-03-01, UTC\) or an ISO 8601 time with a zone$/],
    [['--since', '2026-02-30'], /since must be .*2026-02-30 does not exist/],
    [['--since', '2026-03-04', '--until', '2026-03-01'], /^readnext: the report window is empty: until must be after since$/],
    [['--since', '2025-01-01', '--until', '2026-03-01'], /longer than 92 days/],
    [['--nope'], /^readnext: unknown option '--nope'$/],
  ])('bad input %j: exit code 2 and one line', async (args, message) => {
    const r = await cli('data', 'report', ...args);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
  });
});
