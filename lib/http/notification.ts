import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { NotificationRejected, PayloadTooLarge, SignatureInvalid } from '../errors';
import { logger } from '../observability';
import { json } from './response';

/** WeChat Pay's contract callbacks are ~1 KB; anything this large is not one of them. */
export const MAX_NOTIFICATION_BYTES = 64 * 1024;

/** Why a callback was refused, for the `CallbackRejected` metric's `reason` dimension. */
export function rejectionReason(error: unknown): 'signature' | 'decode' | 'size' | 'store' {
  if (error instanceof SignatureInvalid) return 'signature';
  if (error instanceof NotificationRejected) return 'decode';
  if (error instanceof PayloadTooLarge) return 'size';
  return 'store';
}

const STATUS = { signature: 401, decode: 400, size: 413, store: 500 } as const;

/**
 * Callback answers as WeChat Pay documents them: any 4xx/5xx with `{"code":"FAIL","message":…}`.
 * 401 for verification failures, 400 for undecodable bodies, 413 for oversize ones, and 500 when we could not
 * store, so that WeChat Pay retries. Messages say why but carry nothing from the decrypted resource.
 */
export function callbackErrors(
  onRejected: (reason: ReturnType<typeof rejectionReason>) => void,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: (request) => {
      const reason = rejectionReason(request.error);
      onRejected(reason);
      const message =
        reason === 'store'
          ? 'could not store the notification; please retry'
          : String(request.error?.message);
      if (reason === 'store') logger.error('callback not stored', { error: request.error });
      else logger.warn('callback refused', { reason, why: message });
      request.response = json(STATUS[reason], { code: 'FAIL', message });
    },
  };
}
