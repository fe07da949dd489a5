import { chinaTime, randomDigits } from './crypto';
import { beijingDate } from './dates';
import { invalidRequest, paramError } from './errors';
import type { SimulatedDeductOrder, SimulatedScheduleRecord } from './repayment-types';
import type { DeductInput } from './repayment-validate';
import type { Wallets } from './wallets';

const FAILED = 'DEDUCT_ORDER_STATE_PAY_FAIL';
const OPEN = new Set(['DEDUCT_ORDER_STATE_PENDING', 'DEDUCT_ORDER_STATE_NOT_PAY']);

/** Every deduct order ever created, keyed by out_trade_no, which is never released. */
export class DeductionStore {
  private readonly byTradeNo = new Map<string, SimulatedDeductOrder>();
  /** The latest order of each booking: only it can be live, since a new one needs the last to have failed. */
  private readonly latestByRecord = new Map<string, SimulatedDeductOrder>();

  has(outTradeNo: string): boolean {
    return this.byTradeNo.has(outTradeNo);
  }

  get(outTradeNo: string): SimulatedDeductOrder | undefined {
    return this.byTradeNo.get(outTradeNo);
  }

  all(): SimulatedDeductOrder[] {
    return structuredClone([...this.byTradeNo.values()]);
  }

  /**
   * A new order is PENDING: collection happens after the answer. Refused before the booked date, and while
   * another order of the booking is open or succeeded (a new one only after PAY_FAIL).
   */
  create(record: SimulatedScheduleRecord, input: DeductInput, nowMs: number): SimulatedDeductOrder {
    if (this.byTradeNo.has(input.out_trade_no)) {
      throw invalidRequest(`还款单号已存在: out_trade_no ${input.out_trade_no} 已被使用，不能重复使用`);
    }
    const today = beijingDate(nowMs);
    if (today < record.repayment_date) {
      throw invalidRequest(
        `未到预约还款日期: out_record_id ${record.out_record_id} 预约在 ${record.repayment_date} 还款(北京时间，今天是${today})`,
      );
    }
    const earlier = this.latestByRecord.get(record.out_record_id);
    if (earlier && earlier.order_state !== FAILED) {
      throw invalidRequest(
        `该预约还款记录已有还款单: out_trade_no ${earlier.out_trade_no} (状态 ${earlier.order_state})，仅在其还款失败后可再次发起`,
      );
    }
    checkAmount(record, input.deduct_amount);
    const now = chinaTime(nowMs);
    const order: SimulatedDeductOrder = {
      out_trade_no: input.out_trade_no,
      out_record_id: record.out_record_id,
      contract_id: record.contract_id,
      out_contract_code: record.out_contract_code,
      appid: record.appid,
      sub_mchid: record.sub_mchid,
      openid: record.openid,
      description: input.description,
      notify_url: input.notify_url,
      deduct_amount: input.deduct_amount,
      order_state: 'DEDUCT_ORDER_STATE_PENDING',
      created_time: now,
      updated_time: now,
    };
    if (record.sub_appid !== undefined) order.sub_appid = record.sub_appid;
    if (input.attach !== undefined) order.attach = input.attach;
    this.byTradeNo.set(order.out_trade_no, order);
    this.latestByRecord.set(order.out_record_id, order);
    return order;
  }
}

/** Between the booking's minimum (or 1 fen) and its repayment_amount: the same rule the service applies. */
function checkAmount(record: SimulatedScheduleRecord, deductAmount: string): void {
  const amount = BigInt(deductAmount);
  if (amount > BigInt(record.repayment_amount)) {
    throw paramError('/deduct_amount', `不能超过预约还款金额(${record.repayment_amount})`, deductAmount);
  }
  if (record.min_repayment_amount !== undefined && amount < BigInt(record.min_repayment_amount)) {
    throw paramError('/deduct_amount', `不能低于最低还款金额(${record.min_repayment_amount})`, deductAmount);
  }
}

export const isOpen = (order: SimulatedDeductOrder): boolean => OPEN.has(order.order_state);

/**
 * Runs the user's payment for an open order. Unless `settle`, a wallet hold keeps it open (PENDING, or moved
 * to NOT_PAY). Returns true when the order succeeded, the only outcome WeChat Pay notifies.
 */
export function collect(
  order: SimulatedDeductOrder,
  record: SimulatedScheduleRecord,
  wallets: Wallets,
  nowMs: number,
  settle: boolean,
): boolean {
  if (!isOpen(order)) return false;
  const { hold } = wallets.get(order.openid);
  order.updated_time = chinaTime(nowMs);
  if (!settle && hold !== 'NONE') {
    order.order_state = `DEDUCT_ORDER_STATE_${hold}`;
    return false;
  }
  const { paid } = wallets.collect(order.openid, order.deduct_amount, record.min_repayment_amount);
  if (paid === undefined) {
    order.order_state = FAILED;
    return false;
  }
  order.order_state = 'DEDUCT_ORDER_STATE_PAY_SUCCESS';
  order.pay_success_amount = paid;
  order.transaction_id = `4200${beijingDate(nowMs).replaceAll('-', '')}${randomDigits(16)}`;
  return true;
}

/** The deduct-orders answer and query: the order without the simulator's bookkeeping. */
export function orderView(o: SimulatedDeductOrder): Record<string, unknown> {
  const view: Record<string, unknown> = {
    out_trade_no: o.out_trade_no,
    out_record_id: o.out_record_id,
    appid: o.appid,
    openid: o.openid,
    contract_id: o.contract_id,
    description: o.description,
    order_state: o.order_state,
    deduct_amount: o.deduct_amount,
  };
  for (const key of ['sub_appid', 'pay_success_amount', 'attach', 'transaction_id'] as const) {
    if (o[key] !== undefined) view[key] = o[key];
  }
  return view;
}
