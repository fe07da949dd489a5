/**
 * The two sparse indexes of the repayments table, and the attributes that put a booking in them
 * (infra/aws/tables.yml). A booking is in an index only while it needs what the index serves, so neither is
 * ever scanned for the few records that matter:
 * - `by_poll` (`poll_shard`, `poll_at`): bookings awaiting WeChat Pay's word (a booking whose answer was lost,
 *   an order PENDING, NOT_PAY or unanswered). Only a success is notified, so reconcile polls these on a bounded
 *   backoff: minutes, then hours, then daily, for 7 days.
 * - `by_due` (`due_shard` = `<repayment_date>#<shard>`): SCHEDULED bookings with auto_deduct, for the
 *   repayment-day job. Write-sharded: a million bookings due on the 1st would be one hot key otherwise.
 */
import { createHash } from 'node:crypto';
import type { BookingState } from './lifecycle';
import { type BookingRecord, latestOrder } from './model';

export const POLL_SHARDS = 8;
export const DUE_SHARDS = 16;

/** How long an order (or a booking whose answer was lost) is polled before an operator is called. */
export const POLL_WINDOW_MS = 7 * 86_400_000;

const POLLED: readonly BookingState[] = ['SCHEDULING', 'SCHEDULE_UNKNOWN', 'DEDUCTING'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The pause before each check of one wait, then daily: about 17 queries in 7 days. */
const BACKOFF_MS = [1, 2, 4, 8, 15, 30].map((m) => m * MINUTE).concat([1, 2, 4, 8, 12].map((h) => h * HOUR));
const DAILY = 24 * HOUR;

export const backoffMs = (checks: number): number => BACKOFF_MS[checks] ?? DAILY;

/** A stable shard: the same booking always lands in the same partition of an index. */
export function shardOf(outRecordId: string, shards: number): number {
  return createHash('sha256').update(outRecordId).digest().readUInt32BE(0) % shards;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * `next` with the index attributes its state calls for. Entering a polled state (or starting another order)
 * begins a new wait; within one wait the attributes are left to `afterCheck`.
 */
export function withIndexes(
  next: BookingRecord,
  previous: BookingRecord | undefined,
  nowMs: number,
): BookingRecord {
  const { due_shard: _due, poll_shard, poll_at, poll_since, poll_count, poll_exhausted_at, ...rest } = next;
  const record: BookingRecord = rest;
  if (next.state === 'SCHEDULED' && next.auto_deduct && next.repayment_date) {
    record.due_shard = `${next.repayment_date}#${shardOf(next.out_record_id, DUE_SHARDS)}`;
  }
  if (!POLLED.includes(next.state)) return record;
  const sameWait =
    previous !== undefined &&
    previous.state === next.state &&
    latestOrder(previous)?.out_trade_no === latestOrder(next)?.out_trade_no;
  if (sameWait) {
    return {
      ...record,
      ...(poll_shard !== undefined ? { poll_shard } : {}),
      ...(poll_at !== undefined ? { poll_at } : {}),
      ...(poll_since !== undefined ? { poll_since } : {}),
      ...(poll_count !== undefined ? { poll_count } : {}),
      ...(poll_exhausted_at !== undefined ? { poll_exhausted_at } : {}),
    };
  }
  return {
    ...record,
    poll_shard: String(shardOf(next.out_record_id, POLL_SHARDS)),
    poll_since: iso(nowMs),
    poll_count: 0,
    poll_at: iso(nowMs + backoffMs(0)),
  };
}

/**
 * The booking after a check that settled nothing: the next check on the backoff, or, past the polling window,
 * out of the index with `poll_exhausted_at` set. Undefined when the booking is not waiting.
 */
export function afterCheck(record: BookingRecord, now: string, nowMs: number): BookingRecord | undefined {
  if (record.poll_at === undefined || record.poll_since === undefined) return undefined;
  const count = (record.poll_count ?? 0) + 1;
  const at = nowMs + backoffMs(count);
  const base = { ...record, poll_count: count, updated_at: now, version: record.version + 1 };
  if (at <= Date.parse(record.poll_since) + POLL_WINDOW_MS) return { ...base, poll_at: iso(at) };
  const { poll_at: _at, poll_shard: _shard, ...closed } = base;
  return { ...closed, poll_exhausted_at: now };
}
