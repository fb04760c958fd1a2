import { afterEach, describe, expect, it, vi } from 'vitest';
import { testApp, type TestApp } from '../helpers/app.js';
import { appDeps } from '../../src/main/services.js';

describe('tuning knobs reach what they tune', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('the fresh state gets its bounds and reports their catch-up time from config', async () => {
    t = await testApp({ signalCapacity: 10_000, maxReaders: 300, historyPerReader: 7, reportCatchUpMs: 1234 });
    expect(t.services.state.options).toEqual({ signalCapacity: 10_000, maxReaders: 300, historyPerReader: 7 });
    const catchUp = vi.spyOn(t.services.rollups, 'catchUp');
    await appDeps(t.services).rollups.catchUp({});
    expect(catchUp).toHaveBeenCalledWith({ maxMs: 1234 });
  });
});
