import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { NotificationRejected, SignatureInvalid } from '../../../../lib/errors';
import { openNotification } from '../../../../lib/wechatpay/notification';
import { Verifier } from '../../../../lib/wechatpay/verifier';
import { sealResource, signMessage } from '../../../support/wechatpay/callbacks';
import { V2 } from '../../../support/wechatpay/vectors';

const V2_CERT = V2.platform_certificate_pem;
const V2_HEADERS = V2.headers;
const V2_BODY = V2.body;
const V2_AT = V2.verify_at_unix;

// V2: wechatpay-go core/notify/notify_test.go; its resource is sealed with a 16-byte (AES-128) key.
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SERIAL = 'PUB_KEY_ID_0114232134912410000000000000';
const NOW = 1_700_000_000;
const API_V3_KEY = Buffer.from('abcdefghijABCDEFGHIJ0123456789xy');
const verifier = new Verifier([[SERIAL, platform.publicKey]], { clock: () => NOW * 1000 });
const deps = { verifier, apiV3Key: API_V3_KEY };
const seal = (plaintext: string, nonce: string, aad: string): string =>
  sealResource(API_V3_KEY, plaintext, nonce, aad).toString('base64');

const PAYLOAD = {
  sp_mchid: '1900000001',
  contract_id: 'CID1',
  plan_id: 123,
  out_contract_code: 'C1',
  contract_state: 'CONTRACT_STATE_EFFECTIVE',
  repayment_amount_limit: '100000',
};

function envelope(
  overrides: { resource?: Record<string, unknown>; [k: string]: unknown } = {},
): Record<string, unknown> {
  const nonce = 'fdasflkja484';
  const { resource, ...rest } = overrides;
  return {
    id: 'EV-2018-06-08_0000000000',
    create_time: '2026-11-27T10:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: 'CREDIT_REPAYMENT.SIGN_CONTRACT',
    summary: '签约成功',
    resource: {
      original_type: 'credit_repayment',
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: seal(JSON.stringify(PAYLOAD), nonce, 'credit_repayment'),
      associated_data: 'credit_repayment',
      nonce,
      ...resource,
    },
    ...rest,
  };
}

/** A callback as WeChat Pay would deliver it: the raw body, signed, with headers in its casing. */
function callback(body: string | Buffer): { headers: Record<string, string>; body: Buffer } {
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const nonce = 'n0nce000000000000000000000000000';
  const signature = signMessage(platform.privateKey, String(NOW), nonce, raw);
  return {
    headers: {
      'Wechatpay-Timestamp': String(NOW),
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signature,
      'Wechatpay-Serial': SERIAL,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
      'Request-ID': 'RID-1',
    },
    body: raw,
  };
}

