import { WechatPayRejected, WechatPayUnavailable } from '../errors';
import type { WechatPayClient } from '../wechatpay/client';
import type { Clock } from '../wechatpay/clock';
import { contractPath, parseContract, type WechatPayContract } from '../wechatpay/credit-repayment';
import { applyFacts } from './facts';
import type { ContractRecord } from './model';
import type { ContractStore } from './ports';
import { PRESIGN_TTL_MS } from './presign';

/** Clocks differ and WeChat Pay may lag: wait this long after a token lapsed before calling it EXPIRED. */
export const EXPIRY_GRACE_MS = 2 * 60 * 1000;
const MAX_ATTEMPTS = 5;

export interface SyncDeps {
  store: ContractStore;
  wechatpay: Pick<WechatPayClient, 'call'>;
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
 */
export async function syncContract(deps: SyncDeps, outContractCode: string): Promise<SyncResult> {
  const facts = await queryWechatPay(deps, outContractCode);
  for (let attempt = 1; ; attempt++) {
    const existing = await deps.store.get(outContractCode);
    const now = deps.clock();
    const next = facts
      ? applyFacts(existing, facts, 'QUERY', new Date(now).toISOString())
      : expired(existing, now);
    if (!next) return { ...(existing ? { record: existing } : {}), changed: false };
    if (await deps.store.save(next)) return { record: next, changed: true };
    // A callback or another sync wrote first: re-read and judge again.
    if (attempt >= MAX_ATTEMPTS) throw new Error(`contract ${outContractCode} kept changing during sync`);
  }
}

/** WeChat Pay's view of the contract, or undefined when it has none (404). */
export async function queryWechatPay(
  deps: Pick<SyncDeps, 'wechatpay'>,
  outContractCode: string,
): Promise<WechatPayContract | undefined> {
  let json: unknown;
  try {
    const response = await deps.wechatpay.call(
      { method: 'GET', path: contractPath(outContractCode) },
      { retry: true },
    );
    json = response.json();
  } catch (error) {
    if (error instanceof WechatPayRejected && error.wechatpay.status === 404) return undefined;
    throw error;
  }
  try {
    return parseContract(json);
  } catch (error) {
    throw new WechatPayUnavailable(
      `WeChat Pay's contract query answer was not usable: ${(error as Error).message}`,
      undefined,
      {
        cause: error,
      },
    );
  }
}

/**
 * When the presign token lapsed (or would have, for an outcome we never learned). Without `expires_at`, count
 * from the last write, not the claim: an identical retry may resume a claimed code much later, and WeChat
 * Pay's token runs from that attempt, made within one Lambda timeout after the last PRESIGNING write (the
 * grace period covers it) and before the write that recorded PRESIGN_UNKNOWN.
 */
export function lapsesAt(record: ContractRecord): number {
  return record.expires_at ? Date.parse(record.expires_at) : Date.parse(record.updated_at) + PRESIGN_TTL_MS;
}

function expired(existing: ContractRecord | undefined, now: number): ContractRecord | undefined {
  if (!existing || !['PRESIGNING', 'PRESIGNED', 'PRESIGN_UNKNOWN'].includes(existing.state)) return undefined;
  if (lapsesAt(existing) + EXPIRY_GRACE_MS > now) return undefined;
  const { local_failure: _gone, ...rest } = existing;
  return {
    ...rest,
    state: 'EXPIRED',
    updated_at: new Date(now).toISOString(),
    version: existing.version + 1,
  };
}
