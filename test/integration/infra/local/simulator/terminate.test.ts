import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../../../../infra/local/simulator';
import {
  call,
  contractPath,
  decryptResource,
  type Merchant,
  newCode,
  newMerchant,
  presign,
  type Receiver,
  type Resource,
  startFor,
  startReceiver,
  TERMINATE,
  useSimulator,
  verifySigned,
  waitFor,
} from './harness';

describe('simulator: terminate and TERMINATE_CONTRACT', () => {
  const s = useSimulator();
  const { m } = s;

  const terminate = (code: string, remark = '用户申请解约') =>
    call(s.sim, m, 'POST', TERMINATE, { out_contract_code: code, contract_termination_remark: remark });

  it('terminates an effective contract, answers contract_info and notifies TERMINATE_CONTRACT', async () => {
    const { code, token } = await presign(s.sim, m, s.receiver.url);
    await s.sim.agree(token);
    const res = await terminate(code);
    assert.equal(res.status, 200, res.text);
    assert.ok(verifySigned(s.sim.wechatpayPublicKey().pem, res.headers, res.text));
    const info = res.json.contract_info as Record<string, unknown>;
    assert.equal(info.contract_state, 'CONTRACT_STATE_TERMINATED');
    assert.equal(info.contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT');
    assert.equal(info.contract_termination_remark, '用户申请解约');
    assert.match(String(info.contract_terminated_time), /\+08:00$/);

    const delivery = await waitFor('TERMINATE_CONTRACT delivered', () =>
      s.sim
        .callbacks()
        .find(
          (d) =>
            d.out_contract_code === code &&
            d.event_type === 'CREDIT_REPAYMENT.TERMINATE_CONTRACT' &&
            d.state === 'delivered',
        ),
    );
    const got = s.receiver.received.find((r) => r.body === delivery.body);
    assert.ok(got);
    assert.ok(verifySigned(s.sim.wechatpayPublicKey().pem, got.headers, got.body));
    const envelope = JSON.parse(got.body) as { resource: Resource };
    const payload = decryptResource(m.apiV3Key, envelope.resource);
    assert.equal(payload.contract_state, 'CONTRACT_STATE_TERMINATED');
    assert.equal(payload.contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT');
    assert.equal(payload.contract_id, info.contract_id);

    const query = await call(s.sim, m, 'GET', contractPath(code));
    assert.equal(query.json.contract_state, 'CONTRACT_STATE_TERMINATED');

    const again = await terminate(code);
    assert.equal(again.status, 400);
    assert.equal(again.json.code, 'INVALID_REQUEST');
    assert.match(String(again.json.message), /已解约/);
  });

  it('answers 404 for a code never presigned or presigned but not signed', async () => {
    const never = await terminate(newCode());
    assert.equal(never.status, 404);
    assert.equal(never.json.code, 'RESOURCE_NOT_EXISTS');
    const { code } = await presign(s.sim, m, s.receiver.url);
    assert.equal((await terminate(code)).status, 404);
  });

  it('validates the body', async () => {
    const { code, token } = await presign(s.sim, m, s.receiver.url);
    await s.sim.agree(token);
    const long = await terminate(code, 'x'.repeat(129));
    assert.equal(long.status, 400);
    assert.equal((long.json.detail as Record<string, unknown>).field, '/contract_termination_remark');
    const empty = await terminate(code, '');
    assert.equal((empty.json.detail as Record<string, unknown>).field, '/contract_termination_remark');
    const extra = await call(s.sim, m, 'POST', TERMINATE, {
      out_contract_code: code,
      contract_termination_remark: 'r',
      reason: 'x',
    });
    assert.equal((extra.json.detail as Record<string, unknown>).field, '/reason');
    const badCode = await call(s.sim, m, 'GET', contractPath('a-b'));
    assert.equal(badCode.status, 400);
    assert.equal((badCode.json.detail as Record<string, unknown>).location, 'path');
  });
});

describe("simulator: TERMINATE_CONTRACT goes to the plan template's terminate URL", () => {
  const m: Merchant = newMerchant();
  let sim: Simulator;
  let signing: Receiver;
  let terminations: Receiver;
  let ownUrl: Receiver;

  before(async () => {
    signing = await startReceiver();
    terminations = await startReceiver();
    ownUrl = await startReceiver();
    sim = await startFor(m, {
      terminateNotifyUrl: terminations.url,
      plans: [{ plan_id: 'OWN1', loan_type: 'CASH_LOAN', terminate_notify_url: ownUrl.url }],
    });
  });
  after(async () => {
    await sim.close();
    for (const r of [signing, terminations, ownUrl]) await r.close();
  });

  async function terminated(planId: string) {
    const { code, token } = await presign(sim, m, signing.url, newCode(), { plan_id: planId });
    await sim.agree(token);
    const res = await call(sim, m, 'POST', TERMINATE, {
      out_contract_code: code,
      contract_termination_remark: 'r',
    });
    assert.equal(res.status, 200, res.text);
    return waitFor('TERMINATE_CONTRACT delivered', () =>
      sim
        .callbacks()
        .find(
          (d) =>
            d.out_contract_code === code &&
            d.event_type === 'CREDIT_REPAYMENT.TERMINATE_CONTRACT' &&
            d.state === 'delivered',
        ),
    );
  }

  it('the simulator setting applies to templates without their own URL; SIGN_CONTRACT still uses contract_notify_url', async () => {
    const delivery = await terminated('123');
    assert.equal(delivery.url, terminations.url);
    assert.ok(terminations.received.some((r) => r.body === delivery.body));
    assert.equal(signing.received.filter((r) => r.body === delivery.body).length, 0);
    const sign = sim
      .callbacks()
      .find(
        (d) => d.out_contract_code === delivery.out_contract_code && d.event_type.endsWith('SIGN_CONTRACT'),
      );
    assert.equal(sign?.url, signing.url);
  });

  it("a template's own terminate URL wins", async () => {
    const delivery = await terminated('OWN1');
    assert.equal(delivery.url, ownUrl.url);
    assert.ok(ownUrl.received.some((r) => r.body === delivery.body));
  });
});
