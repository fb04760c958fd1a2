import { DomainError } from '../../src/core/kernel/errors.js';

/** The DomainError a call throws (fails the test when it throws something else or nothing). */
export function domainError(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw new Error(`expected a DomainError, got ${String(e)}`);
  }
  throw new Error('expected a DomainError, nothing was thrown');
}
