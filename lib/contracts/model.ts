/**
 * The contract record as we store it (DynamoDB item = this object) and the forward-only state machine.
 *
 * The record never holds `real_name` or `identity_id` in any form an attacker could read back: the request
 * hash is an HMAC keyed with a secret (see request-hash.ts).
 */
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
  /** Set when signing failed after the claim, before WeChat Pay was called: the identical retry may resume. */
  local_failure?: boolean;
  /** `CALLBACK` or `QUERY` when WeChat Pay told us of a contract we had no record of. */
  origin?: 'PRESIGN' | 'CALLBACK' | 'QUERY';
  created_at: string;
  updated_at: string;
  /** Incremented on every write; conditional updates compare it (optimistic concurrency). */
  version: number;
}

/** The rank orders states so that "only forward" is a comparison; equal ranks never move into each other. */
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

/** States a transition into `to` may start from: the condition of a conditional update. */
export function statesBefore(to: ContractState): ContractState[] {
  return CONTRACT_STATES.filter((s) => NEXT[s].includes(to));
}

/** What our API returns for a record: everything but internal bookkeeping. */
export function publicView(record: ContractRecord): Record<string, unknown> {
  const { request_hash: _hash, version: _version, ...rest } = record;
  return rest;
}
