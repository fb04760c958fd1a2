import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('defaults to the embedded SQLite database and documented limits', () => {
    const c = loadConfig({}, {});
    expect(c.db).toBe('sqlite:./data/readnext.db');
    expect(c.eventMaxPastMs).toBe(24 * 3_600_000);
    expect(c.eventMaxFutureMs).toBe(5 * 60_000);
    expect(c).toEqual({ ...DEFAULTS, corsOrigins: [] });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads READNEXT_* variables; flags win over the environment', () => {
    const env = { READNEXT_DB: 'postgres://x@h/db', READNEXT_PORT: '9000', READNEXT_CORS_ORIGINS: 'https://a.example, https://b.example', READNEXT_SQLITE_SYNCHRONOUS: 'normal', READNEXT_ROLLUP_SHARE: '0.35' };
    const c = loadConfig({ port: 7000 }, env);
    expect(c).toMatchObject({ db: 'postgres://x@h/db', port: 7000, corsOrigins: ['https://a.example', 'https://b.example'], sqliteSynchronous: 'NORMAL', rollupShare: 0.35 });
  });

  it.each([
    ['READNEXT_PORT', '80x'],
    ['READNEXT_PORT', '70000'],
    ['READNEXT_BODY_LIMIT_BYTES', '-1'],
    ['READNEXT_SQLITE_SYNCHRONOUS', 'OFF'],
    ['READNEXT_LOG_LEVEL', 'loud'],
    ['READNEXT_ROLLUP_SHARE', '0'],
    ['READNEXT_ROLLUP_SHARE', '1.5'],
    ['READNEXT_ROLLUP_SHARE', 'half'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({}, { [name]: value })).toThrow(new RegExp(name));
  });
});
