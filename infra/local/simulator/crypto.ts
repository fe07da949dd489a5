import {
  constants,
  createCipheriv,
  createSign,
  createVerify,
  type KeyObject,
  privateDecrypt,
  randomBytes,
  randomInt,
} from 'node:crypto';

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomAlnum(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

export function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String(randomInt(10));
  return out;
}

/** Request-ID values look like WeChat Pay's: upper-case hex. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** Every line ends in `\n`, the last included; the body goes in as the exact bytes (never re-encoded). */
export function signatureMessage(lines: string[], body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8'), body, Buffer.from('\n')]);
}

/** SHA256withRSA (RSASSA-PKCS1-v1_5), standard Base64. */
export function rsaSign(privateKey: KeyObject, message: Buffer): string {
  return createSign('RSA-SHA256').update(message).sign(privateKey, 'base64');
}

export function rsaVerify(publicKey: KeyObject, message: Buffer, signatureB64: string): boolean {
  try {
    return createVerify('RSA-SHA256').update(message).verify(publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

/** RSAES-OAEP with SHA-1 / MGF1-SHA-1 and an empty label. Throws when it fails. */
export function oaepDecrypt(privateKey: KeyObject, ciphertextB64: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(ciphertextB64)) throw new Error('ciphertext is not standard Base64');
  return privateDecrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(ciphertextB64, 'base64'),
  );
}

/** AEAD_AES_256_GCM as WeChat Pay sends it: Base64(ciphertext ‖ 16-byte tag), IV = the nonce's UTF-8 bytes. */
export function aesGcmEncrypt(key: Buffer, nonce: string, associatedData: string, plaintext: string): string {
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const encrypted = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([encrypted, cipher.getAuthTag()]).toString('base64');
}

/** RFC 3339 in China Standard Time, the form WeChat Pay uses (`2015-05-20T13:29:35+08:00`). */
export function chinaTime(epochMs: number): string {
  const shifted = new Date(Math.floor(epochMs / 1000) * 1000 + 8 * 3600_000);
  return `${shifted.toISOString().slice(0, 19)}+08:00`;
}
