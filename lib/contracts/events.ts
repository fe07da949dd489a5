/**
 * The service's events (docs/architecture.md, "The outbox"): contract state changes, and notifications we could
 * not act on. The DynamoDB stream of the contracts table is the outbox: every committed change reaches
 * `eventsFor` with the images before and after it, even when the writer died right after its commit, and the
 * events a writer stored beside its change (outbox entries) reach the publisher the same way. Delivery is
 * at-least-once; `event_id` lets consumers de-duplicate. They go out through the EventPublisher port (ports.ts).
 */
import type { ContractState } from './lifecycle';
import type { ContractRecord, WechatPayFailure } from './model';

export const EVENT_SOURCE = 'wechatpay.credit-repayment';

export type ContractEventType =
  | 'ContractPresigned'
  | 'ContractPresignFailed'
  | 'ContractSigned'
  | 'ContractTerminated'
  | 'ContractExpired';

export interface ContractEventDetail {
  /** `${out_contract_code}:${version}`: the same for every redelivery of one change. */
  event_id: string;
  out_contract_code: string;
  state: ContractState;
  previous_state?: ContractState;
  contract_id?: string;
  plan_id?: string;
  appid?: string;
  sub_mchid?: string;
  expires_at?: string;
  contract_signed_time?: string;
  contract_terminated_time?: string;
  contract_terminated_mode?: string;
  wechatpay_error?: WechatPayFailure;
  origin?: string;
  /** The record's `updated_at`: when the change was committed. */
  occurred_at: string;
}

export interface ContractEvent {
  type: ContractEventType;
  detail: ContractEventDetail;
}

/**
 * A verified WeChat Pay notification we could not act on: kept, alarmed, to be applied by an operator. The same
 * event as a repayment's unmatched DEDUCTION_PAY announces (lib/repayments/events.ts), one JSON Schema for both
 * (docs/events/NotificationUnhandled.json).
 */
export interface NotificationUnhandledDetail {
  /** WeChat Pay's notification id: the same for every redelivery. */
  event_id: string;
  notification_id: string;
  /** WeChat Pay's `event_type`, e.g. one it added after this release. */
  event_type: string;
  /** Why it was not applied, in a few words (no data from the resource but our code and WeChat Pay's state). */
  reason: string;
  out_contract_code?: string;
  /** When we received (and stored) it. */
  occurred_at: string;
}

export interface NotificationUnhandledEvent {
  type: 'NotificationUnhandled';
  detail: NotificationUnhandledDetail;
}

/** Built from an allow-list, like contract events: nothing of the decrypted resource but these fields. */
export function notificationUnhandled(notification: {
  id: string;
  event_type: string;
  received_at: string;
  reason: string;
  out_contract_code?: string;
}): NotificationUnhandledEvent {
  const { id, event_type, received_at, reason, out_contract_code } = notification;
  return {
    type: 'NotificationUnhandled',
    detail: {
      event_id: id,
      notification_id: id,
      event_type,
      reason,
      ...(out_contract_code ? { out_contract_code } : {}),
      occurred_at: received_at,
    },
  };
}

// PRESIGNING and PRESIGN_UNKNOWN are our own bookkeeping: nothing another service could act on.
const EVENT_OF: Partial<Record<ContractState, ContractEventType>> = {
  PRESIGNED: 'ContractPresigned',
  PRESIGN_FAILED: 'ContractPresignFailed',
  SIGNED: 'ContractSigned',
  TERMINATED: 'ContractTerminated',
  EXPIRED: 'ContractExpired',
};

const OPTIONAL_TEXT_FIELDS = [
  'contract_id',
  'plan_id',
  'appid',
  'sub_mchid',
  'expires_at',
  'contract_signed_time',
  'contract_terminated_time',
  'contract_terminated_mode',
  'origin',
] as const satisfies readonly (keyof ContractRecord & keyof ContractEventDetail)[];

/**
 * The events one committed change produces: one when the state changed (or the record was created directly in
 * a state that has an event, e.g. SIGNED from a callback), none otherwise. Records are never deleted, so a
 * removal (no `next`) announces nothing.
 */
export function eventsFor(
  previous: ContractRecord | undefined,
  next: ContractRecord | undefined,
): ContractEvent[] {
  if (!next || previous?.state === next.state) return [];
  const type = EVENT_OF[next.state];
  return type ? [{ type, detail: detailOf(next, previous?.state) }] : [];
}

/**
 * Built field by field from an allow-list, never by copying the record and deleting: a field added to the
 * record later (openid, display_name, redirect_url, …) stays out of events until someone decides otherwise.
 * Images come from the stream untyped, so only strings are copied into text fields.
 */
function detailOf(record: ContractRecord, previousState: ContractState | undefined): ContractEventDetail {
  const detail: ContractEventDetail = {
    event_id: `${record.out_contract_code}:${record.version}`,
    out_contract_code: record.out_contract_code,
    state: record.state,
    ...(previousState ? { previous_state: previousState } : {}),
    occurred_at: record.updated_at,
  };
  for (const field of OPTIONAL_TEXT_FIELDS) {
    const value = record[field];
    if (typeof value === 'string') detail[field] = value;
  }
  if (record.wechatpay_error) detail.wechatpay_error = failureOf(record.wechatpay_error);
  return detail;
}

function failureOf({ status, code, message, request_id }: WechatPayFailure): WechatPayFailure {
  return { status, code, message, ...(typeof request_id === 'string' ? { request_id } : {}) };
}
