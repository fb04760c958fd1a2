import { describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/adapters/storage/open.js';
import { postgresTuning } from '../../../src/adapters/storage/postgres.js';
import { SQLITE_TUNING } from '../../../src/adapters/storage/sqlite.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';

describe('the opened storage', () => {
  it('is the ports and its tuning, with the Kysely instance reachable by tests only', async () => {
    const s = await openStorage('sqlite::memory:');
    try {
      expect(s.dialect).toBe('sqlite');
      expect(s.tuning).toBe(SQLITE_TUNING);
      expect('db' in s).toBe(false);
      await kyselyOf(s)
        .insertInto('access_keys')
        .values({ id: 'admin', name: 'admin', scopes: 'admin', key_hash: 'h', prefix: null, created_ts: 1, revoked_ts: null })
        .execute();
      expect((await s.listKeys()).map((k) => k.hash)).toEqual(['h']);
      // A wrapper over it (test/main/warm-start.test.ts) reaches the same database.
      expect(kyselyOf(Object.create(s) as typeof s)).toBe(kyselyOf(s));
      expect(() => kyselyOf({} as typeof s)).toThrow(/not a storage opened by openStorage/);
    } finally {
      await s.close();
    }
  });
});

describe('dialect tuning', () => {
  it('SQLite: one commit at a time, uncapped; small adaptive rollup passes; no rollup lag needed', () => {
    expect(SQLITE_TUNING.commits).toEqual({ maxEvents: Number.POSITIVE_INFINITY, parallel: 1 });
    expect(SQLITE_TUNING.rollups).toMatchObject({
      batchEvents: 1000,
      adaptive: { targetMs: 100, min: 500, max: 50_000, behind: { ms: 60_000, targetMs: 500 } },
      backgroundShare: 0.2,
      minLag: { ms: 0 },
    });
  });

  it('PostgreSQL: commits of at most 2,000 events, in parallel on all but two connections of the pool; larger rollup passes in a backlog; a lag of at least 1 s', () => {
    expect(postgresTuning(10).commits).toEqual({ maxEvents: 2000, parallel: 8 });
    expect(postgresTuning(2).commits.parallel).toBe(1);
    expect(postgresTuning(10).rollups).toMatchObject({
      batchEvents: 250_000,
      backgroundShare: 0.5,
      minLag: { ms: 1000, on: 'PostgreSQL' },
    });
    // Passes of about 5 s, at most 250,000 events; a backlog's (more than a minute of data behind) about 20 s, at most 1,000,000.
    expect(postgresTuning(10).rollups.adaptive).toEqual({
      targetMs: 5000,
      min: 25_000,
      max: 250_000,
      behind: { ms: 60_000, targetMs: 20_000, max: 1_000_000 },
    });
  });
});
