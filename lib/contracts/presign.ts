import { randomBytes } from 'node:crypto';
import type { WechatPayRejected } from '../errors';
import type { SignedRequest } from '../wechatpay/client';
import {
  type Budget,
  beforeDeadline,
  beforeRecording,
  late,
  MIN_ATTEMPT_MS,
  outOfTime,
  UNBOUNDED,
} from './budget';
import { PRESIGN_TTL_MS } from './lifecycle';
import type { ContractRecord, PresignKind } from './model';
import type { Clock, ContractStore, WechatPayGateway } from './ports';
import { decideClaim, lostRace } from './presign-claim';
import { AttemptWrites, type StoreFailure, withStoreFailure } from './presign-record';
import { presignRequest, type SubMerchantField } from './presign-request';
import { sendPresign } from './presign-send';
import { requestHash } from './request-hash';
import { type PresignInput, validatePresign } from './validation';

export type { StoreFailure } from './presign-record';

export interface PresignDeps {
  store: ContractStore;
  wechatpay: WechatPayGateway;
  /** The public URL of our callback route: `contract_notify_url`, and `trade_info.notify_url` unless given. */
  notifyUrl: string;
  /** The APP presign's wire name of the sub-merchant id (WECHATPAY_APP_SUB_MCHID_FIELD). */
  appSubMerchantField: SubMerchantField;
  /**
   * Keys of the request HMAC (see request-hash.ts), a secret of its own: the current one, and during a rotation
   * the previous one, whose hashes still count as the same request.
   */
  hashKeys: { current: Buffer; previous?: Buffer };
  /**
   * How long a PRESIGNING claim stays its attempt's own (ms): longer than the presign function may run, so that
   * once it passed, the attempt has died, and an identical request may take the claim over.
   */
  claimLeaseMs: number;
  clock: Clock;
}

export interface PresignResult {
  out_contract_code: string;
  state: 'PRESIGNED';
  redirect_url?: string;
  presign_token?: string;
  expires_at: string;
}

export type PresignOutcome = {
  result: PresignResult;
  /** True when an identical earlier request had already pre-signed the code: WeChat Pay was not called. */
  replayed: boolean;
  requestId?: string;
} & (
  | { stored: true }
  /** WeChat Pay accepted but the record could not be updated; callbacks or reconcile settle it. */
  | { stored: false; storeFailure: StoreFailure }
);

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Pre-signs one contract (docs/architecture.md, "Presign"). `budget` is the time the invocation has left: every
 * step is bounded by it, and the outcome is recorded before it runs out (see budget.ts).
 */
export async function presign(
  deps: PresignDeps,
  kind: PresignKind,
  body: unknown,
  budget: Budget = UNBOUNDED,
): Promise<PresignOutcome> {
  const input = validatePresign(kind, body);
  const canonical = { kind, ...input };
  const hash = requestHash(deps.hashKeys.current, canonical);
  const previous = deps.hashKeys.previous && requestHash(deps.hashKeys.previous, canonical);
  const now = deps.clock();
  const writes = new AttemptWrites(deps.store, randomBytes(16).toString('base64url'), budget);
  const record = newRecord(kind, input, hash, writes.token, now);
  const request = presignRequest(kind, input, deps, deps.wechatpay);

  // The claim and the (KMS) signature do not depend on each other: run them together so the critical
  // path is max(claim, sign) + WeChat Pay + store. Nothing is sent unless both succeeded.
  const forClaim = beforeRecording(budget);
  if (forClaim < MIN_ATTEMPT_MS)
    throw outOfTime('Lambda', "too little of the function's time was left to claim the code");
  const [claim, signed] = await Promise.allSettled([
    beforeDeadline(deps.store.claim(record), forClaim, () => late('DynamoDB', 'PutItem')),
    beforeDeadline(deps.wechatpay.sign(request), forClaim, () => late('KMS', 'Sign')),
  ]);
  if (claim.status === 'rejected') throw claim.reason;
  const hashes = previous ? [hash, previous] : [hash];
  const attempt = { token: writes.token, hashes, now, leaseMs: deps.claimLeaseMs };
  const decision = decideClaim(claim.value, record, attempt);
  if (decision.kind === 'replay')
    return { result: replayOf(decision.existing), replayed: true, stored: true };
  if (decision.kind === 'conflict') throw decision.error;
  let current: ContractRecord = decision.kind === 'claimed' ? decision.current : record;
  if (decision.kind === 'resume' || decision.kind === 'takeover') {
    // The claim becomes this attempt's: its token, and its start (WeChat Pay's token runs from this attempt).
    const taken = await writes.take(decision.existing, {
      state: 'PRESIGNING',
      updated_at: iso(now),
      claim_token: writes.token,
      // Under the current key, so the claim outlives the end of a key rotation.
      request_hash: hash,
      local_failure: false,
      ...(decision.kind === 'takeover' ? { claim_inherited: true } : {}),
    });
    if (!taken) throw lostRace(decision.existing);
    current = taken;
  }
  if (signed.status === 'rejected') {
    // WeChat Pay never saw the code from this attempt: mark the record so that the identical retry may resume
    // it (it stays PRESIGNING, so the state still only moves forward).
    const changes = { state: 'PRESIGNING' as const, updated_at: iso(deps.clock()), local_failure: true };
    throw withStoreFailure(signed.reason, await writes.note(current, changes));
  }
  return send(deps, kind, { current, writes, budget }, signed.value);
}

