import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ErrorCode, ServiceError, WechatPayUnavailable } from '../errors';
import { json } from './response';

/** The one place that decides HTTP status for our API (README "API", docs/openapi.json). */
const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  CONTRACT_CODE_USED: 409,
  PRESIGN_IN_PROGRESS: 409,
  CONTRACT_STATE_CONFLICT: 409,
  CONTRACT_NOT_FOUND: 404,
  WECHATPAY_REJECTED: 502,
  WECHATPAY_UNAVAILABLE: 503,
  WECHATPAY_SIGNATURE_INVALID: 503,
  DEPENDENCY_UNAVAILABLE: 503,
  NOTIFICATION_REJECTED: 400,
  PAYLOAD_TOO_LARGE: 413,
  REPAYMENT_ID_USED: 409,
  BOOKING_IN_PROGRESS: 409,
  REPAYMENT_NOT_FOUND: 404,
  REPAYMENT_NOT_DUE: 409,
  REPAYMENT_STATE_CONFLICT: 409,
  DEDUCTION_IN_PROGRESS: 409,
  TRADE_NO_USED: 409,
};

/**
 * What a 503 says, whatever went wrong below: the error's own message quotes AWS (role and table ARNs, key ids,
 * SDK error text) or names our keys, which is for the logs (the edge logs every 5xx with its cause), not the caller.
 */
export const UNAVAILABLE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  WECHATPAY_UNAVAILABLE: 'WeChat Pay is unavailable or its answer was not usable',
  WECHATPAY_SIGNATURE_INVALID: "WeChat Pay's answer could not be verified; retry shortly",
  DEPENDENCY_UNAVAILABLE: 'a dependency of the service is unavailable; retry shortly',
};

/** Maps any error to `{code, message, …}`; an unexpected error never leaks its stack or message. */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof ServiceError) {
    // WeChat Pay's own Retry-After when it refused every attempt unprocessed; otherwise a second.
    const retryAfter = error instanceof WechatPayUnavailable ? (error.retryAfterS ?? 1) : 1;
    const generic = UNAVAILABLE_MESSAGES[error.code];
    if (generic !== undefined) {
      return json(
        STATUS[error.code],
        { code: error.code, message: generic },
        { 'retry-after': String(retryAfter) },
      );
    }
    return json(STATUS[error.code], { code: error.code, message: error.message, ...error.details() });
  }
  return json(500, { code: 'INTERNAL_ERROR', message: 'internal error; see the logs for the request id' });
}

export function isExpected(error: unknown): boolean {
  return error instanceof ServiceError && STATUS[error.code] < 500;
}
