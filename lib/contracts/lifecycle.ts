/**
 * The contract lifecycle, in one place: the states, the only moves between them, how long a presign stays open,
 * and what WeChat Pay's facts mean for a record. Every use case (presign, callbacks, sync, terminate, reconcile)
 * moves a contract by these rules alone; docs/architecture.md ("Contract lifecycle") draws them.
 *
 * The shape, for any lifecycle (repayments next): the states, the table of allowed moves, the time rules, and
 * pure functions from a record and a fact to the next record (or undefined: nothing to write). Writing that next
 * record is the caller's, through readDecideWrite (conditional-write.ts).
 */
import type { WechatPayContract } from '../wechatpay/credit-repayment';
import type { ContractRecord } from './model';

export const CONTRACT_STATES = [
  'PRESIGNING',
  'PRESIGNED',
  'PRESIGN_FAILED',
  'PRESIGN_UNKNOWN',
  'EXPIRED',
  'SIGNED',
  'TERMINATED',
] as const;
export type ContractState = (typeof CONTRACT_STATES)[number];

/** Every state lists the states it may move to: forward only, and nothing leaves TERMINATED. */
const NEXT: Record<ContractState, readonly ContractState[]> = {
  PRESIGNING: ['PRESIGNED', 'PRESIGN_FAILED', 'PRESIGN_UNKNOWN', 'EXPIRED', 'SIGNED', 'TERMINATED'],
  PRESIGNED: ['EXPIRED', 'SIGNED', 'TERMINATED'],
  PRESIGN_UNKNOWN: ['PRESIGNED', 'EXPIRED', 'SIGNED', 'TERMINATED'],
  // WeChat Pay's word beats our inferences: a callback or query may still show a contract we gave up on.
  PRESIGN_FAILED: ['SIGNED', 'TERMINATED'],
  EXPIRED: ['SIGNED', 'TERMINATED'],
  SIGNED: ['TERMINATED'],
  TERMINATED: [],
};

export function canTransition(from: ContractState, to: ContractState): boolean {
  return NEXT[from].includes(to);
}

/** WeChat Pay's presign token (and so `redirect_url`) lapses after 10 minutes. */
export const PRESIGN_TTL_MS = 10 * 60 * 1000;

/** Clocks differ and WeChat Pay may lag: wait this long after a token lapsed before calling it EXPIRED. */
export const EXPIRY_GRACE_MS = 2 * 60 * 1000;

/**
 * The states in which the user may still sign, so a lapsed token means EXPIRED. Reconcile searches them in this
 * order: the claims whose presign never finished, the outcomes we never learned, then the plain pre-signed.
 */
export const EXPIRABLE_STATES = [
  'PRESIGNING',
  'PRESIGN_UNKNOWN',
  'PRESIGNED',
] as const satisfies ContractState[];

/**
 * When the presign token lapsed (or would have, for an outcome we never learned). Without `expires_at`, count
 * from the last write, not the claim: an identical retry may resume a claimed code much later, and WeChat
 * Pay's token runs from that attempt, made within one Lambda timeout after the last PRESIGNING write (the
 * grace period covers it) and before the write that recorded PRESIGN_UNKNOWN.
 */
export function lapsesAt(record: Pick<ContractRecord, 'expires_at' | 'updated_at'>): number {
  return record.expires_at ? Date.parse(record.expires_at) : Date.parse(record.updated_at) + PRESIGN_TTL_MS;
}

/**
 * The record after WeChat Pay said it has no such contract at `now` (epoch ms): EXPIRED once the token lapsed
 * plus the grace period, or `undefined` when that proves nothing yet (the user may still sign) or ever.
 */
export function expired(existing: ContractRecord | undefined, now: number): ContractRecord | undefined {
  if (!existing || !(EXPIRABLE_STATES as readonly ContractState[]).includes(existing.state)) return undefined;
  if (lapsesAt(existing) + EXPIRY_GRACE_MS > now) return undefined;
  const { local_failure: _gone, ...rest } = existing;
  return {
    ...rest,
    state: 'EXPIRED',
    updated_at: new Date(now).toISOString(),
    version: existing.version + 1,
  };
}

/** What WeChat Pay's `contract_state` means for our state machine; undefined = nothing we act on. */
export function stateOf(contractState: string): ContractState | undefined {
  switch (contractState) {
    case 'CONTRACT_STATE_EFFECTIVE':
      return 'SIGNED';
    case 'CONTRACT_STATE_TERMINATED':
      return 'TERMINATED';
    default:
      return undefined;
  }
}

const FACT_FIELDS = [
  'contract_id',
  'openid',
  'contract_signed_time',
  'contract_terminated_time',
  'contract_terminated_mode',
  'contract_termination_remark',
  'repayment_day',
  'repayment_amount_limit',
] as const;

/**
 * The record after learning WeChat Pay's facts about a contract (callback, query or terminate answer), or
 * `undefined` when they would not move it forward: a late or duplicate fact never moves a contract back.
 * WeChat Pay's word beats our inferences, so a contract we have no record of is created from its data.
 */
export function applyFacts(
  existing: ContractRecord | undefined,
  facts: WechatPayContract,
  origin: 'CALLBACK' | 'QUERY',
  now: string,
): ContractRecord | undefined {
  const target = stateOf(facts.contract_state);
  if (!target) return undefined;
  const learned: Partial<ContractRecord> = {};
  for (const key of FACT_FIELDS) {
    if (facts[key] !== undefined) Object.assign(learned, { [key]: facts[key] });
  }
  if (!existing) {
    return {
      out_contract_code: facts.out_contract_code,
      state: target,
      origin,
      appid: facts.appid ?? '',
      plan_id: facts.plan_id ?? '',
      display_name: facts.display_name ?? '',
      repayment_amount_limit: facts.repayment_amount_limit ?? '',
      ...learned,
      created_at: now,
      updated_at: now,
      version: 1,
    };
  }
  if (!canTransition(existing.state, target)) return undefined;
  const { local_failure: _settled, ...rest } = existing;
  return { ...rest, ...learned, state: target, updated_at: now, version: existing.version + 1 };
}
