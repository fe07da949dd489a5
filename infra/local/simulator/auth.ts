import type { KeyObject } from 'node:crypto';
import { rsaVerify, signatureMessage } from './crypto';
import { invalidRequest, WechatError } from './errors';

export interface IncomingCall {
  method: string;
  /** Path and raw query string, exactly as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface AuthOptions {
  mchid: string;
  merchantSerialNo: string;
  merchantPublicKey: () => Promise<KeyObject>;
  /** Epoch ms. */
  now: () => number;
}

const SCHEME = 'WECHATPAY2-SHA256-RSA2048';
const REQUIRED = ['mchid', 'nonce_str', 'signature', 'timestamp', 'serial_no'] as const;
const MAX_SKEW_S = 300;

type Credentials = Record<(typeof REQUIRED)[number], string>;

export function header(call: IncomingCall, name: string): string | undefined {
  const value = call.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `WECHATPAY2-SHA256-RSA2048 k="v",k="v"`: one space after the scheme, no spaces between pairs. */
function parseAuthorization(value: string | undefined): Credentials | string {
  if (!value) return 'Authorization header is missing';
  if (!value.startsWith(`${SCHEME} `)) return `scheme must be ${SCHEME} followed by one space`;
  const pairs: Record<string, string> = {};
  for (const part of value.slice(SCHEME.length + 1).split(',')) {
    const m = /^([a-z_]+)="([^"]*)"$/.exec(part);
    if (!m?.[1] || m[2] === undefined) return `cannot parse ${JSON.stringify(part)} as key="value"`;
    if (m[1] in pairs) return `${m[1]} appears twice`;
    pairs[m[1]] = m[2];
  }
  const missing = REQUIRED.filter((k) => !pairs[k]);
  if (missing.length > 0) return `missing or empty: ${missing.join(', ')}`;
  return pairs as Credentials;
}

/** The truncated canonical message WeChat Pay echoes back to help debug a signature. */
function signInformation(call: IncomingCall, timestamp: string, nonce: string) {
  const message = signatureMessage([call.method, call.url, timestamp, nonce], call.body);
  const shortNonce = nonce.length > 4 ? `${nonce.slice(0, 4)}…` : nonce;
  const bodyText = call.body.toString('utf8');
  const shortBody = bodyText.length > 64 ? `${bodyText.slice(0, 64)}…` : bodyText;
  return {
    method: call.method,
    url: call.url,
    sign_message_length: message.length,
    truncated_sign_message: `${call.method}\n${call.url}\n${timestamp}\n${shortNonce}\n${shortBody}\n`,
  };
}

/** Checks `Accept`/`User-Agent` and the merchant's `Authorization` signature, in WeChat Pay's order. */
export class MerchantAuth {
  private publicKey: KeyObject | undefined;

  constructor(private readonly options: AuthOptions) {}

  async check(call: IncomingCall): Promise<void> {
    if (!header(call, 'accept') || !header(call, 'user-agent')) {
      throw invalidRequest('Http头缺少Accept或User-Agent');
    }
    const parsed = parseAuthorization(header(call, 'authorization'));
    const signError = (message: string, field: string, issue: string, ts = '', nonce = '') =>
      new WechatError(401, 'SIGN_ERROR', message, {
        field,
        location: 'authorization',
        detail: { issue },
        sign_information: signInformation(call, ts, nonce),
      });
    if (typeof parsed === 'string') {
      throw signError(
        'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》',
        'authorization',
        parsed,
      );
    }
    const { mchid, nonce_str: nonce, signature, timestamp, serial_no: serial } = parsed;
    const fail = (message: string, field: string, issue: string) =>
      signError(message, field, issue, timestamp, nonce);
    if (mchid !== this.options.mchid) {
      throw fail(
        '商户号mchid不正确',
        'mchid',
        `mchid ${mchid} is not the service provider ${this.options.mchid}`,
      );
    }
    if (serial !== this.options.merchantSerialNo) {
      throw fail(
        '商户API证书序列号serial_no不正确',
        'serial_no',
        `serial_no ${serial} is not the merchant certificate serial ${this.options.merchantSerialNo}`,
      );
    }
    if (!/^\d{1,12}$/.test(timestamp))
      throw fail('签名时间戳timestamp格式错误', 'timestamp', 'not Unix seconds');
    const skew = Math.abs(Math.floor(this.options.now() / 1000) - Number(timestamp));
    if (skew > MAX_SKEW_S) {
      throw fail(
        '签名时间戳timestamp已过期',
        'timestamp',
        `timestamp skew ${skew} s exceeds ${MAX_SKEW_S} s`,
      );
    }
    const message = signatureMessage([call.method, call.url, timestamp, nonce], call.body);
    if (!rsaVerify(await this.merchantKey(), message, signature)) {
      throw fail('错误的签名，验签失败', 'signature', 'sign not match');
    }
  }

  private async merchantKey(): Promise<KeyObject> {
    if (this.publicKey) return this.publicKey;
    try {
      this.publicKey = await this.options.merchantPublicKey();
    } catch (err) {
      throw new WechatError(
        500,
        'SYSTEM_ERROR',
        `系统错误 (simulator could not load the merchant public key: ${(err as Error).message})`,
      );
    }
    return this.publicKey;
  }
}
