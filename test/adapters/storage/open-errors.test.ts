/**
 * Opening a database that is not there: one line saying what is wrong and where (not "migration
 * unknown failed"). A missing PostgreSQL database is a bad --db (exit 2) with the createdb command;
 * a server that cannot be reached is a failure (exit 3).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/adapters/cli/program.js';
import { openStorage } from '../../../src/adapters/storage/open.js';
import { explainOpenError } from '../../../src/adapters/storage/postgres.js';
import { fixedClock } from '../../../src/core/kernel/clock.js';
import { DomainError } from '../../../src/core/kernel/errors.js';
import { cliDeps } from '../../../src/main/cli-deps.js';
import { PG_SKIP_MESSAGE, PG_URL } from '../../helpers/databases.js';

async function cli(...args: string[]) {
  const err: string[] = [];
  const code = await runCli(cliDeps({ out: () => undefined, err: (l) => err.push(l), isTty: false, clock: fixedClock(0), env: {} }), args);
  return { code, errLines: err };
}

/** An error the way the migrator wraps pg's (OpenedStorage.migrate, open.ts): the pg error is the cause. */
const wrapped = (message: string, code: string) =>
  new Error(`migration unknown failed: ${message}`, { cause: Object.assign(new Error(message), { code }) });

describe('explainOpenError', () => {
  it('names a missing database, where it was looked for, and the createdb command', () => {
    const e = explainOpenError('postgres://ed@db.example:6543/news', wrapped('database "news" does not exist', '3D000'));
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({ code: 'invalid_database_url', field: 'db' });
    expect((e as Error).message).toBe(
      'PostgreSQL database "news" does not exist on db.example:6543 (create it with: createdb -h db.example -p 6543 -U ed news)',
    );
  });

  it('uses pg defaults for what the URL leaves out, and quotes a name the shell would split', () => {
    const e = explainOpenError("postgres:///it's%20news?host=/var/run/postgresql", wrapped('database does not exist', '3D000')) as Error;
    expect(e.message).toBe(
      `PostgreSQL database "it's news" does not exist on /var/run/postgresql:5432 (create it with: createdb -h /var/run/postgresql -p 5432 'it'\\''s news')`,
    );
  });

  it('reports a refused login as a bad --db and an unreachable server as a failure, without the migration wording', () => {
    const login = explainOpenError('postgres://ed@h/db', wrapped('password authentication failed for user "ed"', '28P01'));
    expect(login).toMatchObject({
      code: 'invalid_database_url',
      message: 'PostgreSQL on h:5432 refused the login: password authentication failed for user "ed"',
    });
    const down = explainOpenError('postgres://ed@h:5999/db', wrapped('connect ECONNREFUSED 10.0.0.1:5999', 'ECONNREFUSED'));
    expect(down).not.toBeInstanceOf(DomainError);
    expect((down as Error).message).toBe('cannot reach PostgreSQL on h:5999: connect ECONNREFUSED 10.0.0.1:5999');
  });

  it('returns any other error unchanged', () => {
    const other = wrapped('relation "x" already exists', '42P07');
    expect(explainOpenError('postgres://h/db', other)).toBe(other);
    expect(explainOpenError('postgres://h/db', 'text')).toBe('text');
  });
});

describe('opening a PostgreSQL server that is not there', () => {
  it('says it cannot reach it, and the CLI exits 3 with that one line', async () => {
    const url = 'postgres://postgres@127.0.0.1:1/readnext';
    await expect(openStorage(url)).rejects.toThrow(/^cannot reach PostgreSQL on 127\.0\.0\.1:1: .*ECONNREFUSED/);
    const r = await cli('migrate', '--db', url);
    expect(r.code).toBe(3);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^readnext: cannot reach PostgreSQL on 127\.0\.0\.1:1: /);
  });
});

if (!PG_URL) console.warn(`${PG_SKIP_MESSAGE} (missing-database message)`);

describe.skipIf(!PG_URL)('a PostgreSQL database that does not exist (real server)', () => {
  it('gets one line naming it with the createdb command, exit 2; once created as told, migrate works', async () => {
    const name = `readnext_missing_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    const u = new URL(PG_URL!);
    u.pathname = `/${name}`;
    const where = `${u.hostname}:${u.port || 5432}`;

    await expect(openStorage(u.toString())).rejects.toMatchObject({
      code: 'invalid_database_url',
      message: expect.stringContaining(`"${name}" does not exist on ${where}`),
    });
    const r = await cli('migrate', '--db', u.toString());
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      `readnext: PostgreSQL database "${name}" does not exist on ${where} (create it with: createdb -h ${u.hostname} -p ${u.port || 5432}${u.username ? ` -U ${u.username}` : ''} ${name})`,
    ]);

    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
      const ok = await cli('migrate', '--db', u.toString());
      expect(ok).toEqual({ code: 0, errLines: [] });
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
