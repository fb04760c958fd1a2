import { runWorld, type Tally, type WorldRunOptions } from '../../src/core/simulate/run.js';
import type { SimPlatform } from '../../src/core/simulate/platform.js';
import type { WorldSpec } from '../../src/core/simulate/world.js';

export interface DayEnd {
  /** Simulated days done (1 first). */
  day: number;
  /** The platform's clock: the day's end, epoch ms. */
  now: number;
}

export interface SteppedWorld {
  /** Lets the world run to the end of its next simulated day, where it waits; resolves undefined once the run is over. */
  nextDay(): Promise<DayEnd | undefined>;
  /** Lets the world run to its end; its tally. */
  finish(): Promise<Tally>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failed run rejects the signal even when no step is waiting on it: no unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * `runWorld` as a coroutine: the world pauses at each simulated day's end (its `onDayEnd`) until
 * the test lets it go on, so a test can act on the platform between days (train, deploy, report)
 * while the simulated clock stands still. A failed run fails the waiting step.
 *
 * @example
 * const w = steppedWorld(DEFAULT_WORLD, target, { seed: 1, readers: 300, days: 2 });
 * const { now } = (await w.nextDay())!; // day 1 done, the world waits
 * await w.finish();
 */
export function steppedWorld(world: WorldSpec, platform: SimPlatform, opts: Omit<WorldRunOptions, 'onDayEnd'>): SteppedWorld {
  let arrived = deferred<DayEnd | undefined>();
  let release: (() => void) | undefined;
  const done = runWorld(world, platform, {
    ...opts,
    onDayEnd: (day, now) =>
      new Promise<void>((resolve) => {
        release = resolve;
        arrived.resolve({ day, now });
      }),
  });
  // The signal current when the run ends is the one a step waits on.
  done.then(
    () => arrived.resolve(undefined),
    (e: unknown) => arrived.reject(e),
  );
  done.catch(() => undefined);
  return {
    nextDay() {
      const go = release;
      if (go) {
        // A fresh signal before the world moves on: its next day's end resolves this one.
        release = undefined;
        arrived = deferred();
        go();
      }
      return arrived.promise;
    },
    async finish() {
      while ((await this.nextDay()) !== undefined);
      return done;
    },
  };
}
