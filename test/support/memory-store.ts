import type { ContractState } from '../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../lib/contracts/model';
import type { ClaimResult, ContractStore } from '../../lib/contracts/ports';

/** An in-memory ContractStore with the same conditional semantics as DynamoDB's; for unit tests and benchmarks. */
export class MemoryContractStore implements ContractStore {
  readonly items = new Map<string, ContractRecord>();

  async claim(record: ContractRecord): Promise<ClaimResult> {
    const existing = this.items.get(record.out_contract_code);
    if (existing) return { claimed: false, existing: structuredClone(existing) };
    this.items.set(record.out_contract_code, structuredClone(record));
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
    const next = { ...item, ...changes, version: item.version + 1 };
    this.items.set(item.out_contract_code, next);
    return structuredClone(next);
  }

  async save(next: ContractRecord): Promise<boolean> {
    const item = this.items.get(next.out_contract_code);
    if (next.version === 1 ? item !== undefined : item?.version !== next.version - 1) return false;
    this.items.set(next.out_contract_code, structuredClone(next));
    return true;
  }

  async listStale(state: ContractState, updatedBefore: string, limit: number): Promise<ContractRecord[]> {
    return [...this.items.values()]
      .filter((r) => r.state === state && r.updated_at < updatedBefore)
      .sort((a, b) => a.updated_at.localeCompare(b.updated_at))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }
}
