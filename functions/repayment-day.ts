import { repaymentDayStartDeps } from '../lib/config/repayment-day-deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { lambda, type Wiring } from '../lib/http/lambda';
import { logger } from '../lib/observability';
import { type DayStarted, type StartDayDeps, startDay } from '../lib/repayments/day-start';

/**
 * Scheduled daily in Beijing time (serverless.yml), or invoked by hand with `{"date":"yyyy-MM-dd"}`: starts the
 * repayment-day state machine for that Beijing day (a scheduled event's: the day of its `time`) and returns
 * `{date, execution_arn}` at once; the run itself goes on in Step Functions (docs/architecture.md, "Repayment
 * day"). Throws ValidationFailed for a bad date, DependencyUnavailable when Step Functions refused the start.
 */
export function makeHandler(wiring: Wiring<StartDayDeps>) {
  async function main(event: unknown): Promise<DayStarted> {
    const started = await startDay(await wiring.load(), event);
    logger.info('repayment day started', { ...started });
    return started;
  }

  return lambda(main, wiring);
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(repaymentDayStartDeps(runtime));
export const handler = handlerFor(processRuntime);
