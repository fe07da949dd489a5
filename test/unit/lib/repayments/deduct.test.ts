import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ContractStateConflict,
  DeductionInProgress,
  RepaymentNotDue,
  RepaymentStateConflict,
  TradeNoUsed,
  ValidationFailed,
  WechatPayRejected,
  WechatPayThrottled,
  WechatPayUnavailable,
} from '../../../../lib/errors';
import { book } from '../../../../lib/repayments/book';
import { deduct } from '../../../../lib/repayments/deduct';
import { withOrderFacts } from '../../../../lib/repayments/lifecycle';
import type { BookingRecord } from '../../../../lib/repayments/model';
import type { WechatPayRequest } from '../../../../lib/wechatpay/client';
import { DEDUCT_PATH, deductOrderPath } from '../../../../lib/wechatpay/repayments';
import {
  bookingBody,
  CONTRACT,
  DAY_MS,
  memoryDeps,
  orderFor,
  type Reply,
  scriptedWechatPay,
} from '../../../support/repayments/fixtures';

const PENDING = 'DEDUCT_ORDER_STATE_PENDING';
const lost = () => new WechatPayUnavailable('connection reset');

/**
 * A booking made today and the clock moved to its date; `answer` answers every deduct order and query
 * (`booking` is the schedule request's echo).
 */
async function booked(answer: (request: WechatPayRequest, body: Record<string, unknown>) => Reply) {
  const wechatpay = scriptedWechatPay((request) => {
    if (request.path.includes('schedule-records'))
      return { json: { schedule_records: [{ out_record_id: 'R1' }] } };
    return answer(request, (request.body ?? {}) as Record<string, unknown>);
  });
  const parts = memoryDeps(wechatpay);
  await book(parts.deps, 'LOAN1', bookingBody());
  parts.clock.now += DAY_MS;
  const orders = () => wechatpay.sent.filter((r) => r.method === 'POST' && r.path === DEDUCT_PATH);
  const stored = async () => (await parts.store.get('R1')) as BookingRecord;
  return { ...parts, wechatpay, orders, stored };
}

