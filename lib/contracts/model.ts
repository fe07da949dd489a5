import type { ContractState } from './lifecycle';

/**
 * The contract record as we store it (DynamoDB item = this object); its states and their moves are in
 * lifecycle.ts.
 *
 * The record never holds `real_name` or `identity_id` in any form an attacker could read back: the request
 * hash is an HMAC keyed with a secret (see request-hash.ts).
 */
export type PresignKind = 'H5' | 'APP';

export interface WechatPayFailure {
  status: number;
  code: string;
  message: string;
  request_id?: string;
}

export interface ContractRecord {
  out_contract_code: string;
  state: ContractState;
  /** Absent when the record was created from WeChat Pay's data (callback or query) rather than our presign. */
  kind?: PresignKind;
  /** HMAC of the canonical request; tells "my own retry" from "someone else's code". Absent when created from a callback. */
  request_hash?: string;
  /**
   * The random token of the presign attempt that holds the claim (written with the claim, replaced when an
   * identical retry resumes or takes over the claim): a conditional write that fails on an item carrying the
   * writer's own token met its own earlier write, not someone else's.
   */
  claim_token?: string;
  /**
   * Set when an identical retry took over the claim from an attempt that died holding it, perhaps after
   * reaching WeChat Pay: a refusal of a later attempt ("the code is used") then proves nothing.
   */
  claim_inherited?: boolean;
  appid: string;
  plan_id: string;
  display_name: string;
  repayment_amount_limit: string;
  repayment_day?: number;
  sub_mchid?: string;
  sub_appid?: string;
  redirect_url?: string;
  presign_token?: string;
  /** When WeChat Pay's presign token lapses (RFC 3339). */
  expires_at?: string;
  contract_id?: string;
  openid?: string;
  contract_signed_time?: string;
  contract_terminated_time?: string;
  contract_terminated_mode?: string;
  contract_termination_remark?: string;
  wechatpay_request_id?: string;
  wechatpay_error?: WechatPayFailure;
  /**
   * Set when WeChat Pay has not processed the claimed code: signing failed before it was called, or it refused
   * every attempt unprocessed (429, 202). The identical retry may resume the claim.
   */
  local_failure?: boolean;
  /** `CALLBACK` or `QUERY` when WeChat Pay told us of a contract we had no record of. */
  origin?: 'PRESIGN' | 'CALLBACK' | 'QUERY';
  created_at: string;
  updated_at: string;
  /** Incremented on every write; conditional updates compare it (optimistic concurrency). */
  version: number;
  /**
   * Reconcile's queue (recheck.ts), kept by the store: when reconcile looks at the record next (RFC 3339;
   * absent: never), and how many looks in a row failed. Every write sets them anew from the record's state.
   */
  next_check_at?: string;
  check_attempts?: number;
}

/** What our API returns for a record: everything but internal bookkeeping. */
export function publicView(record: ContractRecord): Record<string, unknown> {
  const {
    request_hash: _hash,
    claim_token: _token,
    claim_inherited: _inherited,
    version: _version,
    next_check_at: _next,
    check_attempts: _attempts,
    ...rest
  } = record;
  return rest;
}
