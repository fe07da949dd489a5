import type { Context } from 'aws-lambda';
import { type ReconcileDeps, reconcileDeps } from '../lib/config/deps';
import { type ReconcileReport, reconcile } from '../lib/contracts/reconcile';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';
import { type PollReport, pollRepayments } from '../lib/repayments/poll';

/** Leave this much of the invocation for the last queries in flight to finish. */
const SAFETY_MS = 10_000;

/** The states a reconcile run settles contracts in, each counted by its own metric. */
const SETTLED = ['SIGNED', 'TERMINATED', 'EXPIRED'] as const;

export type ReconcileRunReport = ReconcileReport & { repayments: PollReport };

/**
 * Scheduled (every 5 minutes): settles contracts whose callback was lost or whose presign outcome is
 * unknown, by asking WeChat Pay; then asks about the repayments awaiting its word (only a success is ever
 * notified, so pending, not-paid and unanswered orders must be polled). The event may carry `{"limit": n}` for
 * a manual run; it bounds each of the two steps.
 */
export function makeHandler(wiring: Wiring<ReconcileDeps>) {
  async function main(event: { limit?: number } | undefined, context: Context): Promise<ReconcileRunReport> {
    const limit = Math.min(Math.max(Number(event?.limit) || 200, 1), 1000);
    const deps = await wiring.load();
    const shouldStop = () => context.getRemainingTimeInMillis() < SAFETY_MS;
    const report = await reconcile(deps, {
      limit,
      concurrency: 4,
      shouldStop,
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

export const handler = makeHandler(reconcileDeps());
