import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  readAppSubMerchantField,
  readEventSettings,
  readExtensionSettings,
  readPresignSettings,
  readSettings,
  readStage,
} from '../../../../lib/config/settings';
import { BASE_ENV, NEXT_PUBLIC_KEY_PARAMETER as NEXT_PARAMETER } from '../../../support/config/settings';

const NEXT_PEM = '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----';
const NEXT_ID = 'PUB_KEY_ID_0114232134912410000000000001';
const SHA256 = 'a'.repeat(64);

describe('readSettings: key-mode configuration', () => {
  it('reads the cache age and leaves certificate mode and the next key off by default', () => {
    const s = readSettings(BASE_ENV);
    assert.equal(s.keyMaterialMaxAge, 300);
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
      () => readSettings({ ...BASE_ENV, WECHATPAY_TIMEOUT_MS: '5s', KEY_MATERIAL_MAX_AGE_S: '-1' }),
      /WECHATPAY_TIMEOUT_MS=5s is not a positive integer; KEY_MATERIAL_MAX_AGE_S=-1 is not a positive integer/,
    );
  });

  it('KEY_MATERIAL_MAX_AGE_S, or alone its former name POWERTOOLS_PARAMETERS_MAX_AGE; the two must agree', () => {
    const { KEY_MATERIAL_MAX_AGE_S: _unset, ...env } = BASE_ENV;
    assert.equal(readSettings({ ...env, KEY_MATERIAL_MAX_AGE_S: '60' }).keyMaterialMaxAge, 60);
    assert.equal(readSettings({ ...env, POWERTOOLS_PARAMETERS_MAX_AGE: '120' }).keyMaterialMaxAge, 120);
    assert.equal(
      readSettings({ ...env, KEY_MATERIAL_MAX_AGE_S: '90', POWERTOOLS_PARAMETERS_MAX_AGE: '90' })
        .keyMaterialMaxAge,
      90,
    );
    assert.throws(
      () => readSettings({ ...env, KEY_MATERIAL_MAX_AGE_S: '60', POWERTOOLS_PARAMETERS_MAX_AGE: '300' }),
      /POWERTOOLS_PARAMETERS_MAX_AGE=300 contradicts KEY_MATERIAL_MAX_AGE_S=60/,
    );
    assert.throws(
      () => readSettings({ ...env, POWERTOOLS_PARAMETERS_MAX_AGE: '5m' }),
      /POWERTOOLS_PARAMETERS_MAX_AGE=5m is not a positive integer/,
    );
  });

  it('the extension: PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (2773) and the session token it checks', () => {
    assert.deepEqual(readExtensionSettings({}), { port: 2773 });
    assert.deepEqual(
      readExtensionSettings({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2774', AWS_SESSION_TOKEN: ' t ' }),
      { port: 2774, token: 't' },
    );
    for (const port of ['0', '65536', 'http']) {
      assert.throws(
        () => readExtensionSettings({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port }),
        /PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=\S+ is not a (positive integer|port)/,
      );
    }
  });

  it("reconcile's SIGNED cycle: RECONCILE_SIGNED_INTERVAL_S in seconds, a day by default", () => {
    assert.equal(readSettings(BASE_ENV).signedRecheckMs, 86_400_000);
    assert.equal(
      readSettings({ ...BASE_ENV, RECONCILE_SIGNED_INTERVAL_S: '3600' }).signedRecheckMs,
      3_600_000,
    );
    assert.throws(
      () => readSettings({ ...BASE_ENV, RECONCILE_SIGNED_INTERVAL_S: '1d' }),
      /RECONCILE_SIGNED_INTERVAL_S=1d is not a positive integer/,
    );
  });

  it('the next public key needs both its id and its key, and another id than the current one', () => {
    const next = readSettings({
      ...BASE_ENV,
      WECHATPAY_PUBLIC_KEY_NEXT_ID: NEXT_ID,
      WECHATPAY_PUBLIC_KEY_NEXT: NEXT_PARAMETER,
    }).wechatpay.nextPublicKey;
    assert.deepEqual(next, { id: NEXT_ID, key: NEXT_PARAMETER });
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

describe('readSettings: public key fingerprints', () => {
  const colons = `${'AB:'.repeat(31)}AB`;

  it('are optional, and kept as lower-case hex without separators', () => {
    assert.equal(readSettings(BASE_ENV).wechatpay.publicKeySha256, undefined);
    const s = readSettings({
      ...BASE_ENV,
      WECHATPAY_PUBLIC_KEY_SHA256: colons,
      WECHATPAY_PUBLIC_KEY_NEXT_ID: NEXT_ID,
      WECHATPAY_PUBLIC_KEY_NEXT: NEXT_PARAMETER,
      WECHATPAY_PUBLIC_KEY_NEXT_SHA256: SHA256.toUpperCase(),
    });
    assert.equal(s.wechatpay.publicKeySha256, 'ab'.repeat(32));
    assert.deepEqual(s.wechatpay.nextPublicKey, { id: NEXT_ID, key: NEXT_PARAMETER, sha256: SHA256 });
  });

  it('refuses what is not 64 hex digits, naming the variable and the rule', () => {
    for (const bad of [SHA256.slice(1), `${SHA256}00`, 'g'.repeat(64), 'sha256:'.concat(SHA256)]) {
      assert.throws(
        () => readSettings({ ...BASE_ENV, WECHATPAY_PUBLIC_KEY_SHA256: bad }),
        /WECHATPAY_PUBLIC_KEY_SHA256=.* is not a SHA-256 fingerprint \(64 hex digits, optionally separated by ':'\)/,
        bad,
      );
    }
  });

  it("the next key's fingerprint needs the next key", () => {
    assert.throws(
      () => readSettings({ ...BASE_ENV, WECHATPAY_PUBLIC_KEY_NEXT_SHA256: SHA256 }),
      /WECHATPAY_PUBLIC_KEY_NEXT_SHA256 is set but WECHATPAY_PUBLIC_KEY_NEXT is not/,
    );
  });
});

describe('settings per concern', () => {
  it('the publisher and the outbox: EVENT_BUS_NAME, absent when unset or blank, and the table of kept events', () => {
    const table = { CONTRACTS_TABLE: 't' };
    assert.deepEqual(readEventSettings(table), { contractsTable: 't' });
    assert.deepEqual(readEventSettings({ ...table, EVENT_BUS_NAME: '  ' }), { contractsTable: 't' });
    assert.deepEqual(readEventSettings({ ...table, EVENT_BUS_NAME: ' bus ' }), {
      eventBusName: 'bus',
      contractsTable: 't',
    });
    assert.throws(
      () => readEventSettings({ EVENT_BUS_NAME: 'bus' }),
      /missing configuration: CONTRACTS_TABLE/,
    );
  });

  it('STAGE, local by default', () => {
    assert.equal(readStage({}), 'local');
    assert.equal(readStage({ STAGE: ' ' }), 'local');
    assert.equal(readStage({ STAGE: 'prod' }), 'prod');
  });

  it("the WeChat Pay functions' settings hold neither the bus nor the stage", () => {
    const s = readSettings({ ...BASE_ENV, EVENT_BUS_NAME: 'bus', STAGE: 'prod' });
    assert.deepEqual(Object.keys(s).sort(), [
      'contractsTable',
      'keyMaterialMaxAge',
      'notificationsTable',
      'signedRecheckMs',
      'wechatpay',
    ]);
  });
});

describe('readPresignSettings', () => {
  it('PRESIGN_TIMEOUT_S: the function’s own timeout, 29 s by default, a positive integer', () => {
    const key = { REQUEST_HASH_KEY: 'k'.repeat(32) };
    assert.equal(readPresignSettings(key).timeoutS, 29);
    assert.equal(readPresignSettings({ ...key, PRESIGN_TIMEOUT_S: '10' }).timeoutS, 10);
    assert.throws(
      () => readPresignSettings({ ...key, PRESIGN_TIMEOUT_S: '2.5' }),
      /PRESIGN_TIMEOUT_S=2.5 is not a positive integer/,
    );
  });

  it('WECHATPAY_APP_SUB_MCHID_FIELD: sub_mchid by default, or sub_merchant_code, nothing else', () => {
    const key = { REQUEST_HASH_KEY: 'k'.repeat(32) };
    assert.equal(readPresignSettings(key).appSubMerchantField, 'sub_mchid');
    assert.equal(readAppSubMerchantField({}), 'sub_mchid');
    assert.equal(
      readPresignSettings({ ...key, WECHATPAY_APP_SUB_MCHID_FIELD: 'sub_merchant_code' }).appSubMerchantField,
      'sub_merchant_code',
    );
    assert.throws(
      () => readAppSubMerchantField({ WECHATPAY_APP_SUB_MCHID_FIELD: 'subMchid' }),
      /WECHATPAY_APP_SUB_MCHID_FIELD is "subMchid", not sub_mchid or sub_merchant_code/,
    );
  });
});
