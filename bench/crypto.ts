/**
 * Phase "crypto": the two per-request cryptographic paths, ours beside the peer SDKs on identical inputs.
 *
 * - callback: verify the SHA256withRSA signature over the raw body, decrypt the AES-256-GCM resource, parse it.
 * - sign: build the canonical request message and the `Authorization` header with an in-memory RSA key.
 *
 * Each peer is driven the way its README shows. The floor is node:crypto's bare RSA operation on the same
 * message: what no implementation can go below on this machine.
 */
import assert from 'node:assert/strict';
import { createPublicKey, sign, verify } from 'node:crypto';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import Pay from 'wechatpay-node-v3';
import { authorization, type MerchantCredentials } from '../lib/wechatpay/authorization';
import { WechatPayClient } from '../lib/wechatpay/client';
import { H5_PRESIGN_PATH } from '../lib/wechatpay/credit-repayment';
import { openNotification } from '../lib/wechatpay/notification';
import { nonce } from '../lib/wechatpay/signature';
import { PemSigner } from '../lib/wechatpay/signer';
import { Verifier } from '../lib/wechatpay/verifier';
import {
  apiV3Key,
  MCHID,
  MERCHANT_SERIAL,
  OAEP_SIZED,
  PUBLIC_KEY_ID,
  presignBody,
  rsaPair,
  sealCallback,
  signedContract,
} from './fixtures';
import { type Comparison, compare, ratioRange, round } from './measure';

/** Ours against the fastest peer on the same work, in microseconds. */
export interface Duel {
  ours_us: number;
  peers_us: Record<string, number>;
  best_peer: string;
  /** ours / best peer. */
  ratio: number;
  /** The same ratio round by round: when it straddles 1, the two are tied within this machine's noise. */
  ratio_range: [number, number];
  /** node:crypto's bare RSA operation on the same message. */
  floor_us: number;
}

export interface CryptoResult {
  callback: Duel;
  /** `client_us`: WechatPayClient.sign(), which also serialises the body and builds every header. */
  sign: Duel & { client_us: number };
}

const AXIOS = 'wechatpay-axios-plugin';
const NODE_V3 = 'wechatpay-node-v3';

type Json = Record<string, string>;
interface Envelope {
  resource: { ciphertext: string; nonce: string; associated_data: string };
}

