import { ContractCodeUsed, PresignInProgress, WechatPayRejected } from '../errors';
import type { SignedRequest } from '../wechatpay/client';
import { PRESIGN_TTL_MS } from './lifecycle';
import type { ContractRecord, PresignKind } from './model';
import type { Clock, ContractStore, WechatPayGateway } from './ports';
import { presignFailure, presignRequest, sendPresign } from './presign-request';
import { requestHash } from './request-hash';
import { type PresignInput, validatePresign } from './validation';

export interface PresignDeps {
  store: ContractStore;
  wechatpay: WechatPayGateway;
  /** Sent as `contract_notify_url`: the public URL of our callback route. */
  notifyUrl: string;
  /** Key of the request HMAC (derived from a secret; see request-hash.ts). */
  hashKey: Buffer;
  clock: Clock;
}

export interface PresignResult {
  out_contract_code: string;
  state: 'PRESIGNED';
  redirect_url?: string;
  presign_token?: string;
  expires_at: string;
}

/**
 * Why presign could not record what it learned (the store failed, or the record moved on first). Presign does
 * not throw for it, since its answer does not depend on it, and logs nothing itself: its caller logs the reason
 * once. After a failed send, the error presign throws carries it as its own `storeFailure` property.
 */
export interface StoreFailure {
  reason: string;
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

type Current = Pick<ContractRecord, 'out_contract_code' | 'version'>;

const iso = (ms: number) => new Date(ms).toISOString();

export async function presign(deps: PresignDeps, kind: PresignKind, body: unknown): Promise<PresignOutcome> {
  const input = validatePresign(kind, body);
  const hash = requestHash(deps.hashKey, { kind, ...input });
  const now = deps.clock();
  const record = newRecord(kind, input, hash, now);
  const request = presignRequest(kind, input, deps.notifyUrl, deps.wechatpay);

  // The claim and the (KMS) signature do not depend on each other: run them together so the critical
  // path is max(claim, sign) + WeChat Pay + store. Nothing is sent unless both succeeded.
  const [claim, signed] = await Promise.allSettled([deps.store.claim(record), deps.wechatpay.sign(request)]);
  if (claim.status === 'rejected') throw claim.reason;
  let current: Current = record;
  if (!claim.value.claimed) {
    const existing = claim.value.existing;
    const replay = replayOf(existing, hash, now);
    if (replay) return { result: replay, replayed: true, stored: true };
    const resumed = await resumeAfterLocalFailure(deps, existing, hash, now);
    if (!resumed) throw conflict(existing, hash);
    current = resumed;
  }
  if (signed.status === 'rejected') {
    // WeChat Pay never saw the code: mark the record so that the identical retry may resume it (it stays
    // PRESIGNING, so the state still only moves forward).
    const failure = await note(deps, current, {
      state: 'PRESIGNING',
      updated_at: iso(deps.clock()),
      local_failure: true,
    });
    throw withStoreFailure(signed.reason, failure);
  }
  return send(deps, kind, current, signed.value);
}

async function send(
  deps: PresignDeps,
  kind: PresignKind,
  current: Current,
  signed: SignedRequest,
): Promise<PresignOutcome> {
  let sent: Awaited<ReturnType<typeof sendPresign>>;
  try {
    sent = await sendPresign(deps.wechatpay, kind, signed);
  } catch (error) {
    const failure = presignFailure(error);
    const updated_at = iso(deps.clock());
    const changes =
      failure instanceof WechatPayRejected
        ? { state: 'PRESIGN_FAILED' as const, updated_at, wechatpay_error: wechatpayError(failure) }
        : { state: 'PRESIGN_UNKNOWN' as const, updated_at };
    throw withStoreFailure(failure, await note(deps, current, changes));
  }
  const { response, answer } = sent;
  const answeredAt = deps.clock();
  const expires_at = iso(answeredAt + PRESIGN_TTL_MS);
  const requestId = response.requestId;
  const storeFailure = await note(deps, current, {
    state: 'PRESIGNED',
    updated_at: iso(answeredAt),
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

/**
 * Records what presign learned, reporting instead of throwing when that fails: the caller's answer no longer
 * depends on it, and the record stays claimed, so callbacks or reconcile settle it. Undefined: recorded.
 */
async function note(
  deps: PresignDeps,
  current: Current,
  changes: Parameters<ContractStore['transition']>[1],
): Promise<StoreFailure | undefined> {
  try {
    if (await deps.store.transition(current, changes)) return undefined;
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
function withStoreFailure(error: unknown, storeFailure: StoreFailure | undefined): unknown {
  if (storeFailure && error instanceof Error) Object.assign(error, { storeFailure });
  return error;
}

function wechatpayError(error: WechatPayRejected): ContractRecord['wechatpay_error'] {
  const { status, code, message, request_id } = error.wechatpay;
  return { status, code, message, ...(request_id ? { request_id } : {}) };
}

async function resumeAfterLocalFailure(
  deps: PresignDeps,
  existing: ContractRecord,
  hash: string,
  now: number,
): Promise<ContractRecord | undefined> {
  if (existing.state !== 'PRESIGNING' || !existing.local_failure || existing.request_hash !== hash)
    return undefined;
  return deps.store.transition(existing, { state: 'PRESIGNING', updated_at: iso(now), local_failure: false });
}

function replayOf(existing: ContractRecord, hash: string, now: number): PresignResult | undefined {
  if (existing.request_hash !== hash || existing.state !== 'PRESIGNED' || !existing.expires_at)
    return undefined;
  // Never trust TTL or a stale state for correctness: compare times here.
  if (Date.parse(existing.expires_at) <= now) return undefined;
  return {
    out_contract_code: existing.out_contract_code,
    state: 'PRESIGNED',
    ...(existing.redirect_url ? { redirect_url: existing.redirect_url } : {}),
    ...(existing.presign_token ? { presign_token: existing.presign_token } : {}),
    expires_at: existing.expires_at,
  };
}

function conflict(existing: ContractRecord, hash: string): Error {
  if (existing.state === 'PRESIGNING' && existing.request_hash === hash) {
    return new PresignInProgress(existing.out_contract_code);
  }
  return new ContractCodeUsed(existing.out_contract_code, existing.state);
}

function newRecord(kind: PresignKind, input: PresignInput, hash: string, now: number): ContractRecord {
  return {
    out_contract_code: input.out_contract_code,
    state: 'PRESIGNING',
    kind,
    origin: 'PRESIGN',
    request_hash: hash,
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
