import { type ContractState, EXPIRABLE_STATES, EXPIRY_GRACE_MS, PRESIGN_TTL_MS } from './lifecycle';
import { type SyncDeps, syncContract } from './sync';

export interface ReconcileOptions {
  /** Upper bound of contracts examined in one run (bounded work per scheduled invocation). */
  limit: number;
  /** Parallel WeChat Pay queries. */
  concurrency: number;
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
 * Settles contracts whose callback never came or whose presign outcome we never learned, by asking WeChat
 * Pay's query API: oldest first, through the by_state index (never a scan). Safe alongside callbacks
 * (every write is conditional on the version it read) and resumable: settled contracts leave the states
 * searched, so the next run continues where this one stopped.
 */
export async function reconcile(deps: SyncDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const now = deps.clock();
  const iso = (ms: number) => new Date(ms).toISOString();
  // Only contracts whose presign token lapsed, plus the grace period (see lapsesAt). Before that the user may
  // still sign and WeChat Pay is still retrying its callback; after it, every answer settles the contract (no
  // contract means EXPIRED), so young ones never fill a run's limit and starve older ones. ?sync=true asks sooner.
  const settledBefore = iso(now - PRESIGN_TTL_MS - EXPIRY_GRACE_MS);
  const report: ReconcileReport = { examined: 0, settled: {}, unchanged: 0, failed: 0 };
  const codes: string[] = [];
  for (const state of EXPIRABLE_STATES) {
    if (codes.length >= options.limit) break;
    const found = await deps.store.listStale(state, settledBefore, options.limit - codes.length);
    codes.push(...found.map((r) => r.out_contract_code));
  }
  let next = 0;
  const worker = async () => {
    while (next < codes.length && !options.shouldStop?.()) {
      const code = codes[next++] as string;
      report.examined++;
      try {
        const { record, changed } = await syncContract(deps, code);
        if (changed && record) report.settled[record.state] = (report.settled[record.state] ?? 0) + 1;
        else report.unchanged++;
      } catch (error) {
        // One contract's failure (WeChat Pay 5xx, a conflict) must not stop the others; the next run retries it.
        report.failed++;
        options.onError?.(code, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return report;
}
