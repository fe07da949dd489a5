import { Reader } from './reader';

/**
 * The repayment-day job's configuration (README "Configuration"), read by settings.ts's Reader: the signing
 * budget, how many workers share it, and (for the function that starts a run) the state machine.
 */
export interface RepaymentDaySettings {
  /** SIGNING_BUDGET_RPS: KMS signatures (one per WeChat Pay call) per second the whole job may use. */
  signingBudgetRps: number;
  /** REPAYMENT_DAY_WORKERS: shards worked at once (the Map's MaxConcurrency); each paces at budget / workers. */
  workers: number;
}

/** Well under KMS's default RSA quota (500 to 1,000 per second per account and Region), which presign shares. */
export const DEFAULT_SIGNING_BUDGET_RPS = 200;
export const DEFAULT_WORKERS = 8;

export function readRepaymentDaySettings(env: NodeJS.ProcessEnv): RepaymentDaySettings {
  const r = new Reader(env);
  const settings = {
    signingBudgetRps: r.positive('SIGNING_BUDGET_RPS', DEFAULT_SIGNING_BUDGET_RPS),
    workers: r.positive('REPAYMENT_DAY_WORKERS', DEFAULT_WORKERS),
  };
  r.checkInvalid();
  return settings;
}

/** REPAYMENT_DAY_STATE_MACHINE_ARN: the state machine repaymentDay starts (infra/aws/repayment-day.yml). */
export function readStateMachineArn(env: NodeJS.ProcessEnv): string {
  const r = new Reader(env);
  const arn = r.required('REPAYMENT_DAY_STATE_MACHINE_ARN');
  r.checkMissing();
  return arn;
}
