import type { WechatPayFailure } from '../contracts/model';
import { type WechatPayRejected, WechatPayUnavailable } from '../errors';
import type { WechatPayResponse } from '../wechatpay/client';
import {
  isDeductOrderState,
  parseDeductOrder,
  parseScheduleRecord,
  parseScheduleResponse,
} from '../wechatpay/repayments';
import type { OrderFacts } from './lifecycle';
import type { BookingRecord } from './model';

/*
 * Reading WeChat Pay's verified answers about a booking or an order. An answer that cannot be parsed, or that
 * names another booking or order than the one asked about, is not an answer: it comes back as the error that
 * says why (WechatPayUnavailable, "outcome unknown"), never as a fact.
 */

function unusable(what: string, response: WechatPayResponse, cause: unknown): WechatPayUnavailable {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new WechatPayUnavailable(`WeChat Pay's ${what} answer was not usable: ${why}`, response.requestId, {
    cause,
  });
}

function parsed<T>(response: WechatPayResponse, what: string, parse: (json: unknown) => T): T | Error {
  try {
    return parse(response.json());
  } catch (cause) {
    return unusable(what, response, cause);
  }
}

/** The batch-create answer: undefined when it books `outRecordId` (an empty 2xx body does too). */
export function scheduleCreated(response: WechatPayResponse, outRecordId: string): Error | undefined {
  const records = parsed(response, 'batch-create', parseScheduleResponse);
  if (records instanceof Error) return records;
  if (records.length === 0 || records.some((r) => r.out_record_id === outRecordId)) return undefined;
  return unusable('batch-create', response, `it books ${records.map((r) => r.out_record_id).join(', ')}`);
}

/** The schedule-record query: undefined when it shows `outRecordId`. */
export function scheduleQueried(response: WechatPayResponse, outRecordId: string): Error | undefined {
  const record = parsed(response, 'schedule-record query', parseScheduleRecord);
  if (record instanceof Error) return record;
  if (record.out_record_id === outRecordId) return undefined;
  return unusable('schedule-record query', response, `it shows ${record.out_record_id}`);
}

/** A deduct order (create or query answer) as facts about our order `outTradeNo` of `booking`. */
export function orderAnswered(
  response: WechatPayResponse,
  booking: BookingRecord,
  outTradeNo: string,
): OrderFacts | Error {
  const order = parsed(response, 'deduct order', parseDeductOrder);
  if (order instanceof Error) return order;
  const expected = {
    out_trade_no: outTradeNo,
    out_record_id: booking.out_record_id,
    contract_id: booking.contract_id,
  };
  for (const [field, value] of Object.entries(expected)) {
    const got = order[field as keyof typeof expected];
    if (got !== value) return unusable('deduct order', response, `its ${field} is ${got}, not ${value}`);
  }
  // A state WeChat Pay added later is not a fact we can act on: the order stays unknown and polled.
  if (!isDeductOrderState(order.order_state)) {
    return unusable('deduct order', response, `order_state ${order.order_state} is not one we know`);
  }
  return {
    out_trade_no: order.out_trade_no,
    order_state: order.order_state,
    ...(order.pay_success_amount !== undefined ? { pay_success_amount: order.pay_success_amount } : {}),
    ...(order.transaction_id !== undefined ? { transaction_id: order.transaction_id } : {}),
  };
}

/** What we keep of a refusal (never its detail, which may echo request fields). */
export function failureOf(error: WechatPayRejected): WechatPayFailure {
  const { status, code, message, request_id } = error.wechatpay;
  return { status, code, message, ...(request_id ? { request_id } : {}) };
}
