/**
 * The time an invocation has: Lambda stops a function at its timeout, mid-flight, whatever is pending. So every
 * step is bounded by what is left, and time is always kept back for what must follow it (recording an outcome,
 * moving a record back in a queue, keeping an unpublished event) and for the answer. A function that runs out
 * reports what it knows instead of being killed: presign records PRESIGN_UNKNOWN or a resumable claim, a callback
 * is answered 500 so that WeChat Pay resends it, a reconcile run moves what it did not finish back in its queue,
 * the publisher keeps what it did not publish. Every handler passes `remainingTime(context)`.
 */

import { DependencyUnavailable } from '../errors';
import { MIN_ATTEMPT_MS } from '../wechatpay/client';

/** What is left of the invocation. */
export interface Budget {
  remainingMs(): number;
}

/** No deadline: unit tests, benchmarks. */
export const UNBOUNDED: Budget = { remainingMs: () => Number.POSITIVE_INFINITY };

/** Lambda's own clock of the invocation (`context.getRemainingTimeInMillis`). */
export const remainingTime = (context: { getRemainingTimeInMillis(): number }): Budget => ({
  remainingMs: () => context.getRemainingTimeInMillis(),
});

/** `budget` with `ms` more kept back: what a step may use when other work must still follow it. */
export const keeping = (budget: Budget, ms: number): Budget => ({
  remainingMs: () => budget.remainingMs() - ms,
});

/** Kept back at every step for the answer itself (and the wrapper's log and metric flush). */
export const ANSWER_MS = 500;

/** Kept back before an outcome is recorded: one conditional write, read back if its answer was lost. */
export const RECORD_MS = 2500;

/** Less than this left for WeChat Pay to answer, and an attempt is not started (the client's own rule). */
export { MIN_ATTEMPT_MS };

/** Time left for work that must still leave room to record its outcome and answer. */
export function beforeRecording(budget: Budget): number {
  return budget.remainingMs() - RECORD_MS - ANSWER_MS;
}

/**
 * `work`, or `late()` once `ms` have passed without it settling. Work that lost the race goes on unobserved
 * (its failure is swallowed, never an unhandled rejection); what it wrote is conditional, so whoever comes next
 * finds it (a claim's token and lease, a record's version, a notification's id).
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

/** `work` within what `budget` has left, or a DependencyUnavailable naming what did not answer in time. */
export function inTime<T>(
  budget: Budget,
  work: Promise<T>,
  dependency: string,
  operation: string,
): Promise<T> {
  return beforeDeadline(work, budget.remainingMs(), () => late(dependency, operation));
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
