import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import { uniqueCode } from '../../../support/contracts/fixtures';
import {
  type Callback,
  callback,
  chinaTime,
  SIGN_CONTRACT,
  signedContract,
  TERMINATE_CONTRACT,
  terminatedContract,
  type WechatPayKeys,
} from '../../../support/wechatpay/callbacks';
import { type NotifyHarness, startNotifyHarness } from './harness';

/** A callback built only with wechatpay-axios-plugin's primitives: an SDK nobody here wrote. */
function sdkCallback(keys: WechatPayKeys, eventType: string, resource: Record<string, unknown>): Callback {
  const id = randomUUID();
  const nonce = Formatter.nonce(12);
  const body = JSON.stringify({
    id,
    create_time: chinaTime(Date.now()),
    resource_type: 'encrypt-resource',
    event_type: eventType,
    summary: '信贷还款签约成功',
    resource: {
      original_type: 'credit_repayment',
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: Aes.AesGcm.encrypt(
        JSON.stringify(resource),
        String(keys.apiV3Key),
        nonce,
        'credit_repayment',
      ),
      associated_data: 'credit_repayment',
      nonce,
    },
  });
  const timestamp = Formatter.timestamp();
  const signatureNonce = Formatter.nonce();
  return {
    id,
    headers: {
      'Content-Type': 'application/json',
      'Wechatpay-Timestamp': String(timestamp),
      'Wechatpay-Nonce': signatureNonce,
      'Wechatpay-Signature': Rsa.sign(Formatter.response(timestamp, signatureNonce, body), keys.privateKey),
      'Wechatpay-Serial': keys.serial,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    },
    body: Buffer.from(body, 'utf8'),
  };
}

describe('notify: genuine callbacks are acknowledged and move the contract', () => {
  let h: NotifyHarness;

  before(async () => {
    h = await startNotifyHarness('accepted');
  });
  after(async () => {
    await h?.close();
  });

  /** Asserts the record carries every fact of a SIGN_CONTRACT resource, and the notification was applied. */
  async function assertSigned(code: string, resource: Record<string, unknown>, notificationId: string) {
    const item = await h.contract(code);
    assert.equal(item?.state, 'SIGNED');
    for (const field of [
      'contract_id',
      'openid',
      'contract_signed_time',
      'repayment_day',
      'repayment_amount_limit',
    ]) {
      assert.deepEqual(item?.[field], resource[field], field);
    }
    assert.equal((await h.notification(notificationId))?.outcome, 'APPLIED');
    return item;
  }

  test('fixture-signed SIGN_CONTRACT through the gateway (JSON, isBase64Encoded false): 204 and SIGNED', async () => {
    const { code } = await h.presign();
    const resource = signedContract(code);
    const cb = callback(h.keys, { resource });
    const res = await h.deliver(cb);
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const item = await assertSigned(code, resource, cb.id);
    assert.equal(item?.plan_id, '123', 'the presigned plan_id stays a string');
    assert.equal(item?.origin, 'PRESIGN');
    assert.equal(item?.version, 3, 'PRESIGNING -> PRESIGNED -> SIGNED');
  });

  test('the gateway base64-encodes a non-text body (isBase64Encoded true): 204 and SIGNED', async () => {
    const { code } = await h.presign();
    const resource = signedContract(code);
    const cb = callback(h.keys, { resource });
    const res = await h.deliver(cb, { contentType: 'application/octet-stream' });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    await assertSigned(code, resource, cb.id);
  });

  for (const isBase64Encoded of [false, true]) {
    test(`handler(event) with isBase64Encoded ${isBase64Encoded}: 204 and SIGNED`, async () => {
      const { code } = await h.presign();
      const resource = signedContract(code);
      const cb = callback(h.keys, { resource });
      const res = await h.invoke(cb, { isBase64Encoded });
      assert.equal(res.status, 204, JSON.stringify(res.body));
      await assertSigned(code, resource, cb.id);
    });
  }

  test('signed and encrypted by wechatpay-axios-plugin: SIGN then TERMINATE both applied', async () => {
    const { code } = await h.presign();
    const signed = signedContract(code);
    const sign = sdkCallback(h.keys, SIGN_CONTRACT, signed);
    assert.equal((await h.deliver(sign)).status, 204);
    await assertSigned(code, signed, sign.id);

    const terminated = terminatedContract(signed);
    const terminate = sdkCallback(h.keys, TERMINATE_CONTRACT, terminated);
    const res = await h.invoke(terminate, { isBase64Encoded: true });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const item = await h.contract(code);
    assert.equal(item?.state, 'TERMINATED');
    assert.equal(item?.contract_terminated_mode, 'TERMINATION_MODE_USER');
    assert.equal(item?.contract_termination_remark, '用户解约');
    assert.equal(item?.contract_terminated_time, terminated.contract_terminated_time);
    assert.equal((await h.notification(terminate.id))?.outcome, 'APPLIED');
  });

  test('a code we have no record of is created from WeChat Pay data (origin CALLBACK), plan_id as a string', async () => {
    const code = uniqueCode('CB');
    const resource = signedContract(code, { plan_id: 4567, repayment_day: 28 });
    const cb = callback(h.keys, { resource });
    const res = await h.deliver(cb);
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const item = await assertSigned(code, resource, cb.id);
    assert.equal(item?.origin, 'CALLBACK');
    assert.equal(item?.plan_id, '4567');
    assert.equal(item?.appid, resource.appid);
    assert.equal(item?.display_name, resource.display_name);
    assert.equal(item?.version, 1);
    assert.equal(item?.request_hash, undefined);
  });

  test('events: SIGN then TERMINATE publish ContractSigned then ContractTerminated once each, without PII', async () => {
    const { code } = await h.presign();
    const signed = signedContract(code);
    const terminated = terminatedContract(signed);
    assert.equal((await h.deliver(callback(h.keys, { resource: signed }))).status, 204);
    assert.equal(
      (await h.deliver(callback(h.keys, { eventType: TERMINATE_CONTRACT, resource: terminated }))).status,
      204,
    );
    await h.stack.drainEvents();
    const events = h.stack.events.filter((e) => e.detail.out_contract_code === code);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ContractPresigned', 'ContractSigned', 'ContractTerminated'],
    );
    const [, signedEvent, terminatedEvent] = events;
    assert.equal(signedEvent?.detail.contract_id, signed.contract_id);
    assert.equal(signedEvent?.detail.previous_state, 'PRESIGNED');
    assert.equal(terminatedEvent?.detail.contract_terminated_mode, 'TERMINATION_MODE_USER');
    const all = JSON.stringify(h.stack.events);
    assert.ok(!all.includes(String(signed.openid)), 'no openid in any event');
    for (const e of h.stack.events) {
      for (const field of ['openid', 'real_name', 'identity_id', 'real_identity']) {
        assert.ok(!(field in e.detail), `${e.type} detail has no ${field}`);
      }
    }
  });
});
