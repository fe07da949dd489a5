/**
 * When a command left on the queue comes back. Left alone, SQS delivers it again once the queue's visibility
 * timeout (240 s, six times the router's 40 s as Lambda advises) has passed since its receive; the router shortens
 * that per message, so the first retry comes in seconds and the later ones spread out.
 *
 * After the nth receive the message is held `RETRY_DELAYS_S[n - 1]` seconds (the last entry for any later
 * receive), ±20 %. With the default five receives that is 15, 60, 240 and 600 s: 915 s from the first receive to
 * the last, about the 960 s of four visibility timeouts it was before, so an outage that lasted that long still
 * ends in the same place. But a PresignInProgress or BookingInProgress, which clears when the attempt in flight
 * ends (seconds; a presign claim whose attempt died is taken over after 39 s), is retried after 15 s and then 60 s
 * instead of 4 minutes, and a brief dependency failure (throttling, a restart) after 15 s. The jitter spreads the
 * retries of a batch that failed together behind one outage, so they do not all come back in the same second.
 */
export const RETRY_DELAYS_S = [15, 60, 240, 600] as const;

/** The jitter's half-width, as a share of the delay. */
const JITTER = 0.2;

/**
 * Seconds to hold a message back after its `receiveCount`th receive, or undefined on the last receive
 * (`maxReceiveCount`) and after it: the message's next receive moves it to the dead-letter queue, so when it comes
 * back does not matter. `random` is in [0, 1) (Math.random).
 */
export function redeliveryDelay(
  receiveCount: number,
  maxReceiveCount: number,
  random: () => number,
): number | undefined {
  if (receiveCount >= maxReceiveCount) return undefined;
  const index = Math.min(Math.max(receiveCount, 1), RETRY_DELAYS_S.length) - 1;
  const base = RETRY_DELAYS_S[index] as number;
  // SQS takes whole seconds.
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** A message the router reported in batchItemFailures, in the batch's order. */
export interface HeldMessage {
  messageId: string;
  receiveCount: number;
  /** Its MessageGroupId when the queue is FIFO; unset on a standard queue, where every message stands alone. */
  groupId?: string;
}

/**
 * The delay of each reported message, by message id (a message without one keeps the queue's own timeout).
 *
 * On a standard queue each reported message was run and refused, and is held by its own receive count.
 * On a FIFO queue the first reported message of a group is the one that was run; the ones after it were held back
 * unrun (skipGroupOnError) and have receive counts of their own that say nothing about why the group stopped. They
 * all get the first one's delay, so the group comes back whole at once. SQS never hands out a later message of a
 * group while an earlier one is in flight, so a change that failed for one of them delays the group, never reorders
 * it.
 */
export function redeliveryDelays(
  held: readonly HeldMessage[],
  maxReceiveCount: number,
  random: () => number,
): Map<string, number> {
  const delays = new Map<string, number>();
  const groups = new Map<string, number | undefined>();
  for (const message of held) {
    const { groupId } = message;
    const seconds =
      groupId !== undefined && groups.has(groupId)
        ? groups.get(groupId)
        : redeliveryDelay(message.receiveCount, maxReceiveCount, random);
    if (groupId !== undefined && !groups.has(groupId)) groups.set(groupId, seconds);
    if (seconds !== undefined) delays.set(message.messageId, seconds);
  }
  return delays;
}
