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

/**
 * 5xx, 429, timeouts and connection failures: no usable answer. After a 5xx, a timeout or a dropped connection
 * the outcome of a write is unknown; a 429 says it was not processed (`status` tells them apart).
 */
export class WechatPayUnavailable extends CodedError<WechatPayErrorCode> {
  readonly code = 'WECHATPAY_UNAVAILABLE';
  /** The HTTP status of the last answer; undefined when there was none (timeout, connection failure). */
  readonly status?: number;
  /** Seconds to wait before trying again, when WeChat Pay said so (`Retry-After`). */
  readonly retryAfterS?: number;

  constructor(
    message: string,
    readonly requestId?: string,
    options?: { cause?: unknown; status?: number; retryAfterS?: number },
  ) {
    super(message, options);
    if (options?.status !== undefined) this.status = options.status;
    if (options?.retryAfterS !== undefined) this.retryAfterS = options.retryAfterS;
  }
}

/**
 * Every attempt of a write was answered 429, which WeChat Pay documents as "not processed": it holds nothing of
 * the request, so the identical request (the same id) may be sent again at once, never as a new one.
 */
export class WechatPayThrottled extends WechatPayUnavailable {}

/** A WeChat Pay response or callback whose signature could not be verified. */
export class SignatureInvalid extends CodedError<WechatPayErrorCode> {
  readonly code = 'WECHATPAY_SIGNATURE_INVALID';
}

/** A callback that cannot be decoded or decrypted (body, envelope or resource). */
export class NotificationRejected extends CodedError<WechatPayErrorCode> {
  readonly code = 'NOTIFICATION_REJECTED';
}
