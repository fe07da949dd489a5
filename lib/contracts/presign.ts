import { setTimeout as sleep } from 'node:timers/promises';
import {
  ContractCodeUsed,
  PresignInProgress,
  SignatureInvalid,
  WechatPayRejected,
  WechatPayUnavailable,
} from '../errors';
import {
  backoffMs,
  type SignedRequest,
  type WechatPayClient,
  type WechatPayResponse,
} from '../wechatpay/client';
import type { Clock } from '../wechatpay/clock';
import {
  APP_PRESIGN_PATH,
  H5_PRESIGN_PATH,
  parseAppPresignResponse,
  parseH5PresignResponse,
} from '../wechatpay/credit-repayment';
import type { ContractRecord, PresignKind } from './model';
import type { ContractStore } from './ports';
import { requestHash } from './request-hash';
import { type PresignInput, validatePresign } from './validation';

/** WeChat Pay's presign token (and so `redirect_url`) lapses after 10 minutes. */
export const PRESIGN_TTL_MS = 10 * 60 * 1000;

/** What presign needs of the WeChat Pay client (a port, so unit tests can stand in for it). */
export type PresignGateway = Pick<WechatPayClient, 'sign' | 'send' | 'encrypt'>;

export interface PresignDeps {
  store: ContractStore;
  wechatpay: PresignGateway;
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

export interface PresignOutcome {
  result: PresignResult;
  /** True when an identical earlier request had already pre-signed the code: WeChat Pay was not called. */
  replayed: boolean;
  /** False when WeChat Pay accepted but the record could not be updated; callbacks or reconcile settle it. */
  stored: boolean;
  requestId?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function presign(deps: PresignDeps, kind: PresignKind, body: unknown): Promise<PresignOutcome> {
  const input = validatePresign(kind, body);
  const hash = requestHash(deps.hashKey, { kind, ...input });
  const now = deps.clock();
  const record = newRecord(kind, input, hash, now);
  const request = {
    method: 'POST' as const,
    path: kind === 'H5' ? H5_PRESIGN_PATH : APP_PRESIGN_PATH,
    body: wechatpayBody(deps, input),
  };

  // The claim and the (KMS) signature do not depend on each other: run them together so the critical
  // path is max(claim, sign) + WeChat Pay + store. Nothing is sent unless both succeeded.
  const [claim, signed] = await Promise.allSettled([deps.store.claim(record), deps.wechatpay.sign(request)]);
  if (claim.status === 'rejected') throw claim.reason;
  let current: Pick<ContractRecord, 'out_contract_code' | 'version'> = record;
  if (!claim.value.claimed) {
    const existing = claim.value.existing;
    const replay = replayOf(existing, hash, now);
    if (replay) return { result: replay, replayed: true, stored: true };
    const resumed = await resumeAfterLocalFailure(deps, existing, hash, now);
    if (!resumed) throw conflict(existing, hash);
    current = resumed;
  }
  if (signed.status === 'rejected') {
    await noteLocalFailure(deps, current);
    throw signed.reason;
  }
  return send(deps, kind, current, signed.value);
}

async function send(
  deps: PresignDeps,
  kind: PresignKind,
  current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
  signed: SignedRequest,
): Promise<PresignOutcome> {
  let response: WechatPayResponse;
  let answer: { redirect_url: string } | { presign_token: string; redirect_service?: string };
  try {
    response = await sendWithRetries(deps, signed);
    answer =
      kind === 'H5' ? parseH5PresignResponse(response.json()) : parseAppPresignResponse(response.json());
  } catch (error) {
    throw await settleFailure(deps, current, error);
  }
  const answeredAt = deps.clock();
  const expires_at = iso(answeredAt + PRESIGN_TTL_MS);
  const result: PresignResult = {
    out_contract_code: current.out_contract_code,
    state: 'PRESIGNED',
    ...answer,
    expires_at,
  };
  const stored = await deps.store
    .transition(current, {
      state: 'PRESIGNED',
      updated_at: iso(answeredAt),
      expires_at,
      ...answer,
      ...(response.requestId ? { wechatpay_request_id: response.requestId } : {}),
    })
    .then((r) => r !== undefined)
    .catch(() => false);
  return {
    result,
    replayed: false,
    stored,
    ...(response.requestId ? { requestId: response.requestId } : {}),
  };
}

/** The first send and two retries, as WeChat Pay advises for 5xx ("retry with identical parameters"). */
const MAX_SENDS = 3;
const RETRY_DELAY_MS = 100;

/**
 * Sends the presign, resending the identical body on 5xx, 429, timeouts and dropped connections. The attempts
 * are counted here rather than in the client because a presign is not idempotent: once an attempt may have
 * reached WeChat Pay, its refusal of a later attempt ("协议号已存在", the code is taken, by us) proves nothing
 * about the first, so the outcome stays unknown instead of becoming PRESIGN_FAILED.
 */
async function sendWithRetries(deps: PresignDeps, first: SignedRequest): Promise<WechatPayResponse> {
  let signed = first;
  let unknown: WechatPayUnavailable | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.wechatpay.send(signed, { retry: false });
    } catch (error) {
      if (error instanceof WechatPayRejected && unknown) {
        throw new WechatPayUnavailable(
          `attempt ${attempt - 1} may have reached WeChat Pay (${unknown.message}); ` +
            `attempt ${attempt} was then refused (${error.message}), so the outcome is unknown`,
          error.wechatpay.request_id ?? unknown.requestId,
          { cause: error },
        );
      }
      if (!(error instanceof WechatPayUnavailable)) throw error;
      if (attempt >= MAX_SENDS) {
        throw new WechatPayUnavailable(
          `no usable answer from WeChat Pay in ${attempt} attempts; the last: ${error.message}`,
          error.requestId ?? unknown?.requestId,
          { cause: error },
        );
      }
      unknown = error;
      await sleep(backoffMs(attempt, RETRY_DELAY_MS));
      // A fresh nonce and timestamp over the identical body string.
      signed = await deps.wechatpay.sign(signed.request).catch((cause: unknown) => {
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new WechatPayUnavailable(
          `attempt ${attempt} may have reached WeChat Pay (${error.message}) and the retry could not be signed: ${why}`,
          error.requestId,
          { cause },
        );
      });
    }
  }
}

