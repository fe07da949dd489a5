import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { finishedRun, ordersPerBooking, seedDueBookings, startRun } from '../../../support/repayments/day';
import { checkEvent } from '../../../support/repayments/event-schemas';
import { type RepaymentHarness, startRepaymentHarness } from '../../../support/repayments/harness';

describe('repayment day: a run through the local Step Functions', () => {
  let h: RepaymentHarness;
  before(async () => {
    h = await startRepaymentHarness();
  });
  after(async () => {
    await h?.close();
  });

  test('every due booking deducted once, none open, one RepaymentDayCompleted with the counts', async () => {
    const ids = await seedDueBookings(h, 30, { perContract: 15 });
    const { run } = await finishedRun(h, await startRun(h, h.day()));
    assert.deepEqual([...new Set(ordersPerBooking(h, ids).values())], [1]);
    assert.equal(run.counts.ordered, 30, JSON.stringify(run));
    assert.equal(run.open, 0);
    assert.deepEqual(run.failed_shards, []);
    await h.stack.drainEvents();
    const completed = h.stack.repaymentEvents.filter((e) => e.type === 'RepaymentDayCompleted');
    assert.equal(completed.length, 1);
    for (const e of completed) checkEvent(e);
  });
});
