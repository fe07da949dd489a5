/**
 * WeChat Pay's side of a callback, written from docs/protocol.md (#verifying-responses-and-callbacks,
 * #decrypting-callback-resources, #callbacks) with node:crypto only (it does not import lib/wechatpay, so the two
 * check each other): builds the exact `{headers, body}` WeChat Pay would send, with switches to get each part wrong
 * on purpose.
 */
import {
  createCipheriv,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign as rsaSign,
} from 'node:crypto';
import { request } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { lambdaContext as localContext } from '../../../infra/local/lambda-context';

export const SIGN_CONTRACT = 'CREDIT_REPAYMENT.SIGN_CONTRACT';
export const TERMINATE_CONTRACT = 'CREDIT_REPAYMENT.TERMINATE_CONTRACT';
export const DEDUCTION_PAY = 'CREDIT_REPAYMENT.DEDUCTION_PAY';
export const NOTIFY_PATH = '/wechatpay/notifications';

/** What WeChat Pay holds: its signing key and the id it signs under, and the merchant's APIv3 key. */
export interface WechatPayKeys {
  privateKey: KeyObject;
  /** `PUB_KEY_ID_…` (public-key mode) or a platform certificate serial. */
  serial: string;
  apiV3Key: string | Buffer;
}

/** A fresh WeChat Pay identity, for `startTestStack({ simulator: { publicKey: { id, privateKey } } })`. */
export function newWechatPayKeys(apiV3Key: string | Buffer = randomApiV3Key()): WechatPayKeys {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, serial: `PUB_KEY_ID_0${randomDigits(27)}`, apiV3Key };
}

export const randomApiV3Key = (): string => randomAlnum(32);

export interface CallbackOptions {
  id?: string;
  eventType?: string;
  createTime?: string;
  summary?: string;
  /** The resource plaintext: an object (JSON-encoded) or the exact string/bytes to encrypt. */
  resource?: unknown;
  /** Encrypt with this key instead of `keys.apiV3Key` (wrong key). */
  apiV3Key?: string | Buffer;
  /** The AAD used to encrypt; the envelope declares it too unless `declaredAad` says otherwise. */
  aad?: string;
  /** The `associated_data` written in the envelope; `null` leaves the field out. */
  declaredAad?: string | null;
  /** The GCM nonce used to encrypt (12 characters by default); `declaredNonce` is what the envelope says. */
  resourceNonce?: string;
  declaredNonce?: string;
  algorithm?: string;
  /** Drop this many bytes from the end of the sealed bytes (the tag sits there). */
  truncateTag?: number;
  /** Send this text as `resource.ciphertext` instead of the real one (bad Base64, …). */
  ciphertext?: string;
  /** Edit the envelope object before it is serialised (remove or retype fields). */
  envelope?: (envelope: Record<string, unknown>) => unknown;
  /** Sign and send exactly these bytes instead of an envelope (non-JSON, empty, oversized bodies). */
  body?: string | Buffer;
  /** Epoch ms the timestamp is taken from; default now. */
  now?: number;
  /** `Wechatpay-Timestamp`, signed and sent as given (non-numeric values included). */
  timestamp?: string;
  nonce?: string;
  serial?: string;
  /** Sign with another key (the serial still says `keys.serial` unless `serial` is given). */
  signWith?: KeyObject;
  /** Send this as `Wechatpay-Signature` instead of the real signature (probes, bad Base64). */
  signature?: string;
}

/** Anything POSTed to the callback route: headers may repeat when given as pairs. */
export interface Delivery {
  headers: Record<string, string> | [string, string][];
  body: Buffer;
}

export interface Callback {
  /** The envelope id (or the `id` option when `body` replaced the envelope). */
  id: string;
  /** Canonical-case header names, as WeChat Pay sends them. */
  headers: Record<string, string>;
  body: Buffer;
}

/** The signature WeChat Pay puts on a callback: SHA256withRSA over `timestamp\nnonce\nbody\n`. */
export function signMessage(privateKey: KeyObject, timestamp: string, nonce: string, body: Buffer): string {
  const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), body, Buffer.from('\n')]);
  return rsaSign('sha256', message, privateKey).toString('base64');
}

