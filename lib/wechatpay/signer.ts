import { createPrivateKey, type KeyObject, sign } from 'node:crypto';

/** Async so the key can live in KMS: SHA256withRSA (RSASSA-PKCS1-v1_5, SHA-256) over `message`, standard Base64. */
export interface Signer {
  sign(message: Buffer): Promise<string>;
}

/** In-memory merchant key, for tests and local runs; deployed code signs through KMS instead. */
export class PemSigner implements Signer {
  readonly #key: KeyObject;

  constructor(privateKey: string | KeyObject) {
    const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
    if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') {
      throw new Error(
        `PemSigner needs an RSA private key, got a ${key.asymmetricKeyType ?? '?'} ${key.type} key`,
      );
    }
    this.#key = key;
  }

  async sign(message: Buffer): Promise<string> {
    return sign('sha256', message, this.#key).toString('base64');
  }
}
