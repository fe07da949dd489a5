import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { createRuntime } from '../../../../lib/config/runtime';
import { type KeyCache, loadKeys, publicKeyFingerprint } from '../../../../lib/config/secrets';
import { readSettings } from '../../../../lib/config/settings';
import { MemoryKeyStore } from '../../../support/config/key-store';
import {
  BASE_ENV,
  NEXT_PUBLIC_KEY_PARAMETER as NEXT_PARAMETER,
  PUBLIC_KEY_PARAMETER as PARAMETER,
  publicKeyPem,
  APIV3_SECRET_ARN as SECRET_ARN,
} from '../../../support/config/settings';

const CURRENT_PEM = publicKeyPem();
const NEXT_PEM = publicKeyPem();
const API_V3_KEY = 'k'.repeat(32);
const NEXT_ID = 'PUB_KEY_ID_0114232134912410000000000001';
const NEXT_ENV = { WECHATPAY_PUBLIC_KEY_NEXT_ID: NEXT_ID, WECHATPAY_PUBLIC_KEY_NEXT: NEXT_PARAMETER };

/** The fingerprint as `openssl pkey -pubin -outform DER | openssl dgst -sha256 -c` prints it, upper-cased. */
const opensslStyle = (key: string): string =>
  createHash('sha256')
    .update(createPublicKey(key).export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');

describe('loadKeys: SSM and Secrets Manager, each value kept KEY_MATERIAL_MAX_AGE_S on the injected clock', () => {
  let now = Date.parse('2026-11-27T00:00:00Z');
  let cache: KeyCache;
  let store: MemoryKeyStore;
  const load = (env: NodeJS.ProcessEnv, needsApiV3Key: boolean) =>
    loadKeys(readSettings(env), needsApiV3Key, cache, store);

  beforeEach(() => {
    store = new MemoryKeyStore()
      .putParameter(PARAMETER, CURRENT_PEM)
      .putParameter(NEXT_PARAMETER, NEXT_PEM)
      .putSecret(SECRET_ARN, API_V3_KEY);
    const clock = () => now;
    cache = createRuntime({ clock }).keys;
  });

  it('a secret ARN is read as a secret and a parameter name as a parameter', async () => {
    const keys = await load(BASE_ENV, true);
    assert.deepEqual(keys, {
      publicKey: { id: BASE_ENV.WECHATPAY_PUBLIC_KEY_ID, pem: CURRENT_PEM },
      apiV3Key: API_V3_KEY,
    });
    assert.deepEqual(store.reads.sort(), [`parameter ${PARAMETER}`, `secret ${SECRET_ARN} AWSCURRENT`]);
  });

  it('a secret ARN of any partition is read as a secret; a key that merely contains one is a key', async () => {
    const china = 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:apiv3-AbCdEf';
    store.putSecret(china, API_V3_KEY);
    assert.equal((await load({ ...BASE_ENV, WECHATPAY_APIV3_KEY: china }, true)).apiV3Key, API_V3_KEY);
    const key = 'xarn:aws:secretsmanager:01234567';
    assert.equal(key.length, 32);
    assert.equal((await load({ ...BASE_ENV, WECHATPAY_APIV3_KEY: key }, true)).apiV3Key, key);
  });

  it('values given inline (local runs) are used as they are, with no AWS call', async () => {
    const settings = readSettings({
      ...BASE_ENV,
      WECHATPAY_PUBLIC_KEY: CURRENT_PEM,
      WECHATPAY_APIV3_KEY: API_V3_KEY,
    });
    const keys = await loadKeys(settings, true, cache, store);
    // readSettings trims every value, the PEM's final newline included.
    assert.equal(keys.publicKey.pem, CURRENT_PEM.trim());
    assert.equal(keys.apiV3Key, API_V3_KEY);
    assert.deepEqual(store.reads, []);
  });

  it('a function that never decrypts does not read the secret', async () => {
    const keys = await load(BASE_ENV, false);
    assert.equal(keys.apiV3Key, '');
    assert.equal(store.count('secret'), 0);
  });

  it('serves both from the cache within maxAge and reads them again after it', async () => {
    const env = { ...BASE_ENV, KEY_MATERIAL_MAX_AGE_S: '60' };
    await load(env, true);
    now += 59_000;
    await load(env, true);
    assert.equal(store.count('parameter'), 1, 'SSM read once within maxAge');
    assert.equal(store.count('secret'), 1, 'secret read once within maxAge');

    // A rotated value shows once the cached one is older than maxAge.
    store.putParameter(PARAMETER, NEXT_PEM);
    now += 2_000;
    const keys = await load(env, true);
    assert.equal(store.count('parameter'), 2, 'SSM read again after maxAge');
    assert.equal(store.count('secret'), 2, 'secret read again after maxAge');
    assert.equal(keys.publicKey.pem, NEXT_PEM);
  });

  it('reads the next public key from its own parameter during a key switch', async () => {
    const keys = await load({ ...BASE_ENV, ...NEXT_ENV }, false);
    assert.deepEqual(keys.nextPublicKey, { id: NEXT_ID, pem: NEXT_PEM });
    assert.deepEqual(store.reads.sort(), [`parameter ${NEXT_PARAMETER}`, `parameter ${PARAMETER}`].sort());
  });

  it('an empty parameter or a secret of the wrong length is refused, naming the variable, and not kept', async () => {
    store.putParameter(PARAMETER, '');
    await assert.rejects(load(BASE_ENV, false), /WECHATPAY_PUBLIC_KEY: SSM parameter .* is empty/);
    store.putParameter(PARAMETER, CURRENT_PEM);
    store.putSecret(SECRET_ARN, 'short');
    await assert.rejects(load(BASE_ENV, true), /WECHATPAY_APIV3_KEY must be the 32-byte/);
    assert.equal(store.count('parameter'), 2, 'the failed read was retried at once');
  });

  it('a parameter or secret that does not exist is refused, naming the variable and what it names', async () => {
    store.parameters.delete(PARAMETER);
    await assert.rejects(
      load(BASE_ENV, false),
      new RegExp(`^Error: WECHATPAY_PUBLIC_KEY: SSM parameter ${PARAMETER} does not exist$`),
    );
    store.putParameter(PARAMETER, CURRENT_PEM);
    store.secrets.delete(SECRET_ARN);
    await assert.rejects(
      load(BASE_ENV, true),
      new RegExp(`^Error: WECHATPAY_APIV3_KEY: secret ${SECRET_ARN} does not exist$`),
    );
  });

  it('a pinned fingerprint (any case, with or without colons) lets the expected key through', async () => {
    assert.equal(
      publicKeyFingerprint(CURRENT_PEM),
      opensslStyle(CURRENT_PEM).replaceAll(':', '').toLowerCase(),
    );
    const settings = readSettings({
      ...BASE_ENV,
      ...NEXT_ENV,
      WECHATPAY_PUBLIC_KEY_SHA256: opensslStyle(CURRENT_PEM),
      WECHATPAY_PUBLIC_KEY_NEXT_SHA256: publicKeyFingerprint(NEXT_PEM),
    });
    const keys = await loadKeys(settings, false, cache, store);
    assert.equal(keys.publicKey.pem, CURRENT_PEM);
    assert.equal(keys.nextPublicKey?.pem, NEXT_PEM);
  });

  it('a swapped key fails loading, naming both fingerprints, for the current and for the next key', async () => {
    const expected = publicKeyFingerprint(NEXT_PEM);
    const actual = publicKeyFingerprint(CURRENT_PEM);
    await assert.rejects(
      loadKeys(readSettings({ ...BASE_ENV, WECHATPAY_PUBLIC_KEY_SHA256: expected }), false, cache, store),
      new RegExp(
        `WECHATPAY_PUBLIC_KEY has SHA-256 fingerprint ${actual} but WECHATPAY_PUBLIC_KEY_SHA256 expects ${expected}`,
      ),
    );
    await assert.rejects(
      loadKeys(
        readSettings({ ...BASE_ENV, ...NEXT_ENV, WECHATPAY_PUBLIC_KEY_NEXT_SHA256: actual }),
        false,
        cache,
        store,
      ),
      new RegExp(`WECHATPAY_PUBLIC_KEY_NEXT has SHA-256 fingerprint ${expected} but .* expects ${actual}`),
    );
  });

  it('a pin is checked again when it changes, though the key is still cached', async () => {
    await loadKeys(readSettings(BASE_ENV), false, cache, store);
    const pinned = { ...BASE_ENV, WECHATPAY_PUBLIC_KEY_SHA256: publicKeyFingerprint(NEXT_PEM) };
    await assert.rejects(loadKeys(readSettings(pinned), false, cache, store), /expects/);
  });

  it('a pinned value that is not a public key is refused by name', async () => {
    const settings = readSettings({
      ...BASE_ENV,
      WECHATPAY_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----',
      WECHATPAY_PUBLIC_KEY_SHA256: publicKeyFingerprint(CURRENT_PEM),
    });
    await assert.rejects(
      loadKeys(settings, false, cache, store),
      /WECHATPAY_PUBLIC_KEY is not a public key, so WECHATPAY_PUBLIC_KEY_SHA256 cannot be checked/,
    );
  });
});
