import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { contractDeps } from '../lib/config';
import { type ReconcileReport, reconcile } from '../lib/contracts/reconcile';
import { logger, metrics, tracer } from '../lib/observability';

/** Leave this much of the invocation for the last queries in flight to finish. */
const SAFETY_MS = 10_000;

/**
 * Scheduled (every 5 minutes): settles contracts whose callback was lost or whose presign outcome is
 * unknown, by asking WeChat Pay. The event may carry `{"limit": n}` for a manual run.
 */
async function main(event: { limit?: number } | undefined, context: Context): Promise<ReconcileReport> {
  const limit = Math.min(Math.max(Number(event?.limit) || 200, 1), 1000);
  const report = await reconcile(await contractDeps(), {
    limit,
    concurrency: 4,
    shouldStop: () => context.getRemainingTimeInMillis() < SAFETY_MS,
    onError: (code, error) =>
      logger.warn('reconcile could not settle a contract', { out_contract_code: code, error }),
  });
  for (const [state, n] of Object.entries(report.settled)) {
    metrics.addMetric(`ReconcileSettled${state}`, MetricUnit.Count, n);
  }
  metrics.addMetric('ReconcileFailed', MetricUnit.Count, report.failed);
  logger.info('reconcile run', { ...report });
  return report;
}

export const handler = middy(main)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
