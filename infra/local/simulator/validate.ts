import type { KeyObject } from 'node:crypto';
import { oaepDecrypt } from './crypto';
import { paramError } from './errors';
import { int, NO_SPACE, notifyUrl, type Obj, obj, onlyKeys, str } from './fields';
import type { SubMerchantField, TradeInfo } from './types';

/* Field rules of the presign and terminate bodies (docs/protocol.md). */

export interface PresignInput {
  appid: string;
  plan_id: string;
  out_contract_code: string;
  display_name: string;
  contract_notify_url: string;
  repayment_amount_limit: string;
  repayment_day?: number;
  sub_mchid?: string;
  sub_appid?: string;
  real_identity_verified: boolean;
  trade_info?: TradeInfo;
  jump_appid?: string;
}

export const CONTRACT_CODE = /^[0-9A-Za-z]{1,64}$/;

/** WeChat Pay's mask: keep the last character; longer than 4 characters → `***` + last. */
export function maskName(name: string): string {
  const chars = Array.from(name);
  const last = chars.at(-1) ?? '';
  return chars.length > 4 ? `***${last}` : `${'*'.repeat(chars.length - 1)}${last}`;
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** 18-character resident ID card number with its ISO 7064 MOD 11-2 check character. */
function validResidentId(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return '10X98765432'[sum % 11] === id[17];
}

function decryptField(key: KeyObject, ciphertext: string, field: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(oaepDecrypt(key, ciphertext));
  } catch {
    throw paramError(field, '解密失败');
  }
}

/**
 * Checks `real_identity` and returns the masked form of the decrypted name. The plaintexts live only in
 * this function's locals.
 */
function realIdentity(ri: Obj, key: KeyObject): string {
  const base = '/real_identity';
  onlyKeys(ri, base, ['identity_type', 'identity_id', 'real_name']);
  const type = str(ri, 'identity_type', base, { required: true, max: 64 });
  if (type === 'REAL_IDENTITY_TYPE_INVALID') {
    throw paramError(`${base}/identity_type`, 'REAL_IDENTITY_TYPE_INVALID不是可用的证件类型', type);
  }
  if (type !== 'REAL_IDENTITY_TYPE_ID_CARD') {
    throw paramError(`${base}/identity_type`, '取值不在枚举范围内(REAL_IDENTITY_TYPE_ID_CARD)', type);
  }
  const idCipher = str(ri, 'identity_id', base, { required: true, max: 512, secret: true });
  const nameCipher = str(ri, 'real_name', base, { required: true, max: 512, secret: true });
  const id = decryptField(key, idCipher, `${base}/identity_id`);
  const name = decryptField(key, nameCipher, `${base}/real_name`);
  if (!validResidentId(id)) throw paramError(`${base}/identity_id`, '证件号码格式错误(需18位居民身份证号码)');
  if (name.trim() === '' || Array.from(name).length > 64) {
    throw paramError(`${base}/real_name`, '姓名为空或超过64个字符');
  }
  return maskName(name);
}

function tradeInfo(ti: Obj, limit: string): TradeInfo {
  const base = '/trade_info';
  onlyKeys(ti, base, ['out_trade_no', 'deduct_amount', 'description', 'attach', 'notify_url']);
  const out: TradeInfo = {
    out_trade_no: str(ti, 'out_trade_no', base, {
      required: true,
      min: 6,
      max: 32,
      pattern: /^[0-9A-Za-z_\-|*]+$/,
      patternIssue: '只能是数字、大小写字母或_-|*',
    }),
    deduct_amount:
      int(ti, 'deduct_amount', base, { required: true, min: 1, max: Number.MAX_SAFE_INTEGER }) ?? 0,
  };
  if (BigInt(out.deduct_amount) > BigInt(limit)) {
    throw paramError(`${base}/deduct_amount`, '不能超过repayment_amount_limit', out.deduct_amount);
  }
  const description = str(ti, 'description', base, { max: 127 });
  const attach = str(ti, 'attach', base, { max: 128 });
  const notify = notifyUrl(ti, 'notify_url', base, false);
  if (description !== undefined) out.description = description;
  if (attach !== undefined) out.attach = attach;
  if (notify !== undefined) out.notify_url = notify;
  return out;
}

