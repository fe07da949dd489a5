import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SimulatedContract } from '../../../../infra/local/simulator';
import { main as operator } from '../../../../infra/ops/invoke';
import type { BookingRecord } from '../../../../lib/repayments/model';
import { eventually } from '../../../reliability/helpers/wechatpay';
import { checkEvent } from '../../../support/repayments/event-schemas';
import {
  newRecordId,
  type RepaymentHarness,
  startRepaymentHarness,
} from '../../../support/repayments/harness';
import { callback, DEDUCTION_PAY, resend } from '../../../support/wechatpay/callbacks';

// DEDUCTION_PAY through the real notify handler: applied once per notification id and only when it matches
// our order; anything else kept unapplied, acknowledged and announced, and seen and applied by an operator
// (`npm run notifications`, through the local stack's Lambda Invoke API). This file holds WeChat Pay's keys, so
// it can send the redeliveries and the mismatches WeChat Pay (or a forger with its key) would.

const MINUTE = 60_000;

describe('repayments: DEDUCTION_PAY', () => {
  let h: RepaymentHarness;
  before(async () => {
    h = await startRepaymentHarness();
  });
  after(async () => {
    await h?.close();
  });

  /** `npm run notifications -- <args>` in process (the same main the script runs); its JSON answer. */
  async function notifications(...args: string[]): Promise<Record<string, unknown>> {
    const lines: string[] = [];
    process.env.AWS_ENDPOINT_URL_LAMBDA = h.stack.lambda.url;
    try {
      const code = await operator(['notifications', ...args], (line) => lines.push(line));
      assert.equal(code, 0, lines.join('\n'));
    } finally {
      delete process.env.AWS_ENDPOINT_URL_LAMBDA;
    }
    return JSON.parse(lines.join('\n')) as Record<string, unknown>;
  }

  /** WeChat Pay's DEDUCTION_PAY resource for a success of order `tradeNo` of booking `id` (5000 fen). */
  const success = (contract: SimulatedContract, id: string, tradeNo: string) => ({
    sp_mchid: h.stack.env.WECHATPAY_MCHID,
    sub_mchid: contract.sub_mchid,
    appid: contract.appid,
    openid: contract.openid,
    order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS',
    out_trade_no: tradeNo,
    out_record_id: id,
    contract_id: contract.contract_id,
    deduct_amount: '5000',
    pay_success_amount: '5000',
    transaction_id: `4200${Date.now()}`,
    description: '信贷还款',
  });

  /** A due booking whose order WeChat Pay holds PENDING: its out_trade_no and WeChat Pay's success resource. */
  async function pendingOrder(): Promise<{
    contract: SimulatedContract;
    id: string;
    tradeNo: string;
    resource: Record<string, unknown>;
  }> {
    const { contract, id } = await h.dueBooking();
    h.simulator.setWallet(contract.openid ?? '', { hold: 'PENDING' });
    const res = await h.request('POST', `/repayments/${id}/deduct`, {});
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const tradeNo = String((res.body.orders as { out_trade_no: string }[])[0]?.out_trade_no);
    const resource = success(contract, id, tradeNo);
    return { contract, id, tradeNo, resource };
  }

  const paid = (resource: Record<string, unknown>) =>
    callback(h.keys, { eventType: DEDUCTION_PAY, resource, aad: '', now: h.now() });

  const item = async (table: string | undefined, key: Record<string, string>) =>
    (await h.stack.db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

  test('a DEDUCTION_PAY that does not match our order is acknowledged, kept raw without expiry, announced, and applies nothing', async () => {
    const { id, tradeNo, resource } = await pendingOrder();
    const before = await h.stored(id);
    const mismatches = [
      { ...resource, deduct_amount: '4999', pay_success_amount: '4999' },
      { ...resource, contract_id: 'CID0000000000000000000001' },
      { ...resource, out_trade_no: 'NOTOURORDER1' },
    ];
    const ids: string[] = [];
    for (const forged of mismatches) {
      const cb = paid(forged);
      ids.push(cb.id);
      const answer = await h.deliver(cb);
      assert.equal(answer.status, 204, answer.body);
      const kept = await item(h.stack.env.REPAYMENTS_TABLE, { pk: `NOTIFICATION#${cb.id}` });
      assert.equal(
        kept?.raw_body,
        cb.body.toString('utf8'),
        'kept as received: its resource still encrypted',
      );
      assert.equal(
        JSON.stringify(kept).includes(String(resource.openid)),
        false,
        'no openid in the kept item',
      );
      const noted = await item(h.stack.env.NOTIFICATIONS_TABLE, { id: cb.id });
      assert.deepEqual([noted?.outcome, noted?.expires_at_epoch], ['UNHANDLED', undefined]);
    }
    assert.deepEqual(await h.stored(id), before, 'the booking did not move');
    await h.stack.drainEvents();
    const unhandled = h.stack.repaymentEvents.filter(
      (e) => e.type === 'NotificationUnhandled' && ids.includes(String(e.detail.notification_id)),
    );
    assert.equal(unhandled.length, 3);
    for (const event of unhandled) checkEvent(event);
    assert.deepEqual(
      unhandled.map((e) => /deduct_amount|contract_id|no order/.test(String(e.detail.reason))),
      [true, true, true],
    );

    await h.simulator.settleDeduction(tradeNo);
    await eventually('the real success applied', async () => (await h.stored(id))?.state === 'SUCCEEDED');
  });

  test('20 concurrent redeliveries of one DEDUCTION_PAY: all 204, applied once, one RepaymentSucceeded', async () => {
    const { id, resource } = await pendingOrder();
    const cb = paid(resource);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => h.deliver(resend(h.keys, cb, h.now()))),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(20).fill(204),
      JSON.stringify(answers.filter((a) => a.status !== 204)),
    );
    const booking = (await h.stored(id)) as BookingRecord;
    assert.equal(booking.state, 'SUCCEEDED');
    assert.equal(booking.orders[0]?.transaction_id, resource.transaction_id);
    const noted = await item(h.stack.env.NOTIFICATIONS_TABLE, { id: cb.id });
    assert.equal(noted?.outcome, 'APPLIED');
    const events = await h.eventsOf(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['RepaymentScheduled', 'RepaymentDeductionStarted', 'RepaymentSucceeded'],
    );
    assert.equal(
      booking.version,
      5,
      'claimed, scheduled, started, answered, paid: the redeliveries wrote nothing more',
    );
  });

  test('callbacks racing polls and syncs on the same orders: each ends SUCCEEDED once, never moving back', async () => {
    // One after the other: each moves the clock a day, which a request signed meanwhile would not survive.
    const orders: Awaited<ReturnType<typeof pendingOrder>>[] = [];
    for (let i = 0; i < 4; i++) orders.push(await pendingOrder());
    await h.advance(MINUTE);
    await Promise.all([
      ...orders.map((o) => h.simulator.settleDeduction(o.tradeNo)),
      h.reconcile(),
      ...orders.map((o) => h.request('GET', `/repayments/${o.id}?sync=true`)),
      h.reconcile(),
    ]);
    await eventually('every callback delivered', () =>
      orders.every((o) =>
        h.simulator.callbacks().some((c) => c.out_trade_no === o.tradeNo && c.state === 'delivered'),
      ),
    );
    for (const o of orders) {
      const booking = (await h.stored(o.id)) as BookingRecord;
      const simulated = h.simulator.deductOrders().find((d) => d.out_trade_no === o.tradeNo);
      assert.equal(booking.state, 'SUCCEEDED', o.id);
      assert.equal(
        booking.orders[0]?.transaction_id,
        simulated?.transaction_id,
        'WeChat Pay’s own transaction id',
      );
      assert.equal(booking.poll_at, undefined, 'no longer polled');
      const events = await h.eventsOf(o.id);
      assert.deepEqual(
        events.map((e) => e.type),
        ['RepaymentScheduled', 'RepaymentDeductionStarted', 'RepaymentSucceeded'],
        o.id,
      );
      for (const event of events) checkEvent(event);
      const delivery = h.simulator.callbacks().find((c) => c.out_trade_no === o.tradeNo);
      const noted = await item(h.stack.env.NOTIFICATIONS_TABLE, { id: String(delivery?.id) });
      assert.ok(['APPLIED', 'STALE'].includes(String(noted?.outcome)), `recorded once: ${noted?.outcome}`);
    }
  });

  test('the operator lists kept DEDUCTION_PAYs without their body, applies one once its order is ours, and leaves a mismatch kept', async () => {
    const { contract, id } = await h.dueBooking();
    h.simulator.setWallet(contract.openid ?? '', { hold: 'PENDING' });
    const tradeNo = newRecordId('T');
    const resource = success(contract, id, tradeNo);
    // The success arrives before we hold its order: kept. Then a success with another amount: kept too.
    const early = paid(resource);
    assert.equal((await h.deliver(early)).status, 204);
    const res = await h.request('POST', `/repayments/${id}/deduct`, { out_trade_no: tradeNo });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const wrong = paid({ ...resource, deduct_amount: '4999', pay_success_amount: '4999' });
    assert.equal((await h.deliver(wrong)).status, 204);

    const ours = (list: Record<string, unknown>) =>
      (list.repayment_notifications as Record<string, unknown>[]).filter((n) =>
        [early.id, wrong.id].includes(String(n.id)),
      );
    const listed = await notifications('list');
    assert.ok(Array.isArray(listed.notifications), 'the contract ones as ever');
    assert.deepEqual(
      ours(listed).map(({ create_time: _c, received_at: _r, ...n }) => n),
      [
        {
          id: early.id,
          event_type: DEDUCTION_PAY,
          reason: `repayment ${id} has no order ${tradeNo}`,
          out_record_id: id,
          out_trade_no: tradeNo,
        },
        {
          id: wrong.id,
          event_type: DEDUCTION_PAY,
          reason: "deduct_amount 4999 is not our order's 5000",
          out_record_id: id,
          out_trade_no: tradeNo,
        },
      ],
    );
    assert.ok(!JSON.stringify(listed).includes(String(contract.openid)), 'never the body');

    const applied = await notifications('apply', early.id, wrong.id);
    assert.deepEqual(applied, {
      applied: [early.id],
      stale: [],
      still_unhandled: [{ id: wrong.id, reason: "deduct_amount 4999 is not our order's 5000" }],
      not_unhandled: [],
    });
    const booking = (await h.stored(id)) as BookingRecord;
    assert.equal(booking.state, 'SUCCEEDED');
    assert.equal(booking.orders[0]?.transaction_id, resource.transaction_id);
    const noted = await item(h.stack.env.NOTIFICATIONS_TABLE, { id: early.id });
    assert.equal(noted?.outcome, 'APPLIED');
    assert.ok(noted?.expires_at_epoch, 'an applied id now');
    assert.deepEqual(
      ours(await notifications('list')).map((n) => n.id),
      [wrong.id],
      'the applied one is no longer listed',
    );

    const again = await notifications('apply', early.id, wrong.id);
    assert.deepEqual([again.applied, again.not_unhandled], [[], [early.id]]);
    assert.equal(((await h.stored(id)) as BookingRecord).version, booking.version, 'nothing more written');
    const events = (await h.eventsOf(id)).map((e) => e.type);
    assert.deepEqual(
      events.filter((type) => type !== 'NotificationUnhandled'),
      ['RepaymentScheduled', 'RepaymentDeductionStarted', 'RepaymentSucceeded'],
      'succeeded once',
    );
    assert.equal(
      events.filter((type) => type === 'NotificationUnhandled').length,
      2,
      'one per kept, none on apply',
    );
  });
});
