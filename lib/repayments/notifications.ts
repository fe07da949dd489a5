import { readDecideWrite } from '../contracts/conditional-write';
import type { OpenedNotification } from '../contracts/notifications';
import type { Clock } from '../contracts/ports';
import { type DeductionPay, parseDeductionPay } from '../wechatpay/repayments';
import { withIndexes } from './indexes';
import { withOrderFacts } from './lifecycle';
import { type BookingRecord, bookingKey, notificationKey, type TradeClaim, tradeKey } from './model';
import type {
  NotificationEffect,
  RepaymentNotificationOutcome,
  RepaymentNotificationStore,
  RepaymentStore,
} from './ports';

export const DEDUCTION_PAY = 'CREDIT_REPAYMENT.DEDUCTION_PAY';

/** WeChat Pay retries for about an hour; a week of memory is ample to recognise its duplicates. */
export const DEDUPE_SECONDS = 7 * 24 * 3600;

export interface ApplyDeductionPayDeps {
  store: Pick<RepaymentStore, 'get' | 'getTrade'>;
  notifications: RepaymentNotificationStore;
  clock: Clock;
}

export interface DeductionPayResult {
  outcome: RepaymentNotificationOutcome | 'DUPLICATE';
  out_record_id?: string;
  out_trade_no?: string;
  /** True when the order was not ours: a booking was recorded from WeChat Pay's data (origin CALLBACK). */
  created: boolean;
  /** Why it was kept unhandled. */
  reason?: string;
}

export type Decision = {
  outcome: RepaymentNotificationOutcome;
  effect: NotificationEffect;
  reason?: string;
};

/**
 * Applies a verified, decrypted DEDUCTION_PAY exactly once: its notification id and what it causes commit in one
 * transaction. It is applied only when out_trade_no, out_record_id, contract_id and deduct_amount match our
 * order, forward only; an order we did not create is recorded from WeChat Pay's data; anything else (a mismatch,
 * a success for an order WeChat Pay had said failed, a resource we cannot read) is kept raw and unhandled for an
 * operator, and acknowledged, since WeChat Pay would otherwise resend it for hours.
 */
export async function applyDeductionPay(
  deps: ApplyDeductionPayDeps,
  n: OpenedNotification,
): Promise<DeductionPayResult> {
  const received_at = new Date(deps.clock()).toISOString();
  const { id, event_type } = n.envelope;
  let pay: DeductionPay | undefined;
  let unreadable = '';
  try {
    pay = parseDeductionPay(n.resource);
  } catch (error) {
    unreadable = `resource is not a deduct order: ${(error as Error).message}`;
  }
  type Read = [BookingRecord | undefined, TradeClaim | undefined];
  return readDecideWrite<Read, Decision, DeductionPayResult>(
    {
      read: () =>
        pay
          ? Promise.all([deps.store.get(pay.out_record_id), deps.store.getTrade(pay.out_trade_no)])
          : Promise.resolve([undefined, undefined]),
      decide: ([booking, trade]) => ({
        write: pay
          ? decideDeductionPay(n, pay, booking, trade, received_at, deps.clock())
          : unhandled(n, unreadable, received_at),
      }),
      // A conflict (the booking moved, or a redelivery of this id is being written) is read and decided again.
      write: (decision) => record(deps, n, received_at, pay, decision),
    },
    `repayment ${pay?.out_record_id} kept changing while notification ${id} (${event_type}) was applied`,
  );
}

async function record(
  deps: ApplyDeductionPayDeps,
  n: OpenedNotification,
  received_at: string,
  pay: DeductionPay | undefined,
  decision: Decision,
): Promise<DeductionPayResult | undefined> {
  const { outcome, effect, reason } = decision;
  const stored = await deps.notifications.record(
    {
      id: n.envelope.id,
      event_type: n.envelope.event_type,
      create_time: n.envelope.create_time,
      ...(pay ? { out_record_id: pay.out_record_id, out_trade_no: pay.out_trade_no } : {}),
      outcome,
      received_at,
      // What nobody applied is kept until an operator does; the rest only for as long as redeliveries come.
      ...(outcome === 'UNHANDLED'
        ? {}
        : { expires_at_epoch: Math.floor(Date.parse(received_at) / 1000) + DEDUPE_SECONDS }),
    },
    effect,
  );
  if (stored === 'conflict') return undefined;
  const ids = pay ? { out_record_id: pay.out_record_id, out_trade_no: pay.out_trade_no } : {};
  if (stored === 'duplicate') return { outcome: 'DUPLICATE', created: false, ...ids };
  return { outcome, created: effect.trade !== undefined, ...ids, ...(reason ? { reason } : {}) };
}

