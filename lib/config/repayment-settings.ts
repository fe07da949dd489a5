import type { LoanType } from '../repayments/validation';
import { Reader } from './reader';
import { readSettings, type Settings } from './settings';

/**
 * The repayment functions' configuration (README "Configuration"), beside settings.ts and read by its Reader, so
 * that the functions that never touch repayments never require REPAYMENTS_TABLE.
 */

/** What the functions that book, deduct, poll or apply repayments need besides Settings. */
export interface RepaymentSettings {
  /** REPAYMENTS_TABLE: bookings, their orders, out_trade_no claims, unhandled DEDUCTION_PAY notifications. */
  table: string;
  /** WECHATPAY_PLAN_LOAN_TYPES: plan_id -> loan type, for the plans whose type is configured. */
  planLoanTypes: Record<string, LoanType>;
}

/** The settings of the functions that touch repayments: the service's, and the repayments table's. */
export type WithRepayments = Settings & { repayments: RepaymentSettings };

export const readWithRepayments = (env: NodeJS.ProcessEnv): WithRepayments => ({
  ...readSettings(env),
  repayments: readRepaymentSettings(env),
});

export function readRepaymentSettings(env: NodeJS.ProcessEnv): RepaymentSettings {
  const r = new Reader(env);
  const table = r.required('REPAYMENTS_TABLE');
  r.checkMissing();
  const planLoanTypes = loanTypes(r);
  r.checkInvalid();
  return { table, planLoanTypes };
}

const LOAN_TYPES: readonly string[] = ['CONSUMER_LOAN', 'CASH_LOAN'];

/**
 * WECHATPAY_PLAN_LOAN_TYPES: `<plan_id>=<CONSUMER_LOAN|CASH_LOAN>`, comma-separated, for the plan templates
 * WeChat Pay approved with a loan type (a consumer-loan booking needs a minimum of at least 5 %, a cash-loan
 * minimum at least 10 %). A plan not listed gets no minimum check here; WeChat Pay still applies its own.
 */
function loanTypes(r: Reader): Record<string, LoanType> {
  const raw = r.optional('WECHATPAY_PLAN_LOAN_TYPES');
  const types: Record<string, LoanType> = {};
  for (const entry of raw ? raw.split(',') : []) {
    const [plan = '', type = ''] = entry.split('=').map((part) => part.trim());
    if (!/^[0-9A-Za-z_-]{1,64}$/.test(plan) || !LOAN_TYPES.includes(type)) {
      r.invalid(
        `WECHATPAY_PLAN_LOAN_TYPES entry ${JSON.stringify(entry)} is not <plan_id>=CONSUMER_LOAN or <plan_id>=CASH_LOAN`,
      );
    } else {
      types[plan] = type as LoanType;
    }
  }
  return types;
}
