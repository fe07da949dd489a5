/**
 * Repayment changes as domain events, from the repayments table's stream (the same outbox as contracts:
 * functions/publish.ts). Every committed change reaches `repaymentEventsFor` with the images before and after
 * it; delivery is at-least-once and `event_id` is stable across redeliveries. docs/events/ holds a JSON Schema
 * per event type. Details are built from allow-lists: no personal data, no openid, ever.
 */

import type { ContractEvent } from '../contracts/events';
import type { WechatPayFailure } from '../contracts/model';
import type { DayCounts, DayRunRecord } from './day-model';
import type { BookingState } from './lifecycle';
import type { BookingRecord, UnhandledNotification } from './model';

export const REPAYMENT_EVENT_TYPES = [
  'RepaymentScheduled',
  'RepaymentScheduleFailed',
  'RepaymentDeductionStarted',
  'RepaymentSucceeded',
  'RepaymentFailed',
  'NotificationUnhandled',
  'RepaymentDayCompleted',
] as const;
export type RepaymentEventType = (typeof REPAYMENT_EVENT_TYPES)[number];

export interface RepaymentEventDetail {
  /** `<out_record_id>:<version>` for a booking's change, `<notification id>` for an unhandled notification. */
  event_id: string;
  out_record_id?: string;
  out_contract_code?: string;
  contract_id?: string;
  state?: BookingState;
  previous_state?: BookingState;
  origin?: string;
  repayment_date?: string;
  repayment_amount?: string;
  min_repayment_amount?: string;
  auto_deduct?: boolean;
  /** The booking's latest order. */
  out_trade_no?: string;
  order_state?: string;
  deduct_amount?: string;
  pay_success_amount?: string;
  transaction_id?: string;
  wechatpay_error?: WechatPayFailure;
  /** NotificationUnhandled: which notification, of which type, and why it was not applied. */
  notification_id?: string;
  event_type?: string;
  reason?: string;
  /** RepaymentDayCompleted: the run, its counts per outcome, what it left open and the shards that failed. */
  date?: string;
  run_id?: string;
  counts?: DayCounts;
  open?: number;
  shards?: number;
  failed_shards?: number[];
  /** When the change was committed. */
  occurred_at: string;
}

export interface RepaymentEvent {
  type: RepaymentEventType;
  detail: RepaymentEventDetail;
}

/** Every event the outbox publishes. */
export type ServiceEvent = ContractEvent | RepaymentEvent;

export const isRepaymentEvent = (event: ServiceEvent): event is RepaymentEvent =>
  (REPAYMENT_EVENT_TYPES as readonly string[]).includes(event.type);

const EVENT_OF: Partial<Record<BookingState, RepaymentEventType>> = {
  SCHEDULED: 'RepaymentScheduled',
  SCHEDULE_FAILED: 'RepaymentScheduleFailed',
  DEDUCTING: 'RepaymentDeductionStarted',
  SUCCEEDED: 'RepaymentSucceeded',
  FAILED: 'RepaymentFailed',
};

const BOOKING_TEXT = [
  'out_contract_code',
  'contract_id',
  'origin',
  'repayment_date',
  'repayment_amount',
  'min_repayment_amount',
] as const;
const ORDER_TEXT = [
  'out_trade_no',
  'order_state',
  'deduct_amount',
  'pay_success_amount',
  'transaction_id',
] as const;
const UNHANDLED_TEXT = ['out_trade_no', 'out_record_id', 'contract_id', 'event_type', 'reason'] as const;

type Item = Record<string, unknown>;

/** Stream images as the repayments table holds them: a booking, a trade claim or an unhandled notification. */
const kindOf = (item: Item | undefined) => (typeof item?.pk === 'string' ? item.pk.split('#')[0] : undefined);

/**
 * The events one committed change produces: one when a booking's state changed (or it was created in a state
 * with an event: an order we did not create, SUCCEEDED), one when an unhandled notification was kept, one when
 * a repayment-day run was recorded, none for trade claims. A removal announces nothing: only a kept notification is
 * ever deleted, once an operator applied it, and the booking it moved announces its own change.
 */
export function repaymentEventsFor(previous: Item | undefined, next: Item | undefined): RepaymentEvent[] {
  const kind = kindOf(next);
  if (kind === 'NOTIFICATION' && !previous) return [unhandledEvent(next as unknown as UnhandledNotification)];
  if (kind === 'RUN' && !previous) return [runEvent(next as unknown as DayRunRecord)];
  if (kind !== 'RECORD') return [];
  const record = next as unknown as BookingRecord;
  const before = previous as unknown as BookingRecord | undefined;
  if (before?.state === record.state) return [];
  const type = EVENT_OF[record.state];
  return type ? [{ type, detail: bookingDetail(record, before?.state) }] : [];
}

/** Images come from the stream untyped: only values of the expected type are copied. */
function copy<K extends string>(from: Item, keys: readonly K[], to: Record<string, unknown>): void {
  for (const key of keys) if (typeof from[key] === 'string') to[key] = from[key];
}

function bookingDetail(record: BookingRecord, previous: BookingState | undefined): RepaymentEventDetail {
  const detail: RepaymentEventDetail = {
    event_id: `${record.out_record_id}:${record.version}`,
    out_record_id: record.out_record_id,
    state: record.state,
    ...(previous ? { previous_state: previous } : {}),
    occurred_at: record.updated_at,
  };
  copy(record as unknown as Item, BOOKING_TEXT, detail as unknown as Item);
  if (typeof record.auto_deduct === 'boolean') detail.auto_deduct = record.auto_deduct;
  const order = Array.isArray(record.orders) ? record.orders.at(-1) : undefined;
  if (order) {
    copy(order as unknown as Item, ORDER_TEXT, detail as unknown as Item);
    if (order.wechatpay_error) detail.wechatpay_error = failureOf(order.wechatpay_error);
  } else if (record.wechatpay_error) {
    detail.wechatpay_error = failureOf(record.wechatpay_error);
  }
  return detail;
}

function unhandledEvent(item: UnhandledNotification): RepaymentEvent {
  const detail: RepaymentEventDetail = {
    event_id: item.notification_id,
    notification_id: item.notification_id,
    occurred_at: item.received_at,
  };
  copy(item as unknown as Item, UNHANDLED_TEXT, detail as unknown as Item);
  return { type: 'NotificationUnhandled', detail };
}

/** The run item is written once, by the run's Complete task: its event carries only dates, ids and counts. */
function runEvent(run: DayRunRecord): RepaymentEvent {
  const counts = {} as DayCounts;
  for (const [key, n] of Object.entries(run.counts ?? {}))
    if (typeof n === 'number') counts[key as keyof DayCounts] = n;
  return {
    type: 'RepaymentDayCompleted',
    detail: {
      event_id: `${run.date}:${run.run_id}`,
      date: run.date,
      run_id: run.run_id,
      counts,
      open: Number(run.open),
      shards: Number(run.shards),
      failed_shards: Array.isArray(run.failed_shards) ? run.failed_shards.map(Number) : [],
      occurred_at: run.completed_at,
    },
  };
}

function failureOf({ status, code, message, request_id }: WechatPayFailure): WechatPayFailure {
  return { status, code, message, ...(typeof request_id === 'string' ? { request_id } : {}) };
}
