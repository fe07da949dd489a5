import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertOneOrderEach,
  finishedRun,
  seedDueBookings,
  settleAll,
  startRun,
  useDayStack,
} from '../../../support/repayments/day';
import { checkEvent } from '../../../support/repayments/event-schemas';

// The repayment-day job end to end (test/support/repayments/day.ts). Each test books for its own day, so runs
// never meet.
describe('repayment day at volume: 1,000 due bookings under a low KMS quota', () => {
  const day = useDayStack(80);

  test('1,000 due bookings with KMS allowing 20 Sign/s under an 80/s budget: each deducted once, none open, slowed not failed', async () => {
    const { h, kms } = day;
    const seeding = Date.now();
    // The wallets hold the orders PENDING: a thousand DEDUCTION_PAY callbacks would only load this machine
    // (the other tests follow each order to SUCCEEDED).
    const ids = await seedDueBookings(h, 1000, { perContract: 250, concurrency: 16, hold: true });
    const seeded = (Date.now() - seeding) / 1000;
    const throttledBefore = kms.throttled('Sign');
    kms.setQuotas({ Sign: 20 });
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
    assertOneOrderEach(h, ids);
    const stored = await h.storedMany(ids);
    assert.deepEqual(
      ids.filter((id) => (stored.get(id)?.state ?? 'SCHEDULED') === 'SCHEDULED'),
      [],
      'bookings still SCHEDULED (or not stored)',
    );
    await h.stack.drainEvents();
    const completed = h.stack.repaymentEvents.filter(
      (e) => e.type === 'RepaymentDayCompleted' && e.detail.run_id === run.run_id,
    );
    assert.equal(completed.length, 1);
    for (const e of completed) checkEvent(e);
    assert.deepEqual(completed[0]?.detail.counts, run.counts);
  });
});