export async function run(): Promise<CryptoResult> {
  const platform = rsaPair();
  const merchant = rsaPair();
  const key = apiV3Key();
  const resource = signedContract('BENCH0001');
  const cb = sealCallback({
    platformKey: platform.privateKey,
    serial: PUBLIC_KEY_ID,
    apiV3Key: key,
    resource,
  });
  const pemOf = (k: typeof platform.publicKey | typeof merchant.privateKey, type: 'spki' | 'pkcs8') =>
    k.export({ type, format: 'pem' }).toString();

  // wechatpay-node-v3 takes PEM buffers and keeps platform keys (PEM text) in a static map by serial.
  const pay = new Pay({
    appid: 'wxd678efh567hg6787',
    mchid: MCHID,
    serial_no: MERCHANT_SERIAL,
    publicKey: Buffer.from(pemOf(merchant.publicKey, 'spki')),
    privateKey: Buffer.from(pemOf(merchant.privateKey, 'pkcs8')),
    key,
  });
  (Pay as unknown as { certificates: Json }).certificates[PUBLIC_KEY_ID] = pemOf(platform.publicKey, 'spki');

  const verifier = new Verifier([[PUBLIC_KEY_ID, platform.publicKey]]);
  const deps = { verifier, apiV3Key: Buffer.from(key) };
  const rawBody = Buffer.from(cb.body);
  // API Gateway (HTTP API) hands the handler lower-case header names.
  const headers = Object.fromEntries(Object.entries(cb.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const signedMessage = Buffer.from(`${cb.timestamp}\n${cb.nonce}\n${cb.body}\n`);
  const signatureBytes = Buffer.from(cb.signature, 'base64');

  const callbacks = {
    ours: () => openNotification({ headers, body: rawBody }, deps).resource,
    [AXIOS]: () => {
      const envelope = JSON.parse(cb.body) as Envelope;
      const message = Formatter.response(cb.timestamp, cb.nonce, cb.body);
      if (!Rsa.verify(message, cb.signature, platform.publicKey)) throw new Error(`${AXIOS} rejected`);
      const r = envelope.resource;
      return JSON.parse(Aes.AesGcm.decrypt(r.ciphertext, key, r.nonce, r.associated_data));
    },
    [NODE_V3]: async () => {
      const envelope = JSON.parse(cb.body) as Envelope;
      const { timestamp, nonce, signature, serial, body } = cb;
      if (!(await pay.verifySign({ timestamp, nonce, signature, serial, body })))
        throw new Error(`${NODE_V3} rejected`);
      const r = envelope.resource;
      return pay.decipher_gcm(r.ciphertext, r.associated_data, r.nonce, key);
    },
    floor: () => verify('sha256', signedMessage, platform.publicKey, signatureBytes),
  };
  for (const name of ['ours', AXIOS, NODE_V3] as const) {
    assert.deepEqual(await callbacks[name](), resource, `${name} did not recover the contract`);
  }

  // The body our presign sends: the H5 fields, contract_notify_url and two OAEP-sized identity fields.
  const { real_identity: _plaintext, ...fields } = presignBody();
  const wechatpayBody = {
    ...fields,
    contract_notify_url: 'https://api.example.com/wechatpay/notifications',
    real_identity: {
      identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
      identity_id: OAEP_SIZED,
      real_name: OAEP_SIZED,
    },
  };
  const body = JSON.stringify(wechatpayBody);
  const creds: MerchantCredentials = {
    mchid: MCHID,
    serialNo: MERCHANT_SERIAL,
    signer: new PemSigner(merchant.privateKey),
  };
  const client = new WechatPayClient({
    baseUrl: 'https://api.mch.weixin.qq.com',
    credentials: creds,
    verifier,
    encryptionKey: { serial: PUBLIC_KEY_ID, key: platform.publicKey },
    userAgent: 'bench/1',
  });
  const floorMessage = Buffer.from(
    `POST\n${H5_PRESIGN_PATH}\n${Math.floor(Date.now() / 1000)}\n${nonce()}\n${body}\n`,
  );
  const signers = {
    ours: () =>
      authorization(creds, {
        method: 'POST',
        url: H5_PRESIGN_PATH,
        body,
        timestamp: String(Math.floor(Date.now() / 1000)),
        nonce: nonce(),
      }),
    [AXIOS]: () => {
      const n = Formatter.nonce();
      const t = Formatter.timestamp();
      const signature = Rsa.sign(Formatter.request('POST', H5_PRESIGN_PATH, t, n, body), merchant.privateKey);
      return Formatter.authorization(MCHID, n, signature, t, MERCHANT_SERIAL);
    },
    [NODE_V3]: () => {
      // What its own buildAuthorization does, through its public methods.
      const n = Math.random().toString(36).slice(2, 17);
      const t = String(Math.floor(Date.now() / 1000));
      return pay.getAuthorization(n, t, pay.getSignature('POST', n, t, H5_PRESIGN_PATH, body));
    },
    client: async () =>
      (await client.sign({ method: 'POST', path: H5_PRESIGN_PATH, body: wechatpayBody })).headers
        .Authorization,
    floor: () => sign('sha256', floorMessage, merchant.privateKey),
  };
  const merchantPublic = createPublicKey(merchant.privateKey);
  for (const name of ['ours', AXIOS, NODE_V3, 'client'] as const) {
    assertAuthorization(await signers[name](), body, merchantPublic, name);
  }

  const callback = duel(await compare(callbacks));
  // One RSA signature takes ~200 µs: ten per sample keep the 1 µs clock out of the ratio.
  const signing = await compare(signers, { repeat: 10 });
  return { callback, sign: { ...duel(signing), client_us: round(signing.us.client) } };
}

function duel(c: Comparison<'ours' | typeof AXIOS | typeof NODE_V3 | 'floor'>): Duel {
  const peers = [AXIOS, NODE_V3] as const;
  const best = peers.reduce((a, b) => (c.us[b] < c.us[a] ? b : a));
  return {
    ours_us: round(c.us.ours),
    peers_us: Object.fromEntries(peers.map((p) => [p, round(c.us[p])])),
    best_peer: best,
    ratio: round(c.us.ours / c.us[best], 3),
    ratio_range: ratioRange(c.rounds.ours, c.rounds[best]),
    floor_us: round(c.us.floor),
  };
}

/** Every signer must produce a header WeChat Pay would accept, or its timing means nothing. */
function assertAuthorization(
  header: string | undefined,
  body: string,
  publicKey: ReturnType<typeof createPublicKey>,
  who: string,
): void {
  const fields = Object.fromEntries(
    [...(header ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
  assert.equal(fields.mchid, MCHID, `${who}: mchid`);
  assert.equal(fields.serial_no, MERCHANT_SERIAL, `${who}: serial_no`);
  const message = `POST\n${H5_PRESIGN_PATH}\n${fields.timestamp}\n${fields.nonce_str}\n${body}\n`;
  const ok = verify('sha256', Buffer.from(message), publicKey, Buffer.from(fields.signature ?? '', 'base64'));
  assert.ok(ok, `${who}: signature does not verify`);
}
