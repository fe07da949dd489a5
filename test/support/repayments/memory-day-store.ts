import type { DayRunRecord } from '../../../lib/repayments/day-model';
import type { BookingRecord } from '../../../lib/repayments/model';
import type { DuePage, RepaymentDayStore } from '../../../lib/repayments/ports';
import type { MemoryRepaymentStore } from './memory-store';

/** The by_due index and the run items over a MemoryRepaymentStore, as DynamoDB answers them; for unit tests. */
export class MemoryDayStore implements RepaymentDayStore {
  readonly runs = new Map<string, DayRunRecord>();
  /** Every listDue call: what a test asserts the cursor with. */
  readonly listed: { shard: number; after?: string }[] = [];

  constructor(private readonly store: MemoryRepaymentStore) {}

  private due(date: string, shard: number): BookingRecord[] {
    return [...this.store.items.values()]
      .filter((i): i is BookingRecord => 'due_shard' in i && i.due_shard === `${date}#${shard}`)
      .sort((a, b) => a.out_record_id.localeCompare(b.out_record_id));
  }

  async listDue(date: string, shard: number, after: string | undefined, limit: number): Promise<DuePage> {
    this.listed.push({ shard, ...(after === undefined ? {} : { after }) });
    const rest = this.due(date, shard).filter((r) => after === undefined || r.out_record_id > after);
    const ids = rest.slice(0, limit).map((r) => r.out_record_id);
    return rest.length > limit ? { ids, last: ids.at(-1) as string } : { ids };
  }

  async countDue(date: string, shard: number): Promise<number> {
    return this.due(date, shard).length;
  }

  async recordRun(run: DayRunRecord): Promise<boolean> {
    if (this.runs.has(run.pk)) return false;
    this.runs.set(run.pk, structuredClone(run));
    return true;
  }
}
