import type { MetaStore, EventStore } from '../app/ports.js';
import type { Clock } from '../core/kernel/clock.js';
import { DomainError } from '../core/kernel/errors.js';
import { systemClock } from './runtime.js';

/**
 * The simulated clock (READNEXT_SIM_CLOCK=1, `readnext serve --sim-clock`, the in-process
 * simulation): the real time until it is first set, then the time it was last set to. It never
 * moves backwards: setting an earlier time than the last one is an error, so every event, decay
 * and rollup sees time move one way, as it does on a real clock.
 *
 * @example
 * const clock = new SimClock();
 * clock.set(Date.parse('2026-01-05T06:00:00Z'));
 */
export class SimClock implements Clock {
  private t: number | undefined;

  constructor(private readonly real: Clock = systemClock) {}

  now(): number {
    return this.t ?? this.real.now();
  }

  /** Sets the time (epoch ms); a time before the last one set is a DomainError on `now`. */
  set(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new DomainError('invalid_field', `now must be a time after 1970, got ${ms}`, { field: 'now' });
    if (this.t !== undefined && ms < this.t) {
      throw new DomainError(
        'invalid_field',
        `now must not go backwards: ${new Date(ms).toISOString()} is before the simulated clock's ${new Date(this.t).toISOString()}`,
        { field: 'now' },
      );
    }
    this.t = ms;
  }
}

/**
 * The meta keys of a simulated database: `clock` = `simulated` marks one a simulated clock ran on;
 * `simNow` holds the simulated time last set on it (epoch ms, see settableSimClock).
 */
export const CLOCK_META = { key: 'clock', simulated: 'simulated', simNow: 'sim_now' } as const;

/**
 * A server's simulated clock as POST /v1/admin/sim-clock sets it: each setting is also written to
 * the database, so that a command run meanwhile on the same database (`readnext deploy canary
 * start`, `readnext shadow report`, `readnext train`) acts at the simulated time (simulatedNow), not
 * the real one: a canary started at the real time would seed its split and count its guardrails
 * from a time the simulation has not reached. One small write per setting (0.3 ms on SQLite with
 * synchronous=FULL). Test: test/main/model-e2e.test.ts.
 */
export function settableSimClock(clock: SimClock, store: MetaStore): Clock & { set(ms: number): Promise<void> } {
  return {
    now: () => clock.now(),
    async set(ms) {
      clock.set(ms);
      // The clock's time, not ms: when settings overlap, a later write never stores an earlier time.
      await store.setMeta(CLOCK_META.simNow, String(clock.now()));
    },
  };
}

/** The simulated time last set on a simulated database (settableSimClock), or undefined when none was. */
export async function simulatedNow(store: MetaStore): Promise<number | undefined> {
  const v = await store.getMeta(CLOCK_META.simNow);
  return v === undefined ? undefined : Number(v);
}

/**
 * Keeps simulated and real events apart, at every open (main/services.ts openDb): a simulated clock
 * marks a database `clock=simulated` when it holds no events and refuses one holding events without
 * the mark (real events); a real clock refuses a database with the mark. A refusal is an
 * `invalid_config` DomainError: one line and exit code 2 from the CLI.
 */
export async function checkClockMark(store: MetaStore & Pick<EventStore, 'countEvents'>, simulated: boolean): Promise<void> {
  const marked = (await store.getMeta(CLOCK_META.key)) === CLOCK_META.simulated;
  if (simulated === marked) return;
  if (!simulated) {
    throw new DomainError(
      'invalid_config',
      'READNEXT_SIM_CLOCK: this database is simulated (its events carry simulated times); a real clock does not run on it: use --sim-clock (READNEXT_SIM_CLOCK=1) or another database',
      { field: 'READNEXT_SIM_CLOCK' },
    );
  }
  const events = await store.countEvents();
  if (events > 0) {
    throw new DomainError(
      'invalid_config',
      `READNEXT_SIM_CLOCK: this database holds real events (${events}); a simulated clock runs only on a new or simulated database`,
      { field: 'READNEXT_SIM_CLOCK' },
    );
  }
  await store.setMeta(CLOCK_META.key, CLOCK_META.simulated);
}
