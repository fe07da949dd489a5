import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { presignDeps } from '../lib/config';
import type { PresignKind } from '../lib/contracts/model';
import { presign } from '../lib/contracts/presign';
import { ContractCodeUsed, PresignInProgress, ValidationFailed, WechatPayRejected } from '../lib/errors';
import { httpApi, isApiGatewayEvent } from '../lib/http/api';
import { parseJsonBody, rawBody } from '../lib/http/body';
import { json } from '../lib/http/errors';
import { logger, metrics, tracer } from '../lib/observability';

/**
 * POST /contracts/h5-presign and POST /contracts/app-presign, or a direct invocation whose event is the
 * H5 body (or `{"kind":"APP", …body}` for APP). Returns 201 with the redirect URL / presign token, 200 for an
 * identical replay.
 */
async function main(event: unknown) {
  const api = isApiGatewayEvent(event);
  const { kind, body } = api
    ? { kind: kindOfRoute(event.routeKey), body: parseJsonBody(rawBody(event)) }
    : directInvocation(event);
  const outcome = await presign(await presignDeps(), kind, body).catch((error: unknown) => {
    // A refused body's code is not logged: whatever the caller put there (a name, an ID number) stays out.
    if (!(error instanceof ValidationFailed)) tagCode(body);
    countFailure(error);
    throw error;
  });
  tagCode(body);
  metrics.addMetric(outcome.replayed ? 'PresignReplayed' : 'PresignCreated', MetricUnit.Count, 1);
  if (!outcome.stored) {
    // WeChat Pay accepted, our store did not: the callback or reconcile settles the record later.
    metrics.addMetric('PresignStoreFailed', MetricUnit.Count, 1);
    logger.error('presign accepted by WeChat Pay but the record was not updated', {
      wechatpay_request_id: outcome.requestId,
    });
  }
  logger.info(outcome.replayed ? 'presign replayed' : 'presign created', {
    wechatpay_request_id: outcome.requestId,
  });
  if (!api) return outcome.result;
  return outcome.replayed
    ? json(200, outcome.result, { 'idempotent-replayed': 'true' })
    : json(201, outcome.result);
}

/** Adds the (validated) out_contract_code to every later log line of this invocation. */
function tagCode(body: unknown): void {
  const code = (body as { out_contract_code?: unknown }).out_contract_code;
  if (typeof code === 'string') logger.appendKeys({ out_contract_code: code });
}

function kindOfRoute(routeKey: string): PresignKind {
  return routeKey.endsWith('/app-presign') ? 'APP' : 'H5';
}

function directInvocation(event: unknown): { kind: PresignKind; body: unknown } {
  if (typeof event === 'object' && event !== null && 'kind' in event) {
    const { kind, ...body } = event as Record<string, unknown>;
    if (kind !== 'APP' && kind !== 'H5')
      throw new ValidationFailed([{ field: '/kind', issue: 'must be "H5" or "APP"' }]);
    return { kind, body };
  }
  return { kind: 'H5', body: event };
}

function countFailure(error: unknown): void {
  if (error instanceof ContractCodeUsed || error instanceof PresignInProgress) {
    metrics.addMetric('PresignConflicted', MetricUnit.Count, 1);
  } else if (error instanceof WechatPayRejected) {
    metrics.addMetric('PresignRejectedByWechatPay', MetricUnit.Count, 1);
  }
}

export const handler = middy(main)
  .use(captureLambdaHandler(tracer))
  // Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: its body holds the plaintext identity.
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
  .use(logMetrics(metrics))
  .use(httpApi());
