/**
 * The repayment-day job's records (docs/architecture.md, "Repayment day"): what a page of one by_due shard
 * carries from one worker invocation to the next through the state machine, and the run item the completion
 * writes. Only dates, shard numbers, out_record_id cursors and counts: nothing personal goes into the
 * execution history.
 */
import { ValidationFailed } from '../errors';
import { isCalendarDate } from './dates';
import { DUE_SHARDS } from './indexes';

/** Outcomes of the bookings a run took up, counted per run (docs/events/RepaymentDayCompleted.json). */
export interface DayCounts {
  /** A deduct order WeChat Pay accepted (PENDING, NOT_PAY or already final). */
  ordered: number;
  /** No longer SCHEDULED when taken up (deducted by hand or by another run): nothing sent. */
  skipped: number;
  /** WeChat Pay refused the order (REJECTED, booking FAILED). */
  rejected: number;
  /** The order's answer was lost (UNKNOWN): the poll settles it by querying that order. */
  unknown: number;
  /** Booked for a later date than the run's (a run started by hand early): left SCHEDULED. */
  not_due: number;
  /** The contract is no longer SIGNED: left SCHEDULED, counted open. */
  not_deductible: number;
  /** Our own dependencies kept failing: left SCHEDULED for a rerun. */
  failed: number;
  /** Throttles met (KMS ThrottlingException, WeChat Pay 429), each slowing the job; never a booking's outcome. */
  throttled: number;
}

/** The run item: its counts, what is still open, and the shards that failed (left for a rerun). */
export interface DayRunRecord {
  pk: string;
  date: string;
  run_id: string;
  counts: DayCounts;
  /** Bookings still due when the run ended (SCHEDULED auto_deduct for the date): the alarm's figure. */
  open: number;
  shards: number;
  failed_shards: number[];
  completed_at: string;
}

export const runKey = (date: string, runId: string): string => `RUN#${date}#${runId}`;

export const OUTCOMES = [
  'ordered',
  'skipped',
  'rejected',
  'unknown',
  'not_due',
  'not_deductible',
  'failed',
] as const satisfies readonly (keyof DayCounts)[];
export type Outcome = (typeof OUTCOMES)[number];

export const emptyCounts = (): DayCounts => ({
  ordered: 0,
  skipped: 0,
  rejected: 0,
  unknown: 0,
  not_due: 0,
  not_deductible: 0,
  failed: 0,
  throttled: 0,
});

/** The sum of counts, reading only the known fields (a page's counts come back through the engine). */
export function addCounts(into: DayCounts, more: Partial<DayCounts> | undefined): DayCounts {
  for (const key of Object.keys(into) as (keyof DayCounts)[]) {
    const n = more?.[key];
    if (typeof n === 'number' && Number.isFinite(n)) into[key] += n;
  }
  return into;
}

/** One Page task's input: the shard, where to continue, and the counts so far. */
export interface PageInput {
  action: 'page';
  date: string;
  shard: number;
  run_id: string;
  /** The last out_record_id all of whose predecessors in the shard were settled; absent: from the start. */
  cursor?: string;
  counts?: DayCounts;
}

/** The next Page task's input, with `done` telling the state machine's Choice whether to loop. */
export interface PageOutput extends PageInput {
  counts: DayCounts;
  done: boolean;
}

/** One shard's end as the state machine's Map hands it over: its last page, or the failure it was caught with. */
export interface ShardResult {
  shard: number;
  counts?: Partial<DayCounts>;
  done?: boolean;
  /** The shard's pages kept failing (retries exhausted): its remaining bookings stay SCHEDULED for a rerun. */
  failed?: boolean;
}

export interface CompleteInput {
  action: 'complete';
  date: string;
  run_id: string;
  results: ShardResult[];
}

/** What the worker is invoked with: a Page task's input, or the Complete task's (day-complete.ts). */
export function readWorkerEvent(event: unknown): PageInput | CompleteInput {
  const e = typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : {};
  const errors: { field: string; issue: string }[] = [];
  if (typeof e.date !== 'string' || !isCalendarDate(e.date)) {
    errors.push({ field: '/date', issue: 'must be a calendar date written yyyy-MM-dd' });
  }
  if (typeof e.run_id !== 'string' || !/^[\w-]{1,80}$/.test(e.run_id)) {
    errors.push({ field: '/run_id', issue: 'must be the execution name: 1 to 80 letters, digits, - or _' });
  }
  if (e.action === 'page') {
    if (!Number.isInteger(e.shard) || (e.shard as number) < 0 || (e.shard as number) >= DUE_SHARDS) {
      errors.push({ field: '/shard', issue: `must be an integer from 0 to ${DUE_SHARDS - 1}` });
    }
    if (e.cursor !== undefined && (typeof e.cursor !== 'string' || !/^[0-9A-Za-z]{1,32}$/.test(e.cursor))) {
      errors.push({ field: '/cursor', issue: 'must be an out_record_id: 1 to 32 letters and digits' });
    }
  } else if (e.action !== 'complete') {
    errors.push({ field: '/action', issue: 'must be page or complete' });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
  return e as unknown as PageInput | CompleteInput;
}
