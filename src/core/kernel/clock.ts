/**
 * Time is a parameter: core code never reads the system clock. `now()` is epoch milliseconds.
 *
 * @example
 * const clock: Clock = fixedClock(Date.parse('2026-01-01T00:00:00Z'));
 */
export interface Clock {
  now(): number;
}

/** A clock that only moves when told to: for tests and simulations. */
export function fixedClock(start: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    set: (ms: number) => {
      t = ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}
