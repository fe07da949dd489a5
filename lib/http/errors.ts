import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ErrorCode, ServiceError } from '../errors';
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

/** Maps any error to `{code, message, …}`; an unexpected error never leaks its stack or message. */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof ServiceError) {
    const headers: Record<string, string> = STATUS[error.code] === 503 ? { 'retry-after': '1' } : {};
    return json(
      STATUS[error.code],
      { code: error.code, message: error.message, ...error.details() },
      headers,
    );
  }
  return json(500, { code: 'INTERNAL_ERROR', message: 'internal error; see the logs for the request id' });
}

export function isExpected(error: unknown): boolean {
  return error instanceof ServiceError && STATUS[error.code] < 500;
}
