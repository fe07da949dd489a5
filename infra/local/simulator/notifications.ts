import type { SimContext } from './context';
import { callbackPayload } from './contracts';
import { chinaTime, randomAlnum, randomDigits } from './crypto';
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

export function notifyTerminated(ctx: SimContext, c: SimulatedContract): Promise<CallbackDelivery> {
  return ctx.callbacks.notify({
    url: c.contract_notify_url,
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
    url: c.contract_notify_url,
    outContractCode: c.out_contract_code,
    eventType: terminated ? 'CREDIT_REPAYMENT.TERMINATE_CONTRACT' : 'CREDIT_REPAYMENT.SIGN_CONTRACT',
    summary: terminated ? '信贷还款解约成功' : '信贷还款签约成功',
    payload: callbackPayload(shown, ctx.mchid),
  });
}
