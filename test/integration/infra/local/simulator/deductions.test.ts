import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CallbackDelivery, SimulatedContract, Simulator } from '../../../../../infra/local/simulator';
import {
  call,
  decryptResource,
  type Merchant,
  newMerchant,
  type Receiver,
  type Resource,
  startFor,
  startReceiver,
  TERMINATE,
  verifySigned,
  waitFor,
} from './harness';
import {
  book,
  DEDUCT,
  deductBody,
  detail,
  newId,
  orderPath,
  sandbox,
  setDay,
  signedContract,
} from './repayment-harness';

const SUCCESS = 'DEDUCT_ORDER_STATE_PAY_SUCCESS';
const FAIL = 'DEDUCT_ORDER_STATE_PAY_FAIL';
const PENDING = 'DEDUCT_ORDER_STATE_PENDING';

describe('simulator: deducting a booked repayment (deduct-orders) and DEDUCTION_PAY', () => {
  const m: Merchant = newMerchant();
  let sim: Simulator;
  let contracts: Receiver;
  let payments: Receiver;

  before(async () => {
    sim = await startFor(m);
    contracts = await startReceiver();
    payments = await startReceiver();
    await setDay(sim);
  });
  after(async () => {
    await sim.close();
    await contracts.close();
    await payments.close();
  });

  /** A signed contract with one booking for tomorrow, and the clock moved to that day. */
  async function dueBooking(item: Record<string, unknown> = {}) {
    await setDay(sim);
    const contract = await signedContract(sim, m, contracts.url);
    const id = await book(sim, m, contract, item);
    await setDay(sim, 1);
    return { contract, id };
  }

  const deduct = (c: SimulatedContract, id: string, overrides: Record<string, unknown> = {}) => {
    const body = deductBody(c, id, payments.url, overrides);
    return call(sim, m, 'POST', DEDUCT, body).then((res) => ({ res, outTradeNo: String(body.out_trade_no) }));
  };
  const query = (outTradeNo: string) => call(sim, m, 'GET', orderPath(outTradeNo));
  const settled = (outTradeNo: string) =>
    waitFor(`${outTradeNo} settled`, () =>
      sim.deductOrders().find((o) => o.out_trade_no === outTradeNo && o.order_state !== PENDING),
    );
  const deliveries = (outTradeNo: string) => sim.callbacks().filter((d) => d.out_trade_no === outTradeNo);
  const wallet = (c: SimulatedContract, change: Record<string, unknown>) =>
    sandbox(sim, 'POST', '/sandbox/wallets', { out_contract_code: c.out_contract_code, ...change });

  it('refuses a deduction before the booked date; on the date it answers PENDING, then succeeds and notifies once', async () => {
    await setDay(sim);
    const contract = await signedContract(sim, m, contracts.url);
    const id = await book(sim, m, contract);
    const early = await deduct(contract, id);
    assert.equal(early.res.status, 400, early.res.text);
    assert.equal(early.res.json.code, 'INVALID_REQUEST');
    assert.match(String(early.res.json.message), /未到预约还款日期/);

    await setDay(sim, 1);
    const { res, outTradeNo } = await deduct(contract, id, { attach: 'loan-42' });
    assert.equal(res.status, 200, res.text);
    assert.ok(verifySigned(sim.wechatpayPublicKey().pem, res.headers, res.text));
    assert.deepEqual(res.json, {
      out_trade_no: outTradeNo,
      out_record_id: id,
      appid: contract.appid,
      openid: contract.openid,
      contract_id: contract.contract_id,
      description: '信贷还款',
      order_state: PENDING,
      deduct_amount: '10000',
      attach: 'loan-42',
    });

    const delivery = await waitFor('DEDUCTION_PAY delivered', () =>
      deliveries(outTradeNo).find((d) => d.state === 'delivered'),
    );
    const got = payments.received.find((r) => r.body === delivery.body);
    assert.ok(got, 'sent to the order notify_url');
    assert.ok(verifySigned(sim.wechatpayPublicKey().pem, got.headers, got.body));
    const envelope = JSON.parse(got.body) as { event_type: string; summary: string; resource: Resource };
    assert.equal(envelope.event_type, 'CREDIT_REPAYMENT.DEDUCTION_PAY');
    assert.equal(envelope.summary, '信贷还款还款成功');
    assert.equal(envelope.resource.associated_data, '');
    const payload = decryptResource(m.apiV3Key, envelope.resource);
    assert.match(String(payload.transaction_id), /^4200\d{24}$/);
    assert.deepEqual(payload, {
      sp_mchid: m.mchid,
      sub_mchid: contract.sub_mchid,
      out_trade_no: outTradeNo,
      out_record_id: id,
      appid: contract.appid,
      openid: contract.openid,
      contract_id: contract.contract_id,
      description: '信贷还款',
      order_state: SUCCESS,
      deduct_amount: '10000',
      pay_success_amount: '10000',
      attach: 'loan-42',
      transaction_id: payload.transaction_id,
    });

    const final = await query(outTradeNo);
    assert.equal(final.status, 200);
    assert.ok(verifySigned(sim.wechatpayPublicKey().pem, final.headers, final.text));
    assert.equal(final.json.order_state, SUCCESS);
    assert.equal(final.json.transaction_id, payload.transaction_id);
    assert.equal(deliveries(outTradeNo).length, 1, 'one notification per success');

    const second = await deduct(contract, id);
    assert.equal(second.res.json.code, 'INVALID_REQUEST', 'a booking that was paid takes no second order');
    assert.match(String(second.res.json.message), new RegExp(outTradeNo));
  });

  it('a wallet short of the amount but above the minimum pays partly', async () => {
    const { contract, id } = await dueBooking({ repayment_amount: '10000', min_repayment_amount: '1000' });
    assert.deepEqual(sim.setWallet(String(contract.openid), { balance: '3000' }), {
      openid: contract.openid,
      balance: '3000',
      hold: 'NONE',
    });
    const { outTradeNo } = await deduct(contract, id);
    const order = await settled(outTradeNo);
    assert.equal(order.order_state, SUCCESS);
    assert.equal(order.pay_success_amount, '3000');
    const delivery = await waitFor('partial DEDUCTION_PAY', () => deliveries(outTradeNo)[0]);
    assert.equal(delivery.payload.pay_success_amount, '3000');
    assert.equal(delivery.payload.deduct_amount, '10000');
    const wallets = (await sandbox(sim, 'GET', '/sandbox/wallets')).json as unknown as {
      openid: string;
      balance: string;
    }[];
    assert.equal(wallets.find((w) => w.openid === contract.openid)?.balance, '0');
  });

  it('a wallet below the minimum fails the order (PAY_FAIL, never notified); then a new order may follow', async () => {
    const { contract, id } = await dueBooking({ min_repayment_amount: '1000' });
    await wallet(contract, { balance: '999' });
    const first = await deduct(contract, id);
    assert.equal(first.res.status, 200);
    assert.equal((await settled(first.outTradeNo)).order_state, FAIL);
    const answer = await query(first.outTradeNo);
    assert.equal(answer.json.order_state, FAIL);
    assert.equal('transaction_id' in answer.json, false);
    assert.equal('pay_success_amount' in answer.json, false);

    await wallet(contract, { balance: 'unlimited' });
    const retry = await deduct(contract, id);
    assert.equal(retry.res.status, 200, retry.res.text);
    assert.equal((await settled(retry.outTradeNo)).order_state, SUCCESS);
    await waitFor('retry notified', () => deliveries(retry.outTradeNo)[0]);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(deliveries(first.outTradeNo), [], 'PAY_FAIL is never notified');
  });

  it('a booking without a minimum is never paid partly', async () => {
    const { contract, id } = await dueBooking({ min_repayment_amount: undefined });
    await wallet(contract, { balance: '9999' });
    const { outTradeNo } = await deduct(contract, id);
    assert.equal((await settled(outTradeNo)).order_state, FAIL);
  });

  it('a hold keeps orders PENDING or NOT_PAY, blocks a second order, and the sandbox settles them later', async () => {
    const { contract, id } = await dueBooking();
    await wallet(contract, { hold: 'PENDING' });
    const { outTradeNo } = await deduct(contract, id);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await query(outTradeNo)).json.order_state, PENDING);
    const blocked = await deduct(contract, id);
    assert.equal(blocked.res.json.code, 'INVALID_REQUEST');
    assert.match(String(blocked.res.json.message), /仅在其还款失败后/);

    const other = await dueBooking();
    await wallet(other.contract, { hold: 'NOT_PAY' });
    const notPay = await deduct(other.contract, other.id);
    assert.equal((await settled(notPay.outTradeNo)).order_state, 'DEDUCT_ORDER_STATE_NOT_PAY');
    assert.equal((await query(notPay.outTradeNo)).json.order_state, 'DEDUCT_ORDER_STATE_NOT_PAY');
    assert.deepEqual(deliveries(outTradeNo), []);

    const settle = await sandbox(sim, 'POST', '/sandbox/deduct-orders/settle', { out_trade_no: outTradeNo });
    assert.equal(settle.status, 200, settle.text);
    assert.equal(settle.json.order_state, SUCCESS);
    assert.equal((await query(outTradeNo)).json.order_state, SUCCESS);
    await waitFor('settled order notified', () =>
      deliveries(outTradeNo).find((d) => d.state === 'delivered'),
    );
    const again = await sandbox(sim, 'POST', '/sandbox/deduct-orders/settle', { out_trade_no: outTradeNo });
    assert.equal(again.status, 409);

    await wallet(other.contract, { balance: '0' });
    const failed = await sim.settleDeduction(notPay.outTradeNo);
    assert.equal(failed.order_state, FAIL);
  });

  it('refuses a wallet setting it cannot apply, naming it', async () => {
    const { contract } = await dueBooking();
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ balance: 100 }, 400, /balance must be/],
      [{ balance: '-1' }, 400, /balance must be/],
      [{ hold: 'FOREVER' }, 400, /hold must be/],
      [{ balanse: '1' }, 400, /balanse is not a wallet setting/],
    ];
    for (const [change, status, message] of cases) {
      const res = await wallet(contract, change);
      assert.equal(res.status, status, res.text);
      assert.match(String(res.json.message), message);
    }
    const nobody = await sandbox(sim, 'POST', '/sandbox/wallets', {
      out_contract_code: 'NOSUCHCODE',
      balance: '1',
    });
    assert.equal(nobody.status, 404);
    const settleUnknown = await sandbox(sim, 'POST', '/sandbox/deduct-orders/settle', {
      out_trade_no: 'T404',
    });
    assert.equal(settleUnknown.status, 404);
  });

  it('a fault can target the deduct alone: the order is made, its answer dropped, and its query still answers', async () => {
    const { contract, id } = await dueBooking();
    sim.injectFault({ path: DEDUCT, method: 'POST', count: 1, drop: true });
    const dropped = deductBody(contract, id, payments.url);
    await assert.rejects(call(sim, m, 'POST', DEDUCT, dropped));
    const outTradeNo = String(dropped.out_trade_no);
    const found = await query(outTradeNo);
    assert.equal(found.status, 200, 'the GET was not consumed by the POST fault');
    assert.ok(['DEDUCT_ORDER_STATE_PENDING', SUCCESS].includes(String(found.json.order_state)));
    const resent = await call(sim, m, 'POST', DEDUCT, dropped);
    assert.equal(resent.json.code, 'INVALID_REQUEST', 'a resend after a lost answer is a duplicate');
  });

  it('retries DEDUCTION_PAY on the credit-repayment schedule until the receiver answers 2xx', async () => {
    const flaky = await startReceiver([500, 503]);
    try {
      const { contract, id } = await dueBooking();
      const { outTradeNo } = await deduct(contract, id, { notify_url: flaky.url });
      const delivery: CallbackDelivery = await waitFor('delivered after retries', () =>
        deliveries(outTradeNo).find((d) => d.state === 'delivered'),
      );
      assert.deepEqual(
        delivery.attempts.map((a) => a.status),
        [500, 503, 204],
      );
      assert.equal(flaky.received.length, 3);
      assert.ok(
        flaky.received.every((r) => r.body === delivery.body),
        'the same notification id every time',
      );
      assert.ok(flaky.received.every((r) => verifySigned(sim.wechatpayPublicKey().pem, r.headers, r.body)));
      assert.equal(new Set(flaky.received.map((r) => r.headers['wechatpay-nonce'])).size, 3);
    } finally {
      await flaky.close();
    }
  });

  it('never accepts an out_trade_no twice and needs a booking of the same contract', async () => {
    const { contract, id } = await dueBooking();
    await wallet(contract, { hold: 'PENDING' });
    const first = await deduct(contract, id);
    const reused = await deduct(contract, id, { out_trade_no: first.outTradeNo });
    assert.equal(reused.res.json.code, 'INVALID_REQUEST');
    assert.match(String(reused.res.json.message), /还款单号已存在/);
    const unbooked = await deduct(contract, newId('R'));
    assert.equal(unbooked.res.status, 404);
    assert.equal(unbooked.res.json.code, 'RESOURCE_NOT_EXISTS');
    const other = await dueBooking();
    const crossed = await deduct(other.contract, id);
    assert.equal(crossed.res.status, 404);
    const unknown = await query(newId('T'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'ORDER_NOT_EXIST');
  });

  it('holds deduct_amount between the booking minimum and its repayment_amount', async () => {
    const { contract, id } = await dueBooking({ repayment_amount: '8000', min_repayment_amount: '1000' });
    const over = await deduct(contract, id, { deduct_amount: '8001' });
    assert.deepEqual([over.res.status, detail(over.res).field], [400, '/deduct_amount']);
    const under = await deduct(contract, id, { deduct_amount: '999' });
    assert.deepEqual([under.res.status, detail(under.res).field], [400, '/deduct_amount']);
    const least = await deduct(contract, id, { deduct_amount: '1000' });
    assert.equal(least.res.status, 200, least.res.text);
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['deduct_amount as a number', { deduct_amount: 10000 }, '/deduct_amount'],
    ['deduct_amount in yuan', { deduct_amount: '100.00' }, '/deduct_amount'],
    ['out_trade_no with a space', { out_trade_no: 'T 1' }, '/out_trade_no'],
    ['out_trade_no of 33 characters', { out_trade_no: 'T'.repeat(33) }, '/out_trade_no'],
    ['out_record_id missing', { out_record_id: undefined }, '/out_record_id'],
    ['description missing', { description: undefined }, '/description'],
    ['notify_url over plain http', { notify_url: 'http://example.com/notify' }, '/notify_url'],
    ['notify_url with a query', { notify_url: 'https://example.com/notify?a=1' }, '/notify_url'],
    ['attach too long', { attach: 'a'.repeat(129) }, '/attach'],
    ['an unknown field', { amount: '1' }, '/amount'],
  ];
  for (const [name, overrides, field] of cases) {
    it(`refuses ${name}: PARAM_ERROR naming ${field}`, async () => {
      const { contract, id } = await dueBooking();
      const body = JSON.parse(JSON.stringify(deductBody(contract, id, payments.url, overrides)));
      const res = await call(sim, m, 'POST', DEDUCT, body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, 'PARAM_ERROR');
      assert.equal(detail(res).field, field);
    });
  }

  it('a terminated contract takes no deduction, and the order query still answers', async () => {
    const { contract, id } = await dueBooking();
    await wallet(contract, { hold: 'PENDING' });
    const { outTradeNo } = await deduct(contract, id);
    const ended = await call(sim, m, 'POST', TERMINATE, {
      out_contract_code: contract.out_contract_code,
      contract_termination_remark: '结清',
    });
    assert.equal(ended.status, 200);
    const refused = await deduct(contract, id);
    assert.equal(refused.res.json.code, 'INVALID_REQUEST');
    assert.equal((await query(outTradeNo)).json.order_state, PENDING);
  });

  it('records every deduct request as received', async () => {
    const { contract, id } = await dueBooking();
    const { outTradeNo } = await deduct(contract, id);
    await query(outTradeNo);
    const seen = (await sandbox(sim, 'GET', '/sandbox/requests')).json as unknown as {
      method: string;
      url: string;
      body: string;
    }[];
    assert.ok(seen.some((r) => r.method === 'POST' && r.url === DEDUCT && r.body.includes(outTradeNo)));
    assert.ok(seen.some((r) => r.method === 'GET' && r.url === orderPath(outTradeNo)));
  });
});