/** Records what WeChat Pay's failure means for the contract, and returns the error for the caller. */
async function settleFailure(
  deps: PresignDeps,
  current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
  error: unknown,
): Promise<unknown> {
  const updated_at = iso(deps.clock());
  if (error instanceof WechatPayRejected) {
    const { status, code, message, request_id } = error.wechatpay;
    await deps.store
      .transition(current, {
        state: 'PRESIGN_FAILED',
        updated_at,
        wechatpay_error: { status, code, message, ...(request_id ? { request_id } : {}) },
      })
      .catch(() => undefined);
    return error;
  }
  // 5xx, 429, timeouts, dropped connections and unverifiable answers: WeChat Pay may or may not have
  // accepted the presign. Only its query API can tell; reconcile asks it.
  await deps.store.transition(current, { state: 'PRESIGN_UNKNOWN', updated_at }).catch(() => undefined);
  if (error instanceof WechatPayUnavailable) return error;
  if (error instanceof SignatureInvalid) {
    return new WechatPayUnavailable(
      `WeChat Pay's answer could not be verified: ${error.message}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  const why = error instanceof Error ? error.message : String(error);
  return new WechatPayUnavailable(`WeChat Pay's answer was not usable: ${why}`, undefined, { cause: error });
}

/**
 * Signing failed after the claim succeeded: WeChat Pay never saw the code. Mark the record so that the
 * identical retry may resume it (it stays PRESIGNING, so the state still only moves forward).
 */
async function noteLocalFailure(
  deps: PresignDeps,
  current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
) {
  await deps.store
    .transition(current, { state: 'PRESIGNING', updated_at: iso(deps.clock()), local_failure: true })
    .catch(() => undefined);
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

/** The body WeChat Pay receives: our input plus `contract_notify_url`, identity fields OAEP-encrypted. */
function wechatpayBody(deps: PresignDeps, input: PresignInput): Record<string, unknown> {
  const { real_identity, ...rest } = input;
  return {
    ...rest,
    contract_notify_url: deps.notifyUrl,
    ...(real_identity
      ? {
          real_identity: {
            identity_type: real_identity.identity_type,
            identity_id: deps.wechatpay.encrypt(real_identity.identity_id),
            real_name: deps.wechatpay.encrypt(real_identity.real_name),
          },
        }
      : {}),
  };
}
