import { createHash, createPublicKey } from 'node:crypto';
import type { Cached } from './cache';
import type { Settings } from './settings';

/**
 * Where deployed key material is read (lib/aws/parameters-extension.ts: the Parameters and Secrets extension).
 * Each resolves undefined when the secret, its version or the parameter does not exist, so that the caller can
 * name the variable that pointed at it; any other failure throws.
 */
export interface KeyStore {
  secret(secretId: string, versionStage?: string): Promise<string | undefined>;
  parameter(name: string): Promise<string | undefined>;
}

/** A value that names a Secrets Manager secret (in any partition: aws, aws-cn, aws-us-gov) rather than being the key. */
export const isSecretArn = (value: string): boolean => /^arn:aws(-[a-z]+)*:secretsmanager:/.test(value);

/** Key material, resolved from SSM / Secrets Manager when deployed. */
export interface Keys {
  publicKey: { id: string; pem: string };
  nextPublicKey?: { id: string; pem: string };
  apiV3Key: string;
}

/** Where loaded key material is kept between invocations: one slot per variable (see Cached). */
export interface KeyCache {
  publicKey: Cached<string>;
  nextPublicKey: Cached<string>;
  apiV3Key: Cached<string>;
  requestHashKey: Cached<string>;
  requestHashKeyPrevious: Cached<string | undefined>;
}

/** The secret `value` names (its current version), or `value` itself when it is the key. */
export async function secretOrValue(store: KeyStore, name: string, value: string): Promise<string> {
  if (!isSecretArn(value)) return value;
  const secret = await store.secret(value);
  if (secret === undefined) throw new Error(`${name}: secret ${value} does not exist`);
  return secret;
}

/**
 * SSM parameter names and secret ARNs are read from `store` (parameters decrypted), values given inline are used
 * as they are. Each value is kept `keyMaterialMaxAge` seconds in `cache`: one policy decides how long a rotated
 * key may go unseen (the extension's own cache is held to the same age: docs/deploy.md).
 */
export async function loadKeys(
  s: Settings,
  needsApiV3Key: boolean,
  cache: KeyCache,
  store: KeyStore,
): Promise<Keys> {
  const { publicKey, publicKeySha256, nextPublicKey, apiV3Key } = s.wechatpay;
  const maxAgeMs = s.keyMaterialMaxAge * 1000;
  const [pem, nextPem, apiV3] = await Promise.all([
    cache.publicKey.get(JSON.stringify([publicKey, publicKeySha256]), maxAgeMs, () =>
      publicKeyPem(store, 'WECHATPAY_PUBLIC_KEY', publicKey, publicKeySha256),
    ),
    nextPublicKey &&
      cache.nextPublicKey.get(JSON.stringify([nextPublicKey.key, nextPublicKey.sha256]), maxAgeMs, () =>
        publicKeyPem(store, 'WECHATPAY_PUBLIC_KEY_NEXT', nextPublicKey.key, nextPublicKey.sha256),
      ),
    !needsApiV3Key
      ? ''
      : isSecretArn(apiV3Key)
        ? cache.apiV3Key.get(apiV3Key, maxAgeMs, () => secretOrValue(store, 'WECHATPAY_APIV3_KEY', apiV3Key))
        : apiV3Key,
  ]);
  if (needsApiV3Key && (typeof apiV3 !== 'string' || Buffer.byteLength(apiV3) !== 32)) {
    throw new Error('WECHATPAY_APIV3_KEY must be the 32-byte APIv3 key (or a secret holding it)');
  }
  return {
    publicKey: { id: s.wechatpay.publicKeyId, pem },
    ...(nextPublicKey && nextPem ? { nextPublicKey: { id: nextPublicKey.id, pem: nextPem } } : {}),
    apiV3Key: apiV3 ?? '',
  };
}

async function publicKeyPem(
  store: KeyStore,
  name: string,
  value: string,
  sha256: string | undefined,
): Promise<string> {
  const pem = value.startsWith('-----BEGIN') ? value : await store.parameter(value);
  if (pem === undefined) throw new Error(`${name}: SSM parameter ${value} does not exist`);
  if (!pem) throw new Error(`${name}: SSM parameter ${value} is empty`);
  if (sha256) checkFingerprint(name, pem, sha256);
  return pem;
}

/** SHA-256 over the DER SubjectPublicKeyInfo, lower-case hex: what `<name>_SHA256` pins. */
export function publicKeyFingerprint(pem: string): string {
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** A pinned key that is not the one loaded (a swapped SSM parameter, a wrong paste) verifies nothing. */
function checkFingerprint(name: string, pem: string, expected: string): void {
  let actual: string;
  try {
    actual = publicKeyFingerprint(pem);
  } catch (error) {
    throw new Error(`${name} is not a public key, so ${name}_SHA256 cannot be checked`, { cause: error });
  }
  if (actual !== expected) {
    throw new Error(
      `${name} has SHA-256 fingerprint ${actual} but ${name}_SHA256 expects ${expected}: ` +
        'refusing to verify with a key other than the pinned one',
    );
  }
}