/** AEAD_AES_256_GCM as WeChat Pay seals a resource: UTF-8 nonce as IV, tag appended (Base64 it to send). */
export function sealResource(
  apiV3Key: string | Buffer,
  plaintext: string | Buffer,
  nonce: string,
  aad: string,
): Buffer {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** A callback as WeChat Pay sends it (encrypted resource, signed raw body), or broken as `options` say. */
export function callback(keys: WechatPayKeys, options: CallbackOptions = {}): Callback {
  const id = options.id ?? randomUUID();
  const body = options.body === undefined ? envelopeBody(keys, id, options) : Buffer.from(options.body);
  const timestamp = options.timestamp ?? String(Math.floor((options.now ?? Date.now()) / 1000));
  const nonce = options.nonce ?? randomAlnum(32);
  const signature =
    options.signature ?? signMessage(options.signWith ?? keys.privateKey, timestamp, nonce, body);
  return {
    id,
    headers: {
      'Content-Type': 'application/json',
      'Request-ID': randomUUID(),
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signature,
      'Wechatpay-Serial': options.serial ?? keys.serial,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    },
    body,
  };
}

/** WeChat Pay's retry of `cb`: the same body (and notification id) under a fresh timestamp, nonce and signature. */
export function resend(keys: WechatPayKeys, cb: Callback, now = Date.now()): Callback {
  return callback(keys, { id: cb.id, body: cb.body, now });
}

function envelopeBody(keys: WechatPayKeys, id: string, o: CallbackOptions): Buffer {
  const eventType = o.eventType ?? SIGN_CONTRACT;
  const aad = o.aad ?? 'credit_repayment';
  const nonce = o.resourceNonce ?? randomAlnum(12);
  const plaintext =
    typeof o.resource === 'string' || Buffer.isBuffer(o.resource)
      ? o.resource
      : JSON.stringify(o.resource ?? {});
  let sealed = sealResource(o.apiV3Key ?? keys.apiV3Key, plaintext, nonce, aad);
  if (o.truncateTag) sealed = sealed.subarray(0, sealed.length - o.truncateTag);
  const resource: Record<string, unknown> = {
    original_type: 'credit_repayment',
    algorithm: o.algorithm ?? 'AEAD_AES_256_GCM',
    ciphertext: o.ciphertext ?? sealed.toString('base64'),
    nonce: o.declaredNonce ?? nonce,
  };
  const declaredAad = o.declaredAad === undefined ? aad : o.declaredAad;
  if (declaredAad !== null) resource.associated_data = declaredAad;
  const envelope: Record<string, unknown> = {
    id,
    create_time: o.createTime ?? chinaTime(o.now ?? Date.now()),
    resource_type: 'encrypt-resource',
    event_type: eventType,
    summary: o.summary ?? SUMMARY[eventType] ?? '通知',
    resource,
  };
  return Buffer.from(JSON.stringify(o.envelope ? o.envelope(envelope) : envelope), 'utf8');
}

const SUMMARY: Record<string, string> = {
  [SIGN_CONTRACT]: '信贷还款签约成功',
  [TERMINATE_CONTRACT]: '信贷还款解约成功',
  [DEDUCTION_PAY]: '信贷还款还款成功',
};

/** A `CREDIT_REPAYMENT.SIGN_CONTRACT` resource as docs/protocol.md#callbacks lists it (`plan_id` a number, as WeChat Pay sends it). */
export function signedContract(
  code: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    sp_mchid: '1900000109',
    contract_id: `CID${randomDigits(20)}`,
    plan_id: 123,
    out_contract_code: code,
    display_name: '**丰',
    contract_state: 'CONTRACT_STATE_EFFECTIVE',
    contract_signed_time: chinaTime(Date.now()),
    contract_terminated_mode: 'TERMINATION_MODE_INVALID',
    repayment_day: 1,
    repayment_amount_limit: '10000',
    appid: 'wxd678efh567hg6787',
    openid: `o${randomAlnum(27)}`,
    ...overrides,
  };
}

/** The `CREDIT_REPAYMENT.TERMINATE_CONTRACT` resource for the contract `signed` describes. */
export function terminatedContract(
  signed: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...signed,
    contract_state: 'CONTRACT_STATE_TERMINATED',
    contract_terminated_time: chinaTime(Date.now()),
    contract_terminated_mode: 'TERMINATION_MODE_USER',
    contract_termination_remark: '用户解约',
    ...overrides,
  };
}

/** The API Gateway HTTP API (payload 2.0) event for a callback: header names lower-cased, repeats comma-joined. */
export function apiGatewayEvent(
  cb: Delivery,
  options: { isBase64Encoded: boolean; eventBody?: string },
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const pairs = Array.isArray(cb.headers) ? cb.headers : Object.entries(cb.headers);
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
  }
  const now = Date.now();
  const body =
    options.eventBody ?? (options.isBase64Encoded ? cb.body.toString('base64') : cb.body.toString('utf8'));
  return {
    version: '2.0',
    routeKey: `POST ${NOTIFY_PATH}`,
    rawPath: NOTIFY_PATH,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test.local',
      domainPrefix: 'test',
      http: {
        method: 'POST',
        path: NOTIFY_PATH,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'Mozilla/4.0',
      },
      requestId: randomUUID(),
      routeKey: `POST ${NOTIFY_PATH}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: options.isBase64Encoded,
    ...(cb.body.length > 0 || options.eventBody !== undefined ? { body } : {}),
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined when there was none. */
  body: Record<string, unknown> | undefined;
  /** Wall time from sending the request to the end of the answer. */
  ms: number;
}

/**
 * POSTs a callback over plain node:http, so headers can repeat and the body goes out byte for byte.
 * `contentType` overrides the callback's (API Gateway base64-encodes bodies it does not see as text).
 */
export function post(url: string, cb: Delivery, options: { contentType?: string } = {}): Promise<Answer> {
  let pairs = Array.isArray(cb.headers) ? cb.headers : Object.entries(cb.headers);
  if (options.contentType !== undefined) {
    pairs = [
      ...pairs.filter(([n]) => n.toLowerCase() !== 'content-type'),
      ['Content-Type', options.contentType],
    ];
  }
  // A repeated name goes out as repeated header lines, the way a misbehaving proxy would send them.
  const grouped = new Map<string, string[]>();
  for (const [name, value] of pairs) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: Object.fromEntries(
            Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
          ),
          body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
          ms: performance.now() - started,
        });
      });
    });
    for (const [name, values] of grouped)
      req.setHeader(name, values.length === 1 ? (values[0] as string) : values);
    req.setHeader('Content-Length', cb.body.length);
    req.on('error', reject);
    req.end(cb.body);
  });
}

export function chinaTime(epochMs: number): string {
  return `${new Date(epochMs + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  return [...randomBytes(length)].map((b) => ALNUM[b % ALNUM.length]).join('');
}

function randomDigits(length: number): string {
  return [...randomBytes(length)].map((b) => String(b % 10)).join('');
}

export const lambdaContext = (functionName = 'notify'): Context => localContext(functionName, 10_000);
