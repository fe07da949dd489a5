import type { PlanTemplate } from './repayment-types';
import type { SimulatedContract } from './types';

const AMOUNT = /^[1-9]\d{0,14}$/;

/**
 * The plan templates the merchant had approved. WeChat Pay refuses an unknown plan_id; the simulator
 * instead gives one a cash-loan template, so that any presign body works out of the box.
 */
export class PlanRegistry {
  private readonly plans = new Map<string, PlanTemplate>();

  constructor(
    plans: PlanTemplate[],
    private readonly terminateNotifyUrl?: string,
  ) {
    for (const plan of plans) this.set(plan);
  }

  /** Throws a message naming what is wrong (the template may come over HTTP). */
  set(plan: unknown): PlanTemplate {
    const checked = checkPlan(plan);
    this.plans.set(checked.plan_id, checked);
    return checked;
  }

  get(planId: string): PlanTemplate {
    return this.plans.get(planId) ?? { plan_id: planId, loan_type: 'CASH_LOAN' };
  }

  all(): PlanTemplate[] {
    return structuredClone([...this.plans.values()]);
  }

  /** The template's 解约结果通知URL, else the simulator's setting, else (unset) the signing callback URL. */
  terminateUrl(c: SimulatedContract): string {
    return this.get(c.plan_id).terminate_notify_url ?? this.terminateNotifyUrl ?? c.contract_notify_url;
  }
}

function checkPlan(input: unknown): PlanTemplate {
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (typeof o.plan_id !== 'string' || !/^\S{1,64}$/.test(o.plan_id)) {
    throw new Error('plan_id must be 1 to 64 characters without spaces');
  }
  if (o.loan_type !== 'CONSUMER_LOAN' && o.loan_type !== 'CASH_LOAN') {
    throw new Error('loan_type must be CONSUMER_LOAN or CASH_LOAN');
  }
  const plan: PlanTemplate = { plan_id: o.plan_id, loan_type: o.loan_type };
  if (o.terminate_notify_url !== undefined) {
    if (typeof o.terminate_notify_url !== 'string' || !URL.canParse(o.terminate_notify_url)) {
      throw new Error('terminate_notify_url must be an absolute URL');
    }
    plan.terminate_notify_url = o.terminate_notify_url;
  }
  if (o.repayment_amount_cap !== undefined) {
    if (typeof o.repayment_amount_cap !== 'string' || !AMOUNT.test(o.repayment_amount_cap)) {
      throw new Error('repayment_amount_cap must be a positive whole number of fen as a string');
    }
    plan.repayment_amount_cap = o.repayment_amount_cap;
  }
  return plan;
}
