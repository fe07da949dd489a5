import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenedNotification } from '../../../../lib/contracts/notifications';
import { book } from '../../../../lib/repayments/book';
import { deduct } from '../../../../lib/repayments/deduct';
import type { BookingRecord, UnhandledNotification } from '../../../../lib/repayments/model';
import { applyDeductionPay, DEDUCTION_PAY } from '../../../../lib/repayments/notifications';
import {
  bookingBody,
  DAY_MS,
  memoryDeps,
  orderFor,
  paid,
  scriptedWechatPay,
  T0,
} from '../../../support/repayments/fixtures';

const PENDING = 'DEDUCT_ORDER_STATE_PENDING';

/** A booking R1 with order T1 of 5000 fen, PENDING at WeChat Pay. */
async function pending() {
  const wechatpay = scriptedWechatPay((request) =>
    request.path.includes('schedule-records')
      ? { json: { schedule_records: [{ out_record_id: 'R1' }] } }
      : { json: orderFor(request.body as Record<string, unknown>, PENDING) },
  );
  const parts = memoryDeps(wechatpay);
  await book(parts.deps, 'LOAN1', bookingBody());
  parts.clock.now += DAY_MS;
  await deduct(parts.deps, 'R1', { out_trade_no: 'T1' });
  const deps = { store: parts.store, notifications: parts.store, clock: parts.deps.clock };
  return { ...parts, deps };
}

let seq = 0;
function opened(resource: unknown, id = `N${++seq}`): OpenedNotification {
  const envelope = {
    id,
    create_time: '2026-12-02T12:00:01+08:00',
    event_type: DEDUCTION_PAY,
    resource_type: 'encrypt-resource',
    summary: '信贷还款还款成功',
    resource: {},
  };
  return {
    envelope,
    resource,
    rawBody: Buffer.from(JSON.stringify({ ...envelope, resource: { ciphertext: 'sealed' } })),
  } as unknown as OpenedNotification;
}

describe('applying DEDUCTION_PAY', () => {
  it('applies a matching success once, with what WeChat Pay says was paid', async () => {
    const { deps, store } = await pending();
    const n = opened(paid({ pay_success_amount: '4800' }));
    const first = await applyDeductionPay(deps, n);
    assert.deepEqual([first.outcome, first.created], ['APPLIED', false]);
    const booking = (await store.get('R1')) as BookingRecord;
    assert.equal(booking.state, 'SUCCEEDED');
    assert.deepEqual(
      [booking.orders[0]?.pay_success_amount, booking.orders[0]?.transaction_id],
      ['4800', '4200000000000000000000000001'],
    );
    assert.equal((await applyDeductionPay(deps, n)).outcome, 'DUPLICATE', 'the same id again');
    assert.equal(
      (await applyDeductionPay(deps, opened(paid()))).outcome,
      'STALE',
      'another id, already known',
    );
    assert.equal(((await store.get('R1')) as BookingRecord).version, booking.version);
    assert.ok(
      store.notifications.get(n.envelope.id)?.expires_at_epoch,
      'applied ids expire once redeliveries stop',
    );
  });

  it('keeps anything that does not match our order unhandled, raw and without expiry, and moves nothing', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['another amount', paid({ deduct_amount: '4999' }), /deduct_amount 4999 is not our order's 5000/],
      ['another contract', paid({ contract_id: 'CID2' }), /contract_id/],
      ['an order our booking does not have', paid({ out_trade_no: 'T9' }), /has no order T9/],
      [
        'our order of another booking',
        paid({ out_record_id: 'R9' }),
        /out_trade_no T1 is our order of repayment R1/,
      ],
      ['not a success', paid({ order_state: 'DEDUCT_ORDER_STATE_PAY_FAIL' }), /successes only/],
      ['an unreadable resource', { out_trade_no: 'T1' }, /not a deduct order/],
    ];
    for (const [why, resource, reason] of cases) {
      const { deps, store } = await pending();
      const before = (await store.get('R1')) as BookingRecord;
      const n = opened(resource);
      const result = await applyDeductionPay(deps, n);
      assert.equal(result.outcome, 'UNHANDLED', why);
      assert.match(String(result.reason), reason, why);
      assert.deepEqual(await store.get('R1'), before, `${why}: the booking did not move`);
      const kept = store.items.get(`NOTIFICATION#${n.envelope.id}`) as UnhandledNotification;
      assert.equal(kept.raw_body, n.rawBody.toString('utf8'), why);
      assert.equal(store.notifications.get(n.envelope.id)?.expires_at_epoch, undefined, `${why}: kept`);
      assert.equal(JSON.stringify(kept).includes('o-secret-openid'), false, `${why}: no openid kept`);
    }
  });

  it('a success for an order WeChat Pay had said failed contradicts it: kept unhandled', async () => {
    const { deps, store } = await pending();
    const failed = (await store.get('R1')) as BookingRecord;
    const order = failed.orders[0];
    assert.ok(order);
    await store.save({
      ...failed,
      state: 'FAILED',
      orders: [{ ...order, order_state: 'DEDUCT_ORDER_STATE_PAY_FAIL' }],
      version: failed.version + 1,
    });
    const result = await applyDeductionPay(deps, opened(paid()));
    assert.equal(result.outcome, 'UNHANDLED');
    assert.match(String(result.reason), /PAY_FAIL; a success now contradicts it/);
  });

  it('records a success for an order we did not create from its data, marked CALLBACK, and claims its out_trade_no', async () => {
    const { deps, store } = await pending();
    const result = await applyDeductionPay(
      deps,
      opened(
        paid({ out_trade_no: 'TI1', out_record_id: 'WX1', deduct_amount: '300', pay_success_amount: '300' }),
      ),
    );
    assert.deepEqual([result.outcome, result.created], ['APPLIED', true]);
    const foreign = (await store.get('WX1')) as BookingRecord;
    assert.deepEqual(
      [foreign.state, foreign.origin, foreign.contract_id, foreign.auto_deduct],
      ['SUCCEEDED', 'CALLBACK', 'CID1', false],
    );
    assert.deepEqual(
      foreign.orders.map((o) => [o.out_trade_no, o.order_state, o.pay_success_amount]),
      [['TI1', 'DEDUCT_ORDER_STATE_PAY_SUCCESS', '300']],
    );
    assert.equal(foreign.poll_at, undefined);
    assert.deepEqual(await store.getTrade('TI1'), {
      pk: 'TRADE#TI1',
      out_trade_no: 'TI1',
      out_record_id: 'WX1',
      claimed_at: new Date(T0 + DAY_MS).toISOString(),
    });
    assert.equal(JSON.stringify(foreign).includes('o-secret-openid'), false, 'no openid kept');
  });
});
