import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { notifyDeps } from '../lib/config';
import { applyNotification } from '../lib/contracts/notifications';
import { PayloadTooLarge } from '../lib/errors';
import { rawBody } from '../lib/http/body';
import { callbackErrors, MAX_NOTIFICATION_BYTES } from '../lib/http/notification';
import { logger, metrics, tracer } from '../lib/observability';
import { openNotification } from '../lib/wechatpay/notification';

/**
 * POST /wechatpay/notifications: WeChat Pay's signed, encrypted callbacks. Order matters and is fixed here:
 * the exact raw bytes first, then the signature over them, then parsing and decryption, then one atomic write.
 */
async function main(event: APIGatewayProxyEventV2) {
  const body = rawBody(event);
  if (body.length > MAX_NOTIFICATION_BYTES) {
    throw new PayloadTooLarge(`body of ${body.length} bytes exceeds ${MAX_NOTIFICATION_BYTES}`);
  }
  const deps = await notifyDeps();
  // Certificate mode: an unknown serial may be WeChat Pay's new platform certificate (one refresh at most).
  await deps.verifier.learn(event.headers);
  const { envelope, resource } = openNotification({ headers: event.headers, body }, deps);
  logger.appendKeys({ notification_id: envelope.id, event_type: envelope.event_type });
  const result = await applyNotification(deps, { envelope, resource, rawBody: body });
  if (result.out_contract_code) logger.appendKeys({ out_contract_code: result.out_contract_code });
  metrics.addMetric(
    result.outcome === 'DUPLICATE' ? 'CallbackDuplicate' : 'CallbackApplied',
    MetricUnit.Count,
    1,
  );
  if (result.created) metrics.addMetric('CallbackForUnknownContract', MetricUnit.Count, 1);
  logger.info('callback stored', { outcome: result.outcome, created: result.created });
  return { statusCode: 204 };
}

export const handler = middy(main)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(
    callbackErrors((reason) => {
      metrics.addDimension('reason', reason);
      metrics.addMetric('CallbackRejected', MetricUnit.Count, 1);
    }),
  );
