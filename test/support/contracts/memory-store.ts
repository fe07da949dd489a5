import type { ContractState } from '../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../lib/contracts/model';
import type { ClaimResult, ContractStore } from '../../../lib/contracts/ports';
import {
  DEFAULT_RECHECK,
  firstCheckAt,
  type RecheckPolicy,
  type Requeue,
} from '../../../lib/contracts/recheck';

/**
 * An in-memory ContractStore with the same conditional semantics as DynamoDB's, reconcile's queue included
 * (every write places the record by `firstCheckAt`); for unit tests and benchmarks.
 */
export class MemoryContractStore implements ContractStore {
  readonly items = new Map<string, ContractRecord>();

  constructor(private readonly policy: RecheckPolicy = DEFAULT_RECHECK) {}

  /** The record as a write stores it: placed in the queue anew, no failed looks. */
  private queued(record: ContractRecord): ContractRecord {
    const { next_check_at: _next, check_attempts: _attempts, ...rest } = structuredClone(record);
    const at = firstCheckAt(rest, this.policy);
    return at === undefined ? rest : { ...rest, next_check_at: new Date(at).toISOString() };
  }

  async claim(record: ContractRecord): Promise<ClaimResult> {
    const existing = this.items.get(record.out_contract_code);
    if (existing) return { claimed: false, existing: structuredClone(existing) };
    this.items.set(record.out_contract_code, this.queued(record));
    return { claimed: true };
  }

  async get(outContractCode: string): Promise<ContractRecord | undefined> {
    const item = this.items.get(outContractCode);
    return item && structuredClone(item);
  }

  async transition(
    current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
    changes: Partial<ContractRecord> & { state: ContractState; updated_at: string },
  ): Promise<ContractRecord | undefined> {
    const item = this.items.get(current.out_contract_code);
    if (!item || item.version !== current.version) return undefined;
    const next = this.queued({ ...item, ...changes, version: item.version + 1 });
    this.items.set(item.out_contract_code, next);
    return structuredClone(next);
  }

  async save(next: ContractRecord): Promise<boolean> {
    const item = this.items.get(next.out_contract_code);
    if (next.version === 1 ? item !== undefined : item?.version !== next.version - 1) return false;
    this.items.set(next.out_contract_code, this.queued(next));
    return true;
  }

  async listDue(now: string, limit: number): Promise<ContractRecord[]> {
    return [...this.items.values()]
      .filter((r) => r.next_check_at !== undefined && r.next_check_at <= now)
      .sort((a, b) => String(a.next_check_at).localeCompare(String(b.next_check_at)))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async requeue(
    current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
    next: Requeue,
  ): Promise<boolean> {
    const item = this.items.get(current.out_contract_code);
    if (!item || item.version !== current.version) return false;
    const { next_check_at: _next, check_attempts: _attempts, ...rest } = item;
    this.items.set(
      item.out_contract_code,
      next.at === undefined
        ? rest
        : { ...rest, next_check_at: new Date(next.at).toISOString(), check_attempts: next.attempts },
    );
    return true;
  }

  /** Records put into `items` directly stand for records written before the queue: the migration places them. */
  async enqueueUnqueued(limit: number): Promise<{ queued: number; cursor?: string }> {
    const unqueued = [...this.items.values()].filter(
      (item) => item.next_check_at === undefined && this.queued(item).next_check_at !== undefined,
    );
    for (const item of unqueued.slice(0, limit)) this.items.set(item.out_contract_code, this.queued(item));
    const queued = Math.min(limit, unqueued.length);
    return unqueued.length > limit ? { queued, cursor: 'more' } : { queued };
  }
}
