import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMAND_EVENT_TYPES } from '../../../../lib/commands/outcome';
import {
  isRepaymentEvent,
  REPAYMENT_EVENT_TYPES,
  repaymentEventsFor,
} from '../../../../lib/repayments/events';
import { moved, withNewOrder, withOrderFacts, withRejectedOrder } from '../../../../lib/repayments/lifecycle';
import type { BookingRecord } from '../../../../lib/repayments/model';
import { checkEvent, EVENT_SCHEMAS } from '../../../support/repayments/event-schemas';
import { T0 } from '../../../support/repayments/fixtures';

const NOW = new Date(T0).toISOString();
type Item = Record<string, unknown>;

const scheduling: BookingRecord = {
  pk: 'RECORD#R1',
  out_record_id: 'R1',
  state: 'SCHEDULING',
  origin: 'API',
  request_hash: 'h',
  out_contract_code: 'LOAN1',
  contract_id: 'CID1',
  appid: 'wxd678efh567hg6787',
  sub_mchid: '1000000109',
  repayment_amount: '5000',
  min_repayment_amount: '1000',
  repayment_date: '2026-12-02',
  auto_deduct: true,
  description: '信贷还款',
  orders: [],
  created_at: NOW,
  updated_at: NOW,
  version: 1,
};

/** Each change as the stream shows it (old and new images), with the events it yields. */
function changes(): [BookingRecord | undefined, BookingRecord][] {
  const scheduled = moved(scheduling, 'SCHEDULED', {}, NOW, T0);
  const started = withNewOrder(
    scheduled,
    { out_trade_no: 'T1', deduct_amount: '5000', description: 'd' },
    NOW,
    T0,
  );
  const error = { status: 400, code: 'INVALID_REQUEST', message: 'no', request_id: 'r' };
  const rejected = withRejectedOrder(started, 'T1', error, NOW, T0) as BookingRecord;
  const retried = withNewOrder(
    rejected,
    { out_trade_no: 'T2', deduct_amount: '4000', description: 'd' },
    NOW,
    T0,
  );
  const pending = withOrderFacts(
    retried,
    { out_trade_no: 'T2', order_state: 'DEDUCT_ORDER_STATE_PENDING' },
    NOW,
    T0,
  ) as BookingRecord;
  const paid = withOrderFacts(
    pending,
    {
      out_trade_no: 'T2',
      order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS',
      pay_success_amount: '4000',
      transaction_id: 'X',
    },
    NOW,
    T0,
  ) as BookingRecord;
  const refused = moved(scheduling, 'SCHEDULE_FAILED', { wechatpay_error: error }, NOW, T0);
  return [
    [undefined, scheduling],
    [scheduling, scheduled],
    [scheduled, started],
    [started, rejected],
    [rejected, retried],
    [retried, pending],
    [pending, paid],
    [scheduling, refused],
  ];
}

const events = () =>
  changes().flatMap(([before, after]) =>
    repaymentEventsFor(before as Item | undefined, after as unknown as Item),
  );

describe('repayment events', () => {
  it('one event per state change into an announced state, with a stable event_id, none for bookkeeping', () => {
    assert.deepEqual(
      events().map((e) => [
        e.type,
        e.detail.event_id,
        e.detail.previous_state,
        e.detail.out_trade_no,
        e.detail.order_state,
      ]),
      [
        ['RepaymentScheduled', 'R1:2', 'SCHEDULING', undefined, undefined],
        ['RepaymentDeductionStarted', 'R1:3', 'SCHEDULED', 'T1', 'UNKNOWN'],
        ['RepaymentFailed', 'R1:4', 'DEDUCTING', 'T1', 'REJECTED'],
        ['RepaymentDeductionStarted', 'R1:5', 'FAILED', 'T2', 'UNKNOWN'],
        ['RepaymentSucceeded', 'R1:7', 'DEDUCTING', 'T2', 'DEDUCT_ORDER_STATE_PAY_SUCCESS'],
        ['RepaymentScheduleFailed', 'R1:2', 'SCHEDULING', undefined, undefined],
      ],
    );
    const trade = { pk: 'TRADE#T1', out_trade_no: 'T1', out_record_id: 'R1', claimed_at: NOW };
    assert.deepEqual(repaymentEventsFor(undefined, trade), [], 'trade claims announce nothing');
    assert.deepEqual(repaymentEventsFor(scheduling as unknown as Item, undefined), [], 'nor do removals');
  });

  it('every event matches its JSON Schema in docs/events/, and the schemas refuse what the outbox must not send', () => {
    assert.deepEqual(
      [...EVENT_SCHEMAS.keys()].sort(),
      [...REPAYMENT_EVENT_TYPES, ...COMMAND_EVENT_TYPES].sort(),
      'a schema for every repayment and command event (lib/commands/outcome.ts), and no other',
    );
    const unhandled = {
      pk: 'NOTIFICATION#N1',
      notification_id: 'N1',
      event_type: 'CREDIT_REPAYMENT.DEDUCTION_PAY',
      create_time: NOW,
      reason: "deduct_amount 1 is not our order's 5000",
      out_trade_no: 'T1',
      out_record_id: 'R1',
      contract_id: 'CID1',
      raw_body: '{"resource":{}}',
      received_at: NOW,
    };
    const run = {
      pk: 'RUN#2026-12-02#r1',
      date: '2026-12-02',
      run_id: 'r1',
      counts: {
        ordered: 2,
        skipped: 0,
        rejected: 0,
        unknown: 0,
        not_due: 0,
        not_deductible: 1,
        failed: 0,
        throttled: 3,
      },
      open: 1,
      shards: 16,
      failed_shards: [],
      completed_at: NOW,
    };
    const all = [
      ...events(),
      ...repaymentEventsFor(undefined, unhandled),
      ...repaymentEventsFor(undefined, run),
    ];
    assert.deepEqual(
      new Set(all.map((e) => e.type)),
      new Set(REPAYMENT_EVENT_TYPES),
      'every type is exercised',
    );
    for (const event of all) {
      checkEvent(event);
      assert.ok(isRepaymentEvent(event));
    }
    const [scheduled] = all;
    assert.ok(scheduled);
    assert.throws(
      () => checkEvent({ ...scheduled, detail: { ...scheduled.detail, openid: 'o-1' } }),
      /openid|additional/,
    );
    assert.throws(
      () => checkEvent({ ...scheduled, detail: { ...scheduled.detail, state: 'SUCCEEDED' } }),
      /state/,
    );
    assert.throws(() => checkEvent({ type: 'RepaymentRefunded', detail: {} }), /no schema/);
  });

  it('copies only allow-listed fields: an image holding openid or a request hash leaks neither', () => {
    const polluted = {
      ...moved(scheduling, 'SCHEDULED', {}, NOW, T0),
      openid: 'o-secret',
      real_name: '张三',
    } as unknown as Item;
    const [event] = repaymentEventsFor(scheduling as unknown as Item, polluted);
    const text = JSON.stringify(event);
    for (const leak of ['o-secret', '张三', 'request_hash', 'raw_body', 'due_shard'])
      assert.equal(text.includes(leak), false, leak);
  });
});
