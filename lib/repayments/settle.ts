import type { Clock, ContractStore, WechatPayGateway } from '../contracts/ports';
import { WechatPayRejected } from '../errors';
import { deductOrderQuery, scheduleRecordQuery } from '../wechatpay/repayments';
import { failureOf, orderAnswered, scheduleQueried } from './answers';
import { afterCheck } from './indexes';
import { canTransition, moved, type OrderFacts, withOrderFacts, withUnprocessedOrder } from './lifecycle';
import { type BookingRecord, latestOrder, type RepaymentOrder } from './model';
import type { RepaymentStore } from './ports';
import { bookingRequest, orderRequest } from './requests';
import { sendWrite } from './send';
import { updateBooking } from './update';

export interface SettleDeps {
  store: RepaymentStore;
  contracts: Pick<ContractStore, 'get'>;
  wechatpay: WechatPayGateway;
  clock: Clock;
  /** Where WeChat Pay sends DEDUCTION_PAY: a resent deduct order names it again. */
  notifyUrl: string;
}

/**
 * A lost write is resent (same id, same body) only this long after its last send: far longer than one send can
 * take (three attempts of at most 5 s), so a request still in flight is never raced by its own resend.
 */
export const RESEND_AFTER_MS = 2 * 60_000;

export interface SettleResult {
  record: BookingRecord;
  /** WeChat Pay's answer moved the booking or its order. */
  settled: boolean;
  /** Why WeChat Pay could not be asked (the poll counts it and tries again later). */
  error?: unknown;
}

type Apply = (current: BookingRecord, now: string, nowMs: number) => BookingRecord | undefined;

