/**
 * The repayment lifecycle, in one place (docs/architecture.md, "Repayment lifecycle"): the booking's states and
 * the only moves between them, the order states and theirs, and what WeChat Pay's word about an order means for
 * the booking. Every use case (book, deduct, sync, poll, DEDUCTION_PAY) moves a booking by these rules alone,
 * through a version-conditioned write (readDecideWrite in lib/contracts/conditional-write.ts).
 */
import { isDeductOrderState } from '../wechatpay/repayments';
import { withIndexes } from './indexes';
import { type BookingRecord, latestOrder, type OrderState, type RepaymentOrder } from './model';

export const BOOKING_STATES = [
  'SCHEDULING',
  'SCHEDULED',
  'SCHEDULE_FAILED',
  'SCHEDULE_UNKNOWN',
  'DEDUCTING',
  'SUCCEEDED',
  'FAILED',
] as const;
export type BookingState = (typeof BOOKING_STATES)[number];

/** Every state lists the states it may move to: forward only; nothing leaves SUCCEEDED or SCHEDULE_FAILED. */
const NEXT: Record<BookingState, readonly BookingState[]> = {
  SCHEDULING: ['SCHEDULED', 'SCHEDULE_FAILED', 'SCHEDULE_UNKNOWN'],
  // Settled by WeChat Pay's schedule-record query (found: SCHEDULED), or a resend of the same booking.
  SCHEDULE_UNKNOWN: ['SCHEDULED', 'SCHEDULE_FAILED'],
  SCHEDULED: ['DEDUCTING'],
  DEDUCTING: ['SUCCEEDED', 'FAILED'],
  // Only a manual retry, with a new out_trade_no, after WeChat Pay said the last order failed.
  FAILED: ['DEDUCTING'],
  SCHEDULE_FAILED: [],
  SUCCEEDED: [],
};

export function canTransition(from: BookingState, to: BookingState): boolean {
  return NEXT[from].includes(to);
}

/** States in which a new deduct order may be sent. */
export const DEDUCTIBLE: readonly BookingState[] = ['SCHEDULED', 'FAILED'];

const FINAL_ORDER: readonly OrderState[] = [
  'DEDUCT_ORDER_STATE_PAY_SUCCESS',
  'DEDUCT_ORDER_STATE_PAY_FAIL',
  'REJECTED',
];

/** No answer will ever change this order again. */
export const isFinalOrder = (state: OrderState): boolean => FINAL_ORDER.includes(state);

/**
 * Order states only move forward: from UNKNOWN to anything, between the two open states PENDING and NOT_PAY
 * (WeChat Pay does not document their order; both may still end either way), and from those to a final state.
 * A final state never changes: a success reported for an order WeChat Pay said had failed contradicts it, and
 * is left to an operator rather than applied.
 */
export function canOrderMove(from: OrderState, to: OrderState): boolean {
  if (from === to || isFinalOrder(from)) return false;
  if (to === 'UNKNOWN') return false;
  // REJECTED is only our first send's own refusal; once WeChat Pay answered, only its states apply.
  return to !== 'REJECTED' || from === 'UNKNOWN';
}

/** What the booking is while its latest order is in `state`. */
export function bookingStateOf(state: OrderState): BookingState {
  switch (state) {
    case 'DEDUCT_ORDER_STATE_PAY_SUCCESS':
      return 'SUCCEEDED';
    case 'DEDUCT_ORDER_STATE_PAY_FAIL':
    case 'REJECTED':
      return 'FAILED';
    default:
      return 'DEDUCTING';
  }
}

/** WeChat Pay's word about one order: a deduct answer, an order query, or a DEDUCTION_PAY. */
export interface OrderFacts {
  out_trade_no: string;
  order_state: string;
  pay_success_amount?: string;
  transaction_id?: string;
}

/**
 * The booking after learning `facts` about one of its orders at `now` (RFC 3339), or undefined when they move
 * nothing: an unknown order, a state we do not know (WeChat Pay added one), or a late or repeated fact.
 */
