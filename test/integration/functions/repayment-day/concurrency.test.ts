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

const DEDUCT = '/v3/credit-repayment/partner/deduct-orders';

// The repayment-day job end to end (test/support/repayments/day.ts). Each test books for its own day, so runs
// never meet.
describe('repayment day: two runs at once, throttling storms', () => {
  const day = useDayStack(80);

  test('two runs started at once for one date: each booking ordered once between them', async () => {
    const { h } = day;
    const ids = await seedDueBookings(h, 150, { perContract: 150 });
    const first = await startRun(h, h.day());
    const second = await startRun(h, h.day());
    assert.notEqual(first, second);
    const runs = (await Promise.all([finishedRun(h, first), finishedRun(h, second)])).map((r) => r.run);
    // A booking whose own dependencies failed every attempt (KMS or DynamoDB Local timing out on a saturated
    // machine) is left SCHEDULED and counted open: the documented recovery, a rerun of the date, takes it up.
    if (runs.some((run) => run.open > 0)) runs.push((await finishedRun(h, await startRun(h, h.day()))).run);
    const ordered = runs.reduce((n, run) => n + run.counts.ordered + run.counts.unknown, 0);
    assert.equal(ordered, ids.length, JSON.stringify(runs.map((run) => run.counts)));
    assert.equal(runs.at(-1)?.open, 0);
    await settleAll(h, ids);
    assertOneOrderEach(h, ids);
  });

  test('KMS and WeChat Pay throttling storms at once: slowed, never a failed deduction', async () => {
    const { h, kms } = day;
    const ids = await seedDueBookings(h, 150, { perContract: 150 });
    const refusedBefore = h.simulator.requests().filter((r) => r.status === 429).length;
    // Quotas below the budget, and on top a burst of refusals from each, whatever the machine's speed.
    kms.setQuotas({ Sign: 15 });
    kms.injectFault({ operation: 'Sign', count: 30, kind: 'throttle' });
    h.simulator.setQuotas({ [DEDUCT]: 10 });
    h.simulator.injectFault({
      path: DEDUCT,
      method: 'POST',
      count: 30,
      status: 429,
      body: { code: 'RATELIMIT_EXCEEDED', message: '请求频率超过限制' },
    });
    const { run } = await finishedRun(h, await startRun(h, h.day())).finally(() => {
      kms.setQuotas({ Sign: null });
      h.simulator.setQuotas({ [DEDUCT]: null });
    });
    const refused = h.simulator.requests().filter((r) => r.status === 429).length - refusedBefore;
    console.log(`storm: ${refused} answered 429 by WeChat Pay: ${JSON.stringify(run.counts)}`);
    assert.ok(refused >= 30, `WeChat Pay refused ${refused} for rate`);
    assert.ok(run.counts.throttled >= 30, 'every KMS refusal slowed the job and was tried again');
    assert.equal(run.counts.ordered + run.counts.unknown, ids.length, JSON.stringify(run));
    assert.deepEqual([run.counts.failed, run.counts.rejected, run.open], [0, 0, 0]);
    await settleAll(h, ids);
    assertOneOrderEach(h, ids);
  });
});
