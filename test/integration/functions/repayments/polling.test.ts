import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../../../reliability/helpers/wechatpay';
import { checkEvent } from '../../../support/repayments/event-schemas';
import {
  newRecordId,
  type RepaymentHarness,
  startRepaymentHarness,
} from '../../../support/repayments/harness';

// Only a success is notified: PAY_FAIL, PENDING and unanswered orders are found by reconcile's poll (or
// ?sync=true). These tests make WeChat Pay fail, hold or drop, and check that no second order is ever sent
// while the first may still succeed.

const PARTNER = '/v3/credit-repayment/partner';
const MINUTE = 60_000;

describe('repayments: polling to a final state', () => {
  let h: RepaymentHarness;
  before(async () => {
    h = await startRepaymentHarness();
  });
  after(async () => {
    await h?.close();
  });

  /** Every deduct order WeChat Pay holds for the booking. */
  const ordersAt = (id: string) => h.simulator.deductOrders().filter((o) => o.out_record_id === id);
  const deductPosts = (id: string) =>
    h.simulator
      .requests()
      .filter(
        (r) => r.method === 'POST' && r.url === `${PARTNER}/deduct-orders` && r.body.includes(`"${id}"`),
      );

  test('PAY_FAIL is found by polling; nothing orders again by itself; a manual retry with a new out_trade_no succeeds', async () => {
    const { contract, id } = await h.dueBooking();
    h.simulator.setWallet(contract.openid ?? '', { balance: '0' });
    const first = await h.request('POST', `/repayments/${id}/deduct`, {
      out_trade_no: `A${id}`.slice(0, 32),
    });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    await eventually(
      'WeChat Pay failed it',
      () => ordersAt(id)[0]?.order_state === 'DEDUCT_ORDER_STATE_PAY_FAIL',
    );
    const blocked = await h.request('POST', `/repayments/${id}/deduct`, {});
    assert.deepEqual(
      [blocked.status, blocked.body.code, blocked.body.order_state],
      [409, 'DEDUCTION_IN_PROGRESS', 'DEDUCT_ORDER_STATE_PENDING'],
    );

    assert.equal((await h.reconcile()).repayments.examined, 0, 'not before its first backoff');
    await h.advance(MINUTE);
    const run = await h.reconcile();
    assert.equal(run.repayments.settled.FAILED, 1);
    const failed = await h.request('GET', `/repayments/${id}`);
    assert.equal(failed.body.state, 'FAILED');
    await h.advance(3 * 86_400_000);
    assert.equal((await h.reconcile()).repayments.examined, 0, 'a failed booking is polled no more');
    assert.equal(ordersAt(id).length, 1, 'after PAY_FAIL nothing orders again by itself');

    h.simulator.setWallet(contract.openid ?? '', { balance: 'unlimited' });
    const retry = await h.request('POST', `/repayments/${id}/deduct`, {
      out_trade_no: `B${id}`.slice(0, 32),
      deduct_amount: '4000',
    });
    assert.ok([200, 202].includes(retry.status), JSON.stringify(retry.body));
    await eventually('repaid', async () => (await h.stored(id))?.state === 'SUCCEEDED');
    assert.deepEqual(
      ordersAt(id).map((o) => [o.order_state, o.deduct_amount]),
      [
        ['DEDUCT_ORDER_STATE_PAY_FAIL', '5000'],
        ['DEDUCT_ORDER_STATE_PAY_SUCCESS', '4000'],
      ],
    );
    const events = await h.eventsOf(id);
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'RepaymentScheduled',
        'RepaymentDeductionStarted',
        'RepaymentFailed',
        'RepaymentDeductionStarted',
        'RepaymentSucceeded',
      ],
    );
    for (const event of events) checkEvent(event);
    assert.equal(events[2]?.detail.order_state, 'DEDUCT_ORDER_STATE_PAY_FAIL');
  });

  test('a deduct whose answer is dropped after WeChat Pay accepted it: no second order while it may succeed; sync, then reconcile, settle it', async () => {
    const { contract, id } = await h.dueBooking();
    h.simulator.setWallet(contract.openid ?? '', { hold: 'PENDING' });
    h.simulator.injectFault({ path: `${PARTNER}/deduct-orders`, method: 'POST', count: 3, drop: true });
    const tradeNo = `A${id}`.slice(0, 32);
    const lost = await h.request('POST', `/repayments/${id}/deduct`, { out_trade_no: tradeNo });
    assert.deepEqual([lost.status, lost.body.code], [503, 'WECHATPAY_UNAVAILABLE']);
    assert.equal(ordersAt(id).length, 1, 'WeChat Pay made the order: only its answer was lost');
    assert.deepEqual(
      (await h.stored(id))?.orders.map((o) => o.order_state),
      ['UNKNOWN'],
    );

    for (const body of [{}, { out_trade_no: `B${id}`.slice(0, 32) }]) {
      const again = await h.request('POST', `/repayments/${id}/deduct`, body);
      assert.deepEqual(
        [again.status, again.body.code, again.body.out_trade_no],
        [409, 'DEDUCTION_IN_PROGRESS', tradeNo],
      );
    }
    const synced = await h.request('GET', `/repayments/${id}?sync=true`);
    assert.equal(synced.body.state, 'DEDUCTING');
    assert.deepEqual(
      (synced.body.orders as { order_state: string }[]).map((o) => o.order_state),
      ['DEDUCT_ORDER_STATE_PENDING'],
    );

    const dropped = await fetch(`${h.simulator.url}/sandbox/drop-callbacks`, {
      method: 'POST',
      body: JSON.stringify({ count: 1 }),
    });
    assert.equal(dropped.status, 200);
    await h.simulator.settleDeduction(tradeNo);
    assert.equal(h.simulator.callbacks().find((c) => c.out_trade_no === tradeNo)?.state, 'dropped');
    assert.equal((await h.stored(id))?.state, 'DEDUCTING', 'the success was never notified');
    await h.advance(MINUTE);
    const run = await h.reconcile();
    assert.equal(run.repayments.settled.SUCCEEDED, 1);
    const paid = await h.request('GET', `/repayments/${id}`);
    assert.equal(paid.body.state, 'SUCCEEDED');

    assert.equal(ordersAt(id).length, 1, 'one order, ever');
    const others = deductPosts(id).filter((r) => !r.body.includes(`"${tradeNo}"`));
    assert.deepEqual(others, [], 'no request for another order reached WeChat Pay');
    const events = await h.eventsOf(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['RepaymentScheduled', 'RepaymentDeductionStarted', 'RepaymentSucceeded'],
    );
    for (const event of events) checkEvent(event);
  });

  test('a booking whose answer was lost is SCHEDULE_UNKNOWN until the schedule-record query settles it: one booking', async () => {
    const contract = await h.signedContract();
    const id = newRecordId();
    h.simulator.injectFault({ path: `${PARTNER}/schedule-records/batch-create`, count: 3, drop: true });
    const path = `/contracts/${contract.out_contract_code}/repayments`;
    const body = {
      out_record_id: id,
      repayment_amount: '5000',
      min_repayment_amount: '500',
      repayment_date: h.day(1),
    };
    const lost = await h.request('POST', path, body);
    assert.deepEqual([lost.status, lost.body.code], [503, 'WECHATPAY_UNAVAILABLE']);
    assert.equal((await h.stored(id))?.state, 'SCHEDULE_UNKNOWN');
    await h.advance(MINUTE);
    const run = await h.reconcile();
    assert.equal(run.repayments.settled.SCHEDULED, 1);
    const replay = await h.request('POST', path, body);
    assert.deepEqual([replay.status, replay.body.state], [200, 'SCHEDULED']);
    assert.equal(h.simulator.scheduleRecords().filter((r) => r.out_record_id === id).length, 1);
    const events = await h.eventsOf(id);
    assert.deepEqual(
      events.map((e) => [e.type, e.detail.previous_state]),
      [['RepaymentScheduled', 'SCHEDULE_UNKNOWN']],
    );
    for (const event of events) checkEvent(event);
  });
});
