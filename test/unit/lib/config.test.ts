import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { loadKeys, readSettings } from '../../../lib/config';

process.env.AWS_REGION ??= 'ap-southeast-1';

const pem = (): string =>
  generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
const CURRENT_PEM = pem();
const NEXT_PEM = pem();
const API_V3_KEY = 'k'.repeat(32);
const SECRET_ARN = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:wechatpay-apiv3-key-AbCdEf';
const PARAMETER = '/wechatpay-credit-repayment/test/wechatpay-public-key';
const NEXT_PARAMETER = '/wechatpay-credit-repayment/test/wechatpay-public-key-next';

const BASE_ENV = {
  WECHATPAY_MCHID: '1900000001',
  WECHATPAY_MERCHANT_SERIAL_NO: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0114232134912410000000000000',
  WECHATPAY_PUBLIC_KEY: PARAMETER,
  WECHATPAY_APIV3_KEY: SECRET_ARN,
  WECHATPAY_NOTIFY_URL: 'https://example.com/wechatpay/notifications',
  CONTRACTS_TABLE: 'contracts',
  NOTIFICATIONS_TABLE: 'notifications',
  POWERTOOLS_PARAMETERS_MAX_AGE: '300',
};

describe('readSettings: key-mode configuration', () => {
  it('reads the cache age and leaves certificate mode and the next key off by default', () => {
    const s = readSettings(BASE_ENV);
    assert.equal(s.parametersMaxAge, 300);
    assert.equal(s.wechatpay.platformCertificates, false);
    assert.equal(s.wechatpay.nextPublicKey, undefined);
  });

  it('WECHATPAY_PLATFORM_CERTIFICATES is enabled or disabled, nothing else', () => {
    assert.equal(
      readSettings({ ...BASE_ENV, WECHATPAY_PLATFORM_CERTIFICATES: 'enabled' }).wechatpay
        .platformCertificates,
      true,
    );
    assert.equal(
      readSettings({ ...BASE_ENV, WECHATPAY_PLATFORM_CERTIFICATES: 'disabled' }).wechatpay
        .platformCertificates,
      false,
    );
    assert.throws(
      () => readSettings({ ...BASE_ENV, WECHATPAY_PLATFORM_CERTIFICATES: 'true' }),
      /WECHATPAY_PLATFORM_CERTIFICATES is "true", not enabled or disabled/,
    );
  });

  it('names every missing variable, and refuses timeouts and cache ages that are not positive integers', () => {
    const { WECHATPAY_MCHID: _m, CONTRACTS_TABLE: _c, ...partial } = BASE_ENV;
    assert.throws(() => readSettings(partial), /missing configuration: WECHATPAY_MCHID, CONTRACTS_TABLE/);
    assert.equal(readSettings({ ...BASE_ENV, WECHATPAY_TIMEOUT_MS: '1500' }).wechatpay.timeoutMs, 1500);
    assert.throws(
      () => readSettings({ ...BASE_ENV, WECHATPAY_TIMEOUT_MS: '5s', POWERTOOLS_PARAMETERS_MAX_AGE: '-1' }),
      /WECHATPAY_TIMEOUT_MS=5s is not a positive integer; POWERTOOLS_PARAMETERS_MAX_AGE=-1 is not a positive integer/,
    );
  });

  it('the next public key needs both its id and its key, and another id than the current one', () => {
    const next = readSettings({
      ...BASE_ENV,
      WECHATPAY_PUBLIC_KEY_NEXT_ID: 'PUB_KEY_ID_0114232134912410000000000001',
      WECHATPAY_PUBLIC_KEY_NEXT: NEXT_PARAMETER,
    }).wechatpay.nextPublicKey;
    assert.deepEqual(next, { id: 'PUB_KEY_ID_0114232134912410000000000001', key: NEXT_PARAMETER });
    assert.throws(
      () => readSettings({ ...BASE_ENV, WECHATPAY_PUBLIC_KEY_NEXT_ID: 'PUB_KEY_ID_01' }),
      /WECHATPAY_PUBLIC_KEY_NEXT_ID is set but WECHATPAY_PUBLIC_KEY_NEXT is not/,
    );
    assert.throws(
      () => readSettings({ ...BASE_ENV, WECHATPAY_PUBLIC_KEY_NEXT: NEXT_PEM }),
      /WECHATPAY_PUBLIC_KEY_NEXT is set but WECHATPAY_PUBLIC_KEY_NEXT_ID is not/,
    );
    assert.throws(
      () =>
        readSettings({
          ...BASE_ENV,
          WECHATPAY_PUBLIC_KEY_NEXT_ID: BASE_ENV.WECHATPAY_PUBLIC_KEY_ID,
          WECHATPAY_PUBLIC_KEY_NEXT: NEXT_PEM,
        }),
      /WECHATPAY_PUBLIC_KEY_NEXT_ID repeats WECHATPAY_PUBLIC_KEY_ID/,
    );
  });
});

