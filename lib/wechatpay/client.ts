import type { KeyObject } from 'node:crypto';
import { authorization, type MerchantCredentials } from './authorization';
import { encryptField } from './cipher';
import { type Clock, systemClock } from './clock';
import { SignatureInvalid, WechatPayRejected, WechatPayUnavailable } from './errors';
import { describeTransportError, parseErrorBody, retryAfterSeconds, toResponse } from './responses';
import { nonce } from './signature';
import { readSignedHeaders, type Verifier } from './verifier';

/** The WeChat Pay public key used for OAEP; its serial goes in `Wechatpay-Serial`. */
export interface WechatPayKey {
  serial: string;
  key: KeyObject;
}

export interface WechatPayClientOptions {
  /** Origin such as `https://api.mch.weixin.qq.com`. */
  baseUrl: string;
  credentials: MerchantCredentials;
  verifier: Verifier;
  encryptionKey: WechatPayKey;
  /** Per attempt; default 5000. */
  timeoutMs?: number;
  /** Default 2, so at most 3 attempts. */
  maxRetries?: number;
  /**
   * WeChat Pay refuses requests without one. The application names itself (e.g. `<name>/<version> (node/…)`):
   * the protocol library does not know which application it serves.
   */
  userAgent: string;
  fetch?: typeof fetch;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** First retry delay before jitter, doubled each retry; default 100. */
  retryDelayMs?: number;
}

export interface WechatPayRequest {
  method: 'GET' | 'POST';
  /** Path plus optional `?query`, as sent. */
  path: string;
  body?: unknown;
}

export interface SignedRequest {
  request: WechatPayRequest;
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface WechatPayResponse {
  status: number;
  requestId?: string;
  headers: Headers;
  body: Buffer;
  /** The parsed body; `undefined` for an empty body (204). */
  json<T = unknown>(): T;
}

/** What one attempt ended with when it did not produce an acceptable answer. */
interface Failure {
  description: string;
  /** The HTTP status, when there was an answer at all. */
  status?: number;
  requestId?: string;
  retryAfterS?: number;
  cause?: unknown;
}

export interface SendOptions {
  /** Resend retryable failures (re-signed, the identical body). */
  retry?: boolean;
  /** This call's per-attempt timeout, when the caller's own deadline leaves less than the configured one. */
  timeoutMs?: number;
  /**
   * The time the caller can give WeChat Pay, read before each attempt and pause: an attempt waits at most that
   * long, and none is started (nor a resend paused for) with under MIN_ATTEMPT_MS left. Unset: no deadline.
   */
  remainingMs?: () => number;
}

/** Less than this left for WeChat Pay to answer, and an attempt is not started. */
export const MIN_ATTEMPT_MS = 1000;

export class WechatPayClient {
  readonly #o: Required<Omit<WechatPayClientOptions, 'baseUrl'>>;
  readonly #baseUrl: string;

  constructor(options: WechatPayClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#o = {
      credentials: options.credentials,
      verifier: options.verifier,
      encryptionKey: options.encryptionKey,
      timeoutMs: options.timeoutMs ?? 5000,
      maxRetries: options.maxRetries ?? 2,
      userAgent: options.userAgent,
      // Resolved per call so a test that swaps globalThis.fetch is honoured.
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      clock: options.clock ?? systemClock,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      retryDelayMs: options.retryDelayMs ?? 100,
    };
  }

