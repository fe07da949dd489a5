import * as z from 'zod/mini';
import type { ContractRecord } from '../contracts/model';
import { fen, parseOrThrow, text, token } from '../contracts/validation';
import { type FieldIssue, ValidationFailed } from '../errors';
import { addDays, beijingDate, isCalendarDate } from './dates';
import type { BookingRecord } from './model';

/**
 * Our repayment API bodies (README "Repayments"), field by field with JSON pointers. Every rule WeChat Pay
 * documents is checked before an id is claimed, so a bad request never burns an out_record_id or out_trade_no.
 * Where the documentation is silent the rule is our policy, and the simulator applies the same one.
 */

/** The plan templates' loan types, which decide the booking minimum (WECHATPAY_PLAN_LOAN_TYPES). */
export type LoanType = 'CONSUMER_LOAN' | 'CASH_LOAN';

/** The share of repayment_amount min_repayment_amount must reach, in percent, per loan type. */
const MIN_PERCENT: Record<LoanType, bigint> = { CONSUMER_LOAN: 5n, CASH_LOAN: 10n };

/** A booking may be for tomorrow at the earliest and 14 days ahead at the latest (Beijing dates). */
const LAST_BOOKABLE_DAY = 14;

const id = token(32, /^[0-9A-Za-z]+$/, 'may contain only letters and digits (WeChat Pay rule)');

const bookingSchema = z.strictObject({
  out_record_id: id,
  repayment_amount: fen,
  min_repayment_amount: z.optional(fen),
  repayment_date: z.string().check(z.refine(isCalendarDate, 'must be a calendar date written yyyy-MM-dd')),
  sub_appid: z.optional(token(32, /^[0-9A-Za-z_]+$/, 'may contain only letters, digits and _')),
  description: z.optional(text(127)),
  auto_deduct: z.optional(z.boolean()),
});

const deductSchema = z.strictObject({
  out_trade_no: z.optional(id),
  deduct_amount: z.optional(fen),
  description: z.optional(text(127)),
  attach: z.optional(text(128)),
});

export type BookingInput = z.infer<typeof bookingSchema>;
export type DeductInput = z.infer<typeof deductSchema>;

/** Path parameters, named as the parameter (not a body pointer). */
export function checkPathId(name: 'out_contract_code' | 'out_record_id', value: string): void {
  const max = name === 'out_contract_code' ? 64 : 32;
  if (!new RegExp(`^[0-9A-Za-z]{1,${max}}$`).test(value)) {
    throw new ValidationFailed([{ field: name, issue: `must be 1 to ${max} letters and digits` }]);
  }
}

/** The booking body's own rules, `today` being the Beijing date of the service's clock. */
export function validateBooking(body: unknown, nowMs: number): BookingInput {
  const input = parseOrThrow(bookingSchema, body);
  const found: FieldIssue[] = [];
  const today = beijingDate(nowMs);
  const first = addDays(today, 1);
  const last = addDays(today, LAST_BOOKABLE_DAY);
  if (input.repayment_date < first || input.repayment_date > last) {
    found.push({
      field: '/repayment_date',
      issue: `must be a Beijing date from ${first} (tomorrow) to ${last} (${LAST_BOOKABLE_DAY} days ahead); today is ${today}`,
    });
  }
  if (input.min_repayment_amount && BigInt(input.min_repayment_amount) > BigInt(input.repayment_amount)) {
    found.push({ field: '/min_repayment_amount', issue: 'must not exceed repayment_amount' });
  }
  if (found.length > 0) throw new ValidationFailed(found);
  return input;
}

/** The rules that depend on the contract: its limit, its sub_appid, its plan's loan type (when configured). */
export function checkAgainstContract(
  input: BookingInput,
  contract: ContractRecord,
  loanType: LoanType | undefined,
): void {
  const found: FieldIssue[] = [];
  const amount = BigInt(input.repayment_amount);
  if (contract.repayment_amount_limit && amount > BigInt(contract.repayment_amount_limit)) {
    found.push({
      field: '/repayment_amount',
      issue: `must not exceed the contract's repayment_amount_limit (${contract.repayment_amount_limit})`,
    });
  }
  if (input.sub_appid && contract.sub_appid && input.sub_appid !== contract.sub_appid) {
    found.push({ field: '/sub_appid', issue: "must be the contract's sub_appid" });
  }
  if (loanType) {
    const minimum = input.min_repayment_amount;
    const percent = MIN_PERCENT[loanType];
    if (minimum === undefined && loanType === 'CONSUMER_LOAN') {
      found.push({ field: '/min_repayment_amount', issue: 'is required on a consumer-loan plan' });
    } else if (minimum !== undefined && BigInt(minimum) * 100n < amount * percent) {
      const plan = loanType === 'CONSUMER_LOAN' ? 'consumer-loan' : 'cash-loan';
      found.push({
        field: '/min_repayment_amount',
        issue: `must be at least ${percent} % of repayment_amount on a ${plan} plan`,
      });
    }
  }
  if (found.length > 0) throw new ValidationFailed(found);
}

export const validateDeduct = (body: unknown): DeductInput => parseOrThrow(deductSchema, body);

/**
 * The amount to deduct: `deduct_amount`, by default the booking's repayment_amount, between the booking's
 * minimum (or 1 fen) and its repayment_amount (our policy; WeChat Pay does not document how they relate).
 */
export function deductAmountOf(input: DeductInput, booking: BookingRecord): string {
  const upper = booking.repayment_amount ?? '0';
  const amount = input.deduct_amount ?? upper;
  const lower = booking.min_repayment_amount ?? '1';
  if (BigInt(amount) > BigInt(upper) || BigInt(amount) < BigInt(lower)) {
    throw new ValidationFailed([
      {
        field: '/deduct_amount',
        issue: `must lie between the booking's minimum (${lower}) and its repayment_amount (${upper})`,
      },
    ]);
  }
  return amount;
}
