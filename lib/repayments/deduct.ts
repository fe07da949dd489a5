import { randomBytes } from 'node:crypto';
import { readDecideWrite } from '../contracts/conditional-write';
import type { StoreFailure } from '../contracts/presign';
import {
  ContractStateConflict,
  DeductionInProgress,
  RepaymentNotDue,
  RepaymentNotFound,
  RepaymentStateConflict,
  TradeNoUsed,
  WechatPayUnavailable,
} from '../errors';
import { failureOf, orderAnswered } from './answers';
import { beijingDate } from './dates';
import {
  type BookingState,
  DEDUCTIBLE,
  withNewOrder,
  withOrderFacts,
  withRejectedOrder,
  withUnprocessedOrder,
} from './lifecycle';
import { type BookingRecord, latestOrder, type RepaymentOrder, tradeKey } from './model';
import { type OrderFields, orderRequest } from './requests';
import { sendWrite } from './send';
import { type SettleDeps, settleBooking } from './settle';
import { noteBooking } from './update';
import { type DeductInput, deductAmountOf, validateDeduct } from './validation';

export interface DeductOutcome {
  record: BookingRecord;
  /** The order this request sent (or, for a replay, found). */
  order: RepaymentOrder;
  /** True when the identical request had sent it already: WeChat Pay was not sent a new order. */
  replayed: boolean;
  /** WeChat Pay answered but our record could not be updated: the poll settles it from the query. */
  storeFailure?: StoreFailure;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Deducts a booked repayment now. The money rules (docs/architecture.md, "Money invariants"): out_trade_no is
 * claimed forever, together with the order's place on its booking, in one transaction before WeChat Pay is
 * called; a booking with an order that may still succeed gets no second one (409 DEDUCTION_IN_PROGRESS), a new
 * one only after WeChat Pay said PAY_FAIL; an answer that was lost leaves the order UNKNOWN, to be settled by
 * querying that order (settle.ts), never by a new one. `deductible`: the states an order may start from (the
 * repayment-day job gives SCHEDULED alone, so it never orders again after a PAY_FAIL).
 */
export async function deduct(
  deps: SettleDeps,
  outRecordId: string,
  body: unknown,
  deductible: readonly BookingState[] = DEDUCTIBLE,
): Promise<DeductOutcome> {
  const input = validateDeduct(body);
  const booking = await deps.store.get(outRecordId);
  if (!booking) throw new RepaymentNotFound(outRecordId);
  const earlier = orderNamed(booking, input.out_trade_no);
  if (earlier) return replay(deps, booking, earlier, input);
  refuseUnlessDeductible(booking, deductible);
  const contract = booking.out_contract_code
    ? await deps.contracts.get(booking.out_contract_code)
    : undefined;
  if (contract?.state !== 'SIGNED') {
    const state = contract?.state ?? 'UNKNOWN';
    throw new ContractStateConflict(
      `repayments are deducted on SIGNED contracts only; ${booking.out_contract_code} is ${state}`,
      state,
    );
  }
  const today = beijingDate(deps.clock());
  if (booking.repayment_date && today < booking.repayment_date) {
    throw new RepaymentNotDue(outRecordId, booking.repayment_date, today);
  }
  const order: OrderFields = {
    out_trade_no: input.out_trade_no ?? newTradeNo(),
    deduct_amount: deductAmountOf(input, booking),
    description: input.description ?? booking.description,
    ...(input.attach ? { attach: input.attach } : {}),
  };
  // Signed before the claim: a KMS failure claims nothing.
  const signed = await deps.wechatpay.sign(orderRequest(booking, order, deps.notifyUrl));
  const started = await start(deps, booking, order, deductible);
  if (!started) {
    // The identical request, made at the same moment, claimed it first and is sending it.
    const current = await deps.store.get(outRecordId);
    const found = current && orderNamed(current, order.out_trade_no);
    if (!current || !found) throw new TradeNoUsed(order.out_trade_no, 'by a concurrent request');
    return replay(deps, current, found, input);
  }

  const outcome = await sendWrite(deps.wechatpay, signed);
  if (outcome.kind === 'unknown') throw outcome.error;
  const recorded = (decide: (current: BookingRecord) => BookingRecord | undefined) =>
    noteBooking(deps.store, started, decide, `WeChat Pay's answer to order ${order.out_trade_no} came`);
  if (outcome.kind === 'throttled') {
    // Not processed: the identical request (or the poll) sends this same order again at once.
    const { storeFailure } = await recorded((current) => {
      const nowMs = deps.clock();
      return withUnprocessedOrder(current, order.out_trade_no, iso(nowMs), nowMs);
    });
    throw storeFailure ? Object.assign(outcome.error, { storeFailure }) : outcome.error;
  }
  if (outcome.kind === 'refused') {
    const wechatpay_error = failureOf(outcome.error);
    const { storeFailure } = await recorded((current) => {
      const nowMs = deps.clock();
      return withRejectedOrder(current, order.out_trade_no, wechatpay_error, iso(nowMs), nowMs);
    });
    throw storeFailure ? Object.assign(outcome.error, { storeFailure }) : outcome.error;
  }
  const facts = orderAnswered(outcome.response, started, order.out_trade_no);
  if (facts instanceof Error) throw facts;
  // A DEDUCTION_PAY or a poll may have recorded a later state first: the lifecycle keeps the later one.
  const { record, storeFailure } = await recorded((current) => {
    const nowMs = deps.clock();
    return withOrderFacts(current, facts, iso(nowMs), nowMs);
  });
  return {
    record,
    order: orderOf(record, order.out_trade_no),
    replayed: false,
    ...(storeFailure ? { storeFailure } : {}),
  };
}

const orderNamed = (record: BookingRecord, outTradeNo: string | undefined) =>
  outTradeNo === undefined ? undefined : record.orders.find((o) => o.out_trade_no === outTradeNo);

/** Orders are never removed from their booking, so one recorded there is always found. */
function orderOf(record: BookingRecord, outTradeNo: string): RepaymentOrder {
  const order = orderNamed(record, outTradeNo);
  if (!order) throw new Error(`order ${outTradeNo} is missing from repayment ${record.out_record_id}`);
  return order;
}

function refuseUnlessDeductible(booking: BookingRecord, deductible: readonly BookingState[]): void {
  if (deductible.includes(booking.state)) return;
  const order = latestOrder(booking);
  if (booking.state === 'DEDUCTING' && order) {
    throw new DeductionInProgress(booking.out_record_id, order.out_trade_no, order.order_state);
  }
  const why =
    booking.state === 'SUCCEEDED'
      ? 'it is repaid'
      : booking.state === 'FAILED'
        ? 'an order of it failed, and after PAY_FAIL only a deduct request orders again'
        : 'WeChat Pay has not confirmed its booking (SCHEDULED is needed; GET ?sync=true asks)';
  throw new RepaymentStateConflict(
    `repayment ${booking.out_record_id} cannot be deducted in state ${booking.state}: ${why}`,
    booking.state,
  );
}

/**
 * Claims out_trade_no and puts the UNKNOWN order on its booking, in one transaction, deciding again from the
 * stored booking when another writer moved it first. Undefined when this out_trade_no went to this booking in
 * the meantime (a concurrent identical request).
 */
function start(
  deps: SettleDeps,
  booking: BookingRecord,
  order: OrderFields,
  deductible: readonly BookingState[],
): Promise<BookingRecord | undefined> {
  let fresh: BookingRecord | undefined = booking;
  return readDecideWrite<BookingRecord | undefined, BookingRecord, BookingRecord | undefined>(
    {
      read: async () => {
        const current = fresh ?? (await deps.store.get(booking.out_record_id));
        fresh = undefined;
        return current;
      },
      decide: (current) => {
        if (!current || orderNamed(current, order.out_trade_no)) return { done: undefined };
        refuseUnlessDeductible(current, deductible);
        const nowMs = deps.clock();
        return { write: withNewOrder(current, order, iso(nowMs), nowMs) };
      },
      write: async (next) => {
        const claim = {
          pk: tradeKey(order.out_trade_no),
          out_trade_no: order.out_trade_no,
          out_record_id: next.out_record_id,
          claimed_at: next.updated_at,
        };
        const result = await deps.store.startOrder(next, claim);
        if (result === 'started') return next;
        if (result === 'conflict') return undefined;
        const trade = await deps.store.getTrade(order.out_trade_no);
        if (trade?.out_record_id !== next.out_record_id) {
          throw new TradeNoUsed(order.out_trade_no, `by repayment ${trade?.out_record_id ?? 'unknown'}`);
        }
        // Claimed for this booking by someone else's write: the re-read shows it, and decide says so.
        return undefined;
      },
    },
    `repayment ${booking.out_record_id} kept changing while order ${order.out_trade_no} was started`,
  );
}

/** The identical request again: answered from the record; an order still UNKNOWN is asked about first. */
async function replay(
  deps: SettleDeps,
  booking: BookingRecord,
  order: RepaymentOrder,
  input: DeductInput,
): Promise<DeductOutcome> {
  const same =
    order.deduct_amount === (input.deduct_amount ?? booking.repayment_amount) &&
    order.description === (input.description ?? booking.description) &&
    order.attach === input.attach;
  if (!same) throw new TradeNoUsed(order.out_trade_no, 'by another deduct request of this repayment');
  if (order.order_state !== 'UNKNOWN') return { record: booking, order, replayed: true };
  const settled = (await settleBooking(deps, booking.out_record_id, 'sync'))?.record ?? booking;
  const now = orderOf(settled, order.out_trade_no);
  if (now.order_state === 'UNKNOWN') {
    throw new WechatPayUnavailable(
      `order ${order.out_trade_no} may or may not have reached WeChat Pay, and its query does not tell yet`,
    );
  }
  return { record: settled, order: now, replayed: true };
}

/** 31 letters and digits: time first, so numbers sort roughly by creation; then 88 random bits. */
export function newTradeNo(): string {
  return `D${Date.now().toString(36).toUpperCase()}${randomBytes(11).toString('hex').toUpperCase()}`;
}
