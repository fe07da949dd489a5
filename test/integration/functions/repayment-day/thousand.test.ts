import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type KmsStandIn, startKmsStandIn } from '../../../../infra/local/kms/server';
import {
  finishedRun,
  ordersPerBooking,
  seedDueBookings,
  settleAll,
  startRun,
} from '../../../support/repayments/day';
import { checkEvent } from '../../../support/repayments/event-schemas';
import { type RepaymentHarness, startRepaymentHarness } from '../../../support/repayments/harness';

// The repayment-day job end to end: the real handlers (repaymentDay, the worker), the same state machine
// definition run by the local Step Functions, DynamoDB Local, the WeChat Pay simulator, and a KMS stand-in of
// this file's own, whose Sign quota the tests lower. Each test books for its own day, so runs never meet.
describe('repayment day at volume: 1,000 due bookings under a low KMS quota', () => {
  let h: RepaymentHarness;
  let kms: KmsStandIn;
  before(async () => {
    kms = await startKmsStandIn();
    // WeChat Pay's production timeout (the tests' shorter one loses answers on a busy machine), and a budget
    // of 120 signatures a second (8 workers at 15), four times what KMS will allow: every worker runs in this
    // one process here.
    h = await startRepaymentHarness({
      kms: kms.url,
      env: { WECHATPAY_TIMEOUT_MS: '5000', SIGNING_BUDGET_RPS: '120' },
    });
  });
  after(async () => {
    await h?.close();
    await kms?.close();
  });

  /** Every one of `ids` has exactly one deduct order at WeChat Pay. */
  const exactlyOnce = (ids: string[]) => {
    const counts = ordersPerBooking(h, ids);
    const wrong = [...counts].filter(([, n]) => n !== 1);
    assert.deepEqual(wrong, [], 'bookings without exactly one deduct order at WeChat Pay');
  };

  test('1,000 due bookings with KMS allowing 30 Sign/s under a 120/s budget: each deducted once, none open, slowed not failed', async () => {
    const seeding = Date.now();
    // The wallets hold the orders PENDING: a thousand DEDUCTION_PAY callbacks would only load this machine
    // (the other tests follow each order to SUCCEEDED).
    const ids = await seedDueBookings(h, 1000, { perContract: 250, concurrency: 16, hold: true });
    const seeded = (Date.now() - seeding) / 1000;
    const throttledBefore = kms.throttled('Sign');
    kms.setQuotas({ Sign: 30 });
    const started = Date.now();
    const { run } = await finishedRun(h, await startRun(h, h.day())).finally(() =>
      kms.setQuotas({ Sign: null }),
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `1,000 bookings booked in ${seeded.toFixed(1)} s, deducted in ${seconds.toFixed(1)} s, ${kms.throttled('Sign') - throttledBefore} Signs throttled: ${JSON.stringify(run.counts)}`,
    );
    assert.equal(run.counts.ordered + run.counts.unknown, 1000, JSON.stringify(run));
    assert.deepEqual([run.counts.failed, run.counts.rejected, run.open], [0, 0, 0]);
    // The lost answers, if any, are settled by the poll; the held orders stay PENDING, each the booking's one.
    await settleAll(h, ids, { untilSucceeded: false });
    exactlyOnce(ids);
    for (const id of ids) assert.notEqual((await h.stored(id))?.state, 'SCHEDULED', id);
    await h.stack.drainEvents();
    const completed = h.stack.repaymentEvents.filter(
      (e) => e.type === 'RepaymentDayCompleted' && e.detail.run_id === run.run_id,
    );
    assert.equal(completed.length, 1);
    for (const e of completed) checkEvent(e);
    assert.deepEqual(completed[0]?.detail.counts, run.counts);
  });
});
