import { ANSWER_MS, type Budget, inTime, keeping, RECORD_MS, UNBOUNDED } from './budget';
import type { ContractState } from './lifecycle';
import type { ContractRecord } from './model';
import { type RecheckPolicy, requeue } from './recheck';
import { type SyncDeps, syncContract } from './sync';

export interface ReconcileOptions {
  /** Upper bound of contracts examined in one run (bounded work per scheduled invocation). */
  limit: number;
  /** Parallel WeChat Pay queries. */
  concurrency: number;
  /** How often SIGNED contracts are asked about again (the queue's other times are fixed: recheck.ts). */
  recheck: RecheckPolicy;
  /**
   * The invocation's time (budget.ts): no look starts with under LOOK_MS left, and each keeps time to move its
   * record back in the queue and to answer. Default: unbounded.
   */
  budget?: Budget;
  onError?: (outContractCode: string, error: unknown) => void;
}

/** Less than this left, and no look starts: a query attempt or two, its write, a move back in the queue. */
export const LOOK_MS = 10_000;

export interface ReconcileReport {
  examined: number;
  settled: Partial<Record<ContractState, number>>;
  unchanged: number;
  failed: number;
}

/**
 * Settles contracts whose callback never came or whose presign outcome we never learned, and asks again about
 * SIGNED contracts (a lost TERMINATE_CONTRACT) and, once, about EXPIRED ones, through WeChat Pay's query API.
 * The work comes from reconcile's queue, the records due first (never a scan). A look that settles nothing moves
 * the record back in the queue, so records that cannot be settled never fill every run: each run makes progress.
 * Safe alongside callbacks: every write is conditional on the version it read.
 */
export async function reconcile(deps: SyncDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = { examined: 0, settled: {}, unchanged: 0, failed: 0 };
  const budget = options.budget ?? UNBOUNDED;
  const answerBy = keeping(budget, ANSWER_MS);
  const forLook = keeping(answerBy, RECORD_MS);
  const due = await deps.store.listDue(new Date(deps.clock()).toISOString(), options.limit);
  // A record that could not be moved back stays due, so the next run looks at it again: nothing is lost.
  const moveBack = (record: ContractRecord, outcome: 'unchanged' | 'failed') =>
    inTime(
      answerBy,
      deps.store.requeue(record, requeue(record, outcome, deps.clock(), options.recheck)),
      'DynamoDB',
      'moving a record back in the queue',
    ).catch((error: unknown) => options.onError?.(record.out_contract_code, error));
  let next = 0;
  const worker = async () => {
    while (next < due.length && budget.remainingMs() >= LOOK_MS) {
      const listed = due[next++] as ContractRecord;
      const code = listed.out_contract_code;
      report.examined++;
      try {
        const { record, changed } = await syncContract(deps, code, forLook);
        if (changed && record) {
          report.settled[record.state] = (report.settled[record.state] ?? 0) + 1;
        } else {
          report.unchanged++;
          await moveBack(record ?? listed, 'unchanged');
        }
      } catch (error) {
        // One contract's failure (WeChat Pay 5xx, a conflict) must not stop the others; it is retried later,
        // behind the records due before then.
        report.failed++;
        options.onError?.(code, error);
        await moveBack(listed, 'failed');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return report;
}
