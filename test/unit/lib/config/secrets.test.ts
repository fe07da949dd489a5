import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createRuntime } from '../../../../lib/config/runtime';
import { type KeyCache, loadKeys, publicKeyFingerprint } from '../../../../lib/config/secrets';
import { readSettings } from '../../../../lib/config/settings';
import {
  BASE_ENV,
  NEXT_PUBLIC_KEY_PARAMETER as NEXT_PARAMETER,
  PUBLIC_KEY_PARAMETER as PARAMETER,
  publicKeyPem,
  APIV3_SECRET_ARN as SECRET_ARN,
} from '../../../support/config/settings';

process.env.AWS_REGION ??= 'ap-southeast-1';

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

describe('loadKeys: SSM and Secrets Manager, each value kept POWERTOOLS_PARAMETERS_MAX_AGE on the injected clock', () => {
  const ssm = mockClient(SSMClient);
  const secrets = mockClient(SecretsManagerClient);
  let now = Date.parse('2026-11-27T00:00:00Z');
  let cache: KeyCache;

  beforeEach(() => {
    ssm.reset();
    secrets.reset();
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Value: CURRENT_PEM } });
    ssm.on(GetParameterCommand, { Name: NEXT_PARAMETER }).resolves({ Parameter: { Value: NEXT_PEM } });
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: API_V3_KEY });
    const clock = () => now;
    cache = createRuntime({ clock }).keys;
  });

  it('a secret ARN goes to getSecret and a parameter name to getParameter (decrypted)', async () => {
    const keys = await loadKeys(readSettings(BASE_ENV), true, cache);
    assert.deepEqual(keys, {
      publicKey: { id: BASE_ENV.WECHATPAY_PUBLIC_KEY_ID, pem: CURRENT_PEM },
      apiV3Key: API_V3_KEY,
    });
    const [parameterCall] = ssm.commandCalls(GetParameterCommand);
    assert.deepEqual(parameterCall?.args[0].input, { Name: PARAMETER, WithDecryption: true });
    assert.deepEqual(
      secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId),
      [SECRET_ARN],
    );
  });

  it('values given inline (local runs) are used as they are, with no AWS call', async () => {
    const settings = readSettings({
      ...BASE_ENV,
      WECHATPAY_PUBLIC_KEY: CURRENT_PEM,
      WECHATPAY_APIV3_KEY: API_V3_KEY,
    });
    const keys = await loadKeys(settings, true, cache);
    // readSettings trims every value, the PEM's final newline included.
    assert.equal(keys.publicKey.pem, CURRENT_PEM.trim());
    assert.equal(keys.apiV3Key, API_V3_KEY);
    assert.equal(ssm.calls().length + secrets.calls().length, 0);
  });

  it('a function that never decrypts does not read the secret', async () => {
    const keys = await loadKeys(readSettings(BASE_ENV), false, cache);
    assert.equal(keys.apiV3Key, '');
    assert.equal(secrets.calls().length, 0);
  });

  it('serves both from the cache within maxAge and reads them again after it', async () => {
    const settings = readSettings({ ...BASE_ENV, POWERTOOLS_PARAMETERS_MAX_AGE: '60' });
    await loadKeys(settings, true, cache);
    now += 59_000;
    await loadKeys(settings, true, cache);
    assert.equal(ssm.commandCalls(GetParameterCommand).length, 1, 'SSM read once within maxAge');
    assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 1, 'secret read once within maxAge');

    // A rotated value shows once the cached one is older than maxAge.
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Value: NEXT_PEM } });
    now += 2_000;
    const keys = await loadKeys(settings, true, cache);
    assert.equal(ssm.commandCalls(GetParameterCommand).length, 2, 'SSM read again after maxAge');
    assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 2, 'secret read again after maxAge');
    assert.equal(keys.publicKey.pem, NEXT_PEM);
  });

  it('reads the next public key from its own parameter during a key switch', async () => {
    const keys = await loadKeys(readSettings({ ...BASE_ENV, ...NEXT_ENV }), false, cache);
    assert.deepEqual(keys.nextPublicKey, { id: NEXT_ID, pem: NEXT_PEM });
    assert.deepEqual(
      ssm
        .commandCalls(GetParameterCommand)
        .map((c) => c.args[0].input.Name)
        .sort(),
      [NEXT_PARAMETER, PARAMETER].sort(),
    );
  });

  it('an empty parameter or a secret of the wrong length is refused, naming the variable, and not kept', async () => {
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Value: '' } });
    await assert.rejects(
      loadKeys(readSettings(BASE_ENV), false, cache),
      /WECHATPAY_PUBLIC_KEY: SSM parameter .* is empty/,
    );
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Value: CURRENT_PEM } });
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: 'short' });
    await assert.rejects(
      loadKeys(readSettings(BASE_ENV), true, cache),
      /WECHATPAY_APIV3_KEY must be the 32-byte/,
    );
    assert.equal(ssm.commandCalls(GetParameterCommand).length, 2, 'the failed read was retried at once');
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
    const keys = await loadKeys(settings, false, cache);
    assert.equal(keys.publicKey.pem, CURRENT_PEM);
    assert.equal(keys.nextPublicKey?.pem, NEXT_PEM);
  });

  it('a swapped key fails loading, naming both fingerprints, for the current and for the next key', async () => {
    const expected = publicKeyFingerprint(NEXT_PEM);
    const actual = publicKeyFingerprint(CURRENT_PEM);
    await assert.rejects(
      loadKeys(readSettings({ ...BASE_ENV, WECHATPAY_PUBLIC_KEY_SHA256: expected }), false, cache),
      new RegExp(
        `WECHATPAY_PUBLIC_KEY has SHA-256 fingerprint ${actual} but WECHATPAY_PUBLIC_KEY_SHA256 expects ${expected}`,
      ),
    );
    await assert.rejects(
      loadKeys(
        readSettings({ ...BASE_ENV, ...NEXT_ENV, WECHATPAY_PUBLIC_KEY_NEXT_SHA256: actual }),
        false,
        cache,
      ),
      new RegExp(`WECHATPAY_PUBLIC_KEY_NEXT has SHA-256 fingerprint ${expected} but .* expects ${actual}`),
    );
  });

  it('a pin is checked again when it changes, though the key is still cached', async () => {
    await loadKeys(readSettings(BASE_ENV), false, cache);
    const pinned = { ...BASE_ENV, WECHATPAY_PUBLIC_KEY_SHA256: publicKeyFingerprint(NEXT_PEM) };
    await assert.rejects(loadKeys(readSettings(pinned), false, cache), /expects/);
  });

  it('a pinned value that is not a public key is refused by name', async () => {
    const settings = readSettings({
      ...BASE_ENV,
      WECHATPAY_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----',
      WECHATPAY_PUBLIC_KEY_SHA256: publicKeyFingerprint(CURRENT_PEM),
    });
    await assert.rejects(
      loadKeys(settings, false, cache),
      /WECHATPAY_PUBLIC_KEY is not a public key, so WECHATPAY_PUBLIC_KEY_SHA256 cannot be checked/,
    );
  });
});
