import { setTimeout as sleep } from 'node:timers/promises';
import type { WechatPayGateway } from '../contracts/ports';
import { SignatureInvalid, WechatPayRejected, WechatPayThrottled, WechatPayUnavailable } from '../errors';
import { backoffMs, type SignedRequest, type WechatPayResponse } from '../wechatpay/client';

/** What one booking or deduct send ended with, as the money rules need to know it. */
export type SendOutcome =
  | { kind: 'answered'; response: WechatPayResponse }
  /** WeChat Pay refused the first attempt: nothing was created. */
  | { kind: 'refused'; error: WechatPayRejected }
  /** Every attempt was answered 429 ("not processed"): nothing was created; the same id may be sent again. */
  | { kind: 'throttled'; error: WechatPayThrottled }
  /** No usable answer, and an attempt may have landed: only WeChat Pay's query can tell. */
  | { kind: 'unknown'; error: WechatPayUnavailable };

/** The first send and two retries, as WeChat Pay advises for 5xx ("retry with identical parameters"). */
const MAX_SENDS = 3;
const RETRY_DELAY_MS = 100;

/**
 * Sends a booking or deduct order, resending the identical body (re-signed) on 5xx, 429, timeouts and dropped
 * connections. The attempts are counted here, not in the client, because neither write is idempotent: once an
 * attempt may have reached WeChat Pay, a refusal of a later one ("this id is already used", by that attempt)
 * proves nothing, so the outcome stays unknown instead of refused. A 429 is WeChat Pay's "not processed": an
 * attempt it answered so did not land, and when every attempt did, the outcome is `throttled`, not unknown.
 */
export async function sendWrite(wechatpay: WechatPayGateway, first: SignedRequest): Promise<SendOutcome> {
  let signed = first;
  let landed: WechatPayUnavailable | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return { kind: 'answered', response: await wechatpay.send(signed, { retry: false }) };
    } catch (error) {
      if (error instanceof WechatPayRejected) {
        if (!landed) return { kind: 'refused', error };
        return unknown(
          `attempt ${attempt - 1} may have reached WeChat Pay (${landed.message}); attempt ${attempt} was then refused (${error.message})`,
          error,
        );
      }
      if (error instanceof SignatureInvalid)
        return unknown(`the answer could not be verified: ${error.message}`, error);
      if (!(error instanceof WechatPayUnavailable)) throw error;
      if (error.status !== 429) landed = error;
      if (attempt >= MAX_SENDS) {
        const why = `no usable answer in ${attempt} attempts; the last: ${error.message}`;
        return landed ? unknown(why, error) : throttled(`${why}; WeChat Pay processed none of them`, error);
      }
    }
    await sleep(backoffMs(attempt, RETRY_DELAY_MS));
    try {
      // A fresh nonce and timestamp over the identical body string.
      signed = await wechatpay.sign(signed.request);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      if (!landed)
        return throttled(`WeChat Pay answered 429 and the retry could not be signed: ${why}`, cause);
      return unknown(
        `attempt ${attempt} may have reached WeChat Pay and the retry could not be signed: ${why}`,
        cause,
      );
    }
  }
}

function throttled(message: string, cause: unknown): SendOutcome {
  const last = cause instanceof WechatPayUnavailable ? cause : undefined;
  const error = new WechatPayThrottled(message, last?.requestId, {
    cause,
    status: 429,
    ...(last?.retryAfterS === undefined ? {} : { retryAfterS: last.retryAfterS }),
  });
  return { kind: 'throttled', error };
}

function unknown(message: string, cause: unknown): SendOutcome {
  const requestId = cause instanceof WechatPayUnavailable ? cause.requestId : undefined;
  return { kind: 'unknown', error: new WechatPayUnavailable(message, requestId, { cause }) };
}
