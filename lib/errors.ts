/**
 * The one error hierarchy of the service. Each error knows its stable upper-snake `code`, its
 * PascalCase `name` (what Step Functions `Retry`/`Catch` match on) and its `cause`. HTTP status is
 * decided at the edge (lib/http/errors.ts), never here.
 *
 * Messages must never carry personal data (`real_name`, `identity_id`, `openid`).
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'CONTRACT_CODE_USED'
  | 'PRESIGN_IN_PROGRESS'
  | 'CONTRACT_NOT_FOUND'
  | 'CONTRACT_STATE_CONFLICT'
  | 'WECHATPAY_REJECTED'
  | 'WECHATPAY_UNAVAILABLE'
  | 'WECHATPAY_SIGNATURE_INVALID'
  | 'DEPENDENCY_UNAVAILABLE'
  | 'NOTIFICATION_REJECTED'
  | 'PAYLOAD_TOO_LARGE';

/** `WECHATPAY_UNAVAILABLE` -> `WechatPayUnavailable`: WeChat Pay is two words in every name we expose. */
const pascal = (code: string): string =>
  code
    .toLowerCase()
    .split('_')
    .map((w) => (w === 'wechatpay' ? 'WechatPay' : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('');

export abstract class ServiceError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /** `ContractCodeUsed` for `CONTRACT_CODE_USED`: set lazily because `code` is a subclass field. */
  override get name(): string {
    return pascal(this.code);
  }

  /** Extra response fields beyond `code` and `message` (never PII). */
  details(): Record<string, unknown> {
    return {};
  }
}

export interface FieldIssue {
  /** JSON pointer into the request body, e.g. `/real_identity/identity_id`. */
  field: string;
  issue: string;
}

export class ValidationFailed extends ServiceError {
  readonly code = 'VALIDATION_FAILED';
  constructor(readonly errors: FieldIssue[]) {
    super(`request is invalid: ${errors.map((e) => `${e.field || '/'} ${e.issue}`).join('; ')}`);
  }
  override details() {
    return { errors: this.errors };
  }
}

export class ContractCodeUsed extends ServiceError {
  readonly code = 'CONTRACT_CODE_USED';
  constructor(
    readonly outContractCode: string,
    readonly state: string,
  ) {
    super(`out_contract_code ${outContractCode} is already used (state ${state}); codes are never reusable`);
  }
  override details() {
    return { state: this.state };
  }
}

export class PresignInProgress extends ServiceError {
  readonly code = 'PRESIGN_IN_PROGRESS';
  constructor(readonly outContractCode: string) {
    super(`a presign of out_contract_code ${outContractCode} is in progress; retry the same request shortly`);
  }
}

export class ContractNotFound extends ServiceError {
  readonly code = 'CONTRACT_NOT_FOUND';
  constructor(readonly outContractCode: string) {
    super(`no contract with out_contract_code ${outContractCode}`);
  }
}

export class ContractStateConflict extends ServiceError {
  readonly code = 'CONTRACT_STATE_CONFLICT';
  constructor(
    message: string,
    readonly state: string,
  ) {
    super(message);
  }
  override details() {
    return { state: this.state };
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

export class WechatPayRejected extends ServiceError {
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
export class WechatPayUnavailable extends ServiceError {
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
export class SignatureInvalid extends ServiceError {
  readonly code = 'WECHATPAY_SIGNATURE_INVALID';
}

/** DynamoDB, KMS or another AWS dependency failed or timed out. */
export class DependencyUnavailable extends ServiceError {
  readonly code = 'DEPENDENCY_UNAVAILABLE';
  constructor(
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} unavailable: ${message}`, options);
  }
}

/** A callback that cannot be decoded or decrypted (body, envelope or resource). */
export class NotificationRejected extends ServiceError {
  readonly code = 'NOTIFICATION_REJECTED';
}

export class PayloadTooLarge extends ServiceError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}
