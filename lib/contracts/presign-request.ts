import { setTimeout as sleep } from 'node:timers/promises';
import { SignatureInvalid, WechatPayRejected, WechatPayUnavailable } from '../errors';
import {
  backoffMs,
  type SignedRequest,
  type WechatPayRequest,
  type WechatPayResponse,
} from '../wechatpay/client';
import {
  APP_PRESIGN_PATH,
  H5_PRESIGN_PATH,
  parseAppPresignResponse,
  parseH5PresignResponse,
} from '../wechatpay/credit-repayment';
import type { PresignKind } from './model';
import type { WechatPayGateway } from './ports';
import type { PresignInput } from './validation';

/** What WeChat Pay's accepted presign hands back for the user: the signing page, or the APP's token. */
export type PresignAnswer = { redirect_url: string } | { presign_token: string; redirect_service?: string };

/**
 * The request WeChat Pay receives: our input plus `contract_notify_url` (and `trade_info.notify_url` by default),
 * identity fields OAEP-encrypted.
 */
export function presignRequest(
  kind: PresignKind,
  input: PresignInput,
  notifyUrl: string,
  wechatpay: Pick<WechatPayGateway, 'encrypt'>,
): WechatPayRequest {
  const { real_identity, ...rest } = input;
  const body = {
    ...rest,
    // Sign-and-repay: its DEDUCTION_PAY comes to our callback route too unless the caller names another URL.
    ...(rest.trade_info
      ? { trade_info: { ...rest.trade_info, notify_url: rest.trade_info.notify_url ?? notifyUrl } }
      : {}),
    contract_notify_url: notifyUrl,
    ...(real_identity
      ? {
          real_identity: {
            identity_type: real_identity.identity_type,
            identity_id: wechatpay.encrypt(real_identity.identity_id),
            real_name: wechatpay.encrypt(real_identity.real_name),
          },
        }
      : {}),
  };
  return { method: 'POST', path: kind === 'H5' ? H5_PRESIGN_PATH : APP_PRESIGN_PATH, body };
}

/** The first send and two retries, as WeChat Pay advises for 5xx ("retry with identical parameters"). */
const MAX_SENDS = 3;
const RETRY_DELAY_MS = 100;

/**
 * Sends the presign, resending the identical body on 5xx, 429, timeouts and dropped connections, and reads
 * WeChat Pay's answer. The attempts are counted here rather than in the client because a presign is not
 * idempotent: once an attempt may have reached WeChat Pay, its refusal of a later attempt ("协议号已存在", the
 * code is taken, by us) proves nothing about the first, so the outcome stays unknown instead of failed.
 */
export async function sendPresign(
  wechatpay: WechatPayGateway,
  kind: PresignKind,
  first: SignedRequest,
): Promise<{ response: WechatPayResponse; answer: PresignAnswer }> {
  const response = await sendWithRetries(wechatpay, first);
  const json = response.json();
  const answer = kind === 'H5' ? parseH5PresignResponse(json) : parseAppPresignResponse(json);
  return { response, answer };
}

async function sendWithRetries(
  wechatpay: WechatPayGateway,
  first: SignedRequest,
): Promise<WechatPayResponse> {
  let signed = first;
  let unknown: WechatPayUnavailable | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await wechatpay.send(signed, { retry: false });
    } catch (error) {
      if (error instanceof WechatPayRejected && unknown) {
        throw new WechatPayUnavailable(
          `attempt ${attempt - 1} may have reached WeChat Pay (${unknown.message}); ` +
            `attempt ${attempt} was then refused (${error.message}), so the outcome is unknown`,
          error.wechatpay.request_id ?? unknown.requestId,
          { cause: error },
        );
      }
      if (!(error instanceof WechatPayUnavailable)) throw error;
      if (attempt >= MAX_SENDS) {
        throw new WechatPayUnavailable(
          `no usable answer from WeChat Pay in ${attempt} attempts; the last: ${error.message}`,
          error.requestId ?? unknown?.requestId,
          { cause: error },
        );
      }
      unknown = error;
      await sleep(backoffMs(attempt, RETRY_DELAY_MS));
      // A fresh nonce and timestamp over the identical body string.
      signed = await wechatpay.sign(signed.request).catch((cause: unknown) => {
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new WechatPayUnavailable(
          `attempt ${attempt} may have reached WeChat Pay (${error.message}) and the retry could not be signed: ${why}`,
          error.requestId,
          { cause },
        );
      });
    }
  }
}

/**
 * The error presign answers with when `sendPresign` failed: a refusal as it is; anything else (5xx, 429,
 * timeouts, dropped connections, unverifiable or unusable answers) as WechatPayUnavailable, because WeChat Pay
 * may or may not have accepted the presign. Only its query API can tell; reconcile asks it.
 */
export function presignFailure(error: unknown): WechatPayRejected | WechatPayUnavailable {
  if (error instanceof WechatPayRejected || error instanceof WechatPayUnavailable) return error;
  if (error instanceof SignatureInvalid) {
    return new WechatPayUnavailable(
      `WeChat Pay's answer could not be verified: ${error.message}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  const why = error instanceof Error ? error.message : String(error);
  return new WechatPayUnavailable(`WeChat Pay's answer was not usable: ${why}`, undefined, { cause: error });
}
