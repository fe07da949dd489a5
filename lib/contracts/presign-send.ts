import { setTimeout as sleep } from 'node:timers/promises';
import { WechatPayRejected, WechatPayUnavailable } from '../errors';
import { backoffMs, type SignedRequest, type WechatPayResponse } from '../wechatpay/client';
import { type Budget, beforeDeadline, beforeRecording, late, MIN_ATTEMPT_MS, outOfTime } from './budget';
import type { PresignKind } from './model';
import type { Clock, WechatPayGateway } from './ports';
import { type PresignAnswer, presignAnswer } from './presign-request';

/**
 * Sending a presign: the first attempt and its retries, and what their answers together say. The attempts are
 * counted here rather than in the client because a presign is not idempotent, so each answer must be weighed
 * against the ones before it (docs/protocol.md, "HTTP status codes and errors"):
 * - 429 and 202 mean "not processed": resend the identical body, after WeChat Pay's `Retry-After` when it gives
 *   one; when every attempt was answered so, nothing happened and the code stays resumable.
 * - 5xx, a timeout, a dropped connection or an unusable 2xx may have been processed. After one of those, a
 *   refusal of a later attempt ("the code is already used", by us) proves nothing: the outcome stays unknown.
 */

export type SendResult =
  /** WeChat Pay accepted; `sentAt` is when the first attempt left, where its token's 10 minutes start at the latest. */
  | { outcome: 'accepted'; response: WechatPayResponse; answer: PresignAnswer; sentAt: number }
  /** WeChat Pay refused the first attempt it processed: the code is burnt. */
  | { outcome: 'rejected'; error: WechatPayRejected }
  /** WeChat Pay may or may not have accepted: only its query can tell. */
  | { outcome: 'unknown'; error: WechatPayUnavailable }
  /** No attempt was processed (every one refused unprocessed, or a retry could not be signed): resumable. */
  | { outcome: 'unprocessed'; error: Error };

export interface SendContext {
  wechatpay: WechatPayGateway;
  clock: Clock;
  /** The claim was taken over from an attempt that died, perhaps after reaching WeChat Pay. */
  inherited: boolean;
  /** Each attempt, pause and re-signature fits in what is left, keeping time to record the outcome. */
  budget: Budget;
}

/** The first send and two retries, as WeChat Pay advises for 5xx ("retry with identical parameters"). */
const MAX_SENDS = 3;
const RETRY_DELAY_MS = 100;

export async function sendPresign(
  ctx: SendContext,
  kind: PresignKind,
  first: SignedRequest,
): Promise<SendResult> {
  let signed = first;
  let sentAt: number | undefined;
  // Why an attempt (this one's or the dead owner's) may have been processed; undefined: none may have been.
  let processed = ctx.inherited
    ? 'an attempt that held the claim before died, perhaps after sending'
    : undefined;
  let last: WechatPayUnavailable | undefined;
  for (let attempt = 1; ; attempt++) {
    const waitMs = beforeRecording(ctx.budget);
    if (waitMs < MIN_ATTEMPT_MS) {
      if (last) return exhausted(attempt - 1, last, processed);
      return {
        outcome: 'unprocessed',
        error: outOfTime('DynamoDB or KMS', 'they answered too slowly to leave time to call WeChat Pay'),
      };
    }
    sentAt ??= ctx.clock();
    const failure = await once(ctx.wechatpay, kind, signed, waitMs);
    if ('outcome' in failure) {
      if (failure.outcome === 'accepted') return { ...failure, sentAt };
      if (failure.outcome === 'unusable') return unknown(failure.error.message, failure.error);
      if (!processed) return failure;
      return unknown(
        `${processed}; attempt ${attempt} was then refused (${failure.error.message})`,
        failure.error,
      );
    }
    last = failure.error;
    if (!failure.unprocessed) processed ??= `attempt ${attempt} may have been processed (${last.message})`;
    if (attempt >= MAX_SENDS) return exhausted(attempt, last, processed);
    const pauseMs = Math.max(backoffMs(attempt, RETRY_DELAY_MS), (last.retryAfterS ?? 0) * 1000);
    // WeChat Pay's Retry-After is honoured, or the caller is told it: never a retry before it.
    if (beforeRecording(ctx.budget) - pauseMs < MIN_ATTEMPT_MS) return exhausted(attempt, last, processed);
    await sleep(pauseMs);
    try {
      // A fresh nonce and timestamp over the identical body string.
      const sign = ctx.wechatpay.sign(signed.request);
      signed = await beforeDeadline(sign, beforeRecording(ctx.budget), () => late('KMS', 'Sign'));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      if (processed) return unknown(`${processed}, and the retry could not be signed: ${why}`, error);
      return { outcome: 'unprocessed', error: error instanceof Error ? error : new Error(why) };
    }
  }
}