function fails(
  error: typeof NotificationRejected | typeof SignatureInvalid,
  input: ReturnType<typeof callback>,
  message: RegExp,
) {
  assert.throws(
    () => openNotification(input, deps),
    (e: unknown) => {
      assert.ok(e instanceof error, `expected ${error.name}, got ${String(e)}`);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('openNotification', () => {
  it('verifies, parses and decrypts a signed callback', () => {
    const { envelope: env, resource } = openNotification(
      callback(JSON.stringify(envelope({ extra: 1 }))),
      deps,
    );
    assert.deepEqual(resource, PAYLOAD);
    assert.deepEqual(env, {
      id: 'EV-2018-06-08_0000000000',
      create_time: '2026-11-27T10:00:00+08:00',
      event_type: 'CREDIT_REPAYMENT.SIGN_CONTRACT',
      resource_type: 'encrypt-resource',
      summary: '签约成功',
      resource: {
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: (envelope().resource as { ciphertext: string }).ciphertext,
        nonce: 'fdasflkja484',
        associated_data: 'credit_repayment',
        original_type: 'credit_repayment',
      },
    });
  });

  it('accepts an empty associated_data and no summary', () => {
    const nonce = 'fdasflkja484';
    const ciphertext = seal('{"a":1}', nonce, '');
    const body = envelope({
      summary: undefined,
      resource: { ciphertext, associated_data: '', original_type: undefined },
    });
    const { envelope: env, resource } = openNotification(callback(JSON.stringify(body)), deps);
    assert.deepEqual(resource, { a: 1 });
    assert.equal(env.summary, undefined);
    assert.equal(env.resource.associated_data, '');
  });

  it('rejects a tampered body with SignatureInvalid before looking inside', () => {
    const input = callback(JSON.stringify(envelope()));
    const tampered = Buffer.from(input.body);
    tampered[tampered.length - 2] = 0x20;
    fails(SignatureInvalid, { ...input, body: tampered }, /does not match/);
    fails(SignatureInvalid, { ...input, body: Buffer.from('not json at all') }, /does not match/);
    const { 'Wechatpay-Signature': _, ...unsigned } = input.headers;
    fails(SignatureInvalid, { ...input, headers: unsigned }, /missing Wechatpay-Signature header/);
  });

  it('rejects a resource whose associated_data is not the one it was sealed with', () => {
    fails(
      NotificationRejected,
      callback(JSON.stringify(envelope({ resource: { associated_data: 'payscore' } }))),
      /failed AES-256-GCM authentication/,
    );
  });

  it('rejects bodies that are empty, not JSON, or not an envelope, naming the field', () => {
    fails(NotificationRejected, callback(''), /^notification body is empty$/);
    fails(NotificationRejected, callback('{"id":'), /^notification body is not JSON$/);
    fails(NotificationRejected, callback('[]'), /^notification body is not a JSON object$/);
    fails(
      NotificationRejected,
      callback(JSON.stringify(envelope({ event_type: undefined }))),
      /^notification event_type is missing$/,
    );
    fails(
      NotificationRejected,
      callback(JSON.stringify(envelope({ id: 7 }))),
      /^notification id is not a non-empty string$/,
    );
    fails(
      NotificationRejected,
      callback(JSON.stringify(envelope({ resource: { nonce: undefined } }))),
      /^notification resource\.nonce is missing$/,
    );
    fails(
      NotificationRejected,
      callback(JSON.stringify({ ...envelope(), resource: 'x' })),
      /^notification resource is missing or not an object$/,
    );
    fails(
      NotificationRejected,
      callback(JSON.stringify(envelope({ resource: { associated_data: 1 } }))),
      /resource\.associated_data is not a non-empty string/,
    );
  });

  it('rejects another algorithm', () => {
    fails(
      NotificationRejected,
      callback(JSON.stringify(envelope({ resource: { algorithm: 'AEAD_SM4_GCM' } }))),
      /^resource\.algorithm "AEAD_SM4_GCM" is not AEAD_AES_256_GCM$/,
    );
  });

  it('rejects a plaintext that is not JSON', () => {
    const ciphertext = seal('not json', 'fdasflkja484', 'credit_repayment');
    fails(
      NotificationRejected,
      callback(JSON.stringify(envelope({ resource: { ciphertext } }))),
      /^decrypted resource is not JSON$/,
    );
  });

  it('V2: the published callback passes verification and then fails decryption with its 16-byte key', () => {
    const v2 = new Verifier([['D7CE59D1F522D701', V2_CERT]], { clock: () => V2_AT * 1000 });
    assert.throws(
      () =>
        openNotification(
          { headers: V2_HEADERS, body: Buffer.from(V2_BODY) },
          { verifier: v2, apiV3Key: Buffer.from('testMchAPIv3Key0') },
        ),
      (e: unknown) => e instanceof NotificationRejected && /APIv3 key is 16 bytes/.test(e.message),
    );
    const late = new Verifier([['D7CE59D1F522D701', V2_CERT]], { clock: () => (V2_AT + 300) * 1000 });
    assert.throws(
      () =>
        openNotification(
          { headers: V2_HEADERS, body: Buffer.from(V2_BODY) },
          { verifier: late, apiV3Key: API_V3_KEY },
        ),
      SignatureInvalid,
    );
  });
});
