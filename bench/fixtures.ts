/**
 * Inputs shared by the benchmarks: fresh RSA-2048 keys, an APIv3 key, and callbacks sealed the way WeChat Pay
 * seals them (AES-256-GCM resource, SHA256withRSA over `timestamp\nnonce\nbody\n`). Built with node:crypto
 * directly rather than with lib/, so that the inputs do not depend on the code being measured.
 */
import {
  createCipheriv,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign,
} from 'node:crypto';
import { h5Body } from '../test/support/contracts/fixtures';

export interface RsaPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export const rsaPair = (): RsaPair => generateKeyPairSync('rsa', { modulusLength: 2048 });

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const alnum = (length: number): string =>
  Array.from(randomBytes(length), (b) => ALNUM[b % ALNUM.length]).join('');

/** WeChat Pay's portal takes 32 ASCII letters and digits. */
export const apiV3Key = (): string => alnum(32);

export const MCHID = '1900000109';
export const MERCHANT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
export const PUBLIC_KEY_ID = 'PUB_KEY_ID_0119000001092025000000000000';
export const SIGN_CONTRACT = 'CREDIT_REPAYMENT.SIGN_CONTRACT';
const ASSOCIATED_DATA = 'credit_repayment';

/** `2026-01-02T03:04:05+08:00`: the time format of WeChat Pay's callbacks. */
const chinaTime = (ms: number): string => `${new Date(ms + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;

/** The decrypted resource of a SIGN_CONTRACT callback, with every field WeChat Pay documents. */
export function signedContract(outContractCode: string): Record<string, unknown> {
  return {
    sp_mchid: MCHID,
    contract_id: `1${Array.from(randomBytes(19), (b) => b % 10).join('')}`,
    plan_id: 123,
    out_contract_code: outContractCode,
    display_name: '**丰',
    contract_state: 'CONTRACT_STATE_EFFECTIVE',
    contract_signed_time: chinaTime(Date.now()),
    contract_terminated_mode: 'TERMINATION_MODE_INVALID',
    repayment_amount_limit: '10000',
    appid: 'wxd678efh567hg6787',
    openid: `o${alnum(27)}`,
    repayment_day: 1,
  };
}

export interface SealedCallback {
  /** The exact body bytes WeChat Pay posts, as text. */
  body: string;
  /** Wechatpay-Timestamp / -Nonce / -Signature / -Serial, as sent. */
  headers: Record<string, string>;
  timestamp: string;
  nonce: string;
  signature: string;
  serial: string;
}

export function sealCallback(options: {
  platformKey: KeyObject;
  serial: string;
  apiV3Key: string;
  resource: Record<string, unknown>;
  eventType?: string;
}): SealedCallback {
  const iv = alnum(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(options.apiV3Key), Buffer.from(iv));
  cipher.setAAD(Buffer.from(ASSOCIATED_DATA));
  const sealed = Buffer.concat([
    cipher.update(JSON.stringify(options.resource), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  const body = JSON.stringify({
    id: randomUUID(),
    create_time: chinaTime(Date.now()),
    resource_type: 'encrypt-resource',
    event_type: options.eventType ?? SIGN_CONTRACT,
    summary: '信贷还款签约成功',
    resource: {
      original_type: ASSOCIATED_DATA,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: sealed.toString('base64'),
      associated_data: ASSOCIATED_DATA,
      nonce: iv,
    },
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = alnum(32);
  const signature = sign(
    'sha256',
    Buffer.from(`${timestamp}\n${nonce}\n${body}\n`),
    options.platformKey,
  ).toString('base64');
  return {
    body,
    timestamp,
    nonce,
    signature,
    serial: options.serial,
    headers: {
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signature,
      'Wechatpay-Serial': options.serial,
    },
  };
}

/** Our H5 presign API body with plaintext identity (the test suite's valid body, unique code each call). */
export const presignBody = (): Record<string, unknown> => h5Body();

/** Standard Base64 the length of an RSA-2048 OAEP ciphertext, so that stand-in bodies have the real size. */
export const OAEP_SIZED = randomBytes(256).toString('base64');
