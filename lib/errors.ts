/**
 * The service's errors: the protocol's (lib/wechatpay/errors.ts, re-exported here) and its own, all on one root
 * class. Each knows its stable upper-snake `code`, its PascalCase `name` (what Step Functions `Retry`/`Catch`
 * match on) and its `cause`. HTTP status is decided at the edge (lib/http/errors.ts), never here.
 *
 * Messages must never carry personal data (`real_name`, `identity_id`, `openid`).
 */
import { CodedError, type WechatPayErrorCode } from './wechatpay/errors';

export {
  NotificationRejected,
  SignatureInvalid,
  type WechatPayErrorInfo,
  WechatPayRejected,
  WechatPayThrottled,
  WechatPayUnavailable,
} from './wechatpay/errors';

export type ErrorCode =
  | WechatPayErrorCode
  | 'VALIDATION_FAILED'
  | 'CONTRACT_CODE_USED'
  | 'PRESIGN_IN_PROGRESS'
  | 'CONTRACT_NOT_FOUND'
  | 'CONTRACT_STATE_CONFLICT'
  | 'DEPENDENCY_UNAVAILABLE'
  | 'PAYLOAD_TOO_LARGE'
  // The repayment API's own refusals (README "Repayments").
  | 'REPAYMENT_ID_USED'
  | 'BOOKING_IN_PROGRESS'
  | 'REPAYMENT_NOT_FOUND'
  | 'REPAYMENT_NOT_DUE'
  | 'REPAYMENT_STATE_CONFLICT'
  | 'DEDUCTION_IN_PROGRESS'
  | 'TRADE_NO_USED';

/**
 * Any error of the service, the protocol's included: the one root class, seen with every code the service knows.
 * Not a subclass of it, so that `instanceof ServiceError` holds for the protocol's errors too.
 */
export type ServiceError = CodedError<ErrorCode>;
export const ServiceError: abstract new (message: string, options?: { cause?: unknown }) => ServiceError =
  CodedError;

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

/** A refusal because of the state the contract is in, which the answer names. */
abstract class RefusedInState extends ServiceError {
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

export class ContractCodeUsed extends RefusedInState {
  readonly code = 'CONTRACT_CODE_USED';
  constructor(
    readonly outContractCode: string,
    state: string,
  ) {
    super(
      `out_contract_code ${outContractCode} is already used (state ${state}); codes are never reusable`,
      state,
    );
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

export class ContractStateConflict extends RefusedInState {
  readonly code = 'CONTRACT_STATE_CONFLICT';
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

export class PayloadTooLarge extends ServiceError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

export class RepaymentIdUsed extends RefusedInState {
  readonly code = 'REPAYMENT_ID_USED';
  constructor(
    readonly outRecordId: string,
    state: string,
  ) {
    super(`out_record_id ${outRecordId} is already used (state ${state}); ids are never reusable`, state);
  }
}

export class BookingInProgress extends ServiceError {
  readonly code = 'BOOKING_IN_PROGRESS';
  constructor(readonly outRecordId: string) {
    super(`a booking of out_record_id ${outRecordId} is in progress; retry the same request shortly`);
  }
}

export class RepaymentNotFound extends ServiceError {
  readonly code = 'REPAYMENT_NOT_FOUND';
  constructor(readonly outRecordId: string) {
    super(`no repayment with out_record_id ${outRecordId}`);
  }
}

export class RepaymentNotDue extends ServiceError {
  readonly code = 'REPAYMENT_NOT_DUE';
  constructor(
    readonly outRecordId: string,
    readonly repaymentDate: string,
    today: string,
  ) {
    super(
      `repayment ${outRecordId} is booked for ${repaymentDate} (Beijing); it cannot be deducted before that date, and today is ${today}`,
    );
  }
  override details() {
    return { repayment_date: this.repaymentDate };
  }
}

/** A deduction asked of a booking in a state that allows none (not booked yet, or already repaid). */
export class RepaymentStateConflict extends RefusedInState {
  readonly code = 'REPAYMENT_STATE_CONFLICT';
}

/** An earlier order of the booking may still succeed: a second one is sent only after WeChat Pay says it failed. */
export class DeductionInProgress extends RefusedInState {
  readonly code = 'DEDUCTION_IN_PROGRESS';
  constructor(
    readonly outRecordId: string,
    readonly outTradeNo: string,
    readonly orderState: string,
  ) {
    super(
      `repayment ${outRecordId} has order ${outTradeNo} that may still succeed (${orderState}); a new order is sent only after WeChat Pay says it failed`,
      'DEDUCTING',
    );
  }
  override details() {
    return { state: this.state, out_trade_no: this.outTradeNo, order_state: this.orderState };
  }
}

export class TradeNoUsed extends ServiceError {
  readonly code = 'TRADE_NO_USED';
  constructor(
    readonly outTradeNo: string,
    why: string,
  ) {
    super(`out_trade_no ${outTradeNo} is already used (${why}); out_trade_no is never reusable`);
  }
}