export function withOrderFacts(
  record: BookingRecord,
  facts: OrderFacts,
  now: string,
  nowMs: number,
): BookingRecord | undefined {
  const index = record.orders.findIndex((o) => o.out_trade_no === facts.out_trade_no);
  const order = record.orders[index];
  if (!order || !isDeductOrderState(facts.order_state)) return undefined;
  if (!canOrderMove(order.order_state, facts.order_state)) return undefined;
  const { unprocessed: _answered, ...known } = order;
  const updated: RepaymentOrder = {
    ...known,
    order_state: facts.order_state,
    ...(facts.pay_success_amount !== undefined ? { pay_success_amount: facts.pay_success_amount } : {}),
    ...(facts.transaction_id !== undefined ? { transaction_id: facts.transaction_id } : {}),
    updated_at: now,
  };
  const orders = record.orders.map((o, i) => (i === index ? updated : o));
  return settleOrders(record, orders, now, nowMs);
}

/** The booking after WeChat Pay refused to create its latest order (4xx on the first send): no order exists. */
export function withRejectedOrder(
  record: BookingRecord,
  outTradeNo: string,
  error: NonNullable<RepaymentOrder['wechatpay_error']>,
  now: string,
  nowMs: number,
): BookingRecord | undefined {
  const order = latestOrder(record);
  if (order?.out_trade_no !== outTradeNo || order.order_state !== 'UNKNOWN') return undefined;
  const { unprocessed: _answered, ...known } = order;
  const rejected: RepaymentOrder = {
    ...known,
    order_state: 'REJECTED',
    wechatpay_error: error,
    updated_at: now,
  };
  return settleOrders(record, [...record.orders.slice(0, -1), rejected], now, nowMs);
}

/** The booking with a new order, not yet answered (UNKNOWN): the moment a deduction starts. */
export function withNewOrder(
  record: BookingRecord,
  order: Omit<RepaymentOrder, 'order_state' | 'sent_at' | 'created_at' | 'updated_at'>,
  now: string,
  nowMs: number,
): BookingRecord {
  const started: RepaymentOrder = {
    ...order,
    order_state: 'UNKNOWN',
    sent_at: now,
    created_at: now,
    updated_at: now,
  };
  return moved(record, 'DEDUCTING', { orders: [...record.orders, started] }, now, nowMs);
}

/**
 * The booking after every send of its UNKNOWN latest order was answered 429: WeChat Pay processed none, so the
 * order may be sent again at once with the same id (settle.ts). Undefined once anything more is known of it.
 */
export function withUnprocessedOrder(
  record: BookingRecord,
  outTradeNo: string,
  now: string,
  nowMs: number,
): BookingRecord | undefined {
  const order = latestOrder(record);
  if (order?.out_trade_no !== outTradeNo || order.order_state !== 'UNKNOWN' || order.unprocessed) {
    return undefined;
  }
  const orders = [...record.orders.slice(0, -1), { ...order, unprocessed: true, updated_at: now }];
  return moved(record, record.state, { orders }, now, nowMs);
}

/** The booking in `state` with `changes`, its version bumped and its index attributes recomputed. */
export function moved(
  record: BookingRecord,
  state: BookingState,
  changes: Partial<BookingRecord>,
  now: string,
  nowMs: number,
): BookingRecord {
  const next: BookingRecord = { ...record, ...changes, state, updated_at: now, version: record.version + 1 };
  return withIndexes(next, record, nowMs);
}

function settleOrders(
  record: BookingRecord,
  orders: RepaymentOrder[],
  now: string,
  nowMs: number,
): BookingRecord | undefined {
  const last = orders.at(-1);
  if (!last) return undefined;
  const state = bookingStateOf(last.order_state);
  if (state !== record.state && !canTransition(record.state, state)) return undefined;
  return moved(record, state, { orders }, now, nowMs);
}
