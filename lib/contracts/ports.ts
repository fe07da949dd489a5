import type { ContractRecord, ContractState } from './model';

export type { Clock } from '../wechatpay/clock';

export type ClaimResult = { claimed: true } | { claimed: false; existing: ContractRecord };

/**
 * Persistence of contract records. Implementations must make `claim` a single atomic
 * "create if absent" and `transition` a conditional write on the current state and version,
 * and must throw `DependencyUnavailable` when the store cannot be reached.
 */
export interface ContractStore {
  /** Creates the record unless the code exists; never overwrites. */
  claim(record: ContractRecord): Promise<ClaimResult>;
  get(outContractCode: string): Promise<ContractRecord | undefined>;
  /**
   * Applies `changes` (and `state`) if the stored record is still in one of `from` at `expectedVersion`.
   * Returns the new record, or `undefined` when the condition failed (someone else moved it first).
   */
  transition(
    current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
    changes: Partial<ContractRecord> & { state: ContractState; updated_at: string },
  ): Promise<ContractRecord | undefined>;
}
