/**
 * The DEDUCTION_PAYs we verified and acknowledged but kept unhandled because they did not match our records
 * (lib/repayments/notifications.ts), for the operator's notifications function beside the contract callbacks
 * kept in the notifications table (lib/contracts/unhandled.ts). Applying one decrypts its kept body again and
 * takes the callback's own decision on the booking as it is now: when that decision moves the booking, the move,
 * the end of the keeping and the id's new outcome commit together, so each is applied at most once; when it is
 * still a mismatch, it stays kept and the report says why.
 */
import { readDecideWrite } from '../contracts/conditional-write';
import type { OpenedNotification } from '../contracts/notifications';
import type { Clock } from '../contracts/ports';
import {
  type ApplyReport,
  applyUnhandled,
  keptToApply,
  listUnhandled,
  type UnhandledDeps,
  type UnhandledView,
} from '../contracts/unhandled';
import { readNotification } from '../wechatpay/notification';
import { type DeductionPay, parseDeductionPay } from '../wechatpay/repayments';
import type { BookingRecord, TradeClaim, UnhandledNotification } from './model';
import { DEDUPE_SECONDS, type Decision, decideDeductionPay } from './notifications';
import type { KeptNotificationStore, KeptSettlement, RepaymentStore } from './ports';

export interface KeptDeps {
  store: Pick<RepaymentStore, 'get' | 'getTrade'>;
  kept: KeptNotificationStore;
  /** The kept body is still encrypted: applying it decrypts it again. */
  apiV3Key: Buffer;
  clock: Clock;
}

/** What an operator sees of one: never the body, which holds the user's openid once decrypted. */
export interface KeptView {
  id: string;
  event_type: string;
  create_time: string;
  received_at: string;
  reason: string;
  out_record_id?: string;
  out_trade_no?: string;
}

export async function listKept(
  deps: Pick<KeptDeps, 'kept'>,
  limit: number,
  cursor?: string,
): Promise<{ notifications: KeptView[]; cursor?: string }> {
  const page = await deps.kept.listKept(limit, cursor);
  const notifications = page.notifications.map((n) => ({
    id: n.notification_id,
    event_type: n.event_type,
    create_time: n.create_time,
    received_at: n.received_at,
    reason: n.reason,
    ...(n.out_record_id ? { out_record_id: n.out_record_id } : {}),
    ...(n.out_trade_no ? { out_trade_no: n.out_trade_no } : {}),
  }));
  return page.cursor ? { notifications, cursor: page.cursor } : { notifications };
}

/** Applies the kept DEDUCTION_PAYs that now match: those of `ids`, or every one (up to `limit`). */
export async function applyKept(
  deps: KeptDeps,
  options: { ids?: string[]; limit: number },
): Promise<ApplyReport> {
  const report: ApplyReport = { applied: [], stale: [], still_unhandled: [], not_unhandled: [] };
  const kept = await keptToApply(
    (cursor) => deps.kept.listKept(options.limit, cursor),
    (n) => n.notification_id,
    options,
    report,
  );
  for (const notification of kept) await applyOne(deps, notification, report);
  return report;
}

type Read = [BookingRecord | undefined, TradeClaim | undefined];
type Settle = { outcome: KeptSettlement['outcome']; effect: Decision['effect'] };
type Outcome = { kept: string } | { settled: 'APPLIED' | 'STALE' | 'gone' };

