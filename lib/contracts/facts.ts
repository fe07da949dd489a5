import type { WechatPayContract } from '../wechatpay/credit-repayment';
import { type ContractRecord, type ContractState, canTransition } from './model';

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
