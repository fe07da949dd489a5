import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callback,
  resend,
  SIGN_CONTRACT,
  signedContract,
  TERMINATE_CONTRACT,
  terminatedContract,
} from '../../../support/wechatpay/callbacks';
import { type NotifyHarness, startNotifyHarness } from './harness';

const CONCURRENT = 20;

describe('notify: each notification applies at most once and state only moves forward', () => {
  let h: NotifyHarness;

  before(async () => {
    h = await startNotifyHarness('once');
  });
  after(async () => {
    await h?.close();
  });

  const eventsFor = async (code: string) => {
    await h.stack.drainEvents();
    return h.stack.events.filter((e) => e.detail.out_contract_code === code).map((e) => e.type);
  };

  test('a duplicate (WeChat Pay retry: same body, fresh signature) gets 204 and changes nothing', async () => {
    const { code } = await h.presign();
    const cb = callback(h.keys, { resource: signedContract(code) });
    assert.equal((await h.deliver(cb)).status, 204);
    const applied = await h.snapshot();
    assert.equal((await h.contract(code))?.state, 'SIGNED');

    const retry = resend(h.keys, cb);
    assert.notEqual(retry.headers['Wechatpay-Signature'], cb.headers['Wechatpay-Signature']);
    assert.equal((await h.deliver(retry)).status, 204);
    assert.equal((await h.invoke(resend(h.keys, cb), { isBase64Encoded: true })).status, 204);
    assert.deepEqual(await h.snapshot(), applied, 'both tables unchanged by the duplicates');
    assert.deepEqual(await eventsFor(code), ['ContractPresigned', 'ContractSigned']);
  });

  test('a new notification repeating a SIGN already applied is recorded STALE and moves nothing', async () => {
    const { code } = await h.presign();
    const resource = signedContract(code);
    assert.equal((await h.deliver(callback(h.keys, { resource }))).status, 204);
    const signed = await h.contract(code);
    const late = callback(h.keys, { resource: { ...resource, openid: 'o-other' } });
    assert.equal((await h.deliver(late)).status, 204);
    assert.deepEqual(await h.contract(code), signed);
    assert.equal((await h.notification(late.id))?.outcome, 'STALE');
  });

  test('terminate before its sign: TERMINATED, and the late SIGN leaves it TERMINATED', async () => {
    const { code } = await h.presign();
    const signedResource = signedContract(code);
    const sign = callback(h.keys, { eventType: SIGN_CONTRACT, resource: signedResource });
    const terminate = callback(h.keys, {
      eventType: TERMINATE_CONTRACT,
      resource: terminatedContract(signedResource),
    });

    assert.equal((await h.deliver(terminate)).status, 204);
    const terminated = await h.contract(code);
    assert.equal(terminated?.state, 'TERMINATED');
    assert.equal(terminated?.contract_id, signedResource.contract_id);

    assert.equal((await h.invoke(sign, { isBase64Encoded: false })).status, 204);
    assert.deepEqual(await h.contract(code), terminated, 'the late SIGN moved nothing');
    assert.equal((await h.notification(sign.id))?.outcome, 'STALE');
    assert.equal((await h.notification(terminate.id))?.outcome, 'APPLIED');
    assert.deepEqual(await eventsFor(code), ['ContractPresigned', 'ContractTerminated']);
  });

  test(`${CONCURRENT} concurrent deliveries of one notification: applied exactly once`, async () => {
    const { code } = await h.presign();
    const presigned = await h.contract(code);
    const cb = callback(h.keys, { resource: signedContract(code) });
    // Half through the gateway, half straight into the handler, all at once.
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        i % 2 === 0
          ? h.deliver(resend(h.keys, cb))
          : h.invoke(resend(h.keys, cb), { isBase64Encoded: i % 4 === 1 }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    for (const a of answers) {
      assert.ok(a.status === 204 || a.status === 500, `204 or a retryable 500, got ${a.status}`);
      if (a.status === 500) assert.equal(a.body?.code, 'FAIL');
    }
    console.log(`notify: ${CONCURRENT} concurrent deliveries answered ${JSON.stringify(statuses)}`);
    if (statuses.includes(500)) {
      assert.equal((await h.deliver(resend(h.keys, cb))).status, 204, 'the re-delivery after a 500 succeeds');
    }

    const notifications = (await h.scan('notifications')).filter((n) => n.id === cb.id);
    assert.equal(notifications.length, 1);
    assert.equal(notifications[0]?.outcome, 'APPLIED');
    const signed = await h.contract(code);
    assert.equal(signed?.state, 'SIGNED');
    assert.equal(signed?.version, Number(presigned?.version) + 1, 'the version moved once');
    assert.deepEqual(
      (await eventsFor(code)).filter((t) => t === 'ContractSigned'),
      ['ContractSigned'],
    );
  });

  test(`${CONCURRENT} different notifications racing on one contract: each recorded once, TERMINATED wins`, async () => {
    const { code } = await h.presign();
    const signed = signedContract(code);
    const cbs = Array.from({ length: CONCURRENT }, (_, i) =>
      i % 2 === 0
        ? callback(h.keys, { eventType: SIGN_CONTRACT, resource: signed })
        : callback(h.keys, { eventType: TERMINATE_CONTRACT, resource: terminatedContract(signed) }),
    );
    const answers = await Promise.all(cbs.map((cb) => h.deliver(cb)));
    console.log(
      `notify: ${CONCURRENT} racing notifications answered ${JSON.stringify(answers.map((a) => a.status))}`,
    );
    for (const [i, a] of answers.entries()) {
      const cb = cbs[i];
      assert.ok(cb && (a.status === 204 || a.status === 500), `204 or a retryable 500, got ${a.status}`);
      if (a.status === 500) assert.equal((await h.deliver(resend(h.keys, cb))).status, 204);
    }

    const stored = (await h.scan('notifications')).filter((n) => cbs.some((cb) => cb.id === n.id));
    assert.equal(stored.length, CONCURRENT, 'every notification recorded exactly once');
    const applied = stored.filter((n) => n.outcome === 'APPLIED').map((n) => n.event_type);
    assert.ok(applied.filter((t) => t === TERMINATE_CONTRACT).length === 1, JSON.stringify(applied));
    assert.ok(applied.filter((t) => t === SIGN_CONTRACT).length <= 1, JSON.stringify(applied));
    const contract = await h.contract(code);
    assert.equal(contract?.state, 'TERMINATED');
    const types = await eventsFor(code);
    assert.equal(types.filter((t) => t === 'ContractTerminated').length, 1);
    assert.ok(types.filter((t) => t === 'ContractSigned').length <= 1);
  });
});
