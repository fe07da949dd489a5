import { createHash, randomUUID } from 'node:crypto';
import type { ContractRecord } from '../contracts/model';
import type { StoreFailure } from '../contracts/presign';
import { canonicalJson } from '../contracts/request-hash';
import {
  BookingInProgress,
  ContractNotFound,
  ContractStateConflict,
  RepaymentIdUsed,
  ValidationFailed,
  WechatPayUnavailable,
} from '../errors';
import { failureOf, scheduleCreated } from './answers';
import { withIndexes } from './indexes';
import { type BookingState, canTransition, moved } from './lifecycle';
import { type BookingRecord, bookingKey } from './model';
import { bookingRequest } from './requests';
import { sendWrite } from './send';
import { type SettleDeps, settleBooking } from './settle';
import { noteBooking } from './update';
import { type BookingInput, checkAgainstContract, type LoanType, validateBooking } from './validation';

export interface BookDeps extends SettleDeps {
  /** The loan type of each plan template whose type is configured (WECHATPAY_PLAN_LOAN_TYPES). */
  loanTypes: ReadonlyMap<string, LoanType>;
}

export interface BookOutcome {
  record: BookingRecord;
  /** True when an identical earlier request had booked it: WeChat Pay was not called again. */
  replayed: boolean;
  requestId?: string;
  /** WeChat Pay booked it but our record could not be updated: the poll settles it from the query. */
  storeFailure?: StoreFailure;
}

/** The deduct order's description when the booking gives none. */
const DEFAULT_DESCRIPTION = '信贷还款';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Books a repayment on a SIGNED contract: validates, claims `out_record_id` forever (conditional write), calls
 * schedule-records/batch-create, stores the answer. The request is signed before the claim, so a KMS failure
 * claims nothing. An identical retry replays; a booking whose answer was lost is settled by WeChat Pay's
 * schedule-record query (settle.ts), never by a second booking.
 */
export async function book(deps: BookDeps, outContractCode: string, body: unknown): Promise<BookOutcome> {
  const input = validateBooking(body, deps.clock());
  const contract = await deps.contracts.get(outContractCode);
  if (!contract) throw new ContractNotFound(outContractCode);
  const { contract_id, openid } = contract;
  if (contract.state !== 'SIGNED' || !contract_id || !openid) {
    throw new ContractStateConflict(
      `repayments are booked on SIGNED contracts only; ${outContractCode} is ${contract.state}`,
      contract.state,
    );
  }
  if (!contract.sub_mchid) {
    throw new ValidationFailed([
      {
        field: 'out_contract_code',
        issue:
          'names a contract without sub_mchid (not presigned through this service), which a booking needs',
      },
    ]);
  }
  checkAgainstContract(input, contract, deps.loanTypes.get(contract.plan_id));
  const record = newBooking(input, contract, contract_id, deps.clock());
  const signed = await deps.wechatpay.sign(bookingRequest(record, contract));
  const claim = await deps.store.claim(record);
  if (!claim.claimed && claim.existing.claim_token !== record.claim_token) {
    return existing(deps, claim.existing, record.request_hash ?? '');
  }

  const outcome = await sendWrite(deps.wechatpay, signed);
  // A refusal of the first attempt burns the id, as WeChat Pay does; anything else leaves it to the query.
  if (outcome.kind === 'refused') {
    throw await failed(deps, record, 'SCHEDULE_FAILED', outcome.error, {
      wechatpay_error: failureOf(outcome.error),
    });
  }
  // Throttled on every attempt, nothing was booked; the schedule-record query learns that and resends it.
  if (outcome.kind === 'unknown' || outcome.kind === 'throttled') {
    throw await failed(deps, record, 'SCHEDULE_UNKNOWN', outcome.error, {});
  }
  const unusable = scheduleCreated(outcome.response, record.out_record_id);
  if (unusable) throw await failed(deps, record, 'SCHEDULE_UNKNOWN', unusable, {});
  const requestId = outcome.response.requestId;
  const stored = await note(deps, record, 'SCHEDULED', requestId ? { wechatpay_request_id: requestId } : {});
  return { ...stored, replayed: false, ...(requestId ? { requestId } : {}) };
}

