import { ANSWER_MS, type Budget, beforeDeadline, beforeRecording, late } from './budget';
import type { ContractRecord } from './model';
import type { ContractStore } from './ports';
import { isOwnWrite } from './presign-claim';

/**
 * Why presign could not record what it learned (the store failed, or the record moved on first). Presign does
 * not throw for it, since its answer does not depend on it, and logs nothing itself: its caller logs the reason
 * once. After a failed send, the error presign throws carries it as its own `storeFailure` property.
 */
export interface StoreFailure {
  reason: string;
}

export type Current = Pick<ContractRecord, 'out_contract_code' | 'version'>;
export type Changes = Parameters<ContractStore['transition']>[1];

/** The writes of one presign attempt: each recognised as its own by the attempt's token, each inside its time. */
export class AttemptWrites {
  constructor(
    private readonly store: ContractStore,
    readonly token: string,
    private readonly budget: Budget,
  ) {}

  /**
   * A write the attempt goes on from (it takes a claim over), so it must leave time to record what follows.
   * Returns the record as written, or undefined when someone else moved it first.
   */
  take(current: Current, changes: Changes): Promise<ContractRecord | undefined> {
    return beforeDeadline(this.#transition(current, changes), beforeRecording(this.budget), () =>
      late('DynamoDB', 'UpdateItem'),
    );
  }

  /**
   * Records what presign learned, reporting instead of throwing when that fails or would outlast the function:
   * the caller's answer no longer depends on it, and the record stays claimed, so callbacks or reconcile settle
   * it. Undefined: recorded.
   */
  async note(current: Current, changes: Changes): Promise<StoreFailure | undefined> {
    const late = () => new Error("no answer before the function's deadline");
    try {
      const written = this.#transition(current, changes);
      if (await beforeDeadline(written, this.budget.remainingMs() - ANSWER_MS, late)) return undefined;
      return {
        reason: `the record moved on from version ${current.version} before it could become ${changes.state}`,
      };
    } catch (error) {
      return {
        reason: `${changes.state} not recorded: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  /**
   * One conditional write. When the condition fails, the stored item decides: if it is this very write (the SDK
   * retried an update that had landed and met its result), the write counts as done.
   */
  async #transition(current: Current, changes: Changes): Promise<ContractRecord | undefined> {
    const written = await this.store.transition(current, changes);
    if (written) return written;
    const stored = await this.store.get(current.out_contract_code);
    return isOwnWrite(stored, current.version, changes, this.token) ? stored : undefined;
  }
}

/** The error to throw, carrying what could not be recorded along with it (see StoreFailure). */
export function withStoreFailure(error: unknown, storeFailure: StoreFailure | undefined): unknown {
  if (storeFailure && error instanceof Error) Object.assign(error, { storeFailure });
  return error;
}
