/**
 * The root of the service's one error hierarchy, and the errors of the WeChat Pay protocol. Each error knows its
 * stable upper-snake `code`, its PascalCase `name` (what Step Functions `Retry`/`Catch` match on) and its
 * `cause`. The root lives here, not in lib/errors.ts, because lib/wechatpay imports nothing from outside itself;
 * lib/errors.ts adds the service's own errors on the same root. HTTP status is decided at the edge, never here.
 *
 * Messages must never carry personal data (`real_name`, `identity_id`, `openid`).
 */
export type WechatPayErrorCode =
  | 'WECHATPAY_REJECTED'
  | 'WECHATPAY_UNAVAILABLE'
  | 'WECHATPAY_SIGNATURE_INVALID'
  | 'NOTIFICATION_REJECTED';

/** `WECHATPAY_UNAVAILABLE` -> `WechatPayUnavailable`: WeChat Pay is two words in every name we expose. */
const pascal = (code: string): string =>
  code
    .toLowerCase()
    .split('_')
    .map((w) => (w === 'wechatpay' ? 'WechatPay' : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('');

export abstract class CodedError<Code extends string = string> extends Error {
  abstract readonly code: Code;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /** `ContractCodeUsed` for `CONTRACT_CODE_USED`: set lazily because `code` is a subclass field. */
  override get name(): string {
    return pascal(this.code);
  }

  /** Extra response fields beyond `code` and `message` (never personal data). */
  details(): Record<string, unknown> {
    return {};
  }
}

/** What WeChat Pay said when it answered with a 4xx (or a 2xx we could not accept). */
export interface WechatPayErrorInfo {
  status: number;
  code: string;
  message: string;
  request_id?: string;
  detail?: unknown;
}

export class WechatPayRejected extends CodedError<WechatPayErrorCode> {
  readonly code = 'WECHATPAY_REJECTED';
  constructor(
    readonly wechatpay: WechatPayErrorInfo,
    options?: { cause?: unknown },
  ) {
    super(
      `WeChat Pay rejected the request: HTTP ${wechatpay.status} ${wechatpay.code}: ${wechatpay.message}` +
        (wechatpay.request_id ? ` (Request-ID ${wechatpay.request_id})` : ''),
      options,
    );
  }
  override details() {
    const { status, code, message, request_id } = this.wechatpay;
    return { wechatpay: { status, code, message, request_id } };
  }
}

/** 5xx, 429, timeouts and connection failures: the outcome of a write is unknown. */
export class WechatPayUnavailable extends CodedError<WechatPayErrorCode> {
  readonly code = 'WECHATPAY_UNAVAILABLE';
  constructor(
    message: string,
    readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A WeChat Pay response or callback whose signature could not be verified. */
export class SignatureInvalid extends CodedError<WechatPayErrorCode> {
  readonly code = 'WECHATPAY_SIGNATURE_INVALID';
}

/** A callback that cannot be decoded or decrypted (body, envelope or resource). */
export class NotificationRejected extends CodedError<WechatPayErrorCode> {
  readonly code = 'NOTIFICATION_REJECTED';
}
