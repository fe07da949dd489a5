import type { Context } from 'aws-lambda';
import { type ReconcileDeps, reconcileDeps } from '../lib/config/repayment-deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { remainingTime } from '../lib/contracts/budget';
import { LOOK_MS, type ReconcileReport, reconcile } from '../lib/contracts/reconcile';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';
import { type PollReport, pollRepayments } from '../lib/repayments/poll';

/** Records one migration step places in the queue: its writes fit well inside the function's timeout. */
const BACKFILL_LIMIT = 500;

/** The states a reconcile run settles contracts in, each counted by its own metric. */
const SETTLED = ['SIGNED', 'TERMINATED', 'EXPIRED'] as const;

/** A run (the schedule's `{"limit": n}`), or one step of the migration into reconcile's queue. */
export type ReconcileEvent = { limit?: number } | { backfill: true; cursor?: string } | undefined;

export interface BackfillReport {
  queued: number;
  /** Pass it to the next invocation; absent: every older record has its place in the queue. */
  cursor?: string;
}

/** A run's report: the contracts it settled, then the repayments it polled. */
export type ReconcileRunReport = ReconcileReport & { repayments: PollReport };

/**
 * Scheduled (every 5 minutes): settles contracts whose callback was lost or whose presign outcome is unknown,
 * and asks again about SIGNED and EXPIRED ones when their time comes, through WeChat Pay's query; then asks about
 * the repayments awaiting its word (only a success is ever notified, so pending, not-paid and unanswered orders
 * must be polled). The event may carry `{"limit": n}` for a manual run; it bounds each of the two steps.
 * `{"backfill": true}` (then with the `cursor` it returned) places records written before reconcile's queue
 * existed in it (docs/deploy.md).
 */
export function makeHandler(wiring: Wiring<ReconcileDeps>) {
  async function main(event: ReconcileEvent, context: Context): Promise<ReconcileRunReport | BackfillReport> {
    const deps = await wiring.load();
    if (event && 'backfill' in event) {
      const step = await deps.store.enqueueUnqueued(BACKFILL_LIMIT, event.cursor);
      logger.info('reconcile queue migration step', { ...step });
      return step;
    }
    const limit = Math.min(Math.max(Number(event?.limit) || 200, 1), 1000);
    // The repayments' poll starts no query with under LOOK_MS left, as reconcile does.
    const shouldStop = () => context.getRemainingTimeInMillis() < LOOK_MS;
    const report = await reconcile(deps, {
      limit,
      concurrency: 4,
      recheck: deps.recheck,
      budget: remainingTime(context),
      onError: (code, error) =>
        logger.warn('reconcile could not settle a contract', { out_contract_code: code, error }),
    });
    for (const state of SETTLED) {
      const settled = report.settled[state];
      if (settled !== undefined) recordMetric(`ReconcileSettled${state}`, settled);
    }
    recordMetric('ReconcileFailed', report.failed);
    const repayments = await pollRepayments(deps.repayments, {
      limit,
      concurrency: 4,
      shouldStop,
      onError: (id, error) =>
        logger.warn('reconcile could not ask WeChat Pay about a repayment', { out_record_id: id, error }),
    });
    const settled = Object.values(repayments.settled).reduce((sum, n) => sum + n, 0);
    recordMetric('RepaymentPollSettled', settled);
    recordMetric('RepaymentPollFailed', repayments.failed);
    recordMetric('RepaymentPollExhausted', repayments.exhausted);
    if (repayments.exhausted > 0) {
      logger.error('repayments left without a final answer after the polling window', { ...repayments });
    }
    logger.info('reconcile run', { ...report, repayments });
    return { ...report, repayments };
  }

  return lambda(main, wiring);
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(reconcileDeps(runtime));
export const handler = handlerFor(processRuntime);
