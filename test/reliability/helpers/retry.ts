import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiAnswer } from '../../support/local/stack';

export interface RetryTally {
  /** 503 DEPENDENCY_UNAVAILABLE answers that were retried. */
  retried: number;
}

/**
 * What a well-behaved caller does with `503 DEPENDENCY_UNAVAILABLE` and its `Retry-After`: send the identical
 * request again. The local stack runs every concurrent "Lambda" in one process on two cores, so a burst of
 * hundreds can starve the SDK's 1 s connection timeout there, which cannot happen to separate Lambda instances.
 * Only that answer is retried; anything else is the answer.
 */
export async function answered(
  send: () => Promise<ApiAnswer>,
  tally: RetryTally,
  attempts = 8,
): Promise<ApiAnswer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await send();
    if (answer.status !== 503 || answer.body.code !== 'DEPENDENCY_UNAVAILABLE' || attempt >= attempts) {
      return answer;
    }
    tally.retried++;
    const seconds = Number(answer.headers.get('retry-after') ?? '1');
    await sleep(seconds * 1000 * (0.5 + Math.random()));
  }
}