async function applyOne(deps: KeptDeps, kept: UnhandledNotification, report: ApplyReport): Promise<void> {
  const id = kept.notification_id;
  const rawBody = Buffer.from(kept.raw_body, 'utf8');
  let n: OpenedNotification;
  try {
    n = { ...readNotification(rawBody, deps.apiV3Key), rawBody };
  } catch (error) {
    // E.g. the APIv3 key was reset since it arrived: this one stays kept, and the others are still applied.
    report.still_unhandled.push({ id, reason: `cannot be read: ${(error as Error).message}` });
    return;
  }
  let pay: DeductionPay;
  try {
    pay = parseDeductionPay(n.resource);
  } catch (error) {
    report.still_unhandled.push({
      id,
      reason: `resource is not a deduct order: ${(error as Error).message}`,
    });
    return;
  }
  const outcome = await readDecideWrite<Read, Settle, Outcome>(
    {
      read: () => Promise.all([deps.store.get(pay.out_record_id), deps.store.getTrade(pay.out_trade_no)]),
      decide: ([booking, trade]) => {
        const now = deps.clock();
        const decision = decideDeductionPay(n, pay, booking, trade, new Date(now).toISOString(), now);
        return decision.outcome === 'UNHANDLED'
          ? { done: { kept: decision.reason ?? kept.reason } }
          : { write: { outcome: decision.outcome, effect: decision.effect } };
      },
      write: async ({ outcome, effect }) => {
        const now = deps.clock();
        const { unhandled: _none, ...moves } = effect;
        const written = await deps.kept.settle(
          kept,
          {
            outcome,
            settled_at: new Date(now).toISOString(),
            expires_at_epoch: Math.floor(now / 1000) + DEDUPE_SECONDS,
          },
          moves,
        );
        if (written === 'conflict') return undefined;
        return { settled: written === 'gone' ? 'gone' : outcome };
      },
    },
    `repayment ${pay.out_record_id} kept changing while kept notification ${id} was applied`,
  );
  if ('kept' in outcome) report.still_unhandled.push({ id, reason: outcome.kept });
  else if (outcome.settled === 'APPLIED') report.applied.push(id);
  else if (outcome.settled === 'STALE') report.stale.push(id);
  else report.not_unhandled.push(id);
}

/** Both kinds at once, for the notifications function. */
export type KeptNotificationsDeps = UnhandledDeps & { repayments: KeptDeps };

/**
 * One page of each kind: the contract callbacks as `notifications` (the answer it has always had) and the
 * DEDUCTION_PAYs as `repayment_notifications`, each with its own cursor. Given one kind's cursor only, only that
 * kind is listed on (an operator pages through each on its own); given neither, the first page of both.
 */
export interface KeptList {
  notifications?: UnhandledView[];
  cursor?: string;
  repayment_notifications?: KeptView[];
  repayment_cursor?: string;
}

export async function listAllKept(
  deps: KeptNotificationsDeps,
  limit: number,
  cursors: { cursor?: string; repayment_cursor?: string },
): Promise<KeptList> {
  const both = cursors.cursor === undefined && cursors.repayment_cursor === undefined;
  const [contracts, repayments] = await Promise.all([
    both || cursors.cursor !== undefined ? listUnhandled(deps, limit, cursors.cursor) : undefined,
    both || cursors.repayment_cursor !== undefined
      ? listKept(deps.repayments, limit, cursors.repayment_cursor)
      : undefined,
  ]);
  return {
    ...(contracts ?? {}),
    ...(repayments
      ? {
          repayment_notifications: repayments.notifications,
          ...(repayments.cursor ? { repayment_cursor: repayments.cursor } : {}),
        }
      : {}),
  };
}

/**
 * Applies both kinds (up to `limit` of each) and reports them in one ApplyReport: ids are WeChat Pay's, unique
 * across both, so an id asked for is `not_unhandled` only when neither kind holds it.
 */
export async function applyAllKept(
  deps: KeptNotificationsDeps,
  options: { ids?: string[]; limit: number },
): Promise<ApplyReport> {
  const contracts = await applyUnhandled(deps, options);
  const repayments = await applyKept(deps.repayments, options);
  const report: ApplyReport = {
    applied: [...contracts.applied, ...repayments.applied],
    stale: [...contracts.stale, ...repayments.stale],
    still_unhandled: [...contracts.still_unhandled, ...repayments.still_unhandled],
    not_unhandled: [],
  };
  const handled = new Set([...report.applied, ...report.stale, ...report.still_unhandled.map((n) => n.id)]);
  const missing = new Set([...contracts.not_unhandled, ...repayments.not_unhandled]);
  report.not_unhandled = [...missing].filter((id) => !handled.has(id));
  return report;
}