/**
 * What a DEDUCTION_PAY does to our records as they are now: the callback's decision, and the same again when an
 * operator applies one that was kept (lib/repayments/kept.ts).
 */
export function decideDeductionPay(
  n: OpenedNotification,
  pay: DeductionPay,
  booking: BookingRecord | undefined,
  trade: TradeClaim | undefined,
  now: string,
  nowMs: number,
): Decision {
  const keep = (reason: string): Decision => unhandled(n, reason, now, pay);
  if (pay.order_state !== 'DEDUCT_ORDER_STATE_PAY_SUCCESS') {
    return keep(`order_state is ${pay.order_state}; DEDUCTION_PAY announces successes only`);
  }
  if (!booking && !trade) return foreign(pay, now, nowMs);
  if (!booking)
    return keep(`out_trade_no ${pay.out_trade_no} is our order of repayment ${trade?.out_record_id}`);
  const order = booking.orders.find((o) => o.out_trade_no === pay.out_trade_no);
  if (!order) return keep(`repayment ${booking.out_record_id} has no order ${pay.out_trade_no}`);
  if (booking.contract_id !== pay.contract_id)
    return keep('contract_id is not the contract of our repayment');
  if (order.deduct_amount !== pay.deduct_amount) {
    return keep(`deduct_amount ${pay.deduct_amount} is not our order's ${order.deduct_amount}`);
  }
  const next = withOrderFacts(booking, pay, now, nowMs);
  if (next) return { outcome: 'APPLIED', effect: { booking: next } };
  if (order.order_state === 'DEDUCT_ORDER_STATE_PAY_SUCCESS') return { outcome: 'STALE', effect: {} };
  return keep(`our order ${pay.out_trade_no} is ${order.order_state}; a success now contradicts it`);
}

/** A success for an order we never sent (sign-and-repay through presign's trade_info): recorded as WeChat Pay says. */
function foreign(pay: DeductionPay, now: string, nowMs: number): Decision {
  const description = pay.description ?? '';
  const booking: BookingRecord = withIndexes(
    {
      pk: bookingKey(pay.out_record_id),
      out_record_id: pay.out_record_id,
      state: 'SUCCEEDED',
      origin: 'CALLBACK',
      contract_id: pay.contract_id,
      ...(pay.appid ? { appid: pay.appid } : {}),
      ...(pay.sub_mchid ? { sub_mchid: pay.sub_mchid } : {}),
      ...(pay.sub_appid ? { sub_appid: pay.sub_appid } : {}),
      auto_deduct: false,
      description,
      orders: [
        {
          out_trade_no: pay.out_trade_no,
          order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS',
          deduct_amount: pay.deduct_amount,
          ...(pay.pay_success_amount !== undefined ? { pay_success_amount: pay.pay_success_amount } : {}),
          ...(pay.transaction_id !== undefined ? { transaction_id: pay.transaction_id } : {}),
          description,
          ...(pay.attach !== undefined ? { attach: pay.attach } : {}),
          sent_at: now,
          created_at: now,
          updated_at: now,
        },
      ],
      created_at: now,
      updated_at: now,
      version: 1,
    },
    undefined,
    nowMs,
  );
  const trade = {
    pk: tradeKey(pay.out_trade_no),
    out_trade_no: pay.out_trade_no,
    out_record_id: pay.out_record_id,
    claimed_at: now,
  };
  return { outcome: 'APPLIED', effect: { booking, trade } };
}

function unhandled(n: OpenedNotification, reason: string, now: string, pay?: DeductionPay): Decision {
  return {
    outcome: 'UNHANDLED',
    reason,
    effect: {
      unhandled: {
        pk: notificationKey(n.envelope.id),
        notification_id: n.envelope.id,
        event_type: n.envelope.event_type,
        create_time: n.envelope.create_time,
        reason,
        ...(pay
          ? { out_trade_no: pay.out_trade_no, out_record_id: pay.out_record_id, contract_id: pay.contract_id }
          : {}),
        raw_body: n.rawBody.toString('utf8'),
        received_at: now,
      },
    },
  };
}