/** What asking WeChat Pay taught: a change to apply, or nothing (and maybe why), and the record as we left it. */
interface Learned {
  known: BookingRecord;
  apply?: Apply;
  error?: unknown;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Asks WeChat Pay about a booking (its latest deduct order; without one, its schedule record) and applies the
 * answer through the lifecycle's forward-only rules. A booking or order WeChat Pay says it does not have, whose
 * last send is older than RESEND_AFTER_MS, is resent with the same id: WeChat Pay refuses a second use of an id,
 * so this can never create a second booking or order. `poll` also moves an unsettled booking along its backoff.
 * Undefined when there is no such booking.
 */
export async function settleBooking(
  deps: SettleDeps,
  outRecordId: string,
  mode: 'sync' | 'poll',
): Promise<SettleResult | undefined> {
  const record = await deps.store.get(outRecordId);
  if (!record) return undefined;
  if (mode === 'poll' && record.poll_at === undefined) return { record, settled: false };
  const learned = await ask(deps, record);
  if (mode === 'sync' && learned.error !== undefined && !learned.apply) throw learned.error;
  let settled = false;
  const after = await updateBooking(
    deps.store,
    learned.known,
    (current) => {
      const nowMs = deps.clock();
      const next = learned.apply?.(current, iso(nowMs), nowMs);
      settled = next !== undefined;
      return next ?? (mode === 'poll' ? afterCheck(current, iso(nowMs), nowMs) : undefined);
    },
    "WeChat Pay's answer was recorded",
  );
  if (mode === 'sync' && learned.error !== undefined) throw learned.error;
  return { record: after, settled, ...(learned.error !== undefined ? { error: learned.error } : {}) };
}

function ask(deps: SettleDeps, record: BookingRecord): Promise<Learned> {
  const order = latestOrder(record);
  return order ? askOrder(deps, record, order) : askSchedule(deps, record);
}

const notFound = (error: unknown) => error instanceof WechatPayRejected && error.wechatpay.status === 404;
const resendDue = (sentAt: string | undefined, nowMs: number) =>
  sentAt === undefined || Date.parse(sentAt) + RESEND_AFTER_MS <= nowMs;

const toScheduled: Apply = (current, now, nowMs) =>
  canTransition(current.state, 'SCHEDULED') ? moved(current, 'SCHEDULED', {}, now, nowMs) : undefined;

async function askSchedule(deps: SettleDeps, record: BookingRecord): Promise<Learned> {
  try {
    const response = await deps.wechatpay.call(
      scheduleRecordQuery(record.out_record_id, record.contract_id),
      {
        retry: true,
      },
    );
    const unusable = scheduleQueried(response, record.out_record_id);
    return unusable ? { known: record, error: unusable } : { known: record, apply: toScheduled };
  } catch (error) {
    if (!notFound(error)) return { known: record, error };
    const open = record.state === 'SCHEDULING' || record.state === 'SCHEDULE_UNKNOWN';
    if (!open || !resendDue(record.sent_at, deps.clock())) return { known: record };
    return resendBooking(deps, record);
  }
}

async function resendBooking(deps: SettleDeps, record: BookingRecord): Promise<Learned> {
  const contract = record.out_contract_code ? await deps.contracts.get(record.out_contract_code) : undefined;
  if (contract?.state !== 'SIGNED' || !contract.openid) return { known: record };
  const signed = await deps.wechatpay.sign(bookingRequest(record, contract));
  const known = await claimResend(deps, record, (r, now) => ({ ...r, sent_at: now }));
  if (!known) return { known: record };
  const outcome = await sendWrite(deps.wechatpay, signed);
  if (outcome.kind === 'unknown') return { known, error: outcome.error };
  if (outcome.kind === 'refused') {
    // WeChat Pay just said it has no such booking and refused to make one: failing it is safe, no money moves.
    const wechatpay_error = failureOf(outcome.error);
    return {
      known,
      apply: (current, now, nowMs) =>
        canTransition(current.state, 'SCHEDULE_FAILED')
          ? moved(current, 'SCHEDULE_FAILED', { wechatpay_error }, now, nowMs)
          : undefined,
    };
  }
  return { known, apply: toScheduled };
}

async function askOrder(deps: SettleDeps, record: BookingRecord, order: RepaymentOrder): Promise<Learned> {
  // WeChat Pay answered every send 429 (not processed): it has no such order, so asking would only cost a call.
  if (order.order_state === 'UNKNOWN' && order.unprocessed) return resendOrder(deps, record, order);
  try {
    const response = await deps.wechatpay.call(deductOrderQuery(order.out_trade_no), { retry: true });
    return learnedFrom(record, orderAnswered(response, record, order.out_trade_no));
  } catch (error) {
    if (!notFound(error)) return { known: record, error };
    // Only an order we never heard back about may be missing at WeChat Pay; any other is left as it is.
    if (order.order_state !== 'UNKNOWN' || !resendDue(order.sent_at, deps.clock())) return { known: record };
    return resendOrder(deps, record, order);
  }
}

async function resendOrder(deps: SettleDeps, record: BookingRecord, order: RepaymentOrder): Promise<Learned> {
  const signed = await deps.wechatpay.sign(orderRequest(record, order, deps.notifyUrl));
  // From this send on the order may land, so it is no longer known to be unprocessed.
  const known = await claimResend(deps, record, (r, now) => ({
    ...r,
    orders: r.orders.map((o) => {
      if (o.out_trade_no !== order.out_trade_no) return o;
      const { unprocessed: _sent, ...sent } = o;
      return { ...sent, sent_at: now };
    }),
  }));
  if (!known) return { known: record };
  const outcome = await sendWrite(deps.wechatpay, signed);
  if (outcome.kind === 'throttled') {
    const apply: Apply = (current, now, nowMs) =>
      withUnprocessedOrder(current, order.out_trade_no, now, nowMs);
    return { known, apply, error: outcome.error };
  }
  // A refusal of a resend proves nothing (the first send may have landed meanwhile): the order stays UNKNOWN.
  if (outcome.kind !== 'answered') return { known, error: outcome.error };
  return learnedFrom(known, orderAnswered(outcome.response, known, order.out_trade_no));
}

function learnedFrom(known: BookingRecord, facts: OrderFacts | Error): Learned {
  if (facts instanceof Error) return { known, error: facts };
  return { known, apply: (current, now, nowMs) => withOrderFacts(current, facts, now, nowMs) };
}

/**
 * Records the resend before it is made, conditional on the version read: of two pollers or syncs that both found
 * the write missing, only one resends. Undefined when the booking moved meanwhile (it is settled elsewhere).
 */
async function claimResend(
  deps: SettleDeps,
  record: BookingRecord,
  change: (record: BookingRecord, now: string) => BookingRecord,
): Promise<BookingRecord | undefined> {
  const now = iso(deps.clock());
  const claimed = { ...change(record, now), updated_at: now, version: record.version + 1 };
  return (await deps.store.save(claimed)) ? claimed : undefined;
}
