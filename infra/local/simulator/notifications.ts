import type { SimContext } from './context';
import { callbackPayload } from './contracts';
import { chinaTime, randomAlnum, randomDigits } from './crypto';
import { orderView } from './deductions';
import type { SimulatedDeductOrder } from './repayment-types';
import type { CallbackDelivery, SimulatedContract } from './types';

export function notifySigned(ctx: SimContext, c: SimulatedContract): Promise<CallbackDelivery> {
  return ctx.callbacks.notify({
    url: c.contract_notify_url,
    outContractCode: c.out_contract_code,
    eventType: 'CREDIT_REPAYMENT.SIGN_CONTRACT',
    summary: '信贷还款签约成功',
    payload: callbackPayload(c, ctx.mchid),
  });
}

/** To the plan template's 解约结果通知URL, as WeChat Pay does, not to `contract_notify_url`. */
export function notifyTerminated(ctx: SimContext, c: SimulatedContract): Promise<CallbackDelivery> {
  return ctx.callbacks.notify({
    url: ctx.plans.terminateUrl(c),
    outContractCode: c.out_contract_code,
    eventType: 'CREDIT_REPAYMENT.TERMINATE_CONTRACT',
    summary: '信贷还款解约成功',
    payload: callbackPayload(c, ctx.mchid),
  });
}

/**
 * A `WECHATPAY/SIGNTEST/` probe carrying a plausible payload for the contract (made-up ids when it is
 * not signed yet), so that a receiver which skips verification would visibly apply it.
 */
export function sendProbe(ctx: SimContext, code: string): Promise<CallbackDelivery> {
  const c = ctx.store.get(code);
  if (!c) throw new Error(`no contract with out_contract_code ${code} was presigned`);
  const terminated = c.state === 'TERMINATED';
  const shown: SimulatedContract = terminated
    ? c
    : {
        ...c,
        state: 'EFFECTIVE',
        contract_id: c.contract_id ?? `PROBE${randomDigits(20)}`,
        openid: c.openid ?? `o${randomAlnum(27)}`,
        contract_signed_time: c.contract_signed_time ?? chinaTime(ctx.businessNow()),
      };
  return ctx.callbacks.probe({
    url: terminated ? ctx.plans.terminateUrl(c) : c.contract_notify_url,
    outContractCode: c.out_contract_code,
    eventType: terminated ? 'CREDIT_REPAYMENT.TERMINATE_CONTRACT' : 'CREDIT_REPAYMENT.SIGN_CONTRACT',
    summary: terminated ? '信贷还款解约成功' : '信贷还款签约成功',
    payload: callbackPayload(shown, ctx.mchid),
  });
}

/**
 * Only a success is notified, to the order's `notify_url`. The resource is the order with the merchant ids;
 * like WeChat Pay's published example it is encrypted with empty associated data and says `payscore`.
 */
export function notifyDeductionPaid(ctx: SimContext, o: SimulatedDeductOrder): Promise<CallbackDelivery> {
  return ctx.callbacks.notify({
    url: o.notify_url,
    outContractCode: o.out_contract_code,
    outTradeNo: o.out_trade_no,
    eventType: 'CREDIT_REPAYMENT.DEDUCTION_PAY',
    summary: '信贷还款还款成功',
    payload: { sp_mchid: ctx.mchid, sub_mchid: o.sub_mchid, ...orderView(o) },
    associatedData: '',
    originalType: 'payscore',
  });
}
