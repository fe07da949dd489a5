/**
 * The ports of the repayment use cases, each implemented by an adapter (lib/aws/dynamo-repayment-store.ts) and
 * stood in for by unit tests. WeChat Pay, the contract store and the clock are lib/contracts' own ports.
 */
import type { DayRunRecord } from './day-model';
import type { BookingRecord, TradeClaim, UnhandledNotification } from './model';

export type BookingClaim = { claimed: true } | { claimed: false; existing: BookingRecord };

/**
 * Bookings and trade claims. Implementations make `claim` one atomic "create if absent", every other write
 * conditional on the version it was computed from, and throw `DependencyUnavailable` when the store fails.
 */
export interface RepaymentStore {
  /** Creates the booking unless its out_record_id exists; never overwrites. */
  claim(record: BookingRecord): Promise<BookingClaim>;
  get(outRecordId: string): Promise<BookingRecord | undefined>;
  getTrade(outTradeNo: string): Promise<TradeClaim | undefined>;
  /** Writes `next` whole if the stored booking is still at `next.version - 1`; false when someone wrote first. */
  save(next: BookingRecord): Promise<boolean>;
  /**
   * Claims `trade.out_trade_no` forever and writes `next` (version-conditioned) in one transaction, so a deduct
   * order is on its booking before it is sent. `trade_used`: that out_trade_no is taken; `conflict`: the
   * booking moved first (read and decide again).
   */
  startOrder(next: BookingRecord, trade: TradeClaim): Promise<'started' | 'trade_used' | 'conflict'>;
  /** The out_record_ids of one by_poll shard whose next check is due by `dueBy` (RFC 3339), oldest first. */
  listDue(shard: number, dueBy: string, limit: number): Promise<string[]>;
}

export type RepaymentNotificationOutcome =
  /** Moved a booking forward (or created one for an order we did not create). */
  | 'APPLIED'
  /** Matched, but already known (the poll found the success first): recorded, nothing moved. */
  | 'STALE'
  /** Verified but not matching our records: kept raw for an operator, alarmed, announced. */
  | 'UNHANDLED';

export interface RepaymentNotificationRecord {
  /** WeChat Pay's notification id: the de-duplication key, shared with the contract callbacks. */
  id: string;
  event_type: string;
  create_time: string;
  out_trade_no?: string;
  out_record_id?: string;
  outcome: RepaymentNotificationOutcome;
  received_at: string;
  /** Seconds since the epoch after which DynamoDB may delete the id; absent (kept) when unhandled. */
  expires_at_epoch?: number;
}

/** What one DEDUCTION_PAY causes, written with its id in one transaction. */
export interface NotificationEffect {
  booking?: BookingRecord;
  /** The out_trade_no of an order we did not create, claimed so that it is never reused. */
  trade?: TradeClaim;
  unhandled?: UnhandledNotification;
}

export interface RepaymentNotificationStore {
  /** `duplicate`: the id was recorded already; `conflict`: the booking moved since it was read. */
  record(
    notification: RepaymentNotificationRecord,
    effect: NotificationEffect,
  ): Promise<'recorded' | 'duplicate' | 'conflict'>;
}

/** One page of the DEDUCTION_PAYs kept unhandled, oldest first, and the cursor to the next (absent: the end). */
export interface KeptPage {
  notifications: UnhandledNotification[];
  cursor?: string;
}

/** How a kept DEDUCTION_PAY ends when an operator applies it: as the callback would have, had it matched. */
export interface KeptSettlement {
  outcome: Exclude<RepaymentNotificationOutcome, 'UNHANDLED'>;
  settled_at: string;
  /** From now on an applied notification id, remembered as long as any. */
  expires_at_epoch: number;
}

/**
 * The DEDUCTION_PAYs kept unhandled, for the operator (never a scan). `settle` writes what applying one causes,
 * the end of its keeping and its id's new outcome in one transaction: `gone` when it is no longer kept (applied
 * by someone else meanwhile), `conflict` when the booking moved since it was read (read and decide again).
 */
export interface KeptNotificationStore {
  listKept(limit: number, cursor?: string): Promise<KeptPage>;
  settle(
    kept: UnhandledNotification,
    settlement: KeptSettlement,
    effect: Omit<NotificationEffect, 'unhandled'>,
  ): Promise<'recorded' | 'gone' | 'conflict'>;
}

/** One page of a by_due shard: out_record_ids in key order, and the key to continue after (absent: the end). */
export interface DuePage {
  ids: string[];
  last?: string;
}

/**
 * What the repayment-day job reads and writes besides bookings: the by_due index (SCHEDULED auto_deduct
 * bookings, `<date>#<shard>`, never a scan) and the run item whose stream record announces the run.
 */
export interface RepaymentDayStore {
  /** Up to `limit` due bookings of one shard, after `after` (an out_record_id) in key order. */
  listDue(date: string, shard: number, after: string | undefined, limit: number): Promise<DuePage>;
  /** How many bookings of one shard are still due (SCHEDULED, auto_deduct): left open by the run. */
  countDue(date: string, shard: number): Promise<number>;
  /** Writes the run's record once (`RUN#<date>#<run_id>`); false when this run was recorded already. */
  recordRun(run: DayRunRecord): Promise<boolean>;
}
