import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NotificationRecord } from '../../../../lib/contracts/ports';
import { book } from '../../../../lib/repayments/book';
import { deduct } from '../../../../lib/repayments/deduct';
import { applyAllKept, applyKept, listAllKept, listKept } from '../../../../lib/repayments/kept';
import type { BookingRecord } from '../../../../lib/repayments/model';
import { applyDeductionPay } from '../../../../lib/repayments/notifications';
import { readNotification } from '../../../../lib/wechatpay/notification';
import { MemoryNotifications } from '../../../support/contracts/memory-notifications';
import {
  bookingBody,
  DAY_MS,
  memoryDeps,
  orderFor,
  paid,
  scriptedWechatPay,
} from '../../../support/repayments/fixtures';
import { callback, DEDUCTION_PAY, newWechatPayKeys } from '../../../support/wechatpay/callbacks';

const keys = newWechatPayKeys();
const apiV3Key = Buffer.from(keys.apiV3Key);

/** Booking R1 (5000 fen, due tomorrow, no order yet) and the DEDUCTION_PAYs delivered for it, as notify keeps them. */
async function setup() {
  const wechatpay = scriptedWechatPay((request) =>
    request.path.includes('schedule-records')
      ? { json: { schedule_records: [{ out_record_id: 'R1' }] } }
      : { json: orderFor(request.body as Record<string, unknown>, 'DEDUCT_ORDER_STATE_PENDING') },
  );
  const parts = memoryDeps(wechatpay);
  await book(parts.deps, 'LOAN1', bookingBody());
  const kept = { store: parts.store, kept: parts.store, apiV3Key, clock: parts.deps.clock };
  async function deliver(resource: Record<string, unknown>): Promise<string> {
    const cb = callback(keys, { eventType: DEDUCTION_PAY, resource, aad: '' });
    const opened = { ...readNotification(cb.body, apiV3Key), rawBody: cb.body };
    const notifications = parts.store;
    const result = await applyDeductionPay({ store: parts.store, notifications, clock: kept.clock }, opened);
    assert.equal(result.outcome, 'UNHANDLED', result.reason);
    parts.clock.now += 1000;
    return cb.id;
  }
  return { ...parts, kept, deliver };
}

describe('DEDUCTION_PAYs kept unhandled', () => {
  it('are listed oldest first with their reason and ids, never their body, a page at a time', async () => {
    const { kept, deliver } = await setup();
    const first = await deliver(paid({ out_trade_no: 'T9' }));
    const second = await deliver(paid({ order_state: 'DEDUCT_ORDER_STATE_PAY_FAIL' }));
    const page = await listKept(kept, 1);
    assert.deepEqual(
      page.notifications.map((n) => [n.id, n.event_type, n.out_record_id, n.out_trade_no, n.reason]),
      [[first, DEDUCTION_PAY, 'R1', 'T9', 'repayment R1 has no order T9']],
    );
    assert.ok(page.cursor);
    const next = await listKept(kept, 1, page.cursor);
    assert.deepEqual(
      next.notifications.map((n) => [n.id, n.reason]),
      [[second, 'order_state is DEDUCT_ORDER_STATE_PAY_FAIL; DEDUCTION_PAY announces successes only']],
    );
    assert.equal(next.cursor, undefined);
    const shown = JSON.stringify([page, next]);
    assert.ok(!shown.includes('raw_body') && !shown.includes('o-secret-openid'), 'never the body');
    assert.ok(next.notifications.every((n) => n.create_time && n.received_at));
  });

  it('apply: a mismatch stays kept with its reason; one whose order we now hold moves the booking, once', async () => {
    const { kept, deliver, store, deps, clock } = await setup();
    const early = await deliver(paid({ out_trade_no: 'T9' }));
    const wrongAmount = await deliver(paid({ out_trade_no: 'T9', deduct_amount: '4999' }));

    const before = await applyKept(kept, { limit: 10 });
    assert.deepEqual(before.applied, []);
    assert.deepEqual(
      before.still_unhandled.map((n) => n.id),
      [early, wrongAmount],
    );
    assert.match(String(before.still_unhandled[0]?.reason), /has no order T9/);

    // The order the success belongs to is recorded meanwhile (here: deducted with that out_trade_no).
    clock.now += DAY_MS;
    await deduct(deps, 'R1', { out_trade_no: 'T9' });
    const now = await applyKept(kept, { limit: 10 });
    assert.deepEqual(now.applied, [early]);
    assert.deepEqual(now.still_unhandled, [
      { id: wrongAmount, reason: "deduct_amount 4999 is not our order's 5000" },
    ]);
    const booking = (await store.get('R1')) as BookingRecord;
    assert.equal(booking.state, 'SUCCEEDED');
    assert.equal(booking.orders[0]?.transaction_id, '4200000000000000000000000001');
    assert.equal(store.items.has(`NOTIFICATION#${early}`), false, 'no longer kept');
    const id = store.notifications.get(early);
    assert.equal(id?.outcome, 'APPLIED');
    assert.ok(id?.expires_at_epoch, 'an applied id, remembered as long as any');
    assert.deepEqual(
      (await listKept(kept, 10)).notifications.map((n) => n.id),
      [wrongAmount],
    );

    const again = await applyKept(kept, { ids: [early, wrongAmount], limit: 10 });
    assert.deepEqual([again.applied, again.not_unhandled], [[], [early]]);
    assert.equal(((await store.get('R1')) as BookingRecord).version, booking.version, 'nothing more written');
  });

  it('the notifications function sees both kinds: each listed and paged on its own, applied in one report', async () => {
    const { kept, deliver, contracts } = await setup();
    const repaymentId = await deliver(paid({ out_trade_no: 'T9' }));
    const notifications = new MemoryNotifications(contracts);
    const contractOne: NotificationRecord = {
      id: 'N-CONTRACT',
      event_type: 'CREDIT_REPAYMENT.SOMETHING_NEW',
      create_time: '2026-12-01T12:00:00+08:00',
      received_at: '2026-12-01T04:00:00.000Z',
      outcome: 'UNHANDLED',
      reason: 'unknown event type',
      raw_body: callback(keys, { eventType: 'CREDIT_REPAYMENT.SOMETHING_NEW', resource: {} }).body.toString(),
    };
    notifications.items.set(contractOne.id, contractOne);
    const all = { contracts, notifications, apiV3Key, clock: kept.clock, repayments: kept };

    const listed = await listAllKept(all, 10, {});
    assert.deepEqual(
      [listed.notifications?.map((n) => n.id), listed.repayment_notifications?.map((n) => n.id)],
      [['N-CONTRACT'], [repaymentId]],
    );
    const onlyRepayments = await listAllKept(all, 10, { repayment_cursor: '0' });
    assert.deepEqual(Object.keys(onlyRepayments), ['repayment_notifications']);

    const report = await applyAllKept(all, { ids: [repaymentId, 'N-CONTRACT', 'N-NONE'], limit: 10 });
    assert.deepEqual(report, {
      applied: [],
      stale: [],
      still_unhandled: [
        { id: 'N-CONTRACT', reason: 'unknown event type' },
        { id: repaymentId, reason: 'repayment R1 has no order T9' },
      ],
      not_unhandled: ['N-NONE'],
    });
  });
});