/** Records a failed booking and returns the error to throw, carrying what could not be recorded (StoreFailure). */
async function failed(
  deps: BookDeps,
  record: BookingRecord,
  state: 'SCHEDULE_FAILED' | 'SCHEDULE_UNKNOWN',
  error: Error,
  changes: Partial<BookingRecord>,
): Promise<Error> {
  const { storeFailure } = await note(deps, record, state, changes);
  return storeFailure ? Object.assign(error, { storeFailure }) : error;
}

/** The same request again, or someone else's use of the id. */
async function existing(deps: BookDeps, found: BookingRecord, hash: string): Promise<BookOutcome> {
  if (found.request_hash !== hash) throw new RepaymentIdUsed(found.out_record_id, found.state);
  switch (found.state) {
    case 'SCHEDULING':
      throw new BookingInProgress(found.out_record_id);
    case 'SCHEDULE_FAILED':
      throw new RepaymentIdUsed(found.out_record_id, found.state);
    case 'SCHEDULE_UNKNOWN': {
      // The identical retry asks WeChat Pay, which settles the booking or leaves it unknown.
      const settled = await settleBooking(deps, found.out_record_id, 'sync');
      const state = settled?.record.state;
      if (state === 'SCHEDULE_FAILED') throw new RepaymentIdUsed(found.out_record_id, state);
      if (!settled || state === 'SCHEDULE_UNKNOWN') {
        throw new WechatPayUnavailable(
          `the booking of ${found.out_record_id} may or may not have reached WeChat Pay, and its query does not tell yet`,
        );
      }
      return { record: settled.record, replayed: true };
    }
    default:
      return { record: found, replayed: true };
  }
}

/** Records the booking's move to `state`, unless a sync or poll moved it first (then the stored one answers). */
function note(
  deps: BookDeps,
  record: BookingRecord,
  state: BookingState,
  changes: Partial<BookingRecord>,
): Promise<{ record: BookingRecord; storeFailure?: StoreFailure }> {
  const decide = (current: BookingRecord) => {
    if (!canTransition(current.state, state)) return undefined;
    const nowMs = deps.clock();
    return moved(current, state, changes, iso(nowMs), nowMs);
  };
  return noteBooking(deps.store, record, decide, `WeChat Pay's booking answer came (${state})`);
}

/** SHA-256 over the canonical request: the body holds no personal data, so no key is needed. */
function bookingHash(outContractCode: string, input: BookingInput): string {
  return createHash('sha256')
    .update(canonicalJson({ out_contract_code: outContractCode, ...input }))
    .digest('base64url');
}

function newBooking(
  input: BookingInput,
  contract: ContractRecord,
  contractId: string,
  nowMs: number,
): BookingRecord {
  const now = iso(nowMs);
  const record: BookingRecord = {
    pk: bookingKey(input.out_record_id),
    out_record_id: input.out_record_id,
    state: 'SCHEDULING',
    origin: 'API',
    request_hash: bookingHash(contract.out_contract_code, input),
    claim_token: randomUUID(),
    out_contract_code: contract.out_contract_code,
    contract_id: contractId,
    appid: contract.appid,
    ...(contract.sub_mchid ? { sub_mchid: contract.sub_mchid } : {}),
    ...((input.sub_appid ?? contract.sub_appid) ? { sub_appid: input.sub_appid ?? contract.sub_appid } : {}),
    repayment_amount: input.repayment_amount,
    ...(input.min_repayment_amount ? { min_repayment_amount: input.min_repayment_amount } : {}),
    repayment_date: input.repayment_date,
    auto_deduct: input.auto_deduct ?? true,
    description: input.description ?? DEFAULT_DESCRIPTION,
    orders: [],
    sent_at: now,
    created_at: now,
    updated_at: now,
    version: 1,
  };
  // Polled from the start: a function that dies between the claim and the answer leaves it to the query.
  return withIndexes(record, undefined, nowMs);
}
