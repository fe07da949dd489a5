import type { WechatPayRequest, WechatPayResponse } from '../wechatpay/client';
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

/** WeChat Pay's answer to an accepted presign; throws when it is not one (then nobody knows what happened). */
export function presignAnswer(kind: PresignKind, response: WechatPayResponse): PresignAnswer {
  const json = response.json();
  return kind === 'H5' ? parseH5PresignResponse(json) : parseAppPresignResponse(json);
}
