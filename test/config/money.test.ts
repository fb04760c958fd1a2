import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';

/** READNEXT_CURRENCY and READNEXT_FX_RATES (experiment reports' revenue), and the rollup lag's floor on PostgreSQL. */
describe('revenue currency settings', () => {
  it('defaults to EUR without rates, and reads a currency and its rates', () => {
    expect(loadConfig({}, {})).toMatchObject({ currency: 'EUR', fxRates: {} });
    const c = loadConfig({}, { READNEXT_CURRENCY: 'USD', READNEXT_FX_RATES: 'EUR=1.09, GBP = 1.27,USD=1' });
    expect(c.currency).toBe('USD');
    expect(c.fxRates).toEqual({ EUR: 1.09, GBP: 1.27, USD: 1 });
    expect(Object.isFrozen(c.fxRates)).toBe(true);
  });

  it.each([
    [{ READNEXT_CURRENCY: 'eur' }, /READNEXT_CURRENCY must be an ISO 4217 code of three capital letters/],
    [{ READNEXT_CURRENCY: 'EURO' }, /READNEXT_CURRENCY must be an ISO 4217 code/],
    [{ READNEXT_FX_RATES: 'USD' }, /READNEXT_FX_RATES must be CODE=rate pairs .* got "USD"/],
    [{ READNEXT_FX_RATES: 'USD=0' }, /positive number/],
    [{ READNEXT_FX_RATES: 'USD=-1' }, /positive number/],
    [{ READNEXT_FX_RATES: 'USD=abc' }, /positive number/],
    [{ READNEXT_FX_RATES: 'usd=0.9' }, /CODE=rate pairs/],
    [{ READNEXT_FX_RATES: 'USD=0.9,USD=0.8' }, /gives USD twice/],
    [{ READNEXT_FX_RATES: 'EUR=2' }, /gives EUR, the report's currency \(READNEXT_CURRENCY\), a rate other than 1/],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig({}, env)).toThrow(message);
  });

  it('refuses a rollup lag under a second on PostgreSQL, not on SQLite', () => {
    expect(loadConfig({}, { READNEXT_ROLLUP_LAG_MS: '0' }).rollupLagMs).toBe(0);
    expect(() => loadConfig({}, { READNEXT_DB: 'postgres://u@h/db', READNEXT_ROLLUP_LAG_MS: '0' })).toThrow(
      /READNEXT_ROLLUP_LAG_MS must be at least 1000 on PostgreSQL, got 0: .*data-through time/,
    );
    expect(loadConfig({}, { READNEXT_DB: 'postgres://u@h/db', READNEXT_ROLLUP_LAG_MS: '1000' }).rollupLagMs).toBe(1000);
  });
});
