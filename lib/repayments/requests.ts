import type { ContractRecord } from '../contracts/model';
import type { WechatPayRequest } from '../wechatpay/client';
import { deductRequest, scheduleRequest } from '../wechatpay/repayments';
import type { BookingRecord, RepaymentOrder } from './model';

/**
 * The two writes sent to WeChat Pay, built from our records alone, so that a resend after WeChat Pay said it
 * has no such booking or order is the same request as the first send, with the same id.
 */
export function bookingRequest(record: BookingRecord, contract: ContractRecord): WechatPayRequest {
  return scheduleRequest({
    contract_id: record.contract_id,
    appid: record.appid ?? contract.appid,
    openid: contract.openid ?? '',
    out_record_id: record.out_record_id,
    sub_mchid: record.sub_mchid ?? '',
    ...(record.sub_appid ? { sub_appid: record.sub_appid } : {}),
    repayment_amount: record.repayment_amount ?? '',
    ...(record.min_repayment_amount ? { min_repayment_amount: record.min_repayment_amount } : {}),
    repayment_date: record.repayment_date ?? '',
  });
}

export type OrderFields = Pick<RepaymentOrder, 'out_trade_no' | 'deduct_amount' | 'description' | 'attach'>;

export function orderRequest(record: BookingRecord, order: OrderFields, notifyUrl: string): WechatPayRequest {
  return deductRequest({
    contract_id: record.contract_id,
    out_trade_no: order.out_trade_no,
    out_record_id: record.out_record_id,
    deduct_amount: order.deduct_amount,
    notify_url: notifyUrl,
    description: order.description,
    ...(order.attach ? { attach: order.attach } : {}),
  });
}
