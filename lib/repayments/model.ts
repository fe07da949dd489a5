import type { WechatPayFailure } from '../contracts/model';
import type { DeductOrderState } from '../wechatpay/repayments';
import type { BookingState } from './lifecycle';

/**
 * The records of the repayments table (docs/architecture.md, "Repayments"): one table, three kinds of item, told
 * apart by the prefix of their key `pk`:
 * - `RECORD#<out_record_id>`: a booking with its deduct orders (BookingRecord), claimed forever when booked;
 * - `TRADE#<out_trade_no>`: an out_trade_no, claimed forever before its deduct order is sent (TradeClaim);
 * - `NOTIFICATION#<id>`: a verified DEDUCTION_PAY we did not apply, kept raw for an operator (UnhandledNotification).
 *
 * No item holds the user's openid (it stays on the contract record) or any other personal data.
 */

/** WeChat Pay's order state, or ours while we lack its word: `UNKNOWN` (no answer yet), `REJECTED` (it refused). */
export type OrderState = DeductOrderState | 'UNKNOWN' | 'REJECTED';

export interface RepaymentOrder {
  out_trade_no: string;
  order_state: OrderState;
  /** Fen, as a decimal string: what we asked for. */
  deduct_amount: string;
  /** What WeChat Pay reports as repaid (may be less than deduct_amount). */
  pay_success_amount?: string;
  transaction_id?: string;
  description: string;
  attach?: string;
  /** Why WeChat Pay refused to create the order (REJECTED). */
  wechatpay_error?: WechatPayFailure;
  /** When the order was last sent: its first send, or a resend after WeChat Pay said it had no such order. */
  sent_at: string;
  /**
   * Every send of it (so far) was answered 429, WeChat Pay's "not processed": it has no such order, so the
   * order is sent again with the same id at once, without the grace a lost answer waits (settle.ts).
   */
  unprocessed?: boolean;
  created_at: string;
  updated_at: string;
}

export interface BookingRecord {
  pk: string;
  out_record_id: string;
  state: BookingState;
  /** `API`: booked through our API. `CALLBACK`: a DEDUCTION_PAY for an order we did not create, recorded from its data. */
  origin: 'API' | 'CALLBACK';
  /** SHA-256 of the canonical booking request; tells "my own retry" from "someone else's id". */
  request_hash?: string;
  /**
   * Random per booking attempt: a claim that fails on an item carrying the attempt's own token is that attempt's
   * own write, landed before an SDK retry of it, not a conflict.
   */
  claim_token?: string;
  /** Absent on a CALLBACK record: WeChat Pay's data names only the contract_id. */
  out_contract_code?: string;
  contract_id: string;
  appid?: string;
  sub_mchid?: string;
  sub_appid?: string;
  /** Fen, as a decimal string. Absent on a CALLBACK record. */
  repayment_amount?: string;
  min_repayment_amount?: string;
  /** `yyyy-MM-dd`, Beijing. Absent on a CALLBACK record. */
  repayment_date?: string;
  auto_deduct: boolean;
  /** Sent as each deduct order's description unless the deduct request gives its own. */
  description: string;
  /** Oldest first; only the last one may still be open (a new one needs the previous to have failed). */
  orders: RepaymentOrder[];
  /** Why WeChat Pay refused the booking (SCHEDULE_FAILED). */
  wechatpay_error?: WechatPayFailure;
  wechatpay_request_id?: string;
  /** When the booking request was last sent: its first send, or a resend after WeChat Pay said it had none. */
  sent_at?: string;
  /** `<repayment_date>#<shard>` while SCHEDULED with auto_deduct: the by_due index the repayment-day job reads. */
  due_shard?: string;
  /** While WeChat Pay's word is awaited (by_poll index): the shard, the next check, and the wait so far. */
  poll_shard?: string;
  poll_at?: string;
  poll_since?: string;
  poll_count?: number;
  /** Set when the polling window closed without a final answer: an operator must look (metric and alarm). */
  poll_exhausted_at?: string;
  created_at: string;
  updated_at: string;
  /** Incremented on every write; conditional writes compare it (optimistic concurrency). */
  version: number;
}

/** An out_trade_no claimed forever, and the booking it belongs to. */
export interface TradeClaim {
  pk: string;
  out_trade_no: string;
  out_record_id: string;
  claimed_at: string;
}

/**
 * A verified DEDUCTION_PAY that did not match our records: kept (still encrypted), never expired, announced, listed
 * for an operator through the by_kept index (its `event_type`), and deleted once an operator applied it.
 */
export interface UnhandledNotification {
  pk: string;
  notification_id: string;
  event_type: string;
  create_time: string;
  /** Why it was not applied, in words naming the field (never its personal data). */
  reason: string;
  out_trade_no?: string;
  out_record_id?: string;
  contract_id?: string;
  /** The callback body as received: its resource is still encrypted. */
  raw_body: string;
  received_at: string;
}

export const bookingKey = (outRecordId: string): string => `RECORD#${outRecordId}`;
export const tradeKey = (outTradeNo: string): string => `TRADE#${outTradeNo}`;
export const notificationKey = (id: string): string => `NOTIFICATION#${id}`;

const ORDER_FIELDS = [
  'out_trade_no',
  'order_state',
  'deduct_amount',
  'pay_success_amount',
  'transaction_id',
  'wechatpay_error',
  'created_at',
  'updated_at',
] as const;

const BOOKING_FIELDS = [
  'out_record_id',
  'out_contract_code',
  'contract_id',
  'state',
  'origin',
  'repayment_date',
  'repayment_amount',
  'min_repayment_amount',
  'auto_deduct',
  'description',
  'wechatpay_error',
  'created_at',
  'updated_at',
] as const;

/** What GET /repayments/{out_record_id} answers: the booking and its orders, built from an allow-list. */
export function publicView(record: BookingRecord): Record<string, unknown> {
  const view: Record<string, unknown> = pick(record, BOOKING_FIELDS);
  view.orders = record.orders.map((order) => pick(order, ORDER_FIELDS));
  return view;
}

/** The 201/200 answer of a booking. */
export function bookingAnswer(record: BookingRecord): Record<string, unknown> {
  return pick(record, [
    'out_record_id',
    'out_contract_code',
    'state',
    'repayment_date',
    'repayment_amount',
    'min_repayment_amount',
  ]);
}

function pick<T extends object>(from: T, keys: readonly (keyof T)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (from[key] !== undefined) out[key as string] = from[key];
  return out;
}

/** The latest order of a booking, the only one that may still be open. */
export const latestOrder = (record: BookingRecord): RepaymentOrder | undefined => record.orders.at(-1);
