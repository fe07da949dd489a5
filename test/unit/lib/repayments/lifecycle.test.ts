import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BOOKING_STATES,
  bookingStateOf,
  canOrderMove,
  canTransition,
  withNewOrder,
  withOrderFacts,
  withRejectedOrder,
} from '../../../../lib/repayments/lifecycle';
import type { BookingRecord, OrderState } from '../../../../lib/repayments/model';
import { T0 } from '../../../support/repayments/fixtures';

const NOW = new Date(T0).toISOString();

function booking(overrides: Partial<BookingRecord> = {}): BookingRecord {
  return {
    pk: 'RECORD#R1',
    out_record_id: 'R1',
    state: 'SCHEDULED',
    origin: 'API',
    out_contract_code: 'LOAN1',
    contract_id: 'CID1',
    repayment_amount: '5000',
    repayment_date: '2026-12-02',
    auto_deduct: true,
    description: '信贷还款',
    orders: [],
    created_at: NOW,
    updated_at: NOW,
    version: 2,
    ...overrides,
  };
}

const order = { out_trade_no: 'T1', deduct_amount: '5000', description: '信贷还款' };
const deducting = () => withNewOrder(booking(), order, NOW, T0);

describe('the repayment lifecycle', () => {
  it('allows exactly the documented moves: forward only, nothing leaves SUCCEEDED or SCHEDULE_FAILED', () => {
    const allowed = BOOKING_STATES.flatMap((from) =>
      BOOKING_STATES.filter((to) => canTransition(from, to)).map((to) => `${from}>${to}`),
    );
    assert.deepEqual(allowed.sort(), [
      'DEDUCTING>FAILED',
      'DEDUCTING>SUCCEEDED',
      'FAILED>DEDUCTING',
      'SCHEDULED>DEDUCTING',
      'SCHEDULE_UNKNOWN>SCHEDULED',
      'SCHEDULE_UNKNOWN>SCHEDULE_FAILED',
      'SCHEDULING>SCHEDULED',
      'SCHEDULING>SCHEDULE_FAILED',
      'SCHEDULING>SCHEDULE_UNKNOWN',
    ]);
  });

  it('moves orders forward only: UNKNOWN to anything, PENDING and NOT_PAY either way, finals never', () => {
    const states: OrderState[] = [
      'UNKNOWN',
      'DEDUCT_ORDER_STATE_PENDING',
      'DEDUCT_ORDER_STATE_NOT_PAY',
      'DEDUCT_ORDER_STATE_PAY_SUCCESS',
      'DEDUCT_ORDER_STATE_PAY_FAIL',
      'REJECTED',
    ];
    const short = (s: OrderState) => s.replace('DEDUCT_ORDER_STATE_', '');
    const moves = states.flatMap((from) =>
      states.filter((to) => canOrderMove(from, to)).map((to) => `${short(from)}>${short(to)}`),
    );
    assert.deepEqual(moves.sort(), [
      'NOT_PAY>PAY_FAIL',
      'NOT_PAY>PAY_SUCCESS',
      'NOT_PAY>PENDING',
      'PENDING>NOT_PAY',
      'PENDING>PAY_FAIL',
      'PENDING>PAY_SUCCESS',
      'UNKNOWN>NOT_PAY',
      'UNKNOWN>PAY_FAIL',
      'UNKNOWN>PAY_SUCCESS',
      'UNKNOWN>PENDING',
      'UNKNOWN>REJECTED',
    ]);
    assert.equal(bookingStateOf('DEDUCT_ORDER_STATE_PAY_SUCCESS'), 'SUCCEEDED');
    assert.equal(bookingStateOf('DEDUCT_ORDER_STATE_PAY_FAIL'), 'FAILED');
    assert.equal(bookingStateOf('REJECTED'), 'FAILED');
    assert.equal(bookingStateOf('DEDUCT_ORDER_STATE_NOT_PAY'), 'DEDUCTING');
  });

  it('a new order starts UNKNOWN, makes the booking DEDUCTING and takes it out of the due index', () => {
    const scheduled = booking({ due_shard: '2026-12-02#3' });
    const next = withNewOrder(scheduled, order, NOW, T0);
    assert.equal(next.state, 'DEDUCTING');
    assert.equal(next.version, 3);
    assert.deepEqual(
      next.orders.map((o) => [o.out_trade_no, o.order_state, o.sent_at]),
      [['T1', 'UNKNOWN', NOW]],
    );
    assert.equal(next.due_shard, undefined);
    assert.ok(next.poll_at, 'an unanswered order is polled');
  });

  it("applies WeChat Pay's facts forward only, records what it paid, and ignores late, foreign or unknown ones", () => {
    const pending = withOrderFacts(
      deducting(),
      { out_trade_no: 'T1', order_state: 'DEDUCT_ORDER_STATE_PENDING' },
      NOW,
      T0,
    );
    assert.equal(pending?.state, 'DEDUCTING');
    const paid = withOrderFacts(
      pending as BookingRecord,
      {
        out_trade_no: 'T1',
        order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS',
        pay_success_amount: '4000',
        transaction_id: 'TX1',
      },
      NOW,
      T0,
    );
    assert.equal(paid?.state, 'SUCCEEDED');
    assert.deepEqual(
      [paid?.orders[0]?.order_state, paid?.orders[0]?.pay_success_amount, paid?.orders[0]?.transaction_id],
      ['DEDUCT_ORDER_STATE_PAY_SUCCESS', '4000', 'TX1'],
    );
    assert.equal(paid?.poll_at, undefined, 'a final order is polled no more');
    const late = { out_trade_no: 'T1', order_state: 'DEDUCT_ORDER_STATE_PENDING' };
    assert.equal(
      withOrderFacts(paid as BookingRecord, late, NOW, T0),
      undefined,
      'a late PENDING moves nothing',
    );
    const contradiction = { out_trade_no: 'T1', order_state: 'DEDUCT_ORDER_STATE_PAY_FAIL' };
    assert.equal(
      withOrderFacts(paid as BookingRecord, contradiction, NOW, T0),
      undefined,
      'nothing leaves SUCCEEDED',
    );
    const other = { out_trade_no: 'T9', order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS' };
    assert.equal(withOrderFacts(deducting(), other, NOW, T0), undefined, 'an order not on the booking');
    const invented = { out_trade_no: 'T1', order_state: 'DEDUCT_ORDER_STATE_REFUNDED' };
    assert.equal(withOrderFacts(deducting(), invented, NOW, T0), undefined, 'a state we do not know');
  });

  it('a refused first send rejects the order and fails the booking, so a new order may be sent', () => {
    const error = { status: 400, code: 'PARAM_ERROR', message: 'bad' };
    const rejected = withRejectedOrder(deducting(), 'T1', error, NOW, T0);
    assert.equal(rejected?.state, 'FAILED');
    assert.equal(rejected?.orders[0]?.order_state, 'REJECTED');
    assert.deepEqual(rejected?.orders[0]?.wechatpay_error, error);
    const answered = withOrderFacts(
      deducting(),
      { out_trade_no: 'T1', order_state: 'DEDUCT_ORDER_STATE_PENDING' },
      NOW,
      T0,
    );
    assert.equal(
      withRejectedOrder(answered as BookingRecord, 'T1', error, NOW, T0),
      undefined,
      'once answered, never',
    );
    const retried = withNewOrder(rejected as BookingRecord, { ...order, out_trade_no: 'T2' }, NOW, T0);
    assert.deepEqual(
      retried.orders.map((o) => o.out_trade_no),
      ['T1', 'T2'],
    );
    assert.equal(retried.state, 'DEDUCTING');
  });
});
