/** 消费贷 needs `min_repayment_amount` of at least 5 %; 现金贷 allows it, and then it is at least 10 %. */
export type LoanType = 'CONSUMER_LOAN' | 'CASH_LOAN';

/** What WeChat Pay knows of a plan template (模板) once it was approved. */
export interface PlanTemplate {
  plan_id: string;
  loan_type: LoanType;
  /** 解约结果通知URL: where TERMINATE_CONTRACT goes. */
  terminate_notify_url?: string;
  /** The template's own per-repayment cap (fen), on top of each contract's `repayment_amount_limit`. */
  repayment_amount_cap?: string;
}

/** A booking (预约还款记录); `out_record_id` is never released. */
export interface SimulatedScheduleRecord {
  out_record_id: string;
  contract_id: string;
  out_contract_code: string;
  appid: string;
  sub_appid?: string;
  sub_mchid: string;
  openid: string;
  repayment_amount: string;
  min_repayment_amount?: string;
  /** `yyyy-MM-dd`, Beijing. */
  repayment_date: string;
  created_time: string;
}

export type DeductOrderState =
  | 'DEDUCT_ORDER_STATE_PENDING'
  | 'DEDUCT_ORDER_STATE_NOT_PAY'
  | 'DEDUCT_ORDER_STATE_PAY_SUCCESS'
  | 'DEDUCT_ORDER_STATE_PAY_FAIL';

export interface SimulatedDeductOrder {
  out_trade_no: string;
  out_record_id: string;
  contract_id: string;
  out_contract_code: string;
  appid: string;
  sub_appid?: string;
  sub_mchid: string;
  openid: string;
  description: string;
  attach?: string;
  notify_url: string;
  deduct_amount: string;
  order_state: DeductOrderState;
  pay_success_amount?: string;
  transaction_id?: string;
  created_time: string;
  updated_time: string;
}

/**
 * The user's means of payment behind an openid. `balance` is fen or `unlimited`; each success takes from it.
 * `hold` keeps new orders PENDING or moves them to NOT_PAY until settled through the sandbox.
 */
export interface Wallet {
  openid: string;
  balance: string;
  hold: 'NONE' | 'PENDING' | 'NOT_PAY';
}
