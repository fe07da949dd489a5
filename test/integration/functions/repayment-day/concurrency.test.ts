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
import { type RepaymentHarness, startRepaymentHarness } from '../../../support/repayments/harness';

const DEDUCT = '/v3/credit-repayment/partner/deduct-orders';

// The repayment-day job end to end: the real handlers (repaymentDay, the worker), the same state machine
// definition run by the local Step Functions, DynamoDB Local, the WeChat Pay simulator, and a KMS stand-in of
// this file's own, whose Sign quota the tests lower. Each test books for its own day, so runs never meet.
describe('repayment day: two runs at once, throttling storms', () => {
  let h: RepaymentHarness;
  let kms: KmsStandIn;
  before(async () => {
    kms = await startKmsStandIn();
    // WeChat Pay's production timeout (the tests' shorter one loses answers on a busy machine), and a budget
    // of 80 signatures a second (8 workers at 10): every worker runs in this one process here.
    h = await startRepaymentHarness({
      kms: kms.url,
      env: { WECHATPAY_TIMEOUT_MS: '5000', SIGNING_BUDGET_RPS: '80' },
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

  test('two runs started at once for one date: each booking ordered once between them', async () => {
    const ids = await seedDueBookings(h, 150, { perContract: 150 });
    const first = await startRun(h, h.day());
    const second = await startRun(h, h.day());
    assert.notEqual(first, second);
    const [a, b] = await Promise.all([finishedRun(h, first), finishedRun(h, second)]);
    const ordered = a.run.counts.ordered + a.run.counts.unknown + b.run.counts.ordered + b.run.counts.unknown;
    assert.equal(ordered, ids.length, JSON.stringify([a.run.counts, b.run.counts]));
    assert.deepEqual([a.run.open, b.run.open], [0, 0]);
    await settleAll(h, ids);
    exactlyOnce(ids);
  });

  test('KMS and WeChat Pay throttling storms at once: slowed, never a failed deduction', async () => {
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
    exactlyOnce(ids);
  });
});
