import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { NotificationRejected, PayloadTooLarge, SignatureInvalid } from '../errors';
import { logger } from '../observability';
import { json } from './response';

/** WeChat Pay's contract callbacks are ~1 KB; anything this large is not one of them. */
export const MAX_NOTIFICATION_BYTES = 64 * 1024;

type Reason = 'signature' | 'decode' | 'size' | 'store';

/** Why a callback was refused, for the `CallbackRejected` metric's `reason` dimension. */
export function rejectionReason(error: unknown): Reason {
  if (error instanceof SignatureInvalid) return 'signature';
  if (error instanceof NotificationRejected) return 'decode';
  if (error instanceof PayloadTooLarge) return 'size';
  return 'store';
}

/**
 * What anyone who posts to the public route learns: a status and a fixed sentence per reason, inside WeChat Pay's
 * limits (`code` at most 32 characters, `message` at most 64). The error's own message (which serial, which
 * header, which key ids we hold) goes to the log only.
 */
export const CALLBACK_ANSWERS: Record<Reason, { status: number; message: string }> = {
  signature: { status: 401, message: 'signature verification failed' },
  decode: { status: 400, message: 'notification could not be decoded' },
  size: { status: 413, message: 'notification body too large' },
  store: { status: 500, message: 'could not store the notification; please retry' },
};

/**
 * Callback answers as WeChat Pay documents them: any 4xx/5xx with `{"code":"FAIL","message":…}`.
 * 401 for verification failures, 400 for undecodable bodies, 413 for oversize ones, and 500 when we could not
 * store, so that WeChat Pay retries. The log line says why; it carries nothing from the decrypted resource.
 */
export function callbackErrors(
  onRejected: (reason: Reason) => void,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: (request) => {
      const reason = rejectionReason(request.error);
      onRejected(reason);
      if (reason === 'store') logger.error('callback not stored', { error: request.error });
      else logger.warn('callback refused', { reason, why: String(request.error?.message) });
      const { status, message } = CALLBACK_ANSWERS[reason];
      request.response = json(status, { code: 'FAIL', message });
    },
  };
}
