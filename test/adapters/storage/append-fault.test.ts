import { describe, expect, it } from 'vitest';
import { appendFault } from '../../../src/adapters/storage/dialect.js';
import { DomainError } from '../../../src/core/kernel/errors.js';

/** A driver error with its code, as better-sqlite3 (SqliteError.code) and pg (DatabaseError.code) raise them. */
const driver = (code: string, message = code): Error => Object.assign(new Error(message), { code });
const refusing = { refuses: (e: unknown) => e instanceof DomainError && e.code === 'invalid_field' };

describe('appendFault: what a failed append tells the client', () => {
  it('keeps a refusal of the data as it is', () => {
    const e = new DomainError('invalid_field', 'bad', { field: 'x' });
    expect(appendFault(refusing, e)).toBe(e);
  });

  it('says storage_full for a full disk on either database', () => {
    for (const code of ['SQLITE_FULL', '53100']) expect(appendFault(refusing, driver(code))).toMatchObject({ code: 'storage_full' });
  });

  it('says storage_unavailable for an outage: a dropped connection (no code), a refused one, a busy database', () => {
    for (const e of [new Error('Connection terminated unexpectedly'), driver('ECONNREFUSED'), driver('SQLITE_BUSY'), driver('57P01')]) {
      const out = appendFault(refusing, e);
      expect(out).toMatchObject({ code: 'storage_unavailable' });
      expect((out as Error).cause).toBe(e);
    }
  });

  it('leaves a bug or a broken schema as it is (a logged 500, not a retry loop)', () => {
    for (const e of [
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      driver('42P01', 'relation "events" does not exist'),
      driver('SQLITE_CORRUPT'),
      driver('SQLITE_ERROR', 'no such table: events'),
    ])
      expect(appendFault(refusing, e)).toBe(e);
  });
});
