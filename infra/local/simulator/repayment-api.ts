import type { IncomingCall } from './auth';
import { scheduleView } from './bookings';
import type { Reply, SimContext } from './context';
import { collect, isOpen, orderView } from './deductions';
import { invalidRequest, notFound, paramError, WechatError } from './errors';
import { parseJsonObject } from './fields';
import { notifyDeductionPaid } from './notifications';
import type { SimulatedDeductOrder } from './repayment-types';
import { RECORD_ID, TRADE_NO, validateDeduct, validateSchedule } from './repayment-validate';
import type { SimulatedContract } from './types';

const PARTNER = '/v3/credit-repayment/partner';
const SCHEDULE = `${PARTNER}/schedule-records`;
const DEDUCT = `${PARTNER}/deduct-orders`;

/** The booking and deduct endpoints; undefined for any other path. */
export function handleRepayments(ctx: SimContext, call: IncomingCall, path: string, search: string) {
  if (call.method === 'POST' && path === `${SCHEDULE}/batch-create`) return book(ctx, call);
  if (call.method === 'POST' && path === DEDUCT) return deduct(ctx, call);
  if (call.method === 'GET' && path.startsWith(`${SCHEDULE}/`)) {
    const id = segment(path, SCHEDULE, 'out_record_id', RECORD_ID);
    return queryRecord(ctx, id, new URLSearchParams(search));
  }
  if (call.method === 'GET' && path.startsWith(`${DEDUCT}/`)) {
    return queryOrder(ctx, segment(path, DEDUCT, 'out_trade_no', TRADE_NO));
  }
  return undefined;
}

function segment(path: string, prefix: string, name: string, rule: RegExp): string {
  const raw = path.slice(prefix.length + 1);
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw paramError(name, '不是合法的URL编码', raw, 'path');
  }
  if (!rule.test(value)) throw paramError(name, `格式不正确(${rule.source})`, value, 'path');
  return value;
}

/** A contract the user signed and nobody terminated. */
function effectiveContract(ctx: SimContext, contractId: string, action: string): SimulatedContract {
  const c = ctx.store.byContractId(contractId);
  if (!c) throw notFound(`协议不存在: contract_id ${contractId}`);
  if (c.state !== 'EFFECTIVE') {
    throw invalidRequest(`协议状态不允许${action}: contract_id ${contractId} 已解约`);
  }
  return c;
}

function book(ctx: SimContext, call: IncomingCall): Reply {
  const input = validateSchedule(parseJsonObject(call.body));
  const c = effectiveContract(ctx, input.contract_id, '预约还款');
  const record = ctx.bookings.book(c, ctx.plans.get(c.plan_id), input, ctx.businessNow());
  ctx.log(`booked ${record.out_record_id} for ${record.repayment_date} on ${c.out_contract_code}`);
  return { status: 200, json: { schedule_records: [scheduleView(record)] } };
}

function queryRecord(ctx: SimContext, outRecordId: string, params: URLSearchParams): Reply {
  const contractId = params.get('contract_id');
  if (!contractId) throw paramError('contract_id', '缺少必填参数', undefined, 'query');
  if (contractId.length > 64) throw paramError('contract_id', '长度不能超过64个字符', contractId, 'query');
  const record = ctx.bookings.get(outRecordId);
  if (!record || record.contract_id !== contractId) {
    throw notFound(`预约还款记录不存在: out_record_id ${outRecordId} (contract_id ${contractId})`);
  }
  return { status: 200, json: scheduleView(record) };
}

function deduct(ctx: SimContext, call: IncomingCall): Reply {
  const input = validateDeduct(parseJsonObject(call.body));
  effectiveContract(ctx, input.contract_id, '发起还款');
  if (ctx.deductions.has(input.out_trade_no)) {
    throw invalidRequest(`还款单号已存在: out_trade_no ${input.out_trade_no} 已被使用，不能重复使用`);
  }
  const record = ctx.bookings.get(input.out_record_id);
  if (!record || record.contract_id !== input.contract_id) {
    throw notFound(`预约还款记录不存在: out_record_id ${input.out_record_id}，请先预约还款`);
  }
  const order = ctx.deductions.create(record, input, ctx.businessNow());
  ctx.log(`deduct ${order.out_trade_no} of ${order.deduct_amount} for ${order.out_record_id}: PENDING`);
  // The bank answers after WeChat Pay accepted the order, so the answer is always PENDING.
  setImmediate(() => void collectOrder(ctx, order, false));
  return { status: 200, json: orderView(order) };
}

function queryOrder(ctx: SimContext, outTradeNo: string): Reply {
  const order = ctx.deductions.get(outTradeNo);
  // The payment APIs' code for an unknown order, rather than the contract APIs' RESOURCE_NOT_EXISTS.
  if (!order) throw new WechatError(404, 'ORDER_NOT_EXIST', `还款单不存在: out_trade_no ${outTradeNo}`);
  return { status: 200, json: orderView(order) };
}

/**
 * Collects an open order from its wallet and notifies a success. `settle` ignores the wallet's hold: the
 * sandbox's way to finish an order that a hold kept open.
 */
export async function collectOrder(
  ctx: SimContext,
  order: SimulatedDeductOrder,
  settle: boolean,
): Promise<void> {
  const record = ctx.bookings.get(order.out_record_id);
  if (!record || !isOpen(order)) return;
  const succeeded = collect(order, record, ctx.wallets, ctx.businessNow(), settle);
  ctx.log(`deduction ${order.out_trade_no} -> ${order.order_state}`);
  if (succeeded) await notifyDeductionPaid(ctx, order);
}
