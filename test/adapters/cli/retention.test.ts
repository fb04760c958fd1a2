import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/adapters/cli/program.js';
import { DAY_MS } from '../../../src/app/retention.js';
import { loadConfig } from '../../../src/config/config.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { cliDeps } from '../../../src/main/cli-deps.js';
import { openServices } from '../../../src/main/services.js';
import { tempDir } from '../../helpers/databases.js';
import { pageView, read, T0 } from '../../helpers/events.js';

const dir = tempDir();
afterAll(() => dir.remove());
const db = `sqlite:${join(dir.path, 'retention.db')}`;
const clock = fixedClock(T0 - 40 * DAY_MS);

/** `readnext ARGS --db DB` in process, with the environment `env`. */
async function cli(env: Record<string, string>, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(cliDeps({ out: (l) => out.push(l), err: (l) => err.push(l), isTty: false, clock, env }), [...args, '--db', db]);
  return { code, out: out.join('\n'), err };
}

beforeAll(async () => {
  const s = await openServices(loadConfig({ db, logLevel: 'silent' }, {}), { clock });
  try {
    const o = { readerId: 'r1', sessionId: 's1' };
    await s.collector.ingest([pageView(T0 - 40 * DAY_MS, o), read(T0 - 40 * DAY_MS + 1000, o)], true);
    clock.set(T0);
    await s.collector.ingest([pageView(T0 - 1000, o)], true);
    await s.rollups.catchUp();
  } finally {
    await s.close();
  }
});

describe('readnext retention run', () => {
  it('says nothing is deleted when no retention is set', async () => {
    const r = await cli({}, 'retention', 'run');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/everything is kept/);
  });

  it('deletes the events and prints what it deleted, then nothing more', async () => {
    const env = { READNEXT_RETENTION_DAYS: '30' };
    const r = await cli(env, 'retention', 'run');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `retention 30 days: deleted 2 events received and 0 serve records served before ${new Date(T0 - 30 * DAY_MS).toISOString()}`,
    );
    expect(JSON.parse((await cli(env, 'retention', 'run', '--json')).out)).toEqual({
      days: 30,
      events: 0,
      serves: 0,
      beforeTs: T0 - 30 * DAY_MS,
    });
  });

  it('refuses a retention shorter than the warm-up replay, naming the variable', async () => {
    const r = await cli({ READNEXT_RETENTION_DAYS: '3' }, 'retention', 'run');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/READNEXT_RETENTION_DAYS/);
  });
});
