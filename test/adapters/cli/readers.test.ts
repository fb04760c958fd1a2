import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { openServices } from '../../../src/main/services.js';
import { runCliOn } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/databases.js';
import { click, pageView, read, T0 } from '../../helpers/events.js';

const dir = tempDir();
afterAll(() => dir.remove());
const db = `sqlite:${join(dir.path, 'readers.db')}`;
const clock = fixedClock(T0);

/** `readnext ARGS --db DB` in process; stdout as one string. */
async function cli(...args: string[]) {
  const r = await runCliOn(db, clock, args);
  return { ...r, out: r.out.join('\n') };
}

beforeAll(async () => {
  const s = await openServices(loadConfig({ db, logLevel: 'silent' }, {}), { clock });
  try {
    for (const readerId of ['r-gone', 'r-kept']) {
      const o = { readerId, sessionId: `s-${readerId}` };
      await s.collector.ingest([pageView(T0 - 3000, o), click(T0 - 2000, o), read(T0 - 1000, o)], true);
    }
  } finally {
    await s.close();
  }
});

describe('readnext reader', () => {
  it("export prints the reader's data as JSON", async () => {
    const r = await cli('reader', 'export', 'r-gone');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out);
    expect(body.readerId).toBe('r-gone');
    expect(body.events.map((e: { type: string }) => e.type)).toEqual(['page_view', 'click', 'read']);
  });

  it('forget says what it removed; a second forget exits 2 with one line', async () => {
    const r = await cli('reader', 'forget', 'r-gone');
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out).toBe(
      'forgot reader "r-gone": 3 events, 0 exposures, 0 serve records, 0 reader days, 0 exposure sessions, 0 unpriced revenue rows deleted (erasure 1)',
    );
    const again = await cli('reader', 'forget', 'r-gone', '--json');
    expect(again.code).toBe(2);
    expect(again.err).toEqual(['readnext: no data stored for reader "r-gone"']);
    const kept = await cli('reader', 'export', 'r-kept');
    expect(JSON.parse(kept.out).events).toHaveLength(3);
  });

  it('a bad id: exit 2 and one line naming it', async () => {
    for (const cmd of ['forget', 'export']) {
      const r = await cli('reader', cmd, 'x'.repeat(129));
      expect(r.code).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/^readnext: "id" must be a reader id of 1 to 128 characters/);
    }
  });
});