describe('loadKeys: Secrets Manager and SSM through Powertools Parameters, cached for maxAge', () => {
  const ssm = mockClient(SSMClient);
  const secrets = mockClient(SecretsManagerClient);
  const start = Date.parse('2026-11-27T00:00:00Z');

  beforeEach(() => {
    clearCaches();
    ssm.reset();
    secrets.reset();
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Value: CURRENT_PEM } });
    ssm.on(GetParameterCommand, { Name: NEXT_PARAMETER }).resolves({ Parameter: { Value: NEXT_PEM } });
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: API_V3_KEY });
    mock.timers.enable({ apis: ['Date'], now: start });
  });
  afterEach(() => mock.timers.reset());

  it('a secret ARN goes to getSecret and a parameter name to getParameter (decrypted)', async () => {
    const keys = await loadKeys(readSettings(BASE_ENV), true);
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
    const keys = await loadKeys(
      readSettings({ ...BASE_ENV, WECHATPAY_PUBLIC_KEY: CURRENT_PEM, WECHATPAY_APIV3_KEY: API_V3_KEY }),
      true,
    );
    // readSettings trims every value, the PEM's final newline included.
    assert.equal(keys.publicKey.pem, CURRENT_PEM.trim());
    assert.equal(keys.apiV3Key, API_V3_KEY);
    assert.equal(ssm.calls().length + secrets.calls().length, 0);
  });

  it('a function that never decrypts does not read the secret', async () => {
    const keys = await loadKeys(readSettings(BASE_ENV), false);
    assert.equal(keys.apiV3Key, '');
    assert.equal(secrets.calls().length, 0);
  });

  it('serves both from the cache within maxAge and reads them again after it', async () => {
    const settings = readSettings({ ...BASE_ENV, POWERTOOLS_PARAMETERS_MAX_AGE: '60' });
    await loadKeys(settings, true);
    mock.timers.tick(59_000);
    await loadKeys(settings, true);
    assert.equal(ssm.commandCalls(GetParameterCommand).length, 1, 'SSM read once within maxAge');
    assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 1, 'secret read once within maxAge');

    // A rotated value shows once the cached one is older than maxAge.
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Value: NEXT_PEM } });
    mock.timers.tick(2_000);
    const keys = await loadKeys(settings, true);
    assert.equal(ssm.commandCalls(GetParameterCommand).length, 2, 'SSM read again after maxAge');
    assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 2, 'secret read again after maxAge');
    assert.equal(keys.publicKey.pem, NEXT_PEM);
  });

  it('reads the next public key from its own parameter during a key switch', async () => {
    const keys = await loadKeys(
      readSettings({
        ...BASE_ENV,
        WECHATPAY_PUBLIC_KEY_NEXT_ID: 'PUB_KEY_ID_0114232134912410000000000001',
        WECHATPAY_PUBLIC_KEY_NEXT: NEXT_PARAMETER,
      }),
      false,
    );
    assert.deepEqual(keys.nextPublicKey, { id: 'PUB_KEY_ID_0114232134912410000000000001', pem: NEXT_PEM });
    assert.deepEqual(
      ssm
        .commandCalls(GetParameterCommand)
        .map((c) => c.args[0].input.Name)
        .sort(),
      [NEXT_PARAMETER, PARAMETER].sort(),
    );
  });

  it('an empty parameter or a secret of the wrong length is refused, naming the variable', async () => {
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Value: '' } });
    await assert.rejects(
      loadKeys(readSettings(BASE_ENV), false),
      /WECHATPAY_PUBLIC_KEY: SSM parameter .* is empty/,
    );
    clearCaches();
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Value: CURRENT_PEM } });
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: 'short' });
    await assert.rejects(loadKeys(readSettings(BASE_ENV), true), /WECHATPAY_APIV3_KEY must be the 32-byte/);
  });
});
