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
 * WeChat Pay's own pages disagree on the APP presign's sub-merchant field: `sub_merchant_code` on the APP page,
 * `sub_mchid` on the H5 page and in the SDK docs. Our API always takes `sub_mchid`; the APP wire name is a setting.
 */
export type SubMerchantField = 'sub_mchid' | 'sub_merchant_code';

export interface PresignWire {
  /** Our callback route: `contract_notify_url`, and `trade_info.notify_url` unless the caller gave one. */
  notifyUrl: string;
  appSubMerchantField: SubMerchantField;
}

/** The request WeChat Pay receives: our input plus `contract_notify_url`, identity fields OAEP-encrypted. */
export function presignRequest(
  kind: PresignKind,
  input: PresignInput,
  wire: PresignWire,
  wechatpay: Pick<WechatPayGateway, 'encrypt'>,
): WechatPayRequest {
  const { real_identity, sub_mchid, trade_info, ...rest } = input;
  const subMerchantField = kind === 'APP' ? wire.appSubMerchantField : 'sub_mchid';
  const body = {
    ...rest,
    ...(sub_mchid === undefined ? {} : { [subMerchantField]: sub_mchid }),
    contract_notify_url: wire.notifyUrl,
    // A sign-and-repay flow's DEDUCTION_PAY goes to trade_info.notify_url: without one it would reach nobody.
    ...(trade_info
      ? { trade_info: { ...trade_info, notify_url: trade_info.notify_url ?? wire.notifyUrl } }
      : {}),
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
