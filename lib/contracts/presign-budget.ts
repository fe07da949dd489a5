/**
 * The time a presign has: Lambda stops the function at its timeout, mid-flight, whatever is pending. So every
 * step is bounded by what is left, and time is always kept back to record the outcome and answer: a function
 * that runs out records what it knows (PRESIGN_UNKNOWN, a resumable claim) instead of leaving the claim to guess.
 */

import { DependencyUnavailable } from '../errors';

/** What is left of the invocation (the handler passes Lambda's `context.getRemainingTimeInMillis`). */
export interface Budget {
  remainingMs(): number;
}

/** No deadline: unit tests, benchmarks. */
export const UNBOUNDED: Budget = { remainingMs: () => Number.POSITIVE_INFINITY };

/** Kept back at every step for the answer itself (and the wrapper's log and metric flush). */
export const ANSWER_MS = 500;

/** Kept back before an outcome is recorded: one conditional write, read back if its answer was lost. */
export const RECORD_MS = 2500;

/** Less than this left for WeChat Pay to answer, and an attempt is not started. */
export const MIN_ATTEMPT_MS = 1000;

/** Time left for work that must still leave room to record its outcome and answer. */
export function beforeRecording(budget: Budget): number {
  return budget.remainingMs() - RECORD_MS - ANSWER_MS;
}

/**
 * `work`, or `late()` once `ms` have passed without it settling. Work that lost the race goes on unobserved
 * (its failure is swallowed, never an unhandled rejection); whatever it wrote is found by the claim's own rules
 * (claim token, lease) on the next attempt.
 */
export function beforeDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  if (ms === Number.POSITIVE_INFINITY) return work;
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), Math.max(0, ms));
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** A dependency that did not answer in the time the function had left. */
export function late(dependency: string, operation: string): DependencyUnavailable {
  return new DependencyUnavailable(
    dependency,
    `${operation} got no answer in the time the function had left`,
  );
}

/**
 * Too little time left for a step that must not be started unless it can finish; `slow` is what took the time.
 * Nothing was sent, so the identical request may retry.
 */
export function outOfTime(slow: string, why: string): DependencyUnavailable {
  return new DependencyUnavailable(slow, `${why}; the identical request may retry`);
}
