import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../../../../infra/local/simulator';
import { WechatPayClient } from '../../../../../lib/wechatpay/client';
import { openNotification } from '../../../../../lib/wechatpay/notification';
import {
  deductOrderQuery,
  deductRequest,
  parseDeductionPay,
  parseDeductOrder,
  parseScheduleRecord,
  parseScheduleResponse,
  scheduleRecordQuery,
  scheduleRequest,
} from '../../../../../lib/wechatpay/repayments';
import { PemSigner } from '../../../../../lib/wechatpay/signer';
import { Verifier } from '../../../../../lib/wechatpay/verifier';
import { type Merchant, newMerchant, type Receiver, startFor, startReceiver, waitFor } from './harness';
import { dayAfter, newId, setDay, signedContract } from './repayment-harness';

/** The service's own repayment builders and parsers, through its real client, against the independent simulator. */
describe('simulator: the service client books, deducts and reads DEDUCTION_PAY', () => {
  const m: Merchant = newMerchant();
  let sim: Simulator;
  let receiver: Receiver;
  let client: WechatPayClient;
  let verifier: Verifier;

  before(async () => {
    sim = await startFor(m);
    receiver = await startReceiver();
    const { id, pem } = sim.wechatpayPublicKey();
    verifier = new Verifier([[id, pem]]);
    client = new WechatPayClient({
      baseUrl: sim.url,
      credentials: { mchid: m.mchid, serialNo: m.serialNo, signer: new PemSigner(m.privateKey) },
      verifier,
      encryptionKey: { serial: id, key: createPublicKey(pem) },
      userAgent: 'simulator-client-test/1',
    });
  });
  after(async () => {
    await sim.close();
    await receiver.close();
  });

  it('every request is accepted as built, every answer parses, and the callback opens', async () => {
    await setDay(sim);
    const contract = await signedContract(sim, m, receiver.url);
    const contractId = String(contract.contract_id);
    const outRecordId = newId('R');
    const booked = await client.call(
      scheduleRequest({
        contract_id: contractId,
        appid: contract.appid,
        openid: String(contract.openid),
        out_record_id: outRecordId,
        sub_mchid: String(contract.sub_mchid),
        repayment_amount: '6000',
        min_repayment_amount: '600',
        repayment_date: dayAfter(2),
      }),
    );
    const [record] = parseScheduleResponse(booked.json());
    assert.equal(record?.out_record_id, outRecordId);
    assert.equal(record?.repayment_amount, '6000');
    const queried = parseScheduleRecord(
      (await client.call(scheduleRecordQuery(outRecordId, contractId))).json(),
    );
    assert.equal(queried.repayment_date, dayAfter(2));

    await setDay(sim, 2);
    const outTradeNo = newId('T');
    const answer = await client.call(
      deductRequest({
        contract_id: contractId,
        out_trade_no: outTradeNo,
        out_record_id: outRecordId,
        deduct_amount: '6000',
        notify_url: receiver.url,
        description: '信贷还款',
      }),
    );
    assert.equal(parseDeductOrder(answer.json()).order_state, 'DEDUCT_ORDER_STATE_PENDING');

    const delivery = await waitFor('DEDUCTION_PAY delivered', () =>
      sim.callbacks().find((d) => d.out_trade_no === outTradeNo && d.state === 'delivered'),
    );
    const got = receiver.received.find((r) => r.body === delivery.body);
    assert.ok(got);
    const opened = openNotification(
      { headers: got.headers, body: Buffer.from(got.body) },
      { verifier, apiV3Key: m.apiV3Key },
    );
    const paid = parseDeductionPay(opened.resource);
    assert.equal(opened.envelope.event_type, 'CREDIT_REPAYMENT.DEDUCTION_PAY');
    assert.deepEqual(
      [paid.out_trade_no, paid.out_record_id, paid.contract_id, paid.deduct_amount, paid.pay_success_amount],
      [outTradeNo, outRecordId, contractId, '6000', '6000'],
    );
    assert.equal(paid.sp_mchid, m.mchid);

    const order = parseDeductOrder((await client.call(deductOrderQuery(outTradeNo))).json());
    assert.equal(order.order_state, 'DEDUCT_ORDER_STATE_PAY_SUCCESS');
    assert.equal(order.transaction_id, paid.transaction_id);
    const sent = sim
      .requests()
      .filter((r) => r.status === 200 && /schedule-records|deduct-orders/.test(r.url));
    assert.equal(sent.length, 4, 'book, query, deduct, query: each accepted once');
  });
});
