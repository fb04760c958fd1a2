import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_BATCH } from '../../src/app/collector.js';
import { DEFAULTS, loadConfig, MIN_KEY_LENGTH } from '../../src/config/config.js';
import { DEFAULT_FRESH_STATE } from '../../src/core/recommend/fresh-state.js';
import { largestMaximalEvent } from '../helpers/maximal-events.js';

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
    const env = {
      READNEXT_DB: 'postgres://x@h/db',
      READNEXT_PORT: '9000',
      READNEXT_CORS_ORIGINS: 'https://a.example, https://b.example',
      READNEXT_SQLITE_SYNCHRONOUS: 'normal',
      READNEXT_ROLLUP_SHARE: '0.35',
    };
    const c = loadConfig({ port: 7000 }, env);
    expect(c).toMatchObject({
      db: 'postgres://x@h/db',
      port: 7000,
      corsOrigins: ['https://a.example', 'https://b.example'],
      sqliteSynchronous: 'NORMAL',
      rollupShare: 0.35,
    });
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
    ['READNEXT_SIM_CLOCK', 'yes'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({}, { [name]: value })).toThrow(new RegExp(name));
  });
});

describe('limits', () => {
  it('the default body limit holds a batch of the largest events the schema admits, in ASCII', () => {
    const { type, bytes } = largestMaximalEvent();
    expect(type).toBe('impression');
    // {"events":[e,e,...]}: 12 bytes around the events, a comma between two.
    const batch = 12 + MAX_EVENTS_PER_BATCH * bytes + (MAX_EVENTS_PER_BATCH - 1);
    expect(batch).toBeLessThanOrEqual(DEFAULTS.bodyLimitBytes);
    expect(batch).toBeGreaterThan(DEFAULTS.bodyLimitBytes - 1024 * 1024); // and not much more than that
  });

  it('reads the timeouts; the headers timeout may not exceed the request timeout', () => {
    const c = loadConfig(
      {},
      { READNEXT_HEADERS_TIMEOUT_MS: '2000', READNEXT_REQUEST_TIMEOUT_MS: '5000', READNEXT_KEEP_ALIVE_TIMEOUT_MS: '61000' },
    );
    expect(c).toMatchObject({ headersTimeoutMs: 2000, requestTimeoutMs: 5000, keepAliveTimeoutMs: 61_000 });
    expect(DEFAULTS.headersTimeoutMs).toBeLessThanOrEqual(DEFAULTS.requestTimeoutMs);
    expect(() => loadConfig({}, { READNEXT_HEADERS_TIMEOUT_MS: '6000', READNEXT_REQUEST_TIMEOUT_MS: '5000' })).toThrow(
      /READNEXT_HEADERS_TIMEOUT_MS \(6000\) must not exceed READNEXT_REQUEST_TIMEOUT_MS \(5000\)/,
    );
    expect(() => loadConfig({}, { READNEXT_REQUEST_TIMEOUT_MS: '0' })).toThrow(/READNEXT_REQUEST_TIMEOUT_MS/);
  });
});

describe('keys from the environment', () => {
  it.each(['READNEXT_ADMIN_KEY', 'READNEXT_INGEST_KEY'])('refuses %s shorter than 24 characters, naming it', (name) => {
    expect(() => loadConfig({}, { [name]: 'a' })).toThrow(new RegExp(`${name} must be at least ${MIN_KEY_LENGTH} characters \\(got 1\\)`));
    expect(() => loadConfig({}, { [name]: 'x'.repeat(MIN_KEY_LENGTH - 1) })).toThrow(new RegExp(name));
    expect(loadConfig({}, { [name]: 'x'.repeat(MIN_KEY_LENGTH) })).toMatchObject({
      [name === 'READNEXT_ADMIN_KEY' ? 'adminKey' : 'ingestKey']: 'x'.repeat(MIN_KEY_LENGTH),
    });
  });

  it('leaves unset (or empty) keys to be generated', () => {
    expect(loadConfig({}, { READNEXT_ADMIN_KEY: '', READNEXT_INGEST_KEY: '' })).toMatchObject({
      adminKey: undefined,
      ingestKey: undefined,
    });
  });
});

describe('tuning knobs', () => {
  // variable, setting, default, a valid value and what it reads as, values refused.
  it.each([
    ['READNEXT_RECORD_MAX_BUFFERED', 'recordMaxBuffered', 1000, '5000', 5000, ['0', '1.5', 'many']],
    ['READNEXT_SIGNAL_CAPACITY', 'signalCapacity', 2_000_000, '10000000', 10_000_000, ['999', '100000001', '2e6']],
    ['READNEXT_MAX_READERS', 'maxReaders', 500_000, '2000000', 2_000_000, ['1', '-5', 'all']],
    ['READNEXT_HISTORY_PER_READER', 'historyPerReader', 50, '200', 200, ['0', '1001', '50 reads']],
    ['READNEXT_REPORT_CATCH_UP_MS', 'reportCatchUpMs', 5000, '0', 0, ['-1', '3600001', '5s']],
    ['READNEXT_SNAPSHOT_EVERY_MS', 'snapshotEveryMs', 3_600_000, '1000', 1000, ['999', '2592000001', '1h']],
  ] as const)('%s (%s): default %d, reads a valid value, refuses others naming the variable', (name, key, def, raw, value, bad) => {
    expect(DEFAULTS[key]).toBe(def);
    expect(loadConfig({}, {})[key]).toBe(def);
    expect(loadConfig({}, { [name]: raw })[key]).toBe(value);
    for (const b of bad)
      expect(() => loadConfig({}, { [name]: b }), `${name}=${b}`).toThrow(new RegExp(`^${name} must be an integer between`));
  });

  it("the fresh state bounds default to the fresh state's own defaults", () => {
    const { signalCapacity, maxReaders, historyPerReader } = DEFAULTS;
    expect({ signalCapacity, maxReaders, historyPerReader }).toEqual(DEFAULT_FRESH_STATE);
  });
});
