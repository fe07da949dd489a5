import { setTimeout as sleep } from 'node:timers/promises';
import {
  ContractStateConflict,
  DeductionInProgress,
  DependencyUnavailable,
  RepaymentNotDue,
  RepaymentNotFound,
  RepaymentStateConflict,
  TradeNoUsed,
  WechatPayRejected,
  WechatPayUnavailable,
} from '../errors';
import {
  addCounts,
  type DayCounts,
  emptyCounts,
  type Outcome,
  type PageInput,
  type PageOutput,
} from './day-model';
import { deduct, newTradeNo } from './deduct';
import type { RepaymentDayStore } from './ports';
import type { SettleDeps } from './settle';

export interface DayDeps extends SettleDeps {
  day: RepaymentDayStore;
  /**
   * True for a refusal for rate (KMS ThrottlingException before the order was claimed, WeChat Pay 429 on every
   * send after): nothing was processed, the pacer has slowed down, and the same order is tried again.
   */
  isThrottle(error: unknown): boolean;
}

export interface PageOptions {
  /** Bookings read per query of the index. */
  pageSize: number;
  /** Deductions in flight at once. */
  concurrency: number;
  /** True once no new booking may be started (the invocation's time is running out). */
  shouldStop(): boolean;
  onError?(outRecordId: string, error: unknown): void;
}

/** Our own dependencies failing (DynamoDB): tried this often before a booking is left SCHEDULED for a rerun. */
const DEPENDENCY_ATTEMPTS = 5;
const DEPENDENCY_PAUSE_MS = 500;

/** The job orders SCHEDULED bookings only: after a PAY_FAIL nothing orders again by itself. */
const DUE: readonly ['SCHEDULED'] = ['SCHEDULED'];

/**
 * One Page task of the repayment-day job (docs/architecture.md, "Repayment day"): reads the shard's due
 * bookings through the by_due index (never a scan), after the cursor, in key order, and deducts each through
 * the deduct use case, so its claim and one-live-order rules decide: a booking no longer SCHEDULED (deducted by
 * hand, or by a concurrent run) is skipped. A few deductions are in flight at once; the signing pace is the
 * signer's (a Pacer under the budget). It stops starting bookings when `shouldStop` says so and returns the
 * cursor: the last booking all of whose predecessors are settled. Exactly once comes from the conditional
 * writes, not from this loop: two runs over one shard order each booking once between them.
 */
export async function runPage(deps: DayDeps, input: PageInput, options: PageOptions): Promise<PageOutput> {
  const counts = addCounts(emptyCounts(), input.counts);
  let cursor = input.cursor;
  let done = false;
  while (!options.shouldStop()) {
    const page = await deps.day.listDue(input.date, input.shard, cursor, options.pageSize);
    const settled = await work(deps, page.ids, counts, options);
    if (settled > 0) cursor = page.ids[settled - 1];
    if (settled < page.ids.length) break;
    if (page.last === undefined) {
      done = true;
      break;
    }
    cursor = page.last;
  }
  return { ...input, ...(cursor === undefined ? {} : { cursor }), counts, done };
}

/** Deducts `ids` with `options.concurrency` in flight; returns how many of them, from the first, are settled. */
async function work(deps: DayDeps, ids: string[], counts: DayCounts, options: PageOptions): Promise<number> {
  const settled = ids.map(() => false);
  let next = 0;
  const worker = async () => {
    while (next < ids.length && !options.shouldStop()) {
      const index = next++;
      const outcome = await deductDue(deps, ids[index] as string, counts, options);
      if (outcome === undefined) continue;
      counts[outcome]++;
      settled[index] = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  const open = settled.indexOf(false);
  return open === -1 ? ids.length : open;
}

/**
 * One due booking, to an outcome; undefined when time ran out while it was being throttled (the cursor stays
 * before it: if its order was claimed, the poll sends that same order; if not, the next page takes it up).
 */
async function deductDue(
  deps: DayDeps,
  id: string,
  counts: DayCounts,
  options: PageOptions,
): Promise<Outcome | undefined> {
  // Chosen once, so a retry after a throttle sends this same order, never a second one.
  const body = { out_trade_no: newTradeNo() };
  for (let failures = 0; ; ) {
    try {
      // Replayed or not, the order is ours: nobody else knows this out_trade_no.
      await deduct(deps, id, body, DUE);
      return 'ordered';
    } catch (error) {
      if (deps.isThrottle(error)) {
        counts.throttled++;
        if (options.shouldStop()) return undefined;
        continue;
      }
      const outcome = outcomeOf(error);
      // A lost answer is worth a log line: the poll settles it, but many at once say WeChat Pay is struggling.
      if (outcome === 'unknown') options.onError?.(id, error);
      if (outcome) return outcome;
      options.onError?.(id, error);
      if (!(error instanceof DependencyUnavailable) || ++failures >= DEPENDENCY_ATTEMPTS) return 'failed';
      await sleep(DEPENDENCY_PAUSE_MS * failures);
    }
  }
}

function outcomeOf(error: unknown): Outcome | undefined {
  if (
    error instanceof DeductionInProgress ||
    error instanceof RepaymentStateConflict ||
    error instanceof RepaymentNotFound ||
    // Only a concurrent request can hold a fresh out_trade_no: this booking is being ordered elsewhere.
    error instanceof TradeNoUsed
  ) {
    return 'skipped';
  }
  if (error instanceof ContractStateConflict) return 'not_deductible';
  if (error instanceof RepaymentNotDue) return 'not_due';
  if (error instanceof WechatPayRejected) return 'rejected';
  if (error instanceof WechatPayUnavailable) return 'unknown';
  return undefined;
}
