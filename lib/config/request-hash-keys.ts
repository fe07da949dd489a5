import { isSecretArn, type KeyCache, type KeyStore, secretOrValue } from './secrets';
import type { PresignSettings } from './settings';

/** The keys of the request hash, as bytes: the current one, and during a rotation the previous one. */
export interface RequestHashKeys {
  current: Buffer;
  previous?: Buffer;
}

/** Secrets Manager's label for a secret's version before the current one (what `put-secret-value` keeps). */
const PREVIOUS_VERSION = 'AWSPREVIOUS';
/** An HMAC-SHA256 key shorter than its 32-byte output would weaken it. */
const MIN_KEY_BYTES = 32;

/**
 * REQUEST_HASH_KEY and REQUEST_HASH_KEY_PREVIOUS resolved (README "Configuration"): a secret ARN is read from
 * Secrets Manager, `AWSPREVIOUS` is the previous version of REQUEST_HASH_KEY's secret, anything else is the key
 * itself. Each is kept `maxAgeMs` in `cache`, so a rotated secret is seen within KEY_MATERIAL_MAX_AGE_S.
 */
export async function loadRequestHashKeys(
  s: PresignSettings,
  maxAgeMs: number,
  cache: KeyCache,
  store: KeyStore,
): Promise<RequestHashKeys> {
  const { requestHashKey: current, requestHashKeyPrevious: previous } = s;
  const [currentKey, previousKey] = await Promise.all([
    cache.requestHashKey.get(current, maxAgeMs, () => secretOrValue(store, 'REQUEST_HASH_KEY', current)),
    previous === undefined
      ? undefined
      : cache.requestHashKeyPrevious.get(`${current}\n${previous}`, maxAgeMs, () =>
          previous === PREVIOUS_VERSION
            ? previousVersion(store, current)
            : secretOrValue(store, 'REQUEST_HASH_KEY_PREVIOUS', previous),
        ),
  ]);
  checkKey('REQUEST_HASH_KEY', currentKey);
  if (previousKey !== undefined) checkKey('REQUEST_HASH_KEY_PREVIOUS', previousKey);
  return {
    current: Buffer.from(currentKey),
    ...(previousKey !== undefined && previousKey !== currentKey
      ? { previous: Buffer.from(previousKey) }
      : {}),
  };
}

/**
 * The version of REQUEST_HASH_KEY's secret before the current one; none before the first rotation (so that a
 * deploy may name it before `put-secret-value` makes it exist, and no replay breaks in between).
 */
async function previousVersion(store: KeyStore, current: string): Promise<string | undefined> {
  if (!isSecretArn(current)) {
    throw new Error(
      `REQUEST_HASH_KEY_PREVIOUS=${PREVIOUS_VERSION} needs REQUEST_HASH_KEY to be a secret ARN`,
    );
  }
  return store.secret(current, PREVIOUS_VERSION);
}

function checkKey(name: string, key: string): void {
  if (Buffer.byteLength(key) < MIN_KEY_BYTES) {
    throw new Error(`${name} must be at least ${MIN_KEY_BYTES} bytes (or a secret holding such a key)`);
  }
}
