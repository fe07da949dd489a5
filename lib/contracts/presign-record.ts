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

/**
 * One conditional write of the attempt holding `token`. When the condition fails, the stored item decides: if it
 * is this very write (the SDK retried an update that had landed and met its result), the write counts as done.
 * Returns the record as written, or undefined when someone else moved it first.
 */
export async function transitionOwn(
  store: ContractStore,
  current: Current,
  changes: Changes,
  token: string,
): Promise<ContractRecord | undefined> {
  const written = await store.transition(current, changes);
  if (written) return written;
  const stored = await store.get(current.out_contract_code);
  return isOwnWrite(stored, current.version, changes, token) ? stored : undefined;
}

/**
 * Records what presign learned, reporting instead of throwing when that fails: the caller's answer no longer
 * depends on it, and the record stays claimed, so callbacks or reconcile settle it. Undefined: recorded.
 */
export async function note(
  store: ContractStore,
  current: Current,
  changes: Changes,
  token: string,
): Promise<StoreFailure | undefined> {
  try {
    if (await transitionOwn(store, current, changes, token)) return undefined;
    return {
      reason: `the record moved on from version ${current.version} before it could become ${changes.state}`,
    };
  } catch (error) {
    return {
      reason: `${changes.state} not recorded: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** The error to throw, carrying what could not be recorded along with it (see StoreFailure). */
export function withStoreFailure(error: unknown, storeFailure: StoreFailure | undefined): unknown {
  if (storeFailure && error instanceof Error) Object.assign(error, { storeFailure });
  return error;
}