/** What one attempt carries from its claim to its send. */
interface Holding {
  current: ContractRecord;
  writes: AttemptWrites;
  budget: Budget;
}

async function send(
  deps: PresignDeps,
  kind: PresignKind,
  { current, writes, budget }: Holding,
  signed: SignedRequest,
): Promise<PresignOutcome> {
  // Taken over (now or by an earlier attempt) from one that died, perhaps after reaching WeChat Pay.
  const inherited = current.claim_inherited === true;
  const sent = await sendPresign(
    { wechatpay: deps.wechatpay, clock: deps.clock, inherited, budget },
    kind,
    signed,
  );
  const updated_at = iso(deps.clock());
  if (sent.outcome === 'rejected') {
    const changes = {
      state: 'PRESIGN_FAILED' as const,
      updated_at,
      wechatpay_error: wechatpayError(sent.error),
    };
    throw withStoreFailure(sent.error, await writes.note(current, changes));
  }
  if (sent.outcome === 'unknown') {
    throw withStoreFailure(sent.error, await writes.note(current, { state: 'PRESIGN_UNKNOWN', updated_at }));
  }
  if (sent.outcome === 'unprocessed') {
    // WeChat Pay processed nothing: the code stays PRESIGNING and resumable by the identical request.
    const changes = { state: 'PRESIGNING' as const, updated_at, local_failure: true };
    throw withStoreFailure(sent.error, await writes.note(current, changes));
  }
  const { response, answer, sentAt } = sent;
  // The token's 10 minutes run from when WeChat Pay issued it, which is after the request left, never after its
  // answer arrived: a replay must never hand out a link that has lapsed.
  const expires_at = iso(sentAt + PRESIGN_TTL_MS);
  const requestId = response.requestId;
  const storeFailure = await writes.note(current, {
    state: 'PRESIGNED',
    updated_at,
    expires_at,
    ...answer,
    ...(requestId ? { wechatpay_request_id: requestId } : {}),
  });
  return {
    result: { out_contract_code: current.out_contract_code, state: 'PRESIGNED', ...answer, expires_at },
    replayed: false,
    ...(storeFailure ? { stored: false, storeFailure } : { stored: true }),
    ...(requestId ? { requestId } : {}),
  };
}

function wechatpayError(error: WechatPayRejected): ContractRecord['wechatpay_error'] {
  const { status, code, message, request_id } = error.wechatpay;
  return { status, code, message, ...(request_id ? { request_id } : {}) };
}

function replayOf(existing: ContractRecord): PresignResult {
  return {
    out_contract_code: existing.out_contract_code,
    state: 'PRESIGNED',
    ...(existing.redirect_url ? { redirect_url: existing.redirect_url } : {}),
    ...(existing.presign_token ? { presign_token: existing.presign_token } : {}),
    expires_at: existing.expires_at ?? '',
  };
}

function newRecord(
  kind: PresignKind,
  input: PresignInput,
  hash: string,
  token: string,
  now: number,
): ContractRecord {
  return {
    out_contract_code: input.out_contract_code,
    state: 'PRESIGNING',
    kind,
    origin: 'PRESIGN',
    request_hash: hash,
    claim_token: token,
    appid: input.appid,
    plan_id: input.plan_id,
    display_name: input.display_name,
    repayment_amount_limit: input.repayment_amount_limit,
    ...(input.repayment_day !== undefined ? { repayment_day: input.repayment_day } : {}),
    ...(input.sub_mchid ? { sub_mchid: input.sub_mchid } : {}),
    ...(input.sub_appid ? { sub_appid: input.sub_appid } : {}),
    created_at: iso(now),
    updated_at: iso(now),
    version: 1,
  };
}