  /** encrypts nothing; serialises body once (JSON.stringify), builds Authorization with a fresh nonce+timestamp. */
  async sign(request: WechatPayRequest): Promise<SignedRequest> {
    if (!request.path.startsWith('/')) throw new Error(`path must start with '/': ${request.path}`);
    if (request.method === 'GET' && request.body !== undefined) throw new Error('a GET request has no body');
    const body = request.body === undefined ? '' : JSON.stringify(request.body);
    const url = this.#baseUrl + request.path;
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.#o.userAgent,
      'Wechatpay-Serial': this.#o.encryptionKey.serial,
    };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    headers.Authorization = await this.#authorization(request.method, url, body);
    return { request, url, body, headers };
  }

  /** sends; on retryable failure re-signs (fresh nonce+timestamp) and resends the IDENTICAL body string. */
  async send(signed: SignedRequest, options: SendOptions = {}): Promise<WechatPayResponse> {
    const attempts = options.retry ? this.#o.maxRetries + 1 : 1;
    const timeoutMs = Math.min(options.timeoutMs ?? this.#o.timeoutMs, this.#o.timeoutMs);
    const left = options.remainingMs ?? (() => Number.POSITIVE_INFINITY);
    if (left() < MIN_ATTEMPT_MS) {
      throw new WechatPayUnavailable(
        `not sent: only ${Math.max(0, Math.round(left()))} ms of the caller's time left`,
      );
    }
    let headers = signed.headers;
    let requestId: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(signed, headers, Math.min(timeoutMs, left()));
      if (!('description' in outcome)) return outcome;
      // A final timeout has no Request-ID; the one from an earlier answer is still what support can trace.
      requestId = outcome.requestId ?? requestId;
      const pauseMs = backoffMs(attempt, this.#o.retryDelayMs);
      // Out of attempts, or of the caller's time for another one: this failure is the answer.
      if (attempt >= attempts || left() - pauseMs < MIN_ATTEMPT_MS) {
        throw unavailable({ ...outcome, requestId }, attempt);
      }
      await this.#o.sleep(pauseMs);
      const fresh = await this.#authorization(signed.request.method, signed.url, signed.body);
      headers = { ...signed.headers, Authorization: fresh };
    }
  }

  async call(request: WechatPayRequest, options?: SendOptions): Promise<WechatPayResponse> {
    return this.send(await this.sign(request), options);
  }

  encrypt(plaintext: string): string {
    return encryptField(this.#o.encryptionKey.key, plaintext);
  }

  async #authorization(method: string, url: string, body: string): Promise<string> {
    // The canonical URL is what the server sees, so take it from the URL exactly as fetch will normalise it.
    const parsed = new URL(url);
    return authorization(this.#o.credentials, {
      method,
      url: parsed.pathname + parsed.search,
      body,
      timestamp: String(Math.floor(this.#o.clock() / 1000)),
      nonce: nonce(),
    });
  }

  async #attempt(
    signed: SignedRequest,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<WechatPayResponse | Failure> {
    let response: Response;
    let body: Buffer;
    try {
      response = await this.#o.fetch(signed.url, {
        method: signed.request.method,
        headers,
        body: signed.body === '' ? undefined : signed.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = Buffer.from(await response.arrayBuffer());
    } catch (cause) {
      return { description: describeTransportError(cause, timeoutMs), cause };
    }
    const status = response.status;
    const requestId = response.headers.get('request-id') ?? undefined;
    if (status >= 200 && status < 300) {
      this.#verify(response.headers, body, requestId);
      return toResponse(status, requestId, response.headers, body);
    }
    const info = parseErrorBody(body);
    if (status === 429 || status >= 500) {
      const retryAfterS = retryAfterSeconds(response.headers, this.#o.clock());
      return {
        description: `HTTP ${status} ${info.code}`,
        status,
        requestId,
        ...(retryAfterS === undefined ? {} : { retryAfterS }),
      };
    }
    throw new WechatPayRejected({ status, ...info, request_id: requestId });
  }

  #verify(headers: Headers, body: Buffer, requestId: string | undefined): void {
    try {
      this.#o.verifier.verify(readSignedHeaders(Object.fromEntries(headers)), body);
    } catch (error) {
      if (!(error instanceof SignatureInvalid)) throw error;
      const id = requestId ? ` (Request-ID ${requestId})` : '';
      throw new SignatureInvalid(`response signature rejected: ${error.message}${id}`, { cause: error });
    }
  }
}

/** The pause before retry `retry` (1-based): doubling from `firstMs`, jittered between half and all of it. */
export function backoffMs(retry: number, firstMs: number): number {
  const base = firstMs * 2 ** (retry - 1);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

function unavailable(failure: Failure, attempts: number): WechatPayUnavailable {
  const tally =
    failure.status !== undefined
      ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}`
      : attempts > 1
        ? ` (${attempts} attempts)`
        : '';
  const id = failure.requestId ? ` (Request-ID ${failure.requestId})` : '';
  const { cause, status, retryAfterS } = failure;
  return new WechatPayUnavailable(`${failure.description}${tally}${id}`, failure.requestId, {
    cause,
    ...(status === undefined ? {} : { status }),
    ...(retryAfterS === undefined ? {} : { retryAfterS }),
  });
}