const COMMON_KEYS = [
  'appid',
  'plan_id',
  'out_contract_code',
  'display_name',
  'contract_notify_url',
  'repayment_day',
  'repayment_amount_limit',
  'sub_mchid',
  'sub_appid',
  'real_identity',
  'trade_info',
] as const;

/**
 * `decryptionKey` is the private key of the WeChat Pay key named by the request's `Wechatpay-Serial`.
 * `subMerchantField` is the one name this WeChat Pay takes for the sub-merchant id (the APP page documents
 * `sub_merchant_code`, every other source `sub_mchid`); the other name is an unknown field.
 */
export function validatePresign(
  body: Obj,
  channel: 'H5' | 'APP',
  decryptionKey: KeyObject,
  subMerchantField: SubMerchantField,
): PresignInput {
  const keys = COMMON_KEYS.map((k) => (k === 'sub_mchid' ? subMerchantField : k));
  onlyKeys(body, '', channel === 'H5' ? [...keys, 'jump_info'] : keys);
  const code = (key: string, max: number) =>
    str(body, key, '', { max, pattern: NO_SPACE, patternIssue: '不能包含空白字符' });
  const input: PresignInput = {
    appid: str(body, 'appid', '', {
      required: true,
      max: 32,
      pattern: NO_SPACE,
      patternIssue: '不能包含空白字符',
    }),
    plan_id: str(body, 'plan_id', '', {
      required: true,
      max: 64,
      pattern: NO_SPACE,
      patternIssue: '不能包含空白字符',
    }),
    out_contract_code: str(body, 'out_contract_code', '', {
      required: true,
      max: 64,
      pattern: CONTRACT_CODE,
      patternIssue: '只能是数字和大小写字母',
    }),
    display_name: str(body, 'display_name', '', {
      required: true,
      max: 64,
      pattern: /^\*{0,3}[^*\s]$/u,
      patternIssue:
        '须为脱敏姓名：仅保留最后一个字，其余替换为*（单字姓名即其本身），超过4个字时为***加最后一个字',
    }),
    contract_notify_url: notifyUrl(body, 'contract_notify_url', '', true) ?? '',
    repayment_amount_limit: '',
    real_identity_verified: false,
  };
  const day = int(body, 'repayment_day', '', { required: false, min: 1, max: 31 });
  if (day !== undefined) input.repayment_day = day;
  const limit = str(body, 'repayment_amount_limit', '', {
    required: true,
    max: 15, // keeps the integer in query answers exact (Number.MAX_SAFE_INTEGER has 16 digits)
    pattern: /^\d+$/,
    patternIssue: '应为以分为单位的数字字符串',
  });
  if (BigInt(limit) <= 0n) throw paramError('/repayment_amount_limit', '必须大于0', limit);
  input.repayment_amount_limit = limit;
  const subMchid = code(subMerchantField, 32);
  if (subMchid !== undefined) input.sub_mchid = subMchid;
  const subAppid = code('sub_appid', 32);
  if (subAppid !== undefined) input.sub_appid = subAppid;
  const ri = obj(body, 'real_identity', '');
  if (ri) {
    if (realIdentity(ri, decryptionKey) !== input.display_name) {
      throw paramError('/display_name', '与real_identity.real_name的脱敏结果不一致', input.display_name);
    }
    input.real_identity_verified = true;
  }
  const ti = obj(body, 'trade_info', '');
  if (ti) input.trade_info = tradeInfo(ti, limit);
  const ji = obj(body, 'jump_info', '');
  if (ji) {
    onlyKeys(ji, '/jump_info', ['jump_appid']);
    const jump = str(ji, 'jump_appid', '/jump_info', {
      max: 32,
      pattern: NO_SPACE,
      patternIssue: '不能包含空白字符',
    });
    if (jump !== undefined) input.jump_appid = jump;
  }
  return input;
}

export function validateTerminate(body: Obj): {
  out_contract_code: string;
  contract_termination_remark: string;
} {
  onlyKeys(body, '', ['out_contract_code', 'contract_termination_remark']);
  return {
    out_contract_code: str(body, 'out_contract_code', '', {
      required: true,
      max: 64,
      pattern: CONTRACT_CODE,
      patternIssue: '只能是数字和大小写字母',
    }),
    contract_termination_remark: str(body, 'contract_termination_remark', '', { required: true, max: 128 }),
  };
}
