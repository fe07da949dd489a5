import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WechatPayRejected, WechatPayUnavailable } from '../../../../lib/errors';
import { book } from '../../../../lib/repayments/book';
import { deduct } from '../../../../lib/repayments/deduct';
import type { BookingRecord } from '../../../../lib/repayments/model';
import { RESEND_AFTER_MS, settleBooking } from '../../../../lib/repayments/settle';
import type { WechatPayRequest } from '../../../../lib/wechatpay/client';
import { DEDUCT_PATH, SCHEDULE_PATH } from '../../../../lib/wechatpay/repayments';
import {
  bookingBody,
  DAY_MS,
  memoryDeps,
  orderFor,
  type Reply,
  scriptedWechatPay,
} from '../../../support/repayments/fixtures';

const notFound = () => new WechatPayRejected({ status: 404, code: 'ORDER_NOT_EXIST', message: '不存在' });
const lost = () => new WechatPayUnavailable('timed out');

type Script = {
  schedule?: () => Reply;
  scheduleQuery?: () => Reply;
  deduct?: (body: Record<string, unknown>) => Reply;
  orderQuery?: () => Reply;
};

function world(script: Script) {
  const wechatpay = scriptedWechatPay((request: WechatPayRequest) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (request.path === SCHEDULE_PATH)
      return script.schedule?.() ?? { json: { schedule_records: [{ out_record_id: 'R1' }] } };
    if (request.path.includes('schedule-records/'))
      return script.scheduleQuery?.() ?? { json: { out_record_id: 'R1' } };
    if (request.path === DEDUCT_PATH) return script.deduct?.(body) ?? { error: lost() };
    return script.orderQuery?.() ?? { error: notFound() };
  });
  const parts = memoryDeps(wechatpay);
  const sent = (method: string, path: string) =>
    wechatpay.sent.filter((r) => r.method === method && r.path === path);
  return { ...parts, wechatpay, sent };
}

/** A booking due today whose order T1's answer was lost: UNKNOWN. */
async function unknownOrder(script: Script) {
  const w = world(script);
  await book(w.deps, 'LOAN1', bookingBody());
  w.clock.now += DAY_MS;
  await assert.rejects(deduct(w.deps, 'R1', { out_trade_no: 'T1' }), WechatPayUnavailable);
  return w;
}

describe('settling a booking from WeChat Pay', () => {
  it("applies the order query's answer", async () => {
    const w = await unknownOrder({
      orderQuery: () => ({
        json: orderFor({ out_trade_no: 'T1', deduct_amount: '5000' }, 'DEDUCT_ORDER_STATE_NOT_PAY'),
      }),
    });
    const result = await settleBooking(w.deps, 'R1', 'sync');
    assert.equal(result?.settled, true);
    assert.equal(result?.record.orders[0]?.order_state, 'DEDUCT_ORDER_STATE_NOT_PAY');
  });

  it('an order WeChat Pay does not have is resent with the same out_trade_no and body, and only after the grace', async () => {
    let accept = false;
    const w = await unknownOrder({
      deduct: (body) => (accept ? { json: orderFor(body, 'DEDUCT_ORDER_STATE_PENDING') } : { error: lost() }),
    });
    const first = w.sent('POST', DEDUCT_PATH).at(-1)?.body;
    const early = await settleBooking(w.deps, 'R1', 'sync');
    assert.equal(early?.settled, false);
    assert.equal(
      w.sent('POST', DEDUCT_PATH).length,
      3,
      'not resent within the grace: the first send may still be in flight',
    );
    w.clock.now += RESEND_AFTER_MS;
    accept = true;
    const resent = await settleBooking(w.deps, 'R1', 'sync');
    assert.equal(resent?.record.orders[0]?.order_state, 'DEDUCT_ORDER_STATE_PENDING');
    const sends = w.sent('POST', DEDUCT_PATH);
    assert.equal(sends.length, 4);
    assert.deepEqual(sends.at(-1)?.body, first, 'the same order, not a new one');
    assert.deepEqual(
      new Set(sends.map((s) => (s.body as { out_trade_no: string }).out_trade_no)),
      new Set(['T1']),
    );
  });

  it('a resend that is refused proves nothing: the order stays UNKNOWN', async () => {
    let refuse = false;
    const w = await unknownOrder({
      deduct: () =>
        refuse
          ? { error: new WechatPayRejected({ status: 400, code: 'INVALID_REQUEST', message: '已存在' }) }
          : { error: lost() },
    });
    w.clock.now += RESEND_AFTER_MS;
    refuse = true;
    await assert.rejects(settleBooking(w.deps, 'R1', 'sync'), WechatPayRejected);
    assert.equal(((await w.store.get('R1')) as BookingRecord).orders[0]?.order_state, 'UNKNOWN');
  });

  it('a booking whose answer was lost is settled by the schedule-record query, or resent once WeChat Pay has none', async () => {
    const w = world({ schedule: () => ({ error: lost() }) });
    await assert.rejects(book(w.deps, 'LOAN1', bookingBody()), WechatPayUnavailable);
    assert.equal((await settleBooking(w.deps, 'R1', 'sync'))?.record.state, 'SCHEDULED');
    assert.equal(w.sent('POST', SCHEDULE_PATH).length, 3);

    const v = world({ schedule: () => ({ error: lost() }), scheduleQuery: () => ({ error: notFound() }) });
    await assert.rejects(book(v.deps, 'LOAN1', bookingBody()), WechatPayUnavailable);
    assert.equal(
      (await settleBooking(v.deps, 'R1', 'sync'))?.record.state,
      'SCHEDULE_UNKNOWN',
      'within the grace',
    );
    v.clock.now += RESEND_AFTER_MS;
    v.wechatpay.send = async (signed) =>
      scriptedWechatPay(() => ({
        error: new WechatPayRejected({ status: 400, code: 'PARAM_ERROR', message: 'date' }),
      })).send(signed);
    const failed = await settleBooking(v.deps, 'R1', 'sync');
    assert.equal(
      failed?.record.state,
      'SCHEDULE_FAILED',
      'WeChat Pay has none and refused to book it: no money can move',
    );
  });

  it('a poll that learns nothing moves the booking along its backoff; sync does not, and names the failure', async () => {
    const w = await unknownOrder({ orderQuery: () => ({ error: lost() }) });
    const before = (await w.store.get('R1')) as BookingRecord;
    await assert.rejects(settleBooking(w.deps, 'R1', 'sync'), WechatPayUnavailable);
    assert.equal(((await w.store.get('R1')) as BookingRecord).version, before.version);
    const polled = await settleBooking(w.deps, 'R1', 'poll');
    assert.ok(polled?.error instanceof WechatPayUnavailable);
    assert.equal(polled?.record.poll_count, 1);
    assert.ok(String(polled?.record.poll_at) > String(before.poll_at));
    assert.equal(await settleBooking(w.deps, 'NONE', 'sync'), undefined);
  });
});
