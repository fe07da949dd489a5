/*
 * A merchant written from the protocol (docs/protocol.md) with node:crypto only (never lib/wechatpay), so that the
 * simulator is checked against an independent reading of the protocol.
 */
import {
  constants,
  createDecipheriv,
  createPublicKey,
  createSign,
  createVerify,
  generateKeyPairSync,
  type KeyObject,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { createServer, type IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../../../../infra/local/simulator';

export interface Merchant {
  mchid: string;
  serialNo: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  apiV3Key: Buffer;
  /** Epoch ms used for Authorization timestamps (follow the simulator's injected clock). */
  clock: () => number;
}

export const H5 = '/v3/credit-repayment/partner/contracts/h5-presign';
export const APP = '/v3/credit-repayment/partner/contracts/app-presign';
export const TERMINATE = '/v3/credit-repayment/partner/contracts/terminate';
export const contractPath = (code: string) => `/v3/credit-repayment/partner/contracts/${code}`;

export function newMerchant(): Merchant {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    mchid: '1900000109',
    serialNo: randomBytes(20).toString('hex').toUpperCase(),
    privateKey,
    publicKey,
    apiV3Key: Buffer.from(randomBytes(16).toString('hex'), 'ascii'),
    clock: Date.now,
  };
}

export function startFor(merchant: Merchant, extra: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({
    mchid: merchant.mchid,
    merchantSerialNo: merchant.serialNo,
    merchantPublicKey: async () => merchant.publicKey,
    apiV3Key: merchant.apiV3Key,
    callbackSchedule: [50, 50, 50],
    ...extra,
  });
}

/** What a describe block of simulator tests shares: its merchant, a running simulator and a callback receiver. */
export interface SimulatorFixture {
  m: Merchant;
  sim: Simulator;
  receiver: Receiver;
}

/**
 * Starts a simulator for a fresh merchant and a callback receiver before the block's tests, closes both after.
 * `options` may depend on the merchant (a shared clock); `setup` runs once both are up.
 */
export function useSimulator(
  options: (m: Merchant) => Partial<SimulatorOptions> = () => ({}),
  setup: (f: SimulatorFixture) => Promise<void> | void = () => {},
): SimulatorFixture {
  const f = { m: newMerchant() } as SimulatorFixture;
  before(async () => {
    f.sim = await startFor(f.m, options(f.m));
    f.receiver = await startReceiver();
    await setup(f);
  });
  after(async () => {
    await f.sim?.close();
    await f.receiver?.close();
  });
  return f;
}

const alnum = (n: number) =>
  randomBytes(n)
    .toString('base64')
    .replace(/[^0-9A-Za-z]/g, 'x')
    .slice(0, n);

export function authorization(
  m: Merchant,
  method: string,
  url: string,
  body: string,
  opts: { timestamp?: number; nonce?: string } = {},
): string {
  const timestamp = String(opts.timestamp ?? Math.floor(m.clock() / 1000));
  const nonce = opts.nonce ?? alnum(32);
  const message = `${method}\n${url}\n${timestamp}\n${nonce}\n${body}\n`;
  const signature = createSign('RSA-SHA256').update(message).sign(m.privateKey, 'base64');
  return `WECHATPAY2-SHA256-RSA2048 mchid="${m.mchid}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${m.serialNo}"`;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown>;
}

/** One request with exactly the given headers (fetch would add its own Accept and User-Agent). */
export function raw(
  base: string,
  method: string,
  url: string,
  headers: Record<string, string>,
  body = '',
  timeoutMs = 5000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${url}`, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface CallOptions {
  /** `Wechatpay-Serial`; null omits it. Defaults to the simulator's public key id. */
  serial?: string | null;
  headers?: Record<string, string>;
  omit?: string[];
  authorization?: string;
  timeoutMs?: number;
}

/** A signed v3 call, as a merchant SDK would make it. */
export function call(
  sim: Simulator,
  m: Merchant,
  method: string,
  url: string,
  body?: unknown,
  opts: CallOptions = {},
): Promise<RawResponse> {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'User-Agent': 'simulator-test/1.0 (linux) node/20',
    Authorization: opts.authorization ?? authorization(m, method, url, text),
  };
  if (text) headers['Content-Type'] = 'application/json';
  const serial = opts.serial === undefined ? sim.wechatpayPublicKey().id : opts.serial;
  if (serial !== null) headers['Wechatpay-Serial'] = serial;
  Object.assign(headers, opts.headers);
  for (const name of opts.omit ?? []) delete headers[name];
  return raw(sim.url, method, url, headers, text, opts.timeoutMs);
}

/** RSAES-OAEP with SHA-1/MGF1-SHA-1. */
export function oaep(publicKeyPem: string, plaintext: string): string {
  return publicEncrypt(
    { key: createPublicKey(publicKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(plaintext, 'utf8'),
  ).toString('base64');
}

/** An 18-character resident ID with a correct ISO 7064 MOD 11-2 check character. */
export function residentId(first17 = '11010519491231002'): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(first17[i]), 0);
  return `${first17}${'10X98765432'[sum % 11]}`;
}

export function presignBody(
  publicKeyPem: string,
  notifyUrl: string,
  code: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    appid: 'wxd678efh567hg6787',
    plan_id: '123',
    out_contract_code: code,
    display_name: '*三',
    contract_notify_url: notifyUrl,
    repayment_day: 1,
    repayment_amount_limit: '10000',
    sub_mchid: '1000000109',
    real_identity: {
      identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
      identity_id: oaep(publicKeyPem, residentId()),
      real_name: oaep(publicKeyPem, '张三'),
    },
    ...overrides,
  };
}

let counter = 0;
export const newCode = () => `T${Date.now()}${counter++}`;

/** `ts\nnonce\nbody\n` with the key the caller trusts for that serial. */
export function verifySigned(pem: string, headers: IncomingHttpHeaders, body: string): boolean {
  const message = `${headers['wechatpay-timestamp']}\n${headers['wechatpay-nonce']}\n${body}\n`;
  return createVerify('RSA-SHA256')
    .update(message)
    .verify(createPublicKey(pem), String(headers['wechatpay-signature']), 'base64');
}

export interface Resource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string;
}

/** AEAD_AES_256_GCM: the last 16 bytes are the tag. */
export function decryptResource(key: Buffer, r: Resource): Record<string, unknown> {
  const data = Buffer.from(r.ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(r.nonce, 'utf8'));
  decipher.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - 16));
  const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A callback receiver answering the given statuses in turn, then 204. */
export async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const received: Received[] = [];
  const queue = [...statuses];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = queue.shift() ?? 204;
      if (status === 204) res.writeHead(204).end();
      else
        res.writeHead(status, { 'Content-Type': 'application/json' }).end('{"code":"FAIL","message":"test"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/wechatpay/notifications`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Presigns an H5 contract and returns its token. */
export async function presign(
  sim: Simulator,
  m: Merchant,
  notifyUrl: string,
  code = newCode(),
  overrides: Record<string, unknown> = {},
) {
  const body = presignBody(sim.wechatpayPublicKey().pem, notifyUrl, code, overrides);
  const res = await call(sim, m, 'POST', H5, body);
  if (res.status !== 200) throw new Error(`presign failed: ${res.status} ${res.text}`);
  const token = new URL(String(res.json.redirect_url)).searchParams.get('token') ?? '';
  return { code, token, redirectUrl: String(res.json.redirect_url) };
}
