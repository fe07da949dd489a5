/** What one HTTP exchange with WeChat Pay says: a verified answer, a refusal's error body, or why there was none. */
import type { WechatPayResponse } from './client';
import { WechatPayRejected } from './errors';
import { isObject } from './json';

/** How much of an unparseable error body an error message may quote. */
const ERROR_TEXT_LIMIT = 200;

/** A verified 2xx answer; its body is parsed as JSON only when asked, and a body that is not JSON is a refusal. */
export function toResponse(
  status: number,
  requestId: string | undefined,
  headers: Headers,
  body: Buffer,
): WechatPayResponse {
  return {
    status,
    requestId,
    headers,
    body,
    json<T>(): T {
      if (body.length === 0) return undefined as T;
      try {
        return JSON.parse(body.toString('utf8')) as T;
      } catch (cause) {
        throw new WechatPayRejected(
          { status, code: 'INVALID_RESPONSE', message: 'response body is not JSON', request_id: requestId },
          { cause },
        );
      }
    },
  };
}

/** The `{code, message, detail}` of a 4xx/5xx body, or what can be said of a body that is not one. */
export function parseErrorBody(body: Buffer): { code: string; message: string; detail?: unknown } {
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { code: 'UNKNOWN', message: text.slice(0, ERROR_TEXT_LIMIT) };
  }
  const fields = isObject(parsed) ? parsed : {};
  return {
    code: typeof fields.code === 'string' && fields.code ? fields.code : 'UNKNOWN',
    message: typeof fields.message === 'string' ? fields.message : text.slice(0, ERROR_TEXT_LIMIT),
    detail: fields.detail,
  };
}

/** Why a request got no HTTP answer at all, in a few words (timeouts, resets, refusals, DNS). */
export function describeTransportError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutMs} ms`;
  }
  // undici reports socket failures as `TypeError: fetch failed` with the system error as `cause`.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  switch (code) {
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    default:
      return `connection failed (${typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause)})`;
  }
}

/**
 * WeChat Pay's `Retry-After`, in whole seconds from `now`: delay-seconds or an HTTP date (RFC 9110); undefined when
 * absent or unreadable.
 */
export function retryAfterSeconds(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  // An HTTP date names its day and month; Date.parse alone would read "-1" as a year.
  const at = /^[A-Za-z]{3}, /.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
