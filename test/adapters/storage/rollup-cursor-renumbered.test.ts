/**
 * SQLite's rollup cursor is a rowid, and the events table has no INTEGER PRIMARY KEY (its key is
 * `event_id text`, migration 0001), so its rowids are not part of its data: the sqlite3 shell's
 * `.dump` writes the rows without them, and a restore numbers them again from 1 (issue 22). Once
 * retention or an erasure has deleted older events, the renumbered rows move down, behind the
 * cursor: the events not yet counted, and the next ones stored, were never counted. (VACUUM and
 * VACUUM INTO keep the rowids in the SQLite versions used here, checked below; SQLite documents
 * that they may change them.) The rollups keep the last counted event's id with the cursor and move
 * the cursor to it when the rows were renumbered (adapters/storage/rollup-cursor.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openStorage, type OpenedStorage } from '../../../src/adapters/storage/open.js';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { storedRead } from '../../helpers/events.js';
import { tempDir } from '../../helpers/databases.js';

const T = Date.parse('2026-05-04T08:00:00Z');
const DAY = 86_400_000;
const win = [{ experiment: 'exp-r', phase: 1, fromTs: T, toTs: null, placement: 'read-next' }];
const read = storedRead;
const hasSqlite3 = spawnSync('sqlite3', ['-version']).status === 0;

describe('rollups after the events were renumbered: sqlite', () => {
  let dir: ReturnType<typeof tempDir>;
  let storage: OpenedStorage;
  const notices: string[] = [];
  const open = async (file: string) => openStorage(`sqlite:${join(dir.path, file)}`, { sqlite: { synchronous: 'NORMAL' } });
  beforeEach(async () => {
    dir = tempDir();
    notices.length = 0;
    storage = await open('a.db');
  });
  afterEach(async () => {
    await storage.close().catch(() => undefined);
    dir.remove();
  });
  const reads = async () => Number((await kyselyOf(storage).selectFrom('exposures').select('reads').executeTakeFirstOrThrow()).reads);
  const pass = async (cutoff: number) => {
    const p = await storage.advanceRollups(win, cutoff, 1000);
    if (p.notice) notices.push(p.notice);
    return p.events;
  };
  const rowids = async () =>
    (await sql<{ r: number; id: string }>`select rowid as r, event_id as id from events order by rowid`.execute(kyselyOf(storage))).rows;

  /** 10 events counted, the 6 oldest deleted by retention, 3 more stored: rowids 7..13, cursor 10. */
  const setup = async () => {
    await storage.appendExposures([{ experiment: 'exp-r', phase: 1, arm: 'a', readerId: 'r', hashVersion: 2, exposedTs: T }]);
    await storage.appendEvents(Array.from({ length: 10 }, (_, i) => read(`c-${i}`, 'r', T + (i < 6 ? 1000 : DAY) + i)));
    expect(await pass(T + DAY + 100)).toBe(10);
    expect(await storage.pruneEvents(T + DAY / 2, 1000)).toBe(6);
    await storage.appendEvents([read('u-1', 'r', T + DAY + 200), read('u-2', 'r', T + DAY + 201), read('u-3', 'r', T + DAY + 202)]);
    expect((await rowids()).map((x) => x.r)).toEqual([7, 8, 9, 10, 11, 12, 13]);
  };
  /** After the renumbering: the 3 waiting events and a new one are counted once, and the repair is said once. */
  const expectCounted = async () => {
    expect((await rowids())[0]!.r).toBe(1);
    await storage.appendEvents([read('n-1', 'r', T + DAY + 300)]);
    expect(await pass(T + DAY + 1000)).toBe(4);
    expect(await reads()).toBe(14);
    await storage.appendEvents([read('n-2', 'r', T + DAY + 1100)]);
    expect(await pass(T + DAY + 2000)).toBe(1);
    expect(await reads()).toBe(15);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/renumbered/);
  };

  it('counts the events behind a cursor that a restore renumbered (rows copied in rowid order, without rowids)', async () => {
    await setup();
    // What a restore of `.dump` does: the same rows, in the same order, inserted into an empty table.
    const db = kyselyOf(storage);
    await sql`create temp table dumped as select * from events order by rowid`.execute(db);
    await sql`delete from events`.execute(db);
    await sql`insert into events select * from dumped order by rowid`.execute(db);
    await sql`drop table dumped`.execute(db);
    await expectCounted();
  });

  it.skipIf(!hasSqlite3)('counts them after a real sqlite3 .dump and restore', async () => {
    await setup();
    await storage.close();
    const dump = execFileSync('sqlite3', [join(dir.path, 'a.db'), '.dump'], { encoding: 'utf8' });
    expect(dump).toContain('CREATE TABLE');
    execFileSync('sqlite3', [join(dir.path, 'b.db')], { input: dump });
    storage = await open('b.db');
    await expectCounted();
  });

  it('counts them when nothing was left at or before the cursor before the renumbering', async () => {
    await storage.appendExposures([{ experiment: 'exp-r', phase: 1, arm: 'a', readerId: 'r', hashVersion: 2, exposedTs: T }]);
    await storage.appendEvents([...Array.from({ length: 4 }, (_, i) => read(`c-${i}`, 'r', T + 1000 + i)), read('g-1', 'g', T + 1004)]);
    expect(await pass(T + 10_000)).toBe(5);
    // Retention deletes the 4 oldest; 2 more are stored; an erasure deletes the newest counted one.
    expect(await storage.pruneEvents(T + 1004, 1000)).toBe(4);
    await storage.appendEvents([read('u-1', 'r', T + DAY), read('u-2', 'r', T + DAY + 1)]);
    await storage.forgetReader('g', 'h', T + DAY + 2);
    const db = kyselyOf(storage);
    await sql`create temp table dumped as select * from events order by rowid`.execute(db);
    await sql`delete from events`.execute(db);
    await sql`insert into events select * from dumped order by rowid`.execute(db);
    expect((await rowids()).map((x) => x.r)).toEqual([1, 2]);
    expect(await pass(T + DAY + 10)).toBe(2);
    expect(await reads()).toBe(6);
    expect(notices).toHaveLength(1);
  });

  it('keeps the rowids through VACUUM and VACUUM INTO (this SQLite), so the cursor stays where it was', async () => {
    await setup();
    const before = await rowids();
    await sql`vacuum`.execute(kyselyOf(storage));
    expect(await rowids()).toEqual(before);
    await sql`vacuum into ${join(dir.path, 'c.db')}`.execute(kyselyOf(storage));
    await storage.close();
    storage = await open('c.db');
    expect(await rowids()).toEqual(before);
    expect(await pass(T + DAY + 1000)).toBe(3);
    expect(await reads()).toBe(13);
    expect(notices).toHaveLength(0);
  });
});
