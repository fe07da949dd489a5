import { WechatPayRejected, WechatPayUnavailable } from '../errors';
import { contractPath, parseContract, type WechatPayContract } from '../wechatpay/credit-repayment';
import { ANSWER_MS, type Budget, inTime, keeping, RECORD_MS, UNBOUNDED } from './budget';
import { readDecideWrite } from './conditional-write';
import { applyFacts, expired } from './lifecycle';
import type { ContractRecord } from './model';
import type { Clock, ContractStore, WechatPayGateway } from './ports';

export interface SyncDeps {
  store: ContractStore;
  wechatpay: WechatPayGateway;
  clock: Clock;
}

export interface SyncResult {
  /** The record after the sync; undefined when neither we nor WeChat Pay know the code. */
  record?: ContractRecord;
  changed: boolean;
}

/**
 * Asks WeChat Pay's query API about a contract and applies the answer through the same forward-only rules
 * as callbacks. "No such contract" after the presign token lapsed means the user never signed: EXPIRED.
 * Within `budget` (budget.ts): the query's attempts keep time to record its answer, and the record is written
 * before the budget ends or not waited for (DependencyUnavailable); a write that lands later is still right.
 */
export async function syncContract(
  deps: SyncDeps,
  outContractCode: string,
  budget: Budget = UNBOUNDED,
): Promise<SyncResult> {
  const facts = await queryWechatPay(deps, outContractCode, keeping(budget, RECORD_MS + ANSWER_MS));
  const written = readDecideWrite<ContractRecord | undefined, ContractRecord, SyncResult>(
    {
      read: () => deps.store.get(outContractCode),
      decide: (existing) => {
        const now = deps.clock();
        const next = facts
          ? applyFacts(existing, facts, 'QUERY', new Date(now).toISOString())
          : expired(existing, now);
        return next
          ? { write: next }
          : { done: { ...(existing ? { record: existing } : {}), changed: false } };
      },
      // A callback or another sync may write first: then the record is read and judged again.
      write: async (next) => ((await deps.store.save(next)) ? { record: next, changed: true } : undefined),
    },
    `contract ${outContractCode} kept changing during sync`,
  );
  return inTime(keeping(budget, ANSWER_MS), written, 'DynamoDB', 'recording the query’s answer');
}

/** WeChat Pay's view of the contract, or undefined when it has none (404); its attempts fit in `budget`. */
export async function queryWechatPay(
  deps: Pick<SyncDeps, 'wechatpay'>,
  outContractCode: string,
  budget: Budget = UNBOUNDED,
): Promise<WechatPayContract | undefined> {
  let json: unknown;
  try {
    const response = await deps.wechatpay.call(
      { method: 'GET', path: contractPath(outContractCode) },
      { retry: true, remainingMs: () => budget.remainingMs() },
    );
    json = response.json();
  } catch (error) {
    if (error instanceof WechatPayRejected && error.wechatpay.status === 404) return undefined;
    throw error;
  }
  try {
    return parseContract(json);
  } catch (error) {
    const why = (error as Error).message;
    throw new WechatPayUnavailable(`WeChat Pay's contract query answer was not usable: ${why}`, undefined, {
      cause: error,
    });
  }
}