describe('deduct', () => {
  it('refuses before the booked Beijing date, claiming and sending nothing', async () => {
    const { deps, clock, store, orders } = await booked((_, body) => ({ json: orderFor(body, PENDING) }));
    clock.now -= DAY_MS;
    const writes = store.writes.length;
    await assert.rejects(
      deduct(deps, 'R1', {}),
      (e) => e instanceof RepaymentNotDue && e.repaymentDate === '2026-12-02',
    );
    assert.equal(store.writes.length, writes);
    assert.equal(orders().length, 0);
  });

  it('claims out_trade_no with the order on its booking, sends it, and keeps it PENDING; no second live order', async () => {
    const { deps, store, orders, stored } = await booked((_, body) => ({ json: orderFor(body, PENDING) }));
    const outcome = await deduct(deps, 'R1', { out_trade_no: 'T1' });
    assert.equal(outcome.order.order_state, PENDING);
    assert.equal(outcome.record.state, 'DEDUCTING');
    assert.deepEqual(orders()[0]?.body, {
      contract_id: 'CID1',
      out_trade_no: 'T1',
      out_record_id: 'R1',
      deduct_amount: '5000',
      notify_url: deps.notifyUrl,
      description: '信贷还款',
    });
    assert.deepEqual(await store.getTrade('T1'), {
      pk: 'TRADE#T1',
      out_trade_no: 'T1',
      out_record_id: 'R1',
      claimed_at: outcome.record.orders[0]?.created_at,
    });
    assert.ok((await stored()).poll_at, 'a PENDING order is polled: only a success is notified');
    await assert.rejects(
      deduct(deps, 'R1', { out_trade_no: 'T2' }),
      (e) => e instanceof DeductionInProgress && e.outTradeNo === 'T1',
    );
    await assert.rejects(deduct(deps, 'R1', {}), DeductionInProgress);
    assert.equal(orders().length, 1, 'WeChat Pay saw one order');
  });

  it('a lost answer leaves the order UNKNOWN (503) and blocks any new order; the identical retry asks its query', async () => {
    let queries = 0;
    const { deps, orders, stored, wechatpay } = await booked((request) => {
      if (request.method === 'GET') {
        queries++;
        return { json: orderFor({ out_trade_no: 'T1', deduct_amount: '5000' }, PENDING) };
      }
      return { error: lost() };
    });
    await assert.rejects(deduct(deps, 'R1', { out_trade_no: 'T1' }), WechatPayUnavailable);
    assert.deepEqual(
      (await stored()).orders.map((o) => o.order_state),
      ['UNKNOWN'],
    );
    assert.equal(orders().length, 3, 'the identical body, resent on the transport failure (3 attempts)');
    await assert.rejects(deduct(deps, 'R1', { out_trade_no: 'T2' }), DeductionInProgress);
    const replay = await deduct(deps, 'R1', { out_trade_no: 'T1' });
    assert.equal(replay.replayed, true);
    assert.equal(replay.order.order_state, PENDING);
    assert.equal(queries, 1);
    assert.equal(wechatpay.sent.filter((r) => r.path === deductOrderPath('T1')).length, 1);
    assert.equal(orders().length, 3, 'no new order was ever sent');
  });

  it('429 on every send: not processed, so the same order is sent again at once by the identical retry, never a new one', async () => {
    let throttling = true;
    let queries = 0;
    const { deps, orders, stored } = await booked((request, body) => {
      if (request.method === 'GET') queries++;
      if (throttling)
        return { error: new WechatPayUnavailable('HTTP 429 RATELIMIT_EXCEEDED', 'r', { status: 429 }) };
      return { json: orderFor(body, PENDING) };
    });
    await assert.rejects(deduct(deps, 'R1', { out_trade_no: 'T1' }), WechatPayThrottled);
    const order = (await stored()).orders[0];
    assert.equal(order?.order_state, 'UNKNOWN');
    assert.equal(order?.unprocessed, true);
    await assert.rejects(deduct(deps, 'R1', { out_trade_no: 'T2' }), DeductionInProgress);
    // Still throttled: the retry resends T1 and keeps it marked, asking no query (WeChat Pay has no such order).
    await assert.rejects(deduct(deps, 'R1', { out_trade_no: 'T1' }), WechatPayThrottled);
    assert.equal((await stored()).orders[0]?.unprocessed, true);
    throttling = false;
    const replay = await deduct(deps, 'R1', { out_trade_no: 'T1' });
    assert.equal(replay.order.order_state, PENDING);
    assert.equal(replay.order.unprocessed, undefined);
    assert.equal(queries, 0);
    assert.deepEqual(
      new Set(orders().map((o) => (o.body as { out_trade_no: string }).out_trade_no)),
      new Set(['T1']),
    );
    assert.equal((await stored()).orders.length, 1);
  });

  it('a 500 then 429s: the first attempt may have landed, so the order is unknown, not unprocessed', async () => {
    let sends = 0;
    const { deps, stored } = await booked(() =>
      sends++ === 0
        ? { error: new WechatPayUnavailable('HTTP 500 SYSTEM_ERROR', 'r', { status: 500 }) }
        : { error: new WechatPayUnavailable('HTTP 429 RATELIMIT_EXCEEDED', 'r', { status: 429 }) },
    );
    await assert.rejects(
      deduct(deps, 'R1', { out_trade_no: 'T1' }),
      (e) => e instanceof WechatPayUnavailable && !(e instanceof WechatPayThrottled),
    );
    assert.equal((await stored()).orders[0]?.unprocessed, undefined);
  });

  it('a refused order is REJECTED and fails the booking (502); then a new out_trade_no may be sent', async () => {
    let refuse = true;
    const { deps, orders, stored } = await booked((_, body) =>
      refuse
        ? { error: new WechatPayRejected({ status: 400, code: 'INVALID_REQUEST', message: 'no' }) }
        : { json: orderFor(body, 'DEDUCT_ORDER_STATE_PAY_FAIL') },
    );
    await assert.rejects(deduct(deps, 'R1', { out_trade_no: 'T1' }), WechatPayRejected);
    assert.equal((await stored()).state, 'FAILED');
    refuse = false;
    const failed = await deduct(deps, 'R1', { out_trade_no: 'T2' });
    assert.deepEqual(
      [failed.record.state, failed.order.order_state],
      ['FAILED', 'DEDUCT_ORDER_STATE_PAY_FAIL'],
    );
    const third = await deduct(deps, 'R1', { out_trade_no: 'T3', deduct_amount: '1000' });
    assert.deepEqual(
      third.record.orders.map((o) => [o.out_trade_no, o.order_state]),
      [
        ['T1', 'REJECTED'],
        ['T2', 'DEDUCT_ORDER_STATE_PAY_FAIL'],
        ['T3', 'DEDUCT_ORDER_STATE_PAY_FAIL'],
      ],
    );
    assert.equal(orders().length, 3);
  });

  it('a DEDUCTION_PAY recorded before the answer is not undone by the answer', async () => {
    const parts = await booked((_, body) => {
      // The success lands first (WeChat Pay notified before our answer was read).
      const sent = body.out_trade_no as string;
      void parts.store.get('R1').then((current) => {
        const paid = withOrderFacts(
          current as BookingRecord,
          { out_trade_no: sent, order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS' },
          new Date(parts.clock.now).toISOString(),
          parts.clock.now,
        );
        return paid && parts.store.save(paid);
      });
      return { json: orderFor(body, PENDING) };
    });
    const outcome = await deduct(parts.deps, 'R1', {});
    assert.equal(outcome.record.state, 'SUCCEEDED');
    assert.equal(outcome.order.order_state, 'DEDUCT_ORDER_STATE_PAY_SUCCESS');
  });

  it('refuses ids, states and amounts that do not fit, without sending', async () => {
    const { deps, store, contracts, orders } = await booked((_, body) => ({
      json: orderFor(body, 'DEDUCT_ORDER_STATE_PAY_SUCCESS'),
    }));
    store.items.set('TRADE#TX', { pk: 'TRADE#TX', out_trade_no: 'TX', out_record_id: 'R9', claimed_at: 'x' });
    await assert.rejects(deduct(deps, 'R1', { deduct_amount: '999' }), ValidationFailed);
    await assert.rejects(deduct(deps, 'R1', { out_trade_no: 'TX' }), TradeNoUsed);
    contracts.items.set('LOAN1', { ...CONTRACT, state: 'TERMINATED' });
    await assert.rejects(
      deduct(deps, 'R1', {}),
      (e) => e instanceof ContractStateConflict && e.state === 'TERMINATED',
    );
    contracts.items.set('LOAN1', CONTRACT);
    assert.equal(orders().length, 0);
    await deduct(deps, 'R1', { out_trade_no: 'T1' });
    await assert.rejects(
      deduct(deps, 'R1', { out_trade_no: 'T2' }),
      (e) => e instanceof RepaymentStateConflict && e.state === 'SUCCEEDED',
    );
    await assert.rejects(
      deduct(deps, 'R1', { out_trade_no: 'T1', deduct_amount: '1000' }),
      TradeNoUsed,
      'same id, other body',
    );
    assert.equal((await deduct(deps, 'R1', { out_trade_no: 'T1' })).replayed, true);
    assert.equal(orders().length, 1);
  });
});
