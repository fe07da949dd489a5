import type { Context } from 'aws-lambda';
import { type ContractDeps, contractDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { type ReconcileReport, reconcile } from '../lib/contracts/reconcile';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';

/** Leave this much of the invocation for the last queries in flight to finish. */
const SAFETY_MS = 10_000;

/** The states a reconcile run settles contracts in, each counted by its own metric. */
const SETTLED = ['SIGNED', 'TERMINATED', 'EXPIRED'] as const;

/**
 * Scheduled (every 5 minutes): settles contracts whose callback was lost or whose presign outcome is
 * unknown, by asking WeChat Pay. The event may carry `{"limit": n}` for a manual run.
 */
export function makeHandler(wiring: Wiring<ContractDeps>) {
  async function main(event: { limit?: number } | undefined, context: Context): Promise<ReconcileReport> {
    const limit = Math.min(Math.max(Number(event?.limit) || 200, 1), 1000);
    const report = await reconcile(await wiring.load(), {
      limit,
      concurrency: 4,
      shouldStop: () => context.getRemainingTimeInMillis() < SAFETY_MS,
      onError: (code, error) =>
        logger.warn('reconcile could not settle a contract', { out_contract_code: code, error }),
    });
    for (const state of SETTLED) {
      const settled = report.settled[state];
      if (settled !== undefined) recordMetric(`ReconcileSettled${state}`, settled);
    }
    recordMetric('ReconcileFailed', report.failed);
    logger.info('reconcile run', { ...report });
    return report;
  }

  return lambda(main, wiring);
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(contractDeps(runtime));
export const handler = handlerFor(processRuntime);
