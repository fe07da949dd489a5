import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type NotifyDeps, notifyDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import {
  ANSWER_MS,
  type Budget,
  beforeDeadline,
  inTime,
  keeping,
  late,
  RECORD_MS,
  remainingTime,
} from '../lib/contracts/budget';
import { applyNotification, type OpenedNotification } from '../lib/contracts/notifications';
import { PayloadTooLarge } from '../lib/errors';
import { rawBody } from '../lib/http/body';
import { lambda, type Wiring } from '../lib/http/lambda';
import { callbackErrors, MAX_NOTIFICATION_BYTES } from '../lib/http/notification';
import { recordMetric } from '../lib/metrics';
import { logger, metrics } from '../lib/observability';
import { applyDeductionPay, DEDUCTION_PAY } from '../lib/repayments/notifications';
import { openNotification } from '../lib/wechatpay/notification';

/**
 * POST /wechatpay/notifications: WeChat Pay's signed, encrypted callbacks. Order matters and is fixed here:
 * the exact raw bytes first, then the signature over them, then parsing and decryption, then one atomic write.
 */
export function makeHandler(wiring: Wiring<NotifyDeps>) {
  async function main(event: APIGatewayProxyEventV2, context: Context) {
    const body = rawBody(event);
    if (body.length > MAX_NOTIFICATION_BYTES) {
      throw new PayloadTooLarge(`body of ${body.length} bytes exceeds ${MAX_NOTIFICATION_BYTES}`);
    }
    const deps = await wiring.load();
    // WeChat Pay waits 5 s, and so does this function: a callback not stored in time is answered 500 (WeChat
    // Pay resends it) rather than killed; its transaction, if it lands later, makes the resend a duplicate.
    const answerBy = keeping(remainingTime(context), ANSWER_MS);
    // Certificate mode: an unknown serial may be WeChat Pay's new platform certificate (one refresh at most). A
    // refresh that outlasts its time goes on for the next delivery; this one's verification says why it fails.
    await beforeDeadline(deps.verifier.learn(event.headers), keeping(answerBy, RECORD_MS).remainingMs(), () =>
      late('WeChat Pay', 'the platform certificate download'),
    ).catch(() => undefined);
    const { envelope, resource } = openNotification({ headers: event.headers, body }, deps);
    logger.appendKeys({ notification_id: envelope.id, event_type: envelope.event_type });
    const opened = { envelope, resource, rawBody: body };
    if (envelope.event_type === DEDUCTION_PAY) return deductionPaid(deps, opened, answerBy);
    const result = await inTime(
      answerBy,
      applyNotification(deps, opened),
      'DynamoDB',
      'storing the callback',
    );
    if (result.out_contract_code) logger.appendKeys({ out_contract_code: result.out_contract_code });
    recordMetric(result.outcome === 'DUPLICATE' ? 'CallbackDuplicate' : 'CallbackApplied');
    if (result.created) recordMetric('CallbackForUnknownContract');
    // Acknowledged but not acted on: kept, announced, and alarmed on, for an operator to apply.
    if (result.outcome === 'UNHANDLED') recordMetric('NotificationUnhandled');
    logger.info('callback stored', { outcome: result.outcome, created: result.created });
    return { statusCode: 204 };
  }

  const edge = callbackErrors((reason) => {
    metrics.addDimension('reason', reason);
    recordMetric('CallbackRejected');
  });
  return lambda(main, wiring, { edge });
}

/** A repayment's success, applied by lib/repayments; one that does not match is kept and acknowledged (204). */
async function deductionPaid(deps: NotifyDeps, opened: OpenedNotification, answerBy: Budget) {
  const applied = applyDeductionPay(deps.repayments, opened);
  const result = await inTime(answerBy, applied, 'DynamoDB', 'storing the callback');
  logger.appendKeys({ out_record_id: result.out_record_id, out_trade_no: result.out_trade_no });
  recordMetric(result.outcome === 'DUPLICATE' ? 'CallbackDuplicate' : 'CallbackApplied');
  if (result.created) recordMetric('CallbackForUnknownOrder');
  if (result.outcome === 'UNHANDLED') {
    recordMetric('NotificationUnhandled');
    logger.error('DEDUCTION_PAY kept unhandled', { reason: result.reason });
  } else {
    logger.info('callback stored', { outcome: result.outcome, created: result.created });
  }
  return { statusCode: 204 };
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(notifyDeps(runtime));
export const handler = handlerFor(processRuntime);