/** A retryable attempt's failure: a 429 or 202 was not processed; anything else may have been. */
interface Retryable {
  error: WechatPayUnavailable;
  unprocessed: boolean;
}

/** An answer that ends the sending: accepted, refused, or one that is no answer at all. */
type Answered =
  | { outcome: 'accepted'; response: WechatPayResponse; answer: PresignAnswer }
  | { outcome: 'rejected'; error: WechatPayRejected }
  | { outcome: 'unusable'; error: Error };

/** How much longer than its own timeout an attempt may take before it is abandoned as unanswered. */
const ABANDON_AFTER_MS = 250;

async function once(
  wechatpay: WechatPayGateway,
  kind: PresignKind,
  signed: SignedRequest,
  timeoutMs: number,
): Promise<Retryable | Answered> {
  let response: WechatPayResponse;
  try {
    // The client aborts the attempt at `timeoutMs`; the race only guards against one that does not.
    const attempt = wechatpay.send(signed, { retry: false, timeoutMs });
    const unanswered = () => new WechatPayUnavailable(`no answer within ${timeoutMs} ms`);
    response = await beforeDeadline(attempt, timeoutMs + ABANDON_AFTER_MS, unanswered);
  } catch (error) {
    if (error instanceof WechatPayRejected) return { outcome: 'rejected', error };
    if (error instanceof WechatPayUnavailable) return { error, unprocessed: error.status === 429 };
    // An answer that failed verification (or anything unforeseen): WeChat Pay may have accepted; not resent.
    return { outcome: 'unusable', error: error instanceof Error ? error : new Error(String(error)) };
  }
  if (response.status === 202) {
    const error = new WechatPayUnavailable('HTTP 202: accepted but not processed', response.requestId, {
      status: 202,
    });
    return { error, unprocessed: true };
  }
  try {
    return { outcome: 'accepted', response, answer: presignAnswer(kind, response) };
  } catch (error) {
    // A verified 2xx says WeChat Pay probably accepted, whatever its body holds: never "failed", never resent.
    const why = error instanceof Error ? error.message : String(error);
    return {
      outcome: 'unusable',
      error: new Error(`WeChat Pay's ${response.status} answer was not usable: ${why}`),
    };
  }
}

function unknown(message: string, cause: unknown): SendResult {
  const requestId =
    cause instanceof WechatPayUnavailable
      ? cause.requestId
      : cause instanceof WechatPayRejected
        ? cause.wechatpay.request_id
        : undefined;
  return {
    outcome: 'unknown',
    error: new WechatPayUnavailable(`${message}, so the outcome is unknown`, requestId, { cause }),
  };
}

function exhausted(attempts: number, last: WechatPayUnavailable, processed: string | undefined): SendResult {
  if (processed)
    return unknown(`no usable answer in ${attempts} attempts: ${processed}; the last: ${last.message}`, last);
  const error = new WechatPayUnavailable(
    `WeChat Pay processed none of ${attempts} attempts (the last: ${last.message}); ` +
      'the identical request may resume the code',
    last.requestId,
    {
      cause: last,
      ...(last.status === undefined ? {} : { status: last.status }),
      retryAfterS: last.retryAfterS ?? 1,
    },
  );
  return { outcome: 'unprocessed', error };
}
