import type { Context } from 'aws-lambda';
import { type DayWorkerDeps, repaymentDayWorkerDeps } from '../lib/config/repayment-day-deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';
import { runPage } from '../lib/repayments/day';
import { completeDay } from '../lib/repayments/day-complete';
import { type DayRunRecord, type PageOutput, readWorkerEvent } from '../lib/repayments/day-model';

/**
 * Left of an invocation when no new booking is started: a deduction in flight may wait for its paced signature
 * and then take three WeChat Pay attempts of WECHATPAY_TIMEOUT_MS (5 s) each.
 */
const SAFETY_MS = 45_000;
const PAGE_SIZE = 100;
/**
 * Calls in flight per worker: half a second of its share (a deduction is a few hundred milliseconds: a paced
 * signature, the WeChat Pay round trip, four DynamoDB calls), at least 4 so that a slow round trip does not
 * starve a small share; at most 32 in one Lambda. The pacer, not this, keeps it under its share.
 */
const inFlight = (rps: number) => Math.min(32, Math.max(4, Math.ceil(rps / 2)));

/**
 * The repayment-day state machine's tasks (infra/aws/repayment-day.asl.json): `{"action":"page", date, shard,
 * run_id, cursor?, counts?}` deducts one shard's due bookings until the shard is done or the invocation's time
 * runs short, and returns the next page's input; `{"action":"complete", date, run_id, results}` records the run
 * (RepaymentDayCompleted through the outbox) and the bookings left open. Errors keep their PascalCase names
 * (DependencyUnavailable, ValidationFailed) for the state machine's Retry and Catch.
 */
export function makeHandler(wiring: Wiring<DayWorkerDeps>) {
  async function main(event: unknown, context: Context): Promise<PageOutput | Omit<DayRunRecord, 'pk'>> {
    const input = readWorkerEvent(event);
    const deps = await wiring.load();
    logger.appendKeys({ date: input.date, run_id: input.run_id });
    if (input.action === 'complete') {
      const { worker, release } = deps.lease();
      const { pk: _key, ...run } = await completeDay(worker, input).finally(release);
      recordMetric('RepaymentDayOpenBookings', run.open);
      if (run.open > 0) logger.warn('repayment day left bookings open; a rerun takes them up', { ...run });
      else logger.info('repayment day completed', { ...run });
      return run;
    }
    logger.appendKeys({ shard: input.shard });
    const { worker, release } = deps.lease();
    try {
      const before = input.counts;
      const page = await runPage(worker, input, {
        pageSize: PAGE_SIZE,
        concurrency: inFlight(deps.settings.signingBudgetRps / deps.settings.workers),
        shouldStop: () => context.getRemainingTimeInMillis() < SAFETY_MS,
        onError: (id, error) =>
          logger.warn('a due booking was not deducted, or its answer was lost', { out_record_id: id, error }),
      });
      recordMetric('RepaymentDayOrdered', page.counts.ordered - (before?.ordered ?? 0));
      recordMetric('RepaymentDayThrottled', page.counts.throttled - (before?.throttled ?? 0));
      logger.info('repayment day page', {
        cursor: page.cursor,
        done: page.done,
        counts: page.counts,
        rate: worker.pacer.rate,
      });
      return page;
    } finally {
      release();
    }
  }

  return lambda(main, wiring);
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(repaymentDayWorkerDeps(runtime));
export const handler = handlerFor(processRuntime);
