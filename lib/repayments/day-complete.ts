import type { Clock } from '../contracts/ports';
import { addCounts, type CompleteInput, type DayRunRecord, emptyCounts, runKey } from './day-model';
import { DUE_SHARDS } from './indexes';
import type { RepaymentDayStore } from './ports';

/**
 * The Complete task: sums the shards' counts, counts the bookings still due on the date in every shard (they
 * were not deducted: a failed shard, a contract no longer signed, a booking that arrived late), and records the
 * run once. The run item's stream record announces RepaymentDayCompleted through the outbox, for a run that
 * found nothing too. A retried Complete finds the run recorded and writes nothing.
 */
export async function completeDay(
  deps: { day: RepaymentDayStore; clock: Clock },
  input: CompleteInput,
): Promise<DayRunRecord> {
  const results = Array.isArray(input.results) ? input.results : [];
  const counts = results.reduce((sum, r) => addCounts(sum, r.counts), emptyCounts());
  const failed_shards = results.filter((r) => r.failed === true || r.done !== true).map((r) => r.shard);
  const shards = Array.from({ length: DUE_SHARDS }, (_, shard) => deps.day.countDue(input.date, shard));
  const open = (await Promise.all(shards)).reduce((sum, n) => sum + n, 0);
  const run: DayRunRecord = {
    pk: runKey(input.date, input.run_id),
    date: input.date,
    run_id: input.run_id,
    counts,
    open,
    shards: results.length,
    failed_shards,
    completed_at: new Date(deps.clock()).toISOString(),
  };
  await deps.day.recordRun(run);
  return run;
}
