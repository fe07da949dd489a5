import { chinaTime } from './crypto';
import { addDays, beijingDate } from './dates';
import { invalidRequest, paramError } from './errors';
import type { PlanTemplate, SimulatedScheduleRecord } from './repayment-types';
import type { ScheduleInput } from './repayment-validate';
import type { SimulatedContract } from './types';

const ITEM = '/schedule_items/0';
/** A booking may be for tomorrow at the earliest and for 14 days ahead at the latest (booking day +15 excluded). */
const LAST_DAY = 14;
/** Minimum share of repayment_amount that min_repayment_amount must reach, per loan type (percent). */
const MIN_PERCENT = { CONSUMER_LOAN: 5n, CASH_LOAN: 10n } as const;

/** Every booking ever made, keyed by out_record_id, which is never released (not even after a refusal later). */
export class BookingStore {
  private readonly byId = new Map<string, SimulatedScheduleRecord>();

  book(
    c: SimulatedContract,
    plan: PlanTemplate,
    input: ScheduleInput,
    nowMs: number,
  ): SimulatedScheduleRecord {
    checkParties(c, input);
    const existing = this.byId.get(input.out_record_id);
    if (existing) {
      throw invalidRequest(
        `预约还款记录号已存在: out_record_id ${input.out_record_id} 已被使用(协议 ${existing.contract_id})，不能重复使用`,
      );
    }
    checkDate(input.repayment_date, nowMs);
    checkAmounts(c, plan, input);
    const record: SimulatedScheduleRecord = {
      out_record_id: input.out_record_id,
      contract_id: input.contract_id,
      out_contract_code: c.out_contract_code,
      appid: input.appid,
      sub_mchid: input.sub_mchid,
      openid: input.openid,
      repayment_amount: input.repayment_amount,
      repayment_date: input.repayment_date,
      created_time: chinaTime(nowMs),
    };
    if (input.sub_appid !== undefined) record.sub_appid = input.sub_appid;
    if (input.min_repayment_amount !== undefined) record.min_repayment_amount = input.min_repayment_amount;
    this.byId.set(record.out_record_id, record);
    return record;
  }

  get(outRecordId: string): SimulatedScheduleRecord | undefined {
    return this.byId.get(outRecordId);
  }

  all(): SimulatedScheduleRecord[] {
    return structuredClone([...this.byId.values()]);
  }
}

/** The booking names the contract's own user and merchants. */
function checkParties(c: SimulatedContract, input: ScheduleInput): void {
  if (input.appid !== c.appid) throw paramError('/appid', '与协议的appid不一致', input.appid);
  if (input.openid !== c.openid) throw paramError('/openid', '与协议的openid不一致');
  if (c.sub_mchid !== undefined && input.sub_mchid !== c.sub_mchid) {
    throw paramError(`${ITEM}/sub_mchid`, '与协议的sub_mchid不一致', input.sub_mchid);
  }
  if (c.sub_appid !== undefined && input.sub_appid !== undefined && input.sub_appid !== c.sub_appid) {
    throw paramError(`${ITEM}/sub_appid`, '与协议的sub_appid不一致', input.sub_appid);
  }
}

/** From tomorrow to 14 days ahead, Beijing dates on the simulator's business clock. */
function checkDate(date: string, nowMs: number): void {
  const today = beijingDate(nowMs);
  const first = addDays(today, 1);
  const last = addDays(today, LAST_DAY);
  if (date < first || date > last) {
    throw paramError(
      `${ITEM}/repayment_date`,
      `须在预约次日(${first})到${LAST_DAY}天后(${last})之间(北京时间，今天是${today})`,
      date,
    );
  }
}

function checkAmounts(c: SimulatedContract, plan: PlanTemplate, input: ScheduleInput): void {
  const amount = BigInt(input.repayment_amount);
  if (amount > BigInt(c.repayment_amount_limit)) {
    throw paramError(
      `${ITEM}/repayment_amount`,
      `不能超过协议的单笔还款上限repayment_amount_limit(${c.repayment_amount_limit})`,
      input.repayment_amount,
    );
  }
  if (plan.repayment_amount_cap !== undefined && amount > BigInt(plan.repayment_amount_cap)) {
    throw paramError(
      `${ITEM}/repayment_amount`,
      `不能超过模板的单笔还款上限(${plan.repayment_amount_cap})`,
      input.repayment_amount,
    );
  }
  const field = `${ITEM}/min_repayment_amount`;
  if (input.min_repayment_amount === undefined) {
    if (plan.loan_type === 'CONSUMER_LOAN') throw paramError(field, '消费贷模板必须填写最低还款金额');
    return;
  }
  const min = BigInt(input.min_repayment_amount);
  if (min > amount) throw paramError(field, '不能大于repayment_amount', input.min_repayment_amount);
  const percent = MIN_PERCENT[plan.loan_type];
  if (min * 100n < amount * percent) {
    const kind = plan.loan_type === 'CONSUMER_LOAN' ? '消费贷' : '现金贷';
    throw paramError(
      field,
      `${kind}模板的最低还款金额不能低于还款金额的${percent}%`,
      input.min_repayment_amount,
    );
  }
}

/** A booking as the batch-create answer and the schedule-record query show it (no state field). */
export function scheduleView(r: SimulatedScheduleRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    out_record_id: r.out_record_id,
    appid: r.appid,
    contract_id: r.contract_id,
    repayment_amount: r.repayment_amount,
    repayment_date: r.repayment_date,
    openid: r.openid,
  };
  if (r.sub_appid !== undefined) view.sub_appid = r.sub_appid;
  if (r.min_repayment_amount !== undefined) view.min_repayment_amount = r.min_repayment_amount;
  return view;
}
