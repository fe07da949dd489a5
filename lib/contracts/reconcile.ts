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
  /** Stop starting new work when this returns true (e.g. the Lambda's remaining time is short). */
  shouldStop?: () => boolean;
  onError?: (outContractCode: string, error: unknown) => void;
}

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
  const due = await deps.store.listDue(new Date(deps.clock()).toISOString(), options.limit);
  // A record that could not be moved back stays due, so the next run looks at it again: nothing is lost.
  const moveBack = (record: ContractRecord, outcome: 'unchanged' | 'failed') =>
    deps.store
      .requeue(record, requeue(record, outcome, deps.clock(), options.recheck))
      .catch((error: unknown) => options.onError?.(record.out_contract_code, error));
  let next = 0;
  const worker = async () => {
    while (next < due.length && !options.shouldStop?.()) {
      const listed = due[next++] as ContractRecord;
      const code = listed.out_contract_code;
      report.examined++;
      try {
        const { record, changed } = await syncContract(deps, code);
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
