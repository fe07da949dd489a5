import { POLL_SHARDS } from './indexes';
import type { BookingState } from './lifecycle';
import { type SettleDeps, settleBooking } from './settle';

export interface PollOptions {
  /** Upper bound of bookings examined in one run (bounded work per scheduled invocation). */
  limit: number;
  /** Parallel WeChat Pay queries. */
  concurrency: number;
  /** Stop starting new work when this returns true (e.g. the Lambda's remaining time is short). */
  shouldStop?: () => boolean;
  onError?: (outRecordId: string, error: unknown) => void;
}

export interface PollReport {
  examined: number;
  /** Bookings WeChat Pay's answer moved, by the state they moved to. */
  settled: Partial<Record<BookingState, number>>;
  /** Asked, still waiting: they come back on their backoff. */
  waiting: number;
  /** Their polling window closed without a final answer: an operator must look. */
  exhausted: number;
  /** WeChat Pay or the store could not be asked; the backoff still moved on, so they are asked again later. */
  failed: number;
}

/**
 * The reconcile step for repayments: every booking awaiting WeChat Pay's word (an answer lost, an order PENDING,
 * NOT_PAY or unanswered, of which only a success would ever be notified) is asked about when its backoff says,
 * through the by_poll index (never a scan), oldest first within each shard, and within `limit` per run. Shards
 * are visited from a different one each minute, so a full run never starves the last. Safe alongside callbacks
 * and requests: every write is conditional on the version it read.
 */
export async function pollRepayments(deps: SettleDeps, options: PollOptions): Promise<PollReport> {
  const now = deps.clock();
  const dueBy = new Date(now).toISOString();
  const first = Math.floor(now / 60_000) % POLL_SHARDS;
  const ids: string[] = [];
  for (let i = 0; i < POLL_SHARDS && ids.length < options.limit; i++) {
    ids.push(...(await deps.store.listDue((first + i) % POLL_SHARDS, dueBy, options.limit - ids.length)));
  }
  const report: PollReport = { examined: 0, settled: {}, waiting: 0, exhausted: 0, failed: 0 };
  let next = 0;
  const worker = async () => {
    while (next < ids.length && !options.shouldStop?.()) {
      const id = ids[next++] as string;
      report.examined++;
      try {
        const result = await settleBooking(deps, id, 'poll');
        if (!result) continue;
        if (result.error !== undefined) {
          report.failed++;
          options.onError?.(id, result.error);
        } else if (result.settled) {
          report.settled[result.record.state] = (report.settled[result.record.state] ?? 0) + 1;
        } else if (result.record.poll_exhausted_at && result.record.poll_at === undefined) {
          report.exhausted++;
        } else {
          report.waiting++;
        }
      } catch (error) {
        // One booking's failure (the store, KMS) must not stop the others; its backoff did not move, so the
        // next run asks again.
        report.failed++;
        options.onError?.(id, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return report;
}
